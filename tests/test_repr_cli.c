/* test_repr_cli.c - representations that transfer, through the binary
 * (SG_BIN) on a small synthetic DSA tree:
 *   --magnitude add|only: the norm rows of `encode` against numpy's
 *     linalg.norm of the CSV columns (tools/oracle_repr.py: fitted min/max
 *     to 1e-9, the gray rows to 1e-6), the channel names, the channel
 *     count of only (15 rows; 15 gasf channels), the usage errors;
 *   --encoder A+B: the stacked channels against the same encoders run
 *     alone, mapped to [0, 1] and resized with torch's antialiased
 *     bilinear interpolate (oracle_repr.py), for gray+gasf, gasf+gray+rp;
 *     the PNG rule (3 channels yes, 2 no); bad lists exit 2 with one line;
 *   train one tiny epoch on gray+rp (and on --magnitude only), then
 *     predict reproduces the run's predictions byte for byte and eval
 *     runs from the checkpoint alone. */
#include "tests/sg_run.h"

#include <jansson.h>

#include "models/sg_model.h"

struct fixture {
    char *dir;
    char root[600];
};

/* Values of both signs and several scales, so that a norm differs from
 * any one axis. */
static void write_segment(const char *root, int a, int s, int seg)
{
    char path[700];
    snprintf(path, sizeof path, "mkdir -p '%s/a%02d/p%d'", root, a, s);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/a%02d/p%d/s%02d.txt", root, a, s, seg);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int t = 0; t < 125; t++)
        for (int k = 0; k < 45; k++) {
            double amp = 1.0 + (k % 9) * (a == 1 ? 0.5 : 1.5);
            double v = amp * sin(0.07 * t * (k % 5 + 1) + 0.4 * a + 0.3 * s + 0.2 * seg + k) +
                       (k % 3 == 2 ? 9.8 : -0.5 * (k % 4));
            fprintf(f, "%.5f%c", v, k + 1 < 45 ? ',' : '\n');
        }
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->dir = sg_test_tmpdir();
    snprintf(fx->root, sizeof fx->root, "%s/dsa", fx->dir);
    for (int a = 1; a <= 2; a++)
        for (int s = 1; s <= 2; s++)
            for (int seg = 1; seg <= 4; seg++)
                write_segment(fx->root, a, s, seg);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    sg_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void run_ok(const char *args)
{
    char *log = NULL;
    int rc = sg_test_run(&log, NULL, "%s", args);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
}

/* Runs tools/oracle_repr.py with args and requires it to pass. */
static void oracle_ok(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tools/oracle_repr.py %s", sg_test_python(), args);
    if (system(cmd) != 0) {
        print_error("oracle failed: %s\n", cmd);
        fail();
    }
}

/* X.npy's shape from its header: "'shape': (N, C, H, W)" (the magic and
 * version bytes before it hold NULs, hence memmem). */
static void npy_shape(const char *path, int shape[4])
{
    char head[257] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    const char *key = "'shape': (";
    char *p = memmem(head, n, key, strlen(key));
    assert_non_null(p);
    assert_int_equal(sscanf(p, "'shape': (%d, %d, %d, %d)", &shape[0], &shape[1], &shape[2],
                            &shape[3]),
                     4);
}

static void test_magnitude_rows_match_numpy(void **state)
{
    struct fixture *fx = *state;
    SG_REQUIRE_PYTHON("numpy");
    char args[4096], oargs[2048];
    const char *modes[] = {"add", "only"};
    for (int m = 0; m < 2; m++) {
        snprintf(args, sizeof args,
                 "encode --dataset dsa '%s' --magnitude %s --encoder gray --format npy --stack "
                 "--save-fit '%s/fit_%s.json' -q -o '%s/mag_%s'",
                 fx->root, modes[m], fx->dir, modes[m], fx->dir, modes[m]);
        run_ok(args);
        snprintf(oargs, sizeof oargs, "magnitude '%s/mag_%s' %s '%s/fit_%s.json'", fx->dir,
                 modes[m], modes[m], fx->dir, modes[m]);
        oracle_ok(oargs);
    }
    /* only: 5 units x 3 sensors = 15 rows, whatever the encoder */
    char path[1200];
    int shape[4];
    snprintf(path, sizeof path, "%s/mag_only/X.npy", fx->dir);
    npy_shape(path, shape);
    assert_int_equal(shape[0], 16);
    assert_int_equal(shape[2], 15);
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' --magnitude only --encoder gasf --enc-size 8 "
             "--format npy --stack -q -o '%s/mag_gasf'",
             fx->root, fx->dir);
    run_ok(args);
    snprintf(path, sizeof path, "%s/mag_gasf/X.npy", fx->dir);
    npy_shape(path, shape);
    assert_int_equal(shape[1], 15);
    assert_int_equal(shape[2], 8);
    /* add on the accelerometers of two units: 6 axes + 2 norms */
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' --magnitude add --units T,LL --sensors acc --encoder "
             "gasf --enc-size 8 --format npy --stack -q -o '%s/mag_add8'",
             fx->root, fx->dir);
    run_ok(args);
    snprintf(path, sizeof path, "%s/mag_add8/X.npy", fx->dir);
    npy_shape(path, shape);
    assert_int_equal(shape[1], 8);
    snprintf(path, sizeof path, "%s/mag_add8/encoding.json", fx->dir);
    char *enc = sg_test_slurp(path);
    SG_ASSERT_CONTAINS(enc, "\"LL_acc_z\",\n    \"T_acc_norm\",\n    \"LL_acc_norm\"");
    free(enc);
}

