/* test_batch_mix.c - mixup and cutmix of a batch (src/train/batch_mix.h)
 * and the soft-target training step (sg_model_train_step_soft).
 *
 * Hand-checked: mixup's images are exactly lam x_i + (1 - lam) x_p(i)
 * and its targets lam / 1 - lam on the two labels (plus smoothing);
 * cutmix pastes exactly the drawn box from x_p(i), leaves the rest, and
 * weights the labels by the box's area; Beta draws average alpha/(2 alpha).
 * Model (libtorch): the soft loss is linear in the targets, so on three
 * identically initialised ResNet18s the first step's soft loss with
 * targets lam onehot(a) + (1 - lam) onehot(b) equals lam L(a) + (1 - lam)
 * L(b) of the hard steps; soft targets (1 - eps) onehot + eps / k give
 * the hard step with label smoothing eps (loss 1e-6, logits after the
 * step 1e-4 relative).
 * Through the binary: --mixup and --cutmix train; bad values, both at
 * once, or with --accumulate are usage errors (exit 2).
 */
#include "tests/sg_run.h"

#include <math.h>

#include "models/sg_model.h"
#include "src/base/sg_error.h"
#include "src/train/batch_mix.h"

enum { N = 6, C = 2, H = 8, W = 10, K = 5 };

static void fill(float *x)
{
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (float)((i * 37) % 101) / 101.0f;
}

static void test_mixup_hand_checked(void **state)
{
    (void)state;
    static float x[N * C * H * W], x0[N * C * H * W], scratch[N * C * H * W], t[N * K];
    int perm[N];
    int64_t y[N] = {0, 1, 2, 3, 4, 0};
    fill(x);
    memcpy(x0, x, sizeof x);
    batch_mix_draw d;
    batch_mix_apply(x, t, perm, scratch, y, N, C, H, W, K, BATCH_MIX_MIXUP, 0.4, 0.1, 99, &d);
    assert_true(d.lam >= 0 && d.lam <= 1);
    int seen[N] = {0};
    for (int i = 0; i < N; i++)
        seen[perm[i]]++;
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    size_t per = C * H * W;
    for (int i = 0; i < N; i++) {
        for (size_t p = 0; p < per; p++) {
            float want = (float)d.lam * x0[i * per + p] + (float)(1 - d.lam) * x0[perm[i] * per + p];
            assert_true(x[i * per + p] == want);
        }
        double sum = 0;
        for (int j = 0; j < K; j++) {
            double want = 0.1 / K + 0.9 * ((j == y[i]) * d.lam + (j == y[perm[i]]) * (1 - d.lam));
            assert_true(fabs(t[i * K + j] - want) < 1e-6);
            sum += t[i * K + j];
        }
        assert_true(fabs(sum - 1.0) < 1e-6);
    }
    /* Beta(a, a) has mean 1/2; Beta(0.2, 0.2) sits mostly near 0 or 1 */
    double mean = 0, extreme = 0;
    for (int s = 0; s < 2000; s++) {
        batch_mix_apply(x, t, perm, scratch, y, N, C, H, W, K, BATCH_MIX_MIXUP, 0.2, 0.0,
                        (uint64_t)s, &d);
        mean += d.lam / 2000;
        extreme += (d.lam < 0.1 || d.lam > 0.9) / 2000.0;
    }
    print_message("Beta(0.2, 0.2): mean %.3f, %.0f%% outside [0.1, 0.9]\n", mean, 100 * extreme);
    assert_true(fabs(mean - 0.5) < 0.03);
    assert_true(extreme > 0.5 && extreme < 0.8); /* 0.65 for Beta(0.2, 0.2) */
}

static void test_cutmix_hand_checked(void **state)
{
    (void)state;
    static float x[N * C * H * W], x0[N * C * H * W], scratch[N * C * H * W], t[N * K];
    int perm[N];
    int64_t y[N] = {4, 3, 2, 1, 0, 4};
    for (uint64_t seed = 1; seed <= 30; seed++) {
        fill(x);
        memcpy(x0, x, sizeof x);
        batch_mix_draw d;
        batch_mix_apply(x, t, perm, scratch, y, N, C, H, W, K, BATCH_MIX_CUTMIX, 1.0, 0.0, seed,
                        &d);
        int area = (d.y1 - d.y0) * (d.x1 - d.x0);
        assert_true(fabs(d.lam - (1.0 - (double)area / (H * W))) < 1e-12);
        for (int i = 0; i < N; i++)
            for (int c = 0; c < C; c++)
                for (int r = 0; r < H; r++)
                    for (int q = 0; q < W; q++) {
                        int in = r >= d.y0 && r < d.y1 && q >= d.x0 && q < d.x1;
                        size_t off = ((size_t)c * H + r) * W + q;
                        float want = x0[(size_t)(in ? perm[i] : i) * C * H * W + off];
                        assert_true(x[(size_t)i * C * H * W + off] == want);
                    }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < K; j++) {
                double want = (j == y[i]) * d.lam + (j == y[perm[i]]) * (1 - d.lam);
                assert_true(fabs(t[i * K + j] - want) < 1e-6);
            }
    }
}

static sg_model *model_new(void)
{
    assert_int_equal(sg_torch_seed(5), 0);
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = C, .n_classes = K,
                          .device = "cpu", .n_threads = 1};
    sg_model *m = NULL;
    assert_int_equal(sg_model_create(&m, &spec), 0);
    assert_int_equal(sg_model_set_train(m, 1), 0);
    return m;
}

static sg_optim *optim_new(sg_model *m)
{
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.05, .momentum = 0.9};
    sg_optim *o = NULL;
    assert_int_equal(sg_optim_create(&o, m, &os), 0);
    return o;
}

