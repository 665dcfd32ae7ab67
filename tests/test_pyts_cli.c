/* test_pyts_cli.c - pyts conformance on the path users take: every case of
 * SHARED/testvectors/encoders and encoders-static written to files and run
 * through the `sensorgram encode` binary (SG_BIN) with --format npy, once
 * as generic CSV (the series as one column, x,y,z columns for jrp) and
 * once as a DSA tree (the series in the LA accelerometer columns), values
 * written with 17 significant digits; images held to sg_cases.h's rule.
 * Cases with equal parameters share one run per path.
 *
 * And the in-memory training path (`train --dataset dsa --encoder ...`,
 * parsed by the same cli_parse, loaded by job_data_load, encoded by
 * sample_source_read) against `encode` with the same options: the same
 * images after the documented [0, 1] mapping.
 */
#include "tests/sg_cases.h"
#include "tests/sg_run.h"

#include "src/base/npy.h"
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/train/job_data.h"

/* The DSA columns the cases go into: LA accelerometer x, y, z. */
#define LA_ACC_X 18

static void mkdirs(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
}

/* Writes case c as one CSV file (a header, one column per channel). */
static void write_case_csv(const char *path, const sg_case *c)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int k = 0; k < c->in.rows; k++)
        fprintf(f, "%s%c", (const char *[]){"x", "y", "z"}[k % 3], k + 1 < c->in.rows ? ',' : '\n');
    for (int t = 0; t < c->in.cols; t++)
        for (int k = 0; k < c->in.rows; k++)
            fprintf(f, "%.17g%c", c->in.v[(size_t)k * c->in.cols + t],
                    k + 1 < c->in.rows ? ',' : '\n');
    assert_int_equal(fclose(f), 0);
}

/* Writes a DSA segment file (125 rows x 45 columns): x (C, 125) in the
 * columns from LA_ACC_X on, a slow sine of the row elsewhere. */
static void write_dsa_segment(const char *path, const double *x, int C)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int t = 0; t < DSA_N_ROWS; t++)
        for (int k = 0; k < DSA_N_COLUMNS; k++) {
            int c = k - LA_ACC_X;
            if (c >= 0 && c < C)
                fprintf(f, "%.17g", x[(size_t)c * DSA_N_ROWS + t]);
            else
                fprintf(f, "%.4f", sin(0.05 * t + k));
            fputc(k + 1 < DSA_N_COLUMNS ? ',' : '\n', f);
        }
    assert_int_equal(fclose(f), 0);
}

/* The manifest row of subject/segment in OUT/manifest.csv: its path. */
static int manifest_path(char *out, size_t n, const char *manifest, int subject, int segment)
{
    const char *s = manifest;
    while (s && *s) {
        const char *eol = strchr(s, '\n');
        char line[2048];
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, s, len);
        line[len] = '\0';
        char *f[5] = {0};
        char *save = NULL, *tok = strtok_r(line, ",", &save);
        for (int i = 0; i < 5 && tok; i++, tok = strtok_r(NULL, ",", &save))
            f[i] = tok;
        if (f[3] && atoi(f[2]) == subject && atoi(f[3]) == segment) {
            snprintf(out, n, "%s", f[0]);
            return 0;
        }
        s = eol ? eol + 1 : NULL;
    }
    return -1;
}

/* Reads an npy image written by encode and compares it with case c;
 * 1 on a match. */
static int compare_npy(const sg_case *c, const char *what, const char *path)
{
    float *img = NULL;
    int ndim = 0;
    size_t shape[8];
    if (sg_npy_read(path, &img, &ndim, shape) != 0) {
        print_error("%s [%s]: cannot read %s: %s\n", c->name, what, path, sg_last_error());
        return 0;
    }
    int ok = ndim == 3 && shape[0] == 1;
    if (!ok)
        print_error("%s [%s]: %s has %d dims (first %zu), expected (1, H, W)\n", c->name, what,
                    path, ndim, ndim ? shape[0] : 0);
    else
        ok = sg_case_compare(c, what, img, (int)shape[1], (int)shape[2]);
    free(img);
    return ok;
}

/* Runs one group of cases with equal params (idx[0..n) into cases)
 * through both reader paths; adds the matches to *ok_csv and *ok_dsa. */
