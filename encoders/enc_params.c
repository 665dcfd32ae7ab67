/* enc_params.c - encoder parameters: defaults, names, checks and shapes.
 *
 * Defaults follow pyts 0.13 (GramianAngularField, MarkovTransitionField
 * with n_bins 5, RecurrencePlot); gray and spectrogram are ours.  The
 * checks mirror pyts's _check_params so that anything pyts rejects is
 * rejected here with a message, before any data is touched.
 */
#include "encoders/enc.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {
    [ENC_GRAY] = "gray", [ENC_RP] = "rp",     [ENC_JRP] = "jrp",
    [ENC_GASF] = "gasf", [ENC_GADF] = "gadf", [ENC_MTF] = "mtf",
    [ENC_SPECTROGRAM] = "spectrogram",
};
enum { N_KINDS = (int)(sizeof kind_names / sizeof kind_names[0]) };

void enc_params_default(enc_params *p, enc_kind kind)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->layout = ENC_LAYOUT_CHANNELS;
    p->image_size = 0;
    p->image_size_frac = 1.0;
    p->overlapping = 0;
    p->sample_range_none = 0;
    p->sample_range[0] = -1.0;
    p->sample_range[1] = 1.0;
    p->n_bins = 5;
    p->strategy = ENC_STRATEGY_QUANTILE;
    p->mtf_fitted = 0;
    p->dimension = 1;
    p->time_delay = 1;
    p->threshold = ENC_THRESHOLD_NONE;
    p->threshold_value = 0.0;
    p->percentage = 10.0;
    p->window_length = 32;
    p->hop = 4;
    p->window = ENC_WINDOW_HANN;
    p->log_db = 1;
    p->scope = ENC_SCOPE_DATASET;
}

int enc_kind_parse(enc_kind *out, const char *name)
{
    for (int k = 0; k < N_KINDS; k++) {
        if (name && strcasecmp(name, kind_names[k]) == 0) {
            *out = (enc_kind)k;
            return 0;
        }
    }
    return sg_fail(SG_E_INVALID,
                   "unknown encoder '%s' (expected gray, rp, jrp, gasf, gadf, mtf or spectrogram)",
                   name ? name : "(null)");
}

const char *enc_kind_name(enc_kind kind)
{
    if ((int)kind < 0 || (int)kind >= N_KINDS)
        return "unknown";
    return kind_names[kind];
}

/* The gaf/mtf side: an int image_size, or ceil(frac * T) like pyts. */
static int resolve_image_size(const enc_params *p, int T, int *size)
{
    if (p->image_size > 0) {
        if (p->image_size > T)
            return sg_fail(SG_E_INVALID, "%s: image_size %d is larger than the series (%d samples)",
                           enc_kind_name(p->kind), p->image_size, T);
        *size = p->image_size;
    } else if (p->image_size == 0) {
        if (!(p->image_size_frac > 0.0 && p->image_size_frac <= 1.0))
            return sg_fail(SG_E_INVALID, "%s: image_size fraction must be in (0, 1] (got %g)",
                           enc_kind_name(p->kind), p->image_size_frac);
        *size = (int)ceil(p->image_size_frac * T);
    } else {
        return sg_fail(SG_E_INVALID, "%s: image_size must be positive (got %d)",
                       enc_kind_name(p->kind), p->image_size);
    }
    /* pyts's segmentation needs at least two windows unless PAA is a no-op */
    if (*size < 2 && *size != T)
        return sg_fail(SG_E_INVALID, "%s: image_size must be at least 2 (got %d)",
                       enc_kind_name(p->kind), *size);
    return 0;
}

static int check_rp(const enc_params *p, int T)
{
    if (p->dimension < 1 || p->dimension > T)
        return sg_fail(SG_E_INVALID, "%s: dimension must be in [1, %d] (got %d)",
                       enc_kind_name(p->kind), T, p->dimension);
    if (p->time_delay < 1 || p->time_delay > T)
        return sg_fail(SG_E_INVALID, "%s: time_delay must be in [1, %d] (got %d)",
                       enc_kind_name(p->kind), T, p->time_delay);
    if ((long)T - (long)(p->dimension - 1) * p->time_delay < 1)
        return sg_fail(SG_E_INVALID,
                       "%s: series of %d samples too short for dimension %d and time_delay %d",
                       enc_kind_name(p->kind), T, p->dimension, p->time_delay);
    switch (p->threshold) {
    case ENC_THRESHOLD_NONE:
        break;
    case ENC_THRESHOLD_POINT:
    case ENC_THRESHOLD_DISTANCE:
        if (!(p->percentage >= 0.0 && p->percentage <= 100.0))
            return sg_fail(SG_E_INVALID, "%s: percentage must be in [0, 100] (got %g)",
                           enc_kind_name(p->kind), p->percentage);
        break;
    case ENC_THRESHOLD_VALUE:
        if (!(p->threshold_value > 0.0) || !isfinite(p->threshold_value))
            return sg_fail(SG_E_INVALID, "%s: threshold must be a positive number (got %g)",
                           enc_kind_name(p->kind), p->threshold_value);
        break;
    default:
        return sg_fail(SG_E_INVALID, "%s: unknown threshold mode %d", enc_kind_name(p->kind),
                       (int)p->threshold);
    }
    return 0;
}

