/* test_models.c - the libtorch bridge against torchvision.
 *
 * tools/oracle_models.py writes random torchvision weights (BatchNorm
 * statistics randomised too), inputs and outputs; the C side loads the
 * weights through models/weights.c and must reproduce eval- and
 * train-mode logits and pooled features within 1e-4 relative to each
 * tensor's scale, for ResNet18/34/50 at 3 input channels and ResNet18/50
 * at 15 (conv1 replaced, once per block type).  Also:
 * the RGB stem adaptation against numpy, the new head, save/load round
 * trips, the bare `predict` CLI, and error paths.
 */
#include "tests/sg_test_models.h"

#include "models/safetensors.h"
#include "src/base/sg_error.h"
#include "models/sg_model.h"
#include "models/weights.h"

#define N_CLASSES 10

typedef sg_oracle_fixture fixture;

static int group_setup(void **state)
{
    sg_test_device_setup();
    return sg_oracle_setup(state, "torch,torchvision,numpy,PIL", "forward stem predict");
}

static int group_teardown(void **state)
{
    return sg_oracle_teardown(state);
}

#define REQUIRE_ORACLE(fx) SG_REQUIRE_ORACLE(fx, "torch,torchvision,numpy,PIL")

/* A model on the tests' device (SG_TEST_DEVICE, cpu by default). */
static sg_model *new_model_ex(sg_arch arch, int in_ch, int n_classes, const char *device,
                              sg_precision precision)
{
    sg_model_spec spec = {.arch = arch, .in_channels = in_ch, .n_classes = n_classes,
                          .device = device, .precision = precision, .n_threads = 1};
    sg_model *m = NULL;
    int rc = sg_model_create(&m, &spec);
    if (rc != 0)
        print_error("sg_model_create: %s\n", sg_last_error());
    assert_int_equal(rc, 0);
    return m;
}

static sg_model *new_model(sg_arch arch, int in_ch, int n_classes)
{
    return new_model_ex(arch, in_ch, n_classes, sg_test_device(), SG_PRECISION_FP32);
}

/* Mixed precision (CUDA only): eval-mode logits under autocast against
 * torchvision's under torch.autocast on the same GPU, within the
 * tolerances of docs/method.md ("Mixed precision on CUDA"): a fraction of the
 * largest |logit| (bf16 keeps 8 mantissa bits, fp16 11). */
static void check_autocast(const fixture *fx, sg_arch arch, int in_ch, const char *path,
                           const float *x, int n, int hw, const char *tag)
{
    const struct {
        sg_precision p;
        const char *name;
        double tol;
    } cases[] = {{SG_PRECISION_BF16, "bf16", 3e-2}, {SG_PRECISION_FP16, "fp16", 5e-3}};
    for (int k = 0; k < 2; k++) {
        sg_model *m = new_model_ex(arch, in_ch, N_CLASSES, sg_test_device(), cases[k].p);
        assert_int_equal(sg_weights_load(m, path, NULL), 0);
        float logits[2 * N_CLASSES];
        int rc = sg_model_forward(m, x, n, in_ch, hw, hw, logits);
        if (rc != 0)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        char name[128];
        snprintf(name, sizeof name, "%s_eval_%s", tag, cases[k].name);
        size_t cnt = (size_t)n * N_CLASSES;
        double *want = sg_oracle_read(fx->dir, name, cnt);
        assert_non_null(want);
        double scale = sg_max_abs(want, cnt), worst = 0.0;
        for (size_t i = 0; i < cnt; i++)
            worst = fmax(worst, fabs((double)logits[i] - want[i]));
        /* the measured error, for tightening the tolerance (gpu_check log) */
        print_message("%s: max |diff| %.3g = %.3g of max |logit| (tolerance %.3g)\n", name, worst,
                      scale > 0 ? worst / scale : 0.0, cases[k].tol);
        sg_assert_close(name, logits, want, cnt, cases[k].tol * scale, 0.0);
        free(want);
        sg_model_free(m);
    }
}

