/* test_explain.c - `sensorgram explain` (src/train/explain.h).
 *
 * Grad-CAM against PyTorch autograd: tools/oracle_models.py gradcam writes
 * random torchvision resnet18 weights (3 and 1 input channels), inputs and
 * the maps of layer4 and layer3 for the predicted and for given classes;
 * sg_model_gradcam on the same weights must give the same maps within
 * 1e-4 of each map's largest value.
 *
 * Known answers through the binary: a synthetic .ts problem (6 channels x
 * 64 samples, three classes, noise everywhere, and the class only in
 * channel dim_3 over samples [16, 32): a plateau, an oscillation of
 * period 8, or nothing) is
 * trained for a few epochs with --encoder gray and with --encoder gasf;
 * explain (--windows 4: windows of 16 samples every 8) on held-out cases
 * must rank dim_3 first and put the top time window inside [16, 32) (the
 * one window that holds the whole pattern: a smaller one leaves enough of
 * it for the model) for every plateau or oscillation case the model gets
 * right.  The gray
 * run also gives --summary (dim_3 first for both classes), the output
 * folder's guard (a non-empty OUTDIR refused without --overwrite) and
 * the one-line errors; a tiny photo set gives Grad-CAM's files.
 * channels.csv names the source's channels, one row each per input:
 * dim_0 .. dim_5 for the .ts run, the header's names for a run trained on
 * a CSV folder.  A failed explain leaves no OUTDIR behind (nor the
 * parents it made) and keeps a folder the user had.
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include "models/weights.h"
#include "src/base/atomic_file.h"
#include "src/base/out_dir.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/image/png_io.h"

#include <math.h>

/* Fails (never skips) when a file the command should have written is absent. */
#define ASSERT_FILE(path)                                                       \
    do {                                                                        \
        if (!sg_test_path_exists(path)) {                                       \
            print_error("expected %s to exist\n", (path));                     \
            fail();                                                             \
        }                                                                       \
    } while (0)

#define SPAN_START 16
#define SPAN_END 32

/* ------------------------------------------------------------------ */
/* Grad-CAM against autograd                                           */

static void test_gradcam_oracle(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    SG_REQUIRE_PYTHON("torch,torchvision,numpy");
    char *dir = sg_test_tmpdir();
    assert_int_equal(sg_oracle_run(dir, "gradcam"), 0);
    const int n = 3, h = 56, w = 72, classes[3] = {4, 0, 2};
    const int chans[2] = {3, 1};
    for (int k = 0; k < 2; k++) {
        int c = chans[k];
        char tag[64], path[4200], name[128];
        snprintf(tag, sizeof tag, "gradcam_c%d", c);
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, tag);
        sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = c, .n_classes = 5,
                              .device = sg_test_device(), .n_threads = 1};
        sg_model *m = NULL;
        assert_int_equal(sg_model_create(&m, &spec), 0);
        int rc = sg_weights_load(m, path, NULL);
        if (rc)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        assert_int_equal(sg_model_set_train(m, 0), 0);
        snprintf(name, sizeof name, "%s_x", tag);
        float *x = sg_oracle_read_f32(dir, name, (size_t)n * (size_t)c * h * w);
        assert_non_null(x);
        float *cam = malloc((size_t)n * h * w * sizeof *cam);
        assert_non_null(cam);
        const char *stages[2] = {"layer4", "layer3"};
        int nonzero = 0;
        for (int s = 0; s < 2; s++)
            for (int given = 0; given < 2; given++) {
                sg_stage st = s == 0 ? SG_STAGE_LAYER4 : SG_STAGE_LAYER3;
                rc = sg_model_gradcam(m, x, n, c, h, w, st, given ? classes : NULL, cam, NULL);
                if (rc)
                    print_error("%s\n", sg_last_error());
                assert_int_equal(rc, 0);
                snprintf(name, sizeof name, "%s_%s_%s", tag, stages[s], given ? "cls" : "pred");
                size_t cnt = (size_t)n * h * w;
                double *want = sg_oracle_read(dir, name, cnt);
                assert_non_null(want);
                /* each map against its own scale */
                for (int i = 0; i < n; i++) {
                    size_t hw = (size_t)h * w;
                    double scale = sg_max_abs(want + i * hw, hw), worst = 0.0;
                    for (size_t p = 0; p < hw; p++)
                        worst = fmax(worst, fabs(cam[i * hw + p] - want[i * hw + p]));
                    print_message("%s[%d]: max |diff| %.3g of max %.3g\n", name, i, worst,
                                  scale);
                    /* a map may be zero everywhere (ReLU of a negative sum) */
                    nonzero += scale > 0;
                    sg_assert_close(name, cam + i * hw, want + i * hw, hw,
                                    scale > 0 ? 1e-4 * scale : 1e-7, 0.0);
                }
                free(want);
            }
        assert_true(nonzero >= 8); /* of 12 maps: the comparison compared something */
        /* a class the model does not have, and a bad layer */
        int bad[3] = {0, 5, 0};
        assert_int_equal(sg_model_gradcam(m, x, n, c, h, w, SG_STAGE_LAYER4, bad, cam, NULL),
                         SG_E_TORCH);
        assert_int_equal(sg_model_gradcam(m, x, n, c, h, w, SG_STAGE_HEAD, NULL, cam, NULL),
                         SG_E_INVALID);
        free(cam);
        free(x);
        sg_model_free(m);
    }
    sg_test_rmtree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* The known-answer problem                                            */

