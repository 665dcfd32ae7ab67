/* test_image_io.c - PNG and JPEG decoding: bit depths, palette, alpha,
 * exact values, torchvision's decoder as the JPEG oracle, every image of
 * the shared photo sets, and clean failures on bad files. */
#include "tests/sg_test.h"

#include <png.h>
#include <turbojpeg.h>

#include "datasets/image_folder.h"
#include "src/image/image_read.h"
#include "src/image/png_io.h"
#include "src/base/sg_error.h"

/* Writes a PNG with libpng directly (independent of our writer). */
static void write_png(const char *path, int w, int h, int color, int depth,
                      const unsigned char *rows_data, size_t rowbytes, const png_color *palette,
                      int n_palette)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing %s", path);
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, n_palette);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, rows_data + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

static char *tmp_file(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void test_png_depths(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    sg_image img;

    /* 16-bit gray 3x2: values must keep 16-bit precision */
    const unsigned v16[6] = {0, 1, 257, 32768, 65534, 65535};
    unsigned char g16[12];
    for (int i = 0; i < 6; i++) {
        g16[2 * i] = (unsigned char)(v16[i] >> 8);
        g16[2 * i + 1] = (unsigned char)(v16[i] & 0xff);
    }
    char *p = tmp_file(dir, "g16.png");
    write_png(p, 3, 2, PNG_COLOR_TYPE_GRAY, 16, g16, 6, NULL, 0);
    assert_int_equal(sg_image_read(p, &img), 0);
    assert_int_equal(img.c, 1);
    assert_int_equal(img.h, 2);
    assert_int_equal(img.w, 3);
    double want[6];
    for (int i = 0; i < 6; i++)
        want[i] = v16[i] / 65535.0;
    sg_assert_close("16-bit gray", img.data, want, 6, 1e-7, 0);
    sg_image_free(&img);
    free(p);

    /* RGBA 8-bit 2x1: alpha dropped, planar output */
    const unsigned char rgba[8] = {255, 0, 51, 7, 0, 102, 255, 200};
    p = tmp_file(dir, "rgba.png");
    write_png(p, 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, 8, NULL, 0);
    assert_int_equal(sg_png_read(p, &img), 0);
    assert_int_equal(img.c, 3);
    const double want_rgb[6] = {1, 0, 0, 102 / 255.0, 51 / 255.0, 1};
    sg_assert_close("rgba->rgb", img.data, want_rgb, 6, 1e-7, 0);
    sg_image_free(&img);
    free(p);

    /* gray+alpha -> 1 channel */
    const unsigned char ga[4] = {10, 255, 20, 0};
    p = tmp_file(dir, "ga.png");
    write_png(p, 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, 4, NULL, 0);
    assert_int_equal(sg_image_read(p, &img), 0);
    assert_int_equal(img.c, 1);
    const double want_ga[2] = {10 / 255.0, 20 / 255.0};
    sg_assert_close("gray+alpha", img.data, want_ga, 2, 1e-7, 0);
    sg_image_free(&img);
    free(p);

    /* 4-bit palette -> RGB */
    const png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 128}};
    const unsigned char idx[2] = {0x12, 0x00};   /* pixels 1, 2, 0 (3 wide, 4-bit) */
    p = tmp_file(dir, "pal.png");
    write_png(p, 3, 1, PNG_COLOR_TYPE_PALETTE, 4, idx, 2, pal, 3);
    assert_int_equal(sg_image_read(p, &img), 0);
    assert_int_equal(img.c, 3);
    assert_int_equal(img.w, 3);
    const double want_pal[9] = {0, 0, 1, 1, 0, 0, 0, 128 / 255.0, 0};
    sg_assert_close("palette", img.data, want_pal, 9, 1e-7, 0);
    sg_image_free(&img);
    free(p);

    /* 1-bit gray -> 0 / 1 */
    const unsigned char bits[1] = {0xa0};   /* 1 0 1 */
    p = tmp_file(dir, "g1.png");
    write_png(p, 3, 1, PNG_COLOR_TYPE_GRAY, 1, bits, 1, NULL, 0);
    assert_int_equal(sg_image_read(p, &img), 0);
    const double want_bits[3] = {1, 0, 1};
    sg_assert_close("1-bit gray", img.data, want_bits, 3, 1e-7, 0);
    sg_image_free(&img);
    free(p);

    sg_test_rmtree(dir);
    free(dir);
}

