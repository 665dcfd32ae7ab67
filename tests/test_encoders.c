/* test_encoders.c - the encoders against pyts and against hand-checked cases.
 *
 * conformance: every case of SHARED/testvectors/encoders and of
 * encoders-static (pyts 0.13 in float64), through the compute functions
 * and enc_encode, to sg_cases.h's rule (1e-5, thresholded exactly); each
 * set's case count is checked.  test_pyts_cli.c runs them through the
 * binary.
 * The rest are small cases worked out by hand, degenerate inputs, fits,
 * layouts and bad parameters.
 */
#include "tests/sg_test.h"
#include "tests/sg_cases.h"

#include "encoders/enc.h"
#include "src/base/sg_error.h"


/* ---- pyts conformance: both sets through the encoder API ------------- */

/* Runs one case through its compute function; 1 if it matched. */
static int run_case(const char *dir, const char *name)
{
    sg_case c;
    sg_case_read(&c, dir, name);
    int C = c.in.rows, T = c.in.cols, h, w;
    assert_int_equal(enc_image_shape(&c.p, C, T, &h, &w), 0);
    enc_workspace *ws;
    assert_int_equal(enc_workspace_create(&ws, &c.p, C, T), 0);
    float *out = malloc(sizeof(float) * (size_t)h * w);
    assert_non_null(out);
    int rc;
    switch (c.p.kind) {
    case ENC_GASF:
    case ENC_GADF:
        rc = enc_gaf_compute(out, c.in.v, T, &c.p, ws);
        break;
    case ENC_MTF:
        rc = enc_mtf_compute(out, c.in.v, T, &c.p, NULL, 0, ws);
        break;
    case ENC_JRP:
        rc = enc_jrp_compute(out, c.in.v, C, T, &c.p, ws);
        break;
    default:
        rc = enc_rp_compute(out, c.in.v, T, &c.p, ws);
        break;
    }
    if (rc)
        print_error("%s: %s\n", name, sg_last_error());
    assert_int_equal(rc, 0);
    int ok = sg_case_compare(&c, "compute", out, h, w);
    /* enc_encode (what the commands call) on the same doubles */
    if (ok) {
        int oc, oh, ow;
        assert_int_equal(enc_output_shape(&c.p, C, T, &oc, &oh, &ow), 0);
        assert_int_equal(oc * oh * ow, h * w);
        rc = enc_encode(out, c.in.v, C, T, &c.p, NULL, ws);
        if (rc)
            print_error("%s: %s\n", name, sg_last_error());
        assert_int_equal(rc, 0);
        ok = sg_case_compare(&c, "enc_encode", out, h, w);
    }
    free(out);
    enc_workspace_free(ws);
    sg_case_free(&c);
    return ok;
}

static void run_set(const char *set, int expected)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/testvectors/%s", sg_test_shared(), set);
    SG_REQUIRE_PATH(dir);
    char *names[SG_CASES_MAX];
    int n = sg_cases_list(names, dir);
    int passed = 0;
    for (int i = 0; i < n; i++) {
        passed += run_case(dir, names[i]);
        free(names[i]);
    }
    print_message("pyts conformance (%s): %d of %d cases match (%d expected)\n", set, passed, n,
                  expected);
    assert_int_equal(n, expected);
    assert_int_equal(passed, n);
}

static void test_pyts_conformance(void **state)
{
    (void)state;
    run_set("encoders", SG_CASES_ENCODERS);
}

static void test_pyts_conformance_static(void **state)
{
    (void)state;
    run_set("encoders-static", SG_CASES_STATIC);
}

/* ---- hand-checked cases ----------------------------------------------- */

static float *encode_alloc(const enc_params *p, const double *x, int C, int T, const enc_fit *fit,
                           int *oc, int *oh, int *ow)
{
    assert_int_equal(enc_output_shape(p, C, T, oc, oh, ow), 0);
    enc_workspace *ws;
    int rc = enc_workspace_create(&ws, p, C, T);
    if (rc)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    float *out = malloc(sizeof(float) * (size_t)*oc * *oh * *ow);
    assert_non_null(out);
    rc = enc_encode(out, x, C, T, p, fit, ws);
    if (rc)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    enc_workspace_free(ws);
    return out;
}

