/* test_encode_cli.c - `sensorgram encode` end to end through the built
 * binary (SG_BIN): files and manifest, PNG pixels against the npy floats
 * (read back with libpng here), numpy-loadable npy, exit codes, one-line
 * FILE:LINE:COL errors, no manifest or temp files after a failure,
 * --on-error skip listing, fits saved and reused, CSV windows. */
#include "tests/sg_test.h"

#include "src/base/npy.h"

#include <math.h>
#include <png.h>
#include <sys/wait.h>

/* Runs the binary with args (a shell fragment); stdout+stderr go to
 * dir/log.txt, whose text is returned in log (caller frees). */
static int run_cli(const char *dir, const char *args, char **log)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s encode %s >'%s/log.txt' 2>&1", sg_test_bin(), args, dir);
    int st = system(cmd);
    assert_true(st != -1 && WIFEXITED(st));
    char path[600];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    *log = buf;
    return WEXITSTATUS(st);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Writes a segment file; with bad_field, that text replaces field 3 of
 * line 3 and the function returns its 1-based column. */
static int write_segment(const char *root, int a, int s, int seg, const char *bad_field)
{
    int bad_col = 0;
    long line_start = 0;
    char path[600];
    snprintf(path, sizeof path, "%s/a%02d/p%d", root, a, s);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/a%02d/p%d/s%02d.txt", root, a, s, seg);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int t = 0; t < 125; t++)
        for (int k = 0; k < 45; k++) {
            if (k == 0)
                line_start = ftell(f);
            if (bad_field && t == 2 && k == 2) {
                bad_col = (int)(ftell(f) - line_start) + 1;
                fputs(bad_field, f);
            }
            else
                fprintf(f, "%.5f", sin(0.07 * t * (k % 5 + 1) + a + 0.3 * s + 0.1 * seg));
            fputc(k + 1 < 45 ? ',' : '\n', f);
        }
    assert_int_equal(fclose(f), 0);
    return bad_col;
}

struct fixture {
    char *dir;
    char root[600];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->dir = sg_test_tmpdir();
    snprintf(fx->root, sizeof fx->root, "%s/dsa", fx->dir);
    for (int a = 1; a <= 9; a += 8)
        for (int s = 1; s <= 2; s++)
            for (int seg = 1; seg <= 2; seg++)
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

static unsigned *read_png8(const char *path, int *h, int *w, int *c)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("missing %s", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not read %s", path);
    png_init_io(png, f);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    *w = (int)png_get_image_width(png, info);
    *h = (int)png_get_image_height(png, info);
    *c = png_get_channels(png, info);
    assert_int_equal(png_get_bit_depth(png, info), 8);
    png_bytepp rows = png_get_rows(png, info);
    unsigned *v = malloc(sizeof(unsigned) * (size_t)(*h * *w * *c));
    assert_non_null(v);
    for (int y = 0; y < *h; y++)
        for (int x = 0; x < *w * *c; x++)
            v[y * *w * *c + x] = rows[y][x];
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return v;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
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

static void test_png_matches_npy(void **state)
{
    struct fixture *fx = *state;
    char args[2048], path[800];
    char *log;
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units T --sensors acc --encoder gasf --enc-size 8 "
             "--layout mosaic --format npy -j 2 -o '%s/npy'", fx->root, fx->dir);
    int rc = run_cli(fx->dir, args, &log);
    if (rc != 0)
        fail_msg("encode npy exited %d: %s", rc, log);
    assert_non_null(strstr(log, "encoded 8 segments"));
    free(log);
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units T --sensors acc --encoder gasf --enc-size 8 "
             "-j 2 -o '%s/png'", fx->root, fx->dir);
    rc = run_cli(fx->dir, args, &log);
    if (rc != 0)
        fail_msg("encode png exited %d: %s", rc, log);
    free(log);

