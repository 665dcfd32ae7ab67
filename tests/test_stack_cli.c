/* test_stack_cli.c - `encode --format npy --stack` and .npy inputs end to
 * end through the binary (SG_BIN): X.npy's header, shape and rows against
 * the per-image npy files of the same run, manifest.csv / y.csv /
 * encoding.json, numpy's mmap load, the rows closed up after skipped
 * inputs, no temporaries left, the usage error; then training (one tiny
 * epoch) on a stacked folder and on a per-image .npy folder, eval and
 * predict on them, and the training images of a stacked folder against
 * the in-memory encoding of the same segments. */
#include "tests/sg_run.h"

#include "src/base/npy.h"
#include "src/base/npy_stack.h"
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/train/job_data.h"

#define N_SEG 16   /* 2 activities x 2 subjects x 4 segments */

struct fixture {
    char *dir;
    char root[600];
};

static void write_segment(const char *root, int a, int s, int seg, const char *bad)
{
    char path[700];
    snprintf(path, sizeof path, "mkdir -p '%s/a%02d/p%d'", root, a, s);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/a%02d/p%d/s%02d.txt", root, a, s, seg);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int t = 0; t < 125; t++)
        for (int k = 0; k < 45; k++) {
            if (bad && t == 3 && k == 0)
                fputs(bad, f);
            else
                fprintf(f, "%.4f", 9.8 + sin(0.05 * t * (k % 7 + 1) + a + 0.3 * s + 0.1 * seg));
            fputc(k + 1 < 45 ? ',' : '\n', f);
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
                write_segment(fx->root, a, s, seg, NULL);
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

#define ENC "--dataset dsa --units LA --sensors acc --encoder gasf --enc-size 8 -q"

static void encode_ok(const char *args)
{
    char *log = NULL;
    int rc = sg_test_run(&log, NULL, "encode %s", args);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void assert_no_temp_files(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '.*.tmp*')\"", dir);
    if (system(cmd) != 0)
        fail_msg("temporary files left under %s", dir);
}

/* Line k (1-based, after the header) of a CSV text, copied into buf. */
static const char *csv_line(char *buf, size_t n, const char *text, int k)
{
    const char *s = text;
    for (int i = 0; i < k && s; i++) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    assert_non_null(s);
    const char *e = strchr(s, '\n');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    snprintf(buf, n, "%.*s", (int)len, s);
    return buf;
}

/* Every row of DIR/X.npy equals the per-image file that the manifest of
 * PER (same options, without --stack) lists for the same source. */
static void check_rows_match(const char *dir, const char *per, int expect_n)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/X.npy", dir);
    float *x = NULL;
    int ndim = 0;
    size_t shape[8];
    if (sg_npy_read(path, &x, &ndim, shape) != 0)
        fail_msg("%s: %s", path, sg_last_error());
    assert_int_equal(ndim, 4);
    assert_int_equal((int)shape[0], expect_n);
    assert_int_equal((int)shape[1], 3);
    assert_int_equal((int)shape[2], 8);
    assert_int_equal((int)shape[3], 8);
    /* data starts at byte 128 (64-aligned, what mmap users need) */
    FILE *f = fopen(path, "rb");
    unsigned char head[10];
    assert_int_equal(fread(head, 1, 10, f), 10);
    fclose(f);
    assert_int_equal(10 + (head[8] | head[9] << 8), SG_NPY_STACK_HEADER);

    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    char *man = sg_test_slurp(path);
    snprintf(path, sizeof path, "%s/y.csv", dir);
    char *y = sg_test_slurp(path);
    snprintf(path, sizeof path, "%s/manifest.csv", per);
    char *per_man = sg_test_slurp(path);
    assert_non_null(man);
    assert_non_null(y);
    assert_non_null(per_man);
    char line[1024];
    assert_string_equal(csv_line(line, sizeof line, man, 0), "index,label,subject,segment,source");
    assert_string_equal(csv_line(line, sizeof line, y, 0), "index,y,label");
    assert_int_equal(count_lines(man), expect_n + 1);
    assert_int_equal(count_lines(y), expect_n + 1);
    assert_int_equal(count_lines(per_man), expect_n + 1);
    size_t row = 3 * 8 * 8;
    for (int i = 0; i < expect_n; i++) {
        /* index,label,subject,segment,source: the same order as the per-image run */
        char want[1024], other[1024], label[128];
        csv_line(want, sizeof want, man, i + 1);
        csv_line(other, sizeof other, per_man, i + 1);
        int idx = -1;
        assert_int_equal(sscanf(want, "%d,%127[^,]", &idx, label), 2);
        assert_int_equal(idx, i);
        char *src = strrchr(want, ','), *osrc = strrchr(other, ',');
        assert_string_equal(src, osrc);
        char ly[128];
        int yi = -1, yidx = -1;
        assert_int_equal(sscanf(csv_line(line, sizeof line, y, i + 1), "%d,%d,%127s", &yidx, &yi,
                                ly), 3);
        assert_int_equal(yidx, i);
        assert_string_equal(ly, label);
        assert_int_equal(yi, strcmp(label, "sitting") == 0 ? 0 : 1);
        char *comma = strchr(other, ',');
        *comma = '\0';
        snprintf(path, sizeof path, "%s/%s", per, other);
        float *img = NULL;
        int nd;
        size_t sh[8];
        if (sg_npy_read(path, &img, &nd, sh) != 0)
            fail_msg("%s: %s", path, sg_last_error());
        assert_int_equal(nd, 3);
        assert_memory_equal(x + (size_t)i * row, img, row * sizeof(float));
        free(img);
    }
    free(man);
    free(y);
    free(per_man);
    free(x);
    assert_no_temp_files(dir);
}

