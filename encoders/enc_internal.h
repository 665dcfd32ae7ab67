/* enc_internal.h - private pieces shared by the encoder files.
 *
 * Not installed and not for other modules: the workspace layout, pyts's
 * segmentation and PAA, numpy's percentile, KBinsDiscretizer's edges,
 * and the layout step.  Everything here works on caller-owned memory.
 */
#ifndef SG_ENC_INTERNAL_H
#define SG_ENC_INTERNAL_H

#include "encoders/enc.h"

#include <fftw3.h>

/* Hot image loops get an AVX2 clone picked at load time (ifunc) on
 * x86-64 with GCC; other targets use the one portable build. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ENC_HOT __attribute__((target_clones("avx2", "default")))
#else
#define ENC_HOT
#endif

struct enc_workspace {
    enc_params p;
    int C, T;
    int img_h, img_w;       /* one channel's image */
    int size;               /* gaf/mtf side */
    int *seg_start;         /* size entries: PAA / MTF block bounds */
    int *seg_end;
    int seg_overlapping;    /* the overlapping flag seg_* were made for;
                             * -1: not made yet (see enc_workspace_segments) */
    double *xd;             /* (C, T) scratch: gray rgb rows (as floats) */
    double *d1, *d2;        /* T doubles each: PAA, cos, sin, sorted copy */
    float *f1, *f2;         /* T floats each: cos and sin for the tight loop */
    double *dist;           /* rp: (n, n) distances */
    double *sel;            /* rp: n*(n-1)/2 upper triangle for selection */
    float *img;             /* jrp: one channel's image; layouts: (C, H, W) */
    float *tiles;           /* (C, H, W) before mosaic/rgb */
    int *bins;              /* mtf: T bin indices */
    double *mtm;            /* mtf: (n_bins, n_bins) transition matrix */
    float *rows;            /* mtf: (n_bins, S) per-bin rows / block fractions */
    float *pm;              /* mtf: (S, n_bins) block-to-bin mix */
    float *fft_in;          /* spectrogram: window_length */
    fftwf_complex *fft_out; /* spectrogram: window_length/2 + 1 */
    float *window;          /* spectrogram: window_length coefficients */
    fftwf_plan plan;        /* spectrogram: FFTW path (long windows) */
    /* spectrogram, direct-DFT path (window_length <= ENC_DFT_MAX_WL):
     * the windowed DFT as a (dft_cols, wl) basis times the frames */
    int dft_cols;           /* K real rows, then the imaginary ones */
    int dft_frames;         /* frames rounded up to the vector width */
    int poly_len;           /* samples per polyphase row */
    float *dft_basis;       /* folded window * cos, then -window * sin */
    float *dft_fold;        /* folded samples of 8 frames */
    int *dft_tap;           /* wl: offset of tap i into poly */
    float *poly;            /* (hop, poly_len): poly[r][m] = x[m * hop + r] */
    float *dft_res;         /* (dft_cols, dft_frames) */
};

/* Windows up to this length use the direct DFT (wl^2 multiply-adds per
 * frame, vectorized across frames) instead of FFTW: for short windows
 * FFTW's per-frame codelet calls cost more than the arithmetic. */
#define ENC_DFT_MAX_WL 64
/* frames are processed ENC_DFT_LANES at a time (one 8-float vector) */
#define ENC_DFT_LANES 8

/* Allocates and fills the direct-DFT basis and buffers of a spectrogram
 * workspace (enc_spectrogram.c); enc_workspace_free releases them. */
int enc_spectrogram_dft_init(enc_workspace *ws);

/* pyts's segmentation (pyts.utils.segmentation with window_size derived
 * from n_segments like PAA does): fills start/end (S each) for T samples
 * split into S windows.  S == T gives the identity windows. */
void enc_segments(int *start, int *end, int T, int S, int overlapping);

/* Makes ws->seg_start/seg_end (ws->size windows of ws->T samples) for
 * overlapping unless they already are: they depend only on the
 * workspace's shape, so each workspace computes them once. */
void enc_workspace_segments(enc_workspace *ws, int overlapping);

/* PAA of x (T) with windows start/end (S) into out (S), each the mean. */
void enc_paa(double *out, const double *x, const int *start, const int *end, int S);

/* numpy.percentile(..., method='linear') of sorted (n values, ascending)
 * at q in [0, 100]. */
double enc_percentile_sorted(const double *sorted, size_t n, double q);

/* Sorts n doubles ascending in place (no allocation). */
void enc_sort_doubles(double *v, size_t n);

/* The k-th smallest (0-based) of v (n values), reordering v in place. */
double enc_select_kth(double *v, size_t n, size_t k);

/* KBinsDiscretizer's edges for one series x (T): writes up to n_bins - 1
 * edges to edges and returns how many remain (quantile drops equal ones
 * as pyts does).  sorted is T doubles of scratch. */
int enc_bin_edges(double *edges, const double *x, int T, int n_bins,
                  enc_strategy strategy, double *sorted);

/* np.digitize(x, edges, right=True): the number of edges below v. */
static inline int enc_digitize(double v, const double *edges, int n_edges)
{
    int b = 0;
    while (b < n_edges && edges[b] < v)
        b++;
    return b;
}

/* Rejects non-finite values in x (C, T) with SG_E_NUMERIC naming where. */
int enc_check_finite(const double *x, int C, int T);

/* Gray image of x (C, T) into out (C, T), with fitted per-channel
 * min/max (NULL unless scope is dataset). */
int enc_gray_compute(float *out, const double *x, int C, int T,
                     const enc_params *p, const double *fit_min,
                     const double *fit_max);

/* Fills w (n) with the periodic window of the given kind. */
void enc_spectrogram_window(float *w, int n, enc_window kind);

/* Arranges tiles (C, H, W) into out per layout (enc_output_shape). */
void enc_layout_apply(float *out, const float *tiles, int C, int H, int W,
                      enc_layout layout);

/* Fitted state accessors (enc_fit.c): NULL when the fit holds none. */
const double *enc_fit_gray_min(const enc_fit *fit);
const double *enc_fit_gray_max(const enc_fit *fit);
const double *enc_fit_mtf_edges(const enc_fit *fit, int channel, int *n_edges);

#endif
