/* test_sensor_csv.c - the generic CSV reader: header/columns, windows and
 * stride, the three label sources, subjects from a column or a regex on
 * the path, what counts as a folder of recordings, and every
 * malformed-input message with its exact FILE:LINE:COLUMN. */
#include "tests/sg_test.h"

#include "datasets/sensor_csv.h"
#include "src/base/sg_error.h"
#include "datasets/skipped.h"

static int read_text(sg_series_set *s, const char *text, const char *path,
                     const sensor_csv_options *opt)
{
    return sensor_csv_read_buffer(s, text, strlen(text), path, opt);
}

static void expect_error(const char *text, const sensor_csv_options *opt, const char *want)
{
    sg_series_set s;
    int rc = read_text(&s, text, "d/f.csv", opt);
    if (rc == 0 || strcmp(sg_last_error(), want) != 0) {
        print_error("expected error \"%s\", got rc %d \"%s\"\n", want, rc, sg_last_error());
        if (rc == 0)
            sg_series_set_free(&s);
        fail();
    }
}

static void test_header_columns_whole_file(void **state)
{
    (void)state;
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    opt.columns = "az,ax";
    sg_series_set s;
    const char *text = "t,ax,ay,az\n0,1,2,3\n1,4,5,6\n2,7,8,9\n";
    assert_int_equal(read_text(&s, text, "data/walk/rec_01.csv", &opt), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.n_channels, 2);
    assert_int_equal(s.n_samples, 3);
    assert_string_equal(s.channel_names[0], "az");
    assert_string_equal(s.channel_names[1], "ax");
    const double want[] = {3, 6, 9, 1, 4, 7};   /* (C, T) */
    sg_assert_close_d("az,ax", s.data, want, 6, 0, 0);
    assert_string_equal(s.name[0], "rec_01");
    assert_string_equal(s.class_names[0], "walk");
    assert_int_equal(s.n_classes, 1);
    assert_int_equal(s.subject[0], -1);
    assert_int_equal(s.segment[0], 1);
    sg_series_set_free(&s);

    /* indices, no header (auto: the first row is all numbers) */
    opt.columns = "2";
    assert_int_equal(read_text(&s, "1,2,3\n4,5,6\n", "x/y.txt", &opt), 0);
    assert_int_equal(s.n_samples, 2);
    const double want2[] = {3, 6};
    sg_assert_close_d("column 2", s.data, want2, 2, 0, 0);
    assert_string_equal(s.channel_names[0], "2");
    sg_series_set_free(&s);

    /* --header forces a numeric first row to be names */
    opt.columns = NULL;
    opt.header = SENSOR_CSV_HEADER_YES;
    assert_int_equal(read_text(&s, "10,20\n4,5\n6,7\n", "x/y.txt", &opt), 0);
    assert_int_equal(s.n_samples, 2);
    assert_string_equal(s.channel_names[1], "20");
    sg_series_set_free(&s);

    /* quoted fields and CRLF, no final newline */
    opt.header = SENSOR_CSV_HEADER_AUTO;
    assert_int_equal(read_text(&s, "\"a x\",b\r\n\"1.5\",2\r\n3, 4", "x/y.txt", &opt), 0);
    const double want3[] = {1.5, 3, 2, 4};
    sg_assert_close_d("quoted", s.data, want3, 4, 0, 0);
    assert_string_equal(s.channel_names[0], "a x");
    sg_series_set_free(&s);
}

