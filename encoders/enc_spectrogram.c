/* enc_spectrogram.c - short-time Fourier magnitude, one image per channel.
 *
 * Frames of window_length samples every hop samples (no padding, so
 * frames = 1 + (T - window_length) / hop), multiplied by a periodic
 * window (hann, hamming, blackman or rectangular, as torch's *_window
 * defaults), then the DFT of every frame.  Windows up to ENC_DFT_MAX_WL
 * samples (the default 32) use a direct DFT: the window is folded into
 * cos/sin bases (halved by the window's symmetry, see dft_n_even) and
 * frames are taken 8 at a time from a
 * polyphase copy of the series (poly[r][m] = x[m hop + r], so frame f's
 * tap i, x[f hop + i], is contiguous in f), which makes the whole image
 * one small vectorized matrix product with no per-frame calls.  Longer
 * windows use one batched FFTW single-precision r2c transform over all
 * frames with the plan made once per workspace.  Both accumulate in float
 * (FFTW's single precision); tests/test_encoders.c checks both paths
 * against a double-precision DFT.  out is (window_length/2 + 1, frames) with
 * row 0 the HIGHEST frequency, so low frequencies sit at the bottom of
 * the picture; values are |X| or 20 log10(|X| + 1e-6) dB.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void enc_spectrogram_window(float *w, int n, enc_window kind)
{
    for (int i = 0; i < n; i++) {
        double a = 2.0 * M_PI * (double)i / (double)n;
        double v;
        switch (kind) {
        case ENC_WINDOW_HANN:
            v = 0.5 - 0.5 * cos(a);
            break;
        case ENC_WINDOW_HAMMING:
            v = 0.54 - 0.46 * cos(a);
            break;
        case ENC_WINDOW_BLACKMAN:
            v = 0.42 - 0.5 * cos(a) + 0.08 * cos(2.0 * a);
            break;
        default:
            v = 1.0;
            break;
        }
        w[i] = (float)v;
    }
}

/* 20 log10(v) for v >= 1e-6 (normal floats), vectorizable: split off the
 * exponent, fold the mantissa into [sqrt(1/2), sqrt(2)) and sum the
 * atanh series of ln m to s^9; relative error ~1e-7, well below what a
 * dB image can show. */
static inline float db_of(float v)
{
    int32_t u;
    memcpy(&u, &v, sizeof u);                 /* v > 0: sign bit clear */
    int32_t mant = u & 0x007fffff;
    int32_t big = mant >= 0x003504f3;         /* mantissa above sqrt 2 */
    float e = (float)((u >> 23) - 127 + big);
    u = mant | (0x3f800000 - (big << 23));    /* m in [sqrt .5, sqrt 2) */
    float m;
    memcpy(&m, &u, sizeof m);
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float ln = 2.0f * s *
               (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9)))));
    return (ln + e * 0.693147181f) * (20.0f * 0.434294482f);
}

/* mag (n) of complex spec, in place to dB if log_db. */
ENC_HOT static void spectrum_magnitude(float *restrict mag, const fftwf_complex *restrict spec,
                                       size_t n, int log_db)
{
    for (size_t i = 0; i < n; i++)
        mag[i] = sqrtf(spec[i][0] * spec[i][0] + spec[i][1] * spec[i][1]);
    if (log_db)
        for (size_t i = 0; i < n; i++)
            mag[i] = db_of(mag[i] + 1e-6f);
}

/* A vector of ENC_DFT_LANES floats (GCC/clang vector extension: AVX
 * registers in the avx2 clone, SSE pairs or scalars elsewhere). */
typedef float dft_vec __attribute__((vector_size(ENC_DFT_LANES * sizeof(float))));

/* The direct DFT folds each frame first.  Every window here is symmetric
 * (w[i] == w[N - i], N = wl), and so are cos and sin up to sign, so with
 *   e[0] = x[0], e[i] = x[i] + x[N - i] (i < N/2), e[N/2] = x[N/2] (N even)
 *   o[i] = x[i] - x[N - i]                 (1 <= i < N/2, i.e. n_odd terms)
 * Re X[k] = sum_i w[i] cos(2 pi k i/N) e[i] over n_even = N/2 + 1 terms and
 * Im X[k] = -sum_i w[i] sin(2 pi k i/N) o[i] over n_odd = (N - 1)/2 terms:
 * half the multiply-adds of the plain DFT. */
static int dft_n_even(int wl) { return wl / 2 + 1; }
static int dft_n_odd(int wl) { return (wl - 1) / 2; }

