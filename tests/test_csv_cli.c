/* test_csv_cli.c - CSV recordings through the binary's model commands,
 * read into the same in-memory series set as --dataset dsa:
 *
 *  - DSA read through the CSV reader (--no-header --columns 0..8, labels
 *    and subjects from regexes on the path) trains exactly as --dataset
 *    dsa --units T: the same segments, channels, split and seed give the
 *    same validation predictions and metrics (class names aside: a01
 *    against sitting);
 *  - a generic folder (two classes, three subjects named in the file
 *    names, cut into windows) trains with --cv loso and --valid-subjects;
 *    the run evaluates a held-out folder and predicts an unlabelled one
 *    with the CSV options it was trained with;
 *  - bad recordings (a ragged row, a non-number, an unknown subject
 *    column) are one-line errors naming FILE:LINE:COLUMN, exit 1, and
 *    leave no run folder.
 * Skips the DSA case where no DSA data is there.
 */
#include "tests/sg_run.h"

#include "src/base/rng.h"

#include <math.h>

/* Options both routes share: one small model, one epoch, one thread. */
#define COMMON                                                                           \
    "--encoder gray --arch resnet18 --epochs 1 --bs 8 --seed 1 --no-augment -j 1 "       \
    "--threads 1 --no-progress"

/* The lines of a file (caller frees lines[0] and lines); n in *n. */
static char **read_lines(const char *path, size_t *n)
{
    char *text = sg_test_slurp(path);
    if (!text)
        fail_msg("%s is missing", path);
    size_t cap = 16, k = 0;
    char **v = malloc(cap * sizeof *v);
    assert_non_null(v);
    for (char *p = text; *p;) {
        if (k + 1 == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        v[k++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    if (k == 0)
        v[0] = text;
    *n = k;
    return v;
}

/* The n-th comma-separated field of line (no quoting in these files). */
static const char *field_at(const char *line, int n, size_t *len)
{
    for (int i = 0; i < n && line; i++) {
        line = strchr(line, ',');
        line = line ? line + 1 : NULL;
    }
    if (!line)
        return NULL;
    const char *e = strchr(line, ',');
    *len = e ? (size_t)(e - line) : strlen(line);
    return line;
}

/* The index of a class name among the header's class columns (4 on). */
static int class_column(const char *header, const char *name, size_t len)
{
    for (int c = 4;; c++) {
        size_t l;
        const char *f = field_at(header, c, &l);
        if (!f)
            return -1;
        if (l == len && strncmp(f, name, len) == 0)
            return c - 4;
    }
}

/* predictions.csv of both runs: the same rows in the same order, the same
 * loss and probabilities, labels and predictions the same classes. */
static void assert_same_predictions(const char *a_path, const char *b_path)
{
    size_t na, nb;
    char **a = read_lines(a_path, &na), **b = read_lines(b_path, &nb);
    assert_int_equal(na, nb);
    assert_true(na > 1);
    for (size_t i = 1; i < na; i++) {
        size_t la, lb;
        const char *fa = field_at(a[i], 3, &la), *fb = field_at(b[i], 3, &lb);
        if (!fa || !fb || strcmp(fa, fb) != 0)
            fail_msg("predictions row %zu: loss and probabilities differ:\n  %s\n  %s", i, a[i],
                     b[i]);
        for (int col = 1; col <= 2; col++) {
            const char *ca = field_at(a[i], col, &la), *cb = field_at(b[i], col, &lb);
            int ka = class_column(a[0], ca, la), kb = class_column(b[0], cb, lb);
            if (ka < 0 || ka != kb)
                fail_msg("predictions row %zu, %s: class %d against %d:\n  %s\n  %s", i,
                         col == 1 ? "label" : "pred", ka, kb, a[i], b[i]);
        }
    }
    free(a[0]);
    free(a);
    free(b[0]);
    free(b);
}

/* metrics.csv of both runs: equal but for the seconds column (last). */
static void assert_same_metrics(const char *a_path, const char *b_path)
{
    size_t na, nb;
    char **a = read_lines(a_path, &na), **b = read_lines(b_path, &nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        char *ea = strrchr(a[i], ','), *eb = strrchr(b[i], ',');
        assert_non_null(ea);
        assert_non_null(eb);
        if (ea - a[i] != eb - b[i] || strncmp(a[i], b[i], (size_t)(ea - a[i])) != 0)
            fail_msg("metrics row %zu differs:\n  %s\n  %s", i, a[i], b[i]);
    }
    free(a[0]);
    free(a);
    free(b[0]);
    free(b);
}

static void test_dsa_through_csv_equals_dsa(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char root[1100], cmd[3000];
    snprintf(root, sizeof root, "%s/dsa", tmp);
    if (sg_test_dsa_subset(root, "a01 a02 a03", "p1 p2") != 0) {
        sg_test_rmtree(tmp);
        free(tmp);
        SG_REQUIRE_DSA("");
    }
    /* five segments per activity and subject: 30 in all */
    snprintf(cmd, sizeof cmd, "find '%s' -name 's*.txt' ! -name 's0[1-5].txt' -delete", root);
    assert_int_equal(system(cmd), 0);

    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --dataset dsa --single --units T --sensors acc,gyro,mag "
                         COMMON " --out '%s/r_dsa'",
                         root, tmp);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    /* the same nine columns (T's acc, gyro, mag), labels aNN from the
     * activity folder, subjects from pM */
    st = sg_test_run(&log, NULL,
                     "train '%s' --no-header --columns 0,1,2,3,4,5,6,7,8 --label-regex "
                     "'^(a[0-9]+)/' --subject-regex '/p([0-9]+)/' " COMMON " --out '%s/r_csv'",
                     root, tmp);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "validation holds out subject");
    free(log);

    char a[1300], b[1300];
    snprintf(a, sizeof a, "%s/r_dsa/predictions.csv", tmp);
    snprintf(b, sizeof b, "%s/r_csv/predictions.csv", tmp);
    assert_same_predictions(a, b);
    snprintf(a, sizeof a, "%s/r_dsa/metrics.csv", tmp);
    snprintf(b, sizeof b, "%s/r_csv/metrics.csv", tmp);
    assert_same_metrics(a, b);
    sg_test_rmtree(tmp);
    free(tmp);
}

/* One recording: rows of acc_x,acc_y,acc_z, still (gravity on z) or
 * swinging. */
static void write_recording(const char *path, int swing, int rows, sg_rng *rng)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("acc_x,acc_y,acc_z\n", f);
    double phase = sg_rng_range(rng, 0, 6.283);
    for (int t = 0; t < rows; t++)
        for (int d = 0; d < 3; d++) {
            double v = 0.05 * sg_rng_range(rng, -1, 1) + (d == 2 ? 9.81 : 0.0);
            if (swing)
                v += 3.0 * sin(0.4 * t + phase + d);
            fprintf(f, "%.5f%s", v, d == 2 ? "\n" : ",");
        }
    assert_int_equal(fclose(f), 0);
}