static void check_arch(const fixture *fx, sg_arch arch, int in_ch)
{
    char tag[64], path[4200], name[128];
    snprintf(tag, sizeof tag, "%s_c%d", sg_arch_name(arch), in_ch);
    snprintf(path, sizeof path, "%s/%s.safetensors", fx->dir, tag);
    sg_model *m = new_model(arch, in_ch, N_CLASSES);
    sg_weights_report rep;
    int rc = sg_weights_load(m, path, &rep);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(rep.stem_adapted, 0);
    assert_int_equal(rep.head_replaced, 0);

    const int n = 2, hw = 64;
    size_t nx = (size_t)n * (size_t)in_ch * hw * hw;
    snprintf(name, sizeof name, "%s_x", tag);
    float *x = sg_oracle_read_f32(fx->dir, name, nx);
    assert_non_null(x);
    int fdim = 0;
    assert_int_equal(sg_model_feature_dim(m, &fdim), 0);
    assert_int_equal(fdim, arch == SG_ARCH_RESNET50 ? 2048 : 512);

    float logits[2 * N_CLASSES];
    float *feat = malloc((size_t)n * (size_t)fdim * sizeof *feat);
    assert_non_null(feat);
    const char *kinds[] = {"eval", "feat", "train"};
    for (int k = 0; k < 3; k++) {
        size_t cnt = k == 1 ? (size_t)n * (size_t)fdim : (size_t)n * N_CLASSES;
        float *got = k == 1 ? feat : logits;
        assert_int_equal(sg_model_set_train(m, k == 2), 0);
        rc = k == 1 ? sg_model_features(m, x, n, in_ch, hw, hw, got)
                    : sg_model_forward(m, x, n, in_ch, hw, hw, got);
        if (rc != 0)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        snprintf(name, sizeof name, "%s_%s", tag, kinds[k]);
        double *want = sg_oracle_read(fx->dir, name, cnt);
        assert_non_null(want);
        sg_assert_close(name, got, want, cnt, 1e-4 * sg_max_abs(want, cnt), 1e-4);
        free(want);
    }
    if (sg_test_on_cuda())
        check_autocast(fx, arch, in_ch, path, x, n, hw, tag);
    free(feat);
    free(x);
    sg_model_free(m);
}

static void test_resnet18(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    check_arch(fx, SG_ARCH_RESNET18, 3);
    check_arch(fx, SG_ARCH_RESNET18, 15);
}

static void test_resnet34(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    check_arch(fx, SG_ARCH_RESNET34, 3); /* same blocks as 18: 15 channels there */
}

static void test_resnet50(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    check_arch(fx, SG_ARCH_RESNET50, 3);
    check_arch(fx, SG_ARCH_RESNET50, 15);
}

/* RGB weights into 1, 2 and 15 channels, against numpy; a 5-class model
 * keeps its new head. */
static void test_stem_adaptation(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    char path[4200], name[64];
    snprintf(path, sizeof path, "%s/rgb.safetensors", fx->dir);
    const int chans[] = {1, 2, 15};
    for (int i = 0; i < 3; i++) {
        int c = chans[i];
        sg_model *m = new_model(SG_ARCH_RESNET18, c, 5);
        float head_before[5];
        assert_int_equal(sg_model_tensor_get(m, "fc.bias", head_before, 5), 0);
        sg_weights_report rep;
        int rc = sg_weights_load(m, path, &rep);
        if (rc != 0)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        assert_int_equal(rep.stem_adapted, 1);
        assert_int_equal(rep.file_in_channels, 3);
        assert_int_equal(rep.head_replaced, 1);
        assert_int_equal(rep.file_classes, N_CLASSES);

        size_t n = (size_t)64 * (size_t)c * 49;
        float *got = malloc(n * sizeof *got);
        assert_non_null(got);
        assert_int_equal(sg_model_tensor_get(m, "conv1.weight", got, n), 0);
        snprintf(name, sizeof name, "stem_c%d", c);
        double *want = sg_oracle_read(fx->dir, name, n);
        assert_non_null(want);
        sg_assert_close(name, got, want, n, 1e-6, 1e-5);
        free(want);
        free(got);

        float head_after[5];
        assert_int_equal(sg_model_tensor_get(m, "fc.bias", head_after, 5), 0);
        assert_memory_equal(head_before, head_after, sizeof head_after);

        n = (size_t)64 * 64 * 9;
        got = malloc(n * sizeof *got);
        assert_int_equal(sg_model_tensor_get(m, "layer1.0.conv1.weight", got, n), 0);
        want = sg_oracle_read(fx->dir, "layer1_0_conv1", n);
        assert_non_null(want);
        sg_assert_close("layer1.0.conv1.weight", got, want, n, 0.0, 0.0);
        free(want);
        free(got);
        sg_model_free(m);
    }
}

