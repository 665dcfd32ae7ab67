/* test_optim.c - training steps against torch.optim.
 *
 * From the same torchvision weights and batch, two training steps
 * (train-mode BatchNorm, cross-entropy with label smoothing 0.1,
 * per-stage learning rates) must give PyTorch's losses and updated
 * weights for SGD (momentum, nesterov, weight decay without decay on
 * BatchNorm and biases) and AdamW.  Also: optimizer state round trip for
 * --resume (1 step, save state, fresh optimizer, 1 step == 2 steps), and
 * frozen stages keeping weights and BatchNorm statistics.
 */
#include "tests/sg_test_models.h"

#include "src/base/sg_error.h"
#include "models/weights.h"

typedef sg_oracle_fixture fixture;

static int group_setup(void **state)
{
    sg_test_device_setup();
    return sg_oracle_setup(state, "torch,torchvision,numpy", "optim");
}

static int group_teardown(void **state)
{
    return sg_oracle_teardown(state);
}

#define REQUIRE_ORACLE(fx) SG_REQUIRE_ORACLE(fx, "torch,torchvision,numpy")

#define N 4
#define HW 32
#define N_CLASSES 10

/* On CUDA (SG_TEST_DEVICE) the tolerances are 10x the CPU ones: cuDNN's
 * backward kernels sum in another order than PyTorch's CPU kernels and
 * two steps of SGD at lr 0.1 amplify that (docs/method.md, "On CUDA"). */
static double tol_scale(void)
{
    return sg_test_on_cuda() ? 10.0 : 1.0;
}

typedef struct run {
    sg_model *m;
    sg_optim *o;
    float *x;
    int64_t y[N];
} run;

/* Model from the oracle's initial weights, in train mode, with the
 * optimizer of case `kind` and the oracle's per-stage rates. */
static void run_open(run *r, const fixture *fx, sg_optim_kind kind)
{
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 3, .n_classes = N_CLASSES,
                          .device = sg_test_device(), .n_threads = 1};
    assert_int_equal(sg_model_create(&r->m, &spec), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/init.safetensors", fx->dir);
    int rc = sg_weights_load(r->m, path, NULL);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(sg_model_set_train(r->m, 1), 0);
    sg_optim_spec os = {.kind = kind};
    if (kind == SG_OPTIM_SGD) {
        os.lr = 0.1, os.momentum = 0.9, os.nesterov = 1, os.weight_decay = 1e-2;
        os.no_decay_bn_bias = 1;
    } else {
        os.lr = 1e-3, os.momentum = 0.9, os.beta2 = 0.99, os.eps = 1e-8, os.weight_decay = 5e-2;
    }
    assert_int_equal(sg_optim_create(&r->o, r->m, &os), 0);
    for (int s = 0; s < SG_STAGE_COUNT; s++) /* oracle's stage_lr() */
        assert_int_equal(sg_optim_set_stage(r->o, (sg_stage)s, os.lr * (s + 1) / 6.0, os.momentum), 0);
    r->x = sg_oracle_read_f32(fx->dir, "x", (size_t)N * 3 * HW * HW);
    assert_non_null(r->x);
    char yp[4200];
    snprintf(yp, sizeof yp, "%s/y.i64", fx->dir);
    FILE *f = fopen(yp, "rb");
    assert_non_null(f);
    assert_int_equal(fread(r->y, sizeof r->y[0], N, f), N);
    fclose(f);
}

static void run_close(run *r)
{
    sg_optim_free(r->o);
    sg_model_free(r->m);
    free(r->x);
}

static double run_step(run *r)
{
    double loss = 0.0;
    int rc = sg_model_train_step(r->m, r->o, r->x, N, 3, HW, HW, r->y, 0.1, &loss, NULL);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    return loss;
}

