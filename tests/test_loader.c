/* test_loader.c - the threaded batch loader: coverage of every index,
 * batch contents, drop_last, bit-identical batches across thread counts
 * with augmentation on, error propagation with the message, size
 * mismatch naming the file, restart and shutdown mid-epoch, and real
 * photos through image_folder; DistributedSampler sharding and the
 * interleaving of --accumulate. */
#include "tests/sg_test.h"

#include "datasets/image_folder.h"
#include "src/train/loader.h"
#include "src/base/sg_error.h"

/* Synthetic source: sample i is a 1 x 6 x 6 image whose pixels are
 * i + 0.01 * pixel, label i % 3; fail_at (if >= 0) fails. */
typedef struct fake_source {
    long fail_at;
    int size_at;   /* index whose image is 7x6 instead of 6x6, or -1 */
    char names[64][16];
} fake_source;

static int fake_get(void *ctx, size_t index, int train, uint64_t aug_seed, sg_image *out,
                    int *label)
{
    (void)train;
    (void)aug_seed;
    fake_source *f = ctx;
    if ((long)index == f->fail_at)
        return sg_fail(SG_E_IO, "fake%zu.png: disk on fire", index);
    int h = (int)index == f->size_at ? 7 : 6;
    int rc = sg_image_alloc(out, 1, h, 6);
    if (rc < 0)
        return rc;
    for (int p = 0; p < h * 6; p++)
        out->data[p] = (float)index + 0.01f * (float)p;
    *label = (int)(index % 3);
    return SG_OK;
}

static const char *fake_name(void *ctx, size_t index)
{
    fake_source *f = ctx;
    return index < 64 ? f->names[index] : NULL;
}

static void fake_init(fake_source *f)
{
    f->fail_at = -1;
    f->size_at = -1;
    for (int i = 0; i < 64; i++)
        snprintf(f->names[i], sizeof f->names[i], "fake%d.png", i);
}

static void sensor_spec(sg_transform_spec *s)
{
    sg_transform_spec_sensor(s, 1, 6, 6);
    s->normalize = 0;
}

/* Runs one epoch and checks every batch's contents; returns the
 * concatenated indices (caller frees). */
static size_t *run_epoch(sg_loader *l, int epoch, size_t expect_batches, size_t bs, size_t n_total,
                         int check_values)
{
    size_t *seen = malloc(sizeof(size_t) * (n_total ? n_total : 1));
    assert_non_null(seen);
    size_t n_seen = 0, n_batches = 0;
    assert_int_equal(sg_loader_start_epoch(l, epoch), 0);
    sg_batch *b;
    int got;
    while ((got = sg_loader_next(l, &b)) == 1) {
        n_batches++;
        assert_true(b->n >= 1 && (size_t)b->n <= bs);
        assert_int_equal(b->c, 1);
        assert_int_equal(b->h, 6);
        for (int j = 0; j < b->n; j++) {
            size_t idx = b->indices[j];
            assert_int_equal(b->labels[j], (int64_t)(idx % 3));
            if (check_values) {
                float v = b->x[(size_t)j * 36 + 5];
                if (fabsf(v - ((float)idx + 0.05f)) > 1e-4f) {
                    print_error("batch slot %d: index %zu but pixel %g\n", j, idx, (double)v);
                    fail();
                }
            }
            assert_true(n_seen < n_total);
            seen[n_seen++] = idx;
        }
    }
    assert_int_equal(got, 0);
    assert_int_equal(n_batches, expect_batches);
    return seen;
}

static void test_epoch_covers_every_index(void **state)
{
    (void)state;
    fake_source f;
    fake_init(&f);
    sg_sample_source src = {fake_get, fake_name, &f, 50};
    sg_transform_spec spec;
    sensor_spec(&spec);
    for (int drop = 0; drop <= 1; drop++) {
        sg_loader_opts o = {.batch_size = 8, .drop_last = drop, .shuffle = 1, .seed = 3,
                            .n_workers = 3, .prefetch = 2};
        sg_loader *l;
        assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
        size_t nb = drop ? 6 : 7;
        assert_int_equal(sg_loader_n_batches(l), nb);
        size_t *a = run_epoch(l, 0, nb, 8, 50, 1);
        size_t *b = run_epoch(l, 1, nb, 8, 50, 1);
        int count[50] = {0};
        size_t n = drop ? 48 : 50;
        for (size_t i = 0; i < n; i++)
            count[a[i]]++;
        for (int i = 0; i < 50; i++)
            assert_true(count[i] == 1 || (drop && count[i] == 0));
        /* reshuffled between epochs */
        assert_memory_not_equal(a, b, n * sizeof(size_t));
        free(a);
        free(b);
        sg_loader_free(l);
    }
    /* sequential order without shuffle, over a subset */
    const size_t subset[5] = {9, 2, 40, 41, 7};
    sg_loader_opts o = {.batch_size = 2, .n_workers = 2, .subset = subset, .subset_n = 5};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    size_t *a = run_epoch(l, 0, 3, 2, 5, 1);
    assert_memory_equal(a, subset, sizeof subset);
    free(a);
    sg_loader_free(l);
}