static void test_magnitude_usage_errors(void **state)
{
    struct fixture *fx = *state;
    char *log = NULL;
    /* no complete triad */
    int rc = sg_test_run(&log, NULL, "encode --dataset dsa '%s' --magnitude add --axes x,y "
                                     "-o '%s/bad1'", fx->root, fx->dir);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--magnitude add needs the x, y and z axes");
    free(log);
    rc = sg_test_run(&log, NULL, "encode --dataset dsa '%s' --magnitude sometimes -o '%s/bad2'",
                     fx->root, fx->dir);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--magnitude: expected add, only or off, got 'sometimes'");
    free(log);
    rc = sg_test_run(&log, NULL, "train --dataset dsa '%s' --magnitude only --axes z --out "
                                 "'%s/bad3'", fx->root, fx->dir);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--magnitude only needs the x, y and z axes");
    free(log);
    char p[1200];
    snprintf(p, sizeof p, "%s/bad1", fx->dir);
    assert_false(sg_test_path_exists(p));
}

static void test_stack_equals_separate_encoders(void **state)
{
    struct fixture *fx = *state;
    SG_REQUIRE_PYTHON("numpy,torch");
    const char *sel = "--units LA --sensors acc";
    const char *encs[] = {"gray", "gasf", "rp"};
    char args[4096], oargs[4096];
    for (int k = 0; k < 3; k++) {
        snprintf(args, sizeof args,
                 "encode --dataset dsa '%s' %s --encoder %s --enc-size 8 --format npy --stack "
                 "-q -o '%s/one_%s'",
                 fx->root, sel, encs[k], fx->dir, encs[k]);
        run_ok(args);
    }
    /* gray-sized (3 x 125): gasf's 8 x 8 upsampled in width, shrunk in height */
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' %s --encoder gray+gasf --enc-size 8 --format npy "
             "--stack -q -o '%s/gray_gasf'",
             fx->root, sel, fx->dir);
    run_ok(args);
    int shape[4];
    char path[1200];
    snprintf(path, sizeof path, "%s/gray_gasf/X.npy", fx->dir);
    npy_shape(path, shape);
    assert_int_equal(shape[1], 4); /* gray 1 + gasf 3 */
    assert_int_equal(shape[2], 3);
    assert_int_equal(shape[3], 125);
    snprintf(oargs, sizeof oargs, "stack '%s/gray_gasf' '%s/one_gray' '%s/one_gasf'", fx->dir,
             fx->dir, fx->dir);
    oracle_ok(oargs);
    /* gasf-sized (8 x 8): gray shrunk, rp (unbounded: per image min-max) shrunk */
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' %s --encoder gasf+gray+rp --enc-size 8 --format npy "
             "--stack -q -o '%s/gasf_gray_rp'",
             fx->root, sel, fx->dir);
    run_ok(args);
    snprintf(path, sizeof path, "%s/gasf_gray_rp/X.npy", fx->dir);
    npy_shape(path, shape);
    assert_int_equal(shape[1], 7);
    assert_int_equal(shape[2], 8);
    snprintf(oargs, sizeof oargs, "stack '%s/gasf_gray_rp' '%s/one_gasf' '%s/one_gray' '%s/one_rp'",
             fx->dir, fx->dir, fx->dir, fx->dir);
    oracle_ok(oargs);
    /* element options: the second gray scaled per axis, the first as alone */
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' %s --encoder gray --scope axis --format npy --stack -q "
             "-o '%s/one_gray_axis'",
             fx->root, sel, fx->dir);
    run_ok(args);
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' %s --encoder gray+gray:scope=axis --format npy --stack "
             "-q -o '%s/gray_gray_axis'",
             fx->root, sel, fx->dir);
    run_ok(args);
    snprintf(oargs, sizeof oargs, "stack '%s/gray_gray_axis' '%s/one_gray' '%s/one_gray_axis'",
             fx->dir, fx->dir, fx->dir);
    oracle_ok(oargs);
    snprintf(path, sizeof path, "%s/gray_gray_axis/encoding.json", fx->dir);
    char *named = sg_test_slurp(path);
    SG_ASSERT_CONTAINS(named, "\"stacked_encoders\": \"gray+gray:scope=axis\"");
    free(named);
    /* encoding.json says the values are [0, 1] and how they were made */
    snprintf(path, sizeof path, "%s/gasf_gray_rp/encoding.json", fx->dir);
    char *enc = sg_test_slurp(path);
    SG_ASSERT_CONTAINS(enc, "\"stacked_encoders\": \"gasf+gray+rp\"");
    SG_ASSERT_CONTAINS(enc, "\"bounded\": true");
    free(enc);
}

