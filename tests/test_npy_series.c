/* test_npy_series.c - numpy segments (datasets/npy_series.h): X.npy (N, C,
 * T) written by numpy in float64 and float32, labels from y.npy in int64,
 * int32, uint8, integral float and text dtypes and from y.csv, classes
 * sorted (numbers numerically); what DATA counts as numpy segments; and
 * each refusal with its message. */
#include "tests/sg_test.h"

#include "datasets/npy_series.h"
#include "src/base/sg_error.h"

/* Runs numpy code in dir (np imported); fails the test if it fails. */
static void numpy(const char *dir, const char *code)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s -c \"import numpy as np, os\n%s\"", dir,
             sg_test_python(), code);
    if (system(cmd) != 0)
        fail_msg("numpy failed: %s", code);
}

static void load_ok(sg_series_set *s, const char *dir, const char *data)
{
    char path[1100], x[4096], y[4096];
    snprintf(path, sizeof path, "%s/%s", dir, data);
    int found = npy_series_find(path, x, y, sizeof x);
    if (found != 1)
        fail_msg("%s: npy_series_find %d (%s)", path, found, found < 0 ? sg_last_error() : "");
    if (npy_series_load(s, x, y) != 0)
        fail_msg("%s: %s", path, sg_last_error());
}

static void expect_error(const char *dir, const char *data, const char *want)
{
    char path[1100], x[4096], y[4096];
    snprintf(path, sizeof path, "%s/%s", dir, data);
    int found = npy_series_find(path, x, y, sizeof x);
    sg_series_set s;
    int rc = found < 0 ? found : found ? npy_series_load(&s, x, y) : 0;
    if (rc == 0 || !strstr(sg_last_error(), want)) {
        print_error("%s: expected an error containing \"%s\", got rc %d \"%s\"\n", path, want, rc,
                    rc ? sg_last_error() : "");
        if (rc == 0 && found)
            sg_series_set_free(&s);
        fail();
    }
}

static void test_reads_arrays_and_labels(void **state)
{
    (void)state;
    SG_REQUIRE_PYTHON("numpy");
    char *dir = sg_test_tmpdir();
    numpy(dir, "X = np.arange(40, dtype=np.float64).reshape(5, 2, 4) / 3\n"
               "for d, y in [('i8', np.array([3, 10, 3, 9, 10])), ('i4', np.array([3, 10, 3, 9, 10], "
               "np.int32)), ('u1', np.array([3, 10, 3, 9, 10], np.uint8)), ('f8', np.array([3., 10, 3, "
               "9, 10])), ('txt', np.array(['walk', 'run', 'walk', 'sit', 'run']))]:\n"
               "    os.mkdir(d); np.save(d + '/X.npy', X); np.save(d + '/y.npy', y)\n"
               "os.mkdir('f4'); np.save('f4/X.npy', X.astype(np.float32))\n"
               "open('f4/y.csv', 'w').write('index,y,label\\n0,0,b\\n1,1,a\\n2,0,b\\n3,1,a\\n4,1,a\\n')\n"
               "np.save('seg.npy', X)\n");
    const char *numeric[] = {"i8", "i4", "u1", "f8"};
    for (int k = 0; k < 4; k++) {
        sg_series_set s;
        load_ok(&s, dir, numeric[k]);
        assert_int_equal(s.n, 5);
        assert_int_equal(s.n_channels, 2);
        assert_int_equal(s.n_samples, 4);
        for (size_t i = 0; i < 40; i++)
            assert_true(s.data[i] == (double)i / 3);
        /* 3 < 9 < 10, not "10" < "3" < "9" */
        assert_int_equal(s.n_classes, 3);
        assert_string_equal(s.class_names[0], "3");
        assert_string_equal(s.class_names[1], "9");
        assert_string_equal(s.class_names[2], "10");
        const int want[] = {0, 2, 0, 1, 2};
        for (int i = 0; i < 5; i++)
            assert_int_equal(s.label[i], want[i]);
        assert_string_equal(s.channel_names[1], "dim_1");
        assert_string_equal(s.name[4], "X_00005");
        assert_int_equal(s.segment[4], 5);
        sg_series_set_free(&s);
    }
    sg_series_set s;
    load_ok(&s, dir, "txt");
    assert_int_equal(s.n_classes, 3);
    assert_string_equal(s.class_names[0], "run");
    assert_string_equal(s.class_names[2], "walk");
    assert_int_equal(s.label[1], 0);
    sg_series_set_free(&s);
    /* float32 X; y.csv's label column (encode --stack's y.csv layout) */
    load_ok(&s, dir, "f4");
    assert_true(s.data[7] == (double)(float)(7.0 / 3));
    assert_string_equal(s.class_names[0], "a");
    assert_int_equal(s.label[0], 1);
    sg_series_set_free(&s);
    /* a file given as DATA; no labels beside it: every label -1 */
    load_ok(&s, dir, "seg.npy");
    assert_int_equal(s.n_classes, 0);
    assert_int_equal(s.label[0], -1);
    assert_string_equal(s.name[0], "seg_00001");
    sg_series_set_free(&s);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_what_counts_and_refusals(void **state)
{
    (void)state;
    SG_REQUIRE_PYTHON("numpy");
    char *dir = sg_test_tmpdir();
    numpy(dir, "X = np.zeros((4, 2, 3))\n"
               "os.mkdir('stack'); np.save('stack/X.npy', np.zeros((4, 1, 3, 3), np.float32))\n"
               "open('stack/manifest.csv', 'w').write('index,label\\n')\n"
               "os.mkdir('img'); np.save('img/X.npy', np.zeros((4, 1, 3, 3), np.float32))\n"
               "os.mkdir('count'); np.save('count/X.npy', X); np.save('count/y.npy', np.arange(3))\n"
               "os.mkdir('ints'); np.save('ints/X.npy', X.astype(np.int64))\n"
               "os.mkdir('nan'); Y = X.copy(); Y[1, 1, 2] = np.nan; np.save('nan/X.npy', Y)\n"
               "os.mkdir('frac'); np.save('frac/X.npy', X); np.save('frac/y.npy', np.array([1, "
               "1.5, 2, 2]))\n"
               "os.mkdir('csv'); np.save('csv/X.npy', X)\n"
               "open('csv/y.csv', 'w').write('a,b\\n1,2\\n1,2\\n1,2\\n1,2\\n')\n");
    char path[1100], x[4096], y[4096];
    /* encode --stack's folder and 4-D arrays are images, not segments */
    snprintf(path, sizeof path, "%s/stack", dir);
    assert_int_equal(npy_series_find(path, x, y, sizeof x), 0);
    snprintf(path, sizeof path, "%s/img", dir);
    assert_int_equal(npy_series_find(path, x, y, sizeof x), 0);
    snprintf(path, sizeof path, "%s/nothing", dir);
    assert_int_equal(npy_series_find(path, x, y, sizeof x), 0);
    expect_error(dir, "count", "X.npy has 4 cases, ");
    expect_error(dir, "count", "y.npy 3 labels: one label per case");
    expect_error(dir, "ints", "X.npy: dtype '<i8': segments must be float32 or float64");
    expect_error(dir, "nan", "X.npy: case 2, channel 1, sample 3 is nan: fill or interpolate "
                             "missing values first");
    expect_error(dir, "frac", "y.npy: label 2 is 1.5, not a class number");
    expect_error(dir, "csv", "y.csv: no column 'label' or 'y' among 2 columns");
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_arrays_and_labels),
        cmocka_unit_test(test_what_counts_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
