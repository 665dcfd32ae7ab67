/* fig_per_class.c - per-class F1 as horizontal bars, from a confusion
 * matrix.  Classes keep their index order (so the figure lines up with
 * the confusion matrix); the macro F1 is drawn as a dashed line.
 */
#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void fig_per_class_f1_compute(double *f1, const double *counts, int n)
{
    for (int k = 0; k < n; k++) {
        double tp = counts[k * n + k], pred = 0, actual = 0;
        for (int i = 0; i < n; i++) {
            pred += counts[i * n + k];
            actual += counts[k * n + i];
        }
        double p = pred > 0 ? tp / pred : 0, r = actual > 0 ? tp / actual : 0;
        f1[k] = p + r > 0 ? 2 * p * r / (p + r) : 0;
    }
}

int fig_per_class_f1_write(const char *path, fig_format format, const double *counts, int n,
                           const char *const *names)
{
    if (n < 1)
        return sg_fail(SG_E_INVALID, "%s: per-class F1 needs at least one class", path);
    double *f1 = malloc((size_t)n * sizeof *f1);
    if (!f1)
        return sg_fail(SG_E_NOMEM, "out of memory");
    fig_per_class_f1_compute(f1, counts, n);
    double macro = 0;
    for (int k = 0; k < n; k++)
        macro += f1[k];
    macro /= n;

    const double label_size = 12, bar_h = n > 12 ? 22 : 30;
    fig_canvas c;
    double lw = fig_text_max_width(names, n, label_size, 0);
    lw = fmin(lw, 220);
    fig_axes ax = {.x = ceil(lw + 24), .y = 56, .w = 520, .h = bar_h * n,
                   .x0 = 0, .x1 = 1, .y0 = 0, .y1 = n};
    int width = (int)(ax.x + ax.w + 70), height = (int)(ax.y + ax.h + 58);
    int rc = fig_canvas_open(&c, path, format, width, height);
    if (rc) {
        free(f1);
        return rc;
    }
    cairo_t *cr = c.cr;
    char buf[512];
    snprintf(buf, sizeof buf, "Per-class F1 (macro F1 %.3f, dashed line)", macro);
    ax.y_ticks_off = 1; /* rows are classes, labelled below */
    fig_axes_draw(cr, &ax, buf, "F1 score", NULL);
    double red[3] = {0.84, 0.15, 0.16};
    fig_axes_vline(cr, &ax, macro, red, NULL); /* behind the bars */
    for (int k = 0; k < n; k++) {
        double rgb[3];
        fig_palette(0, rgb);
        double y = ax.y + k * bar_h;
        double w = f1[k] * ax.w;
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, ax.x + 1, y + bar_h * 0.18, w, bar_h * 0.64);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fig_text_fit(cr, buf, sizeof buf, names[k], label_size, 0, 220);
        fig_text(cr, ax.x - 8, y + bar_h / 2, buf, label_size, 0, 1.0, 0.5, 0);
        snprintf(buf, sizeof buf, "%.2f", f1[k]);
        /* values sit inside the bar's end (outside when it is too short),
         * clear of the macro line */
        double tx = ax.x + w + 5;
        if (f1[k] >= 0.12) {
            cairo_set_source_rgb(cr, 1, 1, 1);
            fig_text(cr, ax.x + w - 5, y + bar_h / 2, buf, 10.5, 0, 1.0, 0.5, 0);
        } else {
            fig_text(cr, tx, y + bar_h / 2, buf, 10.5, 0, 0.0, 0.5, 0);
        }
    }
    free(f1);
    return fig_canvas_commit(&c);
}