/* dir/still/NAME_rec.csv and dir/swing/NAME_rec.csv for each subject
 * name (flat: dir/NAME_still.csv, unlabelled). */
static void write_folder(const char *dir, const char *const *names, int n, int flat,
                         uint64_t seed)
{
    sg_rng rng;
    sg_rng_seed(&rng, seed);
    char path[1300];
    static const char *const classes[] = {"still", "swing"};
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/%s", dir, flat ? "" : classes[c]);
        mkdir(dir, 0777);
        mkdir(path, 0777);
        for (int i = 0; i < n; i++) {
            if (flat)
                snprintf(path, sizeof path, "%s/%s_%s.csv", dir, names[i], classes[c]);
            else
                snprintf(path, sizeof path, "%s/%s/%s_rec.csv", dir, classes[c], names[i]);
            write_recording(path, c, 96, &rng);
        }
    }
}

static void test_generic_folder(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char data[1100], held[1100], unl[1100];
    snprintf(data, sizeof data, "%s/data", tmp);
    snprintf(held, sizeof held, "%s/held", tmp);
    snprintf(unl, sizeof unl, "%s/unlabelled", tmp);
    static const char *const names[] = {"alice", "bob", "carol"};
    static const char *const others[] = {"dave"};
    write_folder(data, names, 3, 0, 1);
    write_folder(held, others, 1, 0, 2);
    write_folder(unl, others, 1, 1, 3);

    /* leave-one-subject-out over the three named subjects */
    char *log = NULL;
    int st = sg_test_run(&log, NULL,
                         "train '%s' --window 32 --subject-regex '^[a-z]+/([a-z]+)_' --cv loso "
                         COMMON " --out '%s/loso'",
                         data, tmp);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "subjects numbered from their names in sorted order: 1=alice, "
                            "2=bob, 3=carol");
    SG_ASSERT_CONTAINS(log, "over 3 folds");
    free(log);

    /* carol held out by name's number; 6 files x 3 windows of 32 rows */
    char run[1200];
    snprintf(run, sizeof run, "%s/run", tmp);
    st = sg_test_run(&log, NULL,
                     "train '%s' --window 32 --subject-regex '^[a-z]+/([a-z]+)_' "
                     "--valid-subjects 3 " COMMON " --out '%s'",
                     data, run);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "12 training and 6 validation samples, 2 classes");
    free(log);

    /* nothing set: the recipe for recordings with subjects (few passes,
     * at least 200 steps, both gray scalings, a fifth of the subjects
     * held out; src/cli/cli_preset.c) */
    char rec[1200];
    snprintf(rec, sizeof rec, "%s/recipe", tmp);
    st = sg_test_run(&log, NULL,
                     "train '%s' --window 32 --subject-regex '^[a-z]+/([a-z]+)_' --single "
                     "--image-size 16 -j 1 --threads 1 --no-progress --out '%s'",
                     data, rec);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "--bs auto: 8 for 12 training samples; --train-steps 200: 200 "
                            "epochs");
    free(log);
    char cfg[1300];
    snprintf(cfg, sizeof cfg, "%s/config.json", rec);
    char *config = sg_test_slurp(cfg);
    assert_non_null(config);
    SG_ASSERT_CONTAINS(config, "\"scope\": \"axis\"");
    free(config);

    /* eval: the held-out folder read as in training (windows of 32) */
    st = sg_test_run(&log, NULL, "eval '%s' '%s' -o '%s/eval'", run, held, tmp);
    SG_ASSERT_EXIT(st, 0, log);
    SG_ASSERT_CONTAINS(log, "6 samples: accuracy ");
    free(log);

    /* predict: files without class folders, named by file and window */
    char preds[1200];
    snprintf(preds, sizeof preds, "%s/preds.csv", tmp);
    st = sg_test_run(&log, NULL, "predict '%s' '%s' -o '%s'", run, unl, preds);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    char *csv = sg_test_slurp(preds);
    assert_non_null(csv);
    char want[1300];
    snprintf(want, sizeof want, "\n%s/dave_still.csv#w0003,,", unl);
    SG_ASSERT_CONTAINS(csv, want);
    snprintf(want, sizeof want, "\n%s/dave_swing.csv#w0001,,", unl);
    SG_ASSERT_CONTAINS(csv, want);
    free(csv);
    sg_test_rmtree(tmp);
    free(tmp);
}

