/* test_schedule.c - one-cycle schedules against PyTorch's OneCycleLR
 * (tools/oracle_onecycle.py through SG_PYTHON) and fastai's
 * fit_one_cycle against hand-computed values. */
#include "tests/sg_test.h"

#include "src/train/schedule.h"
#include "src/base/sg_error.h"

typedef struct torch_case {
    double max_lr;
    long total;
    double pct;
    const char *anneal;
    int three;
    const char *opt;   /* sgd: momentum; adam: beta1 */
} torch_case;

static const torch_case torch_cases[] = {
    {1e-2, 100, 0.3, "cos", 0, "sgd"},     {1e-2, 100, 0.3, "cos", 0, "adam"},
    {3e-3, 97, 0.25, "linear", 0, "sgd"},  {1e-3, 1000, 0.3, "cos", 1, "adam"},
    {0.1, 57, 0.4, "linear", 1, "sgd"},    {5e-4, 7, 0.3, "cos", 0, "adam"},
    {1e-2, 3, 0.5, "cos", 0, "sgd"},       {2e-3, 4321, 0.1, "cos", 0, "sgd"},
};

/* Every step of every case against one oracle run; exact to 1e-12. */
static void test_onecycle_matches_torch(void **state)
{
    (void)state;
    SG_REQUIRE_PATH("tools/oracle_onecycle.py");
    SG_REQUIRE_PYTHON("torch");
    enum { N_CASES = sizeof torch_cases / sizeof torch_cases[0] };
    char cmd[2048];
    size_t len = (size_t)snprintf(cmd, sizeof cmd, "%s tools/oracle_onecycle.py", sg_test_python());
    for (int c = 0; c < N_CASES; c++) {
        const torch_case *t = &torch_cases[c];
        len += (size_t)snprintf(cmd + len, sizeof cmd - len, " %.17g,%ld,%.17g,%s,%d,%s", t->max_lr,
                                t->total, t->pct, t->anneal, t->three, t->opt);
    }
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    for (int c = 0; c < N_CASES; c++) {
        const torch_case *t = &torch_cases[c];
        sg_onecycle s;
        sg_onecycle_torch_defaults(&s, t->max_lr, t->total);
        s.pct_start = t->pct;
        s.anneal = strcmp(t->anneal, "cos") == 0 ? SG_ANNEAL_COS : SG_ANNEAL_LINEAR;
        s.three_phase = t->three;
        assert_int_equal(sg_onecycle_check(&s), 0);
        double worst = 0;
        for (long step = 0; step < t->total; step++) {
            double want_lr, want_mom;
            if (fscanf(p, "%lf %lf", &want_lr, &want_mom) != 2) {
                print_error("case %d: oracle ended at step %ld of %ld\n", c, step, t->total);
                pclose(p);
                fail();
            }
            double lr = sg_onecycle_lr(&s, step), mom = sg_onecycle_momentum(&s, step);
            double d = fmax(fabs(lr - want_lr), fabs(mom - want_mom));
            worst = fmax(worst, d);
            if (d > 1e-12) {
                print_error("case %d (%s three=%d pct=%g steps=%ld %s) step %ld: expected lr "
                            "%.17g mom %.17g, got lr %.17g mom %.17g\n",
                            c, t->anneal, t->three, t->pct, t->total, t->opt, step, want_lr,
                            want_mom, lr, mom);
                pclose(p);
                fail();
            }
        }
        print_message("  torch %-6s three=%d pct=%.2f steps=%-5ld %-4s: worst |diff| %.3g\n",
                      t->anneal, t->three, t->pct, t->total, t->opt, worst);
    }
    assert_int_equal(pclose(p), 0);
}

static void test_onecycle_fastai_hand_values(void **state)
{
    (void)state;
    sg_onecycle s;
    sg_onecycle_fastai_defaults(&s, 1e-2, 100);
    assert_int_equal(sg_onecycle_check(&s), 0);
    /* Hand-computed: pos = k / 100, cut 0.25; SchedCos(a, b, p) =
     * a + (1 + cos(pi (1 - p))) (b - a) / 2. */
    static const struct {
        long k;
        double lr, mom;
    } want[] = {
        {0, 4e-4, 0.95},
        {12, 0.004898605506259296, 0.9031395259764656},
        {25, 1e-2, 0.85},
        {50, 0.007500025000000001, 0.875},
        {99, 4.48580564721239e-06, 0.9499561415049429},
        {100, 1e-7, 0.95},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double lr = sg_onecycle_lr(&s, want[i].k), mom = sg_onecycle_momentum(&s, want[i].k);
        if (fabs(lr - want[i].lr) > 1e-12 * fmax(1.0, want[i].lr) ||
            fabs(mom - want[i].mom) > 1e-12) {
            print_error("fastai step %ld: expected lr %.17g mom %.17g, got %.17g %.17g\n",
                        want[i].k, want[i].lr, want[i].mom, lr, mom);
            fail();
        }
    }
}

static void test_onecycle_rejects_bad_settings(void **state)
{
    (void)state;
    sg_onecycle s;
    sg_onecycle_torch_defaults(&s, 1e-2, 0);
    assert_int_equal(sg_onecycle_check(&s), SG_E_INVALID);
    sg_onecycle_torch_defaults(&s, -1, 10);
    assert_int_equal(sg_onecycle_check(&s), SG_E_INVALID);
    sg_onecycle_torch_defaults(&s, 1e-2, 10);
    s.pct_start = 1.5;
    assert_int_equal(sg_onecycle_check(&s), SG_E_INVALID);
    /* pct 0.1 of 10 steps: phase 1 ends at step 0 = its start -> torch
     * would divide by zero */
    s.pct_start = 0.1;
    assert_int_equal(sg_onecycle_check(&s), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "zero length"));
    sg_onecycle_fastai_defaults(&s, 1e-2, 10);
    s.anneal = SG_ANNEAL_LINEAR;
    assert_int_equal(sg_onecycle_check(&s), SG_E_INVALID);
    /* momentum off: constant */
    sg_onecycle_torch_defaults(&s, 1e-2, 10);
    s.cycle_momentum = 0;
    assert_true(sg_onecycle_momentum(&s, 5) == 0.95);
}

static void test_lr_spread(void **state)
{
    (void)state;
    double r[6];
    assert_int_equal(sg_lr_spread(r, 6, 1e-5, 1e-3), 0);
    /* fastai even_mults(1e-5, 1e-3, 6): ratio 100^(1/5) */
    const double want[6] = {1e-5, 2.5118864315095823e-05, 6.309573444801943e-05,
                            0.00015848931924611142, 0.00039810717055349773, 0.001};
    for (int i = 0; i < 6; i++)
        if (fabs(r[i] - want[i]) > 1e-12 * want[i] + 1e-20) {
            print_error("spread[%d]: expected %.17g got %.17g\n", i, want[i], r[i]);
            fail();
        }
    assert_int_equal(sg_lr_spread(r, 1, 1e-5, 1e-3), 0);
    assert_true(r[0] == 1e-3);
    assert_int_equal(sg_lr_spread(r, 6, 1e-3, 1e-5), SG_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onecycle_matches_torch),
        cmocka_unit_test(test_onecycle_fastai_hand_values),
        cmocka_unit_test(test_onecycle_rejects_bad_settings),
        cmocka_unit_test(test_lr_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