/* A PNG holds 1 or 3 channels: a 3-channel stack (mosaic layouts) is RGB,
 * a 2-channel one is refused before anything is read or written. */
static void test_stack_png_rule(void **state)
{
    struct fixture *fx = *state;
    char args[4096], *log = NULL;
    snprintf(args, sizeof args,
             "encode --dataset dsa '%s' --units LA --sensors acc --encoder gray+gasf+rp "
             "--enc-size 8 -q -o '%s/png3'",
             fx->root, fx->dir);
    run_ok(args);
    char path[1200];
    snprintf(path, sizeof path, "%s/png3/manifest.csv", fx->dir);
    assert_true(sg_test_path_exists(path));
    /* colour type 2 (RGB) in the IHDR chunk: byte 25 of the first image */
    char *man = sg_test_slurp(path);
    assert_non_null(man);
    char *row = strchr(man, '\n') + 1;
    snprintf(path, sizeof path, "%s/png3/%.*s", fx->dir, (int)strcspn(row, ","), row);
    free(man);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char head[32];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    assert_int_equal(head[25], 2);
    int rc = sg_test_run(&log, NULL,
                         "encode --dataset dsa '%s' --units LA --sensors acc --encoder gray+rp "
                         "-o '%s/png2'",
                         fx->root, fx->dir);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--encoder gray+rp stacks 2: use --format npy");
    free(log);
    snprintf(path, sizeof path, "%s/png2", fx->dir);
    assert_false(sg_test_path_exists(path));
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void test_bad_encoder_lists(void **state)
{
    struct fixture *fx = *state;
    const char *lists[] = {"gray+",     "gray+nope",  "+gray",
                           "gray++rp",  "gray+gray",  "gray+gray:foo=1",
                           "gray:scope", "gray+rp:hop=1+rp:hop=1", "gray+:scope=axis"};
    const char *want[] = {"empty encoder name",
                          "unknown encoder 'nope'",
                          "empty encoder name",
                          "empty encoder name",
                          "gray is listed twice",
                          "unknown element option 'foo'",
                          "element option 'scope' needs a value (gray:scope=VALUE)",
                          "rp:hop=1 is listed twice",
                          "empty encoder name"};
    const char *cmds[] = {"encode --dataset dsa '%s' --format npy --encoder %s -o '%s/bad'",
                          "train --dataset dsa '%s' --encoder %s --out '%s/bad'",
                          "lr-find --dataset dsa '%s' --encoder %s --out '%s/bad'"};
    for (size_t c = 0; c < 3; c++)
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
            char fmt[512], args[4096], *log = NULL;
            snprintf(fmt, sizeof fmt, "%s", cmds[c]);
            snprintf(args, sizeof args, fmt, fx->root, lists[i], fx->dir);
            int rc = sg_test_run(&log, NULL, "%s", args);
            SG_ASSERT_EXIT(rc, 2, log);
            SG_ASSERT_CONTAINS(log, want[i]);
            if (count_lines(log) != 1) {
                print_error("expected a one-line message for %s, got:\n%s\n", args, log);
                fail();
            }
            free(log);
        }
    char p[1200];
    snprintf(p, sizeof p, "%s/bad", fx->dir);
    assert_false(sg_test_path_exists(p));
}

