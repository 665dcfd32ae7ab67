/* fig_augment.c - the augmentation gallery: one segment's x, y, z curves
 * under each series augmentation (datasets/series_augment.h), a row per
 * kind, so that a reader sees what training shows the network.
 *
 * Kinds that are on by default are drawn at their default strength;
 * those off by default at the value the row names (a typical setting to
 * try).  Every row uses one fixed seed, so the figure is the same on
 * every run.  All rows share one y range, so scaling is visible as such.
 */
#include "figures/fig.h"
#include "datasets/dsa.h"
#include "datasets/series_augment.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_H 96
#define ROW_GAP 12
#define LABEL_W 190
#define PLOT_W 760
#define MARGIN 16
#define HEAD_H 64
#define GALLERY_SEED 20261202u

enum { N_ROWS = 9 };

/* The parameters of row r and its caption. */
static void row_params(int r, series_aug_params *p, char *caption, size_t size)
{
    series_aug_params d;
    series_aug_params_default(&d);
    series_aug_params_off(p);
    switch (r) {
    case 0: snprintf(caption, size, "original"); break;
    case 1:
        p->rotate_deg = d.rotate_deg > 0 ? d.rotate_deg : 10;
        snprintf(caption, size, "rotate (max %g deg)", p->rotate_deg);
        break;
    case 2:
        p->scale_sigma = d.scale_sigma > 0 ? d.scale_sigma : 0.1;
        snprintf(caption, size, "scale (sigma %g)", p->scale_sigma);
        break;
    case 3:
        p->shift_max = d.shift_max > 0 ? d.shift_max : 8;
        snprintf(caption, size, "shift (max %d samples)", p->shift_max);
        break;
    case 4:
        p->crop_min = d.crop_min < 1 ? d.crop_min : 0.9;
        snprintf(caption, size, "crop (>= %g of T)", p->crop_min);
        break;
    case 5:
        p->warp_sigma = d.warp_sigma > 0 ? d.warp_sigma : 0.2;
        snprintf(caption, size, "warp (sigma %g)", p->warp_sigma);
        break;
    case 6:
        p->jitter_sigma = d.jitter_sigma > 0 ? d.jitter_sigma : 0.05;
        snprintf(caption, size, "jitter (%g x std)", p->jitter_sigma);
        break;
    case 7:
        /* certain here, so that the row shows what a remount does */
        p->remount_p = 1.0;
        snprintf(caption, size, "remount (any orientation)");
        break;
    default:
        for (int k = 1; k < N_ROWS - 1; k++) {
            series_aug_params q;
            char unused[8];
            row_params(k, &q, unused, sizeof unused);
            if (q.rotate_deg > 0)
                p->rotate_deg = q.rotate_deg;
            if (q.scale_sigma > 0)
                p->scale_sigma = q.scale_sigma;
            if (q.shift_max > 0)
                p->shift_max = q.shift_max;
            if (q.crop_min < 1)
                p->crop_min = q.crop_min;
            if (q.warp_sigma > 0)
                p->warp_sigma = q.warp_sigma;
            if (q.jitter_sigma > 0)
                p->jitter_sigma = q.jitter_sigma;
            if (q.remount_p > 0)
                p->remount_p = q.remount_p;
        }
        snprintf(caption, size, "all of the above");
    }
}

/* Channels of x (C, T) as lines in the box over [lo, hi]; gray = 1 draws
 * them all in light gray (the original behind a changed row). */