/* n cases per class, in turn plateau, wave and none; seed picks the noise.
 * "none" is noise alone: without it a model may learn one class as "not
 * the other", and hiding the other's pattern then takes nothing from it. */
static void write_span_problem(const char *path, int n, uint64_t seed)
{
    sg_rng rng;
    sg_rng_seed(&rng, seed);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#synthetic: the class is in dim_3 over samples [16, 32) only\n"
          "@problemName Span\n@timeStamps false\n@missing false\n@univariate false\n"
          "@dimensions 6\n@equalLength true\n@seriesLength 64\n"
          "@classLabel true plateau wave none\n@data\n",
          f);
    static const char *const names[3] = {"plateau", "wave", "none"};
    for (int i = 0; i < 3 * n; i++) {
        int k = i % 3;
        for (int d = 0; d < 6; d++) {
            for (int t = 0; t < 64; t++) {
                double v = sg_rng_range(&rng, -1, 1);
                if (k < 2 && d == 3 && t >= SPAN_START && t < SPAN_END)
                    v += k == 1 ? ((t / 4) % 2 ? 3.0 : -3.0) : 3.0;
                fprintf(f, "%s%.5f", t ? "," : "", v);
            }
            fputc(':', f);
        }
        fprintf(f, "%s\n", names[k]);
    }
    assert_int_equal(fclose(f), 0);
}

typedef struct span_fixture {
    char *dir;
    char run[2][1100];  /* gray, gasf */
    int trained[2];
} span_fixture;

static const char *const span_encoders[2] = {"gray", "gasf"};

static int span_setup(void **state)
{
    span_fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = sg_test_tmpdir();
    *state = fx;
    return 0;
}

static int span_teardown(void **state)
{
    span_fixture *fx = *state;
    sg_test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Trains the problem with encoder e once (a minute at most on 2 cores). */
static const char *span_run(span_fixture *fx, int e)
{
    if (fx->trained[e])
        return fx->run[e];
    char train[1100], test[1100];
    snprintf(train, sizeof train, "%s/train.ts", fx->dir);
    snprintf(test, sizeof test, "%s/test.ts", fx->dir);
    if (!sg_test_path_exists(train)) {
        write_span_problem(train, 30, 1);
        write_span_problem(test, 4, 2);
    }
    snprintf(fx->run[e], sizeof fx->run[e], "%s/run_%s", fx->dir, span_encoders[e]);
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --single --arch resnet18 --encoder %s --image-size 32 "
                         "--epochs 10 --bs 16 --seed 3 -j 1 --no-progress --out '%s'",
                         train, span_encoders[e], fx->run[e]);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    fx->trained[e] = 1;
    return fx->run[e];
}

