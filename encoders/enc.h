/* enc.h - time-series-to-image encoders (the public manual).
 *
 * Every encoder turns one segment x of C channels x T samples, stored
 * row-major as (C, T) doubles, into one float image of shape (OC, OH, OW)
 * written to a caller-owned buffer.  Parameter names and defaults follow
 * pyts 0.13 (GramianAngularField, MarkovTransitionField, RecurrencePlot,
 * JointRecurrencePlot) so that a user moving from pyts/tsai gets the same
 * image; the conformance suite in tests/ checks this to 1e-5.
 *
 * Encoders:
 *   gray         one pixel row per channel, time left to right, min-max
 *                scaled to [0,1] (dataset-wide by default: needs a fit)
 *   rp           recurrence plot per channel
 *   jrp          joint recurrence plot over all C channels (one image)
 *   gasf, gadf   Gramian angular summation/difference field per channel
 *   mtf          Markov transition field per channel
 *   spectrogram  FFTW (single precision) short-time magnitude per channel,
 *                low frequencies at the bottom
 *
 * Output sizes (per encoded channel, before layout):
 *   gray         (C, T) as one image (rgb layout: 3 x (C/3, T))
 *   rp, jrp      n x n with n = T - (dimension - 1) * time_delay
 *   gasf/gadf/mtf  image_size x image_size (image_size 0: ceil(frac * T))
 *   spectrogram  (window_length/2 + 1) x (1 + (T - window_length)/hop);
 *                row 0 is the highest frequency, the last row DC
 *
 * Degenerate input (pyts raises or divides by zero; we never write NaN):
 *   gasf/gadf    a constant segment scales to sample_range's low end, as
 *                sklearn's MinMaxScaler does (range 0 treated as 1): cos
 *                is lo everywhere, so with (-1, 1) gasf is 1 and gadf 0
 *   mtf          a constant segment puts every sample into bin 0: every
 *                transition stays there and the field is 1 everywhere
 *   gray         a constant channel (or fitted min == max) maps to 0
 *   rp           no special case (all distances 0)
 *   spectrogram  magnitude 0 gives 20*log10(1e-6) = -120 dB
 *
 * Precision: inputs are double from the parse on (datasets/ keep the
 * values as read), and every pyts-relevant step (PAA, scaling, distances,
 * percentiles, bin edges, comparisons) runs in double, as pyts does in
 * float64; only the final image is rounded to float.  A posture axis
 * varies by 0.01 around 9.8, so one float rounding of the input would
 * already move a GAF pixel by 1e-3 and a percentile threshold across ties.
 *
 * Layout of a multi-channel result:
 *   channels     one image channel per encoded channel (C x H x W)
 *   mosaic       channel images tiled row-major into one gray image
 *   rgb          channels taken three at a time (x, y, z of one sensor) as
 *                R, G, B; several sensors are tiled like mosaic
 *
 * Thread safety: enc_encode only touches its workspace and output, so
 * threads may encode concurrently with one workspace each.  Workspace
 * creation (FFTW planning) is serialized internally where FFTW needs it.
 */
#ifndef SG_ENC_H
#define SG_ENC_H

#include <stddef.h>

typedef enum enc_kind {
    ENC_GRAY,
    ENC_RP,
    ENC_JRP,
    ENC_GASF,
    ENC_GADF,
    ENC_MTF,
    ENC_SPECTROGRAM,
} enc_kind;

typedef enum enc_layout {
    ENC_LAYOUT_CHANNELS,
    ENC_LAYOUT_MOSAIC,
    ENC_LAYOUT_RGB,
} enc_layout;

/* RecurrencePlot threshold: pyts's None, 'point', 'distance', or a float. */
typedef enum enc_threshold {
    ENC_THRESHOLD_NONE,
    ENC_THRESHOLD_POINT,
    ENC_THRESHOLD_DISTANCE,
    ENC_THRESHOLD_VALUE,
} enc_threshold;

typedef enum enc_strategy {
    ENC_STRATEGY_QUANTILE,
    ENC_STRATEGY_UNIFORM,
    ENC_STRATEGY_NORMAL,
} enc_strategy;

/* Where gray's min/max come from. */
typedef enum enc_scope {
    ENC_SCOPE_DATASET, /* per channel over the whole fitted data (fastai article) */
    ENC_SCOPE_SEGMENT, /* over all channels of one segment */
    ENC_SCOPE_AXIS,    /* per channel within one segment */
} enc_scope;

typedef enum enc_window {
    ENC_WINDOW_HANN,
    ENC_WINDOW_HAMMING,
    ENC_WINDOW_BLACKMAN,
    ENC_WINDOW_RECTANGULAR,
} enc_window;

typedef struct enc_params {
    enc_kind kind;
    enc_layout layout;

    /* gasf, gadf, mtf: output side.  image_size > 0 is a pixel count;
     * image_size == 0 uses image_size_frac (0, 1] of T (pyts's float). */
    int image_size;
    double image_size_frac;
    int overlapping;          /* PAA windows may overlap (pyts) */

    /* gasf, gadf */
    int sample_range_none;    /* 1: pyts sample_range=None */
    double sample_range[2];   /* default (-1, 1) */

    /* mtf */
    int n_bins;               /* default 5 */
    enc_strategy strategy;    /* default quantile */
    int mtf_fitted;           /* 1: bin edges fitted per channel on the
                               * dataset (enc_fit); 0 (default): pyts's
                               * per-segment discretization */

    /* rp, jrp */
    int dimension;            /* default 1 */
    int time_delay;           /* default 1 */
    enc_threshold threshold;  /* default none */
    double threshold_value;   /* for ENC_THRESHOLD_VALUE */
    double percentage;        /* default 10 */

    /* spectrogram */
    int window_length;        /* samples, default 32 */
    int hop;                  /* samples, default 4 */
    enc_window window;        /* default hann */
    int log_db;               /* 1: 20*log10(|X| + eps) in dB (default) */

    /* gray */
    enc_scope scope;          /* default dataset */
} enc_params;

