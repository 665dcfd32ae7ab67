/* test_weight_avg.c - weight averaging (models/weight_avg.cpp and the
 * loop's rules in src/train/train_avg.c) by hand computation.
 *
 * A small ResNet18 takes three SGD steps on a fixed batch; the weights
 * after each step are read back, and the average must equal the formula
 * computed here in double to 1e-6:
 *   EMA:  e_0 = w_0, e_s = d e_(s-1) + (1 - d) w_s (every parameter),
 *   SWA:  the plain mean of the weights it was updated with;
 * buffers (BatchNorm running statistics) are the model's latest.  Also
 * decay 0 == the weights, decay 1 == the starting weights, swapping
 * exchanges model and average exactly (twice: back where it started),
 * and bad arguments are refused.  Against PyTorch (tools/oracle_models.py
 * ema): from the same torchvision weights and batch, three SGD steps with
 * torch.optim.swa_utils.AveragedModel as the EMA (started from the
 * initial weights) and as SWA over steps 2-3 give our averages.
 */
#include "tests/sg_test_models.h"

#include "src/base/sg_error.h"
#include "src/train/train_avg.h"
#include "models/weights.h"

#define N 4
#define HW 16
#define STEPS 3

typedef struct net {
    sg_model *m;
    sg_optim *o;
    float x[N * HW * HW];
    int64_t y[N];
    int count;
    size_t total;      /* floats over all tensors */
} net;

static int is_buffer(const char *name)
{
    return strstr(name, "running_") || strstr(name, "num_batches_tracked");
}

static void net_open(net *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(sg_torch_seed(7), 0);
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 1, .n_classes = 3,
                          .device = "cpu", .n_threads = 1};
    assert_int_equal(sg_model_create(&t->m, &spec), 0);
    assert_int_equal(sg_model_set_train(t->m, 1), 0);
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.05, .momentum = 0.9};
    assert_int_equal(sg_optim_create(&t->o, t->m, &os), 0);
    uint32_t s = 12345;
    for (size_t i = 0; i < sizeof t->x / sizeof t->x[0]; i++) {
        s = s * 1664525u + 1013904223u;
        t->x[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    for (int i = 0; i < N; i++)
        t->y[i] = i % 3;
    assert_int_equal(sg_model_tensor_count(t->m, &t->count), 0);
    for (int i = 0; i < t->count; i++) {
        const char *name;
        int ndim;
        int64_t shape[4];
        assert_int_equal(sg_model_tensor_info(t->m, i, &name, &ndim, shape, NULL), 0);
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        t->total += numel;
    }
}

static void net_close(net *t)
{
    sg_optim_free(t->o);
    sg_model_free(t->m);
}

static void net_step(net *t)
{
    double loss;
    int rc = sg_model_train_step(t->m, t->o, t->x, N, 1, HW, HW, t->y, 0.0, &loss, NULL);
    if (rc)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
}

/* Every tensor of the model (from_avg = 0) or of a (1), concatenated. */
static float *snapshot(const net *t, const sg_wavg *a, int from_avg)
{
    float *v = malloc(t->total * sizeof *v);
    assert_non_null(v);
    size_t off = 0;
    for (int i = 0; i < t->count; i++) {
        const char *name;
        int ndim;
        int64_t shape[4];
        assert_int_equal(sg_model_tensor_info(t->m, i, &name, &ndim, shape, NULL), 0);
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        int rc = from_avg ? sg_wavg_tensor_get(a, name, v + off, numel)
                          : sg_model_tensor_get(t->m, name, v + off, numel);
        assert_int_equal(rc, 0);
        off += numel;
    }
    return v;
}

/* Per float: 1 where it belongs to a parameter (averaged), 0 a buffer. */
static unsigned char *param_mask(const net *t)
{
    unsigned char *mask = malloc(t->total);
    assert_non_null(mask);
    size_t off = 0;
    for (int i = 0; i < t->count; i++) {
        const char *name;
        int ndim;
        int64_t shape[4];
        assert_int_equal(sg_model_tensor_info(t->m, i, &name, &ndim, shape, NULL), 0);
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        memset(mask + off, is_buffer(name) ? 0 : 1, numel);
        off += numel;
    }
    return mask;
}

static void assert_equal_exact(const char *what, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            print_error("%s: differs at %zu: %.9g vs %.9g\n", what, i, (double)a[i],
                        (double)b[i]);
            fail();
        }
}

