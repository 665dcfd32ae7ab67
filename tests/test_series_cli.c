/* test_series_cli.c - sensor segments from files other than DSA through
 * the binary: UEA/UCR .ts files as a user of the archive types them, `train P_TRAIN.ts`, `eval CKPT P_TEST.ts`, `predict
 * CKPT P_TEST.ts` (CKPT also the run folder of a single model, which is
 * its final model) and `encode P_TRAIN.ts`, on a synthetic two-class problem
 * (a still sensor against a swinging one, 3 dimensions x 64 samples); and
 * a bad file refused with its one-line "FILE:LINE: case N, dimension D"
 * message, exit 1 and no run folder left behind.  The same problem as
 * numpy arrays (X.npy (N, C, T) with y.npy, as tsai/sktime users hold it):
 * trained from its folder, evaluated and predicted, and an X.npy whose
 * case count differs from y.npy's refused.  Series too long to encode
 * whole are shortened (--max-length) in train and eval alike.
 */
#include "tests/sg_run.h"

#include "src/base/rng.h"

#include <math.h>

/* n cases per class of T samples, alternating; seed picks the noise. */
static void write_problem_t(const char *path, int n, int T, uint64_t seed)
{
    sg_rng rng;
    sg_rng_seed(&rng, seed);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "#synthetic\n@problemName Swing\n@timeStamps false\n@missing false\n"
            "@univariate false\n@dimensions 3\n@equalLength true\n@seriesLength %d\n"
            "@classLabel true still swing\n@data\n",
            T);
    for (int i = 0; i < 2 * n; i++) {
        int swing = i & 1;
        double phase = sg_rng_range(&rng, 0, 6.283);
        for (int d = 0; d < 3; d++) {
            for (int t = 0; t < T; t++) {
                double v = 0.05 * sg_rng_range(&rng, -1, 1) + (d == 2 ? 9.81 : 0.0);
                if (swing)
                    v += 3.0 * sin(0.4 * t + phase + d);
                fprintf(f, "%s%.6f", t ? "," : "", v);
            }
            fputc(':', f);
        }
        fputs(swing ? "swing\n" : "still\n", f);
    }
    assert_int_equal(fclose(f), 0);
}

static void write_problem(const char *path, int n, uint64_t seed)
{
    write_problem_t(path, n, 64, seed);
}

static double field_after(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    return p ? atof(p + strlen(key)) : -1.0;
}

/* `eval CKPT DATA -o OUT` must pass and score at least 0.9 on its n
 * cases (two classes that a glance tells apart); what names the case. */
static void assert_eval_accuracy(const char *ckpt, const char *data, const char *out, int n,
                                 const char *what)
{
    char *log = NULL, key[64];
    int st = sg_test_run(&log, NULL, "eval '%s' '%s' -o '%s'", ckpt, data, out);
    SG_ASSERT_EXIT(st, 0, log);
    snprintf(key, sizeof key, "%d samples: accuracy ", n);
    SG_ASSERT_CONTAINS(log, key);
    double acc = field_after(log, key);
    if (acc < 0.9)
        fail_msg("%s: eval accuracy %.3f, expected >= 0.9:\n%s", what, acc, log);
    free(log);
}

