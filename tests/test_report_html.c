/* test_report_html.c - RUN/report.html (figures/fig_report.c) through the
 * binary (SG_BIN), opened in headless Chromium by tools/report_check.py.
 *
 * Two synthetic run folders, written here (no libtorch needed): an
 * ensemble of two members and a leave-one-subject-out run, with class
 * and segment names that must be escaped; `sensorgram figures` draws
 * their figures and pages.  Then one tiny real training run (120 DSA
 * segments, one epoch at 16x16) whose page `train` writes itself.
 * Every page must load without a console message, a broken image or an
 * empty table; and copies broken on purpose (an image deleted, a table
 * emptied, a console error added) must fail the same check, so it
 * cannot pass by accident.  Without Chromium the browser checks skip
 * (make deps installs it); without DSA data or libtorch the real run
 * skips.
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include "src/image/png_io.h"

#include <jansson.h>

typedef struct fx {
    char *tmp;
    char data[4200]; /* DSA root with a09 (walking) and a12 (running) of p1 */
} fx;

static int setup(void **state)
{
    fx *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->tmp = sg_test_tmpdir();
    snprintf(e->data, sizeof e->data, "%s/dsa", e->tmp);
    if (sg_test_dsa_subset(e->data, "a09 a12", "p1") != 0)
        e->data[0] = '\0';
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    fx *e = *state;
    sg_test_rmtree(e->tmp);
    free(e->tmp);
    free(e);
    return 0;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *dir)
{
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Runs tools/report_check.py on RUN/report.html; returns its exit status
 * (77: no Chromium) with its output in *out (caller frees). */
static int report_check(char **out, const char *run)
{
    char log[64] = "/tmp/sgtest_check.XXXXXX", cmd[9000];
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "%s tools/report_check.py '%s/report.html' >%s 2>&1",
             sg_test_python(), run, log);
    int st = system(cmd);
    *out = sg_test_slurp(log);
    unlink(log);
    assert_true(st != -1 && WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* The page of run passes the browser check; skips the test (after the
 * checks before it) where there is no Chromium. */
static void assert_page_clean(const char *run)
{
    char *out = NULL;
    int rc = report_check(&out, run);
    if (rc == 77) {
        print_message("SKIP: no chromium for the browser check (make deps installs it)\n");
        free(out);
        skip();
    }
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "clean");
    free(out);
}

/* The check of run fails, naming needle. */
static void assert_page_broken(const char *run, const char *needle)
{
    char *out = NULL;
    int rc = report_check(&out, run);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, needle);
    free(out);
}

/* Copies run to copy (replacing it). */
static void copy_run(const char *run, const char *copy)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", copy, run, copy);
    assert_int_equal(system(cmd), 0);
}

/* Replaces the first `from` in copy/report.html, at or after `after`,
 * with `to`; from == NULL: cuts everything between `after` and `to`. */
static void edit_page(const char *copy, const char *after, const char *from, const char *to)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/report.html", copy);
    char *page = sg_test_slurp(path);
    assert_non_null(page);
    char *at = strstr(page, after);
    assert_non_null(at);
    char *cut = from ? strstr(at, from) : at + strlen(after);
    assert_non_null(cut);
    char *rest = from ? cut + strlen(from) : strstr(cut, to);
    assert_non_null(rest);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(page, 1, (size_t)(cut - page), f);
    fputs(from ? to : "", f);
    fputs(rest, f);
    assert_int_equal(fclose(f), 0);
    free(page);
}

/* Each way a page can break fails the check: the proof that a clean
 * check means something. */
static void assert_breakage_caught(const char *run, const char *tmp)
{
    char copy[4400], path[4600];
    snprintf(copy, sizeof copy, "%s/broken", tmp);

    copy_run(run, copy); /* an image gone after the page was written */
    snprintf(path, sizeof path, "%s/figures/confusion_matrix.png", copy);
    assert_int_equal(unlink(path), 0);
    assert_page_broken(copy, "image did not load: figures/confusion_matrix.png");

    copy_run(run, copy); /* the per-class table without rows */
    edit_page(copy, "<caption>Precision, recall and F1", NULL, "</tbody>");
    assert_page_broken(copy, "empty table: Precision, recall and F1");

    copy_run(run, copy); /* a script error */
    edit_page(copy, "<section id=\"files\">", "</body>",
              "<script>console.error('planted error')</script></body>");
    assert_page_broken(copy, "planted error");
}