static void compare_tensors(const run *r, const fixture *fx, const char *tag)
{
    const char *names[] = {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                           "layer2.0.conv1.weight", "layer3.1.bn2.bias", "layer4.1.conv2.weight",
                           "fc.weight", "fc.bias"};
    int count = 0;
    sg_model_tensor_count(r->m, &count);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t numel = 0;
        for (int i = 0; i < count; i++) {
            const char *nm;
            int ndim;
            int64_t shape[4];
            sg_model_tensor_info(r->m, i, &nm, &ndim, shape, NULL);
            if (strcmp(nm, names[k]) == 0)
                numel = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
        }
        assert_true(numel > 0);
        float *got = malloc(numel * sizeof *got);
        assert_int_equal(sg_model_tensor_get(r->m, names[k], got, numel), 0);
        char what[128];
        snprintf(what, sizeof what, "%s_%s", tag, names[k]);
        double *want = sg_oracle_read(fx->dir, what, numel);
        assert_non_null(want);
        sg_assert_close(what, got, want, numel,
                        tol_scale() * (1e-5 * sg_max_abs(want, numel) + 1e-7), tol_scale() * 1e-4);
        free(want);
        free(got);
    }
}

static void check_case(const fixture *fx, sg_optim_kind kind, const char *tag)
{
    run r = {0};
    run_open(&r, fx, kind);
    float losses[2];
    losses[0] = (float)run_step(&r);
    if (kind == SG_OPTIM_SGD) {
        /* momentum buffer after one step, as torch.optim keeps it */
        size_t n = 128 * 64 * 9;
        float *buf = malloc(n * sizeof *buf);
        assert_int_equal(sg_optim_tensor_get(r.o, "layer2.0.conv1.weight.momentum_buffer", buf, n), 0);
        double *want = sg_oracle_read(fx->dir, "sgd_buf_layer2_0_conv1", n);
        assert_non_null(want);
        sg_assert_close("momentum_buffer", buf, want, n, tol_scale() * 1e-5 * sg_max_abs(want, n),
                        tol_scale() * 1e-4);
        free(want);
        free(buf);
    }
    losses[1] = (float)run_step(&r);
    char what[64];
    snprintf(what, sizeof what, "%s_loss", tag);
    double *want = sg_oracle_read(fx->dir, what, 2);
    assert_non_null(want);
    sg_assert_close(what, losses, want, 2, tol_scale() * 1e-6, tol_scale() * 1e-5);
    free(want);
    compare_tensors(&r, fx, tag);
    run_close(&r);
}

static void test_sgd_nesterov(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    check_case(fx, SG_OPTIM_SGD, "sgd");
}

static void test_adamw(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    check_case(fx, SG_OPTIM_ADAMW, "adamw");
}

/* One step, copy weights + optimizer state into a fresh model and
 * optimizer, one more step: PyTorch's two-step result. */
static void check_resume(const fixture *fx, sg_optim_kind kind, const char *tag)
{
    run a = {0}, b = {0};
    run_open(&a, fx, kind);
    run_step(&a);
    run_open(&b, fx, kind);
    int count = 0;
    assert_int_equal(sg_model_tensor_count(a.m, &count), 0);
    for (int i = 0; i < count; i++) {
        const char *name;
        int ndim;
        int64_t shape[4];
        sg_model_tensor_info(a.m, i, &name, &ndim, shape, NULL);
        size_t n = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
        float *buf = malloc(n * sizeof *buf);
        assert_int_equal(sg_model_tensor_get(a.m, name, buf, n), 0);
        assert_int_equal(sg_model_tensor_set(b.m, name, buf, n), 0);
        free(buf);
    }
    assert_int_equal(sg_optim_tensor_count(a.o, &count), 0);
    assert_true(count > 0);
    for (int i = 0; i < count; i++) {
        const char *name;
        size_t n;
        assert_int_equal(sg_optim_tensor_info(a.o, i, &name, &n), 0);
        float *buf = malloc(n * sizeof *buf);
        assert_int_equal(sg_optim_tensor_get(a.o, name, buf, n), 0);
        assert_int_equal(sg_optim_tensor_set(b.o, name, buf, n), 0);
        free(buf);
    }
    if (kind == SG_OPTIM_ADAMW) {
        float step = 0.0f;
        assert_int_equal(sg_optim_tensor_get(b.o, "fc.bias.step", &step, 1), 0);
        assert_true(step == 1.0f);
    }
    run_step(&b);
    compare_tensors(&b, fx, tag);
    run_close(&a);
    run_close(&b);
}

