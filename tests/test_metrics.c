/* test_metrics.c - confusion matrix scores, log loss, softmax, top losses
 * and the confusion_matrix.csv writer against hand-checked values
 * (sklearn's documented examples). */
#include "tests/sg_test.h"

#include "src/train/metrics.h"
#include "src/base/sg_error.h"

static void assert_near(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) {
        print_error("%s: expected %.12g, got %.12g\n", what, want, got);
        fail();
    }
}

/* sklearn precision_recall_fscore_support docs: y_true [0,1,2,0,1,2],
 * y_pred [0,2,1,0,0,1] -> precision [2/3,0,0], recall [1,0,0],
 * f1 [0.8,0,0]. */
static void test_cm_scores(void **state)
{
    (void)state;
    const int truth[] = {0, 1, 2, 0, 1, 2}, pred[] = {0, 2, 1, 0, 0, 1};
    sg_cm cm;
    assert_int_equal(cm_create(&cm, 3), 0);
    assert_int_equal(cm_add_many(&cm, truth, pred, 6), 0);
    assert_int_equal(cm_total(&cm), 6);
    assert_near("accuracy", cm_accuracy(&cm), 2.0 / 6.0, 1e-15);
    const double p[3] = {2.0 / 3.0, 0, 0}, r[3] = {1, 0, 0}, f[3] = {0.8, 0, 0};
    for (int c = 0; c < 3; c++) {
        assert_near("precision", cm_precision(&cm, c), p[c], 1e-15);
        assert_near("recall", cm_recall(&cm, c), r[c], 1e-15);
        assert_near("f1", cm_f1(&cm, c), f[c], 1e-15);
    }
    assert_near("macro f1", cm_macro_f1(&cm), 0.8 / 3.0, 1e-15);
    /* counts[true][pred] */
    assert_int_equal(cm.counts[0 * 3 + 0], 2);
    assert_int_equal(cm.counts[1 * 3 + 0], 1);
    assert_int_equal(cm.counts[1 * 3 + 2], 1);
    assert_int_equal(cm.counts[2 * 3 + 1], 2);
    assert_int_equal(cm_add(&cm, 3, 0), SG_E_INVALID);
    assert_int_equal(cm_add(&cm, 0, -1), SG_E_INVALID);
    cm_free(&cm);
    assert_int_equal(cm_create(&cm, 0), SG_E_INVALID);
    /* empty matrix: everything undefined -> 0 */
    assert_int_equal(cm_create(&cm, 2), 0);
    assert_near("empty accuracy", cm_accuracy(&cm), 0, 0);
    assert_near("empty f1", cm_f1(&cm, 1), 0, 0);
    cm_free(&cm);
}

/* sklearn log_loss docs: log_loss(["spam","ham","ham","spam"],
 * [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) = 0.21616187468057912. */
static void test_log_loss(void **state)
{
    (void)state;
    const float probs[] = {0.1f, 0.9f, 0.9f, 0.1f, 0.8f, 0.2f, 0.35f, 0.65f};
    const int labels[] = {1, 0, 0, 1};
    double ll;
    assert_int_equal(sg_log_loss(&ll, probs, labels, 4, 2), 0);
    assert_near("log loss", ll, 0.21616187468057912, 1e-7);
    /* clipping: p = 0 for the true class costs -log(1e-15) */
    const float hard[] = {0.0f, 1.0f};
    assert_near("clipped", sg_sample_log_loss(hard, 2, 0), 34.538776394910684, 1e-9);
    const int bad[] = {2};
    assert_int_equal(sg_log_loss(&ll, hard, bad, 1, 2), SG_E_INVALID);
    assert_int_equal(sg_log_loss(&ll, hard, bad, 0, 2), SG_E_INVALID);
}

static void test_softmax_argmax(void **state)
{
    (void)state;
    const float a[3] = {1, 2, 3}, big[3] = {1000, 1001, 1002};
    const double want[3] = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
    float p[3];
    sg_softmax(p, a, 3);
    sg_assert_close("softmax", p, want, 3, 1e-7, 0);
    sg_softmax(p, big, 3);   /* no overflow */
    sg_assert_close("softmax large", p, want, 3, 1e-7, 0);
    assert_int_equal(sg_argmax(p, 3), 2);
    const float tie[3] = {5, 5, 1};
    assert_int_equal(sg_argmax(tie, 3), 0);
}

static void test_top_losses(void **state)
{
    (void)state;
    const double losses[] = {0.5, 2.0, 0.1, 2.0, 3.0, 0.7};
    size_t top[6];
    assert_int_equal(sg_top_losses(top, losses, 6, 3), 3);
    assert_int_equal(top[0], 4);
    assert_int_equal(top[1], 1);   /* tie 2.0: lower index first */
    assert_int_equal(top[2], 3);
    assert_int_equal(sg_top_losses(top, losses, 6, 10), 6);
    const size_t all[6] = {4, 1, 3, 5, 0, 2};
    for (int i = 0; i < 6; i++)
        assert_int_equal(top[i], all[i]);
    assert_int_equal(sg_top_losses(top, losses, 0, 3), 0);
}

static void test_cm_csv(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/confusion_matrix.csv", dir);
    sg_cm cm;
    assert_int_equal(cm_create(&cm, 3), 0);
    const int truth[] = {0, 0, 1, 2, 2, 2}, pred[] = {0, 1, 1, 2, 0, 2};
    assert_int_equal(cm_add_many(&cm, truth, pred, 6), 0);
    const char *names[3] = {"cat", "dog, big", "say \"hi\""};
    assert_int_equal(cm_write_csv(&cm, names, path), 0);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char buf[512] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    const char *want = "label,cat,\"dog, big\",\"say \"\"hi\"\"\"\n"
                       "cat,1,1,0\n"
                       "\"dog, big\",0,1,0\n"
                       "\"say \"\"hi\"\"\",1,0,2\n";
    if (n != strlen(want) || memcmp(buf, want, n) != 0) {
        print_error("csv: expected\n%s\ngot\n%s\n", want, buf);
        fail();
    }
    /* unwritable folder: an error, no file */
    assert_int_equal(cm_write_csv(&cm, names, "/nonexistent-dir/cm.csv"), SG_E_IO);
    cm_free(&cm);
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cm_scores),
        cmocka_unit_test(test_log_loss),
        cmocka_unit_test(test_softmax_argmax),
        cmocka_unit_test(test_top_losses),
        cmocka_unit_test(test_cm_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
