/* test_pretrain.c - `sensorgram pretrain` (src/train/pretrain.h) and the
 * contrastive step under it.
 *
 * The loss: NT-Xent recomputed here in double from the projections of
 * an identically initialised model's forward pass in train mode (the
 * same batch statistics), with the textbook formula
 * -log(exp(s_ij / t) / sum_{k != i} exp(s_ik / t)), must equal the
 * step's loss, and so must the fraction of rows whose nearest other row
 * is their pair.
 * The masked task: spans, targets and weights checked by hand on a
 * small image, and the masked step's loss against the squared error
 * recomputed from an identically initialised model's outputs.
 * Through the binary: a --cv loso pretraining never reads the held-out
 * subject (DSA: subject 3's files are garbage, which fails any command
 * that reads them; folds over subjects 1 and 2 succeed); each file
 * names the subjects it saw; train --cv loso takes the fold's file; a
 * validation subject the weights saw is refused; a failed pretraining
 * leaves no folder.
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include "models/safetensors.h"
#include "models/sg_model.h"
#include "models/weights.h"
#include "src/base/sg_error.h"
#include "src/train/pretrain_mask.h"

#include <math.h>

enum { N = 6, C = 2, H = 16, W = 20, P = 128 };

static double ntxent_reference(const float *z, int n, int dim, double t, double *top1)
{
    int m = 2 * n;
    double loss = 0;
    int hits = 0;
    double *u = calloc((size_t)m * (size_t)dim, sizeof *u);
    assert_non_null(u);
    for (int i = 0; i < m; i++) {
        double norm = 0;
        for (int d = 0; d < dim; d++)
            norm += (double)z[i * dim + d] * z[i * dim + d];
        norm = fmax(sqrt(norm), 1e-12);
        for (int d = 0; d < dim; d++)
            u[i * dim + d] = z[i * dim + d] / norm;
    }
    for (int i = 0; i < m; i++) {
        int pair = (i + n) % m, best = -1;
        double denom = 0, pos = 0, best_s = -INFINITY;
        for (int k = 0; k < m; k++) {
            if (k == i)
                continue;
            double s = 0;
            for (int d = 0; d < dim; d++)
                s += u[i * dim + d] * u[k * dim + d];
            denom += exp(s / t);
            if (k == pair)
                pos = s / t;
            if (s > best_s) {
                best_s = s;
                best = k;
            }
        }
        loss += -(pos - log(denom));
        hits += best == pair;
    }
    free(u);
    *top1 = (double)hits / m;
    return loss / m;
}

static sg_model *model_new(void)
{
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = C, .n_classes = P,
                          .device = "cpu", .n_threads = 1};
    sg_model *m = NULL;
    assert_int_equal(sg_torch_seed(11), 0);
    assert_int_equal(sg_model_create(&m, &spec), 0);
    assert_int_equal(sg_model_set_train(m, 1), 0);
    return m;
}

static void test_contrastive_loss_matches_reference(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    static float x[2 * N * C * H * W];
    uint64_t r = 12345;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((r >> 40) & 0xffff) / 65535.0f;
    }
    /* the second view: the first, slightly changed, so pairs are findable */
    for (size_t i = 0; i < (size_t)N * C * H * W; i++)
        x[(size_t)N * C * H * W + i] = x[i] * 0.9f + 0.05f;
    sg_model *a = model_new(), *b = model_new();
    static float z[2 * N * P];
    assert_int_equal(sg_model_forward(a, x, 2 * N, C, H, W, z), 0);
    double ref_top1 = 0, ref = ntxent_reference(z, N, P, 0.2, &ref_top1);
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.0, .momentum = 0.0};
    sg_optim *o = NULL;
    assert_int_equal(sg_optim_create(&o, b, &os), 0);
    double loss = 0, top1 = 0;
    assert_int_equal(sg_model_train_step_contrastive(b, o, x, N, C, H, W, 0.2, &loss, &top1), 0);
    print_message("NT-Xent %.7f (reference %.7f), pair found %.3f (reference %.3f)\n", loss, ref,
                  top1, ref_top1);
    assert_true(fabs(loss - ref) < 1e-4 * fmax(1.0, fabs(ref)));
    assert_true(fabs(top1 - ref_top1) < 1e-9);
    /* the loss is above chance's floor and finite: log(2N - 1) bounds a
     * uniform guess */
    assert_true(isfinite(loss) && loss > 0);
    double unused;
    assert_int_equal(sg_model_train_step_contrastive(b, o, x, 1, C, H, W, 0.2, &unused, NULL),
                     SG_E_INVALID);
    assert_int_equal(sg_model_train_step_contrastive(b, o, x, N, C, H, W, 0.0, &unused, NULL),
                     SG_E_INVALID);
    sg_optim_free(o);
    sg_model_free(a);
    sg_model_free(b);
}