/* The level the sample v is written at: clamped to [0, 1], NaN as 0,
 * rounded half up (png_write.c's rule, restated independently). */
static unsigned expected_level(float v, unsigned maxv)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return maxv;
    return (unsigned)floorf(v * (float)maxv + 0.5f);
}

/* Reads path with Pillow; *vals gets its samples in PNG order (row,
 * column, channel); returns how many, or -1 when Pillow is absent. */
static long pil_samples(const char *path, unsigned **vals, size_t cap)
{
    if (!sg_test_python_has("PIL,numpy"))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -c \"import sys, numpy as np; from PIL import Image; "
             "a = np.array(Image.open('%s')); sys.stdout.write(' '.join(map(str, a.ravel())))\"",
             sg_test_python(), path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    *vals = malloc(cap * sizeof **vals);
    assert_non_null(*vals);
    size_t n = 0;
    while (n < cap && fscanf(p, "%u", &(*vals)[n]) == 1)
        n++;
    assert_int_equal(pclose(p), 0);
    return (long)n;
}

/* Every writer path (levels 1..5: our chunks + libdeflate with the SUB
 * filter; 0 and 6: libpng) on odd shapes, 1 and 3 channels, 8 and 16
 * bits: libpng (with its CRC checks) and Pillow decode exactly the
 * quantized input, and the libdeflate files are smaller than level 0's. */
static void test_png_writer_roundtrip(void **state)
{
    (void)state;
    static const int shapes[][4] = {/* c, h, w, depth */
                                    {1, 1, 1, 8},    {1, 5, 7, 8},   {1, 125, 125, 8},
                                    {3, 4, 13, 8},   {1, 6, 9, 16},  {3, 3, 5, 16},
                                    {3, 1, 200, 8},  {1, 300, 2, 8}, {1, 64, 64, 16}};
    static const int levels[] = {1, 3, 5, 0, 6};
    char *dir = sg_test_tmpdir();
    int pil_checked = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int c = shapes[si][0], h = shapes[si][1], w = shapes[si][2], depth = shapes[si][3];
        unsigned maxv = depth == 8 ? 255u : 65535u;
        size_t plane = (size_t)h * (size_t)w, n = plane * (size_t)c;
        float *x = malloc(n * sizeof *x);
        assert_non_null(x);
        /* a smooth ramp with noise, out-of-range values and a NaN */
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(0.5 + 0.6 * sin(0.05 * (double)i) + 0.01 * (double)((i * 7919) % 13));
        x[n / 2] = NAN;
        long size0 = -1;
        for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
            char name[64];
            snprintf(name, sizeof name, "s%zu_l%d.png", si, levels[li]);
            char *path = tmp_file(dir, name);
            int rc = sg_png_write_level(path, x, c, h, w, depth, levels[li], 0);
            if (rc)
                fail_msg("%s", sg_last_error());
            sg_image img;
            rc = sg_png_read(path, &img);
            if (rc)
                fail_msg("level %d %dx%dx%d/%d: %s", levels[li], c, h, w, depth, sg_last_error());
            assert_int_equal(img.c, c);
            assert_int_equal(img.h, h);
            assert_int_equal(img.w, w);
            for (size_t i = 0; i < n; i++) {
                unsigned got = (unsigned)lrint((double)img.data[i] * maxv);
                unsigned want = expected_level(x[i], maxv);
                if (got != want)
                    fail_msg("level %d, %dx%dx%d/%d, sample %zu: wrote %u, libpng read %u",
                             levels[li], c, h, w, depth, i, want, got);
            }
            sg_image_free(&img);
            struct stat st;
            assert_int_equal(stat(path, &st), 0);
            if (levels[li] == 0)
                size0 = (long)st.st_size;
            /* Pillow on the libdeflate files: (h, w) or (h, w, c) order */
            if (levels[li] == 1) {
                unsigned *v;
                long got_n = pil_samples(path, &v, n + 1);
                if (got_n >= 0) {
                    assert_int_equal(got_n, (long)n);
                    for (size_t i = 0; i < n; i++) {
                        size_t k = i % (size_t)c, px = i / (size_t)c;
                        unsigned want = expected_level(x[k * plane + px], maxv);
                        if (c == 3 && depth == 16)
                            want >>= 8; /* Pillow opens 16-bit RGB as 8-bit RGB */
                        if (v[i] != want)
                            fail_msg("Pillow, %dx%dx%d/%d, sample %zu: wrote %u, read %u", c, h,
                                     w, depth, i, want, v[i]);
                    }
                    free(v);
                    pil_checked++;
                }
            }
            free(path);
        }
        if (plane >= 4096) {
            char name[64];
            snprintf(name, sizeof name, "s%zu_l1.png", si);
            char *p = tmp_file(dir, name);
            struct stat st;
            assert_int_equal(stat(p, &st), 0);
            if (!(st.st_size < size0))
                fail_msg("%s: %ld bytes, not smaller than level 0's %ld", p, (long)st.st_size,
                         size0);
            free(p);
        }
        free(x);
    }
    if (!pil_checked)
        print_message("  SKIP the Pillow half: no PIL/numpy in %s\n", sg_test_python());
    sg_test_rmtree(dir);
    free(dir);
}

