/* test_torch_loader.c - libtorch is loaded on the first model call, from
 * beside the binary (models/torch_loader.c), through the binary (SG_BIN).
 *
 * - `encode` never loads libtorch: the dynamic loader's own log
 *   (LD_DEBUG=files) names no libtorch library, and encode still works
 *   when the model library is missing.
 * - An installed layout (PREFIX/bin/sensorgram +
 *   PREFIX/lib/sensorgram/libsensorgram_torch.so) trains from another
 *   working directory, loading that copy of the library.
 * - The binary copied alone, or beside a file that is not a library,
 *   fails a model command with exit 1 and one line naming the path.
 * Skipped in NO_TORCH builds (there is no library to load).
 */
#include "tests/sg_run.h"

#include "models/sg_model.h"
#include "src/image/png_io.h"

#include <libgen.h>

typedef struct fx {
    char *tmp;
    char lib[4200]; /* the library the build made, beside SG_BIN */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->tmp = sg_test_tmpdir();
    char bin[4096];
    snprintf(bin, sizeof bin, "%s", sg_test_bin());
    snprintf(f->lib, sizeof f->lib, "%s/libsensorgram_torch.so", dirname(bin));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    sg_test_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

#define REQUIRE_TORCH_LIB(f)                                                              \
    do {                                                                                  \
        if (!sg_torch_available()) {                                                      \
            print_message("SKIP: built without libtorch (NO_TORCH=1)\n");               \
            skip();                                                                       \
        }                                                                                 \
        SG_REQUIRE_PATH((f)->lib);                                                        \
    } while (0)

/* Runs `sh -c CMD` (stdout+stderr captured into *out, caller frees);
 * returns the exit status. */
static int run_sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run_sh(char **out, const char *fmt, ...)
{
    char cmd[8192], log[64] = "/tmp/sgtest_log.XXXXXX", full[8400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int fd = mkstemp(log);
    assert_true(fd >= 0);
    close(fd);
    snprintf(full, sizeof full, "(%s) >%s 2>&1", cmd, log);
    int st = system(full);
    *out = sg_test_slurp(log);
    unlink(log);
    return st == -1 ? -1 : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* ROOT/a/N.png and ROOT/b/N.png, 4 per class, 8x8 gray. */
static void make_classes(const char *root)
{
    char p[4400];
    float px[64];
    assert_int_equal(mkdir(root, 0755), 0);
    for (int c = 0; c < 2; c++) {
        snprintf(p, sizeof p, "%s/%c", root, 'a' + c);
        assert_int_equal(mkdir(p, 0755), 0);
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < 64; k++)
                px[k] = (float)((k * 7 + i * 13) % 17) / 34.0f + 0.5f * (float)c;
            snprintf(p, sizeof p, "%s/%c/%d.png", root, 'a' + c, i);
            assert_int_equal(sg_png_write(p, px, 1, 8, 8, 8), 0);
        }
    }
}

/* A two-column CSV recording: ROOT/walk/rec.csv. */
static void make_csv(const char *root)
{
    char p[4400];
    snprintf(p, sizeof p, "mkdir -p '%s/walk'", root);
    assert_int_equal(system(p), 0);
    snprintf(p, sizeof p, "%s/walk/rec.csv", root);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("ax,ay\n", fp);
    for (int t = 0; t < 64; t++)
        fprintf(fp, "%.4f,%.4f\n", sin(t * 0.3), cos(t * 0.2));
    fclose(fp);
}

/* encode does not load libtorch, and does not need the library. */
static void test_encode_without_libtorch(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH_LIB(f);
    char csv[4300], *out;
    snprintf(csv, sizeof csv, "%s/csv", f->tmp);
    make_csv(csv);
    int rc = run_sh(&out,
                    "LD_DEBUG=files '%s' encode '%s' --window 32 --encoder gasf --format npy -q "
                    "-o '%s/enc1'",
                    sg_test_bin(), csv, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    /* The loader logs each object it opens; the C libraries are there,
     * libtorch and our model library are not. */
    SG_ASSERT_CONTAINS(out, "libpng16");
    if (strstr(out, "libtorch") || strstr(out, "libc10")) {
        print_error("encode loaded libtorch:\n%s\n", out);
        fail();
    }
    free(out);
    rc = run_sh(&out,
                "SG_TORCH_LIBRARY=/nonexistent/libsensorgram_torch.so '%s' encode '%s' "
                "--window 32 --encoder gasf --format npy -q -o '%s/enc2'",
                sg_test_bin(), csv, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    char p[4400];
    snprintf(p, sizeof p, "%s/enc2/walk/rec_w0001.npy", f->tmp);
    assert_true(sg_test_path_exists(p));
}

/* PREFIX/bin + PREFIX/lib/sensorgram, run from /: trains, loading the
 * installed library (the loader's log names its path). */
static void test_installed_layout_trains(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH_LIB(f);
    char data[4300], *out;
    snprintf(data, sizeof data, "%s/data", f->tmp);
    make_classes(data);
    int rc = run_sh(&out,
                    "mkdir -p '%s/pre/bin' '%s/pre/lib/sensorgram' && cp '%s' '%s/pre/bin/' && "
                    "cp '%s' '%s/pre/lib/sensorgram/'",
                    f->tmp, f->tmp, sg_test_bin(), f->tmp, f->lib, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = run_sh(&out,
                "cd / && LD_DEBUG=files '%s/pre/bin/sensorgram' train '%s' --pretrained none "
                "--arch resnet18 --epochs 1 --bs 4 --image-size 8 --valid-pct 0 "
                "--out '%s/run' --no-progress",
                f->tmp, data, f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    char want[4400];
    snprintf(want, sizeof want, "%s/pre/bin/../lib/sensorgram/libsensorgram_torch.so", f->tmp);
    SG_ASSERT_CONTAINS(out, want);
    SG_ASSERT_CONTAINS(out, "libtorch_cpu.so");
    free(out);
    char p[4400];
    snprintf(p, sizeof p, "%s/run/last.safetensors", f->tmp);
    if (!sg_test_path_exists(p)) {
        snprintf(p, sizeof p, "ls -R '%s/run'", f->tmp);
        assert_int_equal(system(p), 0);
        fail_msg("no last.safetensors in the run folder");
    }
}

/* The binary alone: a model command names where it looked, exit 1; a
 * file that is not a library: the loader's reason, exit 1. */
static void test_missing_library(void **state)
{
    fx *f = *state;
    REQUIRE_TORCH_LIB(f);
    char data[4300], *out;
    snprintf(data, sizeof data, "%s/data2", f->tmp);
    make_classes(data);
    int rc = run_sh(&out, "mkdir -p '%s/alone' && cp '%s' '%s/alone/'", f->tmp, sg_test_bin(),
                    f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = run_sh(&out,
                "cd '%s' && '%s/alone/sensorgram' train '%s' --pretrained none --arch resnet18 "
                "--epochs 1 --bs 4 --image-size 8 --valid-pct 0 --out '%s/run_alone' "
                "--no-progress",
                f->tmp, f->tmp, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    char want[4400];
    snprintf(want, sizeof want,
             "the model library libsensorgram_torch.so is missing: looked in %s/alone/ and "
             "%s/alone/../lib/sensorgram/",
             f->tmp, f->tmp);
    SG_ASSERT_CONTAINS(out, want);
    free(out);

    rc = run_sh(&out, "echo 'not a library' > '%s/alone/libsensorgram_torch.so'", f->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = run_sh(&out,
                "'%s/alone/sensorgram' train '%s' --pretrained none --arch resnet18 --epochs 1 "
                "--bs 4 --image-size 8 --valid-pct 0 --out '%s/run_bad' --no-progress",
                f->tmp, data, f->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    snprintf(want, sizeof want, "cannot load the model library: %s/alone/libsensorgram_torch.so",
             f->tmp);
    SG_ASSERT_CONTAINS(out, want);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encode_without_libtorch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_installed_layout_trains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_library, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
