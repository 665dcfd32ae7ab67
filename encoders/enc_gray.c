/* enc_gray.c - gray stacking: each channel is one pixel row.
 *
 * Values are min-max scaled to [0, 1] with min/max taken per channel
 * over the fitted dataset (scope dataset, the fastai article's choice),
 * over all channels of the segment (scope segment), or per channel
 * within the segment (scope axis).  Values outside a fitted range are
 * clamped; a zero range maps to 0 instead of dividing by zero.
 *
 * gray does one multiply per value, so a separate finiteness pass (what
 * enc_encode runs before the other encoders) would cost more than the
 * encoding: the check is fused into the scaling loop instead (a value is
 * finite iff its scaled value is, for a finite range), and only a failed
 * check walks the input again to name the bad value.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <float.h>
#include <stdint.h>
#include <math.h>

/* Scales one row; returns nonzero when a value (or the range) is not
 * finite.  Vectorized (AVX2 clone) only because the clamps are plain
 * selects and the Makefile builds this file with -fno-trapping-math. */
ENC_HOT static int scale_row(float *restrict out, const double *restrict x, int T, double mn,
                             double mx)
{
    double range = mx - mn;
    int bad = 0;
    if (!(range > 0.0) || !(range <= DBL_MAX)) {
        for (int t = 0; t < T; t++) {
            out[t] = 0.0f;
            bad |= !(fabs(x[t]) <= DBL_MAX);
        }
        return bad | !(fabs(mn) <= DBL_MAX);
    }
    double inv = 1.0 / range;
    /* The flag is as wide as a double: a 64-bit compare mask ORs into it
     * lane for lane, where an int flag costs shuffles to narrow each mask
     * (perf: those shuffles were a third of the loop's instructions). */
    int64_t bad64 = 0;
    for (int t = 0; t < T; t++) {
        double v = (x[t] - mn) * inv;
        bad64 |= (int64_t) !(fabs(v) <= DBL_MAX);
        /* clamped after the narrowing: eight floats a vector, not four
         * doubles (the same result: [0, 1]'s ends are exact in both) */
        float f = (float)v;
        f = f > 0.0f ? f : 0.0f;   /* NaN never gets here unflagged */
        out[t] = f < 1.0f ? f : 1.0f;
    }
    return bad64 != 0;
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
    int bad = 0;
    switch (p->scope) {
    case ENC_SCOPE_DATASET:
        if (!fit_min || !fit_max)
            return sg_fail(SG_E_INVALID,
                           "gray: scope dataset needs a fit (enc_fit_create or a saved fit)");
        for (int c = 0; c < C; c++)
            bad |= scale_row(out + (size_t)c * T, x + (size_t)c * T, T, fit_min[c], fit_max[c]);
        break;
    case ENC_SCOPE_SEGMENT:
        row_min_max(x, C * T, &mn, &mx);
        for (int c = 0; c < C; c++)
            bad |= scale_row(out + (size_t)c * T, x + (size_t)c * T, T, mn, mx);
        break;
    case ENC_SCOPE_AXIS:
        for (int c = 0; c < C; c++) {
            row_min_max(x + (size_t)c * T, T, &mn, &mx);
            bad |= scale_row(out + (size_t)c * T, x + (size_t)c * T, T, mn, mx);
        }
        break;
    default:
        return sg_fail(SG_E_INVALID, "gray: unknown scope %d", (int)p->scope);
    }
    if (bad) {
        /* name the value; a fitted range that is not finite is the fit's fault */
        int rc = enc_check_finite(x, C, T);
        return rc ? rc : sg_fail(SG_E_NUMERIC, "gray: the fitted min/max are not finite");
    }
    return 0;
}