/* 2 channels x 1 row x 10 columns: the 8 spans of 10 columns start at
 * 0 1 2 3 5 6 7 8 (b * 10 / 8), so spans 3 and 7 hold two columns. */
static void test_mask_spans_by_hand(void **state)
{
    (void)state;
    enum { MC = 2, MH = 1, MW = 10, K = MC * MH * PRETRAIN_MASK_BLOCKS };
    assert_int_equal(pretrain_mask_outputs(MC, MH), K);
    float x[2 * MC * MH * MW], xm[2 * MC * MH * MW], target[2 * K], weight[2 * K];
    for (int i = 0; i < 2 * MC * MH * MW; i++)
        x[i] = (float)(i + 1);
    sg_rng r;
    sg_rng_seed(&r, 7);
    pretrain_mask_batch(x, 2, MC, MH, MW, &r, xm, target, weight);
    static const int start[PRETRAIN_MASK_BLOCKS + 1] = {0, 1, 2, 3, 5, 6, 7, 8, 10};
    for (int img = 0; img < 2; img++) {
        int hidden = 0;
        for (int b = 0; b < PRETRAIN_MASK_BLOCKS; b++) {
            /* one choice per image: both channels hide the same spans */
            float w0 = weight[img * K + b], w1 = weight[img * K + PRETRAIN_MASK_BLOCKS + b];
            assert_true(w0 == w1 && (w0 == 0.0f || w0 == 1.0f));
            hidden += w0 == 1.0f;
            for (int ch = 0; ch < MC; ch++) {
                const float *row = x + (img * MC + ch) * MW;
                const float *mrow = xm + (img * MC + ch) * MW;
                double sum = 0;
                for (int col = start[b]; col < start[b + 1]; col++) {
                    sum += row[col];
                    assert_true(mrow[col] == (w0 == 1.0f ? 0.0f : row[col]));
                }
                float want = (float)(sum / (start[b + 1] - start[b]));
                assert_true(target[img * K + ch * PRETRAIN_MASK_BLOCKS + b] == want);
            }
        }
        assert_int_equal(hidden, PRETRAIN_MASK_HIDDEN);
    }
}

