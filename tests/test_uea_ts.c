/* test_uea_ts.c - the UEA/UCR .ts reader (datasets/uea_ts.h): the header,
 * cases into (n, C, T) segments, classes in @classLabel's order, every
 * refused input with its exact "FILE:LINE: case N, dimension D" message,
 * and the three shared archive problems against a Python parse of the same
 * files (every value, bit for bit, and every label). */
#include "tests/sg_test.h"

#include "datasets/uea_ts.h"
#include "src/base/sg_error.h"

static const char *const HEADER =
    "# a comment\n"
    "@problemName Tiny\n"
    "@timeStamps false\n"
    "@missing false\n"
    "@univariate false\n"
    "@dimensions 2\n"
    "@equalLength true\n"
    "@seriesLength 3\n"
    "@classLabel true walk run\n"
    "@data\n";

/* Writes HEADER (unless header is given) and body to DIR/name; returns
 * the path (caller frees). */
static char *write_ts(const char *dir, const char *name, const char *header, const char *body)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(header ? header : HEADER, f);
    fputs(body, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void expect_error(const char *dir, const char *header, const char *body, const char *want)
{
    char *path = write_ts(dir, "bad.ts", header, body);
    sg_series_set s;
    int rc = uea_ts_load(&s, path);
    char full[1024];
    snprintf(full, sizeof full, "%s%s", path, want);
    if (rc == 0 || strcmp(sg_last_error(), full) != 0) {
        print_error("expected error \"%s\", got rc %d \"%s\"\n", full, rc, sg_last_error());
        if (rc == 0)
            sg_series_set_free(&s);
        fail();
    }
    assert_null(s.data);
    assert_int_equal(s.n, 0);
    free(path);
}

static void test_reads_cases(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char *path = write_ts(dir, "Tiny_TRAIN.ts", NULL,
                          "1,2,3:4,5,6:run\n"
                          "\n"
                          " -1.5e-3, 0.25 ,7:8,9,10:walk\r\n");
    sg_series_set s;
    int rc = uea_ts_load(&s, path);
    if (rc)
        fail_msg("%s", sg_last_error());
    assert_int_equal(s.n, 2);
    assert_int_equal(s.n_channels, 2);
    assert_int_equal(s.n_samples, 3);
    const double want[] = {1, 2, 3, 4, 5, 6, -1.5e-3, 0.25, 7, 8, 9, 10};
    sg_assert_close_d("values", s.data, want, 12, 0, 0);
    assert_string_equal(s.channel_names[0], "dim_0");
    assert_string_equal(s.channel_names[1], "dim_1");
    /* @classLabel's order, not the order the cases show */
    assert_int_equal(s.n_classes, 2);
    assert_string_equal(s.class_names[0], "walk");
    assert_string_equal(s.class_names[1], "run");
    assert_int_equal(s.label[0], 1);
    assert_int_equal(s.label[1], 0);
    assert_string_equal(s.name[0], "Tiny_TRAIN_0001");
    assert_string_equal(s.name[1], "Tiny_TRAIN_0002");
    assert_string_equal(s.source[1], path);
    assert_int_equal(s.segment[1], 2);
    assert_int_equal(s.subject[1], -1);
    sg_series_set_free(&s);
    free(path);

    /* no @classLabel labels: every case unlabelled; shape from case 1 */
    path = write_ts(dir, "u.ts", "@classLabel false\n@data\n", "1,2:3,4:5,6\n7,8:9,10:11,12\n");
    rc = uea_ts_load(&s, path);
    if (rc)
        fail_msg("%s", sg_last_error());
    assert_int_equal(s.n_channels, 3);
    assert_int_equal(s.n_samples, 2);
    assert_int_equal(s.n_classes, 0);
    assert_int_equal(s.label[0], -1);
    assert_int_equal(s.label[1], -1);
    sg_series_set_free(&s);
    free(path);
    assert_true(uea_ts_is_ts_path("a/B_TEST.TS"));
    assert_false(uea_ts_is_ts_path("a/b.csv"));
    assert_false(uea_ts_is_ts_path(".ts"));
    sg_test_rmtree(dir);
    free(dir);
}

static void test_refuses_bad_input(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    expect_error(dir, NULL, "1,2,3:4,5,6:walk\n1,2,3:4,5:run\n",
                 ":12: case 2, dimension 1 has 2 values, @seriesLength says 3: unequal lengths "
                 "are not padded; resample or crop the series to one length first");
    expect_error(dir, NULL, "1,2,3:4,5,6:7,8,9:walk\n",
                 ":11: case 1 has 3 dimensions, @dimensions says 2");
    expect_error(dir, NULL, "1,2,3:4,5,6:jump\n",
                 ":11: case 1: label 'jump' is not one @classLabel declares");
    expect_error(dir, NULL, "1,2,3:4,?,6:walk\n",
                 ":11: case 1, dimension 1, value 2: a missing value ('?'); fill or interpolate "
                 "missing values before training");
    expect_error(dir, NULL, "1,NaN,3:4,5,6:walk\n",
                 ":11: case 1, dimension 0, value 2: a missing value ('NaN'); fill or "
                 "interpolate missing values before training");
    expect_error(dir, NULL, "1,2,x3:4,5,6:walk\n",
                 ":11: case 1, dimension 0, value 3: 'x3' is not a number");
    expect_error(dir, NULL, "1,,3:4,5,6:walk\n",
                 ":11: case 1, dimension 0, value 2: '' is not a number");
    expect_error(dir, NULL, "1,2,3::walk\n", ":11: case 1 has an empty dimension ('::')");
    expect_error(dir, "@timeStamps true\n@data\n", "(0,1),(1,2):a\n",
                 ":1: @timeStamps true: time-stamped values are not read; write the series as "
                 "plain values sampled at one rate");
    expect_error(dir, "@equalLength false\n@data\n", "1,2:a\n",
                 ":1: @equalLength false: every case must have one length (an image has one "
                 "width); resample or crop the series to one length first");
    expect_error(dir, "@dimensions two\n@data\n", "1,2:a\n",
                 ":1: @dimensions takes a whole number from 1 to 1000000, not 'two'");
    expect_error(dir, "@classLabel true a a\n@data\n", "1:a\n",
                 ":1: @classLabel lists 'a' twice");
    expect_error(dir, "@problemName x\n", "1,2,3\n", ":2: a case before @data (or not a .ts file)");
    expect_error(dir, "@problemName x\n", "", ": no @data line (not a .ts file)");
    expect_error(dir, NULL, "", ": no cases after @data");
    sg_series_set s;
    assert_int_equal(uea_ts_load(&s, "/nonexistent/x.ts"), SG_E_IO);
    sg_test_rmtree(dir);
    free(dir);
}

/* One problem of ../shared/data/uea against Python's parse of the file:
 * per case the label and every value printed with 17 digits. */
static void check_shared(const char *problem, const char *split, size_t n, int C, int T,
                         int n_classes)
{
    char path[1024], cmd[4096], out[1024];
    snprintf(path, sizeof path, "%s/data/uea/%s/%s_%s.ts", sg_test_shared(), problem, problem,
             split);
    char *dir = sg_test_tmpdir();
    snprintf(out, sizeof out, "%s/oracle.txt", dir);
    snprintf(cmd, sizeof cmd,
             "%s -c \"import sys\n"
             "data = False\n"
             "for line in open(sys.argv[1]):\n"
             "    line = line.strip()\n"
             "    if not line or line.startswith('#'): continue\n"
             "    if not data:\n"
             "        data = line.lower() == '@data'; continue\n"
             "    *dims, label = line.split(':')\n"
             "    print(label, *(repr(float(v)) for d in dims for v in d.split(',')))\n"
             "\" '%s' > '%s'",
             sg_test_python(), path, out);
    assert_int_equal(system(cmd), 0);
    sg_series_set s;
    int rc = uea_ts_load(&s, path);
    if (rc)
        fail_msg("%s", sg_last_error());
    assert_int_equal(s.n, n);
    assert_int_equal(s.n_channels, C);
    assert_int_equal(s.n_samples, T);
    assert_int_equal(s.n_classes, n_classes);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    size_t seg = (size_t)C * (size_t)T, cases = 0, values = 0;
    char label[256];
    while (fscanf(f, "%255s", label) == 1) {
        assert_true(cases < s.n);
        assert_string_equal(s.class_names[s.label[cases]], label);
        const double *x = sg_series_at(&s, cases);
        for (size_t k = 0; k < seg; k++) {
            double v;
            assert_int_equal(fscanf(f, "%lf", &v), 1);
            if (x[k] != v)
                fail_msg("%s case %zu value %zu: %.17g, Python %.17g", path, cases + 1, k, x[k],
                         v);
            values++;
        }
        cases++;
    }
    fclose(f);
    assert_int_equal(cases, n);
    assert_int_equal(values, n * seg);
    sg_series_set_free(&s);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_shared_problems(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/uea", sg_test_shared());
    SG_REQUIRE_PATH(dir);
    check_shared("BasicMotions", "TRAIN", 40, 6, 100, 4);
    check_shared("BasicMotions", "TEST", 40, 6, 100, 4);
    check_shared("Epilepsy", "TRAIN", 137, 3, 206, 4);
    check_shared("NATOPS", "TEST", 180, 24, 51, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_cases),
        cmocka_unit_test(test_refuses_bad_input),
        cmocka_unit_test(test_shared_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