/* The first data row of FILE's rows for input (its rows are sorted, most
 * important first), split at commas into fields (at most 8). */
static int first_row_of(char *text, const char *input, char **fields, int max)
{
    size_t len = strlen(input);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, input, len) != 0 || line[len] != ',')
            continue;
        int n = 0;
        for (char *p = line; p && n < max; n++) {
            fields[n] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        return n;
    }
    return 0;
}

/* Every input of OUTDIR/channels.csv has one row per name in names[0..n)
 * (in any order: rows are sorted by importance), and nothing else. */
static void check_channel_rows(const char *out, const char *const *names, int n)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/channels.csv", out);
    char *text = sg_test_slurp(path);
    assert_non_null(text);
    char *save = NULL, current[256] = "";
    int inputs = 0, seen = 0;
    unsigned mask = 0;
    for (char *line = strtok_r(text, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
        char input[256] = "", ch[64] = "";
        if (line && strncmp(line, "input,", 6) == 0)
            continue;
        if (line)
            assert_int_equal(sscanf(line, "%255[^,],%63[^,],", input, ch), 2);
        if (!line || strcmp(input, current) != 0) {
            if (current[0] && (seen != n || mask != (1u << n) - 1)) {
                print_error("%s: %s has %d channel rows (mask %x), expected the %d names\n",
                            path, current, seen, mask, n);
                fail();
            }
            if (!line)
                break;
            snprintf(current, sizeof current, "%s", input);
            inputs++;
            seen = 0;
            mask = 0;
        }
        int k = 0;
        while (k < n && strcmp(ch, names[k]) != 0)
            k++;
        if (k == n) {
            print_error("%s: %s: channel '%s' is not a channel of the source\n", path, input, ch);
            fail();
        }
        seen++;
        mask |= 1u << k;
    }
    assert_true(inputs > 0);
    free(text);
}