/* train on dir with extra options: exit 1, exactly `want` on stderr, no
 * run folder. */
static void expect_refused(const char *dir, const char *opts, const char *tmp, const char *want)
{
    char run[1200];
    snprintf(run, sizeof run, "%s/run_bad", tmp);
    char *log = NULL;
    int st = sg_test_run(&log, NULL, "train '%s' %s " COMMON " --out '%s'", dir, opts, run);
    SG_ASSERT_EXIT(st, 1, log);
    if (strcmp(log, want) != 0)
        fail_msg("expected:\n%sgot:\n%s", want, log);
    free(log);
    assert_false(sg_test_path_exists(run));
}

static void test_bad_recordings(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir();
    char dir[1100], path[1300], want[2000];
    snprintf(dir, sizeof dir, "%s/bad", tmp);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/walk", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/sit", dir);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/sit/a.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x,y,who\n1,2,7\n3,4,7\n", f);
    assert_int_equal(fclose(f), 0);

    /* a ragged row */
    snprintf(path, sizeof path, "%s/walk/b.csv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("x,y,who\n1,2,7\n3,4\n", f);
    assert_int_equal(fclose(f), 0);
    snprintf(want, sizeof want, "sensorgram train: %s:3:4: row has 2 fields, expected 3\n", path);
    expect_refused(dir, "", tmp, want);

    /* a non-number */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("x,y,who\n1,2,7\n3,oops,7\n", f);
    assert_int_equal(fclose(f), 0);
    snprintf(want, sizeof want, "sensorgram train: %s:3:3: expected a number, got 'oops'\n",
             path);
    expect_refused(dir, "--subject-column who", tmp, want);

    /* an unknown subject column */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("x,y,who\n1,2,7\n3,4,7\n", f);
    assert_int_equal(fclose(f), 0);
    snprintf(path, sizeof path, "%s/sit/a.csv", dir);
    snprintf(want, sizeof want,
             "sensorgram train: %s:1:1: unknown subject column 'whom' (available: x, y, who; or "
             "a 0-based index)\n",
             path);
    expect_refused(dir, "--subject-column whom", tmp, want);
    sg_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsa_through_csv_equals_dsa),
        cmocka_unit_test(test_generic_folder),
        cmocka_unit_test(test_bad_recordings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