/* Writes the first `keep` bytes of src to dst. */
static void write_prefix(const char *dst, const char *src, long keep)
{
    unsigned char *buf;
    size_t n;
    assert_int_equal(sg_file_read_all(src, &buf, &n), 0);
    assert_true((size_t)keep <= n);
    FILE *fp = fopen(dst, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, (size_t)keep, fp), (size_t)keep);
    fclose(fp);
    free(buf);
}

static void expect_parse_error(const char *path, const char *fragment)
{
    sg_image img = {0};
    int rc = sg_image_read(path, &img);
    if (rc != SG_E_PARSE || !strstr(sg_last_error(), path) ||
        !strstr(sg_last_error(), fragment)) {
        print_error("%s: expected SG_E_PARSE mentioning '%s', got %d '%s'\n", path, fragment, rc,
                    sg_last_error());
        fail();
    }
    assert_null(img.data);
}

static void test_bad_files(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char *txt = tmp_file(dir, "notes.png");
    FILE *fp = fopen(txt, "w");
    assert_non_null(fp);
    fputs("hello, not an image\n", fp);
    fclose(fp);
    expect_parse_error(txt, "not a PNG, JPEG or .npy image");

    char *empty = tmp_file(dir, "empty.jpg");
    fp = fopen(empty, "w");
    assert_non_null(fp);
    fclose(fp);
    expect_parse_error(empty, "empty file");

    char *missing = tmp_file(dir, "missing.png");
    sg_image img;
    assert_int_equal(sg_image_read(missing, &img), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), missing));

    /* truncated PNG: a real one cut in half */
    unsigned char rows[16 * 16];
    for (int i = 0; i < 256; i++)
        rows[i] = (unsigned char)(i * 37);
    char *good = tmp_file(dir, "good.png");
    write_png(good, 16, 16, PNG_COLOR_TYPE_GRAY, 8, rows, 16, NULL, 0);
    struct stat st;
    assert_int_equal(stat(good, &st), 0);
    char *cut = tmp_file(dir, "cut.png");
    write_prefix(cut, good, (long)st.st_size / 2);
    expect_parse_error(cut, "PNG");
    char *sig = tmp_file(dir, "sig.png");
    write_prefix(sig, good, 8);   /* signature only */
    expect_parse_error(sig, "PNG");

    /* truncated JPEG from the shared set */
    char jpg[1024];
    snprintf(jpg, sizeof jpg, "%s/data/trashnet/glass/glass1.jpg", sg_test_shared());
    if (sg_test_path_exists(jpg)) {
        assert_int_equal(stat(jpg, &st), 0);
        char *cj = tmp_file(dir, "cut.jpg");
        write_prefix(cj, jpg, (long)st.st_size / 2);
        expect_parse_error(cj, "JPEG");
        write_prefix(cj, jpg, 3);
        expect_parse_error(cj, "JPEG");
        free(cj);
    }
    free(txt);
    free(empty);
    free(missing);
    free(good);
    free(cut);
    free(sig);
    sg_test_rmtree(dir);
    free(dir);
}

