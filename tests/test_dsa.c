/* test_dsa.c - the DSA reader on a synthetic tree with known values, every
 * malformed-file case with its exact FILE:LINE:COLUMN message, selection
 * parsing, skipping, and the real tree when data/dsa exists. */
#include "tests/sg_test.h"

#include "datasets/dsa.h"
#include "src/base/sg_error.h"
#include "datasets/skipped.h"

#include <time.h>

/* The synthetic value of row t, file column k in segment (a, s, seg). */
static double synth_value(int a, int s, int seg, int t, int k)
{
    return a * 1000.0 + s * 100.0 + seg + t * 0.5 - k * 0.25;
}

/* The value as written to the file (%.6g) and read back by strtod: the
 * reader keeps doubles, so it must give exactly this. */
static double synth_read(int a, int s, int seg, int t, int k)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.6g", synth_value(a, s, seg, t, k));
    return strtod(buf, NULL);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void write_segment(const char *root, int a, int s, int seg)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a%02d", root, a);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/a%02d/p%d", root, a, s);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/a%02d/p%d/s%02d.txt", root, a, s, seg);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int t = 0; t < DSA_N_ROWS; t++)
        for (int k = 0; k < DSA_N_COLUMNS; k++)
            fprintf(f, "%.6g%c", synth_value(a, s, seg, t, k), k + 1 < DSA_N_COLUMNS ? ',' : '\n');
    assert_int_equal(fclose(f), 0);
}

static void test_load_synthetic(void **state)
{
    (void)state;
    char *root = sg_test_tmpdir();
    write_segment(root, 9, 2, 10);
    write_segment(root, 1, 2, 1);
    write_segment(root, 1, 1, 1);
    write_segment(root, 1, 1, 2);
    char stray[600];
    snprintf(stray, sizeof stray, "%s/a01/p1/notes.md", root);
    write_text(stray, "not a segment\n");

    dsa_select sel;
    dsa_select_all(&sel);
    sg_series_set s;
    int rc = dsa_load(&s, root, &sel, 2);
    if (rc)
        print_error("dsa_load: %s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.n_channels, 45);
    assert_int_equal(s.n_samples, 125);
    assert_int_equal(s.n_classes, 19);
    /* (activity, subject, segment) order */
    const char *names[] = {"a01_p1_s01", "a01_p1_s02", "a01_p2_s01", "a09_p2_s10"};
    const int act[] = {1, 1, 1, 9}, subj[] = {1, 1, 2, 2}, seg[] = {1, 2, 1, 10};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(s.name[i], names[i]);
        assert_int_equal(s.label[i], act[i] - 1);
        assert_int_equal(s.subject[i], subj[i]);
        assert_int_equal(s.segment[i], seg[i]);
        char want[600];
        snprintf(want, sizeof want, "%s/a%02d/p%d/s%02d.txt", root, act[i], subj[i], seg[i]);
        assert_string_equal(s.source[i], want);
        /* channel k is file column k; time runs along the row */
        double ref[45 * 125];
        for (int k = 0; k < 45; k++)
            for (int t = 0; t < 125; t++)
                ref[k * 125 + t] = synth_read(act[i], subj[i], seg[i], t, k);
        sg_assert_close_d(names[i], sg_series_at(&s, i), ref, 45 * 125, 0, 0);
    }
    assert_string_equal(s.channel_names[0], "T_acc_x");
    assert_string_equal(s.channel_names[4], "T_gyro_y");
    assert_string_equal(s.channel_names[44], "LL_mag_z");
    assert_string_equal(s.class_names[8], "walking_parking_lot");
    assert_string_equal(s.class_names[18], "playing_basketball");
    sg_series_set_free(&s);

    /* LL acc x,z of subject 2: file columns 36 and 38 */
    assert_int_equal(dsa_select_parse(&sel, "LL", "acc", "x,z"), 0);
    assert_int_equal(dsa_select_parse_subjects(&sel, "2"), 0);
    assert_int_equal(dsa_load(&s, root, &sel, 1), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.n_channels, 2);
    assert_string_equal(s.channel_names[0], "LL_acc_x");
    assert_string_equal(s.channel_names[1], "LL_acc_z");
    assert_string_equal(s.name[1], "a09_p2_s10");
    double ref[2 * 125];
    for (int t = 0; t < 125; t++) {
        ref[t] = synth_read(9, 2, 10, t, 36);
        ref[125 + t] = synth_read(9, 2, 10, t, 38);
    }
    sg_assert_close_d("LL acc x,z", sg_series_at(&s, 1), ref, 250, 0, 0);
    sg_series_set_free(&s);

    /* no segment of subject 5 */
    assert_int_equal(dsa_select_parse_subjects(&sel, "5"), 0);
    assert_int_not_equal(dsa_load(&s, root, &sel, 1), 0);
    assert_non_null(strstr(sg_last_error(), "no segments found"));

    sg_test_rmtree(root);
    free(root);
}