static void test_stack_layout(void **state)
{
    struct fixture *fx = *state;
    char args[2048];
    snprintf(args, sizeof args, ENC " --format npy --stack -o '%s/stack' '%s'", fx->dir, fx->root);
    encode_ok(args);
    snprintf(args, sizeof args, ENC " --format npy -o '%s/npy' '%s'", fx->dir, fx->root);
    encode_ok(args);
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/stack", fx->dir);
    snprintf(b, sizeof b, "%s/npy", fx->dir);
    check_rows_match(a, b, N_SEG);
    /* encoding.json: gasf's value range, for the readers' [0, 1] map */
    snprintf(a, sizeof a, "%s/stack/encoding.json", fx->dir);
    char *enc = sg_test_slurp(a);
    SG_ASSERT_CONTAINS(enc, "\"format\": \"stack\"");
    SG_ASSERT_CONTAINS(enc, "\"bounded\": true");
    free(enc);
    /* numpy maps it in one call (docs/encoding.md's recipe), when numpy is there */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -c 'import numpy' 2>/dev/null", sg_test_python());
    if (system(cmd) != 0) {
        print_message("numpy not found (%s): mmap load not checked\n", sg_test_python());
        return;
    }
    snprintf(cmd, sizeof cmd,
             "%s -c \"import numpy as np; X = np.load('%s/stack/X.npy', mmap_mode='r'); "
             "assert isinstance(X, np.memmap) and X.dtype == np.float32, X.dtype; "
             "assert X.shape == (%d, 3, 8, 8) and X.flags['C_CONTIGUOUS'], X.shape; "
             "y = np.loadtxt('%s/stack/y.csv', delimiter=',', skiprows=1, usecols=1); "
             "assert y.shape == (%d,) and set(y) == {0, 1}; "
             "assert X.min() >= -1 and X.max() <= 1\"",
             sg_test_python(), fx->dir, N_SEG, fx->dir, N_SEG);
    assert_int_equal(system(cmd), 0);
}

/* A stacked folder is an earlier run like any other: refused without
 * --overwrite (nothing touched), replaced with it (its manifest has no
 * path column: X.npy and y.csv are what it lists); --shard cannot stack. */