/* Our JPEG decode vs torchvision.io.read_image (libjpeg), every pixel. */
static void test_jpeg_matches_torchvision(void **state)
{
    (void)state;
    char jpg[1024];
    snprintf(jpg, sizeof jpg, "%s/data/dogs-vs-cats/train/cat/cat.0.jpg", sg_test_shared());
    SG_REQUIRE_PATH(jpg);
    SG_REQUIRE_PYTHON("torchvision");
    sg_image img;
    assert_int_equal(sg_image_read(jpg, &img), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s -c \"import sys, torchvision.io as io; x = io.read_image('%s'); "
             "print(*x.shape); sys.stdout.write(' '.join(map(str, x.flatten().tolist())))\"",
             sg_test_python(), jpg);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    int c, h, w;
    assert_int_equal(fscanf(p, "%d %d %d", &c, &h, &w), 3);
    assert_int_equal(c, img.c);
    assert_int_equal(h, img.h);
    assert_int_equal(w, img.w);
    size_t n = sg_image_numel(&img), n_diff = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        int v;
        assert_int_equal(fscanf(p, "%d", &v), 1);
        double d = fabs(img.data[i] * 255.0 - v);
        if (d > 0.01)
            n_diff++;
        if (d > worst)
            worst = d;
    }
    assert_int_equal(pclose(p), 0);
    print_message("  %s: %zu of %zu values differ from torchvision, worst %.3g/255\n", jpg,
                  n_diff, n, worst);
    /* Same IDCT and upsampling: identical up to a rare rounding step. */
    assert_true(worst <= 1.01);
    assert_true(n_diff <= n / 100);
    sg_image_free(&img);
}

/* Issue 10 item 8: CMYK and YCCK JPEGs decode to RGB (torchvision's
 * rule on Adobe-inverted samples: R = C * K / 255, integer). */