static void test_gasf_by_hand(void **state)
{
    (void)state;
    /* [0, 1] scales to cos = (-1, 1), sin = (0, 0): gasf = cos_i cos_j */
    const double x[2] = {0.0, 1.0};
    enc_params p;
    enc_params_default(&p, ENC_GASF);
    int oc, oh, ow;
    float *out = encode_alloc(&p, x, 1, 2, NULL, &oc, &oh, &ow);
    const double want[4] = {1, -1, -1, 1};
    assert_int_equal(oh, 2);
    sg_assert_close("gasf [0,1]", out, want, 4, 1e-6, 0);
    free(out);

    /* [0, 0.5, 1] to (0, 1): cos = (0, .5, 1), sin = (1, sqrt(.75), 0) */
    const double y[3] = {0.0, 0.5, 1.0};
    enc_params_default(&p, ENC_GADF);
    p.sample_range[0] = 0.0;
    out = encode_alloc(&p, y, 1, 3, NULL, &oc, &oh, &ow);
    double s = sqrt(0.75);
    /* gadf[i][j] = sin_i cos_j - cos_i sin_j */
    const double want_d[9] = {0, 0.5, 1, -0.5, 0, s, -1, -s, 0};
    sg_assert_close("gadf [0,.5,1]", out, want_d, 9, 1e-6, 0);
    free(out);
}

static void test_rp_by_hand(void **state)
{
    (void)state;
    const double x[3] = {0.0, 1.0, 3.0};
    enc_params p;
    enc_params_default(&p, ENC_RP);
    int oc, oh, ow;
    float *out = encode_alloc(&p, x, 1, 3, NULL, &oc, &oh, &ow);
    const double want[9] = {0, 1, 3, 1, 0, 2, 3, 2, 0};
    sg_assert_close("rp 3 points", out, want, 9, 0, 0);
    free(out);
    /* threshold 2 is strict: distance 2 is not a recurrence */
    p.threshold = ENC_THRESHOLD_VALUE;
    p.threshold_value = 2.0;
    out = encode_alloc(&p, x, 1, 3, NULL, &oc, &oh, &ow);
    const double want_t[9] = {1, 1, 0, 1, 1, 0, 0, 0, 1};
    sg_assert_close("rp threshold 2", out, want_t, 9, 0, 0);
    free(out);
    /* dimension 2, delay 1: trajectories (0,1), (1,3) at distance sqrt 5 */
    p.threshold = ENC_THRESHOLD_NONE;
    p.dimension = 2;
    out = encode_alloc(&p, x, 1, 3, NULL, &oc, &oh, &ow);
    const double want_m[4] = {0, sqrt(5.0), sqrt(5.0), 0};
    assert_int_equal(oh, 2);
    sg_assert_close("rp dimension 2", out, want_m, 4, 1e-6, 0);
    free(out);
}

static void test_mtf_by_hand(void **state)
{
    (void)state;
    /* 2 quantile bins of (0 0 1 1 0 1): median 0.5, bins 0 0 1 1 0 1;
     * transitions 0->0, 0->1, 1->1, 1->0, 0->1: row 0 = (1/3, 2/3),
     * row 1 = (1/2, 1/2); image 2 averages 3x3 blocks */
    const double x[6] = {0, 0, 1, 1, 0, 1};
    enc_params p;
    enc_params_default(&p, ENC_MTF);
    p.n_bins = 2;
    p.image_size = 6;
    int oc, oh, ow;
    float *out = encode_alloc(&p, x, 1, 6, NULL, &oc, &oh, &ow);
    const int b[6] = {0, 0, 1, 1, 0, 1};
    const double M[2][2] = {{1.0 / 3, 2.0 / 3}, {0.5, 0.5}};
    double want[36];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            want[i * 6 + j] = M[b[i]][b[j]];
    sg_assert_close("mtf full", out, want, 36, 1e-6, 0);
    free(out);
    p.image_size = 2;
    out = encode_alloc(&p, x, 1, 6, NULL, &oc, &oh, &ow);
    double agg[4] = {0};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            agg[(i / 3) * 2 + j / 3] += want[i * 6 + j] / 9.0;
    sg_assert_close("mtf 2x2", out, agg, 4, 1e-6, 0);
    free(out);
}