/* ------------------------------------------------------------------ */
/* Synthetic run folders                                               */

/* Three classes, one name of which is HTML. */
#define CLASSES "walking,\"<script>alert(1)</script>\",\"a&b \"\"q\"\"\""
#define CLASS_JSON "[\"walking\", \"<script>alert(1)</script>\", \"a&b \\\"q\\\"\"]"

static const char confusion_csv[] =
    "label," CLASSES "\n"
    "walking,3,1,0\n"
    "\"<script>alert(1)</script>\",0,2,1\n"
    "\"a&b \"\"q\"\"\",0,0,3\n";

static const char predictions_csv[] =
    "path,label,pred,loss," CLASSES "\n"
    "seg_<1>,walking,walking,0.1,0.9,0.05,0.05\n"
    "seg_2,walking,walking,0.1,0.9,0.05,0.05\n"
    "seg_3,walking,walking,0.2,0.8,0.1,0.1\n"
    "seg_&4,walking,\"<script>alert(1)</script>\",1.6,0.2,0.7,0.1\n"
    "seg_5,\"<script>alert(1)</script>\",\"<script>alert(1)</script>\",0.3,0.1,0.7,0.2\n"
    "seg_6,\"<script>alert(1)</script>\",\"<script>alert(1)</script>\",0.3,0.1,0.7,0.2\n"
    "seg_7,\"<script>alert(1)</script>\",\"a&b \"\"q\"\"\",1.2,0.1,0.3,0.6\n"
    "seg_8,\"a&b \"\"q\"\"\",\"a&b \"\"q\"\"\",0.2,0.1,0.1,0.8\n"
    "seg_9,\"a&b \"\"q\"\"\",\"a&b \"\"q\"\"\",0.2,0.1,0.1,0.8\n"
    "seg_10,\"a&b \"\"q\"\"\",\"a&b \"\"q\"\"\",0.2,0.1,0.1,0.8\n";

static const char metrics_csv[] =
    "kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,accuracy,log_loss,seconds\n"
    "step,0,0,0,0.0001,0.95,1.2,,,,\n"
    "step,0,0,1,0.001,0.85,0.9,,,,\n"
    "epoch,0,0,1,,,1.0,0.8,0.6,0.8,1.5\n"
    "step,0,1,2,0.0005,0.9,0.6,,,,\n"
    "step,0,1,3,0.00001,0.95,0.5,,,,\n"
    "epoch,0,1,3,,,0.55,0.6,0.8,0.6,1.4\n";

static const char results_json[] =
    "\"results\": {\"n_valid\": 10, \"accuracy\": 0.8, \"log_loss\": 0.44, \"macro_f1\": 0.79}";

/* A run folder's CSVs and two top-loss images. */
static void write_run_files(const char *dir, int with_metrics)
{
    make_dir(dir);
    write_text(dir, "confusion_matrix.csv", confusion_csv);
    write_text(dir, "predictions.csv", predictions_csv);
    if (with_metrics)
        write_text(dir, "metrics.csv", metrics_csv);
    char sub[4400], png[4500];
    snprintf(sub, sizeof sub, "%s/top_losses", dir);
    make_dir(sub);
    float px[8 * 24];
    for (int i = 0; i < 8 * 24; i++)
        px[i] = (float)(i % 24) / 23.0f;
    for (int k = 1; k <= 2; k++) {
        snprintf(png, sizeof png, "%s/0%d.png", sub, k);
        assert_int_equal(sg_png_write(png, px, 1, 8, 24, 8), 0);
    }
    write_text(dir, "top_losses.csv",
               "rank,image,label,pred,prob,loss\n"
               "1,top_losses/01.png,walking,\"<script>alert(1)</script>\",0.7,1.6\n"
               "2,top_losses/02.png,\"<script>alert(1)</script>\",\"a&b \"\"q\"\"\",0.6,1.2\n");
}

