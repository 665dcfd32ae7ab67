/* fig_explain.c - the figures of `sensorgram explain` (src/train/explain.h):
 *
 *   one input   its raw channels drawn as lines, one row each, ordered by
 *               importance (most important on top; the drop of the
 *               predicted class's probability beside each name), with the
 *               time relevance shaded behind them: at each sample, the
 *               largest positive importance of a window covering it,
 *               relative to the input's largest; predicted and true
 *               labels in the title;
 *   summary     mean channel importance per true class as a heat map
 *               (classes x channels, channels in the data's order with a
 *               gap between unit-sensor triads and the unit named above).
 *
 * The engine calls these through job_opts.draw_explain_input/_summary.
 */
#include "figures/fig.h"
#include "src/base/sg_error.h"
#include "src/train/explain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TITLE_SIZE 14.0
#define LABEL_SIZE 11.0

/* The shade colour of relevance (orange) and the line colour. */
static const double shade_rgb[3] = {1.0, 0.55, 0.1};

int fig_explain_input_write(const char *path, const char *format, const explain_input_fig *f)
{
    fig_format fmt;
    int rc = fig_format_parse(&fmt, format);
    if (rc)
        return rc;
    int C = f->n_channels, T = f->n_samples;
    if (C < 1 || T < 1)
        return sg_fail(SG_E_INVALID, "explain figure: no channels or samples");
    double row = fmax(14.0, fmin(40.0, floor(900.0 / C)));
    double label_w = 190.0, x0 = label_w + 10, width = 1000, plot_w = width - x0 - 20;
    double y0 = 70, plot_h = row * C;
    int height = (int)ceil(y0 + plot_h + 60);
    fig_canvas cv;
    rc = fig_canvas_open(&cv, path, fmt, (int)width, height);
    if (rc)
        return rc;
    cairo_t *cr = cv.cr;
    char title[512], line2[512];
    snprintf(title, sizeof title, "%s", f->input ? f->input : "");
    char fitted[512];
    cairo_set_source_rgb(cr, 0, 0, 0);
    fig_text_fit(cr, fitted, sizeof fitted, title, TITLE_SIZE, 1, width - 40);
    fig_text(cr, 20, 12, fitted, TITLE_SIZE, 1, 0, 0, 0);
    snprintf(line2, sizeof line2, "predicted: %s (p = %.3f)    true: %s", f->pred ? f->pred : "?",
             f->p_pred, f->truth ? f->truth : "unknown");
    fig_text(cr, 20, 34, line2, LABEL_SIZE + 1, 0, 0, 0, 0);

    /* time relevance behind every row */
    double wmax = 0.0;
    for (int w = 0; w < f->n_windows; w++)
        wmax = fmax(wmax, f->win_importance[w]);
    double dx = plot_w / T;
    for (int t = 0; t < T && wmax > 0; t++) {
        double r = 0.0;
        for (int w = 0; w < f->n_windows; w++)
            if (t >= f->win_start[w] && t < f->win_end[w])
                r = fmax(r, f->win_importance[w] / wmax);
        if (r <= 0)
            continue;
        cairo_set_source_rgba(cr, shade_rgb[0], shade_rgb[1], shade_rgb[2], 0.55 * r);
        cairo_rectangle(cr, x0 + t * dx, y0, dx, plot_h);
        cairo_fill(cr);
    }

    /* the channels, most important first */
    double imax = 0.0;
    for (int c = 0; c < C; c++)
        imax = fmax(imax, fabs(f->importance[c]));
    for (int r = 0; r < C; r++) {
        int c = f->order ? f->order[r] : r;
        const double *x = f->series + (size_t)c * (size_t)T;
        double lo = x[0], hi = x[0];
        for (int t = 1; t < T; t++) {
            lo = fmin(lo, x[t]);
            hi = fmax(hi, x[t]);
        }
        double top = y0 + r * row, pad = row * 0.12;
        double span = hi > lo ? hi - lo : 1.0;
        /* the darker the line, the larger the drop */
        double a = imax > 0 ? fmax(0.0, f->importance[c]) / imax : 0.0;
        double g = 0.65 - 0.65 * a;
        cairo_set_source_rgb(cr, g, g, g + 0.1 * (1 - a));
        cairo_set_line_width(cr, 1.0 + a);
        for (int t = 0; t < T; t++) {
            double px = x0 + (t + 0.5) * dx;
            double py = top + pad + (row - 2 * pad) * (1.0 - (x[t] - lo) / span);
            if (t == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_set_line_width(cr, 0.5);
        cairo_move_to(cr, x0, top + row);
        cairo_line_to(cr, x0 + plot_w, top + row);
        cairo_stroke(cr);
        char lab[160], fit[160];
        snprintf(lab, sizeof lab, "%s  %+.3f",
                 f->channel_names && f->channel_names[c] ? f->channel_names[c] : "?",
                 f->importance[c]);
        fig_text_fit(cr, fit, sizeof fit, lab, fmin(LABEL_SIZE, row * 0.7), r == 0, label_w);
        cairo_set_source_rgb(cr, 0, 0, 0);
        fig_text(cr, x0 - 8, top + row / 2, fit, fmin(LABEL_SIZE, row * 0.7), r == 0, 1, 0.5, 0);
    }
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x0, y0, plot_w, plot_h);
    cairo_stroke(cr);
    /* sample ticks */
    for (int k = 0; k <= 4; k++) {
        int t = (int)llround((double)k * T / 4.0);
        char buf[32];
        snprintf(buf, sizeof buf, "%d", t);
        cairo_set_source_rgb(cr, 0, 0, 0);
        fig_text(cr, x0 + t * dx, y0 + plot_h + 4, buf, LABEL_SIZE, 0, 0.5, 0, 0);
    }
    char foot[256];
    snprintf(foot, sizeof foot,
             "sample; shaded: drop of p(%s) when a window is occluded (largest %.3f); "
             "beside each channel: its drop",
             f->pred ? f->pred : "?", wmax);
    fig_text(cr, x0, y0 + plot_h + 24, foot, LABEL_SIZE, 0, 0, 0, 0);
    return fig_canvas_commit(&cv);
}

/* Length of the unit-sensor prefix of a channel name ("T_acc" of
 * "T_acc_x"), or the whole name. */
static size_t triad_len(const char *s)
{
    const char *last = strrchr(s, '_');
    const char *first = strchr(s, '_');
    return first && last && first != last ? (size_t)(last - s) : strlen(s);
}

static size_t unit_len(const char *s)
{
    const char *first = strchr(s, '_');
    const char *last = strrchr(s, '_');
    return first && last && first != last ? (size_t)(first - s) : strlen(s);
}

static int same_prefix(const char *a, const char *b, size_t (*len)(const char *))
{
    size_t la = len(a), lb = len(b);
    return la == lb && strncmp(a, b, la) == 0;
}

int fig_explain_summary_write(const char *path, const char *format,
                              const explain_summary_fig *f)
{
    fig_format fmt;
    int rc = fig_format_parse(&fmt, format);
    if (rc)
        return rc;
    int K = f->n_classes, C = f->n_channels;
    if (K < 1 || C < 1)
        return sg_fail(SG_E_INVALID, "explain summary: no classes or channels");
    /* gaps between triads */
    int gaps = 0;
    for (int c = 1; c < C; c++)
        gaps += !same_prefix(f->channel_names[c - 1], f->channel_names[c], triad_len);
    double gap = 6.0;
    double cw = fmax(10.0, fmin(28.0, floor((1100.0 - gaps * gap) / C)));
    double rh = 20.0;
    double lw = fmin(fig_text_max_width(f->class_names, K, LABEL_SIZE, 0), 240.0);
    double x0 = 20 + lw + 10 + 40, y0 = 96;
    double names_h = fmin(fig_text_max_width(f->channel_names, C, LABEL_SIZE - 1, 0), 140.0);
    double mat_w = C * cw + gaps * gap;
    int width = (int)ceil(x0 + mat_w + 110);
    int height = (int)ceil(y0 + K * rh + names_h + 30);
    fig_canvas cv;
    rc = fig_canvas_open(&cv, path, fmt, width < 520 ? 520 : width, height);
    if (rc)
        return rc;
    cairo_t *cr = cv.cr;
    double vmax = 0.0;
    for (size_t i = 0; i < (size_t)K * (size_t)C; i++)
        vmax = fmax(vmax, f->mean[i]);
    cairo_set_source_rgb(cr, 0, 0, 0);
    fig_text(cr, 20, 12, "Mean channel importance per true class", TITLE_SIZE, 1, 0, 0, 0);
    char sub[160];
    snprintf(sub, sizeof sub,
             "drop of the predicted class's probability when the channel is occluded "
             "(colour: 0 .. %.3f)", vmax);
    fig_text(cr, 20, 34, sub, LABEL_SIZE, 0, 0, 0, 0);
    double *xs = malloc((size_t)C * sizeof *xs);
    if (!xs) {
        fig_canvas_abort(&cv);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    double x = x0;
    for (int c = 0; c < C; c++) {
        if (c > 0 && !same_prefix(f->channel_names[c - 1], f->channel_names[c], triad_len))
            x += gap;
        xs[c] = x;
        x += cw;
    }
    /* unit names above their columns */
    for (int c = 0; c < C;) {
        int e = c + 1;
        while (e < C && same_prefix(f->channel_names[c], f->channel_names[e], unit_len))
            e++;
        char u[64];
        size_t ul = unit_len(f->channel_names[c]);
        snprintf(u, sizeof u, "%.*s", (int)(ul < 60 ? ul : 60), f->channel_names[c]);
        cairo_set_source_rgb(cr, 0, 0, 0);
        fig_text(cr, (xs[c] + xs[e - 1] + cw) / 2, y0 - 22, u, LABEL_SIZE + 1, 1, 0.5, 1, 0);
        /* the triads of the unit, as a bracket line */
        cairo_set_line_width(cr, 1.0);
        cairo_move_to(cr, xs[c], y0 - 8);
        cairo_line_to(cr, xs[e - 1] + cw, y0 - 8);
        cairo_stroke(cr);
        c = e;
    }
    for (int k = 0; k < K; k++) {
        double y = y0 + k * rh;
        cairo_set_source_rgb(cr, 0, 0, 0);
        char fit[256];
        fig_text_fit(cr, fit, sizeof fit, f->class_names[k], LABEL_SIZE, 0, lw);
        fig_text(cr, x0 - 8, y + rh / 2, fit, LABEL_SIZE, 0, 1, 0.5, 0);
        for (int c = 0; c < C; c++) {
            double v = f->mean[(size_t)k * (size_t)C + (size_t)c];
            double rgb[3];
            if (f->count[k] == 0) {
                rgb[0] = rgb[1] = rgb[2] = 0.92;
            } else {
                fig_colormap_viridis(vmax > 0 ? fmax(0.0, v) / vmax : 0.0, rgb);
            }
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, xs[c], y, cw - 1, rh - 1);
            cairo_fill(cr);
        }
    }
    for (int c = 0; c < C; c++) {
        char fit[128];
        fig_text_fit(cr, fit, sizeof fit, f->channel_names[c], LABEL_SIZE - 1, 0, names_h);
        cairo_set_source_rgb(cr, 0, 0, 0);
        fig_text(cr, xs[c] + cw / 2, y0 + K * rh + 6, fit, LABEL_SIZE - 1, 0, 1, 0.5, 90);
    }
    free(xs);
    return fig_canvas_commit(&cv);
}