static void test_stack_rerun_and_overwrite(void **state)
{
    struct fixture *fx = *state;
    char args[2048], *log = NULL;
    snprintf(args, sizeof args, ENC " --format npy --stack -o '%s/stack' '%s'", fx->dir, fx->root);
    encode_ok(args);
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "cp '%s/stack/X.npy' '%s/X.before'", fx->dir, fx->dir);
    assert_int_equal(system(cmd), 0);
    int rc = sg_test_run(&log, NULL, "encode %s", args);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--overwrite");
    free(log);
    /* header and rows: nothing touched */
    snprintf(cmd, sizeof cmd, "cmp -s '%s/stack/X.npy' '%s/X.before'", fx->dir, fx->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, ENC " --format npy --stack --overwrite -o '%s/stack' '%s'",
             fx->dir, fx->root);
    encode_ok(args);
    char a[1200], b[1200];
    snprintf(args, sizeof args, ENC " --format npy -o '%s/npy' '%s'", fx->dir, fx->root);
    encode_ok(args);
    snprintf(a, sizeof a, "%s/stack", fx->dir);
    snprintf(b, sizeof b, "%s/npy", fx->dir);
    check_rows_match(a, b, N_SEG);
    snprintf(args, sizeof args, ENC " --format npy --stack --shard 0/2 -o '%s/shard' '%s'",
             fx->dir, fx->root);
    rc = sg_test_run(&log, NULL, "encode %s", args);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--stack and --shard exclude each other");
    free(log);
}

static void test_stack_skip_closes_rows(void **state)
{
    struct fixture *fx = *state;
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad", fx->dir);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", fx->root, bad);
    assert_int_equal(system(cmd), 0);
    write_segment(bad, 1, 2, 2, "oops");   /* 7th of 16 in load order */
    char args[2048], *log = NULL;
    snprintf(args, sizeof args, ENC " --format npy --stack --on-error skip -o '%s/skip' '%s'",
             fx->dir, bad);
    int rc = sg_test_run(&log, NULL, "encode %s", args);
    SG_ASSERT_EXIT(rc, 0, log);
    SG_ASSERT_CONTAINS(log, "skipped 1 input");
    SG_ASSERT_CONTAINS(log, "s02.txt:4:1: expected a number, got 'oops'");
    free(log);
    snprintf(args, sizeof args, ENC " --format npy --on-error skip -o '%s/skip-npy' '%s'", fx->dir,
             bad);
    rc = sg_test_run(&log, NULL, "encode %s", args);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
    char a[1200], b[1200];
    snprintf(a, sizeof a, "%s/skip", fx->dir);
    snprintf(b, sizeof b, "%s/skip-npy", fx->dir);
    check_rows_match(a, b, N_SEG - 1);

    /* failing (no skip): no X.npy, no manifest, no temporaries */
    snprintf(args, sizeof args, ENC " --format npy --stack -o '%s/fail' '%s'", fx->dir, bad);
    rc = sg_test_run(&log, NULL, "encode %s", args);
    SG_ASSERT_EXIT(rc, 1, log);
    free(log);
    snprintf(a, sizeof a, "%s/fail/X.npy", fx->dir);
    assert_int_not_equal(access(a, F_OK), 0);
    snprintf(a, sizeof a, "%s/fail/manifest.csv", fx->dir);
    assert_int_not_equal(access(a, F_OK), 0);
    snprintf(a, sizeof a, "%s/fail", fx->dir);
    assert_no_temp_files(a);

    /* --stack is npy only: a usage error */
    rc = sg_test_run(&log, NULL, "encode " ENC " --stack -o '%s/png' '%s'", fx->dir, fx->root);
    SG_ASSERT_EXIT(rc, 2, log);
    SG_ASSERT_CONTAINS(log, "--stack writes one float32 X.npy: it needs --format npy");
    free(log);
}

#define TRAIN "--arch resnet18 --image-size 8 --bs 4 --epochs 1 -j 1 --threads 1 " \
              "--device cpu --valid-pct 0.25 --pretrained none --no-progress"

static void train_ok(const char *data, const char *run)
{
    char *log = NULL;
    int rc = sg_test_run(&log, NULL, "train '%s' " TRAIN " --out '%s'", data, run);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
    char path[1200];
    snprintf(path, sizeof path, "%s/last.safetensors", run);
    assert_int_equal(access(path, R_OK), 0);
}

