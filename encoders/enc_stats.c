/* enc_stats.c - the numpy/scipy numerics the encoders must reproduce.
 *
 * numpy.percentile with method='linear' (numpy >= 1.22: virtual index
 * (n - 1) * q/100 and the two-sided _lerp), an allocation-free sort and
 * selection for doubles, and scipy's norm.ppf (Acklam's rational
 * approximation polished by Halley steps on erfc, good to ~1 ulp).
 */
#include "encoders/enc_internal.h"

#include <math.h>

double enc_percentile_sorted(const double *sorted, size_t n, double q)
{
    double quantile = q / 100.0;
    double vi = (double)(n - 1) * quantile;
    if (vi <= 0.0)
        return sorted[0];
    if (vi >= (double)(n - 1))
        return sorted[n - 1];
    double prev = floor(vi);
    size_t lo = (size_t)prev;
    double gamma = vi - prev;
    double a = sorted[lo], b = sorted[lo + 1];
    double diff = b - a;
    /* numpy's _lerp: interpolate from the nearer end */
    if (gamma >= 0.5)
        return b - diff * (1.0 - gamma);
    return a + diff * gamma;
}

static void insertion_sort(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double t = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > t) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

static double median3(double a, double b, double c)
{
    if (a < b)
        return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
}

/* Hoare partition around a median-of-three pivot; returns the split. */
static size_t partition(double *v, size_t n)
{
    double pivot = median3(v[0], v[n / 2], v[n - 1]);
    size_t i = 0, j = n - 1;
    for (;;) {
        while (v[i] < pivot)
            i++;
        while (v[j] > pivot)
            j--;
        if (i >= j)
            return j + 1;
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
    }
}

void enc_sort_doubles(double *v, size_t n)
{
    /* quicksort with the smaller side recursed (depth <= log2 n) */
    while (n > 24) {
        size_t k = partition(v, n);
        if (k < n - k) {
            enc_sort_doubles(v, k);
            v += k;
            n -= k;
        } else {
            enc_sort_doubles(v + k, n - k);
            n = k;
        }
    }
    insertion_sort(v, n);
}

double enc_select_kth(double *v, size_t n, size_t k)
{
    while (n > 24) {
        size_t s = partition(v, n);
        if (k < s) {
            n = s;
        } else {
            v += s;
            n -= s;
            k -= s;
        }
    }
    insertion_sort(v, n);
    return v[k];
}

double enc_norm_ppf(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    const double p_low = 0.02425;
    double x;
    if (!(p > 0.0))
        return p == 0.0 ? -INFINITY : NAN;
    if (!(p < 1.0))
        return p == 1.0 ? INFINITY : NAN;
    if (p < p_low) {
        double q = sqrt(-2.0 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else if (p <= 1.0 - p_low) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    } else {
        double q = sqrt(-2.0 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    /* Halley refinement: Acklam gives ~1e-9 relative, two steps reach
     * double precision.  Phi(x) = erfc(-x / sqrt 2) / 2. */
    for (int it = 0; it < 2; it++) {
        double e = 0.5 * erfc(-x / M_SQRT2) - p;
        double u = e * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
        x = x - u / (1.0 + x * u / 2.0);
    }
    return x;
}

/* Puts into place the order statistics that enc_percentile_sorted reads
 * for q = qstep, 2 qstep, ... (m values, ascending) of v (n values): each
 * needed rank is selected in the part right of the previous one, so v
 * holds at those positions exactly what a full sort would put there
 * (O(n) per rank instead of an O(n log n) sort; per-segment MTF edges
 * are on the encode hot path). */
static void place_percentile_ranks(double *v, size_t n, double qstep, int m)
{
    size_t done = 0;   /* ranks below done are final */
    for (int i = 0; i < m && done < n; i++) {
        double vi = (double)(n - 1) * (((double)(i + 1) * qstep) / 100.0);
        size_t lo = vi <= 0.0 ? 0 : (vi >= (double)(n - 1) ? n - 1 : (size_t)floor(vi));
        size_t hi = lo + 1 < n ? lo + 1 : lo;
        for (size_t r = lo > done ? lo : done; r <= hi && r < n; r++) {
            if (r >= done) {
                enc_select_kth(v + done, n - done, r - done);
                done = r + 1;
            }
        }
    }
}

int enc_bin_edges(double *edges, const double *x, int T, int n_bins,
                  enc_strategy strategy, double *sorted)
{
    int n_edges = n_bins - 1;
    if (strategy == ENC_STRATEGY_NORMAL) {
        /* norm.ppf(linspace(0, 1, n_bins + 1)[1:-1]) */
        double step = 1.0 / (double)n_bins;
        for (int i = 0; i < n_edges; i++)
            edges[i] = enc_norm_ppf((double)(i + 1) * step);
        return n_edges;
    }
    if (strategy == ENC_STRATEGY_UNIFORM) {
        double mn = x[0], mx = x[0];
        for (int t = 1; t < T; t++) {
            mn = x[t] < mn ? x[t] : mn;
            mx = x[t] > mx ? x[t] : mx;
        }
        /* numba's np.linspace(mn, mx, n_bins + 1)[1:-1]: start + i * step */
        double step = (mx - mn) / (double)n_bins;
        for (int i = 0; i < n_edges; i++)
            edges[i] = mn + (double)(i + 1) * step;
        return n_edges;
    }
    /* quantile: np.percentile at linspace(0, 100, n_bins + 1)[1:-1] */
    for (int t = 0; t < T; t++)
        sorted[t] = x[t];
    double qstep = 100.0 / (double)n_bins;
    place_percentile_ranks(sorted, (size_t)T, qstep, n_edges);
    for (int i = 0; i < n_edges; i++)
        edges[i] = enc_percentile_sorted(sorted, (size_t)T, (double)(i + 1) * qstep);
    /* pyts keeps an edge only if the next one is not within 1e-8 of it
     * (np.isclose(0, diff, rtol=0, atol=1e-8)); the last always stays */
    int kept = 0;
    for (int i = 0; i < n_edges; i++) {
        if (i == n_edges - 1 || !(fabs(edges[i + 1] - edges[i]) <= 1e-8))
            edges[kept++] = edges[i];
    }
    return kept;
}