static void test_ema_formula(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    net t;
    net_open(&t);
    const double d = 0.8;
    sg_wavg *a = NULL;
    assert_int_equal(sg_wavg_create(&a, t.m), 0);
    /* the loop's rule, through train_avg_after_step */
    train_options opt = {.avg = a, .ema_decay = d};
    train_state st = {0};
    unsigned char *mask = param_mask(&t);
    float *w = snapshot(&t, NULL, 0);
    double *want = malloc(t.total * sizeof *want);
    assert_non_null(want);
    for (size_t i = 0; i < t.total; i++)
        want[i] = w[i];
    free(w);
    assert_true(train_avg_ready(&opt, &st));
    for (int s = 1; s <= STEPS; s++) {
        net_step(&t);
        assert_int_equal(train_avg_after_step(&opt, t.m, &st), 0);
        w = snapshot(&t, NULL, 0);
        for (size_t i = 0; i < t.total; i++)
            want[i] = mask[i] ? d * want[i] + (1.0 - d) * (double)w[i] : (double)w[i];
        free(w);
    }
    assert_int_equal(st.n_averaged, STEPS);
    float *got = snapshot(&t, a, 1);
    sg_assert_close("EMA after 3 steps", got, want, t.total, 1e-6, 1e-6);
    /* The average really moved away from the weights (a test that can fail). */
    w = snapshot(&t, NULL, 0);
    double far = 0.0;
    for (size_t i = 0; i < t.total; i++)
        if (mask[i])
            far = fmax(far, fabs((double)w[i] - (double)got[i]));
    assert_true(far > 1e-4);
    /* Swap: the model holds the average, the average the weights; twice: back. */
    assert_int_equal(sg_wavg_swap(a, t.m), 0);
    float *m_now = snapshot(&t, NULL, 0), *a_now = snapshot(&t, a, 1);
    assert_equal_exact("model after swap", m_now, got, t.total);
    assert_equal_exact("average after swap", a_now, w, t.total);
    free(m_now);
    free(a_now);
    assert_int_equal(sg_wavg_swap(a, t.m), 0);
    m_now = snapshot(&t, NULL, 0);
    assert_equal_exact("model after two swaps", m_now, w, t.total);
    free(m_now);
    free(w);
    free(got);
    free(want);
    free(mask);
    sg_wavg_free(a);
    net_close(&t);
}

static void test_ema_limits(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    net t;
    net_open(&t);
    unsigned char *mask = param_mask(&t);
    float *w0 = snapshot(&t, NULL, 0);
    sg_wavg *zero = NULL, *one = NULL;
    assert_int_equal(sg_wavg_create(&zero, t.m), 0);
    assert_int_equal(sg_wavg_create(&one, t.m), 0);
    for (int s = 0; s < STEPS; s++) {
        net_step(&t);
        assert_int_equal(sg_wavg_update(zero, t.m, 0.0), 0);
        assert_int_equal(sg_wavg_update(one, t.m, 1.0), 0);
    }
    float *w = snapshot(&t, NULL, 0), *z = snapshot(&t, zero, 1), *o = snapshot(&t, one, 1);
    /* decay 0: the weights themselves; decay 1: the starting weights
     * (buffers are the model's latest in both) */
    assert_equal_exact("decay 0 == weights", z, w, t.total);
    for (size_t i = 0; i < t.total; i++)
        if ((mask[i] ? w0[i] : w[i]) != o[i]) {
            print_error("decay 1: differs from the starting weights at %zu\n", i);
            fail();
        }
    assert_int_equal(sg_wavg_update(one, t.m, 1.5), SG_E_INVALID);
    assert_int_equal(sg_wavg_update(one, t.m, -0.1), SG_E_INVALID);
    assert_int_equal(sg_wavg_update(NULL, t.m, 0.5), SG_E_INVALID);
    float tmp[4];
    assert_int_equal(sg_wavg_tensor_get(one, "no.such.tensor", tmp, 4), SG_E_INVALID);
    assert_int_equal(sg_wavg_tensor_get(one, "fc.bias", tmp, 4), SG_E_SHAPE);
    free(w0);
    free(w);
    free(z);
    free(o);
    free(mask);
    sg_wavg_free(zero);
    sg_wavg_free(one);
    net_close(&t);
}