    /* manifest: header, 8 rows in (activity, subject, segment) order */
    snprintf(path, sizeof path, "%s/png/manifest.csv", fx->dir);
    char *man = slurp(path);
    assert_non_null(man);
    assert_int_equal(count_lines(man), 9);
    char want[1200];
    snprintf(want, sizeof want,
             "path,label,subject,segment,source\n"
             "sitting/a01_p1_s01.png,sitting,1,1,%s/a01/p1/s01.txt\n"
             "sitting/a01_p1_s02.png,sitting,1,2,%s/a01/p1/s02.txt\n",
             fx->root, fx->root);
    if (strncmp(man, want, strlen(want)) != 0)
        fail_msg("manifest starts\n%s\nexpected\n%s", man, want);
    snprintf(want, sizeof want, "walking_parking_lot/a09_p2_s02.png,walking_parking_lot,2,2,"
                                "%s/a09/p2/s02.txt\n", fx->root);
    assert_non_null(strstr(man, want));
    free(man);

    /* PNG pixel = round((v - lo) / (hi - lo) * 255) with gasf's [-1, 1] */
    snprintf(path, sizeof path, "%s/npy/walking_parking_lot/a09_p2_s02.npy", fx->dir);
    float *x = NULL;
    int nd;
    size_t sh[8];
    assert_int_equal(sg_npy_read(path, &x, &nd, sh), 0);
    assert_int_equal(nd, 3);
    assert_int_equal(sh[0], 1);
    snprintf(path, sizeof path, "%s/png/walking_parking_lot/a09_p2_s02.png", fx->dir);
    int h, w, c;
    unsigned *px = read_png8(path, &h, &w, &c);
    assert_int_equal(c, 1);
    assert_int_equal((size_t)h, sh[1]);
    assert_int_equal((size_t)w, sh[2]);
    for (int i = 0; i < h * w; i++) {
        double want_px = floor((x[i] + 1.0) / 2.0 * 255.0 + 0.5);
        if (fabs(px[i] - want_px) > 1.0)
            fail_msg("pixel %d: npy %g -> expected %g, PNG has %u", i, x[i], want_px, px[i]);
    }
    free(px);
    free(x);
    snprintf(path, sizeof path, "%s/png", fx->dir);
    assert_no_temp_files(path);
}

