/* test_png_map_cli.c - a PNG written by `sensorgram encode` holds what the
 * network sees: its pixels are the in-memory training image of the same
 * segment (src/train/sample_source.c, the path `train --dataset dsa`
 * takes) quantized by the PNG writer's own rule, exactly, pixel for pixel.
 *
 * Both sides map raw encoder values to [0, 1] through the one map
 * (enc_stack_map_unit); the second map the encode path had before issue 25
 * (float arithmetic, no clamp) moved 68 of the 281,250 16-bit levels of
 * the recurrence distances here, so this test fails on it.  The
 * segments are random walks of several scales in a synthetic DSA tree
 * (no data needed).
 */
#include "tests/sg_run.h"

#include "datasets/dsa.h"
#include "encoders/enc.h"
#include "src/base/csv_table.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/encode/enc_stack.h"
#include "src/image/png_io.h"
#include "src/train/job_data.h"

#include <math.h>
#include <string.h>

enum { N_ACTIVITIES = 2, N_SEGMENTS = 3, LA_ACC = 18 };

/* ROOT/aNN/p1/sKK.txt: 45 columns; LA's accelerometer a random walk
 * whose scale differs per segment, the rest a slow sine. */
static void write_tree(const char *root)
{
    sg_rng rng;
    sg_rng_seed(&rng, 25);
    for (int a = 1; a <= N_ACTIVITIES; a++)
        for (int s = 1; s <= N_SEGMENTS; s++) {
            char path[1200];
            snprintf(path, sizeof path, "mkdir -p '%s/a%02d/p1'", root, a);
            assert_int_equal(system(path), 0);
            snprintf(path, sizeof path, "%s/a%02d/p1/s%02d.txt", root, a, s);
            FILE *f = fopen(path, "w");
            assert_non_null(f);
            double walk[3] = {9.81, 0.1 * a, -0.3 * s};
            double step = pow(10.0, s - 2);
            for (int t = 0; t < DSA_N_ROWS; t++)
                for (int k = 0; k < DSA_N_COLUMNS; k++) {
                    int c = k - LA_ACC;
                    if (c >= 0 && c < 3) {
                        walk[c] += step * sg_rng_range(&rng, -1.0, 1.0);
                        fprintf(f, "%.17g", walk[c]);
                    } else {
                        fprintf(f, "%.4f", sin(0.05 * t + k));
                    }
                    fputc(k + 1 < DSA_N_COLUMNS ? ',' : '\n', f);
                }
            assert_int_equal(fclose(f), 0);
        }
}

/* The PNG writer's level of v (src/image/png_write.c's to_level). */
static unsigned level16(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 65535;
    return (unsigned)(v * 65535.0f + 0.5f);
}

/* Encodes root with `encode --encoder kind` (x, y, z as RGB, 16-bit PNGs) and
 * compares every pixel with the in-memory image of the same segment. */
static void check_encoder(const char *tmp, const char *root, enc_kind kind)
{
    char out[1200];
    snprintf(out, sizeof out, "%s/png-%s", tmp, enc_kind_name(kind));
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "encode --dataset dsa --units LA --sensors acc --encoder %s "
                         "--layout rgb --depth 16 -q -o '%s' '%s'",
                         enc_kind_name(kind), out, root);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);

    /* the training side: the same segments, encoder defaults and layout */
    dsa_select sel;
    dsa_select_all(&sel);
    assert_int_equal(dsa_select_parse(&sel, "LA", "acc", NULL), 0);
    sg_series_set set = {0};
    assert_int_equal(dsa_load(&set, root, &sel, 1), 0);
    enc_stack stack;
    enc_params p;
    enc_params_default(&p, kind);
    p.layout = ENC_LAYOUT_RGB;
    enc_stack_single(&stack, &p);
    job_data d;
    int rc = job_data_from_series_stack(&d, &set, &stack, NULL, 1);
    if (rc)
        fail_msg("in-memory %s: %s", enc_kind_name(kind), sg_last_error());
    const sg_series_set *s = &d.src.series;
    assert_int_equal(s->n, N_ACTIVITIES * N_SEGMENTS);

    char manifest[1300];
    snprintf(manifest, sizeof manifest, "%s/manifest.csv", out);
    csv_table t;
    assert_int_equal(csv_table_read(&t, manifest), 0);
    assert_int_equal(t.n_rows, s->n);
    size_t mismatched = 0, pixels = 0;
    for (size_t i = 0; i < s->n; i++) {
        /* rows follow the inputs' order; the source column says which */
        const char *path = t.cells[i * t.n_cols + 0];
        const char *source = t.cells[i * t.n_cols + 4];
        assert_string_equal(source, s->source[i]);
        char png[2600];
        snprintf(png, sizeof png, "%s/%s", out, path);
        sg_image file = {0}, mem = {0};
        if (sg_png_read(png, &file) != 0)
            fail_msg("%s: %s", png, sg_last_error());
        if (sample_source_read(&d.src, i, &mem) != 0)
            fail_msg("sample %zu: %s", i, sg_last_error());
        assert_int_equal(file.c, mem.c);
        assert_int_equal(file.h, mem.h);
        assert_int_equal(file.w, mem.w);
        size_t n = sg_image_numel(&mem);
        for (size_t k = 0; k < n; k++) {
            unsigned got = (unsigned)lrint((double)file.data[k] * 65535.0);
            if (got != level16(mem.data[k]))
                mismatched++;
        }
        pixels += n;
        sg_image_free(&file);
        sg_image_free(&mem);
    }
    if (mismatched)
        fail_msg("%s: %zu of %zu PNG levels differ from the in-memory image's",
                 enc_kind_name(kind), mismatched, pixels);
    csv_table_free(&t);
    job_data_free(&d);
}

static void test_png_is_the_training_image(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char root[1100];
    snprintf(root, sizeof root, "%s/dsa", tmp);
    write_tree(root);
    check_encoder(tmp, root, ENC_RP);          /* distances: per-image min-max */
    check_encoder(tmp, root, ENC_SPECTROGRAM); /* decibels: per-image min-max */
    check_encoder(tmp, root, ENC_GADF);        /* bounded: [-1, 1] */
    sg_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_is_the_training_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