static void test_masked_loss_matches_reference(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    enum { K = C * H * PRETRAIN_MASK_BLOCKS };
    static float x[N * C * H * W], xm[N * C * H * W], target[N * K], weight[N * K], out[N * K];
    uint64_t seed = 99;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((seed >> 40) & 0xffff) / 65535.0f - 0.5f;
    }
    sg_rng r;
    sg_rng_seed(&r, 3);
    pretrain_mask_batch(x, N, C, H, W, &r, xm, target, weight);
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = C, .n_classes = K,
                          .device = "cpu", .n_threads = 1};
    sg_model *a = NULL, *b = NULL;
    assert_int_equal(sg_torch_seed(5), 0);
    assert_int_equal(sg_model_create(&a, &spec), 0);
    assert_int_equal(sg_torch_seed(5), 0);
    assert_int_equal(sg_model_create(&b, &spec), 0);
    assert_int_equal(sg_model_set_train(a, 1), 0);
    assert_int_equal(sg_model_set_train(b, 1), 0);
    assert_int_equal(sg_model_forward(a, xm, N, C, H, W, out), 0);
    double sum = 0, scored = 0;
    for (int i = 0; i < N * K; i++) {
        double d = (double)out[i] - target[i];
        sum += weight[i] * d * d;
        scored += weight[i];
    }
    /* half the spans of every image are scored */
    assert_true(scored == (double)N * C * H * PRETRAIN_MASK_HIDDEN);
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.0, .momentum = 0.0};
    sg_optim *o = NULL;
    assert_int_equal(sg_optim_create(&o, b, &os), 0);
    double loss = 0;
    assert_int_equal(sg_model_train_step_masked(b, o, xm, N, C, H, W, target, weight, K, &loss),
                     0);
    print_message("masked loss %.7f (reference %.7f)\n", loss, sum / scored);
    assert_true(fabs(loss - sum / scored) < 1e-4 * fmax(1.0, sum / scored));
    assert_int_equal(sg_model_train_step_masked(b, o, xm, N, C, H, W, target, weight, K - 1, &loss),
                     SG_E_SHAPE);
    sg_optim_free(o);
    sg_model_free(a);
    sg_model_free(b);
}

static void test_stem_from_other_channel_counts(void **state)
{
    (void)state;
    /* one output channel, a 1x2 kernel, from 2 input channels */
    const float src[] = {1, 2, 10, 20};
    float one[2], three[6];
    sg_weights_adapt_stem_from(one, src, 1, 2, 1, 1, 2);
    assert_true(one[0] == 11 && one[1] == 22);
    sg_weights_adapt_stem_from(three, src, 1, 2, 3, 1, 2);
    const float want[] = {1 * 2.0f / 3, 2 * 2.0f / 3, 10 * 2.0f / 3, 20 * 2.0f / 3,
                          1 * 2.0f / 3, 2 * 2.0f / 3};
    for (int i = 0; i < 6; i++)
        assert_true(fabsf(three[i] - want[i]) < 1e-6f);
}

typedef struct fx {
    char *tmp;
    char data[4096];  /* subjects 1, 2 and a garbage subject 3 */
    char good[4096];  /* subjects 1, 2, 3 */
} fx;

#define ACTIVITIES "a01 a02 a09"

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->tmp = sg_test_tmpdir();
    snprintf(f->data, sizeof f->data, "%s/bad3", f->tmp);
    snprintf(f->good, sizeof f->good, "%s/good", f->tmp);
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "for a in " ACTIVITIES "; do mkdir -p '%s'/$a/p3 && for s in 1 2 3; do "
             "echo 'not a number' > '%s'/$a/p3/s0$s.txt; done; done",
             f->data, f->data);
    if (sg_test_dsa_subset(f->data, ACTIVITIES, "p1 p2") != 0 || system(cmd) != 0 ||
        sg_test_dsa_subset(f->good, ACTIVITIES, "p1 p2 p3") != 0)
        f->data[0] = '\0';
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    sg_test_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

#define SMALL "--units T --sensors acc --image-size 16 --bs 16 --epochs 1 -j 1 --threads 1 -q"

static void assert_subjects(const char *path, const char *want)
{
    sg_st_file st;
    assert_int_equal(sg_st_open(&st, path), 0);
    const char *got = sg_st_meta(&st, "sensorgram.subjects");
    assert_non_null(got);
    if (strcmp(got, want) != 0) {
        print_error("%s: subjects '%s', expected '%s'\n", path, got, want);
        fail();
    }
    sg_st_close(&st);
}