static void test_train_eval_predict_encode(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char train_ts[1100], test_ts[1100], run[1100], preds[1100], enc[1100];
    snprintf(train_ts, sizeof train_ts, "%s/Swing_TRAIN.ts", tmp);
    snprintf(test_ts, sizeof test_ts, "%s/Swing_TEST.ts", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(preds, sizeof preds, "%s/preds.csv", tmp);
    snprintf(enc, sizeof enc, "%s/enc", tmp);
    write_problem(train_ts, 24, 1);
    write_problem(test_ts, 10, 2);

    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --valid-pct 0.2 --arch resnet18 --epochs 4 --bs 8 --seed 3 -j 1 "
                         "--no-progress --out '%s'",
                         train_ts, run);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char ckpt[1200], out[1200];
    snprintf(ckpt, sizeof ckpt, "%s/best.safetensors", run);
    snprintf(out, sizeof out, "%s/eval", tmp);
    assert_eval_accuracy(ckpt, test_ts, out, 20, "the .ts test file");

    /* the run folder of a single model is its final model */
    st = sg_test_run(&log, NULL, "eval '%s' '%s' -o '%s/eval_run'", run, test_ts, tmp);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    st = sg_test_run(&log, NULL, "eval '%s/last.safetensors' '%s' -o '%s/eval_last'", run,
                     test_ts, tmp);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char path_run[1200], path_last[1200];
    snprintf(path_run, sizeof path_run, "%s/eval_run/predictions.csv", tmp);
    snprintf(path_last, sizeof path_last, "%s/eval_last/predictions.csv", tmp);
    char *by_run = sg_test_slurp(path_run), *by_last = sg_test_slurp(path_last);
    assert_non_null(by_run);
    assert_non_null(by_last);
    assert_string_equal(by_run, by_last);
    free(by_run);
    free(by_last);

    st = sg_test_run(&log, NULL, "predict '%s/best.safetensors' '%s' -o '%s'", run, test_ts,
                     preds);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char *csv = sg_test_slurp(preds);
    assert_non_null(csv);
    /* one row per case, named by the file and case number */
    SG_ASSERT_CONTAINS(csv, "Swing_TEST_0001");
    SG_ASSERT_CONTAINS(csv, "Swing_TEST_0020");
    free(csv);

    st = sg_test_run(&log, NULL, "encode '%s' --encoder gray -q -o '%s'", train_ts, enc);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char path[1300];
    snprintf(path, sizeof path, "%s/swing/Swing_TRAIN_0002.png", enc);
    assert_true(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/still/Swing_TRAIN_0001.png", enc);
    assert_true(sg_test_path_exists(path));
    sg_test_rmtree(tmp);
    free(tmp);
}

/* The recipe for cases that are not DSA, nothing set but a short step
 * budget: a batch sized to the set, epochs from the budget, all 40 cases
 * trained on (a set this small comes with its test set); series of 128
 * samples or more get a spectrogram member beside the gray one, and eval
 * of the run folder averages them. */
static void check_recipe(int T)
{
    char *tmp = sg_test_tmpdir();
    char train_ts[1100], test_ts[1100], run[1100], path[1200];
    snprintf(train_ts, sizeof train_ts, "%s/Swing_TRAIN.ts", tmp);
    snprintf(test_ts, sizeof test_ts, "%s/Swing_TEST.ts", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    write_problem_t(train_ts, 20, T, 4);
    write_problem_t(test_ts, 10, T, 5);

    char *log = NULL;
    int st = sg_test_run(&log, NULL, "train '%s' --train-steps 40 -j 1 --no-progress --out '%s'",
                         train_ts, run);
    SG_ASSERT_EXIT(st, 0, log);
    /* a tenth of 40 is 4, so the smallest batch, 8; 5 steps an epoch,
     * so 8 epochs give 40 steps */
    SG_ASSERT_CONTAINS(log, "--bs auto: 8 for 40 training samples; --train-steps 40: 8 epochs");
    SG_ASSERT_CONTAINS(log, "40 training and 0 validation samples");
    SG_ASSERT_CONTAINS(log, "resnet18");
    free(log);
    snprintf(path, sizeof path, "%s/%s", run, T >= 128 ? "member_1/config.json" : "config.json");
    char *config = sg_test_slurp(path);
    if (!config)
        fail_msg("T = %d: %s missing", T, path);
    SG_ASSERT_CONTAINS(config, "\"bs\": 8");
    SG_ASSERT_CONTAINS(config, "\"epochs\": 8");
    SG_ASSERT_CONTAINS(config, "\"valid_pct\": 0");
    if (T >= 128)
        SG_ASSERT_CONTAINS(config, "spectrogram");
    free(config);
    snprintf(path, sizeof path, "%s/member_1", run);
    if (sg_test_path_exists(path) != (T >= 128))
        fail_msg("T = %d: a spectrogram member is for series of 128 samples or more", T);
    char out[1200], what[64];
    snprintf(out, sizeof out, "%s/eval", tmp);
    snprintf(what, sizeof what, "T = %d: the run on the .ts test file", T);
    assert_eval_accuracy(run, test_ts, out, 20, what);
    sg_test_rmtree(tmp);
    free(tmp);
}

static void test_default_recipe(void **state)
{
    (void)state;
    check_recipe(64);
    check_recipe(128);
}

static void test_bad_file_refused(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char bad[1100], run[1100];
    snprintf(bad, sizeof bad, "%s/Bad_TRAIN.ts", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("@dimensions 2\n@seriesLength 3\n@classLabel true a b\n@data\n"
          "1,2,3:4,5,6:a\n1,2,3:4,5:b\n",
          f);
    assert_int_equal(fclose(f), 0);
    char *log = NULL;
    int st = sg_test_run(&log, NULL, "train '%s' --arch resnet18 --epochs 1 --no-progress --out '%s'", bad,
                         run);
    SG_ASSERT_EXIT(st, 1, log);
    char want[1400];
    snprintf(want, sizeof want,
             "sensorgram train: %s:6: case 2, dimension 1 has 2 values, @seriesLength says 3: "
             "unequal lengths are not padded; resample or crop the series to one length first\n",
             bad);
    assert_string_equal(log, want);
    free(log);
    assert_false(sg_test_path_exists(run));
    sg_test_rmtree(tmp);
    free(tmp);
}

/* Converts a .ts file into DIR/X.npy (float64) and DIR/y.npy (text) with
 * numpy, as a tsai user holds the problem. */
static void ts_to_npy(const char *ts, const char *dir, int drop_label)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s -c \"import numpy as np, os, sys\n"
             "X, y, data = [], [], False\n"
             "for line in open(sys.argv[1]):\n"
             "    line = line.strip()\n"
             "    if not line or line[0] == '#': continue\n"
             "    if not data:\n"
             "        data = line.lower() == '@data'; continue\n"
             "    *dims, label = line.split(':')\n"
             "    X.append([[float(v) for v in d.split(',')] for d in dims]); y.append(label)\n"
             "os.makedirs(sys.argv[2], exist_ok=True)\n"
             "np.save(sys.argv[2] + '/X.npy', np.array(X))\n"
             "np.save(sys.argv[2] + '/y.npy', np.array(y[int(sys.argv[3]):]))\n"
             "\" '%s' '%s' %d",
             sg_test_python(), ts, dir, drop_label);
    assert_int_equal(system(cmd), 0);
}

static void test_numpy_arrays(void **state)
{
    (void)state;
    SG_REQUIRE_PYTHON("numpy");
    char *tmp = sg_test_tmpdir();
    char ts[1100], train[1100], test[1100], bad[1100], run[1100];
    snprintf(ts, sizeof ts, "%s/Swing.ts", tmp);
    snprintf(train, sizeof train, "%s/train", tmp);
    snprintf(test, sizeof test, "%s/test", tmp);
    snprintf(bad, sizeof bad, "%s/bad", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    write_problem(ts, 24, 1);
    ts_to_npy(ts, train, 0);
    write_problem(ts, 10, 2);
    ts_to_npy(ts, test, 0);
    ts_to_npy(ts, bad, 1);

    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --valid-pct 0.2 --arch resnet18 --epochs 4 --bs 8 --seed 3 -j 1 "
                         "--no-progress --out '%s'",
                         train, run);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char out[1200];
    snprintf(out, sizeof out, "%s/eval", tmp);
    assert_eval_accuracy(run, test, out, 20, "the numpy test folder");
    char preds[1200];
    snprintf(preds, sizeof preds, "%s/preds.csv", tmp);
    st = sg_test_run(&log, NULL, "predict '%s' '%s/X.npy' -o '%s'", run, test, preds);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char *csv = sg_test_slurp(preds);
    SG_ASSERT_CONTAINS(csv, "\nX_00020,");
    free(csv);

    st = sg_test_run(&log, NULL, "train '%s' --arch resnet18 --epochs 1 --no-progress --out '%s/r2'",
                     bad, tmp);
    SG_ASSERT_EXIT(st, 1, log);
    char want[1400];
    snprintf(want, sizeof want,
             "sensorgram train: %s/X.npy has 20 cases, %s/y.npy 19 labels: one label per case\n",
             bad, bad);
    assert_string_equal(log, want);
    free(log);
    char r2[1200];
    snprintf(r2, sizeof r2, "%s/r2", tmp);
    assert_false(sg_test_path_exists(r2));
    sg_test_rmtree(tmp);
    free(tmp);
}

/* Series longer than --max-length auto allows (3 dimensions: 1024
 * samples) are shortened by PAA before encoding, in training and, from
 * the checkpoint's record, in eval; an explicit --max-length wins, and
 * off keeps the series whole. */
static void test_long_series_shortened(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char train[1100], test[1100], run[1100], path[1200];
    snprintf(train, sizeof train, "%s/Long_TRAIN.ts", tmp);
    snprintf(test, sizeof test, "%s/Long_TEST.ts", tmp);
    snprintf(run, sizeof run, "%s/run", tmp);
    write_problem_t(train, 12, 2100, 5);
    write_problem_t(test, 6, 2100, 6);
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --encoder gray --epochs 3 --bs 8 --seed 3 -j 1 "
                         "--no-progress --out '%s'",
                         train, run);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "series of 2100 samples shortened to 1024 by averaging windows");
    SG_ASSERT_CONTAINS(log, "1x3x1024 input");
    free(log);
    snprintf(path, sizeof path, "%s/config.json", run);
    char *config = sg_test_slurp(path);
    SG_ASSERT_CONTAINS(config, "\"segment_samples\": 1024");
    SG_ASSERT_CONTAINS(config, "\"max_length\": 1024");
    free(config);
    /* eval shortens the 2100-sample test cases as training did */
    char out[1200];
    snprintf(out, sizeof out, "%s/eval", tmp);
    assert_eval_accuracy(run, test, out, 12, "the shortened run on the long test file");
    /* explicit lengths: 700 (windows of 3), and off (the whole series) */
    const char *const length[2] = {"700", "off"};
    const char *const want[2] = {"1x3x700 input", "1x3x2100 input"};
    for (int k = 0; k < 2; k++) {
        st = sg_test_run(&log, NULL,
                         "train '%s' --encoder gray --epochs 1 --bs 8 -j 1 --max-length %s "
                         "--no-progress --out '%s/r%d'",
                         train, length[k], tmp, k);
        SG_ASSERT_EXIT(st, 0, log);
        SG_ASSERT_CONTAINS(log, want[k]);
        if (k == 1)
            assert_null(strstr(log, "shortened"));
        free(log);
    }
    st = sg_test_run(&log, NULL, "train '%s' --max-length 1 --out '%s/r3'", train, tmp);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "--max-length");
    free(log);
    sg_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_eval_predict_encode),
        cmocka_unit_test(test_default_recipe),
        cmocka_unit_test(test_bad_file_refused),
        cmocka_unit_test(test_numpy_arrays),
        cmocka_unit_test(test_long_series_shortened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
