/* test_transform.c - resize/crop/channel conversion against torch and
 * torchvision (SG_PYTHON oracles), flips, affine, RandomResizedCrop
 * parameters and the train/eval pipeline. */
#include "tests/sg_test.h"

#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/image/transform.h"

/* The test image both sides build: x = sin(0.37 i + 0.11 c) (+ 1) / 2. */
static void make_image(sg_image *img, int c, int h, int w)
{
    assert_int_equal(sg_image_alloc(img, c, h, w), 0);
    size_t plane = (size_t)h * (size_t)w;
    for (int k = 0; k < c; k++)
        for (size_t i = 0; i < plane; i++)
            img->data[(size_t)k * plane + i] = (float)((sin(0.37 * (double)i + 0.11 * k) + 1) / 2);
}

/* Runs python code that prints a flat list of numbers; returns them
 * (malloc'd) and their count. */
static double *run_oracle(const char *code, size_t *n)
{
    char *cmd = malloc(strlen(code) + 256);
    assert_non_null(cmd);
    sprintf(cmd, "%s -c \"%s\"", sg_test_python(), code);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1024;
    double *v = malloc(cap * sizeof *v);
    assert_non_null(v);
    *n = 0;
    double x;
    while (fscanf(p, "%lf", &x) == 1) {
        if (*n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            assert_non_null(v);
        }
        v[(*n)++] = x;
    }
    int rc = pclose(p);
    if (rc != 0) {
        print_error("oracle failed: %s\n", cmd);
        fail();
    }
    free(cmd);
    return v;
}

/* The resize cases: (c, h, w) -> (oh, ow). */
static const int resize_cases[4][5] = {
    {2, 37, 53, 16, 20},   /* downscale, non-integer factors */
    {1, 10, 12, 25, 31},   /* upscale: plain bilinear */
    {3, 40, 30, 13, 45},   /* down one axis, up the other */
    {1, 64, 64, 8, 8},     /* factor 8: wide support */
};

/* One oracle run (torch imports are slow) for every geometry check. */
static void test_geometry_matches_torch(void **state)
{
    (void)state;
    SG_REQUIRE_PYTHON("torch,torchvision");
    char code[8192];
    size_t len = (size_t)snprintf(code, sizeof code,
                                  "import math, torch; import torchvision.transforms.functional as F; "
                                  "out = []; "
                                  "img = lambda c, h, w: torch.tensor([[[(math.sin(0.37 * (y * w + xx) "
                                  "+ 0.11 * k) + 1) / 2 for xx in range(w)] for y in range(h)] for k "
                                  "in range(c)], dtype=torch.float32); ");
    for (int i = 0; i < 4; i++)
        len += (size_t)snprintf(code + len, sizeof code - len,
                                "out += torch.nn.functional.interpolate(img(%d, %d, %d)[None], "
                                "size=(%d, %d), mode='bilinear', antialias=True, "
                                "align_corners=False).flatten().tolist(); ",
                                resize_cases[i][0], resize_cases[i][1], resize_cases[i][2],
                                resize_cases[i][3], resize_cases[i][4]);
    snprintf(code + len, sizeof code - len,
             "x = img(3, 40, 30); "
             "out += F.resize(x, 16, antialias=True).flatten().tolist(); "
             "out += F.center_crop(x, [13, 12]).flatten().tolist(); "
             "out += F.center_crop(x, [44, 35]).flatten().tolist(); "
             "out += F.rgb_to_grayscale(x).flatten().tolist(); "
             "print(*out)");
    size_t n;
    double *want = run_oracle(code, &n);
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        const int *r = resize_cases[i];
        sg_image in, out;
        make_image(&in, r[0], r[1], r[2]);
        assert_int_equal(sg_image_resize(&out, &in, r[3], r[4]), 0);
        assert_int_equal(out.h, r[3]);
        assert_int_equal(out.w, r[4]);
        assert_true(at + sg_image_numel(&out) <= n);
        char what[64];
        snprintf(what, sizeof what, "resize %dx%d -> %dx%d", r[1], r[2], r[3], r[4]);
        sg_assert_close(what, out.data, want + at, sg_image_numel(&out), 2e-6, 0);
        at += sg_image_numel(&out);
        sg_image_free(&in);
        sg_image_free(&out);
    }
    sg_image in, shorter, crop, pad, gray;
    make_image(&in, 3, 40, 30);
    assert_int_equal(sg_image_resize_short(&shorter, &in, 16), 0);
    assert_int_equal(shorter.w, 16);
    assert_int_equal(shorter.h, 21);   /* trunc(16 * 40 / 30) */
    assert_int_equal(sg_image_center_crop(&crop, &in, 13, 12), 0);
    assert_int_equal(sg_image_center_crop(&pad, &in, 44, 35), 0);
    assert_int_equal(sg_image_to_channels(&gray, &in, 1), 0);
    size_t na = sg_image_numel(&shorter), nb = sg_image_numel(&crop), nc = sg_image_numel(&pad),
           ng = sg_image_numel(&gray);
    assert_int_equal(n, at + na + nb + nc + ng);
    sg_assert_close("resize short side", shorter.data, want + at, na, 2e-6, 0);
    sg_assert_close("center crop", crop.data, want + at + na, nb, 0, 0);
    sg_assert_close("center crop with padding", pad.data, want + at + na + nb, nc, 0, 0);
    sg_assert_close("rgb to gray", gray.data, want + at + na + nb + nc, ng, 1e-6, 0);
    free(want);
    sg_image_free(&in);
    sg_image_free(&shorter);
    sg_image_free(&crop);
    sg_image_free(&pad);
    sg_image_free(&gray);
}