/* Weights of another architecture fail before touching the model, with
 * the tensor and both shapes in the message. */
static void test_wrong_weights_rejected(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    char path[4200];
    snprintf(path, sizeof path, "%s/resnet50_c3.safetensors", fx->dir);
    sg_model *m = new_model(SG_ARCH_RESNET18, 3, N_CLASSES);
    float before[64];
    assert_int_equal(sg_model_tensor_get(m, "bn1.weight", before, 64), 0);
    int rc = sg_weights_load(m, path, NULL);
    assert_int_not_equal(rc, 0);
    const char *msg = sg_last_error();
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, "layer1.0.conv1.weight"));
    assert_non_null(strstr(msg, "expected [64,64,3,3]"));
    float after[64];
    assert_int_equal(sg_model_tensor_get(m, "bn1.weight", after, 64), 0);
    assert_memory_equal(before, after, sizeof after);
    sg_model_free(m);

    /* 15-channel weights into a 3-channel model: no adaptation that way */
    snprintf(path, sizeof path, "%s/resnet18_c15.safetensors", fx->dir);
    m = new_model(SG_ARCH_RESNET18, 3, N_CLASSES);
    assert_int_equal(sg_weights_load(m, path, NULL), SG_E_SHAPE);
    assert_non_null(strstr(sg_last_error(), "'conv1.weight': shape [64,15,7,7] expected [64,3,7,7]"));
    sg_model_free(m);
}

/* The state_dict names and order are torchvision's. */
static void test_tensor_names(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    sg_model *m = new_model(SG_ARCH_RESNET50, 3, 7);
    int count = 0;
    assert_int_equal(sg_model_tensor_count(m, &count), 0);
    assert_int_equal(count, 320); /* len(resnet50().state_dict()) */
    const char *want[] = {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                          "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"};
    for (int i = 0; i < 7; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        assert_int_equal(sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int), 0);
        assert_string_equal(name, want[i]);
        assert_int_equal(is_int, i == 5);
    }
    const char *name;
    int64_t shape[4];
    int ndim;
    assert_int_equal(sg_model_tensor_info(m, 10, &name, &ndim, shape, NULL), 0);
    assert_string_equal(name, "layer1.0.bn1.running_var");
    assert_int_equal(sg_model_tensor_info(m, count - 2, &name, &ndim, shape, NULL), 0);
    assert_string_equal(name, "fc.weight");
    assert_int_equal(shape[0], 7);
    assert_int_equal(shape[1], 2048);
    /* downsample lives where torchvision puts it */
    float w[256 * 64];
    assert_int_equal(sg_model_tensor_get(m, "layer1.0.downsample.0.weight", w, 256 * 64), 0);
    assert_int_equal(sg_model_tensor_get(m, "layer1.0.downsample.1.running_var", w, 256), 0);
    assert_true(w[0] == 1.0f); /* fresh BatchNorm */
    assert_int_not_equal(sg_model_tensor_get(m, "layer1.1.downsample.0.weight", w, 1), 0);
    sg_model_free(m);
}