/* Fills p with pyts's defaults for kind (and ours for gray/spectrogram). */
void enc_params_default(enc_params *p, enc_kind kind);

/* Parses an encoder name ("gray", "rp", "jrp", "gasf", "gadf", "mtf",
 * "spectrogram"); returns SG_E_INVALID with a message listing the names. */
int enc_kind_parse(enc_kind *out, const char *name);

/* The canonical name of kind (static string). */
const char *enc_kind_name(enc_kind kind);

/* Checks p against an input of C channels x T samples (segment too short
 * for dimension/time_delay, image_size larger than T, ...).  Returns 0 or
 * SG_E_INVALID with a message. */
int enc_params_check(const enc_params *p, int C, int T);

/* Computes the output shape for C x T input (after layout). */
int enc_output_shape(const enc_params *p, int C, int T, int *oc, int *oh, int *ow);

/* The range [lo, hi] the float output can take, used to map values to
 * PNG pixels (e.g. gasf [-1, 1], mtf [0, 1]).  For unbounded outputs
 * (unthresholded rp, spectrogram in dB) *bounded is 0 and each image is
 * min-max scaled when written as PNG. */
void enc_value_range(const enc_params *p, double *lo, double *hi, int *bounded);

/* State fitted on training data so that other data is encoded the same
 * way: gray's per-channel min/max, mtf's per-channel bin edges. */
typedef struct enc_fit enc_fit;

/* Fits on n segments x (n, C, T) row-major doubles.  The result is owned by the
 * caller and released with enc_fit_free.  Encoders without fitted state
 * return a valid, empty fit. */
int enc_fit_create(enc_fit **out, const enc_params *p, const double *x,
                   size_t n, int C, int T);

/* Writes the fit as JSON (atomically) to path. */
int enc_fit_save(const enc_fit *fit, const char *path);

/* Reads a fit written by enc_fit_save; checks the encoder and C match. */
int enc_fit_load(enc_fit **out, const char *path, const enc_params *p, int C);

/* Frees a fit; accepts NULL. */
void enc_fit_free(enc_fit *fit);

/* Per-thread scratch space and FFTW plans for one (params, C, T). */
typedef struct enc_workspace enc_workspace;

/* Creates a workspace; the caller owns it (enc_workspace_free). */
int enc_workspace_create(enc_workspace **out, const enc_params *p, int C, int T);

/* Frees a workspace; accepts NULL. */
void enc_workspace_free(enc_workspace *ws);

/* Encodes x (C, T) into out (OC, OH, OW) as given by enc_output_shape.
 * fit may be NULL except for gray with ENC_SCOPE_DATASET and for a
 * dataset-fitted mtf.  Constant or degenerate input never produces NaN:
 * each encoder documents what it writes instead.  Non-finite input is
 * rejected with SG_E_NUMERIC. */
int enc_encode(float *out, const double *x, int C, int T, const enc_params *p,
               const enc_fit *fit, enc_workspace *ws);

/* --- per-encoder compute functions ---------------------------------------
 * Each writes ONE image (the per-channel image before layout) to out and
 * uses ws's scratch (ws must have been created for the same params and a
 * T at least as long); x is a double series owned by the caller. */

/* GAF of x (T) into out (S, S), S = image size: PAA, per-sample min-max
 * scaling to sample_range, then cos/sin outer products (gasf or gadf). */
int enc_gaf_compute(float *out, const double *x, int T, const enc_params *p,
                    enc_workspace *ws);

/* MTF of x (T) into out (S, S).  edges (n_edges <= n_bins - 1 increasing
 * values, caller-owned) are dataset-fitted bin edges, or NULL for pyts's
 * per-segment edges. */
int enc_mtf_compute(float *out, const double *x, int T, const enc_params *p,
                    const double *edges, int n_edges, enc_workspace *ws);

/* Recurrence plot of x (T) into out (n, n). */
int enc_rp_compute(float *out, const double *x, int T, const enc_params *p,
                   enc_workspace *ws);

/* Joint recurrence plot of x (C, T) into out (n, n): the element-wise
 * product of the C per-channel recurrence plots (pyts). */
int enc_jrp_compute(float *out, const double *x, int C, int T,
                    const enc_params *p, enc_workspace *ws);

/* Spectrogram of x (T) into out (window_length/2 + 1, frames). */
int enc_spectrogram_compute(float *out, const double *x, int T,
                            const enc_params *p, enc_workspace *ws);

/* The inverse standard normal CDF (scipy's norm.ppf) to double precision,
 * for p in (0, 1); 0 and 1 give -inf and +inf. */
double enc_norm_ppf(double p);

/* pyts's PiecewiseAggregateApproximation(output_size=S) of each of the
 * n rows of x (n, T) into out (n, S), 1 <= S <= T: the mean of each of S
 * overlapping windows, bounds as pyts's segmentation.  For series too
 * long to encode at full length (src/train/series_length.h). */
int enc_paa_rows(double *out, const double *x, size_t n, int T, int S);

/* The per-channel image side/height and width for params and T
 * (before layout); SG_E_INVALID as enc_params_check. */
int enc_image_shape(const enc_params *p, int C, int T, int *h, int *w);

#endif