static void test_cmyk_jpeg(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    /* YCCK, written by TurboJPEG itself from stored (inverted) CMYK:
     * four flat quadrants, so lossy coding keeps their centres. */
    enum { W = 32 };
    static const unsigned char quad[4][4] = {
        {255, 0, 0, 255},    /* no cyan ink, full magenta+yellow: red */
        {0, 255, 0, 255},    /* green */
        {200, 100, 50, 128}, /* darkened by K: (100, 50, 25) */
        {255, 255, 255, 255} /* no ink at all: white */
    };
    unsigned char cmyk[W * W * 4];
    for (int y = 0; y < W; y++)
        for (int x = 0; x < W; x++)
            memcpy(cmyk + (y * W + x) * 4, quad[(y >= 16) * 2 + (x >= 16)], 4);
    tjhandle tj = tjInitCompress();
    assert_non_null(tj);
    unsigned char *jpg = NULL;
    unsigned long jpg_size = 0;
    assert_int_equal(tjCompress2(tj, cmyk, W, 0, W, TJPF_CMYK, &jpg, &jpg_size, TJSAMP_444, 100,
                                 TJFLAG_ACCURATEDCT),
                     0);
    tjDestroy(tj);
    char *path = tmp_file(dir, "ycck.jpg");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(jpg, 1, jpg_size, f), jpg_size);
    fclose(f);
    tjFree(jpg);
    sg_image img;
    int rc = sg_image_read(path, &img);
    if (rc)
        fail_msg("%s", sg_last_error());
    assert_int_equal(img.c, 3);
    size_t plane = (size_t)W * W;
    for (int q = 0; q < 4; q++) {
        int y = (q / 2) * 16 + 8, x = (q % 2) * 16 + 8;
        for (int c = 0; c < 3; c++) {
            double want = (double)(quad[q][c] * quad[q][3] / 255);
            double got = img.data[(size_t)c * plane + (size_t)(y * W + x)] * 255.0;
            if (fabs(got - want) > 3.0)
                fail_msg("YCCK quadrant %d channel %d: expected %g, got %g", q, c, want, got);
        }
    }
    sg_image_free(&img);
    free(path);

    /* Plain CMYK as Pillow writes it (Adobe marker, inverted samples):
     * every pixel against Pillow's own decode of the same bytes. */
    if (!sg_test_python_has("PIL")) {
        print_message("  SKIP the Pillow half: no PIL in %s\n", sg_test_python());
    } else {
        path = tmp_file(dir, "cmyk.jpg");
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "%s -c \"import sys; from PIL import Image; im = Image.new('CMYK', (32, 32)); "
                 "px = im.load()\n"
                 "for y in range(32):\n"
                 "    for x in range(32): px[x, y] = (x * 8, y * 8, (x + y) * 4, 60 if x < 16 else 10)\n"
                 "im.save('%s', quality=95); im = Image.open('%s'); assert im.mode == 'CMYK'; "
                 "sys.stdout.write(' '.join(map(str, im.tobytes())))\"",
                 sg_test_python(), path, path);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        static int inks[W * W][4];
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 4; c++)
                assert_int_equal(fscanf(p, "%d", &inks[i][c]), 1);
        assert_int_equal(pclose(p), 0); /* the file is written and closed */
        rc = sg_image_read(path, &img);
        if (rc)
            fail_msg("%s", sg_last_error());
        double worst = 0;
        for (size_t i = 0; i < plane; i++) {
            const int *ink = inks[i];
            for (int c = 0; c < 3; c++) {
                double want = (double)((255 - ink[c]) * (255 - ink[3]) / 255);
                double d = fabs(img.data[(size_t)c * plane + i] * 255.0 - want);
                worst = d > worst ? d : worst;
            }
        }
        print_message("  CMYK JPEG vs Pillow's samples: worst %.3g/255\n", worst);
        assert_true(worst <= 1.01);
        sg_image_free(&img);
        free(path);
    }
    sg_test_rmtree(dir);
    free(dir);
}

/* A sample of the shared photo sets decodes (every file with SG_TEST_FULL=1). */
static void test_shared_photo_sets_decode(void **state)
{
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/data/trashnet", sg_test_shared());
    SG_REQUIRE_PATH(root);
    const char *sets[3] = {"trashnet", "dogs-vs-cats/train", "dogs-vs-cats/test"};
    /* SG_TEST_FULL=1 decodes every file (about 7,000). */
    const char *full = getenv("SG_TEST_FULL");
    int all = full && *full == '1';
    const size_t stride[3] = {all ? 1 : 4, all ? 1 : 20, all ? 1 : 20};
    for (int s = 0; s < 3; s++) {
        snprintf(root, sizeof root, "%s/data/%s", sg_test_shared(), sets[s]);
        sg_image_list l;
        assert_int_equal(sg_image_folder_unlabeled(&l, root), 0);
        size_t ok = 0;
        for (size_t i = 0; i < l.n; i += stride[s]) {
            sg_image img;
            int rc = sg_image_read(l.paths[i], &img);
            if (rc != 0) {
                print_error("%s\n", sg_last_error());
                fail();
            }
            assert_int_equal(img.c, 3);
            float lo = 1, hi = 0;
            for (size_t k = 0; k < sg_image_numel(&img); k++) {
                lo = img.data[k] < lo ? img.data[k] : lo;
                hi = img.data[k] > hi ? img.data[k] : hi;
            }
            assert_true(lo >= 0.0f && hi <= 1.0f && hi > lo);
            sg_image_free(&img);
            ok++;
        }
        print_message("  %s: %zu files decoded\n", sets[s], ok);
        assert_true(ok > 0);
        sg_image_list_free(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_depths),
        cmocka_unit_test(test_png_writer_roundtrip),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_jpeg_matches_torchvision),
        cmocka_unit_test(test_cmyk_jpeg),
        cmocka_unit_test(test_shared_photo_sets_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