static void test_gray_by_hand(void **state)
{
    (void)state;
    const double x[6] = {1, 2, 3, 10, 20, 30};   /* (2, 3) */
    enc_params p;
    enc_params_default(&p, ENC_GRAY);
    p.scope = ENC_SCOPE_AXIS;
    int oc, oh, ow;
    float *out = encode_alloc(&p, x, 2, 3, NULL, &oc, &oh, &ow);
    assert_int_equal(oc, 1);
    assert_int_equal(oh, 2);
    assert_int_equal(ow, 3);
    const double want[6] = {0, 0.5, 1, 0, 0.5, 1};
    sg_assert_close("gray axis", out, want, 6, 1e-7, 0);
    free(out);
    p.scope = ENC_SCOPE_SEGMENT;
    out = encode_alloc(&p, x, 2, 3, NULL, &oc, &oh, &ow);
    const double want_s[6] = {0, 1.0 / 29, 2.0 / 29, 9.0 / 29, 19.0 / 29, 1};
    sg_assert_close("gray segment", out, want_s, 6, 1e-6, 0);
    free(out);
    /* dataset scope without a fit is an error, not a guess */
    p.scope = ENC_SCOPE_DATASET;
    enc_workspace *ws;
    assert_int_equal(enc_workspace_create(&ws, &p, 2, 3), 0);
    float buf[6];
    assert_int_equal(enc_encode(buf, x, 2, 3, &p, NULL, ws), SG_E_INVALID);
    enc_workspace_free(ws);
}

static void test_spectrogram_cosine(void **state)
{
    (void)state;
    enum { T = 128, WL = 32, HOP = 8, BIN = 5 };
    double x[T];
    for (int t = 0; t < T; t++)
        x[t] = cos(2.0 * M_PI * BIN * t / WL);
    enc_params p;
    enc_params_default(&p, ENC_SPECTROGRAM);
    p.window_length = WL;
    p.hop = HOP;
    p.log_db = 0;
    int oc, oh, ow;
    float *out = encode_alloc(&p, x, 1, T, NULL, &oc, &oh, &ow);
    assert_int_equal(oh, WL / 2 + 1);
    assert_int_equal(ow, 1 + (T - WL) / HOP);
    /* hann-windowed cosine on bin 5: peak N/4 = 8 at bin 5, which is row
     * K-1-5 (row 0 is the top, highest frequency) in every frame */
    int K = WL / 2 + 1;
    for (int f = 0; f < ow; f++) {
        int best = 0;
        for (int r = 1; r < K; r++)
            if (out[r * ow + f] > out[best * ow + f])
                best = r;
        assert_int_equal(best, K - 1 - BIN);
        assert_true(fabs(out[best * ow + f] - WL / 4.0) < 1e-3);
    }
    free(out);
    p.log_db = 1;
    out = encode_alloc(&p, x, 1, T, NULL, &oc, &oh, &ow);
    assert_true(fabs(out[(K - 1 - BIN) * ow] - 20.0 * log10(WL / 4.0 + 1e-6)) < 1e-3);
    free(out);
}

/* Both spectrogram paths (the direct DFT for windows up to 64 samples,
 * FFTW beyond) against a double-precision DFT of the same windowed
 * frames, on a noisy multi-tone series: magnitudes to 1e-5 of the image's
 * largest, dB to 1e-3 wherever the magnitude is above 1e-3 of it. */