/* Save, load into a fresh model: same outputs; metadata comes back. */
static void test_save_load_roundtrip(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    char *dir = sg_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    assert_int_equal(sg_torch_seed(42), 0);
    sg_model *a = new_model(SG_ARCH_RESNET18, 2, 4);
    assert_int_equal(sg_model_set_train(a, 1), 0);
    float x[2 * 2 * 32 * 32];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
    float la[8], lb[8];
    assert_int_equal(sg_model_forward(a, x, 2, 2, 32, 32, la), 0); /* moves running stats */
    assert_int_equal(sg_model_set_train(a, 0), 0);
    assert_int_equal(sg_model_forward(a, x, 2, 2, 32, 32, la), 0);
    const char *keys[] = {"arch", "classes"}, *values[] = {"resnet18", "[\"a\",\"b\",\"c\",\"d\"]"};
    assert_int_equal(sg_weights_save(a, path, keys, values, 2), 0);

    sg_model *b = new_model(SG_ARCH_RESNET18, 2, 4);
    assert_int_equal(sg_weights_load(b, path, NULL), 0);
    assert_int_equal(sg_model_forward(b, x, 2, 2, 32, 32, lb), 0);
    assert_memory_equal(la, lb, sizeof la);
    float nbt_a, nbt_b;
    assert_int_equal(sg_model_tensor_get(a, "bn1.num_batches_tracked", &nbt_a, 1), 0);
    assert_int_equal(sg_model_tensor_get(b, "bn1.num_batches_tracked", &nbt_b, 1), 0);
    assert_true(nbt_a == 1.0f && nbt_b == 1.0f);

    sg_st_file f;
    assert_int_equal(sg_st_open(&f, path), 0);
    assert_string_equal(sg_st_meta(&f, "classes"), values[1]);
    assert_string_equal(sg_st_meta(&f, "arch"), "resnet18");
    const sg_st_tensor *t = sg_st_find(&f, "bn1.num_batches_tracked");
    assert_non_null(t);
    assert_int_equal(t->dtype, SG_ST_I64);
    assert_string_equal(f.tensors[0].name, "conv1.weight");
    sg_st_close(&f);
    int classes = 0, in_ch = 0;
    assert_int_equal(sg_weights_probe(path, &classes, &in_ch), 0);
    assert_int_equal(classes, 4);
    assert_int_equal(in_ch, 2);
    sg_model_free(a);
    sg_model_free(b);
    sg_test_rmtree(dir);
    free(dir);
}

/* A checkpoint written from a CUDA model after a training step loads into
 * a CPU model with the same eval-mode outputs (CUDA only). */
static void test_gpu_checkpoint_on_cpu(void **state)
{
    (void)state;
    SG_REQUIRE_CUDA();
    char *dir = sg_test_tmpdir();
    char path[4200], dev[256];
    snprintf(path, sizeof path, "%s/gpu.safetensors", dir);
    assert_int_equal(sg_torch_seed(3), 0);
    sg_model *g = new_model(SG_ARCH_RESNET18, 1, 4);
    assert_int_equal(sg_model_device(g, dev, sizeof dev), 0);
    assert_int_equal(strncmp(dev, "cuda", 4), 0);
    enum { N = 8, H = 15, W = 125 };
    float *x = malloc(sizeof(float) * N * H * W);
    assert_non_null(x);
    for (size_t i = 0; i < (size_t)N * H * W; i++)
        x[i] = (float)((i * 7919) % 211) / 105.0f - 1.0f;
    int64_t y[N] = {0, 1, 2, 3, 0, 1, 2, 3};
    sg_optim *o = NULL;
    sg_optim_spec os = {.kind = SG_OPTIM_SGD, .lr = 0.05, .momentum = 0.9};
    assert_int_equal(sg_optim_create(&o, g, &os), 0);
    assert_int_equal(sg_model_set_train(g, 1), 0);
    double loss = 0.0;
    assert_int_equal(sg_model_train_step(g, o, x, N, 1, H, W, y, 0.0, &loss, NULL), 0);
    assert_true(isfinite(loss));
    assert_int_equal(sg_model_set_train(g, 0), 0);
    float lg[N * 4], lc[N * 4];
    assert_int_equal(sg_model_forward(g, x, N, 1, H, W, lg), 0);
    const char *keys[] = {"arch"}, *values[] = {"resnet18"};
    assert_int_equal(sg_weights_save(g, path, keys, values, 1), 0);
    sg_optim_free(o);
    sg_model_free(g);

    sg_model *c = new_model_ex(SG_ARCH_RESNET18, 1, 4, "cpu", SG_PRECISION_FP32);
    int rc = sg_weights_load(c, path, NULL);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(sg_model_forward(c, x, N, 1, H, W, lc), 0);
    double want[N * 4];
    for (int i = 0; i < N * 4; i++)
        want[i] = lg[i];
    sg_assert_close("cpu logits of a gpu checkpoint", lc, want, N * 4, 1e-4 * sg_max_abs(want, N * 4),
                    1e-4);
    float nbt;
    assert_int_equal(sg_model_tensor_get(c, "bn1.num_batches_tracked", &nbt, 1), 0);
    assert_true(nbt == 1.0f);
    sg_model_free(c);
    free(x);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    sg_model *m = NULL;
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 3, .n_classes = 2, .device = "tpu"};
    assert_int_equal(sg_model_create(&m, &spec), SG_E_TORCH);
    assert_null(m);
    assert_non_null(strstr(sg_last_error(), "unknown device 'tpu'"));
    if (!sg_cuda_available()) {
        spec.device = "cuda:0";
        assert_int_equal(sg_model_create(&m, &spec), SG_E_TORCH);
        assert_non_null(strstr(sg_last_error(), "no CUDA device"));
    }
    m = new_model(SG_ARCH_RESNET18, 3, 2);
    float x[1 * 4 * 16 * 16] = {0}, logits[2];
    assert_int_equal(sg_model_forward(m, x, 1, 4, 16, 16, logits), SG_E_TORCH);
    assert_non_null(strstr(sg_last_error(), "input has 4 channels, model expects 3"));
    assert_null(strchr(sg_last_error(), '\n'));
    sg_model_free(m);
    sg_model_free(NULL);
    sg_arch arch;
    assert_int_equal(sg_arch_parse(&arch, "resnet34"), 0);
    assert_int_equal(arch, SG_ARCH_RESNET34);
    assert_int_equal(sg_arch_parse(&arch, "resnet101"), SG_E_INVALID);
}

