/* test_safetensors.c - the safetensors reader on good and hostile files.
 *
 * Hand-built files check decoding (F32, F16, BF16, I64, metadata) and
 * that every kind of corruption is rejected with one clear line naming
 * the file and, where there is one, the tensor: truncation, bad JSON,
 * header length beyond the file, offsets out of range, overlaps, holes,
 * bad dtypes and sizes, missing tensors.  No oracle needed.
 */
#include "tests/sg_test_models.h"

#include "models/safetensors.h"
#include "src/base/sg_error.h"
#include "models/weights.h"

/* Writes an 8-byte header length (declared, or the real one when
 * declared == 0), the JSON text and data_len bytes of data. */
static void write_raw(const char *path, const char *json, uint64_t declared,
                      const unsigned char *data, size_t data_len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t n = declared ? declared : strlen(json);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)(n >> (8 * i));
    assert_int_equal(fwrite(len8, 1, 8, f), 8);
    assert_int_equal(fwrite(json, 1, strlen(json), f), strlen(json));
    if (data_len)
        assert_int_equal(fwrite(data, 1, data_len, f), data_len);
    assert_int_equal(fclose(f), 0);
}

/* Opening must fail with code, the message naming the path and
 * containing want, on one line. */
static void expect_reject(const char *path, int code, const char *want)
{
    sg_st_file f;
    int rc = sg_st_open(&f, path);
    const char *msg = sg_last_error();
    if (rc != code || !strstr(msg, want) || !strstr(msg, path) || strchr(msg, '\n')) {
        print_error("%s: expected %d and \"%s\", got %d: \"%s\"\n", path, code, want, rc, msg);
        fail();
    }
    assert_null(f.tensors);
    assert_null(f.raw);
}

static void test_decode_dtypes(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/d.safetensors", dir);
    /* F16: 1, -2, 0.5, 65504, smallest subnormal; BF16: 1, -3; I64: -5; F32: 1; F64: -0.25 */
    const unsigned char data[] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, 0x01, 0x00,
                                  0x80, 0x3f, 0x40, 0xc0,
                                  0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0x00, 0x00, 0x80, 0x3f,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd0, 0xbf};
    write_raw(path,
              "{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
              "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[10,14]},"
              "\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[14,22]},"
              "\"f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[22,26]},"
              "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[26,34]},"
              "\"__metadata__\":{\"k\":\"v\"}}   ",
              0, data, sizeof data);
    sg_st_file f;
    int rc = sg_st_open(&f, path);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    assert_int_equal(f.n_tensors, 5);
    assert_string_equal(f.tensors[0].name, "h");
    assert_string_equal(sg_st_meta(&f, "k"), "v");
    assert_null(sg_st_meta(&f, "x"));
    float h[5], b[2], i64, f32;
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "h"), h), 0);
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "b"), b), 0);
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "i"), &i64), 0);
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "f"), &f32), 0);
    const double want_h[] = {1.0, -2.0, 0.5, 65504.0, 5.9604644775390625e-08};
    sg_assert_close("F16", h, want_h, 5, 0.0, 0.0);
    const double want_b[] = {1.0, -3.0};
    sg_assert_close("BF16", b, want_b, 2, 0.0, 0.0);
    assert_true(i64 == -5.0f);
    assert_true(f32 == 1.0f);
    float f64;
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "d"), &f64), 0);
    assert_true(f64 == -0.25f);
    assert_int_equal(sg_st_find(&f, "d")->dtype, SG_ST_F64);
    assert_int_equal(sg_st_find(&f, "b")->ndim, 2);
    assert_int_equal(sg_st_find(&f, "i")->ndim, 0);
    assert_int_equal(sg_st_find(&f, "i")->numel, 1);
    sg_st_close(&f);
    sg_st_close(&f); /* twice is fine */
    sg_test_rmtree(dir);
    free(dir);
}