/* DistributedSampler's rule: 50 samples on 3 ranks with 4 per batch.
 * The epoch order P (what one unsharded loader yields) padded with its
 * first item to 51; rank r gets P[r], P[r+3], ... (17 items, 5 batches).
 * --accumulate's interleaving (batch 3 x 4, in 3 parts) gives in part k
 * of batch s exactly rank k's batch s. */
static void test_shards_and_interleave(void **state)
{
    (void)state;
    fake_source f;
    fake_init(&f);
    sg_sample_source src = {fake_get, fake_name, &f, 50};
    sg_transform_spec spec;
    sensor_spec(&spec);
    sg_loader_opts all = {.batch_size = 64, .shuffle = 1, .seed = 5, .n_workers = 2};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &all), 0);
    size_t *p = run_epoch(l, 2, 1, 64, 50, 1);
    sg_loader_free(l);
    size_t padded[51];
    memcpy(padded, p, 50 * sizeof *p);
    padded[50] = p[0];
    free(p);
    size_t *rank[3];
    for (int r = 0; r < 3; r++) {
        sg_loader_opts o = {.batch_size = 4, .shuffle = 1, .seed = 5, .n_workers = 2,
                            .shard_world = 3, .shard_rank = r};
        assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
        assert_int_equal(sg_loader_n_samples(l), 17);
        rank[r] = run_epoch(l, 2, 5, 4, 17, 1);
        sg_loader_free(l);
        for (size_t i = 0; i < 17; i++)
            assert_int_equal(rank[r][i], padded[(size_t)r + 3 * i]);
    }
    sg_loader_opts o = {.batch_size = 12, .shuffle = 1, .seed = 5, .n_workers = 3,
                        .interleave = 3};
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    assert_int_equal(sg_loader_start_epoch(l, 2), 0);
    sg_batch *b;
    for (size_t s = 0; s < 5; s++) {
        assert_int_equal(sg_loader_next(l, &b), 1);
        size_t part = s < 4 ? 4 : 1; /* the last batch: 17 - 16 = 1 per rank */
        assert_int_equal(b->n, (int)(3 * part));
        for (size_t k = 0; k < 3; k++)
            for (size_t j = 0; j < part; j++)
                assert_int_equal(b->indices[k * part + j], rank[k][s * 4 + j]);
    }
    assert_int_equal(sg_loader_next(l, &b), 0);
    sg_loader_free(l);
    for (int r = 0; r < 3; r++)
        free(rank[r]);
    /* What does not make sense is refused. */
    sg_loader_opts bad = {.batch_size = 10, .interleave = 3};
    assert_int_equal(sg_loader_create(&l, &src, &spec, &bad), SG_E_INVALID);
    sg_loader_opts both = {.batch_size = 12, .interleave = 3, .shard_world = 2};
    assert_int_equal(sg_loader_create(&l, &src, &spec, &both), SG_E_INVALID);
    sg_loader_opts outside = {.batch_size = 4, .shard_world = 2, .shard_rank = 2};
    assert_int_equal(sg_loader_create(&l, &src, &spec, &outside), SG_E_INVALID);
}

/* Full batch contents for n_workers, augmentation on. */
static float *epoch_bytes(int n_workers, size_t *n_floats)
{
    fake_source f;
    fake_init(&f);
    sg_sample_source src = {fake_get, fake_name, &f, 40};
    sg_transform_spec spec;
    sensor_spec(&spec);
    spec.max_rotate_deg = 15;
    spec.max_translate = 0.2;
    spec.hflip_p = 0.5;
    sg_loader_opts o = {.batch_size = 6, .shuffle = 1, .seed = 99, .train = 1,
                        .n_workers = n_workers, .prefetch = 3};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    float *all = malloc(sizeof(float) * 40 * 36 + sizeof(size_t) * 40);
    assert_non_null(all);
    size_t at = 0;
    assert_int_equal(sg_loader_start_epoch(l, 2), 0);
    sg_batch *b;
    while (sg_loader_next(l, &b) == 1) {
        memcpy(all + at, b->x, sizeof(float) * (size_t)b->n * 36);
        at += (size_t)b->n * 36;
    }
    assert_int_equal(at, 40 * 36);
    sg_loader_free(l);
    *n_floats = at;
    return all;
}

static void test_repeatable_across_thread_counts(void **state)
{
    (void)state;
    size_t n0, n1, n4;
    float *a = epoch_bytes(0, &n0);
    float *b = epoch_bytes(1, &n1);
    float *c = epoch_bytes(4, &n4);
    assert_memory_equal(a, b, n0 * sizeof(float));
    assert_memory_equal(a, c, n0 * sizeof(float));
    free(a);
    free(b);
    free(c);
}

