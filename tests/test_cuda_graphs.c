/* test_cuda_graphs.c - training steps as CUDA graph replays, and pinned
 * host buffers.
 *
 * Everywhere: the --cuda-graphs modes, `on` refused on a CPU model with
 * one clear message (API and binary), `auto` quietly off there, host
 * buffers.  On CUDA only (SG_TEST_DEVICE=cuda, run by tools/gpu_check.sh):
 * 20 bf16 steps of ResNet34 on 1x15x125 batches with graphs and without,
 * from the same weights, with the lr and momentum changed every step, a
 * stage frozen half way (recapture) and a last partial batch (eager):
 * the same losses and the same weight updates to bf16 tolerance, and the
 * BatchNorm step counts exact (the warm-up before a capture moves nothing).
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include "src/base/sg_error.h"
#include "src/image/png_io.h"
#include "models/weights.h"

static void test_mode_names(void **state)
{
    (void)state;
    sg_cuda_graphs g;
    assert_int_equal(sg_cuda_graphs_parse(&g, "on"), SG_OK);
    assert_int_equal(g, SG_CUDA_GRAPHS_ON);
    assert_int_equal(sg_cuda_graphs_parse(&g, "off"), SG_OK);
    assert_int_equal(g, SG_CUDA_GRAPHS_OFF);
    assert_int_equal(sg_cuda_graphs_parse(&g, "auto"), SG_OK);
    assert_int_equal(g, SG_CUDA_GRAPHS_AUTO);
    assert_int_equal(sg_cuda_graphs_parse(&g, "yes"), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "'yes' (expected auto, on or off)"));
}

/* On a CPU model `on` is an error naming the option; auto and off are
 * fine and leave every step eager and uncounted. */
static void test_on_needs_cuda(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 1, .n_classes = 3,
                          .device = "cpu", .n_threads = 1};
    sg_model *m = NULL;
    assert_int_equal(sg_model_create(&m, &spec), 0);
    assert_int_equal(sg_model_set_cuda_graphs(m, SG_CUDA_GRAPHS_ON), SG_E_UNSUPPORTED);
    const char *msg = sg_last_error();
    assert_non_null(strstr(msg, "--cuda-graphs on: "));
    assert_true(strstr(msg, "need a CUDA device") || strstr(msg, "built without CUDA graphs"));
    assert_null(strchr(msg, '\n'));
    assert_int_equal(sg_model_set_cuda_graphs(m, SG_CUDA_GRAPHS_AUTO), SG_OK);
    sg_optim *o = NULL;
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.01, .momentum = 0.9};
    assert_int_equal(sg_optim_create(&o, m, &os), 0);
    assert_int_equal(sg_model_set_train(m, 1), 0);
    float x[2 * 16 * 16];
    for (int i = 0; i < 2 * 16 * 16; i++)
        x[i] = (float)(i % 17) / 8.0f - 1.0f;
    int64_t y[2] = {0, 2};
    double loss = 0.0;
    assert_int_equal(sg_model_train_step(m, o, x, 2, 1, 16, 16, y, 0.0, &loss, NULL), 0);
    assert_true(isfinite(loss) && loss > 0.0);
    sg_cuda_graph_stats st;
    assert_int_equal(sg_optim_cuda_graph_stats(o, &st), 0);
    assert_int_equal(st.captures, 0);
    assert_int_equal(st.replays, 0);
    assert_int_equal(st.eager, 0);
    sg_optim_free(o);
    sg_model_free(m);
}

/* Host buffers: aligned, writable, freed (ASan checks the free). */
static void test_host_buffers(void **state)
{
    (void)state;
    void *p = NULL;
    size_t n = (size_t)3 * 224 * 224 * 16;
    assert_int_equal(sg_host_alloc(&p, n * sizeof(float)), SG_OK);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    float *f = p;
    for (size_t i = 0; i < n; i++)
        f[i] = (float)i;
    assert_true(f[n - 1] == (float)(n - 1));
    sg_host_free(p);
    sg_host_free(NULL);
}

/* Through the binary: `train --device cpu --cuda-graphs on` stops with
 * the message and exit status 1; a bad mode is a usage error (2). */