static void test_spectrogram_vs_double_dft(void **state)
{
    (void)state;
    static const struct { int T, wl, hop; enc_window win; } cases[] = {
        {125, 32, 4, ENC_WINDOW_HANN},     {125, 31, 3, ENC_WINDOW_HAMMING},
        {125, 8, 40, ENC_WINDOW_BLACKMAN}, {125, 64, 1, ENC_WINDOW_RECTANGULAR},
        {125, 2, 5, ENC_WINDOW_HANN},      {300, 100, 7, ENC_WINDOW_HANN},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int T = cases[c].T, wl = cases[c].wl, hop = cases[c].hop;
        double *x = malloc(sizeof(double) * (size_t)T);
        float *w = malloc(sizeof(float) * (size_t)wl);
        assert_non_null(x);
        assert_non_null(w);
        unsigned rng = 12345u + (unsigned)c;
        for (int t = 0; t < T; t++) {
            rng = rng * 1664525u + 1013904223u;
            x[t] = (float)(9.81 + 3.0 * sin(0.7 * t) + 0.5 * cos(2.1 * t) +
                           ((double)(rng >> 8) / 16777216.0 - 0.5));
        }
        enc_params p;
        enc_params_default(&p, ENC_SPECTROGRAM);
        p.window_length = wl;
        p.hop = hop;
        p.window = cases[c].win;
        for (int i = 0; i < wl; i++) {   /* torch's periodic windows */
            double a = 2.0 * M_PI * i / wl;
            w[i] = (float)(p.window == ENC_WINDOW_HANN      ? 0.5 - 0.5 * cos(a)
                           : p.window == ENC_WINDOW_HAMMING ? 0.54 - 0.46 * cos(a)
                           : p.window == ENC_WINDOW_BLACKMAN
                               ? 0.42 - 0.5 * cos(a) + 0.08 * cos(2.0 * a)
                               : 1.0);
        }
        int K = wl / 2 + 1, oc, oh, ow;
        p.log_db = 0;
        float *mag = encode_alloc(&p, x, 1, T, NULL, &oc, &oh, &ow);
        p.log_db = 1;
        float *db = encode_alloc(&p, x, 1, T, NULL, &oc, &oh, &ow);
        assert_int_equal(oh, K);
        double *ref = malloc(sizeof(double) * (size_t)K * ow);
        assert_non_null(ref);
        double peak = 0.0;
        for (int f = 0; f < ow; f++) {
            for (int k = 0; k < K; k++) {
                double re = 0.0, im = 0.0;
                for (int i = 0; i < wl; i++) {
                    double a = 2.0 * M_PI * (double)(((long)k * i) % wl) / wl;
                    double v = (double)x[f * hop + i] * (double)w[i];
                    re += v * cos(a);
                    im -= v * sin(a);
                }
                ref[(size_t)(K - 1 - k) * ow + f] = sqrt(re * re + im * im);
                peak = fmax(peak, sqrt(re * re + im * im));
            }
        }
        for (int i = 0; i < K * ow; i++) {
            if (fabs(mag[i] - ref[i]) > 1e-5 * peak)
                fail_msg("case %zu (wl %d hop %d) pixel %d: magnitude expected %.9g got %.9g",
                         c, wl, hop, i, ref[i], (double)mag[i]);
            double want = 20.0 * log10(ref[i] + 1e-6);
            if (ref[i] > 1e-3 * peak && fabs(db[i] - want) > 1e-3)
                fail_msg("case %zu (wl %d hop %d) pixel %d: dB expected %.9g got %.9g", c, wl,
                         hop, i, want, (double)db[i]);
        }
        free(ref);
        free(db);
        free(mag);
        free(w);
        free(x);
    }
}

/* ---- degenerate input --------------------------------------------------- */

