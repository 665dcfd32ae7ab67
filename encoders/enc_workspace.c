/* enc_workspace.c - per-thread scratch space and FFTW plans.
 *
 * Everything an encode call needs is allocated here once, so enc_encode
 * never allocates.  FFTW's planner (and plan destruction) is not thread-
 * safe, so those calls are serialized by one static mutex: that is
 * synchronization, not mutable program state.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t fftw_planner_lock = PTHREAD_MUTEX_INITIALIZER;

void enc_workspace_free(enc_workspace *ws)
{
    if (!ws)
        return;
    if (ws->plan) {
        pthread_mutex_lock(&fftw_planner_lock);
        fftwf_destroy_plan(ws->plan);
        pthread_mutex_unlock(&fftw_planner_lock);
    }
    free(ws->dft_basis);
    free(ws->dft_fold);
    free(ws->dft_tap);
    free(ws->poly);
    free(ws->dft_res);
    fftwf_free(ws->fft_in);
    fftwf_free(ws->fft_out);
    free(ws->window);
    free(ws->seg_start);
    free(ws->seg_end);
    free(ws->xd);
    free(ws->d1);
    free(ws->d2);
    free(ws->f1);
    free(ws->f2);
    free(ws->dist);
    free(ws->sel);
    free(ws->img);
    free(ws->tiles);
    free(ws->bins);
    free(ws->mtm);
    free(ws->rows);
    free(ws->pm);
    free(ws);
}

static int make_plan(enc_workspace *ws)
{
    int wl = ws->p.window_length, F = ws->img_w, K = wl / 2 + 1;
    ws->fft_in = fftwf_alloc_real((size_t)wl * (size_t)F);
    ws->fft_out = fftwf_alloc_complex((size_t)K * (size_t)F);
    ws->window = malloc(sizeof(float) * (size_t)wl);
    if (!ws->fft_in || !ws->fft_out || !ws->window)
        return sg_fail(SG_E_NOMEM, "out of memory for spectrogram buffers");
    enc_spectrogram_window(ws->window, wl, ws->p.window);
    pthread_mutex_lock(&fftw_planner_lock);
    /* F frames of wl samples, back to back in and out */
    ws->plan = fftwf_plan_many_dft_r2c(1, &wl, F, ws->fft_in, NULL, 1, wl, ws->fft_out, NULL, 1, K,
                                       FFTW_ESTIMATE);
    pthread_mutex_unlock(&fftw_planner_lock);
    if (!ws->plan)
        return sg_fail(SG_E_NOMEM, "FFTW could not plan a transform of %d samples", wl);
    return 0;
}

int enc_workspace_create(enc_workspace **out, const enc_params *p, int C, int T)
{
    *out = NULL;
    int h, w;
    int rc = enc_image_shape(p, C, T, &h, &w);
    if (rc)
        return rc;
    rc = enc_params_check(p, C, T);
    if (rc)
        return rc;
    enc_workspace *ws = calloc(1, sizeof *ws);
    if (!ws)
        return sg_fail(SG_E_NOMEM, "out of memory for an encoder workspace");
    ws->p = *p;
    ws->C = C;
    ws->T = T;
    ws->img_h = h;
    ws->img_w = w;
    ws->size = h;
    ws->seg_overlapping = -1;
    size_t plane = (size_t)h * (size_t)w, Tz = (size_t)T, Cz = (size_t)C;
    int k = p->n_bins > 1 ? p->n_bins : 2;
    int ok = 1;
#define ALLOC(field, count) ok = ok && (ws->field = calloc((count), sizeof *ws->field)) != NULL
    ALLOC(xd, Cz * Tz);
    ALLOC(d1, Tz);
    ALLOC(d2, Tz + (size_t)k);
    ALLOC(f1, Tz > plane ? Tz : plane);   /* spectrogram: (F, K) magnitudes */
    ALLOC(f2, Tz);
    ALLOC(seg_start, Tz);
    ALLOC(seg_end, Tz);
    if (p->kind != ENC_GRAY && p->layout != ENC_LAYOUT_CHANNELS)
        ALLOC(tiles, Cz * plane);
    if (p->kind == ENC_RP || p->kind == ENC_JRP) {
        size_t n = (size_t)h;
        ALLOC(dist, 2 * n * n);
        ALLOC(sel, n * n / 2 + 1);
        ALLOC(img, plane);
    }
    if (p->kind == ENC_MTF) {
        ALLOC(bins, Tz);
        ALLOC(mtm, (size_t)k * (size_t)k + (size_t)k);
        ALLOC(rows, (size_t)k * (size_t)h);
        ALLOC(pm, (size_t)k * (size_t)h);
    }
#undef ALLOC
    if (!ok) {
        enc_workspace_free(ws);
        return sg_fail(SG_E_NOMEM, "out of memory for an encoder workspace");
    }
    if (p->kind == ENC_SPECTROGRAM) {
        rc = p->window_length <= ENC_DFT_MAX_WL ? enc_spectrogram_dft_init(ws) : make_plan(ws);
        if (rc) {
            enc_workspace_free(ws);
            return rc;
        }
    }
    *out = ws;
    return 0;
}
