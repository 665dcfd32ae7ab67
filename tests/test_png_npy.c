/* test_png_npy.c - PNG writing checked by reading back with libpng
 * directly (8/16 bit, gray/RGB, rounding and clamping), npy round trips
 * through our reader and through numpy, and the error paths. */
#include "tests/sg_test.h"

#include "src/base/npy.h"
#include "src/base/npy_stack.h"
#include "src/image/png_io.h"
#include "src/base/sg_error.h"

#include <png.h>

/* Reads a PNG with plain libpng: returns samples as integers, interleaved. */
static unsigned *libpng_read(const char *path, int *c, int *h, int *w, int *depth)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) {
        fclose(f);
        fail_msg("libpng could not read %s", path);
    }
    png_init_io(png, f);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    *w = (int)png_get_image_width(png, info);
    *h = (int)png_get_image_height(png, info);
    *depth = png_get_bit_depth(png, info);
    int type = png_get_color_type(png, info);
    *c = type == PNG_COLOR_TYPE_RGB ? 3 : 1;
    assert_true(type == PNG_COLOR_TYPE_RGB || type == PNG_COLOR_TYPE_GRAY);
    png_bytepp rows = png_get_rows(png, info);
    unsigned *v = malloc(sizeof(unsigned) * (size_t)(*c * *h * *w));
    assert_non_null(v);
    for (int y = 0; y < *h; y++)
        for (int i = 0; i < *c * *w; i++)
            v[y * *c * *w + i] = *depth == 8 ? rows[y][i]
                                             : (unsigned)(rows[y][2 * i] << 8 | rows[y][2 * i + 1]);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return v;
}

static void test_png_gray_and_rgb(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/g.png", dir);
    /* (1, 2, 3): clamping, rounding, NaN -> 0 */
    const float g[6] = {-0.5f, 0.0f, 0.5f, 1.0f, 2.0f, NAN};
    assert_int_equal(sg_png_write(path, g, 1, 2, 3, 8), 0);
    int c, h, w, d;
    unsigned *v = libpng_read(path, &c, &h, &w, &d);
    assert_int_equal(c, 1);
    assert_int_equal(h, 2);
    assert_int_equal(w, 3);
    assert_int_equal(d, 8);
    const unsigned want8[6] = {0, 0, 128, 255, 255, 0};
    for (int i = 0; i < 6; i++)
        if (v[i] != want8[i])
            fail_msg("8-bit pixel %d: expected %u, got %u", i, want8[i], v[i]);
    free(v);

    assert_int_equal(sg_png_write_level(path, g, 1, 2, 3, 16, 1, 0), 0);
    v = libpng_read(path, &c, &h, &w, &d);
    assert_int_equal(d, 16);
    const unsigned want16[6] = {0, 0, 32768, 65535, 65535, 0};
    for (int i = 0; i < 6; i++)
        if (v[i] != want16[i])
            fail_msg("16-bit pixel %d: expected %u, got %u", i, want16[i], v[i]);
    free(v);

    /* RGB: planes (3, 1, 2) interleave to R G B per pixel */
    const float rgb[6] = {1.0f, 0.0f, 0.2f, 0.4f, 0.6f, 0.8f};
    snprintf(path, sizeof path, "%s/c.png", dir);
    assert_int_equal(sg_png_write_level(path, rgb, 3, 1, 2, 8, 9, 1), 0);
    v = libpng_read(path, &c, &h, &w, &d);
    assert_int_equal(c, 3);
    const unsigned want_rgb[6] = {255, 51, 153, 0, 102, 204};
    for (int i = 0; i < 6; i++)
        if (v[i] != want_rgb[i])
            fail_msg("rgb sample %d: expected %u, got %u", i, want_rgb[i], v[i]);
    free(v);

    /* a larger image through the fast path matches exactly */
    enum { H = 37, W = 53 };
    float *big = malloc(sizeof(float) * H * W);
    assert_non_null(big);
    for (int i = 0; i < H * W; i++)
        big[i] = (float)((i * 7919) % 1000) / 999.0f;
    snprintf(path, sizeof path, "%s/big.png", dir);
    assert_int_equal(sg_png_write_level(path, big, 1, H, W, 8, 1, 0), 0);
    v = libpng_read(path, &c, &h, &w, &d);
    for (int i = 0; i < H * W; i++) {
        unsigned want = (unsigned)(big[i] * 255.0f + 0.5f);
        if (v[i] != want)
            fail_msg("big pixel %d: expected %u, got %u", i, want, v[i]);
    }
    free(v);
    free(big);

    /* errors: bad channel count or depth, unwritable folder; nothing left behind */
    assert_int_equal(sg_png_write(path, g, 2, 1, 3, 8), SG_E_SHAPE);
    assert_non_null(strstr(sg_last_error(), "PNG needs 1 or 3 channels, got 2"));
    assert_int_equal(sg_png_write(path, g, 1, 2, 3, 12), SG_E_INVALID);
    assert_int_equal(sg_png_write("/nonexistent/dir/x.png", g, 1, 2, 3, 8), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "/nonexistent/dir/x.png: cannot write"));
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test -z \"$(find '%s' -name '.*tmp*')\"", dir);
    assert_int_equal(system(cmd), 0);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_npy_round_trip(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    float x[2 * 3 * 4];
    for (int i = 0; i < 24; i++)
        x[i] = (float)i * 0.5f - 3.0f;
    const size_t shape[3] = {2, 3, 4};
    assert_int_equal(sg_npy_write(path, x, 3, shape), 0);
    /* the data starts on a 64-byte boundary, as numpy writes it */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((st.st_size - 24 * 4) % 64, 0);

    float *back = NULL;
    int nd = 0;
    size_t sh[8];
    assert_int_equal(sg_npy_read(path, &back, &nd, sh), 0);
    assert_int_equal(nd, 3);
    assert_int_equal(sh[0], 2);
    assert_int_equal(sh[1], 3);
    assert_int_equal(sh[2], 4);
    assert_memory_equal(back, x, sizeof x);
    free(back);

    /* 1-D shape "(5,)" and a truncated file */
    snprintf(path, sizeof path, "%s/b.npy", dir);
    const size_t n5 = 5;
    assert_int_equal(sg_npy_write(path, x, 1, &n5), 0);
    assert_int_equal(sg_npy_read(path, &back, &nd, sh), 0);
    assert_int_equal(nd, 1);
    assert_int_equal(sh[0], 5);
    free(back);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 12), 0);   /* 2 of 5 values left */
    assert_int_equal(sg_npy_read(path, &back, &nd, sh), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "truncated .npy data (expected 5 values)"));
    assert_null(back);
    sg_test_rmtree(dir);
    free(dir);
}

