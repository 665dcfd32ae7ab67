/* fig_gallery.c - encoder gallery: one example segment per class (the
 * first one of each class in load order), its raw signal on top and the
 * image each chosen encoder makes of it below, side by side.
 *
 * Three channels (x, y, z of one sensor, the default LL acc) are encoded
 * with the rgb layout and shown in colour; any other count uses the mosaic
 * layout (channel images tiled into one gray image), exactly as `encode
 * --layout rgb|mosaic` writes them.  gray is fitted dataset-wide on the loaded data, mtf uses
 * pyts's per-segment bins.  The gray encoder's (C, T) strip is stretched
 * to the square box so that it is visible.  Only the DSA layout is read here.
 */
#include "figures/fig.h"
#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "encoders/enc.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENC 8
#define IMG 120        /* side of each encoder image */
#define GAP 10
#define SIGNAL_H 64
#define TITLE_H 22
#define CAPTION_H 18

typedef struct gallery_enc {
    enc_params p;
    enc_fit *fit;
    enc_workspace *ws;
    int oc, oh, ow;
    float *out;        /* (oc, oh, ow) */
} gallery_enc;

static int parse_encoders(gallery_enc *e, int *n, const char *list, enc_layout layout)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list ? list : "rp,gasf,mtf");
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_ENC)
            return sg_fail(SG_E_INVALID, "at most %d encoders in a gallery", MAX_ENC);
        enc_kind kind;
        int rc = enc_kind_parse(&kind, tok);
        if (rc)
            return rc;
        enc_params_default(&e[*n].p, kind);
        e[*n].p.layout = layout;
        (*n)++;
    }
    if (*n == 0)
        return sg_fail(SG_E_INVALID, "--encoder needs at least one encoder name");
    return SG_OK;
}

/* Draws the C channels of x (C, T) as lines in the box, each channel
 * scaled to the box's height over the segment's overall range. */