static void test_train_eval_predict_on_npy(void **state)
{
    struct fixture *fx = *state;
    char args[2048], stack[700], npy[700], run[700], out[800], *log = NULL;
    snprintf(stack, sizeof stack, "%s/t-stack", fx->dir);
    snprintf(npy, sizeof npy, "%s/t-npy", fx->dir);
    snprintf(args, sizeof args, ENC " --format npy --stack -o '%s' '%s'", stack, fx->root);
    encode_ok(args);
    snprintf(args, sizeof args, ENC " --format npy -o '%s' '%s'", npy, fx->root);
    encode_ok(args);

    snprintf(run, sizeof run, "%s/run-stack", fx->dir);
    train_ok(stack, run);
    snprintf(out, sizeof out, "%s/eval-stack", fx->dir);
    int rc = sg_test_run(&log, NULL, "eval '%s/last.safetensors' '%s' -o '%s' --device cpu", run,
                         stack, out);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
    /* predictions name stacked samples by their row */
    char path[1200];
    snprintf(path, sizeof path, "%s/predictions.csv", out);
    char *pred = sg_test_slurp(path);
    SG_ASSERT_CONTAINS(pred, "X.npy[15]");
    free(pred);

    snprintf(run, sizeof run, "%s/run-npy", fx->dir);
    train_ok(npy, run);
    rc = sg_test_run(&log, NULL,
                     "predict '%s/last.safetensors' '%s/sitting/a01_p1_s01.npy' -o '%s/p.csv' "
                     "--device cpu",
                     run, npy, fx->dir);
    SG_ASSERT_EXIT(rc, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/p.csv", fx->dir);
    pred = sg_test_slurp(path);
    SG_ASSERT_CONTAINS(pred, "a01_p1_s01.npy");
    assert_int_equal(count_lines(pred), 2);
    free(pred);
}

/* The training images of a stacked folder are the in-memory ones. */
static void test_stack_images_match_in_memory(void **state)
{
    struct fixture *fx = *state;
    char stack[700], args[2048];
    snprintf(stack, sizeof stack, "%s/m-stack", fx->dir);
    snprintf(args, sizeof args, ENC " --format npy --stack -o '%s' '%s'", stack, fx->root);
    encode_ok(args);
    char l1[1400], l2[1400];
    snprintf(l1, sizeof l1, "train %s", stack);
    snprintf(l2, sizeof l2,
             "train --dataset dsa --units LA --sensors acc --encoder gasf --enc-size 8 %s",
             fx->root);
    char *lines[2] = {l1, l2};
    job_data d[2];
    for (int k = 0; k < 2; k++) {
        char *argv[32], *save = NULL;
        int argc = 0;
        for (char *t = strtok_r(lines[k], " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
            argv[argc++] = t;
        argv[argc] = NULL;
        job_opts o;
        assert_int_equal(cli_parse(&o, NULL, argc, argv, ""), 0);
        if (job_data_load(&d[k], &o, o.args[0], 1) != 0)
            fail_msg("%s: %s", lines[k], sg_last_error());
    }
    assert_int_equal(d[0].src.n, N_SEG);
    assert_int_equal(d[1].src.n, N_SEG);
    for (size_t i = 0; i < N_SEG; i++) {
        sg_image a, b;
        assert_int_equal(sample_source_read(&d[0].src, i, &a), 0);
        assert_int_equal(sample_source_read(&d[1].src, i, &b), 0);
        assert_int_equal(a.c, b.c);
        assert_int_equal(a.h, b.h);
        assert_int_equal(a.w, b.w);
        assert_int_equal(d[0].src.label[i] >= 0, 1);
        assert_string_equal(d[0].src.class_names[d[0].src.label[i]],
                            d[1].src.class_names[d[1].src.label[i]]);
        size_t n = sg_image_numel(&a);
        double *want = malloc(n * sizeof *want);
        assert_non_null(want);
        for (size_t k = 0; k < n; k++)
            want[k] = b.data[k];
        sg_assert_close(d[0].src.name[i], a.data, want, n, 1e-6, 0);
        /* and they are in [0, 1], not gasf's raw [-1, 1] */
        for (size_t k = 0; k < n; k++)
            assert_true(a.data[k] >= 0.0f && a.data[k] <= 1.0f);
        free(want);
        sg_image_free(&a);
        sg_image_free(&b);
    }
    job_data_free(&d[0]);
    job_data_free(&d[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stack_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_rerun_and_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_skip_closes_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_images_match_in_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_train_eval_predict_on_npy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