static void test_loso_never_reads_held_out(void **state)
{
    fx *f = *state;
    SG_REQUIRE_TORCH();
    SG_REQUIRE_DSA(f->data);
    char *log = NULL, out[4200], file[4300];
    /* garbage is noticed where it is read ... */
    snprintf(out, sizeof out, "%s/all", f->tmp);
    int st = sg_test_run(&log, NULL, "pretrain --dataset dsa '%s' %s --out '%s'", f->data,
                         SMALL, out);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "/p3/");
    assert_false(sg_test_path_exists(out)); /* nothing left behind */
    free(log);
    /* ... and a fold never reads a subject outside its selection: under
     * --cv loso over subjects 1 and 2 of the same tree, each fold reads
     * only the other subject, so subject 3's garbage is never opened (the
     * fold that holds a subject out selects the others the same way) */
    snprintf(out, sizeof out, "%s/loso12", f->tmp);
    st = sg_test_run(&log, NULL, "pretrain --dataset dsa '%s' --subjects 1,2 --cv loso %s --out '%s'",
                     f->data, SMALL, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(file, sizeof file, "%s/without_1.safetensors", out);
    assert_subjects(file, "2");
    snprintf(file, sizeof file, "%s/without_2.safetensors", out);
    assert_subjects(file, "1");
    /* --cv loso: one file per subject, each without it */
    snprintf(out, sizeof out, "%s/loso", f->tmp);
    st = sg_test_run(&log, NULL, "pretrain --dataset dsa '%s' --cv loso %s --out '%s'", f->good,
                     SMALL, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    const char *want[] = {"2,3", "1,3", "1,2"};
    for (int s = 1; s <= 3; s++) {
        snprintf(file, sizeof file, "%s/without_%d.safetensors", out, s);
        assert_subjects(file, want[s - 1]);
    }
    snprintf(file, sizeof file, "%s/weights.safetensors", out);
    assert_false(sg_test_path_exists(file));
    /* train --cv loso takes each fold's file */
    char run[4200];
    snprintf(run, sizeof run, "%s/run", f->tmp);
    st = sg_test_run(&log, NULL,
                     "train --dataset dsa '%s' --cv loso --single %s --pretrained '%s' "
                     "--out '%s'",
                     f->good, SMALL, out, run);
    SG_ASSERT_EXIT(st, 0, log);
    for (int s = 1; s <= 3; s++) {
        snprintf(file, sizeof file, "without_%d.safetensors", s);
        SG_ASSERT_CONTAINS(log, file);
    }
    free(log);
    snprintf(file, sizeof file, "%s/config.json", run);
    char *config = sg_test_slurp(file);
    assert_non_null(config);
    SG_ASSERT_CONTAINS(config, "\"lr_spread\": \"auto\"");
    free(config);
    /* a sensor pretraining is fine-tuned like random init: no head-only
     * epoch (which ImageNet weights get), so one epoch row per fold */
    snprintf(file, sizeof file, "%s/metrics.csv", run);
    char *metrics = sg_test_slurp(file);
    assert_non_null(metrics);
    int epoch_rows = 0;
    for (const char *p = metrics; (p = strstr(p, "\nepoch,")) != NULL; p++)
        epoch_rows++;
    assert_int_equal(epoch_rows, 3);
    free(metrics);
    /* weights that saw the validation subject are refused, and nothing
     * is left */
    snprintf(run, sizeof run, "%s/run2", f->tmp);
    snprintf(file, sizeof file, "%s/without_1.safetensors", out);
    st = sg_test_run(&log, NULL,
                     "train --dataset dsa '%s' --valid-subjects 3 --single %s --pretrained '%s' "
                     "--out '%s'",
                     f->good, SMALL, file, run);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "was pretrained on subject 3");
    assert_false(sg_test_path_exists(run));
    free(log);
    /* a folder of per-subject files is not one set of weights */
    st = sg_test_run(&log, NULL,
                     "train --dataset dsa '%s' --valid-pct 0.3 --single %s --pretrained '%s' "
                     "--out '%s'",
                     f->good, SMALL, out, run);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "--cv loso pretraining");
    free(log);
    /* an earlier pretraining is kept unless --overwrite */
    st = sg_test_run(&log, NULL, "pretrain --dataset dsa '%s' --cv loso %s --out '%s'", f->good,
                     SMALL, out);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "--overwrite");
    free(log);
    snprintf(file, sizeof file, "%s/without_2.safetensors", out);
    assert_true(sg_test_path_exists(file));
}

