/* enc_gray.c - gray stacking: each channel is one pixel row.
 *
 * Values are min-max scaled to [0, 1] with min/max taken per channel
 * over the fitted dataset (scope dataset, the fastai article's choice),
 * over all channels of the segment (scope segment), or per channel
 * within the segment (scope axis).  Values outside a fitted range are
 * clamped; a zero range maps to 0 instead of dividing by zero.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

static void scale_row(float *out, const double *x, int T, double mn, double mx)
{
    double range = mx - mn;
    if (!(range > 0.0)) {
        for (int t = 0; t < T; t++)
            out[t] = 0.0f;
        return;
    }
    double inv = 1.0 / range;
    for (int t = 0; t < T; t++) {
        double v = (x[t] - mn) * inv;
        out[t] = (float)(v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v));
    }
}

static void row_min_max(const double *x, int T, double *mn, double *mx)
{
    double lo = x[0], hi = x[0];
    for (int t = 1; t < T; t++) {
        lo = x[t] < lo ? x[t] : lo;
        hi = x[t] > hi ? x[t] : hi;
    }
    *mn = lo;
    *mx = hi;
}

int enc_gray_compute(float *out, const double *x, int C, int T, const enc_params *p,
                     const double *fit_min, const double *fit_max)
{
    double mn, mx;
    switch (p->scope) {
    case ENC_SCOPE_DATASET:
        if (!fit_min || !fit_max)
            return sg_fail(SG_E_INVALID,
                           "gray: scope dataset needs a fit (enc_fit_create or a saved fit)");
        for (int c = 0; c < C; c++)
            scale_row(out + (size_t)c * T, x + (size_t)c * T, T, fit_min[c], fit_max[c]);
        return 0;
    case ENC_SCOPE_SEGMENT:
        row_min_max(x, C * T, &mn, &mx);
        for (int c = 0; c < C; c++)
            scale_row(out + (size_t)c * T, x + (size_t)c * T, T, mn, mx);
        return 0;
    case ENC_SCOPE_AXIS:
        for (int c = 0; c < C; c++) {
            row_min_max(x + (size_t)c * T, T, &mn, &mx);
            scale_row(out + (size_t)c * T, x + (size_t)c * T, T, mn, mx);
        }
        return 0;
    }
    return sg_fail(SG_E_INVALID, "gray: unknown scope %d", (int)p->scope);
}