static void test_select_parse_errors(void **state)
{
    (void)state;
    dsa_select sel;
    dsa_select_all(&sel);
    assert_int_equal(dsa_select_parse(&sel, "t,ra", "ACC,gyro", "all"), 0);
    assert_int_equal(sel.units, 3u);
    assert_int_equal(sel.sensors, 3u);
    assert_int_equal(sel.axes, 7u);
    assert_int_equal(dsa_select_parse(&sel, "T,XX", NULL, NULL), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "unknown unit 'XX'"));
    assert_non_null(strstr(sg_last_error(), "T, RA, LA, RL, LL"));
    assert_int_equal(sel.units, 3u); /* unchanged on error */
    assert_int_equal(dsa_select_parse_subjects(&sel, "1,9"), SG_E_INVALID);
    assert_int_equal(dsa_select_parse_subjects(&sel, "1,x"), SG_E_INVALID);
    assert_int_equal(dsa_select_parse_subjects(&sel, "p1, 3,8"), 0);
    assert_int_equal(sel.subjects, (1u << 1) | (1u << 3) | (1u << 8));
    assert_string_equal(dsa_activity_name(1), "sitting");
    assert_string_equal(dsa_activity_name(12), "running_treadmill");
    assert_null(dsa_activity_name(0));
    assert_null(dsa_activity_name(20));
}

/* Builds a file text: rows x cols copies of "1", then applies edits. */
static char *grid_text(int rows, int cols)
{
    size_t cap = (size_t)rows * (size_t)cols * 2 + 16;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t n = 0;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            s[n++] = '1';
            s[n++] = c + 1 < cols ? ',' : '\n';
        }
    s[n] = '\0';
    return s;
}

static void expect_parse_error(const char *text, const char *want)
{
    double rows[DSA_N_ROWS * DSA_N_COLUMNS];
    int rc = dsa_parse_buffer(rows, text, strlen(text), "f.txt");
    if (rc == 0 || strcmp(sg_last_error(), want) != 0) {
        print_error("expected error \"%s\", got rc %d \"%s\"\n", want, rc, sg_last_error());
        fail();
    }
    assert_int_equal(rc, SG_E_PARSE);
}

/* Replaces the field at (line, field) of a grid text (1-based). */
static char *grid_with(int rows, int line, int field, const char *value)
{
    char *g = grid_text(rows, DSA_N_COLUMNS);
    size_t off = (size_t)(line - 1) * DSA_N_COLUMNS * 2 + (size_t)(field - 1) * 2;
    char *out = malloc(strlen(g) + strlen(value) + 1);
    assert_non_null(out);
    memcpy(out, g, off);
    strcpy(out + off, value);
    strcat(out, g + off + 1);
    free(g);
    return out;
}