static void draw_signal(cairo_t *cr, const double *x, int C, int T, double bx, double by,
                        double bw, double bh)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)C * (size_t)T; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill(cr);
    for (int c = 0; c < C; c++) {
        /* x, y, z in red, green, blue when they are shown as R, G, B */
        static const int rgb_order[3] = {3, 2, 0};
        double rgb[3];
        fig_palette(C == 3 ? rgb_order[c] : c, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 1.0);
        for (int t = 0; t < T; t++) {
            double px = bx + (T > 1 ? t * bw / (T - 1) : 0);
            double py = by + bh - 2 - (x[(size_t)c * T + t] - lo) / (hi - lo) * (bh - 4);
            if (t == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw - 1, bh - 1);
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void free_encoders(gallery_enc *e, int n)
{
    for (int k = 0; k < n; k++) {
        enc_fit_free(e[k].fit);
        enc_workspace_free(e[k].ws);
        free(e[k].out);
    }
}

int fig_gallery_write(const char *path, fig_format format, const fig_gallery_opts *opts)
{
    if (!opts->data)
        return sg_fail(SG_E_INVALID, "the gallery needs a dataset folder (--gallery DATA)");
    if (opts->dataset && strcmp(opts->dataset, "dsa") != 0)
        return sg_fail(SG_E_INVALID, "gallery: unknown dataset '%s' (dsa)", opts->dataset);
    gallery_enc e[MAX_ENC];
    memset(e, 0, sizeof e);
    int n_enc = 0;
    int rc;
    dsa_select sel;
    dsa_select_all(&sel);
    if ((rc = dsa_select_parse(&sel, opts->units ? opts->units : "LL",
                               opts->sensors ? opts->sensors : "acc", opts->axes)) ||
        (rc = dsa_select_parse_subjects(&sel, opts->subjects ? opts->subjects : "1")))
        return rc;
    dsa_magnitude mag = DSA_MAGNITUDE_OFF;
    if (opts->magnitude && ((rc = dsa_magnitude_parse(&mag, opts->magnitude)) ||
                            (rc = dsa_magnitude_check(&sel, mag))))
        return rc;
    sg_series_set set = {0};
    if ((rc = dsa_load(&set, opts->data, &sel, 0)))
        return rc;
    /* norm rows named T_acc_norm, ...: the title lists them like any axis */
    if ((rc = dsa_magnitude_apply(&set, &sel, mag))) {
        sg_series_set_free(&set);
        return rc;
    }
    int C = set.n_channels, T = set.n_samples;
    size_t *example = NULL;
    fig_canvas c = {0};
    int opened = 0;
    if ((rc = parse_encoders(e, &n_enc, opts->encoders,
                             C == 3 ? ENC_LAYOUT_RGB : ENC_LAYOUT_MOSAIC)))
        goto done;
    for (int k = 0; k < n_enc && !rc; k++) {
        if ((rc = enc_params_check(&e[k].p, C, T)) ||
            (rc = enc_output_shape(&e[k].p, C, T, &e[k].oc, &e[k].oh, &e[k].ow)) ||
            (rc = enc_fit_create(&e[k].fit, &e[k].p, set.data, set.n, C, T)) ||
            (rc = enc_workspace_create(&e[k].ws, &e[k].p, C, T)))
            break;
        e[k].out = malloc((size_t)e[k].oc * e[k].oh * e[k].ow * sizeof *e[k].out);
        if (!e[k].out)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc)
        goto done;
    /* first segment of each class; classes without one are left out */
    example = malloc((size_t)(set.n_classes > 0 ? set.n_classes : 1) * sizeof *example);
    if (!example) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    int n_shown = 0;
    for (int cl = 0; cl < set.n_classes; cl++)
        for (size_t i = 0; i < set.n; i++)
            if (set.label[i] == cl) {
                example[n_shown++] = i;
                break;
            }
    if (n_shown == 0) {
        rc = sg_fail(SG_E_INVALID, "%s: no segments to show", opts->data);
        goto done;
    }
    double tile_w = n_enc * IMG + (n_enc - 1) * GAP;
    double tile_h = TITLE_H + SIGNAL_H + GAP + IMG + CAPTION_H;
    int per_row = (int)fmax(1, floor(1900 / (tile_w + 3 * GAP)));
    if (per_row > n_shown)
        per_row = n_shown;
    int rows = (n_shown + per_row - 1) / per_row;
    int width = (int)ceil(per_row * (tile_w + 3 * GAP) + 3 * GAP);
    int height = (int)ceil(78 + rows * (tile_h + 2 * GAP));
    if ((rc = fig_canvas_open(&c, path, format, width, height)))
        goto done;
    opened = 1;
    cairo_t *cr = c.cr;
    char buf[512];
    {
        int len = snprintf(buf, sizeof buf, "Encoder gallery: %d channel%s", C, C > 1 ? "s" : "");
        for (int ch = 0; ch < C && ch < 6 && len < (int)sizeof buf; ch++)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%s", ch ? ", " : " (",
                            set.channel_names[ch]);
        if (len < (int)sizeof buf)
            snprintf(buf + len, sizeof buf - (size_t)len, "%s)%s", C > 6 ? ", ..." : "",
                     C == 3 ? " as R, G, B" : C > 1 ? ", images tiled as a mosaic" : "");
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    fig_text(cr, width / 2.0, 24, buf, 15, 1, 0.5, 0.5, 0);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    fig_text(cr, width / 2.0, 48, "raw signal (top), then each encoder's image as the network sees it",
             11.5, 0, 0.5, 0.5, 0);
    for (int s = 0; s < n_shown && !rc; s++) {
        size_t i = example[s];
        const double *x = sg_series_at(&set, i);
        double tx = 3 * GAP + (s % per_row) * (tile_w + 3 * GAP);
        double ty = 70 + (s / per_row) * (tile_h + 2 * GAP);
        cairo_set_source_rgb(cr, 0, 0, 0);
        fig_text_fit(cr, buf, sizeof buf, set.class_names[set.label[i]], 12.5, 1, tile_w);
        fig_text(cr, tx + tile_w / 2, ty + TITLE_H / 2, buf, 12.5, 1, 0.5, 0.5, 0);
        draw_signal(cr, x, C, T, tx, ty + TITLE_H, tile_w, SIGNAL_H);
        for (int k = 0; k < n_enc && !rc; k++) {
            if ((rc = enc_encode(e[k].out, x, C, T, &e[k].p, e[k].fit, e[k].ws)))
                break;
            double lo, hi;
            int bounded;
            enc_value_range(&e[k].p, &lo, &hi, &bounded);
            size_t np = (size_t)e[k].oc * e[k].oh * e[k].ow;
            if (!bounded) {
                lo = INFINITY;
                hi = -INFINITY;
                for (size_t j = 0; j < np; j++) {
                    lo = fmin(lo, e[k].out[j]);
                    hi = fmax(hi, e[k].out[j]);
                }
                if (!(hi > lo))
                    hi = lo + 1;
            }
            /* rgb gives 3 channels (shown as colour), mosaic one */
            sg_image img = {.c = e[k].oc, .h = e[k].oh, .w = e[k].ow, .data = e[k].out};
            double ix = tx + k * (IMG + GAP), iy = ty + TITLE_H + SIGNAL_H + GAP;
            if ((rc = fig_draw_image(cr, &img, lo, hi, ix, iy, IMG, IMG,
                                     e[k].p.kind == ENC_GRAY)))
                break;
            cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
            fig_text(cr, ix + IMG / 2.0, iy + IMG + 4, enc_kind_name(e[k].p.kind), 11, 0, 0.5,
                     0.0, 0);
        }
    }
    if (!rc) {
        opened = 0;
        rc = fig_canvas_commit(&c);
    }
done:
    if (opened)
        fig_canvas_abort(&c);
    free(example);
    free_encoders(e, n_enc);
    sg_series_set_free(&set);
    return rc;
}