static void test_series_source_and_bad_input(void **state)
{
    fx *f = *state;
    SG_REQUIRE_TORCH();
    char ts[4096], out[4200], *log = NULL;
    snprintf(ts, sizeof ts, "%s/data/uea/BasicMotions/BasicMotions_TRAIN.ts", sg_test_shared());
    if (!sg_test_path_exists(ts)) {
        print_message("SKIP: %s absent\n", ts);
        skip();
    }
    snprintf(out, sizeof out, "%s/ts", f->tmp);
    int st = sg_test_run(&log, NULL, "pretrain '%s' --epochs 1 -j 1 --threads 1 -q --out '%s'",
                         ts, out);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "40 segments");
    free(log);
    char json[4300];
    snprintf(json, sizeof json, "%s/pretrain.json", out);
    char *text = sg_test_slurp(json);
    assert_non_null(text);
    SG_ASSERT_CONTAINS(text, "\"objective\": \"simclr\"");
    free(text);
    /* the masked objective needs no second view, so no augmentation;
     * its files say which objective wrote them, and train takes them */
    snprintf(out, sizeof out, "%s/ts_masked", f->tmp);
    st = sg_test_run(&log, NULL,
                     "pretrain '%s' --objective masked --no-augment --epochs 1 -j 1 --threads 1 "
                     "-q --out '%s'",
                     ts, out);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "half of each one's time hidden");
    SG_ASSERT_CONTAINS(log, "final reconstruction loss");
    free(log);
    snprintf(json, sizeof json, "%s/pretrain.json", out);
    text = sg_test_slurp(json);
    assert_non_null(text);
    SG_ASSERT_CONTAINS(text, "\"objective\": \"masked\"");
    SG_ASSERT_CONTAINS(text, "\"hidden\": 4");
    free(text);
    char weights[4300], run[4300];
    snprintf(weights, sizeof weights, "%s/weights.safetensors", out);
    sg_st_file stf;
    assert_int_equal(sg_st_open(&stf, weights), 0);
    assert_string_equal(sg_st_meta(&stf, "sensorgram.pretrain"), "masked");
    sg_st_close(&stf);
    snprintf(run, sizeof run, "%s/ts_masked_run", f->tmp);
    st = sg_test_run(&log, NULL,
                     "train '%s' --pretrained '%s' --train-steps 2 -j 1 --threads 1 -q --out '%s'",
                     ts, out, run);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    st = sg_test_run(&log, NULL, "pretrain '%s' --objective jigsaw --epochs 1 -q --out '%s'", ts,
                     out);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "--objective: expected simclr or masked");
    free(log);
    /* no subjects in a .ts file: --cv loso says what is missing */
    snprintf(out, sizeof out, "%s/ts_loso", f->tmp);
    st = sg_test_run(&log, NULL, "pretrain '%s' --cv loso --epochs 1 -q --out '%s'", ts, out);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "--cv loso needs subjects");
    assert_false(sg_test_path_exists(out));
    free(log);
    st = sg_test_run(&log, NULL, "pretrain '%s' --no-augment --epochs 1 -q --out '%s'", ts, out);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "needs series augmentation");
    free(log);
    st = sg_test_run(&log, NULL, "pretrain '%s' --epochs 1 -q", ts);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "--out DIR is required");
    free(log);
}

int main(void)
{
    sg_test_device_setup();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contrastive_loss_matches_reference),
        cmocka_unit_test(test_mask_spans_by_hand),
        cmocka_unit_test(test_masked_loss_matches_reference),
        cmocka_unit_test(test_stem_from_other_channel_counts),
        cmocka_unit_test(test_loso_never_reads_held_out),
        cmocka_unit_test(test_series_source_and_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
