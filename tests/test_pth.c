/* test_pth.c - PyTorch .pth files read in C, against torch.save itself.
 *
 * tools/oracle_pth.py writes, in both torch.save formats (zip and the
 * legacy stream), ResNet18/34/50 state dicts (random init, BatchNorm
 * statistics randomised), fp16 and bf16 copies, training checkpoints
 * (state_dict + optimizer + epoch, and "model"), a DDP-prefixed dict,
 * views of one storage and non-contiguous slices, with a manifest of each
 * tensor's SHA-256 over its float32 values: every tensor must match bit
 * for bit.  A ResNet18 built from views gives torchvision's logits.  Then
 * hostile pickles (os.system, eval, Popen, odd REDUCEs, bad sizes and
 * strides, memo and depth abuse, truncated archives) are each refused with
 * their message, by the library and by the binary, and the canary file
 * they would create does not exist.
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include <nettle/sha2.h>

#include "models/pth_read.h"
#include "models/safetensors.h"
#include "models/weights.h"
#include "src/base/sg_error.h"
#include "src/image/png_io.h"

typedef sg_oracle_fixture fixture;

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->dir = sg_test_tmpdir();
    fx->what = "good hostile";
    if (sg_test_python_has("torch,torchvision")) {
        char cmd[4400];
        snprintf(cmd, sizeof cmd, "%s tools/oracle_pth.py '%s' good hostile", sg_test_python(), fx->dir);
        fx->oracle_ok = system(cmd) == 0;
    }
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    return sg_oracle_teardown(state);
}

/* The reader itself needs no libtorch: only the oracle is required. */
#define REQUIRE_FILES(fx)                                                                          \
    do {                                                                                           \
        SG_REQUIRE_PYTHON("torch,torchvision");                                                    \
        if (!(fx)->oracle_ok) {                                                                    \
            print_error("tools/oracle_pth.py failed\n");                                           \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

static void sha256_floats(const float *v, size_t n, char hex[65])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        sha256_update(&ctx, 4, le);
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* Checks every tensor of f against MANIFEST (name dtype [shape] sha256),
 * in order; any_dtype accepts F32/I64 (a converted file). */
static void check_manifest(const sg_st_file *f, const char *manifest, int any_dtype)
{
    FILE *m = fopen(manifest, "r");
    assert_non_null(m);
    char name[256], dtype[16], shape[128], want[65];
    size_t i = 0;
    while (fscanf(m, "%255s %15s %127s %64s", name, dtype, shape, want) == 4) {
        if (i >= f->n_tensors) {
            print_error("%s: %s expected but the file has only %zu tensors\n", manifest, name, f->n_tensors);
            fail();
        }
        const sg_st_tensor *t = &f->tensors[i++];
        if (strcmp(t->name, name) != 0) {
            print_error("%s: tensor %zu is '%s', expected '%s'\n", manifest, i - 1, t->name, name);
            fail();
        }
        if (!any_dtype)
            assert_string_equal(sg_st_dtype_name(t->dtype), dtype);
        char got_shape[128] = "[";
        for (int d = 0; d < t->ndim; d++)
            snprintf(got_shape + strlen(got_shape), sizeof got_shape - strlen(got_shape), "%s%lld",
                     d ? "," : "", (long long)t->shape[d]);
        strcat(got_shape, "]");
        if (strcmp(got_shape, shape) != 0) {
            print_error("%s: '%s' has shape %s, expected %s\n", manifest, name, got_shape, shape);
            fail();
        }
        float *v = malloc((t->numel ? t->numel : 1) * sizeof *v);
        assert_non_null(v);
        assert_int_equal(sg_st_read_f32(f, t, v), 0);
        char got[65];
        sha256_floats(v, t->numel, got);
        free(v);
        if (strcmp(got, want) != 0) {
            print_error("%s: '%s' values differ from torch's (sha256 %s, expected %s)\n", manifest, name, got,
                        want);
            fail();
        }
    }
    fclose(m);
    assert_int_equal(i, f->n_tensors);
}

static void check_file(const fixture *fx, const char *stem, const char *suffix, const char *key)
{
    char path[4300], manifest[4300];
    snprintf(path, sizeof path, "%s/%s%s", fx->dir, stem, suffix);
    snprintf(manifest, sizeof manifest, "%s/%s.txt", fx->dir, stem);
    sg_st_file f;
    int rc = sg_weights_open(&f, path, key);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_string_equal(sg_st_meta(&f, "format"), strcmp(suffix, ".pth") == 0 ? "pth-zip" : "pth-legacy");
    check_manifest(&f, manifest, 0);
    sg_st_close(&f);
}

static const char *const suffixes[] = {".pth", ".legacy.pth"};

static void test_resnets_bit_exact(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    const char *stems[] = {"resnet18", "resnet34", "resnet50", "r18_f16", "r18_bf16"};
    for (size_t s = 0; s < 2; s++)
        for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++)
            check_file(fx, stems[i], suffixes[s], NULL);
}

static void test_checkpoints(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    for (size_t s = 0; s < 2; s++) {
        check_file(fx, "ckpt", suffixes[s], NULL);
        check_file(fx, "ckpt", suffixes[s], "state_dict");
        check_file(fx, "ckpt_model", suffixes[s], NULL);
        check_file(fx, "ddp", suffixes[s], NULL);
        check_file(fx, "slices", suffixes[s], NULL);
        check_file(fx, "views", suffixes[s], NULL);
    }
    char path[4300];
    sg_st_file f;
    snprintf(path, sizeof path, "%s/ckpt.pth", fx->dir);
    assert_int_equal(sg_weights_open(&f, path, NULL), 0);
    assert_string_equal(sg_st_meta(&f, "state_dict_key"), "state_dict");
    assert_string_equal(sg_st_meta(&f, "module_prefix_removed"), "no");
    sg_st_close(&f);
    /* the optimizer's state is not a state dict of a model */
    assert_int_equal(sg_weights_open(&f, path, "optimizer"), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "keys found: epoch, optimizer, state_dict"));
    assert_int_equal(sg_weights_open(&f, path, "nope"), SG_E_CORRUPT);
    snprintf(path, sizeof path, "%s/ddp.legacy.pth", fx->dir);
    assert_int_equal(sg_weights_open(&f, path, NULL), 0);
    assert_string_equal(sg_st_meta(&f, "module_prefix_removed"), "yes");
    assert_non_null(sg_st_find(&f, "layer4.1.bn2.running_var"));
    sg_st_close(&f);
    /* no known key: the message lists what is there and names --key */
    snprintf(path, sizeof path, "%s/nokey.pth", fx->dir);
    assert_int_equal(sg_weights_open(&f, path, NULL), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "keys found: weights, epoch"));
    assert_non_null(strstr(sg_last_error(), "--key"));
    check_file(fx, "nokey", ".pth", "weights");
}