static void test_parse_errors(void **state)
{
    (void)state;
    double rows[DSA_N_ROWS * DSA_N_COLUMNS];
    char *ok = grid_text(125, 45);
    assert_int_equal(dsa_parse_buffer(rows, ok, strlen(ok), "f.txt"), 0);
    assert_true(rows[0] == 1.0f && rows[125 * 45 - 1] == 1.0f);
    free(ok);

    expect_parse_error("", "f.txt:1:1: empty file (expected 125 rows of 45 values)");
    expect_parse_error("\n\n  \n", "f.txt:1:1: empty file (expected 125 rows of 45 values)");

    char *t = grid_with(125, 2, 3, "abc");   /* field 3 starts at column 5 */
    expect_parse_error(t, "f.txt:2:5: expected a number, got 'abc'");
    free(t);
    t = grid_with(125, 7, 1, "nan");
    expect_parse_error(t, "f.txt:7:1: non-finite value 'nan'");
    free(t);
    t = grid_with(125, 7, 2, "-inf");
    expect_parse_error(t, "f.txt:7:3: non-finite value '-inf'");
    free(t);
    t = grid_with(125, 9, 45, "1e999");
    expect_parse_error(t, "f.txt:9:89: value out of float range");
    free(t);
    t = grid_with(125, 4, 10, "1.5.2");
    expect_parse_error(t, "f.txt:4:19: expected a number, got '1.5.2'");
    free(t);

    /* ragged: line 3 ends after 44 values, the newline is column 88 */
    t = grid_with(125, 3, 45, "");
    t[3 * 90 - 3] = '\n';   /* drop the comma before the missing value */
    memmove(t + 3 * 90 - 2, t + 3 * 90 - 1, strlen(t + 3 * 90 - 1) + 1);
    expect_parse_error(t, "f.txt:3:88: row has 44 values, expected 45");
    free(t);
    t = grid_with(125, 5, 45, "1,2");
    expect_parse_error(t, "f.txt:5:90: row has more than 45 values");
    free(t);

    t = grid_text(124, 45);
    expect_parse_error(t, "f.txt:125:1: file ends after 124 rows, expected 125");
    free(t);
    t = grid_text(126, 45);
    expect_parse_error(t, "f.txt:126:1: extra row (expected 125 rows)");
    free(t);

    /* CRLF line ends, spaces and a missing final newline are accepted */
    char *g = grid_text(125, 45);
    size_t n = strlen(g);
    char *crlf = malloc(n * 2 + 1);
    assert_non_null(crlf);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (g[i] == '\n' && i + 1 < n)
            crlf[k++] = '\r';
        if (g[i] == ',')
            crlf[k++] = ' ';
        if (!(g[i] == '\n' && i + 1 == n))
            crlf[k++] = g[i];
    }
    crlf[k] = '\0';
    assert_int_equal(dsa_parse_buffer(rows, crlf, k, "f.txt"), 0);
    free(crlf);
    free(g);
}

static void test_bad_file_in_tree(void **state)
{
    (void)state;
    char *root = sg_test_tmpdir();
    write_segment(root, 1, 1, 1);
    write_segment(root, 2, 1, 1);
    char path[600];
    snprintf(path, sizeof path, "%s/a02/p1/s01.txt", root);
    char *bad = grid_with(125, 2, 3, "x");
    write_text(path, bad);
    free(bad);

    dsa_select sel;
    dsa_select_all(&sel);
    sg_series_set s;
    assert_int_equal(dsa_load(&s, root, &sel, 2), SG_E_PARSE);
    char want[700];
    snprintf(want, sizeof want, "%s:2:5: expected a number, got 'x'", path);
    assert_string_equal(sg_last_error(), want);

    sg_skipped sk = {0};
    assert_int_equal(dsa_load_skip(&s, root, &sel, 2, &sk), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.name[0], "a01_p1_s01");
    assert_int_equal(sk.n, 1);
    assert_string_equal(sk.source[0], path);
    assert_string_equal(sk.reason[0], want);
    sg_skipped_free(&sk);
    sg_series_set_free(&s);

    assert_int_equal(dsa_load(&s, "/nonexistent/dsa", &sel, 1), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "/nonexistent/dsa: cannot open DSA root"));
    sg_test_rmtree(root);
    free(root);
}

static void test_real_tree(void **state)
{
    (void)state;
    SG_REQUIRE_PATH("data/dsa/a01/p1/s01.txt");
    dsa_select sel;
    dsa_select_all(&sel);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    sg_series_set s;
    int rc = dsa_load(&s, "data/dsa", &sel, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (rc)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    print_message("loaded %zu segments in %.2f s\n", s.n,
                  (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
    assert_int_equal(s.n % 60, 0);
    assert_true(s.n >= 6840);
    assert_string_equal(s.name[0], "a01_p1_s01");
    /* the first values of a01/p1/s01.txt: 8.1305,1.0349,5.4217 */
    const double *x = sg_series_at(&s, 0);
    const double want[] = {8.1305, 1.0349, 5.4217};
    double got[3] = {x[0], x[125], x[250]};
    sg_assert_close_d("a01_p1_s01 row 0 (exactly strtod's)", got, want, 3, 0, 0);
    sg_series_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_synthetic),
        cmocka_unit_test(test_select_parse_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_bad_file_in_tree),
        cmocka_unit_test(test_real_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