int enc_spectrogram_dft_init(enc_workspace *ws)
{
    int wl = ws->p.window_length, hop = ws->p.hop, K = wl / 2 + 1, F = ws->img_w;
    int ne = dft_n_even(wl), no = dft_n_odd(wl);   /* imaginary rows: bins 1..no */
    int Fp = (F + ENC_DFT_LANES - 1) / ENC_DFT_LANES * ENC_DFT_LANES;
    int rows = hop < wl ? hop : wl;                 /* phases a tap can fall on */
    int M = Fp + (wl - 1) / hop + 1;
    ws->dft_cols = K + no;
    ws->dft_frames = Fp;
    ws->poly_len = M;
    ws->dft_basis = calloc((size_t)K * ne + (size_t)no * no + 1, sizeof(float));
    ws->dft_tap = malloc(sizeof(int) * (size_t)wl);
    ws->poly = calloc((size_t)rows * (size_t)M, sizeof(float));
    ws->dft_res = calloc((size_t)(K + no) * (size_t)Fp, sizeof(float));
    ws->dft_fold = calloc((size_t)(ne + no) * ENC_DFT_LANES, sizeof(float));
    ws->window = malloc(sizeof(float) * (size_t)wl);
    if (!ws->dft_basis || !ws->dft_tap || !ws->poly || !ws->dft_res || !ws->dft_fold ||
        !ws->window)
        return sg_fail(SG_E_NOMEM, "out of memory for spectrogram buffers");
    enc_spectrogram_window(ws->window, wl, ws->p.window);
    for (int i = 0; i < wl; i++)
        ws->dft_tap[i] = (i % hop) * M + i / hop;
    /* re (K, ne), then im (no, no) for bins 1..no */
    float *re = ws->dft_basis, *im = ws->dft_basis + (size_t)K * ne;
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < ne; i++) {
            double a = 2.0 * M_PI * (double)(((long)k * i) % wl) / (double)wl;
            re[(size_t)k * ne + i] = (float)((double)ws->window[i] * cos(a));
        }
    }
    for (int k = 1; k <= no; k++) {
        for (int i = 1; i <= no; i++) {
            double a = 2.0 * M_PI * (double)(((long)k * i) % wl) / (double)wl;
            im[(size_t)(k - 1) * no + (i - 1)] = (float)(-(double)ws->window[i] * sin(a));
        }
    }
    return 0;
}

/* res rows 0..cols-1 (stride Fp, ENC_DFT_LANES frames from f0) = basis
 * (cols, n) x in (n, lanes).  Four columns at a time, each with two
 * partial sums (even and odd terms) so that eight independent adds are
 * in flight; a leftover column runs alone. */
ENC_HOT static void dft_block(float *restrict res, const float *restrict basis,
                              const float *restrict in, int cols, int n, int Fp)
{
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
        const float *b0 = basis + (size_t)j * n, *b1 = b0 + n, *b2 = b1 + n, *b3 = b2 + n;
        dft_vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        dft_vec c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
        int i = 0;
        for (; i + 2 <= n; i += 2) {
            dft_vec x0, x1;
            memcpy(&x0, in + (size_t)i * ENC_DFT_LANES, sizeof x0);
            memcpy(&x1, in + (size_t)(i + 1) * ENC_DFT_LANES, sizeof x1);
            a0 += b0[i] * x0;
            a1 += b1[i] * x0;
            a2 += b2[i] * x0;
            a3 += b3[i] * x0;
            c0 += b0[i + 1] * x1;
            c1 += b1[i + 1] * x1;
            c2 += b2[i + 1] * x1;
            c3 += b3[i + 1] * x1;
        }
        if (i < n) {
            dft_vec x0;
            memcpy(&x0, in + (size_t)i * ENC_DFT_LANES, sizeof x0);
            a0 += b0[i] * x0;
            a1 += b1[i] * x0;
            a2 += b2[i] * x0;
            a3 += b3[i] * x0;
        }
        a0 += c0;
        a1 += c1;
        a2 += c2;
        a3 += c3;
        float *r = res + (size_t)j * Fp;
        memcpy(r, &a0, sizeof a0);
        memcpy(r + Fp, &a1, sizeof a1);
        memcpy(r + 2 * (size_t)Fp, &a2, sizeof a2);
        memcpy(r + 3 * (size_t)Fp, &a3, sizeof a3);
    }
    for (; j < cols; j++) {
        const float *b0 = basis + (size_t)j * n;
        dft_vec a0 = {0};
        for (int i = 0; i < n; i++) {
            dft_vec x0;
            memcpy(&x0, in + (size_t)i * ENC_DFT_LANES, sizeof x0);
            a0 += b0[i] * x0;
        }
        memcpy(res + (size_t)j * Fp, &a0, sizeof a0);
    }
}

/* res (K + n_odd, Fp): Re X then Im X of bins 1..n_odd for every frame;
 * frame f's tap i is poly[tap[i] + f]. */