static void test_architecture_fit(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    SG_REQUIRE_TORCH();
    const char *stems[] = {"resnet18", "resnet34", "resnet50"};
    for (int i = 0; i < 3; i++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/%s.legacy.pth", fx->dir, stems[i]);
        sg_st_file f;
        assert_int_equal(sg_weights_open(&f, path, NULL), 0);
        sg_arch arch;
        int classes = 0, in_ch = 0;
        int rc = sg_weights_fit(&f, &arch, &classes, &in_ch);
        if (rc != 0)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        assert_string_equal(sg_arch_name(arch), stems[i]);
        assert_int_equal(classes, 1000);
        assert_int_equal(in_ch, 3);
        sg_st_close(&f);
    }
}

/* A ResNet18 whose .pth tensors are views gives torchvision's logits. */
static void test_logits_from_views(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    SG_REQUIRE_TORCH();
    for (size_t s = 0; s < 2; s++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/views%s", fx->dir, suffixes[s]);
        sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 3, .n_classes = 1000,
                              .device = "cpu", .n_threads = 1};
        sg_model *m = NULL;
        assert_int_equal(sg_model_create(&m, &spec), 0);
        sg_weights_report rep;
        int rc = sg_weights_load(m, path, &rep);
        if (rc != 0)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        assert_int_equal(rep.head_replaced, 0);
        const int n = 2, hw = 64;
        float *x = sg_oracle_read_f32(fx->dir, "forward_x", (size_t)n * 3 * hw * hw);
        double *want = sg_oracle_read(fx->dir, "forward_logits", (size_t)n * 1000);
        assert_non_null(x);
        assert_non_null(want);
        float *got = malloc((size_t)n * 1000 * sizeof *got);
        assert_non_null(got);
        assert_int_equal(sg_model_set_train(m, 0), 0);
        assert_int_equal(sg_model_forward(m, x, n, 3, hw, hw, got), 0);
        sg_assert_close("views logits", got, want, (size_t)n * 1000, 1e-4 * sg_max_abs(want, (size_t)n * 1000),
                        1e-4);
        free(got);
        free(x);
        free(want);
        sg_model_free(m);
    }
}