static void test_npy_channels_numpy(void **state)
{
    struct fixture *fx = *state;
    SG_REQUIRE_PYTHON("numpy");
    char args[2048], cmd[2048];
    char *log;
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units LL --sensors gyro --subjects 2 --encoder mtf "
             "--enc-size 16 --n-bins 4 --format npy -q -o '%s/mtf'", fx->root, fx->dir);
    int rc = run_cli(fx->dir, args, &log);
    if (rc != 0)
        fail_msg("encode exited %d: %s", rc, log);
    free(log);
    snprintf(cmd, sizeof cmd,
             "%s -c \"import numpy as np, csv; rows = list(csv.DictReader(open('%s/mtf/manifest.csv'))); "
             "assert len(rows) == 4, rows; assert {r['subject'] for r in rows} == {'2'}; "
             "a = np.load('%s/mtf/' + rows[0]['path']); "
             "assert a.dtype == np.float32 and a.shape == (3, 16, 16), a.shape; "
             "assert np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1\"",
             sg_test_python(), fx->dir, fx->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_bad_input_fail_and_skip(void **state)
{
    struct fixture *fx = *state;
    char fail_args[2048], skip_args[2048], path[800], want[1200];
    char *log, *log_skip;
    snprintf(fail_args, sizeof fail_args,
             "--dataset dsa '%s' --sensors acc --units T --encoder gadf --enc-size 4 -q "
             "-o '%s/out'", fx->root, fx->dir);
    /* a good run first; later runs replace it (--overwrite) */
    assert_int_equal(run_cli(fx->dir, fail_args, &log), 0);
    strcat(fail_args, " --overwrite");
    snprintf(skip_args, sizeof skip_args, "%s --on-error skip", fail_args);
    free(log);
    snprintf(path, sizeof path, "%s/out/manifest.csv", fx->dir);
    char *good_manifest = slurp(path);
    assert_non_null(good_manifest);

    int col = write_segment(fx->root, 9, 2, 2, "x");
    int rc = run_cli(fx->dir, fail_args, &log);
    char *after_fail = slurp(path);
    int rc_skip = run_cli(fx->dir, skip_args, &log_skip);
    write_segment(fx->root, 9, 2, 2, NULL);   /* the other tests need it whole */

    assert_int_equal(rc, 1);
    snprintf(want, sizeof want,
             "sensorgram encode: %s/a09/p2/s02.txt:3:%d: expected a number, got 'x'\n",
             fx->root, col);
    if (strcmp(log, want) != 0)
        fail_msg("stderr:\n%s\nexpected:\n%s", log, want);
    free(log);
    /* reading failed before any image was touched: the old run stays whole */
    assert_non_null(after_fail);
    assert_string_equal(after_fail, good_manifest);
    free(after_fail);
    free(good_manifest);

    /* skip: the rest is written, the bad file listed with its reason, exit 0 */
    assert_int_equal(rc_skip, 0);
    snprintf(want, sizeof want,
             "sensorgram encode: warning: skipped 1 input:\n"
             "  %s/a09/p2/s02.txt:3:%d: expected a number, got 'x'\n",
             fx->root, col);
    if (!strstr(log_skip, want))
        fail_msg("output:\n%s\nlacks:\n%s", log_skip, want);
    /* the summary counts what was encoded, the skipped input apart */
    if (!strstr(log_skip, "encoded 7 segments (dsa, 3 x 125 each, 1 skipped) into 7 png images"))
        fail_msg("summary:\n%s", log_skip);
    free(log_skip);
    char *man = slurp(path);
    assert_non_null(man);
    assert_int_equal(count_lines(man), 8);
    assert_null(strstr(man, "a09_p2_s02"));
    free(man);

    /* a write failure in the middle: no manifest, no temp files */
    snprintf(path, sizeof path, "%s/out/sitting/a01_p2_s01.png", fx->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0777), 0);   /* renaming onto a folder fails */
    assert_int_equal(run_cli(fx->dir, fail_args, &log), 1);
    if (!strstr(log, "a01_p2_s01.png: cannot rename into place") || count_lines(log) != 1)
        fail_msg("stderr:\n%s", log);
    free(log);
    snprintf(path, sizeof path, "%s/out/manifest.csv", fx->dir);
    assert_false(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/out", fx->dir);
    assert_no_temp_files(path);
}

static void test_usage_and_output_errors(void **state)
{
    struct fixture *fx = *state;
    char args[2048], path[800];
    char *log;
    assert_int_equal(run_cli(fx->dir, "--help", &log), 0);
    assert_non_null(strstr(log, "--on-error fail|skip"));
    assert_non_null(strstr(log, "manifest.csv"));
    free(log);
    assert_int_equal(run_cli(fx->dir, "--bogus x -o y", &log), 2);
    assert_non_null(strstr(log, "unknown option '--bogus'"));
    free(log);
    assert_int_equal(run_cli(fx->dir, "--encoder nope in -o y", &log), 2);
    assert_non_null(strstr(log, "unknown encoder 'nope'"));
    free(log);
    assert_int_equal(run_cli(fx->dir, "--enc-size 1.5 in -o y", &log), 2);
    free(log);
    assert_int_equal(run_cli(fx->dir, "--dataset dsa --units T,Q in -o y", &log), 2);
    assert_non_null(strstr(log, "unknown unit 'Q' in 'T,Q'"));
    free(log);
    assert_int_equal(run_cli(fx->dir, "in", &log), 2);
    assert_non_null(strstr(log, "-o OUTDIR"));
    free(log);

    /* output under a regular file */
    snprintf(path, sizeof path, "%s/afile", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(args, sizeof args, "--dataset dsa '%s' --units T --sensors acc --encoder gasf "
                                "--enc-size 4 -q -o '%s/afile/out'", fx->root, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 1);
    assert_non_null(strstr(log, "afile: exists and is not a folder"));
    assert_int_equal(count_lines(log), 1);
    free(log);

    /* three unrelated channels never become an RGB PNG */
    snprintf(args, sizeof args, "--dataset dsa '%s' --units T --sensors acc --encoder gasf "
                                "--enc-size 4 --layout channels -q -o '%s/ch'",
             fx->root, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 1);
    assert_non_null(strstr(log, "use --layout mosaic or rgb, or --format npy"));
    free(log);
    /* --image-size, the old spelling of --enc-size, still works and says so once */
    snprintf(args, sizeof args, "--dataset dsa '%s' --units T --sensors acc --encoder gasf "
                                "--image-size 4 --layout rgb -q -o '%s/rgb'",
             fx->root, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 0);
    const char *note = strstr(log, "sensorgram encode: --image-size is now --enc-size (the "
                                   "encoder's side; --image-size is the model input in train)\n");
    if (!note || strstr(note + 1, "sensorgram encode: --image-size"))
        fail_msg("expected the note once, got:\n%s", log);
    free(log);
    snprintf(path, sizeof path, "%s/rgb/sitting/a01_p1_s01.png", fx->dir);
    int h, w, c;
    unsigned *px = read_png8(path, &h, &w, &c);
    assert_int_equal(c, 3);
    assert_int_equal(h, 4);
    free(px);
}

static void test_fit_save_load(void **state)
{
    struct fixture *fx = *state;
    char args[2048], a[800], b[800];
    char *log;
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units RA --encoder gray --format npy --fit-on subjects=1 "
             "--save-fit '%s/fit.json' -q -o '%s/g1'", fx->root, fx->dir, fx->dir);
    int rc = run_cli(fx->dir, args, &log);
    if (rc)
        fail_msg("exit %d: %s", rc, log);
    free(log);
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units RA --encoder gray --format npy --load-fit '%s/fit.json' "
             "-q -o '%s/g2'", fx->root, fx->dir, fx->dir);
    rc = run_cli(fx->dir, args, &log);
    if (rc)
        fail_msg("exit %d: %s", rc, log);
    free(log);
    snprintf(a, sizeof a, "%s/g1/walking_parking_lot/a09_p2_s01.npy", fx->dir);
    snprintf(b, sizeof b, "%s/g2/walking_parking_lot/a09_p2_s01.npy", fx->dir);
    float *x = NULL, *y = NULL;
    int nd;
    size_t sh[8], sh2[8];
    assert_int_equal(sg_npy_read(a, &x, &nd, sh), 0);
    assert_int_equal(sg_npy_read(b, &y, &nd, sh2), 0);
    size_t n = sh[0] * sh[1] * sh[2];
    assert_int_equal(n, sh2[0] * sh2[1] * sh2[2]);
    assert_memory_equal(x, y, n * sizeof(float));
    free(x);
    free(y);
}