static void test_flips_and_affine(void **state)
{
    (void)state;
    sg_image img, out;
    assert_int_equal(sg_image_alloc(&img, 1, 3, 3), 0);
    for (int i = 0; i < 9; i++)
        img.data[i] = (float)i;   /* 0 1 2 / 3 4 5 / 6 7 8 */
    sg_image_hflip(&img);
    const double h_want[9] = {2, 1, 0, 5, 4, 3, 8, 7, 6};
    sg_assert_close("hflip", img.data, h_want, 9, 0, 0);
    sg_image_hflip(&img);
    sg_image_vflip(&img);
    const double v_want[9] = {6, 7, 8, 3, 4, 5, 0, 1, 2};
    sg_assert_close("vflip", img.data, v_want, 9, 0, 0);
    sg_image_vflip(&img);

    assert_int_equal(sg_image_affine(&out, &img, 0, 1, 0, 0), 0);
    const double id[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    sg_assert_close("affine identity", out.data, id, 9, 1e-6, 0);
    sg_image_free(&out);
    /* +90 degrees, counter-clockwise on screen: right column -> top row */
    assert_int_equal(sg_image_affine(&out, &img, 90, 1, 0, 0), 0);
    const double rot[9] = {2, 5, 8, 1, 4, 7, 0, 3, 6};
    sg_assert_close("affine rot90", out.data, rot, 9, 1e-5, 0);
    sg_image_free(&out);
    /* shift right by one pixel: left column filled with 0 */
    assert_int_equal(sg_image_affine(&out, &img, 0, 1, 1, 0), 0);
    const double shift[9] = {0, 0, 1, 0, 3, 4, 0, 6, 7};
    sg_assert_close("affine translate", out.data, shift, 9, 1e-6, 0);
    sg_image_free(&out);
    assert_int_equal(sg_image_affine(&out, &img, 0, 0, 0, 0), SG_E_INVALID);
    sg_image_free(&img);
}

static void test_rrc_params(void **state)
{
    (void)state;
    sg_rng a, b;
    sg_rng_seed(&a, 11);
    sg_rng_seed(&b, 11);
    for (int t = 0; t < 500; t++) {
        int top, left, ch, cw, top2, left2, ch2, cw2;
        sg_rrc_params(&top, &left, &ch, &cw, 200, 300, 0.08, 1.0, 0.75, 4.0 / 3.0, &a);
        sg_rrc_params(&top2, &left2, &ch2, &cw2, 200, 300, 0.08, 1.0, 0.75, 4.0 / 3.0, &b);
        assert_true(top == top2 && left == left2 && ch == ch2 && cw == cw2);
        assert_true(ch >= 1 && cw >= 1 && top >= 0 && left >= 0);
        assert_true(top + ch <= 200 && left + cw <= 300);
        double area = (double)ch * cw / (200.0 * 300.0);
        assert_true(area > 0.07 && area < 1.01);
    }
    /* a 1000x10 strip never fits ratio >= 3/4 at the sampled areas: the
     * fallback keeps the width and clamps the ratio (h = round(10 / 0.75)) */
    int top, left, ch, cw;
    sg_rrc_params(&top, &left, &ch, &cw, 1000, 10, 0.9, 1.0, 0.75, 4.0 / 3.0, &a);
    assert_int_equal(cw, 10);
    assert_int_equal(ch, 13);
    assert_int_equal(top, (1000 - 13) / 2);
    assert_int_equal(left, 0);
}

static void test_pipeline(void **state)
{
    (void)state;
    sg_image in;
    make_image(&in, 3, 40, 30);
    sg_transform_spec s;
    sg_transform_spec_photo(&s, 16, 16);
    assert_int_equal(sg_transform_spec_check(&s), 0);
    float *out = malloc(sizeof(float) * 3 * 16 * 16);
    assert_non_null(out);
    sg_rng rng;
    sg_rng_seed(&rng, 1);
    /* eval = short side 16 -> centre crop 16x16 -> normalise */
    assert_int_equal(sg_transform_apply(&s, 0, &in, out, &rng), 0);
    sg_image shorter, crop;
    assert_int_equal(sg_image_resize_short(&shorter, &in, 16), 0);
    assert_int_equal(sg_image_center_crop(&crop, &shorter, 16, 16), 0);
    assert_int_equal(sg_image_normalize(&crop, s.mean, s.std), 0);
    double *want = malloc(sizeof(double) * 3 * 16 * 16);
    assert_non_null(want);
    for (int i = 0; i < 3 * 16 * 16; i++)
        want[i] = crop.data[i];
    sg_assert_close("eval pipeline", out, want, 3 * 16 * 16, 0, 0);
    /* crop top = round(2.5) = 2 (half to even); channel 0 of a
     * normalised pixel is (x - 0.485) / 0.229 */
    assert_true(fabs(want[0] - ((double)shorter.data[2 * 16] - 0.485) / 0.229) < 1e-5);

    /* train: same rng seed -> same output; another seed -> different */
    float *o2 = malloc(sizeof(float) * 3 * 16 * 16);
    assert_non_null(o2);
    s.max_rotate_deg = 10;
    s.max_zoom = 0.1;
    s.max_translate = 0.1;
    s.vflip_p = 0.5;
    sg_rng_seed(&rng, 5);
    assert_int_equal(sg_transform_apply(&s, 1, &in, out, &rng), 0);
    sg_rng_seed(&rng, 5);
    assert_int_equal(sg_transform_apply(&s, 1, &in, o2, &rng), 0);
    assert_memory_equal(out, o2, sizeof(float) * 3 * 16 * 16);
    sg_rng_seed(&rng, 6);
    assert_int_equal(sg_transform_apply(&s, 1, &in, o2, &rng), 0);
    assert_memory_not_equal(out, o2, sizeof(float) * 3 * 16 * 16);

    /* sensor spec: exact size needed, gray input adapted to 3 channels */
    sg_image g;
    make_image(&g, 1, 16, 16);
    sg_transform_spec_sensor(&s, 3, 16, 16);
    s.normalize = 0;
    assert_int_equal(sg_transform_apply(&s, 1, &g, out, &rng), 0);
    for (int c = 0; c < 3; c++)
        assert_memory_equal(out + c * 256, g.data, sizeof(float) * 256);
    sg_transform_spec_sensor(&s, 1, 20, 16);
    assert_int_equal(sg_transform_apply(&s, 0, &g, out, &rng), SG_E_SHAPE);
    assert_non_null(strstr(sg_last_error(), "16x16"));
    /* stacked encoders give any count up to the limit; 0 and above are invalid */
    s.channels = 2;
    assert_int_equal(sg_transform_spec_check(&s), SG_OK);
    s.channels = 0;
    assert_int_equal(sg_transform_spec_check(&s), SG_E_INVALID);
    s.channels = SG_TRANSFORM_MAX_CHANNELS + 1;
    assert_int_equal(sg_transform_spec_check(&s), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "channels must be 1 to"));

    free(out);
    free(o2);
    free(want);
    sg_image_free(&in);
    sg_image_free(&g);
    sg_image_free(&shorter);
    sg_image_free(&crop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry_matches_torch),
        cmocka_unit_test(test_flips_and_affine),
        cmocka_unit_test(test_rrc_params),
        cmocka_unit_test(test_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