static void test_degenerate(void **state)
{
    (void)state;
    double x[16];
    for (int i = 0; i < 16; i++)
        x[i] = 3.0;
    enc_params p;
    int oc, oh, ow;
    const enc_kind kinds[] = {ENC_GASF, ENC_GADF, ENC_MTF, ENC_RP};
    const double value[] = {1.0, 0.0, 1.0, 0.0};   /* documented in enc.h */
    for (int k = 0; k < 4; k++) {
        enc_params_default(&p, kinds[k]);
        p.image_size = 8;
        float *out = encode_alloc(&p, x, 1, 16, NULL, &oc, &oh, &ow);
        for (int i = 0; i < oh * ow; i++) {
            if (fabs(out[i] - value[k]) > 1e-6) {
                print_error("%s constant: pixel %d is %g, expected %g\n", enc_kind_name(kinds[k]),
                            i, out[i], value[k]);
                fail();
            }
        }
        free(out);
    }
    enc_params_default(&p, ENC_MTF);
    for (int s = ENC_STRATEGY_QUANTILE; s <= ENC_STRATEGY_NORMAL; s++) {
        p.strategy = (enc_strategy)s;
        float *out = encode_alloc(&p, x, 1, 16, NULL, &oc, &oh, &ow);
        for (int i = 0; i < oh * ow; i++)
            assert_true(out[i] == 1.0f);
        free(out);
    }
    /* gray constant -> 0 */
    enc_params_default(&p, ENC_GRAY);
    p.scope = ENC_SCOPE_AXIS;
    float *out = encode_alloc(&p, x, 2, 8, NULL, &oc, &oh, &ow);
    for (int i = 0; i < 16; i++)
        assert_true(out[i] == 0.0f);
    free(out);
    /* spectrogram of zeros: -120 dB, never -inf */
    memset(x, 0, sizeof x);
    enc_params_default(&p, ENC_SPECTROGRAM);
    p.window_length = 8;
    out = encode_alloc(&p, x, 1, 16, NULL, &oc, &oh, &ow);
    for (int i = 0; i < oh * ow; i++)
        assert_true(fabs(out[i] + 120.0) < 1e-3);
    free(out);

    /* non-finite input */
    x[5] = NAN;
    enc_params_default(&p, ENC_RP);
    enc_workspace *ws;
    assert_int_equal(enc_workspace_create(&ws, &p, 1, 16), 0);
    float img[256];
    assert_int_equal(enc_encode(img, x, 1, 16, &p, NULL, ws), SG_E_NUMERIC);
    assert_non_null(strstr(sg_last_error(), "sample 5"));
    enc_workspace_free(ws);

    /* gray checks inside its scaling pass: every scope, NaN and +-Inf, and
     * a constant row (zero range, where no scaling happens) */
    const enum enc_scope scopes[] = {ENC_SCOPE_AXIS, ENC_SCOPE_SEGMENT};
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int s = 0; s < 2; s++)
        for (int b = 0; b < 3; b++)
            for (int constant = 0; constant < 2; constant++) {
                double y[16];
                for (int i = 0; i < 16; i++)
                    y[i] = constant ? 3.0 : (double)i;
                y[9] = bad[b];
                enc_params_default(&p, ENC_GRAY);
                p.scope = scopes[s];
                assert_int_equal(enc_workspace_create(&ws, &p, 1, 16), 0);
                assert_int_equal(enc_encode(img, y, 1, 16, &p, NULL, ws), SG_E_NUMERIC);
                assert_non_null(strstr(sg_last_error(), "sample 9"));
                enc_workspace_free(ws);
            }
}

/* ---- fits ---------------------------------------------------------------- */

static void test_fit_round_trip(void **state)
{
    (void)state;
    /* 3 segments x 2 channels x 4 samples */
    double x[24];
    for (int i = 0; i < 24; i++)
        x[i] = (double)((i * 7) % 11) - 3.0;
    enc_params p;
    enc_params_default(&p, ENC_GRAY);
    enc_fit *fit, *back;
    assert_int_equal(enc_fit_create(&fit, &p, x, 3, 2, 4), 0);
    char *dir = sg_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/gray.json", dir);
    assert_int_equal(enc_fit_save(fit, path), 0);
    assert_int_equal(enc_fit_load(&back, path, &p, 2), 0);
    int oc, oh, ow;
    float *a = encode_alloc(&p, x + 8, 2, 4, fit, &oc, &oh, &ow);
    float *b = encode_alloc(&p, x + 8, 2, 4, back, &oc, &oh, &ow);
    double want[8];
    for (int i = 0; i < 8; i++)
        want[i] = a[i];
    sg_assert_close("gray fit reloaded", b, want, 8, 0, 0);
    /* dataset min/max per channel: channel 0 spans exactly [0, 1] */
    float lo = 1, hi = 0;
    for (int s = 0; s < 3; s++) {
        float *o = encode_alloc(&p, x + s * 8, 2, 4, fit, &oc, &oh, &ow);
        for (int t = 0; t < 4; t++) {
            lo = o[t] < lo ? o[t] : lo;
            hi = o[t] > hi ? o[t] : hi;
        }
        free(o);
    }
    assert_true(lo == 0.0f && hi == 1.0f);
    /* out-of-range values are clamped */
    double big[8] = {1e6, -1e6, 0, 0, 0, 0, 0, 0};
    float *c = encode_alloc(&p, big, 2, 4, fit, &oc, &oh, &ow);
    assert_true(c[0] == 1.0f && c[1] == 0.0f);
    free(a);
    free(b);
    free(c);
    enc_fit_free(back);
    /* wrong encoder or channel count is refused */
    enc_params q;
    enc_params_default(&q, ENC_GASF);
    assert_int_equal(enc_fit_load(&back, path, &q, 2), SG_E_INVALID);
    assert_int_equal(enc_fit_load(&back, path, &p, 3), SG_E_INVALID);
    enc_fit_free(fit);

    /* fitted mtf edges: quantile of the pooled values */
    enc_params_default(&p, ENC_MTF);
    p.mtf_fitted = 1;
    p.n_bins = 2;
    assert_int_equal(enc_fit_create(&fit, &p, x, 3, 2, 4), 0);
    snprintf(path, sizeof path, "%s/mtf.json", dir);
    assert_int_equal(enc_fit_save(fit, path), 0);
    assert_int_equal(enc_fit_load(&back, path, &p, 2), 0);
    a = encode_alloc(&p, x, 2, 4, fit, &oc, &oh, &ow);
    b = encode_alloc(&p, x, 2, 4, back, &oc, &oh, &ow);
    double wa[32];
    for (int i = 0; i < 32; i++)
        wa[i] = a[i];
    sg_assert_close("mtf fit reloaded", b, wa, 32, 0, 0);
    free(a);
    free(b);
    enc_fit_free(back);
    enc_fit_free(fit);

    /* a malformed file names line and column */
    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("{\n  \"format\": \"sensorgram-enc-fit\",\n  \"min\": [1, 2,\n", fp);
    fclose(fp);
    assert_int_equal(enc_fit_load(&back, path, &p, 2), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "bad.json:"));
    assert_null(back);
    sg_test_rmtree(dir);
    free(dir);
}

