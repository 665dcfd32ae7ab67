/* enc_spectrogram.c - short-time Fourier magnitude, one image per channel.
 *
 * Frames of window_length samples every hop samples (no padding, so
 * frames = 1 + (T - window_length) / hop), multiplied by a periodic
 * window (hann, hamming, blackman or rectangular, as torch's *_window
 * defaults), then one batched FFTW single-precision r2c transform over
 * all frames with the plan made once per workspace.  out is (window_length/2 + 1, frames) with
 * row 0 the HIGHEST frequency, so low frequencies sit at the bottom of
 * the picture; values are |X| or 20 log10(|X| + 1e-6) dB.
 */
#include "enc_internal.h"
#include "sg_error.h"

#include <math.h>
#include <stdint.h>
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

int enc_spectrogram_compute(float *out, const double *x, int T, const enc_params *p,
                            enc_workspace *ws)
{
    if (T != ws->T || ws->p.kind != ENC_SPECTROGRAM || !ws->plan ||
        p->window_length != ws->p.window_length || p->hop != ws->p.hop)
        return sg_fail(SG_E_INVALID, "spectrogram: workspace made for another encoder or length");
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
