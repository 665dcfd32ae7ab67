/* enc_paa.c - pyts's segmentation and Piecewise Aggregate Approximation.
 *
 * Reproduces pyts.utils.segmentation bit for bit, including numpy's
 * linspace (i * step + start, last element exactly stop) followed by
 * astype(int64) truncation, because the window bounds decide which
 * samples are averaged.  GAF (PAA of the series) and MTF (block means of
 * the field) share it.
 */
#include "encoders/enc_internal.h"

#include "src/base/sg_error.h"

#include <stdint.h>
#include <stdlib.h>

/* numpy.linspace(start, stop, num)[i] for num >= 2, truncated to int64. */
static int64_t linspace_trunc(double start, double stop, int num, int i)
{
    if (i == num - 1)
        return (int64_t)stop;
    double step = (stop - start) / (double)(num - 1);
    return (int64_t)((double)i * step + start);
}

void enc_segments(int *start, int *end, int T, int S, int overlapping)
{
    int window = T / S;
    if (T % S != 0)
        window++;
    if (window == 1) {
        for (int i = 0; i < S; i++) {
            start[i] = i;
            end[i] = i + 1;
        }
        return;
    }
    if (!overlapping) {
        /* bounds = linspace(0, T, S + 1).astype(int64) */
        for (int i = 0; i < S; i++) {
            start[i] = (int)linspace_trunc(0.0, (double)T, S + 1, i);
            end[i] = (int)linspace_trunc(0.0, (double)T, S + 1, i + 1);
        }
        return;
    }
    /* fixed-size windows shifted left by linspace(0, S*window - T, S) */
    int n_overlapping = S * window - T;
    for (int i = 0; i < S; i++) {
        int shift = (int)linspace_trunc(0.0, (double)n_overlapping, S, i);
        start[i] = i * window - shift;
        end[i] = (i + 1) * window - shift;
    }
}

void enc_workspace_segments(enc_workspace *ws, int overlapping)
{
    if (ws->seg_overlapping == overlapping)
        return;
    enc_segments(ws->seg_start, ws->seg_end, ws->T, ws->size, overlapping);
    ws->seg_overlapping = overlapping;
}

void enc_paa(double *out, const double *x, const int *start, const int *end, int S)
{
    for (int i = 0; i < S; i++) {
        double sum = 0.0;
        for (int t = start[i]; t < end[i]; t++)
            sum += x[t];
        out[i] = sum / (double)(end[i] - start[i]);
    }
}

int enc_paa_rows(double *out, const double *x, size_t n, int T, int S)
{
    if (S < 1 || S > T)
        return sg_fail(SG_E_INVALID, "PAA of %d samples into %d: needs 1 <= output <= input", T, S);
    int *start = malloc((size_t)S * sizeof *start), *end = malloc((size_t)S * sizeof *end);
    if (!start || !end) {
        free(start);
        free(end);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    enc_segments(start, end, T, S, 1);
    for (size_t i = 0; i < n; i++)
        enc_paa(out + i * (size_t)S, x + i * (size_t)T, start, end, S);
    free(start);
    free(end);
    return SG_OK;
}
