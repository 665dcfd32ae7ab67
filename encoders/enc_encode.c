/* enc_encode.c - enc_encode: validate, convert, dispatch, lay out.
 *
 * Checks the input is finite (enc_check.c; gray checks inside its own
 * single pass), runs the per-channel compute function on the caller's
 * doubles into out directly (channels layout) or into the workspace's
 * tiles, then applies the layout.  No allocation happens here.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <math.h>

static int encode_channel(float *out, const double *x, int c, int T, const enc_params *p,
                          const enc_fit *fit, enc_workspace *ws)
{
    const double *edges = NULL;
    int n_edges = 0;
    switch (p->kind) {
    case ENC_RP:
        return enc_rp_compute(out, x, T, p, ws);
    case ENC_GASF:
    case ENC_GADF:
        return enc_gaf_compute(out, x, T, p, ws);
    case ENC_MTF:
        if (p->mtf_fitted) {
            edges = enc_fit_mtf_edges(fit, c, &n_edges);
            if (!edges)
                return sg_fail(SG_E_INVALID, "mtf: fitted edges requested but the fit has none");
        }
        return enc_mtf_compute(out, x, T, p, edges, n_edges, ws);
    case ENC_SPECTROGRAM:
        return enc_spectrogram_compute(out, x, T, p, ws);
    default:
        return sg_fail(SG_E_INVALID, "%s is not a per-channel encoder", enc_kind_name(p->kind));
    }
}

int enc_encode(float *out, const double *x, int C, int T, const enc_params *p, const enc_fit *fit,
               enc_workspace *ws)
{
    if (!ws || ws->C != C || ws->T != T || ws->p.kind != p->kind || ws->p.layout != p->layout)
        return sg_fail(SG_E_INVALID, "%s: workspace made for another shape or encoder",
                       enc_kind_name(p->kind));
    int rc;
    if (p->kind == ENC_GRAY) {
        /* gray checks finiteness inside its one pass (enc_gray.c) */
        const double *mn = enc_fit_gray_min(fit), *mx = enc_fit_gray_max(fit);
        if (p->layout != ENC_LAYOUT_RGB)
            return enc_gray_compute(out, x, C, T, p, mn, mx);
        /* rgb: rows are sensors, colours their x, y, z */
        float *rows = (float *)ws->xd;   /* (C, T) floats: xd has room for twice that */
        rc = enc_gray_compute(rows, x, C, T, p, mn, mx);
        if (rc)
            return rc;
        int S = C / 3;
        for (int s = 0; s < S; s++)
            for (int k = 0; k < 3; k++)
                for (int t = 0; t < T; t++)
                    out[((size_t)k * S + s) * T + t] = rows[((size_t)s * 3 + k) * T + t];
        return 0;
    }
    rc = enc_check_finite(x, C, T);
    if (rc)
        return rc;
    size_t plane = (size_t)ws->img_h * (size_t)ws->img_w;
    float *dst = p->layout == ENC_LAYOUT_CHANNELS ? out : ws->tiles;
    int n_images = 1;
    if (p->kind == ENC_JRP) {
        rc = enc_jrp_compute(dst, x, C, T, p, ws);
    } else {
        n_images = C;
        for (int c = 0; c < C && rc == 0; c++)
            rc = encode_channel(dst + (size_t)c * plane, x + (size_t)c * T, c, T,
                                p, fit, ws);
    }
    if (rc)
        return rc;
    if (dst != out)
        enc_layout_apply(out, dst, n_images, ws->img_h, ws->img_w, p->layout);
    return 0;
}