static void onehot(float *t, const int64_t *y, double eps)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < K; j++)
            t[i * K + j] = (float)((j == y[i]) * (1 - eps) + eps / K);
}

static void test_soft_step(void **state)
{
    (void)state;
    if (!sg_torch_available()) {
        print_message("SKIP: built without libtorch\n");
        skip();
    }
    static float x[N * C * H * W], t[N * K], ta[N * K], tb[N * K];
    fill(x);
    int64_t ya[N] = {0, 1, 2, 3, 4, 1}, yb[N] = {3, 3, 0, 1, 2, 4};
    double lam = 0.3, la, lb, ls;
    sg_model *m[3];
    sg_optim *o[3];
    for (int i = 0; i < 3; i++) {
        m[i] = model_new();
        o[i] = optim_new(m[i]);
    }
    /* linear in the targets */
    assert_int_equal(sg_model_train_step(m[0], o[0], x, N, C, H, W, ya, 0.0, &la, NULL), 0);
    assert_int_equal(sg_model_train_step(m[1], o[1], x, N, C, H, W, yb, 0.0, &lb, NULL), 0);
    onehot(ta, ya, 0.0);
    onehot(tb, yb, 0.0);
    for (int j = 0; j < N * K; j++)
        t[j] = (float)(lam * ta[j] + (1 - lam) * tb[j]);
    assert_int_equal(sg_model_train_step_soft(m[2], o[2], x, N, C, H, W, t, K, &ls, NULL), 0);
    print_message("soft loss %.7f, lam L(a) + (1 - lam) L(b) %.7f\n", ls,
                  lam * la + (1 - lam) * lb);
    assert_true(fabs(ls - (lam * la + (1 - lam) * lb)) < 1e-5 * fabs(ls));
    for (int i = 0; i < 3; i++) {
        sg_optim_free(o[i]);
        sg_model_free(m[i]);
    }
    /* = the hard step with label smoothing: the loss, then the logits after
     * the step (float rounding of the two gradients differs by ~1e-6;
     * a second step on this 6-sample batch amplifies it 10x per step) */
    for (int i = 0; i < 2; i++) {
        m[i] = model_new();
        o[i] = optim_new(m[i]);
    }
    double lh = 0, lsm = 0;
    onehot(t, ya, 0.1);
    assert_int_equal(sg_model_train_step(m[0], o[0], x, N, C, H, W, ya, 0.1, &lh, NULL), 0);
    assert_int_equal(sg_model_train_step_soft(m[1], o[1], x, N, C, H, W, t, K, &lsm, NULL), 0);
    assert_true(fabs(lh - lsm) < 1e-6 * fabs(lh));
    float za[N * K], zb[N * K];
    double unused;
    assert_int_equal(sg_model_eval_loss(m[0], x, N, C, H, W, ya, &unused, za), 0);
    assert_int_equal(sg_model_eval_loss(m[1], x, N, C, H, W, ya, &unused, zb), 0);
    double worst = 0, scale = 0;
    for (int j = 0; j < N * K; j++) {
        worst = fmax(worst, fabs(za[j] - zb[j]));
        scale = fmax(scale, fabs(za[j]));
    }
    print_message("after the step: loss %.7f vs %.7f, worst logit difference %.2g of %.3g\n", lh,
                  lsm, worst, scale);
    assert_true(worst < 1e-4 * scale);
    /* wrong class count: an error, not a crash */
    assert_int_equal(sg_model_train_step_soft(m[1], o[1], x, N, C, H, W, t, K - 1, &lsm, NULL),
                     SG_E_SHAPE);
    for (int i = 0; i < 2; i++) {
        sg_optim_free(o[i]);
        sg_model_free(m[i]);
    }
}

static void test_cli(void **state)
{
    (void)state;
    char *tmp = sg_test_tmpdir(), *out = NULL;
    const char *bad[] = {"--mixup -1", "--mixup x", "--cutmix 0.4 --mixup 0.4",
                         "--mixup 0.4 --accumulate 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sg_test_run(&out, NULL, "train --dataset dsa '%s' %s --out '%s/r'", tmp, bad[i],
                             tmp);
        SG_ASSERT_EXIT(rc, 2, out);
        SG_ASSERT_CONTAINS(out, strstr(bad[i], "cutmix") ? "cutmix" : "mixup");
        free(out);
    }
    char data[4200];
    snprintf(data, sizeof data, "%s/dsa", tmp);
    if (!sg_torch_available() || sg_test_dsa_subset(data, "a09 a12", "p1") != 0) {
        print_message("SKIP: no libtorch or no DSA data for the training runs\n");
        sg_test_rmtree(tmp);
        free(tmp);
        skip();
    }
    const char *kinds[] = {"--mixup 0.4", "--cutmix 1"};
    for (int k = 0; k < 2; k++) {
        int rc = sg_test_run(&out, NULL,
                             "train --dataset dsa '%s' --sensors acc --units T --arch resnet18 "
                             "--image-size 16 --bs 16 --epochs 1 --pretrained none -j 1 "
                             "--valid-pct 0.2 --no-progress %s --out '%s/run%d'",
                             data, kinds[k], tmp, k);
        SG_ASSERT_EXIT(rc, 0, out);
        SG_ASSERT_CONTAINS(out, "final: accuracy");
        free(out);
        char cfg[4400];
        snprintf(cfg, sizeof cfg, "%s/run%d/config.json", tmp, k);
        char *text = sg_test_slurp(cfg);
        SG_ASSERT_CONTAINS(text, k ? "\"cutmix\": 1.0" : "\"mixup\": 0.4");
        free(text);
    }
    sg_test_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixup_hand_checked),
        cmocka_unit_test(test_cutmix_hand_checked),
        cmocka_unit_test(test_soft_step),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