static void check_known_answer(span_fixture *fx, int e)
{
    SG_REQUIRE_TORCH();
    const char *run = span_run(fx, e);
    char out[1200], test[1100], path[1300];
    snprintf(test, sizeof test, "%s/test.ts", fx->dir);
    snprintf(out, sizeof out, "%s/explain_%s", fx->dir, span_encoders[e]);
    char *log = NULL;
    int st = sg_test_run(&log, NULL, "explain '%s' '%s' --windows 4 -o '%s' -q", run, test, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/inputs.csv", out);
    char *inputs = sg_test_slurp(path);
    assert_non_null(inputs);
    int cases = 0, right = 0;
    char *save = NULL;
    for (char *line = strtok_r(inputs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char input[256], label[64], pred[64];
        if (strncmp(line, "input,", 6) == 0)
            continue;
        assert_int_equal(sscanf(line, "%255[^,],%63[^,],%63[^,],", input, label, pred), 3);
        cases++;
        if (strcmp(label, pred) != 0)
            continue;
        right++;
        if (strcmp(label, "none") == 0)
            continue; /* nothing to find: its answer is the absence of a pattern */
        char *fields[8];
        snprintf(path, sizeof path, "%s/channels.csv", out);
        char *channels = sg_test_slurp(path);
        assert_non_null(channels);
        assert_int_equal(first_row_of(channels, input, fields, 8), 3);
        if (strcmp(fields[1], "dim_3") != 0) {
            print_error("%s (%s): %s ranks %s first (%s), not dim_3\n", input, span_encoders[e],
                        label, fields[1], fields[2]);
            fail();
        }
        free(channels);
        snprintf(path, sizeof path, "%s/windows.csv", out);
        char *windows = sg_test_slurp(path);
        assert_non_null(windows);
        assert_int_equal(first_row_of(windows, input, fields, 8), 4);
        int start = atoi(fields[1]), end = atoi(fields[2]);
        print_message("%s (%s, %s): dim_3 first, top window [%d, %d) (%s)\n", input,
                      span_encoders[e], label, start, end, fields[3]);
        if (start < SPAN_START || end > SPAN_END) {
            print_error("%s (%s): the top window [%d, %d) is not inside [%d, %d)\n", input,
                        span_encoders[e], start, end, SPAN_START, SPAN_END);
            fail();
        }
        free(windows);
    }
    free(inputs);
    assert_int_equal(cases, 12);
    /* .ts names no channels: dim_0 .. dim_5, six rows per input */
    static const char *const dims[6] = {"dim_0", "dim_1", "dim_2", "dim_3", "dim_4", "dim_5"};
    check_channel_rows(out, dims, 6);
    /* the model must have learnt the problem for the answer to mean anything */
    if (right < 9) {
        print_error("%s: only %d of %d held-out cases right\n", span_encoders[e], right, cases);
        fail();
    }
    /* a figure per input */
    snprintf(path, sizeof path, "%s/figures/0000_test_0001.png", out);
    ASSERT_FILE(path);
}

static void test_known_answer_gray(void **state)
{
    check_known_answer(*state, 0);
}

static void test_known_answer_gasf(void **state)
{
    check_known_answer(*state, 1);
}

/* --summary: dim_3 matters most for both classes; the guard; errors. */
static void test_summary_and_guard(void **state)
{
    span_fixture *fx = *state;
    SG_REQUIRE_TORCH();
    const char *run = span_run(fx, 0);
    char out[1200], test[1100], path[1300];
    snprintf(test, sizeof test, "%s/test.ts", fx->dir);
    snprintf(out, sizeof out, "%s/summary", fx->dir);
    char *log = NULL;
    int st = sg_test_run(&log, NULL, "explain '%s' '%s' --summary -o '%s' -q", run, test, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/summary.png", out);
    ASSERT_FILE(path);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *csv = sg_test_slurp(path);
    assert_non_null(csv);
    /* per class, the largest mean importance is dim_3's */
    const char *classes[2] = {"plateau", "wave"};
    for (int k = 0; k < 2; k++) {
        char *copy = strdup(csv), *save = NULL, best[64] = "";
        double best_v = -1e9;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char cls[64], ch[64];
            double v;
            if (sscanf(line, "%63[^,],%63[^,],%lf", cls, ch, &v) == 3 &&
                strcmp(cls, classes[k]) == 0 && v > best_v) {
                best_v = v;
                snprintf(best, sizeof best, "%s", ch);
            }
        }
        free(copy);
        if (strcmp(best, "dim_3") != 0) {
            print_error("summary: %s's most important channel is %s, not dim_3\n%s\n",
                        classes[k], best, csv);
            fail();
        }
    }
    free(csv);
    /* no per-input figures with --summary */
    snprintf(path, sizeof path, "%s/figures/0000_test_0001.png", out);
    assert_false(sg_test_path_exists(path));

    /* the folder is not empty now: refused, then replaced with --overwrite */
    st = sg_test_run(&log, NULL, "explain '%s' '%s' -o '%s' -q", run, test, out);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "is not empty: give --overwrite");
    free(log);
    st = sg_test_run(&log, NULL, "explain '%s' '%s' -o '%s' -q --overwrite", run, test, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/summary.csv", out);
    assert_false(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/figures/0000_test_0001.png", out);
    ASSERT_FILE(path);

    /* one-line errors */
    st = sg_test_run(&log, NULL, "explain '%s' '%s'", run, test);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "sensorgram explain: -o OUTDIR is required\n");
    free(log);
    st = sg_test_run(&log, NULL, "explain '%s' '%s/none.ts' -o '%s/e2'", run, fx->dir, fx->dir);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "sensorgram explain: ");
    free(log);
    /* a failure leaves no OUTDIR, nor the parents it made ... */
    snprintf(path, sizeof path, "%s/e2", fx->dir);
    assert_false(sg_test_path_exists(path));
    st = sg_test_run(&log, NULL, "explain '%s' '%s/none.ts' -o '%s/e4/a/b/'", run, fx->dir,
                     fx->dir);
    SG_ASSERT_EXIT(st, 1, log);
    free(log);
    snprintf(path, sizeof path, "%s/e4", fx->dir);
    assert_false(sg_test_path_exists(path));
    /* ... an input of the wrong shape (read after OUTDIR is made) too ... */
    snprintf(path, sizeof path, "%s/wide.ts", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("@problemName W\n@timeStamps false\n@missing false\n@univariate true\n"
          "@dimensions 1\n@equalLength true\n@seriesLength 4\n"
          "@classLabel true plateau\n@data\n1,2,3,4:plateau\n",
          f);
    assert_int_equal(fclose(f), 0);
    st = sg_test_run(&log, NULL, "explain '%s' '%s' -o '%s/e5'", run, path, fx->dir);
    SG_ASSERT_EXIT(st, 1, log);
    SG_ASSERT_CONTAINS(log, "channels");
    free(log);
    snprintf(path, sizeof path, "%s/e5", fx->dir);
    assert_false(sg_test_path_exists(path));
    /* ... and a folder the user had stays, empty */
    assert_int_equal(mkdir(path, 0777), 0);
    st = sg_test_run(&log, NULL, "explain '%s' '%s/wide.ts' -o '%s'", run, fx->dir, path);
    SG_ASSERT_EXIT(st, 1, log);
    free(log);
    assert_true(sg_test_path_exists(path));
    int empty = 0;
    assert_int_equal(sg_dir_is_empty(path, &empty), 0);
    assert_true(empty);
    snprintf(path, sizeof path, "%s/e5/figures", fx->dir);
    assert_false(sg_test_path_exists(path));
    st = sg_test_run(&log, NULL, "explain '%s' '%s' --layer layer3 -o '%s/e3'", run, test,
                     fx->dir);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "--layer chooses Grad-CAM's layer");
    free(log);
}

/* A run trained on a CSV folder: channels.csv names the header's columns
 * (the ones trained on), and a new recording is explained window by window. */
static void test_csv_channel_names(void **state)
{
    span_fixture *fx = *state;
    SG_REQUIRE_TORCH();
    char data[1200], path[1400], run[1200], out[1200];
    snprintf(data, sizeof data, "%s/recordings", fx->dir);
    sg_rng rng;
    sg_rng_seed(&rng, 5);
    const char *classes[2] = {"still", "shake"};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++) {
            snprintf(path, sizeof path, "%s/%s", data, classes[k]);
            assert_int_equal(sg_mkdir_p(path), 0);
            snprintf(path, sizeof path, "%s/%s/r%d.csv", data, classes[k], i);
            FILE *f = fopen(path, "w");
            assert_non_null(f);
            fputs("time,acc_x,acc_y,acc_z\n", f);
            for (int t = 0; t < 64; t++)
                fprintf(f, "%d,%.4f,%.4f,%.4f\n", t,
                        sg_rng_range(&rng, -1, 1) + (k ? 3 * sin(t) : 0),
                        sg_rng_range(&rng, -1, 1), 9.8 + 0.1 * sg_rng_range(&rng, -1, 1));
            assert_int_equal(fclose(f), 0);
        }
    snprintf(run, sizeof run, "%s/csv_run", fx->dir);
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --columns acc_x,acc_y,acc_z --window 32 --single --arch "
                         "resnet18 --image-size 32 --epochs 1 --bs 4 --seed 1 -j 1 --valid-pct 0 "
                         "--no-progress --out '%s'",
                         data, run);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(out, sizeof out, "%s/csv_explain", fx->dir);
    st = sg_test_run(&log, NULL, "explain '%s' '%s/shake/r0.csv' '%s/still/r1.csv' -o '%s' -q",
                     run, data, data, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    static const char *const names[3] = {"acc_x", "acc_y", "acc_z"};
    check_channel_rows(out, names, 3);
    snprintf(path, sizeof path, "%s/inputs.csv", out);
    char *inputs = sg_test_slurp(path);
    assert_non_null(inputs);
    /* two windows of 32 rows per recording, labelled by their folders */
    SG_ASSERT_CONTAINS(inputs, "shake/r0.csv#w0002,shake,");
    SG_ASSERT_CONTAINS(inputs, "still/r1.csv#w0001,still,");
    free(inputs);
}