static void test_swa_mean(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    net t;
    net_open(&t);
    sg_wavg *a = NULL;
    assert_int_equal(sg_wavg_create(&a, t.m), 0);
    /* 5 epochs, the last 3 averaged */
    train_options opt = {.avg = a, .swa_epochs = 3};
    train_state st = {.total_epochs = 5};
    unsigned char *mask = param_mask(&t);
    double *sum = calloc(t.total, sizeof *sum), *want = malloc(t.total * sizeof *want);
    assert_non_null(sum);
    assert_non_null(want);
    float *w = NULL;
    for (int e = 0; e < 5; e++) {
        net_step(&t);
        assert_int_equal(train_avg_after_epoch(&opt, t.m, &st, e), 0);
        assert_int_equal(train_avg_ready(&opt, &st), e >= 2);
        free(w);
        w = snapshot(&t, NULL, 0);
        if (e >= 2)
            for (size_t i = 0; i < t.total; i++)
                sum[i] += w[i];
    }
    assert_int_equal(st.n_averaged, 3);
    for (size_t i = 0; i < t.total; i++)
        want[i] = mask[i] ? sum[i] / 3.0 : (double)w[i];
    float *got = snapshot(&t, a, 1);
    sg_assert_close("SWA mean of the last 3 epochs", got, want, t.total, 1e-6, 1e-6);
    free(got);
    free(w);
    free(sum);
    free(want);
    free(mask);
    sg_wavg_free(a);
    net_close(&t);
}

static int group_setup(void **state)
{
    return sg_oracle_setup(state, "torch,torchvision,numpy", "ema");
}

static int group_teardown(void **state)
{
    return sg_oracle_teardown(state);
}

#define OR_N 4
#define OR_HW 32
#define OR_CLASSES 10

static void test_against_torch_averaged_model(void **state)
{
    sg_oracle_fixture *fx = *state;
    SG_REQUIRE_ORACLE(fx, "torch,torchvision,numpy");
    sg_model *m = NULL;
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 3, .n_classes = OR_CLASSES,
                          .device = "cpu", .n_threads = 1};
    assert_int_equal(sg_model_create(&m, &spec), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/ema_init.safetensors", fx->dir);
    int rc = sg_weights_load(m, path, NULL);
    if (rc)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(sg_model_set_train(m, 1), 0);
    sg_optim *o = NULL;
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.05, .momentum = 0.9};
    assert_int_equal(sg_optim_create(&o, m, &os), 0);
    float *x = sg_oracle_read_f32(fx->dir, "ema_x", (size_t)OR_N * 3 * OR_HW * OR_HW);
    assert_non_null(x);
    int64_t y[OR_N];
    snprintf(path, sizeof path, "%s/ema_y.i64", fx->dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(y, sizeof y[0], OR_N, f), OR_N);
    fclose(f);
    sg_wavg *ema = NULL, *swa = NULL;
    assert_int_equal(sg_wavg_create(&ema, m), 0);
    assert_int_equal(sg_wavg_create(&swa, m), 0);
    train_options eo = {.avg = ema, .ema_decay = 0.8};
    train_options so = {.avg = swa, .swa_epochs = 2};
    train_state es = {0}, ss = {.total_epochs = 3};
    for (int step = 0; step < 3; step++) {
        double loss;
        assert_int_equal(sg_model_train_step(m, o, x, OR_N, 3, OR_HW, OR_HW, y, 0.0, &loss, NULL),
                         0);
        assert_int_equal(train_avg_after_step(&eo, m, &es), 0);
        /* one step per "epoch": SWA over the last 2 */
        assert_int_equal(train_avg_after_epoch(&so, m, &ss, step), 0);
    }
    const char *names[] = {"conv1.weight", "bn1.weight", "layer2.0.conv1.weight",
                           "layer4.1.bn2.bias", "fc.weight", "fc.bias"};
    const size_t sizes[] = {64 * 3 * 49, 64, 128 * 64 * 9, 512, OR_CLASSES * 512, OR_CLASSES};
    for (int which = 0; which < 2; which++)
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            char what[96];
            snprintf(what, sizeof what, "%s_%s", which ? "swa" : "ema", names[k]);
            double *want = sg_oracle_read(fx->dir, what, sizes[k]);
            assert_non_null(want);
            float *got = malloc(sizes[k] * sizeof *got);
            assert_non_null(got);
            assert_int_equal(sg_wavg_tensor_get(which ? swa : ema, names[k], got, sizes[k]), 0);
            /* the steps' own tolerance (test_optim.c): libtorch's and
             * PyTorch's kernels sum in other orders */
            sg_assert_close(what, got, want, sizes[k], 1e-5 * sg_max_abs(want, sizes[k]) + 1e-7,
                            1e-4);
            free(got);
            free(want);
        }
    free(x);
    sg_wavg_free(ema);
    sg_wavg_free(swa);
    sg_optim_free(o);
    sg_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ema_formula),
        cmocka_unit_test(test_ema_limits),
        cmocka_unit_test(test_swa_mean),
        cmocka_unit_test(test_against_torch_averaged_model),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