/* A 2x2 transposed view of storage [1, 2, 3, 4], by hand. */
static void test_tiny_by_hand(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    const char *files[] = {"ok.pth", "legacy_ok.pth"};
    for (int i = 0; i < 2; i++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/%s", fx->dir, files[i]);
        sg_st_file f;
        int rc = sg_pth_open(&f, path, NULL);
        if (rc != 0)
            print_error("%s\n", sg_last_error());
        assert_int_equal(rc, 0);
        assert_int_equal(f.n_tensors, 1);
        float v[4];
        assert_int_equal(sg_st_read_f32(&f, &f.tensors[0], v), 0);
        const float want[4] = {1, 3, 2, 4};
        for (int k = 0; k < 4; k++)
            assert_true(v[k] == want[k]);
        sg_st_close(&f);
    }
}

/* file, what the refusal must say */
static const struct {
    const char *name, *msg;
} hostile[] = {
    {"os_system", "global 'os.system' is not allowed"},
    {"posix_system", "global 'posix.system' is not allowed"},
    {"builtins_eval", "global 'builtins.eval' is not allowed"},
    {"builtins_exec", "global 'builtins.exec' is not allowed"},
    {"subprocess_popen", "global 'subprocess.Popen' is not allowed"},
    {"stack_global", "global 'os.system' is not allowed"},
    {"legacy_os_system", "global 'os.system' is not allowed"},
    {"odict_args", "REDUCE collections.OrderedDict with 1 argument(s)"},
    {"inst_opcode", "opcode 0x69 ('i') is not allowed"},
    {"memo_oob", "memo reference 5 out of range"},
    {"deep_stack", "stack depth limit"},
    {"deep_marks", "stack depth limit"},
    {"deep_nesting", "nested deeper than 64"},
    {"reduce_storage", "REDUCE on storage class"},
    {"storage_large", "storage larger than archive"},
    {"legacy_storage_large", "storage larger than archive"},
    {"neg_size", "is negative"},
    {"neg_stride", "is negative"},
    {"neg_offset", "storage offset -1 is negative"},
    {"overflow_size", "sizes overflow"},
    {"overflow_stride", "strides overflow"},
    {"overflow_offset", "reaches element"},
    {"past_end", "reaches element 4 of a 4-element storage"},
    {"int32_dtype", "dtype int32"},
    {"truncated", "not a readable zip archive"},
    {"legacy_truncated", "more than the file holds"},
};

static void test_hostile_refused(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char path[4300], canary[4300];
        snprintf(path, sizeof path, "%s/%s.pth", fx->dir, hostile[i].name);
        snprintf(canary, sizeof canary, "%s/canary_%s", fx->dir, hostile[i].name);
        sg_st_file f;
        int rc = sg_weights_open(&f, path, NULL);
        if (rc != SG_E_CORRUPT || !strstr(sg_last_error(), hostile[i].msg) || !strstr(sg_last_error(), path)) {
            print_error("%s: rc %d, message '%s', expected '%s'\n", hostile[i].name, rc, sg_last_error(),
                        hostile[i].msg);
            fail();
        }
        assert_int_equal(f.n_tensors, 0);
        assert_false(sg_test_path_exists(canary));
    }
    /* the byte offset is named: GLOBAL os.system is at byte 2 of data.pkl */
    char path[4300];
    sg_st_file f;
    snprintf(path, sizeof path, "%s/os_system.pth", fx->dir);
    assert_int_equal(sg_weights_open(&f, path, NULL), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "data.pkl: pickle: global 'os.system' is not allowed"));
    assert_non_null(strstr(sg_last_error(), "at byte 2"));
}

/* The same through the binary: inspect and import refuse, import writes
 * nothing, train --pretrained refuses before training. */
static void test_hostile_binary(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char path[4300], canary[4300], dst[4300], *out = NULL;
        snprintf(path, sizeof path, "%s/%s.pth", fx->dir, hostile[i].name);
        snprintf(canary, sizeof canary, "%s/canary_%s", fx->dir, hostile[i].name);
        snprintf(dst, sizeof dst, "%s/%s.safetensors", fx->dir, hostile[i].name);
        int rc = sg_test_run(&out, NULL, "weights inspect '%s'", path);
        SG_ASSERT_EXIT(rc, 1, out);
        SG_ASSERT_CONTAINS(out, hostile[i].msg);
        free(out);
        /* import for the code-running globals and every fourth other one
         * (each run loads libtorch: about a second) */
        if (i < 7 || i % 4 == 0) {
            rc = sg_test_run(&out, NULL, "weights import '%s' -o '%s'", path, dst);
            SG_ASSERT_EXIT(rc, 1, out);
            SG_ASSERT_CONTAINS(out, hostile[i].msg);
            free(out);
        }
        assert_false(sg_test_path_exists(dst));
        assert_false(sg_test_path_exists(canary));
    }
}

