/* test_train_ensemble.c - `train --member OPTS ...` through the binary,
 * on walking vs running of DSA subjects 1-2 (ResNet18 at 16x16, 1 epoch):
 *   usage: options every member must share are refused inside --member,
 *     as are words that are no options, a bad member option and
 *     --resume, each in one line before anything is trained (no folder
 *     left);
 *   --cv loso --keep-folds with two members of other inputs (torso vs
 *     right-arm accelerometers): RUN/member_N are whole runs; RUN's
 *     out-of-fold probabilities are the mean of the members' own, to
 *     1e-6, and differ from either; RUN's per-subject accuracy is that of
 *     those means (computed here from the members' files); `eval` of
 *     fold 0's two models on its held-out subject gives RUN's rows of
 *     that subject; `eval RUN` takes all four fold models;
 *   without CV: `eval RUN` on the validation subject reproduces RUN's
 *     predictions (members' last.safetensors), and --overwrite with one
 *     member removes the stale member_1.
 */
#include "tests/sg_preds.h"
#include "tests/sg_walkrun.h"

#include <jansson.h>

typedef walkrun fx;

#define COMMON                                                                            \
    "--dataset dsa '%s' --sensors acc --units T --arch resnet18 --image-size 16 --bs 16 " \
    "--lr 2e-3 --pretrained none --seed 3 -j 1 --threads 1 --no-progress --epochs 1"

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    walkrun_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    walkrun_close(f);
    free(f);
    return 0;
}

static preds *load_preds(const char *dir)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/predictions.csv", dir);
    preds *p = malloc(sizeof *p);
    assert_non_null(p);
    read_preds(p, path);
    return p;
}

/* config.json's number at results.KEY or folds[fold].KEY */
static double config_number(const char *run, int fold, const char *key)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/config.json", run);
    json_error_t err;
    json_t *c = json_load_file(path, 0, &err);
    assert_non_null(c);
    json_t *o = fold < 0 ? json_object_get(c, "results")
                         : json_array_get(json_object_get(c, "folds"), (size_t)fold);
    assert_non_null(o);
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    double x = json_number_value(v);
    json_decref(c);
    return x;
}

static void test_member_usage_errors(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(f);
    static const struct {
        const char *args, *want;
    } cases[] = {
        {"--member '' --member '--out x'", "--member '--out x': --out is shared by all members"},
        {"--member '--cv=loso'", "--member '--cv=loso': --cv is shared by all members"},
        {"--member '--sensors gyro extra'", "--member '--sensors gyro extra': 'extra' is not an option"},
        {"--member '--lr abc'", "--member '--lr abc': "},
        {"--member '--ema 0.9 --swa 1'", "--ema and --swa are two ways"},
        {"--single --member ''", "--single and --member exclude each other"},
        {"--member '' --resume", "--resume continues one run"},
    };
    char run[4400], *out;
    snprintf(run, sizeof run, "%s/bad", f->tmp);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int rc = sg_test_run(&out, NULL, "train " COMMON " %s --out '%s'", f->data, cases[i].args,
                             run);
        SG_ASSERT_EXIT(rc, 2, out);
        SG_ASSERT_CONTAINS(out, cases[i].want);
        assert_null(strchr(strchr(out, '\n') ? strchr(out, '\n') + 1 : "", '\n'));
        free(out);
        assert_false(sg_test_path_exists(run));
    }
}

/* Accuracy (label = argmax) and log loss of rows whose name holds tag. */
static void score(const preds *p, const char *tag, double *acc, double *ll)
{
    int n = 0, right = 0;
    double loss = 0;
    for (int i = 0; i < p->n; i++) {
        if (!strstr(p->name[i], tag))
            continue;
        int truth = strcmp(p->label[i], "walking_parking_lot") == 0 ? 0 : 1;
        n++;
        right += (p->p[i][0] >= p->p[i][1] ? 0 : 1) == truth;
        loss -= log(fmax(p->p[i][truth], 1e-15));
    }
    assert_true(n > 0);
    *acc = (double)right / n;
    *ll = loss / n;
}

