/* enc_mtf.c - Markov transition field (pyts MarkovTransitionField).
 *
 * Discretize (KBinsDiscretizer edges, digitize right=True), count the
 * bin-to-bin transitions of consecutive samples, normalize rows (empty
 * rows stay 0 as pyts's np.place), and aggregate the T x T field
 * F[j][k] = M[b_j][b_k] into S x S block means.
 *
 * Never builds the T x T field: the mean of F over rows J and columns K
 * is  sum_a sum_b (h_J[a]/|J|) M[a][b] (h_K[b]/|K|)  with h_J the bin
 * histogram of block J, i.e. P M P^T with P (S, n_bins).  When S == T
 * (no aggregation) each output row is a copy of a per-bin row.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <string.h>

/* The transition matrix of the binned series, rows normalized. */
static void transition_matrix(double *mtm, const int *bins, int T, int k)
{
    memset(mtm, 0, sizeof(double) * (size_t)k * (size_t)k);
    for (int t = 0; t + 1 < T; t++)
        mtm[bins[t] * k + bins[t + 1]] += 1.0;
    for (int a = 0; a < k; a++) {
        double sum = 0.0;
        for (int b = 0; b < k; b++)
            sum += mtm[a * k + b];
        if (sum == 0.0)
            sum = 1.0;
        for (int b = 0; b < k; b++)
            mtm[a * k + b] /= sum;
    }
}

/* bins (T) = enc_digitize of each x (T): counting the edges below each
 * value is the same for ascending edges, and without the early exit the
 * loop has no data-dependent branch. */
static void digitize_all(int *restrict bins, const double *restrict x, int T,
                         const double *restrict edges, int n_edges)
{
    for (int t = 0; t < T; t++) {
        int b = 0;
        for (int i = 0; i < n_edges; i++)
            b += edges[i] < x[t];
        bins[t] = b;
    }
}

/* out (S, S) = pm (S, k) x rows (k, S). */
ENC_HOT static void mtf_blocks(float *restrict out, const float *restrict pm,
                               const float *restrict rows, int S, int k)
{
    for (int J = 0; J < S; J++) {
        float *restrict row = out + (size_t)J * S;
        const float *pj = pm + (size_t)J * k;
        for (int K = 0; K < S; K++)
            row[K] = pj[0] * rows[K];
        for (int b = 1; b < k; b++) {
            const float *restrict rb = rows + (size_t)b * S;
            float w = pj[b];
            for (int K = 0; K < S; K++)
                row[K] += w * rb[K];
        }
    }
}

int enc_mtf_compute(float *out, const double *x, int T, const enc_params *p,
                    const double *edges, int n_edges, enc_workspace *ws)
{
    if (T != ws->T || ws->p.kind != ENC_MTF || p->n_bins != ws->p.n_bins)
        return sg_fail(SG_E_INVALID, "mtf: workspace made for another encoder or length");
    int S = ws->size, k = p->n_bins;
    double *e = ws->d2 + T;    /* d2 holds T sorted values, then k edges */

    if (!edges) {
        n_edges = enc_bin_edges(e, x, T, k, p->strategy, ws->d2);
        edges = e;
    } else if (n_edges < 0 || n_edges > k - 1) {
        return sg_fail(SG_E_INVALID, "mtf: %d fitted edges for %d bins", n_edges, k);
    }
    int *bins = ws->bins;
    digitize_all(bins, x, T, edges, n_edges);
    double *mtm = ws->mtm;    /* (k, k), then a k-entry histogram */
    double *hist = mtm + (size_t)k * k;
    transition_matrix(mtm, bins, T, k);

    float *rows = ws->rows;   /* (k, S) */
    if (S == T) {
        /* F[j][:] = M[b_j][b_:]: one row per bin, then copies */
        for (int a = 0; a < k; a++)
            for (int j = 0; j < T; j++)
                rows[(size_t)a * S + j] = (float)mtm[a * k + bins[j]];
        for (int j = 0; j < T; j++)
            memcpy(out + (size_t)j * S, rows + (size_t)bins[j] * S, sizeof(float) * (size_t)S);
        return 0;
    }
    enc_workspace_segments(ws, p->overlapping);
    /* rows[b][K] = share of block K's samples in bin b; pm = P M */
    memset(rows, 0, sizeof(float) * (size_t)k * (size_t)S);
    float *pm = ws->pm;       /* (S, k) */
    for (int J = 0; J < S; J++) {
        memset(hist, 0, sizeof(double) * (size_t)k);
        double inv = 1.0 / (double)(ws->seg_end[J] - ws->seg_start[J]);
        for (int t = ws->seg_start[J]; t < ws->seg_end[J]; t++)
            hist[bins[t]] += 1.0;
        for (int b = 0; b < k; b++) {
            rows[(size_t)b * S + J] = (float)(hist[b] * inv);
            double acc = 0.0;
            for (int a = 0; a < k; a++)
                acc += hist[a] * mtm[a * k + b];
            pm[(size_t)J * k + b] = (float)(acc * inv);
        }
    }
    mtf_blocks(out, pm, rows, S, k);
    return 0;
}