static void test_csv_windows(void **state)
{
    struct fixture *fx = *state;
    char path[800], args[2048];
    char *log;
    snprintf(path, sizeof path, "mkdir -p '%s/csv/walk'", fx->dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/csv/walk/rec.csv", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("time,ax,ay\n", f);
    for (int t = 0; t < 40; t++)
        fprintf(f, "%d,%.4f,%.4f\n", t, sin(t * 0.3), cos(t * 0.2));
    fclose(f);
    snprintf(args, sizeof args,
             "'%s/csv' --columns ax,ay --window 16 --stride 8 --encoder rp --format npy -q "
             "-o '%s/csvout'", fx->dir, fx->dir);
    int rc = run_cli(fx->dir, args, &log);
    if (rc)
        fail_msg("exit %d: %s", rc, log);
    free(log);
    snprintf(path, sizeof path, "%s/csvout/manifest.csv", fx->dir);
    char *man = slurp(path);
    assert_non_null(man);
    char want[1200];
    snprintf(want, sizeof want,
             "path,label,subject,segment,source\n"
             "walk/rec_w0001.npy,walk,,1,%s/csv/walk/rec.csv\n"
             "walk/rec_w0002.npy,walk,,2,%s/csv/walk/rec.csv\n"
             "walk/rec_w0003.npy,walk,,3,%s/csv/walk/rec.csv\n"
             "walk/rec_w0004.npy,walk,,4,%s/csv/walk/rec.csv\n",
             fx->dir, fx->dir, fx->dir, fx->dir);
    if (strcmp(man, want) != 0)
        fail_msg("manifest:\n%s\nexpected:\n%s", man, want);
    free(man);
    snprintf(path, sizeof path, "%s/csvout/walk/rec_w0002.npy", fx->dir);
    float *x = NULL;
    int nd;
    size_t sh[8];
    assert_int_equal(sg_npy_read(path, &x, &nd, sh), 0);
    assert_int_equal(sh[0], 2);
    assert_int_equal(sh[1], 16);
    /* rp of ax over rows 8..23 at (0, 1): |ax[8] - ax[9]| */
    float want01 = fabsf((float)(round(sin(8 * 0.3) * 1e4) / 1e4 - round(sin(9 * 0.3) * 1e4) / 1e4));
    if (fabsf(x[1] - want01) > 1e-4f)
        fail_msg("rp[0][0][1]: expected %g, got %g", want01, x[1]);
    free(x);
}

/* Issue 10 item 16: ';' and tab separated files read like comma ones. */
static void test_csv_delimiters(void **state)
{
    struct fixture *fx = *state;
    const char seps[3] = {',', ';', '\t'};
    const char *names[3] = {"comma", "semi", "tab"};
    char path[900], args[2048], *log;
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "mkdir -p '%s/delim_%s/walk'", fx->dir, names[k]);
        assert_int_equal(system(path), 0);
        snprintf(path, sizeof path, "%s/delim_%s/walk/r.csv", fx->dir, names[k]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "ax%cay\n", seps[k]);
        for (int t = 0; t < 32; t++)
            fprintf(f, "%.4f%c%.4f\n", sin(t * 0.1), seps[k], cos(t * 0.1));
        assert_int_equal(fclose(f), 0);
        snprintf(args, sizeof args, "'%s/delim_%s' --window 16 --encoder rp --format npy -q "
                 "-o '%s/delim_out_%s'", fx->dir, names[k], fx->dir, names[k]);
        int rc = run_cli(fx->dir, args, &log);
        if (rc)
            fail_msg("%s: exit %d: %s", names[k], rc, log);
        free(log);
    }
    for (int k = 1; k < 3; k++) {
        snprintf(path, sizeof path, "cmp -s '%s/delim_out_comma/walk/r_w0002.npy' "
                 "'%s/delim_out_%s/walk/r_w0002.npy'", fx->dir, fx->dir, names[k]);
        if (system(path) != 0)
            fail_msg("%s-separated input encodes differently from the comma one", names[k]);
    }
    /* --delimiter forces one; a wrong one says so; a bad value is a usage error */
    snprintf(args, sizeof args, "'%s/delim_semi' --delimiter ';' --window 16 --encoder rp "
             "--format npy -q -o '%s/delim_forced'", fx->dir, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 0);
    free(log);
    snprintf(args, sizeof args, "'%s/delim_semi' --delimiter , --header --window 16 "
             "--encoder rp --format npy -q -o '%s/delim_wrong'", fx->dir, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 1);
    if (!strstr(log, "(fields split at ',', as --delimiter says;"))
        fail_msg("stderr:\n%s", log);
    free(log);
    snprintf(args, sizeof args, "'%s/delim_semi' --delimiter '|' -o '%s/delim_bad'", fx->dir,
             fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 2);
    if (!strstr(log, "--delimiter: expected ',', ';' or tab, got '|'"))
        fail_msg("stderr:\n%s", log);
    free(log);
    /* a line with another separator than the first: the message says so */
    snprintf(path, sizeof path, "%s/delim_semi/walk/r.csv", fx->dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("0.5,0.25\n", f);
    fclose(f);
    snprintf(args, sizeof args, "'%s/delim_semi' --window 16 --encoder rp --format npy -q "
             "-o '%s/delim_bad'", fx->dir, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 1);
    if (!strstr(log, "r.csv:34:1: expected a number, got '0.5,0.25' (fields split at ';'"))
        fail_msg("stderr:\n%s", log);
    free(log);
}