static void test_worker_errors_reach_consumer(void **state)
{
    (void)state;
    fake_source f;
    fake_init(&f);
    f.fail_at = 13;
    sg_sample_source src = {fake_get, fake_name, &f, 30};
    sg_transform_spec spec;
    sensor_spec(&spec);
    for (int workers = 0; workers <= 3; workers += 3) {
        sg_loader_opts o = {.batch_size = 4, .n_workers = workers};
        sg_loader *l;
        assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
        assert_int_equal(sg_loader_start_epoch(l, 0), 0);
        sg_batch *b;
        int rc, batches = 0;
        while ((rc = sg_loader_next(l, &b)) == 1)
            batches++;
        assert_int_equal(rc, SG_E_IO);
        assert_int_equal(batches, 3);   /* batches 0..2 hold indices 0..11 */
        assert_non_null(strstr(sg_last_error(), "fake13.png: disk on fire"));
        /* the next epoch starts clean once the bad sample is fixed */
        f.fail_at = -1;
        size_t *seen = run_epoch(l, 1, 8, 4, 30, 1);
        free(seen);
        f.fail_at = 13;
        sg_loader_free(l);
    }
    /* a size mismatch under "no resize" names the file */
    f.fail_at = -1;
    f.size_at = 5;
    sg_loader_opts o = {.batch_size = 4, .n_workers = 2};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    assert_int_equal(sg_loader_start_epoch(l, 0), 0);
    sg_batch *b;
    int rc;
    while ((rc = sg_loader_next(l, &b)) == 1)
        ;
    assert_int_equal(rc, SG_E_SHAPE);
    assert_non_null(strstr(sg_last_error(), "fake5.png"));
    assert_non_null(strstr(sg_last_error(), "7x6"));
    sg_loader_free(l);
}

static void test_restart_and_shutdown_mid_epoch(void **state)
{
    (void)state;
    fake_source f;
    fake_init(&f);
    sg_sample_source src = {fake_get, fake_name, &f, 64};
    sg_transform_spec spec;
    sensor_spec(&spec);
    sg_loader_opts o = {.batch_size = 4, .shuffle = 1, .seed = 1, .n_workers = 4, .prefetch = 4};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    assert_int_equal(sg_loader_start_epoch(l, 0), 0);
    sg_batch *b;
    assert_int_equal(sg_loader_next(l, &b), 1);
    /* restart while workers are busy: the new epoch is complete and clean */
    size_t *seen = run_epoch(l, 0, 16, 4, 64, 1);
    free(seen);
    assert_int_equal(sg_loader_start_epoch(l, 1), 0);
    assert_int_equal(sg_loader_next(l, &b), 1);
    sg_loader_free(l);   /* mid-epoch: joins workers, frees all */
    /* next before any epoch is a clear error */
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    assert_int_equal(sg_loader_next(l, &b), SG_E_INVALID);
    sg_loader_free(l);
    o.batch_size = 0;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), SG_E_INVALID);
    assert_null(l);
}

static void test_photos_through_image_folder(void **state)
{
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/data/trashnet", sg_test_shared());
    SG_REQUIRE_PATH(root);
    sg_image_list list;
    assert_int_equal(sg_image_folder_classes(&list, root), 0);
    size_t subset[24];
    for (size_t i = 0; i < 24; i++)
        subset[i] = i * (list.n / 24);
    sg_sample_source src = {sg_image_list_sample, sg_image_list_name, &list, list.n};
    sg_transform_spec spec;
    sg_transform_spec_photo(&spec, 64, 64);
    sg_loader_opts o = {.batch_size = 8, .shuffle = 1, .seed = 4, .train = 1, .n_workers = 2,
                        .subset = subset, .subset_n = 24};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &src, &spec, &o), 0);
    assert_int_equal(sg_loader_start_epoch(l, 0), 0);
    sg_batch *b;
    int batches = 0;
    while (sg_loader_next(l, &b) == 1) {
        batches++;
        assert_int_equal(b->c, 3);
        assert_int_equal(b->h, 64);
        for (int j = 0; j < b->n; j++)
            assert_int_equal(b->labels[j], list.labels[b->indices[j]]);
        /* normalised photo values stay within ImageNet-normalised bounds */
        for (size_t k = 0; k < (size_t)b->n * 3 * 64 * 64; k++)
            assert_true(b->x[k] > -2.2f && b->x[k] < 2.7f);
    }
    assert_int_equal(batches, 3);
    sg_loader_free(l);
    sg_image_list_free(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_covers_every_index),
        cmocka_unit_test(test_shards_and_interleave),
        cmocka_unit_test(test_repeatable_across_thread_counts),
        cmocka_unit_test(test_worker_errors_reach_consumer),
        cmocka_unit_test(test_restart_and_shutdown_mid_epoch),
        cmocka_unit_test(test_photos_through_image_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