ENC_HOT static void dft_frames(float *restrict res, float *restrict fold,
                               const float *restrict basis, const int *restrict tap,
                               const float *restrict poly, int wl, int Fp)
{
    int K = wl / 2 + 1, ne = dft_n_even(wl), no = dft_n_odd(wl);
    float *e = fold, *o = fold + (size_t)ne * ENC_DFT_LANES;   /* (ne, lanes), (no, lanes) */
    for (int f0 = 0; f0 < Fp; f0 += ENC_DFT_LANES) {
        for (int i = 0; i < ne; i++) {
            const float *xi = poly + tap[i] + f0, *xr = poly + tap[(wl - i) % wl] + f0;
            int alone = i == 0 || 2 * i == wl;
            for (int l = 0; l < ENC_DFT_LANES; l++)
                e[(size_t)i * ENC_DFT_LANES + l] = alone ? xi[l] : xi[l] + xr[l];
        }
        for (int i = 1; i <= no; i++) {
            const float *xi = poly + tap[i] + f0, *xr = poly + tap[wl - i] + f0;
            for (int l = 0; l < ENC_DFT_LANES; l++)
                o[(size_t)(i - 1) * ENC_DFT_LANES + l] = xi[l] - xr[l];
        }
        dft_block(res + f0, basis, e, K, ne, Fp);
        dft_block(res + (size_t)K * Fp + f0, basis + (size_t)K * ne, o, no, no, Fp);
    }
}

/* out (K, F), high frequencies on top, from res (K + n_imag, Fp). */
ENC_HOT static void dft_magnitudes(float *restrict out, const float *restrict res, int K,
                                   int n_imag, int F, int Fp, int log_db)
{
    for (int k = 0; k < K; k++) {
        const float *re = res + (size_t)k * Fp;
        float *row = out + (size_t)(K - 1 - k) * F;
        if (k >= 1 && k <= n_imag) {
            const float *im = res + (size_t)(K + k - 1) * Fp;
            for (int f = 0; f < F; f++)
                row[f] = sqrtf(re[f] * re[f] + im[f] * im[f]);
        } else {
            for (int f = 0; f < F; f++)
                row[f] = sqrtf(re[f] * re[f]);
        }
        if (log_db)
            for (int f = 0; f < F; f++)
                row[f] = db_of(row[f] + 1e-6f);
    }
}

/* The direct-DFT path of enc_spectrogram_compute. */
static void spectrogram_dft(float *out, const double *x, int T, const enc_params *p,
                            enc_workspace *ws)
{
    int wl = p->window_length, hop = p->hop, K = wl / 2 + 1, F = ws->img_w;
    int rows = hop < wl ? hop : wl, M = ws->poly_len;
    /* poly (rows, M); samples past the end are 0 and only feed the
     * padding frames beyond F */
    for (int r = 0; r < rows; r++) {
        float *dst = ws->poly + (size_t)r * M;
        for (int m = 0; m < M; m++) {
            long t = (long)m * hop + r;
            dst[m] = t < T ? (float)x[t] : 0.0f;
        }
    }
    dft_frames(ws->dft_res, ws->dft_fold, ws->dft_basis, ws->dft_tap, ws->poly, wl,
               ws->dft_frames);
    dft_magnitudes(out, ws->dft_res, K, dft_n_odd(wl), F, ws->dft_frames, p->log_db);
}

int enc_spectrogram_compute(float *out, const double *x, int T, const enc_params *p,
                            enc_workspace *ws)
{
    if (T != ws->T || ws->p.kind != ENC_SPECTROGRAM || (!ws->plan && !ws->dft_basis) ||
        p->window_length != ws->p.window_length || p->hop != ws->p.hop)
        return sg_fail(SG_E_INVALID, "spectrogram: workspace made for another encoder or length");
    if (ws->dft_basis) {
        spectrogram_dft(out, x, T, p, ws);
        return 0;
    }
    int wl = p->window_length, hop = p->hop;
    int K = wl / 2 + 1, F = ws->img_w;
    /* fft_in is (F, wl) windowed frames; one batched transform */
    for (int f = 0; f < F; f++) {
        const double *frame = x + (size_t)f * hop;
        float *dst = ws->fft_in + (size_t)f * wl;
        for (int i = 0; i < wl; i++)
            dst[i] = (float)frame[i] * ws->window[i];
    }
    fftwf_execute(ws->plan);
    float *mag = ws->f1;    /* (F, K) */
    spectrum_magnitude(mag, ws->fft_out, (size_t)F * K, p->log_db);
    for (int f = 0; f < F; f++)
        for (int k = 0; k < K; k++)
            out[(size_t)(K - 1 - k) * F + f] = mag[(size_t)f * K + k];   /* high on top */
    return 0;
}