int enc_image_shape(const enc_params *p, int C, int T, int *h, int *w)
{
    int size;
    enc_params q = *p;
    q.layout = ENC_LAYOUT_CHANNELS;    /* one channel's image: layout aside */
    int rc = enc_params_check(&q, C, T);
    if (rc)
        return rc;
    switch (p->kind) {
    case ENC_GRAY:
        *h = C;
        *w = T;
        return 0;
    case ENC_RP:
    case ENC_JRP:
        *h = *w = T - (p->dimension - 1) * p->time_delay;
        return 0;
    case ENC_GASF:
    case ENC_GADF:
    case ENC_MTF:
        rc = resolve_image_size(p, T, &size);
        if (rc)
            return rc;
        *h = *w = size;
        return 0;
    case ENC_SPECTROGRAM:
        *h = p->window_length / 2 + 1;
        *w = 1 + (T - p->window_length) / p->hop;
        return 0;
    }
    return sg_fail(SG_E_INVALID, "unknown encoder kind %d", (int)p->kind);
}

int enc_params_check(const enc_params *p, int C, int T)
{
    int size;
    if (!p)
        return sg_fail(SG_E_INVALID, "encoder parameters missing");
    if (C < 1 || T < 1)
        return sg_fail(SG_E_INVALID, "%s: input must have at least one channel and sample (got %d x %d)",
                       enc_kind_name(p->kind), C, T);
    if ((int)p->layout < 0 || (int)p->layout > ENC_LAYOUT_RGB)
        return sg_fail(SG_E_INVALID, "unknown layout %d", (int)p->layout);
    if (p->layout == ENC_LAYOUT_RGB && C % 3 != 0)
        return sg_fail(SG_E_INVALID, "%s: rgb layout needs a multiple of 3 channels (got %d)",
                       enc_kind_name(p->kind), C);
    switch (p->kind) {
    case ENC_GRAY:
        if ((int)p->scope < 0 || (int)p->scope > ENC_SCOPE_AXIS)
            return sg_fail(SG_E_INVALID, "gray: unknown scope %d", (int)p->scope);
        return 0;
    case ENC_RP:
        return check_rp(p, T);
    case ENC_JRP:
        if (p->layout == ENC_LAYOUT_RGB)
            return sg_fail(SG_E_INVALID, "jrp: one joint image per segment; rgb layout does not apply");
        return check_rp(p, T);
    case ENC_GASF:
    case ENC_GADF:
        if (T < 2)
            return sg_fail(SG_E_INVALID, "%s: series must have at least 2 samples (got %d)",
                           enc_kind_name(p->kind), T);
        if (!p->sample_range_none &&
            !(-1.0 <= p->sample_range[0] && p->sample_range[0] < p->sample_range[1] &&
              p->sample_range[1] <= 1.0))
            return sg_fail(SG_E_INVALID,
                           "%s: sample_range must satisfy -1 <= lo < hi <= 1 (got %g, %g)",
                           enc_kind_name(p->kind), p->sample_range[0], p->sample_range[1]);
        return resolve_image_size(p, T, &size);
    case ENC_MTF:
        if (T < 2)
            return sg_fail(SG_E_INVALID, "mtf: series must have at least 2 samples (got %d)", T);
        if (p->n_bins < 2 || p->n_bins > T)
            return sg_fail(SG_E_INVALID, "mtf: n_bins must be in [2, %d] (got %d)", T, p->n_bins);
        if ((int)p->strategy < 0 || (int)p->strategy > ENC_STRATEGY_NORMAL)
            return sg_fail(SG_E_INVALID, "mtf: unknown strategy %d", (int)p->strategy);
        return resolve_image_size(p, T, &size);
    case ENC_SPECTROGRAM:
        if (p->window_length < 2 || p->window_length > T)
            return sg_fail(SG_E_INVALID,
                           "spectrogram: window_length must be in [2, %d] (the series length), got %d",
                           T, p->window_length);
        if (p->hop < 1)
            return sg_fail(SG_E_INVALID, "spectrogram: hop must be at least 1 (got %d)", p->hop);
        if ((int)p->window < 0 || (int)p->window > ENC_WINDOW_RECTANGULAR)
            return sg_fail(SG_E_INVALID, "spectrogram: unknown window %d", (int)p->window);
        return 0;
    }
    return sg_fail(SG_E_INVALID, "unknown encoder kind %d", (int)p->kind);
}

int enc_output_shape(const enc_params *p, int C, int T, int *oc, int *oh, int *ow)
{
    int h = 0, w = 0;
    int rc = enc_image_shape(p, C, T, &h, &w);
    if (rc)
        return rc;
    if (p->kind == ENC_GRAY) {
        /* one image whose rows are the channels; rgb puts x, y, z in colour */
        *oc = p->layout == ENC_LAYOUT_RGB ? 3 : 1;
        *oh = p->layout == ENC_LAYOUT_RGB ? C / 3 : C;
        *ow = T;
        return 0;
    }
    int n = p->kind == ENC_JRP ? 1 : C;    /* images before layout */
    if (p->layout == ENC_LAYOUT_CHANNELS) {
        *oc = n;
        *oh = h;
        *ow = w;
        return 0;
    }
    int tiles = p->layout == ENC_LAYOUT_RGB ? n / 3 : n;
    int cols = (int)ceil(sqrt((double)tiles));
    int rows = (tiles + cols - 1) / cols;
    *oc = p->layout == ENC_LAYOUT_RGB ? 3 : 1;
    *oh = rows * h;
    *ow = cols * w;
    return 0;
}

void enc_value_range(const enc_params *p, double *lo, double *hi, int *bounded)
{
    *lo = 0.0;
    *hi = 1.0;
    *bounded = 1;
    switch (p->kind) {
    case ENC_GRAY:
    case ENC_MTF:
        break;
    case ENC_GASF:
    case ENC_GADF:
        *lo = -1.0;
        break;
    case ENC_RP:
    case ENC_JRP:
        if (p->threshold == ENC_THRESHOLD_NONE)
            *bounded = 0;
        break;
    case ENC_SPECTROGRAM:
        *bounded = 0;
        break;
    }
}