/* ---- layouts --------------------------------------------------------------- */

static void test_layouts(void **state)
{
    (void)state;
    /* 6 channels of 3 samples, rp 3x3 each: channel c is (0, c+1, 0) so
     * its plot's (0, 1) pixel is c+1 */
    double x[18] = {0};
    for (int c = 0; c < 6; c++)
        x[c * 3 + 1] = (double)(c + 1);
    enc_params p;
    enc_params_default(&p, ENC_RP);
    int oc, oh, ow;
    float *out = encode_alloc(&p, x, 6, 3, NULL, &oc, &oh, &ow);
    assert_int_equal(oc, 6);
    for (int c = 0; c < 6; c++)
        assert_true(out[c * 9 + 1] == (float)(c + 1));
    free(out);
    /* mosaic: 6 tiles on a 3-wide grid -> 1 x 6 x 9 */
    p.layout = ENC_LAYOUT_MOSAIC;
    out = encode_alloc(&p, x, 6, 3, NULL, &oc, &oh, &ow);
    assert_int_equal(oc, 1);
    assert_int_equal(oh, 6);
    assert_int_equal(ow, 9);
    for (int c = 0; c < 6; c++)
        assert_true(out[(c / 3) * 3 * 9 + (c % 3) * 3 + 1] == (float)(c + 1));
    free(out);
    /* rgb: 2 sensors -> 2 tiles on a 2-wide grid, 3 x 3 x 6 */
    p.layout = ENC_LAYOUT_RGB;
    out = encode_alloc(&p, x, 6, 3, NULL, &oc, &oh, &ow);
    assert_int_equal(oc, 3);
    assert_int_equal(oh, 3);
    assert_int_equal(ow, 6);
    for (int g = 0; g < 2; g++)
        for (int k = 0; k < 3; k++)
            assert_true(out[k * 18 + g * 3 + 1] == (float)(g * 3 + k + 1));
    free(out);
    /* gray rgb: rows are sensors, colours x, y, z */
    enc_params_default(&p, ENC_GRAY);
    p.scope = ENC_SCOPE_SEGMENT;
    p.layout = ENC_LAYOUT_RGB;
    out = encode_alloc(&p, x, 6, 3, NULL, &oc, &oh, &ow);
    assert_int_equal(oc, 3);
    assert_int_equal(oh, 2);
    assert_int_equal(ow, 3);
    assert_true(fabs(out[2 * 6 + 1 * 3 + 1] - 1.0) < 1e-6);   /* channel 5 = max */
    free(out);
}

/* ---- bad parameters -------------------------------------------------------- */