static void figures_ok(const char *dir)
{
    char *out = NULL;
    int rc = sg_test_run(&out, NULL, "figures '%s'", dir);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "report.html");
    free(out);
}

static char *read_page(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *page = sg_test_slurp(path);
    if (!page)
        print_error("%s was not written\n", path);
    assert_non_null(page);
    return page;
}

/* Every file-borne string is escaped: the class named as a script is
 * text, never markup. */
static void assert_escaped(const char *page)
{
    SG_ASSERT_CONTAINS(page, "&lt;script&gt;alert(1)&lt;/script&gt;");
    SG_ASSERT_CONTAINS(page, "a&amp;b &quot;q&quot;");
    SG_ASSERT_CONTAINS(page, "seg_&lt;1&gt;");
    if (strstr(page, "<script>alert")) {
        print_error("a class name reached the page unescaped\n");
        fail();
    }
}

static void test_synthetic_ensemble_and_cv(void **state)
{
    fx *e = *state;
    char ens[4300], dir[4400], cfg[4096];
    snprintf(ens, sizeof ens, "%s/ens", e->tmp);
    for (int m = 0; m < 2; m++) {
        snprintf(dir, sizeof dir, "%s/member_%d", ens, m);
        write_run_files(dir, 1);
        snprintf(cfg, sizeof cfg,
                 "{\"command\": \"train\", \"argv\": [\"train\", \"--dataset\", \"dsa\", "
                 "\"my data\"], \"options\": {\"cv\": \"none\", \"epochs\": 2}, "
                 "\"classes\": " CLASS_JSON ", \"n_samples\": 50, "
                 "\"results\": {\"n_valid\": 10, \"accuracy\": %.1f, \"log_loss\": 0.5, "
                 "\"macro_f1\": 0.7}}",
                 0.7 + 0.1 * m);
        write_text(dir, "config.json", cfg);
        figures_ok(dir);
    }
    write_run_files(ens, 0);
    snprintf(cfg, sizeof cfg,
             "{\"command\": \"train\", \"argv\": [\"train\", \"--dataset\", \"dsa\", "
             "\"my data\"], \"options\": {\"cv\": \"none\", \"epochs\": 2}, "
             "\"classes\": " CLASS_JSON ", \"n_samples\": 50, "
             "\"ensemble\": [{\"dir\": \"member_0\", \"options\": \"\"}, "
             "{\"dir\": \"member_1\", \"options\": \"--encoder <gasf>\"}], %s}",
             results_json);
    write_text(ens, "config.json", cfg);
    figures_ok(ens);
    char *page = read_page(ens);
    assert_escaped(page);
    SG_ASSERT_CONTAINS(page, "sensorgram train --dataset dsa 'my data'");
    SG_ASSERT_CONTAINS(page, "<section id=\"members\">");
    SG_ASSERT_CONTAINS(page, "href=\"member_1/report.html\"");
    SG_ASSERT_CONTAINS(page, "--encoder &lt;gasf&gt;");
    SG_ASSERT_CONTAINS(page, "src=\"member_0/figures/confusion_matrix.png\"");
    /* the cell (walking, script) links to its one segment, seg_&4 */
    SG_ASSERT_CONTAINS(page, "<a href=\"#cm-0-1\">1</a>");
    SG_ASSERT_CONTAINS(page, "id=\"cm-0-1\"");
    SG_ASSERT_CONTAINS(page, "seg_&amp;4");
    free(page);

    char cv[4300];
    snprintf(cv, sizeof cv, "%s/cv", e->tmp);
    write_run_files(cv, 1);
    snprintf(cfg, sizeof cfg,
             "{\"command\": \"train\", \"argv\": [\"train\", \"--cv\", \"loso\"], "
             "\"options\": {\"cv\": \"loso\"}, \"classes\": " CLASS_JSON ", "
             "\"n_samples\": 20, %s, \"folds\": ["
             "{\"fold\": 0, \"subject\": 3, \"n_train\": 10, \"n_valid\": 5, "
             "\"accuracy\": 0.6, \"log_loss\": 0.7, \"seconds\": 2.0},"
             "{\"fold\": 1, \"subject\": 7, \"n_train\": 10, \"n_valid\": 5, "
             "\"accuracy\": 1.0, \"log_loss\": 0.2, \"seconds\": 2.5}], "
             "\"cv_worst_subject\": 3, \"cv_accuracy_worst\": 0.6, "
             "\"cv_accuracy_mean\": 0.8, \"cv_accuracy_std\": 0.2}",
             results_json);
    write_text(cv, "config.json", cfg);
    write_text(cv, "cv_folds.csv", "fold,subject,n_train,n_valid,accuracy,log_loss\n"
                                   "0,3,10,5,0.6,0.7\n1,7,10,5,1.0,0.2\n");
    figures_ok(cv);
    page = read_page(cv);
    assert_escaped(page);
    SG_ASSERT_CONTAINS(page, "<section id=\"folds\">");
    SG_ASSERT_CONTAINS(page, "Worst subject: 3 (accuracy 60.00%)");
    SG_ASSERT_CONTAINS(page, "src=\"figures/loss_curves.png\"");
    free(page);

    assert_page_clean(ens);
    assert_page_clean(cv);
    /* a member's figure gone: the ensemble page shows it broken */
    char copy[4400], path[4600];
    snprintf(copy, sizeof copy, "%s/ens_broken", e->tmp);
    copy_run(ens, copy);
    snprintf(path, sizeof path, "%s/member_1/figures/loss_curves.png", copy);
    assert_int_equal(unlink(path), 0);
    assert_page_broken(copy, "image did not load: member_1/figures/loss_curves.png");
}

