/* enc_gaf.c - Gramian angular summation/difference fields (pyts GAF).
 *
 * PAA down to the image side, per-sample min-max scaling to sample_range
 * exactly as sklearn's MinMaxScaler (range below 10 eps counts as 1, so a
 * constant segment maps to the low end instead of NaN), cos = scaled
 * value, sin = sqrt(clip(1 - cos^2, 0, 1)), then the outer products
 *   gasf[i][j] = cos_i cos_j - sin_i sin_j
 *   gadf[i][j] = sin_i cos_j - cos_i sin_j
 * The O(S) part runs in double like pyts; the O(S^2) outer products run
 * in float on contiguous rows so the compiler vectorizes them.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <float.h>
#include <math.h>

/* out (S, S): gasf = c_i c_j - s_i s_j, gadf = s_i c_j - c_i s_j. */
ENC_HOT static void gaf_outer(float *restrict out, const float *restrict c,
                              const float *restrict s, int S, int difference)
{
    for (int i = 0; i < S; i++) {
        float si = s[i], ci = c[i];
        float *restrict row = out + (size_t)i * S;
        if (difference)
            for (int j = 0; j < S; j++)
                row[j] = si * c[j] - ci * s[j];
        else
            for (int j = 0; j < S; j++)
                row[j] = ci * c[j] - si * s[j];
    }
}

int enc_gaf_compute(float *out, const double *x, int T, const enc_params *p,
                    enc_workspace *ws)
{
    if (T != ws->T || (ws->p.kind != ENC_GASF && ws->p.kind != ENC_GADF))
        return sg_fail(SG_E_INVALID, "gaf: workspace made for another encoder or length");
    int S = ws->size;
    double *v = ws->d1;
    enc_workspace_segments(ws, p->overlapping);
    enc_paa(v, x, ws->seg_start, ws->seg_end, S);   /* v is (S) */

    if (p->sample_range_none) {
        for (int i = 0; i < S; i++) {
            if (v[i] < -1.0 || v[i] > 1.0)
                return sg_fail(SG_E_INVALID,
                               "gaf: with sample_range none all values must be in [-1, 1] "
                               "(PAA value %d is %g)", i, v[i]);
        }
    } else {
        double mn = v[0], mx = v[0];
        for (int i = 1; i < S; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        double range = mx - mn;
        if (range < 10.0 * DBL_EPSILON)
            range = 1.0;    /* sklearn's _handle_zeros_in_scale */
        double lo = p->sample_range[0], hi = p->sample_range[1];
        double scale = (hi - lo) / range;
        double shift = lo - mn * scale;
        for (int i = 0; i < S; i++)
            v[i] = v[i] * scale + shift;
    }
    float *c = ws->f1, *s = ws->f2;
    for (int i = 0; i < S; i++) {
        double sq = 1.0 - v[i] * v[i];
        sq = sq < 0.0 ? 0.0 : (sq > 1.0 ? 1.0 : sq);
        c[i] = (float)v[i];
        s[i] = (float)sqrt(sq);
    }
    gaf_outer(out, c, s, S, p->kind == ENC_GADF);
    return 0;
}