static void test_bad_params(void **state)
{
    (void)state;
    enc_params p;
    enc_kind k;
    assert_int_equal(enc_kind_parse(&k, "gasf"), 0);
    assert_int_equal(k, ENC_GASF);
    assert_int_equal(enc_kind_parse(&k, "bogus"), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "bogus"));

    enc_params_default(&p, ENC_RP);
    p.dimension = 5;
    p.time_delay = 40;
    assert_int_equal(enc_params_check(&p, 1, 125), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "too short"));
    enc_params_default(&p, ENC_GASF);
    p.image_size = 200;
    assert_int_equal(enc_params_check(&p, 1, 125), SG_E_INVALID);
    p.image_size = 64;
    p.sample_range[0] = -2;
    assert_int_equal(enc_params_check(&p, 1, 125), SG_E_INVALID);
    enc_params_default(&p, ENC_MTF);
    p.n_bins = 1;
    assert_int_equal(enc_params_check(&p, 1, 125), SG_E_INVALID);
    enc_params_default(&p, ENC_SPECTROGRAM);
    p.window_length = 200;
    assert_int_equal(enc_params_check(&p, 1, 125), SG_E_INVALID);
    enc_params_default(&p, ENC_RP);
    p.layout = ENC_LAYOUT_RGB;
    assert_int_equal(enc_params_check(&p, 4, 125), SG_E_INVALID);
    enc_workspace *ws = (enc_workspace *)&p;
    assert_int_equal(enc_workspace_create(&ws, &p, 4, 125), SG_E_INVALID);
    assert_null(ws);
    /* shapes */
    int oc, oh, ow;
    enc_params_default(&p, ENC_SPECTROGRAM);
    assert_int_equal(enc_output_shape(&p, 15, 125, &oc, &oh, &ow), 0);
    assert_int_equal(oc, 15);
    assert_int_equal(oh, 17);
    assert_int_equal(ow, 24);
    enc_params_default(&p, ENC_GASF);
    p.image_size_frac = 0.5;
    assert_int_equal(enc_output_shape(&p, 1, 125, &oc, &oh, &ow), 0);
    assert_int_equal(oh, 63);
    /* norm.ppf against scipy values */
    assert_true(fabs(enc_norm_ppf(0.2) - -0.8416212335729143) < 1e-15);
    assert_true(fabs(enc_norm_ppf(0.975) - 1.959963984540054) < 1e-14);
    assert_true(fabs(enc_norm_ppf(1e-10) - -6.361340902404056) < 1e-12);
}

/* pyts's PiecewiseAggregateApproximation(output_size=4) of 0..9 by hand:
 * window ceil(10 / 4) = 3, shifted left by linspace(0, 4 * 3 - 10, 4)
 * = 0, 0.67, 1.33, 2 truncated to 0, 0, 1, 2: windows
 * [0,3) [3,6) [5,8) [7,10), means 1 4 6 8.  Exact windows (12 into 4)
 * are plain block means (of t^2: 9i^2 + 6i + 5/3); 1 <= S <= T is
 * enforced. */
static void test_paa_rows_by_hand(void **state)
{
    (void)state;
    double x[2 * 10], out[2 * 4];
    for (int t = 0; t < 10; t++) {
        x[t] = t;
        x[10 + t] = -2.0 * t;
    }
    assert_int_equal(enc_paa_rows(out, x, 2, 10, 4), SG_OK);
    const double want[8] = {1, 4, 6, 8, -2, -8, -12, -16};
    sg_assert_close_d("PAA of 10 into 4", out, want, 8, 1e-12, 0);
    double y[12], block[4];
    for (int t = 0; t < 12; t++)
        y[t] = t * t;
    assert_int_equal(enc_paa_rows(block, y, 1, 12, 4), SG_OK);
    double means[4];
    for (int i = 0; i < 4; i++)
        means[i] = 9.0 * i * i + 6.0 * i + 5.0 / 3.0;
    sg_assert_close_d("PAA of 12 into 4", block, means, 4, 1e-9, 0);
    assert_int_equal(enc_paa_rows(block, y, 1, 12, 13), SG_E_INVALID);
    assert_int_equal(enc_paa_rows(block, y, 1, 12, 0), SG_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyts_conformance),
        cmocka_unit_test(test_pyts_conformance_static),
        cmocka_unit_test(test_gasf_by_hand),
        cmocka_unit_test(test_rp_by_hand),       cmocka_unit_test(test_mtf_by_hand),
        cmocka_unit_test(test_gray_by_hand),     cmocka_unit_test(test_spectrogram_cosine),
        cmocka_unit_test(test_spectrogram_vs_double_dft),
        cmocka_unit_test(test_degenerate),       cmocka_unit_test(test_fit_round_trip),
        cmocka_unit_test(test_layouts),          cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_paa_rows_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