static void test_write_roundtrip(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    const float a[6] = {1.5f, -2.25f, 3e-38f, 1e30f, 0.0f, -0.0f};
    const float n[1] = {12345.0f};
    sg_st_entry e[2] = {{.name = "a", .ndim = 2, .shape = {2, 3}, .data = a},
                        {.name = "n", .ndim = 0, .data = n, .as_int = 1}};
    const char *keys[] = {"format", "json"}, *values[] = {"x", "{\"a\": [1, \"é\"]}"};
    assert_int_equal(sg_st_write(path, e, 2, keys, values, 2), 0);
    sg_st_file f;
    assert_int_equal(sg_st_open(&f, path), 0);
    assert_int_equal(f.n_tensors, 2);
    assert_int_equal(sg_st_find(&f, "n")->dtype, SG_ST_I64);
    assert_int_equal(sg_st_find(&f, "a")->shape[1], 3);
    /* the data buffer starts 8-byte aligned */
    assert_int_equal((f.data - f.raw) % 8, 0);
    float got[6], gn;
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "a"), got), 0);
    assert_memory_equal(got, a, sizeof a);
    assert_int_equal(sg_st_read_f32(&f, sg_st_find(&f, "n"), &gn), 0);
    assert_true(gn == 12345.0f);
    assert_string_equal(sg_st_meta(&f, "json"), values[1]);
    sg_st_close(&f);
    /* duplicate names are refused and leave the old file */
    sg_st_entry dup[2] = {e[0], e[0]};
    assert_int_equal(sg_st_write(path, dup, 2, NULL, NULL, 0), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "duplicate tensor name 'a'"));
    assert_int_equal(sg_st_open(&f, path), 0);
    assert_int_equal(f.n_tensors, 2);
    sg_st_close(&f);
    /* an unwritable place fails without leaving anything */
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/w.safetensors", dir);
    assert_int_not_equal(sg_st_write(bad, e, 2, NULL, NULL, 0), 0);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_corrupt_files(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    unsigned char data[64] = {0};
    const char *one = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";

    write_raw(path, "", 0, NULL, 0);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("abc", fp);
    fclose(fp);
    expect_reject(path, SG_E_CORRUPT, "truncated: 3 bytes");

    write_raw(path, one, 0, data, 10); /* data cut short */
    expect_reject(path, SG_E_CORRUPT, "tensor 't': data_offsets [0, 16] outside the 10-byte data buffer");

    write_raw(path, one, 1000000, data, 16);
    expect_reject(path, SG_E_CORRUPT, "header length 1000000 exceeds the file size");

    write_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": [4]", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "bad JSON header at line 1 column");

    write_raw(path, "[1, 2]", 0, NULL, 0);
    expect_reject(path, SG_E_CORRUPT, "JSON header is not an object");

    write_raw(path, "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,400]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': data_offsets [0, 400] outside");

    write_raw(path, "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "begin after end");

    write_raw(path, "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[-4,12]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': data_offsets must be two non-negative integers");

    write_raw(path,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
              0, data, 24);
    expect_reject(path, SG_E_CORRUPT, "tensors 'a' and 'b' overlap");

    write_raw(path,
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[20,36]}}",
              0, data, 36);
    expect_reject(path, SG_E_CORRUPT, "tensor 'b': 4 unindexed bytes before it");

    write_raw(path, one, 0, data, 20);
    expect_reject(path, SG_E_CORRUPT, "4 bytes after the last tensor are not indexed");

    write_raw(path, "{\"t\":{\"dtype\":\"C64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': unsupported dtype 'C64'");

    write_raw(path, "{\"t\":{\"dtype\":7,\"shape\":[4],\"data_offsets\":[0,16]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': needs string dtype");

    write_raw(path, "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': 16 bytes for 3 F32 values (need 12)");

    write_raw(path, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2,-2],\"data_offsets\":[0,16]}}", 0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': shape[1] is not a non-negative integer");

    write_raw(path,
              "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
              "\"data_offsets\":[0,16]}}",
              0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "tensor 't': shape too large");

    write_raw(path, "{\"__metadata__\":{\"k\":1}}", 0, NULL, 0);
    expect_reject(path, SG_E_CORRUPT, "__metadata__ value of 'k' is not a string");

    write_raw(path,
              "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
              "\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
              0, data, 16);
    expect_reject(path, SG_E_CORRUPT, "bad JSON header");

    char missing[4300];
    snprintf(missing, sizeof missing, "%s/none.safetensors", dir);
    expect_reject(missing, SG_E_IO, "cannot open");
    sg_test_rmtree(dir);
    free(dir);
}

/* A valid file that lacks a network tensor, or has a foreign one. */
static void test_missing_and_unexpected_tensor(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    char *dir = sg_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    sg_model_spec spec = {.arch = SG_ARCH_RESNET18, .in_channels = 3, .n_classes = 2,
                          .device = "cpu", .n_threads = 1};
    sg_model *m = NULL;
    assert_int_equal(sg_model_create(&m, &spec), 0);
    /* all tensors but layer3.1.bn2.running_var */
    const char *skip_name = "layer3.1.bn2.running_var";
    assert_int_equal(sg_weights_save(m, path, NULL, NULL, 0), 0);
    sg_st_file f;
    assert_int_equal(sg_st_open(&f, path), 0);
    sg_st_entry *e = calloc(f.n_tensors + 1, sizeof *e);
    float **bufs = calloc(f.n_tensors + 1, sizeof *bufs);
    size_t n = 0, skip_at = 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const sg_st_tensor *t = &f.tensors[i];
        if (strcmp(t->name, skip_name) == 0)
            skip_at = n;
        bufs[n] = malloc((t->numel ? t->numel : 1) * sizeof(float));
        assert_int_equal(sg_st_read_f32(&f, t, bufs[n]), 0);
        e[n] = (sg_st_entry){.name = t->name, .ndim = t->ndim, .data = bufs[n],
                             .as_int = t->dtype == SG_ST_I64};
        memcpy(e[n].shape, t->shape, sizeof t->shape);
        n++;
    }
    char cut[4300], extra[4300];
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    snprintf(extra, sizeof extra, "%s/extra.safetensors", dir);
    float one = 1.0f;
    e[n] = (sg_st_entry){.name = "layer5.0.conv1.weight", .ndim = 1, .shape = {1}, .data = &one};
    assert_int_equal(sg_st_write(extra, e, n + 1, NULL, NULL, 0), 0);
    /* drop the skipped entry: move it past the end */
    sg_st_entry tmp = e[skip_at];
    memmove(&e[skip_at], &e[skip_at + 1], (n - skip_at - 1) * sizeof *e);
    e[n - 1] = tmp;
    assert_int_equal(sg_st_write(cut, e, n - 1, NULL, NULL, 0), 0);
    for (size_t i = 0; i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(e);
    sg_st_close(&f);

    assert_int_equal(sg_weights_load(m, cut, NULL), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "tensor 'layer3.1.bn2.running_var' is missing"));
    assert_non_null(strstr(sg_last_error(), cut));
    assert_int_equal(sg_weights_load(m, extra, NULL), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "unexpected tensor 'layer5.0.conv1.weight'"));
    sg_model_free(m);
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_dtypes),
        cmocka_unit_test(test_write_roundtrip),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_missing_and_unexpected_tensor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
