/* enc_spectrogram.c - short-time Fourier magnitude, one image per channel.
 *
 * Frames of window_length samples every hop samples (no padding, so
 * frames = 1 + (T - window_length) / hop), multiplied by a periodic
 * window (hann, hamming, blackman or rectangular, as torch's *_window
 * defaults), one FFTW single-precision r2c transform per frame with the
 * plan made once per workspace.  out is (window_length/2 + 1, frames) with
 * row 0 the HIGHEST frequency, so low frequencies sit at the bottom of
 * the picture; values are |X| or 20 log10(|X| + 1e-6) dB.
 */
#include "enc_internal.h"
#include "sg_error.h"

#include <math.h>

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

int enc_spectrogram_compute(float *out, const double *x, int T, const enc_params *p,
                            enc_workspace *ws)
{
    if (T != ws->T || ws->p.kind != ENC_SPECTROGRAM || !ws->plan ||
        p->window_length != ws->p.window_length)
        return sg_fail(SG_E_INVALID, "spectrogram: workspace made for another encoder or length");
    int wl = p->window_length, hop = p->hop;
    int K = wl / 2 + 1, F = ws->img_w;
    for (int f = 0; f < F; f++) {
        const double *frame = x + (size_t)f * hop;
        for (int i = 0; i < wl; i++)
            ws->fft_in[i] = (float)frame[i] * ws->window[i];
        fftwf_execute(ws->plan);
        for (int k = 0; k < K; k++) {
            float re = ws->fft_out[k][0], im = ws->fft_out[k][1];
            float mag = sqrtf(re * re + im * im);
            float v = p->log_db ? 20.0f * log10f(mag + 1e-6f) : mag;
            out[(size_t)(K - 1 - k) * F + f] = v;   /* high frequencies on top */
        }
    }
    return 0;
}