static void test_resume_state(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    check_resume(fx, SG_OPTIM_SGD, "sgd");
    check_resume(fx, SG_OPTIM_ADAMW, "adamw");
}

/* Frozen stem and layer1: weights and BatchNorm statistics stay, even
 * with the model in train mode; layer2 and the head move. */
static void test_frozen_stages(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    run r = {0};
    run_open(&r, fx, SG_OPTIM_SGD);
    assert_int_equal(sg_model_set_frozen(r.m, SG_STAGE_STEM, 1, 0), 0);
    assert_int_equal(sg_model_set_frozen(r.m, SG_STAGE_LAYER1, 1, 0), 0);
    assert_int_equal(sg_model_set_train(r.m, 1), 0);
    const char *fixed[] = {"conv1.weight", "bn1.weight", "bn1.running_mean",
                           "layer1.1.bn2.running_var", "layer1.0.conv1.weight"};
    const char *moving[] = {"layer2.0.conv1.weight", "layer2.0.bn1.running_mean", "fc.bias"};
    size_t sizes[8] = {64 * 3 * 49, 64, 64, 64, 64 * 64 * 9, 128 * 64 * 9, 128, 10};
    float *full_before[8], *full_after[8];
    const char *all[8] = {fixed[0], fixed[1], fixed[2], fixed[3], fixed[4],
                          moving[0], moving[1], moving[2]};
    for (int i = 0; i < 8; i++) {
        full_before[i] = malloc(sizes[i] * sizeof(float));
        full_after[i] = malloc(sizes[i] * sizeof(float));
        assert_int_equal(sg_model_tensor_get(r.m, all[i], full_before[i], sizes[i]), 0);
    }
    run_step(&r);
    run_step(&r);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(sg_model_tensor_get(r.m, all[i], full_after[i], sizes[i]), 0);
        int same = memcmp(full_before[i], full_after[i], sizes[i] * sizeof(float)) == 0;
        if (same != (i < 5)) {
            print_error("%s: %s after two steps with stem and layer1 frozen\n", all[i],
                        same ? "unchanged" : "changed");
            fail();
        }
        free(full_before[i]);
        free(full_after[i]);
    }
    /* unfreezing lets the stem train again */
    assert_int_equal(sg_model_set_frozen(r.m, SG_STAGE_STEM, 0, 0), 0);
    float w0[64], w1[64];
    assert_int_equal(sg_model_tensor_get(r.m, "bn1.running_mean", w0, 64), 0);
    run_step(&r);
    assert_int_equal(sg_model_tensor_get(r.m, "bn1.running_mean", w1, 64), 0);
    assert_memory_not_equal(w0, w1, sizeof w0);
    run_close(&r);
}

static void test_bad_labels(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    run r = {0};
    run_open(&r, fx, SG_OPTIM_SGD);
    r.y[2] = N_CLASSES;
    double loss;
    assert_int_equal(sg_model_train_step(r.m, r.o, r.x, N, 3, HW, HW, r.y, 0.0, &loss, NULL),
                     SG_E_TORCH);
    assert_non_null(strstr(sg_last_error(), "label 10 at index 2 outside [0, 10)"));
    run_close(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_nesterov),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_resume_state),
        cmocka_unit_test(test_frozen_stages),
        cmocka_unit_test(test_bad_labels),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