static size_t line_len(const char *line)
{
    const char *nl = strchr(line, '\n');
    return nl ? (size_t)(nl - line) : strlen(line);
}

/* Every line of the run's predictions.csv appears in predict's output. */
static void assert_predictions_reproduced(const char *run_preds, const char *preds)
{
    char *a = sg_test_slurp(run_preds), *b = sg_test_slurp(preds);
    assert_non_null(a);
    assert_non_null(b);
    assert_memory_equal(a, b, line_len(a)); /* same header */
    int rows = 0;
    for (char *line = strchr(a, '\n') + 1; *line;) {
        size_t len = line_len(line);
        char needle[1024];
        snprintf(needle, sizeof needle, "\n%.*s\n", (int)len, line);
        if (!strstr(b, needle)) {
            print_error("run prediction not reproduced by predict: %.*s\n", (int)len, line);
            fail();
        }
        rows++;
        line += len + (line[len] == '\n');
    }
    assert_true(rows > 0);
    free(a);
    free(b);
}

static void train_eval_predict(struct fixture *fx, const char *name, const char *extra,
                               int want_channels)
{
    if (!sg_torch_available()) {
        print_message("SKIP: built without libtorch (NO_TORCH=1)\n");
        skip();
    }
    char args[4096], run[1200], *log = NULL;
    snprintf(run, sizeof run, "%s/%s", fx->dir, name);
    snprintf(args, sizeof args,
             "train --dataset dsa '%s' %s --arch resnet18 --image-size 16 --bs 8 --epochs 1 "
             "--pretrained none --valid-subjects 2 --seed 1 -j 2 --no-progress --out '%s'",
             fx->root, extra, run);
    int rc = sg_test_run(&log, NULL, "%s", args);
    SG_ASSERT_EXIT(rc, 0, log);
    SG_ASSERT_CONTAINS(log, "train_loss");
    char want[64];
    snprintf(want, sizeof want, "%dx16x16 input", want_channels);
    SG_ASSERT_CONTAINS(log, want);
    free(log);
    char path[1400], preds[1400];
    snprintf(path, sizeof path, "%s/config.json", run);
    json_error_t err;
    json_t *config = json_load_file(path, 0, &err);
    assert_non_null(config);
    json_t *input = json_object_get(config, "input");
    assert_int_equal(json_integer_value(json_object_get(input, "channels")), want_channels);
    assert_int_equal(json_array_size(json_object_get(input, "mean")),
                     (size_t)(want_channels > 3 ? want_channels : 3));
    json_decref(config);
    snprintf(preds, sizeof preds, "%s/preds.csv", run);
    rc = sg_test_run(&log, NULL, "predict '%s/last.safetensors' '%s' -o '%s' --no-progress", run,
                     fx->root, preds);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/predictions.csv", run);
    assert_predictions_reproduced(path, preds);
    rc = sg_test_run(&log, NULL, "eval '%s/best.safetensors' '%s' -o '%s/eval' --no-progress",
                     run, fx->root, run);
    SG_ASSERT_EXIT(rc, 0, log);
    SG_ASSERT_CONTAINS(log, "16 samples: accuracy");
    free(log);
}

static void test_train_eval_stacked(void **state)
{
    /* gray (1 channel, 3 x 125) + rp (rgb layout, 3 channels) = 4 */
    train_eval_predict(*state, "run_stack", "--units LA --sensors acc --encoder gray+rp", 4);
}

static void test_train_eval_magnitude_only(void **state)
{
    /* 15 norm rows: gray, one channel of 15 x 125 */
    train_eval_predict(*state, "run_mag", "--magnitude only --encoder gray", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_magnitude_rows_match_numpy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_magnitude_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_equals_separate_encoders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_png_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_encoder_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_train_eval_stacked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_train_eval_magnitude_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