static void test_cli(void **state)
{
    (void)state;
    SG_REQUIRE_PATH(sg_test_bin());
    char *tmp = sg_test_tmpdir(), *out = NULL, p[4400];
    int rc = sg_test_run(&out, NULL, "train '%s' --cuda-graphs sometimes --out '%s/r0'", tmp, tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--cuda-graphs: 'sometimes' (expected auto, on or off)");
    free(out);
    if (sg_torch_available()) {
        snprintf(p, sizeof p, "%s/data", tmp);
        assert_int_equal(mkdir(p, 0755), 0);
        for (int c = 0; c < 2; c++) {
            snprintf(p, sizeof p, "%s/data/%c", tmp, 'a' + c);
            assert_int_equal(mkdir(p, 0755), 0);
            for (int i = 0; i < 4; i++) {
                float px[64];
                for (int k = 0; k < 64; k++)
                    px[k] = (float)((k * 37 + i * 11) % 64) / 128.0f + 0.5f * (float)c;
                snprintf(p, sizeof p, "%s/data/%c/%d.png", tmp, 'a' + c, i);
                assert_int_equal(sg_png_write(p, px, 1, 8, 8, 8), 0);
            }
        }
        rc = sg_test_run(&out, NULL,
                         "train '%s/data' --arch resnet18 --pretrained none --device cpu --cuda-graphs on "
                         "--epochs 1 --no-progress --out '%s/run'",
                         tmp, tmp);
        SG_ASSERT_EXIT(rc, 1, out);
        SG_ASSERT_CONTAINS(out, "sensorgram train: ");
        SG_ASSERT_CONTAINS(out, "--cuda-graphs on: ");
        free(out);
    }
    sg_test_rmtree(tmp);
    free(tmp);
}

enum { N = 32, N_LAST = 20, C = 1, H = 15, W = 125, K = 19, STEPS = 20 };

typedef struct graph_run {
    sg_model *m;
    sg_optim *o;
    double loss[STEPS];
} graph_run;

static void graph_run_open(graph_run *r, sg_optim_kind kind, sg_cuda_graphs mode, const char *init)
{
    sg_model_spec spec = {.arch = SG_ARCH_RESNET34, .in_channels = C, .n_classes = K,
                          .device = sg_test_device(), .channels_last = 1,
                          .precision = SG_PRECISION_BF16};
    assert_int_equal(sg_model_create(&r->m, &spec), 0);
    assert_int_equal(sg_weights_load(r->m, init, NULL), 0);
    int rc = sg_model_set_cuda_graphs(r->m, mode);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    sg_optim_spec os = {.kind = kind, .lr = 0.01, .momentum = 0.9, .weight_decay = 1e-2,
                        .no_decay_bn_bias = 1, .nesterov = kind == SG_OPTIM_SGD};
    assert_int_equal(sg_optim_create(&r->o, r->m, &os), 0);
    assert_int_equal(sg_model_set_train(r->m, 1), 0);
}

/* The same 20 steps: a schedule that moves every step (so a graph that
 * froze lr or momentum at capture would drift), the stem frozen from step
 * 10 (a recapture), and a partial last batch (eager). */
static void graph_run_steps(graph_run *r, const float *x, const int64_t *y, sg_optim_kind kind)
{
    for (int s = 0; s < STEPS; s++) {
        double base = (kind == SG_OPTIM_SGD ? 0.05 : 2e-3) * (1.0 + (double)(s % 7)) / 7.0;
        double mom = 0.95 - 0.01 * (double)(s % 5);
        for (int st = 0; st < SG_STAGE_COUNT; st++)
            assert_int_equal(sg_optim_set_stage(r->o, (sg_stage)st, base * (st + 1) / 6.0, mom), 0);
        if (s == 10)
            assert_int_equal(sg_model_set_frozen(r->m, SG_STAGE_STEM, 1, 0), 0);
        int n = s == STEPS - 1 ? N_LAST : N;
        int rc = sg_model_train_step(r->m, r->o, x + (size_t)s * N * C * H * W, n, C, H, W,
                                     y + (size_t)s * N, 0.1, &r->loss[s], NULL);
        if (rc != 0)
            print_error("step %d: %s\n", s, sg_last_error());
        assert_int_equal(rc, 0);
    }
}

static float *tensor_copy(sg_model *m, const char *name, size_t *numel)
{
    int count = 0;
    assert_int_equal(sg_model_tensor_count(m, &count), 0);
    for (int i = 0; i < count; i++) {
        const char *nm;
        int ndim;
        int64_t sh[4];
        assert_int_equal(sg_model_tensor_info(m, i, &nm, &ndim, sh, NULL), 0);
        if (strcmp(nm, name) != 0)
            continue;
        *numel = (size_t)(sh[0] * sh[1] * sh[2] * sh[3]);
        float *v = malloc(*numel * sizeof *v);
        assert_non_null(v);
        assert_int_equal(sg_model_tensor_get(m, name, v, *numel), 0);
        return v;
    }
    fail_msg("no tensor %s", name);
    return NULL;
}

static void check_graphs_match(sg_optim_kind kind)
{
    char *dir = sg_test_tmpdir();
    char init[4200];
    snprintf(init, sizeof init, "%s/init.safetensors", dir);
    assert_int_equal(sg_torch_seed(7), 0);
    graph_run e = {0}, g = {0};
    {
        sg_model_spec spec = {.arch = SG_ARCH_RESNET34, .in_channels = C, .n_classes = K,
                              .device = "cpu", .n_threads = 1};
        sg_model *m0 = NULL;
        assert_int_equal(sg_model_create(&m0, &spec), 0);
        assert_int_equal(sg_weights_save(m0, init, NULL, NULL, 0), 0);
        sg_model_free(m0);
    }
    size_t nx = (size_t)STEPS * N * C * H * W;
    float *x = NULL;
    assert_int_equal(sg_host_alloc((void **)&x, nx * sizeof *x), 0); /* pinned, as the loader's */
    int64_t *y = malloc((size_t)STEPS * N * sizeof *y);
    assert_non_null(y);
    unsigned s = 12345u;
    for (size_t i = 0; i < nx; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((s >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    for (size_t i = 0; i < (size_t)STEPS * N; i++)
        y[i] = (int64_t)((i * 7) % K);

    graph_run_open(&e, kind, SG_CUDA_GRAPHS_OFF, init);
    graph_run_open(&g, kind, SG_CUDA_GRAPHS_ON, init);
    graph_run_steps(&e, x, y, kind);
    graph_run_steps(&g, x, y, kind);

    sg_cuda_graph_stats st;
    assert_int_equal(sg_optim_cuda_graph_stats(g.o, &st), 0);
    print_message("graphs: %ld captures, %ld replays, %ld eager\n", st.captures, st.replays, st.eager);
    assert_int_equal(st.captures, 2);       /* step 0, and step 10 after the freeze */
    assert_int_equal(st.replays, STEPS - 1);
    assert_int_equal(st.eager, 1);          /* the partial last batch */

    double worst = 0.0;
    for (int i = 0; i < STEPS; i++) {
        assert_true(isfinite(g.loss[i]));
        worst = fmax(worst, fabs(g.loss[i] - e.loss[i]) / fabs(e.loss[i]));
    }
    print_message("losses: max relative difference %.3g\n", worst);
    assert_true(worst < 2e-2);

    /* weight updates (final - initial) to bf16 tolerance of their scale */
    const char *names[] = {"conv1.weight", "layer1.0.conv1.weight", "layer2.1.bn2.weight",
                           "layer3.0.downsample.0.weight", "layer4.2.conv2.weight",
                           "layer4.2.bn2.running_mean", "fc.weight", "fc.bias"};
    sg_model *m0 = NULL;
    sg_model_spec spec0 = {.arch = SG_ARCH_RESNET34, .in_channels = C, .n_classes = K, .device = "cpu",
                           .n_threads = 1};
    assert_int_equal(sg_model_create(&m0, &spec0), 0);
    assert_int_equal(sg_weights_load(m0, init, NULL), 0);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n0, ne, ng;
        float *w0 = tensor_copy(m0, names[k], &n0);
        float *we = tensor_copy(e.m, names[k], &ne);
        float *wg = tensor_copy(g.m, names[k], &ng);
        assert_true(n0 == ne && ne == ng);
        double *want = malloc(ne * sizeof *want);
        float *got = malloc(ne * sizeof *got);
        assert_non_null(want);
        assert_non_null(got);
        for (size_t i = 0; i < ne; i++) {
            want[i] = (double)we[i] - (double)w0[i];
            got[i] = (float)((double)wg[i] - (double)w0[i]);
        }
        double scale = sg_max_abs(want, ne);
        assert_true(scale > 0.0); /* it trained */
        char what[160];
        snprintf(what, sizeof what, "update of %s (graphs vs eager)", names[k]);
        sg_assert_close(what, got, want, ne, 5e-2 * scale, 0.0);
        free(want);
        free(got);
        free(w0);
        free(we);
        free(wg);
    }
    sg_model_free(m0);
    /* BatchNorm steps: stem frozen (eval) from step 10, the rest trained 20 */
    float nb_e, nb_g;
    assert_int_equal(sg_model_tensor_get(g.m, "bn1.num_batches_tracked", &nb_g, 1), 0);
    assert_int_equal(sg_model_tensor_get(e.m, "bn1.num_batches_tracked", &nb_e, 1), 0);
    assert_true(nb_g == 10.0f && nb_e == 10.0f);
    assert_int_equal(sg_model_tensor_get(g.m, "layer4.2.bn2.num_batches_tracked", &nb_g, 1), 0);
    assert_true(nb_g == (float)STEPS);

    for (graph_run *r = &e; r; r = r == &e ? &g : NULL) {
        sg_optim_free(r->o);
        sg_model_free(r->m);
    }
    sg_host_free(x);
    free(y);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_graphs_match_eager_sgd(void **state)
{
    (void)state;
    SG_REQUIRE_CUDA();
    check_graphs_match(SG_OPTIM_SGD);
}

static void test_graphs_match_eager_adamw(void **state)
{
    (void)state;
    SG_REQUIRE_CUDA();
    check_graphs_match(SG_OPTIM_ADAMW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_on_needs_cuda),
        cmocka_unit_test(test_host_buffers),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_graphs_match_eager_sgd),
        cmocka_unit_test(test_graphs_match_eager_adamw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