static void run_group(const char *tmp, int g, const sg_case *cases, const int *idx, int n,
                      int *ok_csv, int *ok_dsa)
{
    const sg_case *first = &cases[idx[0]];
    char args[512], dir[1024], path[1400], out[1100];
    assert_true(sg_case_cli_args(args, sizeof args, first->params_text) > 0);
    int C = first->in.rows;

    /* generic CSV: TMP/gG/csv/lab/NAME.csv -> TMP/gG/csv-out/lab/NAME.npy */
    snprintf(dir, sizeof dir, "%s/g%d/csv/lab", tmp, g);
    mkdirs(dir);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s.csv", dir, cases[idx[i]].name);
        write_case_csv(path, &cases[idx[i]]);
    }
    snprintf(out, sizeof out, "%s/g%d/csv-out", tmp, g);
    char *log = NULL;
    int st = sg_test_run(&log, NULL, "encode --dataset csv %s --format npy -j 2 -q -o '%s' '%s/g%d/csv'",
                         args, out, tmp, g);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/lab/%s.npy", out, cases[idx[i]].name);
        *ok_csv += compare_npy(&cases[idx[i]], "cli csv", path);
    }

    /* DSA layout: case i is a01/p(1 + i/60)/s(1 + i%60) */
    int dsa_ok = first->in.cols == DSA_N_ROWS;
    for (int i = 0; i < n; i++)
        dsa_ok &= cases[idx[i]].in.cols == DSA_N_ROWS && cases[idx[i]].in.rows == C;
    if (!dsa_ok) {
        print_error("%s: series of %d samples cannot be a DSA segment (%d rows)\n", first->name,
                    first->in.cols, DSA_N_ROWS);
        return;
    }
    for (int i = 0; i < n; i++) {
        snprintf(dir, sizeof dir, "%s/g%d/dsa/a01/p%d", tmp, g, 1 + i / 60);
        mkdirs(dir);
        snprintf(path, sizeof path, "%s/s%02d.txt", dir, 1 + i % 60);
        write_dsa_segment(path, cases[idx[i]].in.v, C);
    }
    snprintf(out, sizeof out, "%s/g%d/dsa-out", tmp, g);
    st = sg_test_run(&log, NULL,
                     "encode --dataset dsa --units LA --sensors acc --axes %s %s --format npy "
                     "-j 2 -q -o '%s' '%s/g%d/dsa'",
                     C == 3 ? "x,y,z" : "x", args, out, tmp, g);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    snprintf(path, sizeof path, "%s/manifest.csv", out);
    char *manifest = sg_test_slurp(path);
    assert_non_null(manifest);
    for (int i = 0; i < n; i++) {
        char rel[512];
        if (manifest_path(rel, sizeof rel, manifest, 1 + i / 60, 1 + i % 60) != 0) {
            print_error("%s [cli dsa]: p%d/s%02d not in %s\n", cases[idx[i]].name, 1 + i / 60,
                        1 + i % 60, path);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", out, rel);
        *ok_dsa += compare_npy(&cases[idx[i]], "cli dsa", path);
    }
    free(manifest);
}

static void run_set_cli(const char *set, int expected)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/testvectors/%s", sg_test_shared(), set);
    SG_REQUIRE_PATH(dir);
    char *names[SG_CASES_MAX];
    int n = sg_cases_list(names, dir);
    sg_case *cases = calloc((size_t)(n ? n : 1), sizeof *cases);
    int *group = malloc(sizeof(int) * (size_t)(n ? n : 1));
    int *idx = malloc(sizeof(int) * (size_t)(n ? n : 1));
    assert_non_null(cases);
    assert_non_null(group);
    assert_non_null(idx);
    int n_groups = 0;
    for (int i = 0; i < n; i++) {
        sg_case_read(&cases[i], dir, names[i]);
        free(names[i]);
        group[i] = -1;
        for (int j = 0; j < i && group[i] < 0; j++)
            if (strcmp(cases[j].params_text, cases[i].params_text) == 0 &&
                cases[j].in.rows == cases[i].in.rows)
                group[i] = group[j];
        if (group[i] < 0)
            group[i] = n_groups++;
    }
    char *tmp = sg_test_tmpdir();
    int ok_csv = 0, ok_dsa = 0;
    for (int g = 0; g < n_groups; g++) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (group[i] == g)
                idx[k++] = i;
        run_group(tmp, g, cases, idx, k, &ok_csv, &ok_dsa);
    }
    sg_test_rmtree(tmp);
    free(tmp);
    for (int i = 0; i < n; i++)
        sg_case_free(&cases[i]);
    free(cases);
    free(group);
    free(idx);
    print_message("pyts conformance through `encode` (%s): csv %d of %d, dsa %d of %d cases match "
                  "(%d expected, %d runs per path)\n",
                  set, ok_csv, n, ok_dsa, n, expected, n_groups);
    assert_int_equal(n, expected);
    assert_int_equal(ok_csv, n);
    assert_int_equal(ok_dsa, n);
}

static void test_cli_conformance(void **state)
{
    (void)state;
    run_set_cli("encoders", SG_CASES_ENCODERS);
}

static void test_cli_conformance_static(void **state)
{
    (void)state;
    run_set_cli("encoders-static", SG_CASES_STATIC);
}

/* ---- training's in-memory images against encode's ---------------------- */

/* A DSA tree of 2 activities x 2 subjects x 2 segments whose LA acc
 * columns are posture series from encoders-static (near-constant axes:
 * the hard case for the rescale), shifted per segment. */