static void test_windows_and_column_labels(void **state)
{
    (void)state;
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    opt.window = 4;
    opt.stride = 2;
    opt.label_from = SENSOR_CSV_LABEL_COLUMN;
    opt.label_column = "act";
    /* 9 rows: windows start at 0, 2, 4 (6 + 4 > 9 is dropped) */
    const char *text = "v,act\n0,walk\n1,walk\n2,run\n3,run\n4,run\n5,walk\n6,walk\n7,walk\n8,sit\n";
    sg_series_set s;
    assert_int_equal(read_text(&s, text, "r/long.csv", &opt), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.n_channels, 1);
    assert_int_equal(s.n_samples, 4);
    const double want[] = {0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7};
    sg_assert_close_d("windows", s.data, want, 12, 0, 0);
    assert_int_equal(s.n_classes, 2);   /* sorted: run, walk */
    assert_string_equal(s.class_names[0], "run");
    assert_string_equal(s.class_names[1], "walk");
    /* majority: [walk walk run run] tie -> walk (seen first); [run run run walk] -> run;
     * [run walk walk walk] -> walk */
    assert_int_equal(s.label[0], 1);
    assert_int_equal(s.label[1], 0);
    assert_int_equal(s.label[2], 1);
    assert_string_equal(s.name[0], "long_w0001");
    assert_string_equal(s.name[2], "long_w0003");
    assert_int_equal(s.segment[2], 3);
    sg_series_set_free(&s);

    opt.label_first = 1;   /* first values: walk, run, run */
    assert_int_equal(read_text(&s, text, "r/long.csv", &opt), 0);
    assert_int_equal(s.label[0], 1);
    assert_int_equal(s.label[1], 0);
    assert_int_equal(s.label[2], 0);
    sg_series_set_free(&s);

    /* label column by index, default stride = window */
    opt.label_column = "1";
    opt.stride = 0;
    opt.window = 3;
    assert_int_equal(read_text(&s, text, "r/long.csv", &opt), 0);
    assert_int_equal(s.n, 3);
    /* [walk walk run] [run run walk] [walk walk sit]: sit never wins */
    assert_int_equal(s.n_classes, 2);
    assert_string_equal(s.class_names[s.label[1]], "run");
    assert_string_equal(s.class_names[s.label[2]], "walk");
    sg_series_set_free(&s);
}

static void test_regex_and_dir_labels(void **state)
{
    (void)state;
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    opt.label_from = SENSOR_CSV_LABEL_REGEX;
    opt.label_regex = "^subj[0-9]+_([a-z]+)\\.csv$";
    sg_series_set s;
    assert_int_equal(read_text(&s, "1\n2\n", "any/where/subj3_jump.csv", &opt), 0);
    assert_string_equal(s.class_names[0], "jump");
    sg_series_set_free(&s);
    expect_error("1\n2\n", &opt, "d/f.csv: file name does not match --label-regex "
                                 "'^subj[0-9]+_([a-z]+)\\.csv$'");
    opt.label_regex = "([";
    sg_series_set s2;
    assert_int_equal(read_text(&s2, "1\n", "d/f.csv", &opt), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "bad --label-regex '(['"));

    sensor_csv_options_default(&opt);
    assert_int_equal(read_text(&s2, "1\n", "f.csv", &opt), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "no parent folder"));

    /* a folder tree: labels from folders, sorted files, sorted classes */
    char *root = sg_test_tmpdir();
    char path[600];
    const char *files[][2] = {{"walk", "b.csv"}, {"walk", "a.csv"}, {"run", "c.txt"}};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i][0]);
        mkdir(path, 0777);
        snprintf(path, sizeof path, "%s/%s/%s", root, files[i][0], files[i][1]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "x,y\n%d,1\n%d,2\n", i, i);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/walk/readme.md", root);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("ignored", f);
    fclose(f);
    char *inputs[] = {root};
    assert_int_equal(sensor_csv_load(&s, inputs, 1, &opt), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.name[0], "c");   /* run/c.txt */
    assert_string_equal(s.name[1], "a");
    assert_string_equal(s.name[2], "b");
    assert_string_equal(s.class_names[0], "run");
    assert_string_equal(s.class_names[1], "walk");
    assert_int_equal(s.label[0], 0);
    assert_int_equal(s.label[2], 1);
    const double want[] = {2, 2, 1, 2};   /* run/c.txt: x then y */
    sg_assert_close_d("run/c.txt", s.data, want, 4, 0, 0);
    sg_series_set_free(&s);

    /* a bad file: fails, or is skipped and listed */
    snprintf(path, sizeof path, "%s/run/d.csv", root);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("x,y\n1,2\n3,oops\n", f);
    fclose(f);
    assert_int_equal(sensor_csv_load(&s, inputs, 1, &opt), SG_E_PARSE);
    char want_msg[700];
    snprintf(want_msg, sizeof want_msg, "%s:3:3: expected a number, got 'oops'", path);
    assert_string_equal(sg_last_error(), want_msg);
    sg_skipped sk = {0};
    assert_int_equal(sensor_csv_load_skip(&s, inputs, 1, &opt, &sk), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(sk.n, 1);
    assert_string_equal(sk.reason[0], want_msg);
    sg_skipped_free(&sk);
    sg_series_set_free(&s);
    sg_test_rmtree(root);
    free(root);
}