static void test_member_ensemble_cv(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(f);
    char run[4400], ev[4500], spec[9000], *out;
    snprintf(run, sizeof run, "%s/cv", f->tmp);
    int rc = sg_test_run(&out, NULL,
                         "train " COMMON " --cv loso --keep-folds --member '' "
                         "--member '--units RA' --out '%s'",
                         f->data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "ensemble member 2/2 (--units RA)");
    SG_ASSERT_CONTAINS(out, "ensemble of 2 members (mean probabilities");
    free(out);
    char m0[4500], m1[4500];
    snprintf(m0, sizeof m0, "%s/member_0", run);
    snprintf(m1, sizeof m1, "%s/member_1", run);
    preds *a = load_preds(m0), *b = load_preds(m1), *e = load_preds(run);
    assert_int_equal(e->n, 240);
    assert_int_equal(a->n, 240);
    assert_int_equal(b->n, 240);
    double worst = 0.0, spread = 0.0;
    preds *mean = malloc(sizeof *mean);
    assert_non_null(mean);
    *mean = *e;
    for (int i = 0; i < e->n; i++) {
        int ia = find_row(a, e->name[i]), ib = find_row(b, e->name[i]);
        assert_true(ia >= 0 && ib >= 0);
        assert_string_equal(a->label[ia], e->label[i]);
        for (int c = 0; c < 2; c++) {
            mean->p[i][c] = 0.5 * (a->p[ia][c] + b->p[ib][c]);
            worst = fmax(worst, fabs(e->p[i][c] - mean->p[i][c]));
            spread = fmax(spread, fabs(a->p[ia][c] - b->p[ib][c]));
        }
    }
    if (worst > 1e-6) {
        print_error("RUN vs mean of the members: max |diff| %g\n", worst);
        fail();
    }
    assert_true(spread > 1e-3);
    /* Per subject: RUN's fold numbers are those of the mean (each fold
     * holds out subject fold + 1 here). */
    for (int fold = 0; fold < 2; fold++) {
        char tag[8];
        snprintf(tag, sizeof tag, "_p%d_", fold + 1);
        double acc, ll;
        score(mean, tag, &acc, &ll);
        assert_float_equal(config_number(run, fold, "accuracy"), acc, 1e-9);
        assert_float_equal(config_number(run, fold, "log_loss"), ll, 1e-5);
    }
    /* eval of fold 0's two models on subject 1 = RUN's subject-1 rows */
    snprintf(ev, sizeof ev, "%s/ev_fold0", f->tmp);
    snprintf(spec, sizeof spec, "%s/fold_0/model.safetensors,%s/fold_0/model.safetensors", m0,
             m1);
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s' --no-progress", spec, f->p1, ev);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    preds *held = load_preds(ev);
    assert_int_equal(held->n, 120);
    assert_rows_match("eval of fold 0's members vs RUN", held, e, 1e-6);
    /* eval RUN: every member's fold models */
    snprintf(ev, sizeof ev, "%s/ev_run", f->tmp);
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s' --no-progress", run, f->p1, ev);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "ensemble of 4 checkpoints");
    free(out);
    free(held);
    free(mean);
    free(a);
    free(b);
    free(e);
}

static void test_member_ensemble_eval_and_overwrite(void **state)
{
    fx *f = *state;
    WALKRUN_REQUIRE(f);
    char run[4400], ev[4500], path[4600], *out;
    snprintf(run, sizeof run, "%s/plain", f->tmp);
    int rc = sg_test_run(&out, NULL,
                         "train " COMMON " --valid-subjects 2 --member '' "
                         "--member '--units RA --seed 5' --out '%s'",
                         f->data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    preds *e = load_preds(run);
    assert_int_equal(e->n, 120);
    snprintf(ev, sizeof ev, "%s/ev_plain", f->tmp);
    rc = sg_test_run(&out, NULL, "eval '%s' '%s' -o '%s' --no-progress", run, f->p2, ev);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "ensemble of 2 checkpoints");
    free(out);
    preds *again = load_preds(ev);
    assert_int_equal(again->n, 120);
    assert_rows_match("eval RUN vs RUN's predictions", again, e, 1e-6);
    assert_float_equal(config_number(ev, -1, "accuracy"), config_number(run, -1, "accuracy"),
                       1e-9);
    free(again);
    free(e);
    /* A plain train over it asks first; --overwrite with one member
     * leaves no stale member_1 for eval to pick up. */
    rc = sg_test_run(&out, NULL, "train " COMMON " --valid-subjects 2 --member '' --out '%s'",
                     f->data, run);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--overwrite replaces it");
    free(out);
    rc = sg_test_run(&out, NULL,
                     "train " COMMON " --valid-subjects 2 --member '' --overwrite --out '%s'",
                     f->data, run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(path, sizeof path, "%s/member_1", run);
    assert_false(sg_test_path_exists(path));
    snprintf(path, sizeof path, "%s/member_0/last.safetensors", run);
    assert_true(sg_test_path_exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_usage_errors),
        cmocka_unit_test(test_member_ensemble_cv),
        cmocka_unit_test(test_member_ensemble_eval_and_overwrite),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