/* Writes DIR/walk/long.csv: rows x 3 columns of smooth values. */
static void write_long_csv(const char *dir, int rows)
{
    char path[800];
    snprintf(path, sizeof path, "mkdir -p '%s/walk'", dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/walk/long.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("a,b,c\n", f);
    for (int t = 0; t < rows; t++)
        fprintf(f, "%.4f,%.4f,%.4f\n", sin(t * 0.01), cos(t * 0.02), sin(t * 0.03));
    assert_int_equal(fclose(f), 0);
}

static int count_files(const char *dir, const char *pattern)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "find '%s' -name '%s' | wc -l", dir, pattern);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

/* Runs `encode ARGS -o OUT` in the background, sends SIG once its first
 * image is in place, and returns the exit status wait reports (128 +
 * signal when it died of it) with the output in *log. */
static int run_signalled(const char *dir, const char *args, const char *out, const char *sig,
                         char **log)
{
    char cmd[6000];
    snprintf(cmd, sizeof cmd,
             "%s encode %s -o '%s' >'%s/log.txt' 2>&1 & p=$!; "
             "while [ -z \"$(find '%s' -name '*.png' 2>/dev/null)\" ]; do sleep 0.05; done; "
             "kill -%s $p; wait $p",
             sg_test_bin(), args, out, dir, out, sig);
    int st = system(cmd);
    assert_true(st != -1 && WIFEXITED(st));
    char path[900];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    *log = slurp(path);
    assert_non_null(*log);
    return WEXITSTATUS(st);
}

