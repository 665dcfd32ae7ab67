/* test_models_fetch.c - `weights fetch` offline, through a file:// URL.
 *
 * SHA-256 against a known vector, then the whole fetch path (curl child,
 * streaming hash, validation as resnet18 weights, atomic install) with
 * SG_WEIGHTS_URL pointing at a local file: the right hash installs it,
 * a wrong hash or a file of another architecture leaves nothing behind,
 * and sg_weights_resolve finds the installed file by name.
 */
#include "tests/sg_test_models.h"

#include "src/base/sg_error.h"
#include "models/weights.h"
#include "models/weights_fetch.h"

static void test_sha256(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir(), path[4200], hex[65];
    snprintf(path, sizeof path, "%s/abc", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("abc", f);
    fclose(f);
    assert_int_equal(sg_sha256_file(path, hex), 0);
    /* FIPS 180-2 test vector */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sg_test_rmtree(dir);
    free(dir);
}

static void test_fetch_file_url(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    if (system("curl --version >/dev/null 2>&1") != 0) {
        print_message("SKIP: curl is absent\n");
        skip();
    }
    char *dir = sg_test_tmpdir(), src[4200], dst[4200], url[4300], got[4200], hex[65];
    snprintf(src, sizeof src, "%s/source.safetensors", dir);
    snprintf(dst, sizeof dst, "%s/weights", dir);
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 3, .n_classes = 1000,
                          .device = "cpu", .n_threads = 1};
    sg_model *m = NULL;
    assert_int_equal(sg_model_create(&m, &spec), 0);
    assert_int_equal(sg_weights_save(m, src, NULL, NULL, 0), 0);
    sg_model_free(m);
    assert_int_equal(sg_sha256_file(src, hex), 0);
    snprintf(url, sizeof url, "file://%s", src);
    assert_int_equal(setenv("SG_WEIGHTS_URL", url, 1), 0);

    char bad[65];
    memcpy(bad, hex, sizeof bad);
    bad[0] = bad[0] == '0' ? '1' : '0';
    assert_int_equal(sg_weights_fetch("resnet18", dst, bad, got, sizeof got), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "SHA-256 mismatch"));
    assert_false(sg_test_path_exists(got));

    /* right hash, wrong architecture: refused after the download */
    assert_int_not_equal(sg_weights_fetch("resnet50", dst, hex, got, sizeof got), 0);
    assert_false(sg_test_path_exists(got));

    int rc = sg_weights_fetch("resnet18", dst, hex, got, sizeof got);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    char want[4300], hex2[65];
    snprintf(want, sizeof want, "%s/resnet18.safetensors", dst);
    assert_string_equal(got, want);
    assert_int_equal(sg_sha256_file(got, hex2), 0);
    assert_string_equal(hex, hex2);

    /* --pretrained resnet18 resolves there through XDG_DATA_HOME */
    char xdg[4300];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    assert_int_equal(setenv("XDG_DATA_HOME", xdg, 1), 0);
    char resolved[4400];
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, "resnet18"), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "sensorgram weights fetch resnet18"));
    assert_int_equal(sg_weights_fetch("resnet18", NULL, hex, got, sizeof got), 0);
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, "resnet18"), 0);
    snprintf(want, sizeof want, "%s/sensorgram/weights/resnet18.safetensors", xdg);
    assert_string_equal(resolved, want);
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, src), 0);
    assert_string_equal(resolved, src);
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, "vgg16"), SG_E_INVALID);

    /* no pinned hash for resnet34: an explicit --sha256 is required */
    if (!sg_weights_source_find("resnet34")->sha256) {
        assert_int_equal(sg_weights_fetch("resnet34", dst, NULL, got, sizeof got), SG_E_INVALID);
        assert_non_null(strstr(sg_last_error(), "--sha256"));
    }
    unsetenv("SG_WEIGHTS_URL");
    unsetenv("XDG_DATA_HOME");
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_fetch_file_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