/* Photos: Grad-CAM's overlay, map and row per image. */
static void test_gradcam_photos(void **state)
{
    span_fixture *fx = *state;
    SG_REQUIRE_TORCH();
    char data[1200], path[1400], run[1200], out[1200];
    snprintf(data, sizeof data, "%s/photos", fx->dir);
    const char *classes[2] = {"left", "right"};
    sg_rng rng;
    sg_rng_seed(&rng, 4);
    const int H = 40, W = 48;
    float *img = malloc(3 * H * W * sizeof *img);
    assert_non_null(img);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", data, classes[k]);
        char cmd[1500];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
        assert_int_equal(system(cmd), 0);
        for (int i = 0; i < 6; i++) {
            /* a bright square on the class's side */
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        int in = y > 12 && y < 28 && (k ? x > 30 : x < 18);
                        img[(c * H + y) * W + x] =
                            (float)(0.2 * sg_rng_range(&rng, 0, 1) + (in ? 0.75 : 0.0));
                    }
            snprintf(path, sizeof path, "%s/%s/%d.png", data, classes[k], i);
            assert_int_equal(sg_png_write(path, img, 3, H, W, 8), 0);
        }
    }
    free(img);
    snprintf(run, sizeof run, "%s/photo_run", fx->dir);
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --single --arch resnet18 --image-size 32 --epochs 1 --bs 4 --seed 1 -j 1 "
                         "--pretrained none --no-progress --out '%s'",
                         data, run);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(out, sizeof out, "%s/photo_explain", fx->dir);
    st = sg_test_run(&log, NULL, "explain '%s' '%s/left/0.png' '%s/right/1.png' -o '%s' -q", run,
                     data, data, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/gradcam.csv", out);
    char *csv = sg_test_slurp(path);
    assert_non_null(csv);
    SG_ASSERT_CONTAINS(csv, "input,label,pred,prob,map\n");
    SG_ASSERT_CONTAINS(csv, "gradcam/0000_photos_left_0.png\n");
    free(csv);
    snprintf(path, sizeof path, "%s/gradcam/0001_photos_right_1.png", out);
    ASSERT_FILE(path);
    snprintf(path, sizeof path, "%s/gradcam/0001_photos_right_1.npy", out);
    ASSERT_FILE(path);
    /* --summary is for sensor recordings */
    st = sg_test_run(&log, NULL, "explain '%s' '%s' --summary -o '%s/s'", run, data, fx->dir);
    SG_ASSERT_EXIT(st, 2, log);
    SG_ASSERT_CONTAINS(log, "--summary ranks the channels of sensor recordings");
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcam_oracle),
        cmocka_unit_test(test_known_answer_gray),
        cmocka_unit_test(test_known_answer_gasf),
        cmocka_unit_test(test_summary_and_guard),
        cmocka_unit_test(test_csv_channel_names),
        cmocka_unit_test(test_gradcam_photos),
    };
    /* SG_TEST_FILTER=test_gradcam_oracle runs one (cmocka's pattern) */
    const char *only = getenv("SG_TEST_FILTER");
    if (only && *only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests(tests, span_setup, span_teardown);
}