/* Issue 10 items 5 and 6: an output folder holding an earlier run is
 * refused unless --overwrite, which removes only what the old manifest
 * listed; stale temporaries of killed runs are swept; Ctrl-C stops
 * cleanly (exit 130) and leaves nothing half-made. */
static void test_outdir_guard_and_signals(void **state)
{
    struct fixture *fx = *state;
    char args[2048], path[900], out[800], *log;
    snprintf(out, sizeof out, "%s/g0", fx->dir);
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units T --sensors acc --encoder gasf --enc-size 4 -q "
             "-o '%s'", fx->root, out);
    assert_int_equal(run_cli(fx->dir, args, &log), 0);
    free(log);
    snprintf(path, sizeof path, "%s/manifest.csv", out);
    char *before = slurp(path);
    assert_non_null(before);
    /* a second run into it: usage error, nothing touched */
    assert_int_equal(run_cli(fx->dir, args, &log), 2);
    if (!strstr(log, "g0 is not empty (an earlier encode?): --overwrite replaces what its "
                     "manifest lists, or choose another -o folder"))
        fail_msg("stderr:\n%s", log);
    free(log);
    char *after = slurp(path);
    assert_string_equal(before, after);
    free(after);
    free(before);
    /* the user's file, a stale temporary of a dead process, a dot file
     * that only looks like one */
    snprintf(path, sizeof path, "echo mine > '%s/notes.txt' && : > '%s/sitting/.a.png.tmp99999999.3'"
             " && : > '%s/sitting/.a.png.tmpX'", out, out, out);
    assert_int_equal(system(path), 0);
    /* --overwrite with fewer subjects: the old p2 images must go */
    snprintf(args, sizeof args,
             "--dataset dsa '%s' --units T --sensors acc --subjects 1 --encoder gasf "
             "--enc-size 4 -q -o '%s' --overwrite", fx->root, out);
    assert_int_equal(run_cli(fx->dir, args, &log), 0);
    free(log);
    snprintf(path, sizeof path, "%s/manifest.csv", out);
    char *man = slurp(path);
    assert_non_null(man);
    assert_int_equal(count_lines(man), 5);
    free(man);
    assert_int_equal(count_files(out, "*_p2_*"), 0);
    assert_int_equal(count_files(out, "*.png"), 4);
    snprintf(path, sizeof path, "%s/notes.txt", out);
    assert_true(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/sitting/.a.png.tmp99999999.3", out);
    assert_false(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/sitting/.a.png.tmpX", out);
    assert_true(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/.sensorgram-encoding", out);
    assert_false(sg_test_path_exists(path));

    /* Ctrl-C in the middle of a long encode */
    char csvdir[800], sig_out[900];
    snprintf(csvdir, sizeof csvdir, "%s/long", fx->dir);
    write_long_csv(csvdir, 3000);
    snprintf(sig_out, sizeof sig_out, "%s/sig", fx->dir);
    snprintf(args, sizeof args, "'%s' --window 64 --stride 1 --encoder gasf --enc-size 64 -q -j 2",
             csvdir);
    int st = run_signalled(fx->dir, args, sig_out, "INT", &log);
    if (st != 130 || !strstr(log, "sensorgram encode: interrupted after writing ") ||
        !strstr(log, "interrupted by SIGINT"))
        fail_msg("exit %d, output:\n%s", st, log);
    free(log);
    assert_no_temp_files(sig_out);
    assert_int_equal(count_files(sig_out, "*.png"), 0);
    snprintf(path, sizeof path, "%s/manifest.csv", sig_out);
    assert_false(sg_test_path_exists(path));
    /* nothing was left: the same command runs again without --overwrite */
    snprintf(args, sizeof args, "'%s' --window 64 --stride 64 --encoder gasf --enc-size 8 -q "
             "-o '%s'", csvdir, sig_out);
    assert_int_equal(run_cli(fx->dir, args, &log), 0);
    free(log);

    /* SIGKILL: temporaries and the unfinished marker stay; a rerun needs
     * --overwrite and then sweeps everything of the killed run */
    char kill_out[900];
    snprintf(kill_out, sizeof kill_out, "%s/killed", fx->dir);
    snprintf(args, sizeof args, "'%s' --window 64 --stride 1 --encoder gasf --enc-size 64 -q -j 2",
             csvdir);
    st = run_signalled(fx->dir, args, kill_out, "KILL", &log);
    if (st != 137)
        fail_msg("exit %d, output:\n%s", st, log);
    free(log);
    snprintf(path, sizeof path, "%s/.sensorgram-encoding", kill_out);
    assert_true(sg_test_path_exists(path));
    snprintf(args, sizeof args, "'%s' --window 64 --stride 64 --encoder gasf --enc-size 8 -q "
             "-o '%s'", csvdir, kill_out);
    assert_int_equal(run_cli(fx->dir, args, &log), 2);
    free(log);
    strcat(args, " --overwrite");
    assert_int_equal(run_cli(fx->dir, args, &log), 0);
    free(log);
    assert_no_temp_files(kill_out);
    assert_int_equal(count_files(kill_out, "*.png"), 46); /* (3000 - 64) / 64 + 1 */
    assert_false(sg_test_path_exists(path));
}

/* Issue 10 item 13: a recording too long for one image names the input,
 * the size, and what to change; an --enc-size above the limit names it. */
static void test_too_big_messages(void **state)
{
    struct fixture *fx = *state;
    char dir[800], args[2048], *log;
    snprintf(dir, sizeof dir, "%s/huge", fx->dir);
    write_long_csv(dir, 12000);
    snprintf(args, sizeof args, "'%s' --encoder gasf -q -o '%s/huge_out'", dir, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 1);
    if (!strstr(log, "walk/long.csv: a segment of 12000 samples gives a 1 x 24000 x 24000 image "
                     "(2.1 GiB as floats, per thread): cut recordings into windows with "
                     "--window N"))
        fail_msg("stderr:\n%s", log);
    free(log);
    /* a file without line breaks: named, with what to check */
    char path[900];
    snprintf(path, sizeof path, "mkdir -p '%s/oneline/walk'", fx->dir);
    assert_int_equal(system(path), 0);
    snprintf(path, sizeof path, "%s/oneline/walk/l.csv", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 30000; i++)
        fputs(i ? ",0.5" : "0.5", f);
    assert_int_equal(fclose(f), 0);
    snprintf(args, sizeof args, "'%s/oneline' --encoder gray -q -o '%s/oneline_out'", fx->dir,
             fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 1);
    if (!strstr(log, "oneline/walk/l.csv:1:40001: the first row has more than 10000 fields: is "
                     "the file one long line"))
        fail_msg("stderr:\n%s", log);
    free(log);
    snprintf(args, sizeof args, "'%s' --encoder gasf --enc-size 100000 -q -o '%s/huge_out'",
             dir, fx->dir);
    assert_int_equal(run_cli(fx->dir, args, &log), 2);
    if (!strstr(log, "--enc-size: 100000 pixels is above the limit of 65536"))
        fail_msg("stderr:\n%s", log);
    free(log);
}

int main(void)
{
    const char *bin = sg_test_bin();
    if (access(bin, X_OK) != 0) {
        printf("SKIP: SG_BIN %s is not an executable (build it first)\n", bin);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_matches_npy),
        cmocka_unit_test(test_npy_channels_numpy),
        cmocka_unit_test(test_bad_input_fail_and_skip),
        cmocka_unit_test(test_usage_and_output_errors),
        cmocka_unit_test(test_fit_save_load),
        cmocka_unit_test(test_csv_windows),
        cmocka_unit_test(test_outdir_guard_and_signals),
        cmocka_unit_test(test_csv_delimiters),
        cmocka_unit_test(test_too_big_messages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