static void write_file(const char *root, const char *rel, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_subjects(void **state)
{
    (void)state;
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    /* a column: per window the majority; names numbered in sorted order */
    opt.window = 3;
    opt.subject_column = "who";
    sg_series_set s;
    const char *text = "x,who\n1,bob\n2,bob\n3,al\n4,al\n5,al\n6,bob\n";
    assert_int_equal(read_text(&s, text, "d/r.csv", &opt), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.n_channels, 1);   /* the subject column is not data */
    assert_int_equal(s.n_subject_names, 2);
    assert_string_equal(s.subject_names[0], "al");
    assert_string_equal(s.subject_names[1], "bob");
    assert_int_equal(s.subject[0], 2);   /* bob bob al */
    assert_int_equal(s.subject[1], 1);   /* al al bob */
    sg_series_set_free(&s);
    /* integers are the ids themselves */
    assert_int_equal(read_text(&s, "x,who\n1,7\n2,7\n3,7\n", "d/r.csv", &opt), 0);
    assert_int_equal(s.subject[0], 7);
    assert_int_equal(s.n_subject_names, 0);
    assert_null(s.subject_names);
    sg_series_set_free(&s);
    opt.subject_column = "whom";
    expect_error("x,who\n1,7\n2,7\n3,7\n", &opt,
                 "d/f.csv:1:1: unknown subject column 'whom' (available: x, who; or a 0-based "
                 "index)");
    opt.subject_column = "x";
    opt.columns = "x";
    expect_error("x,who\n1,7\n2,7\n3,7\n", &opt,
                 "d/f.csv:1:1: column 'x' is both the subject and a data column");
    opt.columns = NULL;
    opt.subject_regex = "p";
    expect_error("x\n1\n", &opt, "--subject-column and --subject-regex exclude each other");

    /* a regex on the path under the folder given (DSA's layout), and the
     * label regex on the same path */
    sensor_csv_options_default(&opt);
    opt.subject_regex = "/p([0-9]+)/";
    opt.label_from = SENSOR_CSV_LABEL_REGEX;
    opt.label_regex = "^(a[0-9]+)/";
    opt.header = SENSOR_CSV_HEADER_NO;
    char *root = sg_test_tmpdir();
    write_file(root, "a01/p1/s01.txt", "1,2\n3,4\n");
    write_file(root, "a01/p2/s01.txt", "1,2\n3,4\n");
    write_file(root, "a02/p1/s01.txt", "1,2\n3,4\n");
    char *inputs[] = {root};
    assert_int_equal(sensor_csv_load(&s, inputs, 1, &opt), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.subject[0], 1);
    assert_int_equal(s.subject[1], 2);
    assert_int_equal(s.subject[2], 1);
    assert_string_equal(s.class_names[0], "a01");
    assert_string_equal(s.class_names[1], "a02");
    assert_int_equal(s.label[2], 1);
    sg_series_set_free(&s);
    opt.subject_regex = "/q([0-9]+)/";
    assert_int_equal(sensor_csv_load(&s, inputs, 1, &opt), SG_E_INVALID);
    char want[900];
    snprintf(want, sizeof want,
             "%s/a01/p1/s01.txt: its path under the folder given, 'a01/p1/s01.txt', does not "
             "match --subject-regex '/q([0-9]+)/'",
             root);
    assert_string_equal(sg_last_error(), want);
    /* unlabelled (predict): no classes */
    opt.subject_regex = NULL;
    opt.label_from = SENSOR_CSV_LABEL_NONE;
    assert_int_equal(sensor_csv_load(&s, inputs, 1, &opt), 0);
    assert_int_equal(s.n_classes, 0);
    assert_int_equal(s.label[0], -1);
    assert_int_equal(s.subject[0], -1);
    sg_series_set_free(&s);

    /* what a folder holds: recordings; with an image or a manifest not */
    assert_int_equal(sensor_csv_is_recordings(root), 1);
    char path[700];
    snprintf(path, sizeof path, "%s/a01/p1/s01.txt", root);
    assert_int_equal(sensor_csv_is_recordings(path), 1);
    write_file(root, "a02/x.png", "");
    assert_int_equal(sensor_csv_is_recordings(root), 0);
    sg_test_rmtree(root);
    free(root);
    root = sg_test_tmpdir();
    write_file(root, "walk/r.csv", "1\n");
    write_file(root, "manifest.csv", "path,label\n");
    assert_int_equal(sensor_csv_is_recordings(root), 0);
    sg_test_rmtree(root);
    assert_int_equal(sensor_csv_is_recordings(root), 0);
    free(root);
}

static void test_bad_input_messages(void **state)
{
    (void)state;
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    expect_error("", &opt, "d/f.csv:1:1: empty file");
    expect_error("\n\n", &opt, "d/f.csv:1:1: empty file");
    expect_error("a,b\n", &opt, "d/f.csv:2:1: no data rows after the header");
    expect_error("a,b\n1,2\n3\n", &opt, "d/f.csv:3:2: row has 1 fields, expected 2");
    expect_error("a,b\n1,2\n3,4,5\n", &opt, "d/f.csv:3:5: row has more than 2 fields");
    expect_error("a,b\n1,2\n3,x4\n", &opt, "d/f.csv:3:3: expected a number, got 'x4'");
    expect_error("a,b\n1,2\n3,nan\n", &opt, "d/f.csv:3:3: non-finite value 'nan'");
    expect_error("a,b\n1,2\n3,-inf\n", &opt, "d/f.csv:3:3: non-finite value '-inf'");
    expect_error("a,b\n1,2\n,4\n", &opt, "d/f.csv:3:1: expected a number, got ''");
    expect_error("1,2\n3,1e99\n", &opt, "d/f.csv:2:3: non-finite value '1e99'");
    opt.columns = "a,zz";
    expect_error("a,b,c\n1,2,3\n", &opt,
                 "d/f.csv:1:1: unknown column 'zz' (available: a, b, c; or a 0-based index)");
    opt.columns = "a,a";
    expect_error("a,b,c\n1,2,3\n", &opt, "d/f.csv:1:1: column 'a' selected twice");
    opt.columns = NULL;
    opt.label_from = SENSOR_CSV_LABEL_COLUMN;
    opt.label_column = "label";
    expect_error("a,b\n1,2\n", &opt,
                 "d/f.csv:1:1: unknown label column 'label' (available: a, b; or a 0-based "
                 "index)");
    expect_error("a,label\n1,\n", &opt, "d/f.csv:2:3: empty label");
    opt.window = 5;
    expect_error("a,label\n1,x\n", &opt, "d/f.csv: 1 rows, fewer than the window of 5");
    opt.window = 0;
    opt.stride = 2;
    expect_error("a\n1\n", &opt, "--stride needs --window");
    opt.stride = 0;
    opt.label_from = SENSOR_CSV_LABEL_DIR;
    expect_error("a,b\n1,\"2\n", &opt,
                 "d/f.csv:3:1: malformed quoted field (unterminated quote or text after a quote)");
    expect_error("a,b\n1,\"2\"x\n", &opt,
                 "d/f.csv:2:6: malformed quoted field (unterminated quote or text after a quote)");
}

static void test_files_must_match(void **state)
{
    (void)state;
    char *root = sg_test_tmpdir();
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/a.csv", root);
    snprintf(b, sizeof b, "%s/b.csv", root);
    FILE *f = fopen(a, "w");
    assert_non_null(f);
    fputs("x\n1\n2\n3\n", f);
    fclose(f);
    f = fopen(b, "w");
    assert_non_null(f);
    fputs("x\n1\n2\n", f);
    fclose(f);
    sensor_csv_options opt;
    sensor_csv_options_default(&opt);
    char *inputs[] = {a, b};
    sg_series_set s;
    assert_int_equal(sensor_csv_load(&s, inputs, 2, &opt), SG_E_SHAPE);
    assert_non_null(strstr(sg_last_error(), "b.csv: 2 rows, but the first file has 3"));
    opt.window = 2;   /* windows make them compatible */
    assert_int_equal(sensor_csv_load(&s, inputs, 2, &opt), 0);
    assert_int_equal(s.n, 2);
    sg_series_set_free(&s);
    sg_test_rmtree(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_columns_whole_file),
        cmocka_unit_test(test_windows_and_column_labels),
        cmocka_unit_test(test_regex_and_dir_labels),
        cmocka_unit_test(test_subjects),
        cmocka_unit_test(test_bad_input_messages),
        cmocka_unit_test(test_files_must_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
