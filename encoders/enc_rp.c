/* enc_rp.c - recurrence plots and joint recurrence plots (pyts).
 *
 * Trajectories x_i = (x[i], x[i + tau], ..., x[i + (m-1) tau]) for
 * i < n = T - (m-1) tau; the plot is the Euclidean distance matrix,
 * optionally binarized with a strict  dist < threshold  where threshold
 * is a number, np.percentile(dist, percentage) ('point') or
 * percentage/100 * max(dist) ('distance').  Distances are computed in
 * double in numpy's order (squares summed left to right, then sqrt) so
 * the comparisons land on the same side as pyts's.
 *
 * The 'point' percentile exploits symmetry: the n^2 sorted distances are
 * n diagonal zeros followed by every upper-triangle value twice, so one
 * selection over n(n-1)/2 values finds any rank.
 *
 * A joint plot is the element-wise product of the per-channel plots.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <string.h>

/* dist (n, n) for one channel. */
static void rp_distances(double *dist, const double *x, int n, int m, int tau)
{
    if (m == 1) {
        for (int i = 0; i < n; i++) {
            double xi = x[i];
            double *row = dist + (size_t)i * n;
            for (int j = 0; j < n; j++)
                row[j] = fabs(xi - x[j]);
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        dist[(size_t)i * n + i] = 0.0;
        for (int j = i + 1; j < n; j++) {
            double sum = 0.0;
            for (int k = 0; k < m; k++) {
                double d = x[j + k * tau] - x[i + k * tau];
                sum += d * d;
            }
            double r = sqrt(sum);
            dist[(size_t)i * n + j] = r;
            dist[(size_t)j * n + i] = r;
        }
    }
}

/* The full sorted distance array's element at rank r, given the upper
 * triangle sel (u values) already partitioned so that sel[m] is rank m. */
static double full_rank_value(double *sel, size_t u, int n, size_t r)
{
    if (r < (size_t)n)
        return 0.0;
    size_t m = (r - (size_t)n) / 2;
    return enc_select_kth(sel, u, m);
}

/* np.percentile(dist, q) over all n^2 entries. */
static double rp_point_threshold(const double *dist, int n, double q, double *sel)
{
    size_t u = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            sel[u++] = dist[(size_t)i * n + j];
    size_t total = (size_t)n * (size_t)n;
    if (total == 1)
        return 0.0;
    double vi = (double)(total - 1) * (q / 100.0);
    if (vi <= 0.0)
        return full_rank_value(sel, u, n, 0);
    if (vi >= (double)(total - 1))
        return full_rank_value(sel, u, n, total - 1);
    double prev = floor(vi);
    size_t lo = (size_t)prev;
    double gamma = vi - prev;
    double a = full_rank_value(sel, u, n, lo);
    double b = full_rank_value(sel, u, n, lo + 1);
    double diff = b - a;
    if (gamma >= 0.5)
        return b - diff * (1.0 - gamma);
    return a + diff * gamma;
}

/* Replaces dist by its binarized plot if p thresholds. */
static void rp_apply_threshold(double *dist, int n, const enc_params *p, double *sel)
{
    double thr;
    size_t nn = (size_t)n * (size_t)n;
    switch (p->threshold) {
    case ENC_THRESHOLD_POINT:
        thr = rp_point_threshold(dist, n, p->percentage, sel);
        break;
    case ENC_THRESHOLD_DISTANCE: {
        double mx = 0.0;
        for (size_t i = 0; i < nn; i++)
            mx = dist[i] > mx ? dist[i] : mx;
        thr = p->percentage / 100.0 * mx;
        break;
    }
    case ENC_THRESHOLD_VALUE:
        thr = p->threshold_value;
        break;
    default:
        return;
    }
    for (size_t i = 0; i < nn; i++)
        dist[i] = dist[i] < thr ? 1.0 : 0.0;
}

static int rp_ready(const enc_workspace *ws, int T, enc_kind kind)
{
    if (T != ws->T || ws->p.kind != kind)
        return sg_fail(SG_E_INVALID, "%s: workspace made for another encoder or length",
                       enc_kind_name(kind));
    return 0;
}

/* |x_i - x_j| straight to float: out is (n, n). */
ENC_HOT static void rp_plain(float *restrict out, const double *restrict x, int n)
{
    for (int i = 0; i < n; i++) {
        double xi = x[i];
        float *restrict row = out + (size_t)i * n;
        for (int j = 0; j < n; j++)
            row[j] = (float)fabs(xi - x[j]);
    }
}

/* rp_plain for a series whose values are all floats (what enc_encode
 * passes): the float difference of two floats is their exact difference
 * rounded once, as is the double one rounded to float (exact in double
 * unless the exponents are 29+ apart), so the image is the same at twice
 * the vector width. */
ENC_HOT static void rp_plain_float(float *restrict out, const float *restrict x, int n)
{
    for (int i = 0; i < n; i++) {
        float xi = x[i];
        float *restrict row = out + (size_t)i * n;
        for (int j = 0; j < n; j++)
            row[j] = fabsf(xi - x[j]);
    }
}

/* Copies x (n) to xf as floats; returns 1 if every value was a float. */
static int narrow_exact(float *restrict xf, const double *restrict x, int n)
{
    int exact = 1;
    for (int i = 0; i < n; i++) {
        xf[i] = (float)x[i];
        exact &= (double)xf[i] == x[i];
    }
    return exact;
}

/* Unthresholded joint plot of 3 channels in one pass, products in double
 * in pyts's order ((r0 r1) r2). */
ENC_HOT static void jrp_plain3(float *restrict out, const double *restrict a,
                               const double *restrict b, const double *restrict c, int n)
{
    for (int i = 0; i < n; i++) {
        double ai = a[i], bi = b[i], ci = c[i];
        float *restrict row = out + (size_t)i * n;
        for (int j = 0; j < n; j++)
            row[j] = (float)(fabs(ai - a[j]) * fabs(bi - b[j]) * fabs(ci - c[j]));
    }
}

int enc_rp_compute(float *out, const double *x, int T, const enc_params *p,
                   enc_workspace *ws)
{
    int rc = rp_ready(ws, T, ENC_RP);
    if (rc)
        return rc;
    int n = ws->img_h;
    size_t nn = (size_t)n * (size_t)n;
    if (p->threshold == ENC_THRESHOLD_NONE && p->dimension == 1) {
        if (narrow_exact(ws->f1, x, n))   /* the common case */
            rp_plain_float(out, ws->f1, n);
        else
            rp_plain(out, x, n);
        return 0;
    }
    rp_distances(ws->dist, x, n, p->dimension, p->time_delay);
    rp_apply_threshold(ws->dist, n, p, ws->sel);
    for (size_t i = 0; i < nn; i++)
        out[i] = (float)ws->dist[i];
    return 0;
}

int enc_jrp_compute(float *out, const double *x, int C, int T, const enc_params *p,
                    enc_workspace *ws)
{
    int rc = rp_ready(ws, T, ENC_JRP);
    if (rc)
        return rc;
    if (C > ws->C)
        return sg_fail(SG_E_INVALID, "jrp: workspace made for %d channels, got %d", ws->C, C);
    int n = ws->img_h;
    size_t nn = (size_t)n * (size_t)n;
    if (C == 3 && p->threshold == ENC_THRESHOLD_NONE && p->dimension == 1) {
        jrp_plain3(out, x, x + T, x + 2 * (size_t)T, n);   /* x, y, z of one sensor */
        return 0;
    }
    double *prod = ws->dist + nn;    /* dist holds two (n, n) planes for jrp */
    for (int c = 0; c < C; c++) {
        rp_distances(ws->dist, x + (size_t)c * T, n, p->dimension, p->time_delay);
        rp_apply_threshold(ws->dist, n, p, ws->sel);
        if (c == 0)
            memcpy(prod, ws->dist, sizeof(double) * nn);
        else
            for (size_t i = 0; i < nn; i++)
                prod[i] *= ws->dist[i];
    }
    for (size_t i = 0; i < nn; i++)
        out[i] = (float)prod[i];
    return 0;
}