/* The stack writer: rows put out of order from 3 slots' worth of data,
 * gaps (slots not kept) closed up in order at commit, the header's N
 * final, 128-byte header, rows read back one at a time; nothing left
 * under a temporary name; abort leaves nothing. */
static void test_npy_stack(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/X.npy", dir);
    const size_t row_shape[3] = {2, 3, 4};
    float rows[6][24];
    for (int r = 0; r < 6; r++)
        for (int k = 0; k < 24; k++)
            rows[r][k] = (float)(r * 100 + k) + 0.25f;
    sg_npy_stack st;
    assert_int_equal(sg_npy_stack_open(&st, path, 3, row_shape), 0);
    const int order[6] = {5, 0, 3, 1, 4, 2};
    for (int i = 0; i < 6; i++)
        assert_int_equal(sg_npy_stack_put(&st, (size_t)order[i], rows[order[i]]), 0);
    const unsigned char keep[6] = {1, 0, 1, 0, 0, 1};
    assert_int_equal(access(path, F_OK) != 0, 1);   /* not there until commit */
    assert_int_equal(sg_npy_stack_commit(&st, 6, keep), 0);

    float *x = NULL;
    int ndim = 0;
    size_t shape[8];
    assert_int_equal(sg_npy_read(path, &x, &ndim, shape), 0);
    assert_int_equal(ndim, 4);
    assert_int_equal(shape[0], 3);
    assert_int_equal(shape[1], 2);
    assert_int_equal(shape[2], 3);
    assert_int_equal(shape[3], 4);
    const int kept[3] = {0, 2, 5};
    for (int r = 0; r < 3; r++) {
        assert_memory_equal(x + r * 24, rows[kept[r]], sizeof rows[0]);
        float *row = NULL;
        int rnd = 0;
        size_t rs[7];
        assert_int_equal(sg_npy_read_row(path, (size_t)r, &row, &rnd, rs), 0);
        assert_int_equal(rnd, 3);
        assert_memory_equal(row, rows[kept[r]], sizeof rows[0]);
        free(row);
    }
    free(x);
    float *row = NULL;
    int rnd;
    size_t rs[7];
    assert_int_equal(sg_npy_read_row(path, 3, &row, &rnd, rs), SG_E_SHAPE);
    struct stat stt;
    assert_int_equal(stat(path, &stt), 0);
    assert_int_equal((long)stt.st_size, SG_NPY_STACK_HEADER + 3 * 24 * 4);

    /* abort: no file under either name */
    snprintf(path, sizeof path, "%s/Y.npy", dir);
    assert_int_equal(sg_npy_stack_open(&st, path, 3, row_shape), 0);
    assert_int_equal(sg_npy_stack_put(&st, 0, rows[0]), 0);
    sg_npy_stack_abort(&st);
    sg_npy_stack_abort(&st);   /* twice is harmless */
    assert_int_equal(access(path, F_OK) != 0, 1);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v '^X.npy$')\"", dir);
    assert_int_equal(system(cmd), 0);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_npy_numpy_oracle(void **state)
{
    (void)state;
    SG_REQUIRE_PYTHON("numpy");
    char *dir = sg_test_tmpdir();
    char path[512], cmd[2048];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    float x[3 * 2];
    for (int i = 0; i < 6; i++)
        x[i] = (float)i / 3.0f;
    const size_t shape[2] = {3, 2};
    assert_int_equal(sg_npy_write(path, x, 2, shape), 0);
    /* numpy reads ours; we read numpy's float64 */
    snprintf(cmd, sizeof cmd,
             "%s -c \"import numpy as np; a = np.load('%s'); "
             "assert a.dtype == np.float32 and a.shape == (3, 2), (a.dtype, a.shape); "
             "ref = (np.arange(6, dtype=np.float32) / np.float32(3)).reshape(3, 2); "
             "assert (a == ref).all(), (a, ref); "
             "np.save('%s/n.npy', np.linspace(0, 1, 7).reshape(7, 1))\"",
             sg_test_python(), path, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/n.npy", dir);
    float *back = NULL;
    int nd;
    size_t sh[8];
    assert_int_equal(sg_npy_read(path, &back, &nd, sh), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 7);
    double want[7];
    for (int i = 0; i < 7; i++)
        want[i] = i / 6.0;
    sg_assert_close("numpy linspace", back, want, 7, 1e-7, 0);
    free(back);
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_gray_and_rgb),
        cmocka_unit_test(test_npy_round_trip),
        cmocka_unit_test(test_npy_stack),
        cmocka_unit_test(test_npy_numpy_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