/* `sensorgram predict --weights` against torchvision's softmax. */
static void test_predict_cli(void **state)
{
    fixture *fx = *state;
    REQUIRE_ORACLE(fx);
    SG_REQUIRE_PATH(sg_test_bin());
    const char *variants[] = {"probs_raw", "probs_imagenet"};
    for (int v = 0; v < 2; v++) {
        char cmd[8192], out[4200];
        snprintf(out, sizeof out, "%s/pred%d.csv", fx->dir, v);
        snprintf(cmd, sizeof cmd,
                 "%s predict --arch resnet18 --weights %s/net.safetensors --device cpu %s -o %s "
                 "%s/img0.png %s/img1.png",
                 sg_test_bin(), fx->dir, v == 0 ? "--no-normalize" : "", out, fx->dir, fx->dir);
        assert_int_equal(system(cmd), 0);
        double *want = sg_oracle_read(fx->dir, variants[v], 8);
        assert_non_null(want);
        FILE *f = fopen(out, "r");
        assert_non_null(f);
        char line[1024];
        assert_non_null(fgets(line, sizeof line, f));
        assert_non_null(strstr(line, "path,pred,p0,p1,p2,p3"));
        float got[8];
        for (int r = 0; r < 2; r++) {
            assert_non_null(fgets(line, sizeof line, f));
            char path[512];
            int pred;
            assert_int_equal(sscanf(line, "%511[^,],%d,%f,%f,%f,%f", path, &pred, &got[4 * r],
                                    &got[4 * r + 1], &got[4 * r + 2], &got[4 * r + 3]),
                             6);
            assert_non_null(strstr(path, r ? "img1.png" : "img0.png"));
            int best = 0;
            for (int k = 1; k < 4; k++)
                best = want[4 * r + k] > want[4 * r + best] ? k : best;
            assert_int_equal(pred, best);
        }
        fclose(f);
        sg_assert_close(variants[v], got, want, 8, 1e-5, 1e-4);
        free(want);
    }
    /* a missing image: non-zero exit, no output file */
    char cmd[8192], out[4200];
    snprintf(out, sizeof out, "%s/bad.csv", fx->dir);
    snprintf(cmd, sizeof cmd,
             "%s predict --arch resnet18 --weights %s/net.safetensors -o %s %s/nope.png 2>/dev/null",
             sg_test_bin(), fx->dir, out, fx->dir);
    assert_int_not_equal(system(cmd), 0);
    assert_false(sg_test_path_exists(out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tensor_names),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_resnet18),
        cmocka_unit_test(test_resnet34),
        cmocka_unit_test(test_resnet50),
        cmocka_unit_test(test_stem_adaptation),
        cmocka_unit_test(test_wrong_weights_rejected),
        cmocka_unit_test(test_predict_cli),
        cmocka_unit_test(test_gpu_checkpoint_on_cpu),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