static void test_cli_import_inspect(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    SG_REQUIRE_TORCH();
    char src[4300], dst[4300], manifest[4300], *out = NULL;
    snprintf(src, sizeof src, "%s/resnet34.legacy.pth", fx->dir);
    snprintf(dst, sizeof dst, "%s/r34.safetensors", fx->dir);
    snprintf(manifest, sizeof manifest, "%s/resnet34.txt", fx->dir);
    int rc = sg_test_run(&out, NULL, "weights import '%s' -o '%s'", src, dst);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    sg_st_file f;
    assert_int_equal(sg_st_open(&f, dst), 0);
    check_manifest(&f, manifest, 1);
    assert_string_equal(sg_st_meta(&f, "architecture"), "resnet34");
    sg_st_close(&f);

    snprintf(src, sizeof src, "%s/r18_bf16.pth", fx->dir);
    rc = sg_test_run(&out, NULL, "weights inspect '%s'", src);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "conv1.weight");
    SG_ASSERT_CONTAINS(out, "BF16 [64, 3, 7, 7]");
    SG_ASSERT_CONTAINS(out, "architecture: resnet18 (1000 classes, 3 input channels)");
    free(out);
    rc = sg_test_run(&out, NULL, "weights inspect '%s'", dst);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "architecture: resnet34");
    free(out);
    snprintf(src, sizeof src, "%s/ckpt.legacy.pth", fx->dir);
    rc = sg_test_run(&out, NULL, "weights inspect '%s' --key optimizer", src);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "keys found: epoch, optimizer, state_dict");
    free(out);
    rc = sg_test_run(&out, NULL, "weights import '%s'", src);
    SG_ASSERT_EXIT(rc, 2, out);
    free(out);
    /* slices fits no ResNet: import refuses and writes nothing */
    snprintf(src, sizeof src, "%s/slices.pth", fx->dir);
    snprintf(dst, sizeof dst, "%s/slices.safetensors", fx->dir);
    rc = sg_test_run(&out, NULL, "weights import '%s' -o '%s'", src, dst);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "fits no known architecture");
    free(out);
    assert_false(sg_test_path_exists(dst));
}

/* PNGs ROOT/a/N.png, ROOT/b/N.png (8x8 gray patterns). */
static void make_images(const char *root)
{
    char p[4400];
    assert_int_equal(mkdir(root, 0755), 0);
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/%c", root, 'a' + c);
        assert_int_equal(mkdir(p, 0755), 0);
        for (int i = 0; i < 4; i++) {
            snprintf(p, sizeof p, "%s/%c/%d.png", root, 'a' + c, i);
            float px[64];
            for (int k = 0; k < 64; k++)
                px[k] = (float)((k * 37 + i * 11 + c * 90) & 0xff) / 255.0f;
            assert_int_equal(sg_png_write(p, px, 1, 8, 8, 8), 0);
        }
    }
}

/* train --pretrained FILE.pth: the checkpoint (DDP-prefixed, inside
 * state_dict) loads directly, a hostile one stops the run. */
static void test_train_pretrained_pth(void **state)
{
    fixture *fx = *state;
    REQUIRE_FILES(fx);
    SG_REQUIRE_TORCH();
    char data[4300], pth[4300], *out = NULL;
    snprintf(data, sizeof data, "%s/imgs", fx->dir);
    make_images(data);
    snprintf(pth, sizeof pth, "%s/ddp.legacy.pth", fx->dir);
    int rc = sg_test_run(&out, NULL,
                         "train '%s' --arch resnet18 --pretrained '%s' --epochs 1 --freeze-epochs 1 --bs 4 "
                         "--image-size 16 --valid-pct 0 --out '%s/run' --no-progress",
                         data, pth, fx->dir);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "pretrained weights");
    free(out);
    snprintf(pth, sizeof pth, "%s/os_system.pth", fx->dir);
    rc = sg_test_run(&out, NULL,
                     "train '%s' --arch resnet18 --pretrained '%s' --epochs 1 --bs 4 "
                     "--image-size 16 --valid-pct 0 --out '%s/run2' --no-progress",
                     data, pth, fx->dir);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "global 'os.system' is not allowed");
    free(out);
    char canary[4300];
    snprintf(canary, sizeof canary, "%s/canary_os_system", fx->dir);
    assert_false(sg_test_path_exists(canary));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resnets_bit_exact),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_architecture_fit),
        cmocka_unit_test(test_logits_from_views),
        cmocka_unit_test(test_tiny_by_hand),
        cmocka_unit_test(test_hostile_refused),
        cmocka_unit_test(test_hostile_binary),
        cmocka_unit_test(test_cli_import_inspect),
        cmocka_unit_test(test_train_pretrained_pth),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