static int write_posture_tree(const char *root)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/testvectors/encoders-static", sg_test_shared());
    char *names[SG_CASES_MAX];
    int n = sg_cases_list(names, dir);
    int used = 0;
    double x[3 * DSA_N_ROWS];
    for (int i = 0; i < n; i++) {
        if (used < 8 && strncmp(names[i], "jrp_", 4) == 0) {
            sg_case c;
            sg_case_read(&c, dir, names[i]);
            assert_int_equal(c.in.rows, 3);
            assert_int_equal(c.in.cols, DSA_N_ROWS);
            for (int k = used; k < 8; k++) {
                int a = k & 1 ? 9 : 1, s = 1 + ((k >> 1) & 1), seg = 1 + (k >> 2);
                for (size_t j = 0; j < 3 * DSA_N_ROWS; j++)
                    x[j] = c.in.v[(j + (size_t)k * 7) % (3 * DSA_N_ROWS)];
                char path[1200];
                snprintf(path, sizeof path, "%s/a%02d/p%d", root, a, s);
                mkdirs(path);
                snprintf(path, sizeof path, "%s/a%02d/p%d/s%02d.txt", root, a, s, seg);
                write_dsa_segment(path, x, 3);
            }
            used = 8;
            sg_case_free(&c);
        }
        free(names[i]);
    }
    return used == 8 ? 0 : -1;
}

/* Encodes the tree with `encode` (encode_opts) and with the training path
 * (train_opts: the same encoder, where the encoder's size is --enc-size
 * because train's --image-size is the model's); every image must agree
 * to 1e-6 (thresholded ones exactly) after encode's raw floats are mapped
 * to [0, 1] through enc_value_range, as documented for training. */
static void check_train_matches_encode(const char *tmp, const char *root, const char *encode_opts,
                                       const char *train_opts)
{
    static int run;
    char out[1100];
    snprintf(out, sizeof out, "%s/enc-%d", tmp, run++);
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "encode --dataset dsa --units LA --sensors acc %s --format npy -q "
                         "-o '%s' '%s'",
                         encode_opts, out, root);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);

    /* the training command's own parser and loader, argv as a user types it */
    char line[1400];
    snprintf(line, sizeof line, "train --dataset dsa --units LA --sensors acc %s -j 1 %s",
             train_opts, root);
    char *argv[64];
    int argc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok && argc < 63;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, "");
    if (rc)
        fail_msg("cli_parse %s: %s", train_opts, sg_last_error());
    assert_int_equal(o.n_args, 1);
    job_data d;
    rc = job_data_load(&d, &o, o.args[0], 1);
    if (rc)
        fail_msg("job_data_load %s: %s", train_opts, sg_last_error());
    assert_int_equal(d.src.n, 8);
    /* 3 channels: training keeps them as the image's 3 channels, as encode's npy does */
    assert_int_equal(d.src.enc.layout, ENC_LAYOUT_CHANNELS);
    double lo, hi;
    int bounded;
    enc_value_range(&d.src.enc, &lo, &hi, &bounded);
    assert_true(bounded);
    int thresholded = d.src.enc.kind == ENC_RP || d.src.enc.kind == ENC_JRP;
    for (size_t i = 0; i < d.src.n; i++) {
        sg_image img;
        rc = sample_source_read(&d.src, i, &img);
        if (rc)
            fail_msg("sample %zu: %s", i, sg_last_error());
        const sg_series_set *s = &d.src.series;
        char path[1800];
        snprintf(path, sizeof path, "%s/%s/%s.npy", out, s->class_names[s->label[i]], s->name[i]);
        float *enc = NULL;
        int ndim;
        size_t shape[8];
        if (sg_npy_read(path, &enc, &ndim, shape) != 0)
            fail_msg("%s: %s", path, sg_last_error());
        assert_int_equal(ndim, 3);
        assert_int_equal((int)shape[0], img.c);
        assert_int_equal((int)shape[1], img.h);
        assert_int_equal((int)shape[2], img.w);
        size_t np = sg_image_numel(&img);
        double *want = malloc(np * sizeof *want);
        assert_non_null(want);
        for (size_t k = 0; k < np; k++)
            want[k] = ((double)enc[k] - lo) / (hi - lo);
        sg_assert_close(s->name[i], img.data, want, np, thresholded ? 0 : 1e-6, 0);
        free(want);
        free(enc);
        sg_image_free(&img);
    }
    job_data_free(&d);
}

static void test_train_path_matches_encode(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/testvectors/encoders-static", sg_test_shared());
    SG_REQUIRE_PATH(dir);
    char *tmp = sg_test_tmpdir();
    char root[1100];
    snprintf(root, sizeof root, "%s/dsa", tmp);
    assert_int_equal(write_posture_tree(root), 0);
    check_train_matches_encode(tmp, root, "--encoder gasf --enc-size 64",
                               "--encoder gasf --enc-size 64");
    check_train_matches_encode(tmp, root, "--encoder gadf", "--encoder gadf");
    check_train_matches_encode(tmp, root, "--encoder rp --threshold point --percentage 10",
                               "--encoder rp --threshold point --percentage 10");
    check_train_matches_encode(tmp, root, "--encoder mtf --n-bins 5 --enc-size 40",
                               "--encoder mtf --n-bins 5 --enc-size 40");
    sg_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_conformance),
        cmocka_unit_test(test_cli_conformance_static),
        cmocka_unit_test(test_train_path_matches_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