static void draw_curves(cairo_t *cr, const double *x, int C, int T, double lo, double hi,
                        double bx, double by, double bw, double bh, int gray)
{
    for (int c = 0; c < C; c++) {
        double rgb[3] = {0.78, 0.78, 0.78};
        if (!gray)
            fig_palette(c, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, gray ? 2.0 : 1.2);
        for (int t = 0; t < T; t++) {
            double px = bx + (T > 1 ? t * bw / (T - 1) : 0);
            double py = by + bh - 3 - (x[(size_t)c * T + t] - lo) / (hi - lo) * (bh - 6);
            if (t == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
    }
}

int fig_augment_gallery_write(const char *path, fig_format format, const fig_gallery_opts *opts)
{
    if (!opts->data)
        return sg_fail(SG_E_INVALID, "the augmentation gallery needs a DSA root");
    if (opts->dataset && strcmp(opts->dataset, "dsa") != 0)
        return sg_fail(SG_E_INVALID, "augmentation gallery: unknown dataset '%s' (dsa)",
                       opts->dataset);
    dsa_select sel;
    dsa_select_all(&sel);
    int rc;
    if ((rc = dsa_select_parse(&sel, opts->units ? opts->units : "LL",
                               opts->sensors ? opts->sensors : "acc", opts->axes)) ||
        (rc = dsa_select_parse_subjects(&sel, opts->subjects ? opts->subjects : "1")))
        return rc;
    sg_series_set set = {0};
    if ((rc = dsa_load(&set, opts->data, &sel, 0)))
        return rc;
    int C = set.n_channels, T = set.n_samples;
    size_t n = (size_t)C * (size_t)T;
    series_aug_layout layout = {0};
    double *rows = malloc((N_ROWS * n + series_aug_scratch_len(C, T)) * sizeof *rows);
    fig_canvas c = {0};
    int opened = 0;
    if (!rows) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    if (set.n == 0) {
        rc = sg_fail(SG_E_INVALID, "%s: no segments to show", opts->data);
        goto done;
    }
    if ((rc = series_aug_layout_build(&layout, set.channel_names, C)))
        goto done;
    /* A walking segment shows shifts and warps; a resting one would be flat. */
    size_t shown = 0;
    for (size_t i = 0; i < set.n; i++)
        if (strstr(set.class_names[set.label[i]], "walking")) {
            shown = i;
            break;
        }
    char captions[N_ROWS][64];
    double lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < N_ROWS; r++) {
        series_aug_params p;
        row_params(r, &p, captions[r], sizeof captions[r]);
        double *x = rows + (size_t)r * n;
        memcpy(x, sg_series_at(&set, shown), n * sizeof *x);
        series_aug_apply(x, C, T, &layout, &p, GALLERY_SEED, rows + N_ROWS * n);
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, x[i]);
            hi = fmax(hi, x[i]);
        }
    }
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    int width = MARGIN * 2 + LABEL_W + PLOT_W;
    int height = HEAD_H + N_ROWS * (ROW_H + ROW_GAP) + MARGIN;
    if ((rc = fig_canvas_open(&c, path, format, width, height)))
        goto done;
    opened = 1;
    cairo_t *cr = c.cr;
    char title[256];
    int len = snprintf(title, sizeof title, "Series augmentation: %s", set.name[shown]);
    for (int ch = 0; ch < C && ch < 6 && len < (int)sizeof title; ch++)
        len += snprintf(title + len, sizeof title - (size_t)len, "%s%s", ch ? ", " : " (",
                        set.channel_names[ch]);
    if (len < (int)sizeof title)
        snprintf(title + len, sizeof title - (size_t)len, "%s)", C > 6 ? ", ..." : "");
    cairo_set_source_rgb(cr, 0, 0, 0);
    fig_text(cr, width / 2.0, 22, title, 15, 1, 0.5, 0.5, 0);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    fig_text(cr, width / 2.0, 44,
             "the raw segment before encoding, one row per --aug-* kind (original in gray)",
             11.5, 0, 0.5, 0.5, 0);
    for (int r = 0; r < N_ROWS; r++) {
        double by = HEAD_H + r * (ROW_H + ROW_GAP), bx = MARGIN + LABEL_W;
        cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
        cairo_rectangle(cr, bx, by, PLOT_W, ROW_H);
        cairo_fill(cr);
        if (r > 0)
            draw_curves(cr, rows, C, T, lo, hi, bx, by, PLOT_W, ROW_H, 1);
        draw_curves(cr, rows + (size_t)r * n, C, T, lo, hi, bx, by, PLOT_W, ROW_H, 0);
        cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
        cairo_set_line_width(cr, 1.0);
        cairo_rectangle(cr, bx + 0.5, by + 0.5, PLOT_W - 1, ROW_H - 1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fig_text(cr, MARGIN + LABEL_W - 10, by + ROW_H / 2.0, captions[r], 12, r == 0, 1.0, 0.5,
                 0);
    }
    opened = 0;
    rc = fig_canvas_commit(&c);
done:
    if (opened)
        fig_canvas_abort(&c);
    series_aug_layout_free(&layout);
    free(rows);
    sg_series_set_free(&set);
    return rc;
}