/* ------------------------------------------------------------------ */

static void test_train_writes_report(void **state)
{
    fx *e = *state;
    SG_REQUIRE_TORCH();
    SG_REQUIRE_DSA(e->data);
    char run[4300], *out = NULL;
    snprintf(run, sizeof run, "%s/run", e->tmp);
    int rc = sg_test_run(&out, NULL,
                         "train --dataset dsa '%s' --single --units T --sensors acc "
                         "--arch resnet18 --image-size 16 --bs 32 --epochs 1 --pretrained none "
                         "--valid-pct 0.25 --seed 3 -j 1 --no-progress --out '%s'",
                         e->data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    char *page = read_page(run);
    SG_ASSERT_CONTAINS(page, "sensorgram train --dataset dsa");
    SG_ASSERT_CONTAINS(page, "--epochs 1");
    SG_ASSERT_CONTAINS(page, "<section id=\"classes\">");
    SG_ASSERT_CONTAINS(page, "<section id=\"confusion\">");
    SG_ASSERT_CONTAINS(page, "<section id=\"curves\">");
    SG_ASSERT_CONTAINS(page, "<section id=\"top-losses\">");
    SG_ASSERT_CONTAINS(page, "src=\"figures/loss_curves.png\" alt=\"Loss curves over ");
    free(page);
    /* config.json records the command line the page shows */
    char cfg[4400];
    snprintf(cfg, sizeof cfg, "%s/config.json", run);
    json_error_t err;
    json_t *config = json_load_file(cfg, 0, &err);
    assert_non_null(config);
    json_t *argv = json_object_get(config, "argv");
    assert_string_equal(json_string_value(json_array_get(argv, 0)), "train");
    assert_string_equal(json_string_value(json_array_get(argv, json_array_size(argv) - 1)),
                        e->data);
    json_decref(config);

    assert_page_clean(run);
    assert_breakage_caught(run, e->tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_ensemble_and_cv),
        cmocka_unit_test(test_train_writes_report),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
