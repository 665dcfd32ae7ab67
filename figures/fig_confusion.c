/* fig_confusion.c - confusion matrices: read from a run folder (either
 * confusion_matrix.csv or predictions.csv) and draw as a heat map with
 * counts or row-normalized fractions in the cells.
 *
 * The layout depends only on the class count and names
 * (fig_confusion_geometry), so tests can sample known pixels.  Cells are
 * pixel-aligned squares filled with fig_colormap_viridis(value / max).
 */
#include "figures/fig.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_SIZE 12.0
#define LABEL_MAX_W 220.0
#define TITLE_SIZE 15.0

void fig_confusion_geometry(fig_confusion_geom *g, int n, const char *const *names)
{
    double lw = fmin(fig_text_max_width(names, n, LABEL_SIZE, 0), LABEL_MAX_W);
    double cell = floor(640.0 / (n > 0 ? n : 1));
    cell = fmax(34.0, fmin(110.0, cell));
    g->cell = cell;
    g->value_size = fmax(9.0, fmin(18.0, round(cell * 0.30)));
    g->x0 = ceil(30 + lw + 12);   /* "True" label, names, gap */
    g->y0 = 64;                    /* title */
    double mat = cell * n;
    g->bar_x = g->x0 + mat + 22;
    g->bar_w = 18;
    /* x labels are rotated 45 degrees: their height is w * sin 45 */
    double bottom = 10 + lw * 0.7072 + LABEL_SIZE + 34;
    double w = g->bar_x + g->bar_w + 62;
    g->width = (int)ceil(fmax(w, 480));
    g->height = (int)ceil(g->y0 + mat + bottom);
}

static void format_value(char *buf, size_t n, double v, int normalized)
{
    if (v == 0)
        snprintf(buf, n, "0");
    else if (normalized)
        snprintf(buf, n, "%.2f", v);
    else
        snprintf(buf, n, "%.0f", v);
}

static void draw_colour_bar(cairo_t *cr, const fig_confusion_geom *g, double top, double height,
                            double vmax, int normalized)
{
    /* The map is piecewise linear in RGB with breakpoints at multiples
     * of 1/16, so a cairo gradient with these stops reproduces it. */
    cairo_pattern_t *p = cairo_pattern_create_linear(0, top + height, 0, top);
    for (int k = 0; k <= 16; k++) {
        double rgb[3];
        fig_colormap_viridis(k / 16.0, rgb);
        cairo_pattern_add_color_stop_rgb(p, k / 16.0, rgb[0], rgb[1], rgb[2]);
    }
    cairo_rectangle(cr, g->bar_x, top, g->bar_w, height);
    cairo_set_source(cr, p);
    cairo_fill(cr);
    cairo_pattern_destroy(p);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, g->bar_x + 0.5, top + 0.5, g->bar_w - 1, height - 1);
    cairo_stroke(cr);

    fig_axes ax = {.x = g->bar_x, .y = top, .w = g->bar_w, .h = height,
                   .x0 = 0, .x1 = 1, .y0 = 0, .y1 = vmax};
    double raw = vmax / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
    if (!normalized && step < 1)
        step = 1;
    char buf[32];
    for (double v = 0; v <= vmax * (1 + 1e-9); v += step) {
        double py = round(fig_axes_py(&ax, v)) + 0.5;
        cairo_move_to(cr, g->bar_x + g->bar_w, py);
        cairo_line_to(cr, g->bar_x + g->bar_w + 4, py);
        cairo_stroke(cr);
        if (normalized)
            snprintf(buf, sizeof buf, "%.1f", v);
        else
            snprintf(buf, sizeof buf, "%.0f", v);
        fig_text(cr, g->bar_x + g->bar_w + 7, py, buf, 10.5, 0, 0.0, 0.5, 0);
    }
}

int fig_confusion_write(const char *path, fig_format format, const double *counts, int n,
                        const char *const *names, int normalized)
{
    if (n < 1)
        return sg_fail(SG_E_INVALID, "%s: a confusion matrix needs at least one class", path);
    double total = 0, correct = 0, vmax = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double v = counts[i * n + j];
            if (!isfinite(v) || v < 0)
                return sg_fail(SG_E_INVALID, "%s: bad count %g at (%d, %d)", path, v, i, j);
            total += v;
            if (i == j)
                correct += v;
            vmax = fmax(vmax, v);
        }
    fig_confusion_geom g;
    fig_confusion_geometry(&g, n, names);
    fig_canvas c;
    int rc = fig_canvas_open(&c, path, format, g.width, g.height);
    if (rc)
        return rc;
    cairo_t *cr = c.cr;
    if (normalized)
        vmax = 1.0;
    if (vmax <= 0)
        vmax = 1.0;
    char buf[512];

    for (int i = 0; i < n; i++) {
        double row = 0;
        for (int j = 0; j < n; j++)
            row += counts[i * n + j];
        for (int j = 0; j < n; j++) {
            double v = counts[i * n + j];
            if (normalized)
                v = row > 0 ? v / row : 0;
            double rgb[3];
            fig_colormap_viridis(v / vmax, rgb);
            double x = g.x0 + j * g.cell, y = g.y0 + i * g.cell;
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, x, y, g.cell, g.cell);
            cairo_fill(cr);
            if (fig_text_dark_on(rgb))
                cairo_set_source_rgb(cr, 0, 0, 0);
            else
                cairo_set_source_rgb(cr, 1, 1, 1);
            format_value(buf, sizeof buf, v, normalized);
            fig_text(cr, x + g.cell / 2, y + g.cell / 2, buf, g.value_size, 0, 0.5, 0.5, 0);
        }
    }
    double mat = g.cell * n;
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, g.x0 - 0.5, g.y0 - 0.5, mat + 1, mat + 1);
    cairo_stroke(cr);

    /* class names: rows on the left, columns below at 45 degrees */
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (int i = 0; i < n; i++) {
        fig_text_fit(cr, buf, sizeof buf, names[i], LABEL_SIZE, 0, LABEL_MAX_W);
        fig_text(cr, g.x0 - 8, g.y0 + (i + 0.5) * g.cell, buf, LABEL_SIZE, 0, 1.0, 0.5, 0);
        double cx = g.x0 + (i + 0.5) * g.cell, by = g.y0 + mat + 8;
        fig_text(cr, cx + 4, by, buf, LABEL_SIZE, 0, 1.0, 0.5, 45);
    }
    fig_text(cr, 16, g.y0 + mat / 2, "True class", 13, 1, 0.5, 0.5, 90);
    fig_text(cr, g.x0 + mat / 2, g.height - 12, "Predicted class", 13, 1, 0.5, 1.0, 0);

    double acc = total > 0 ? correct / total : 0;
    snprintf(buf, sizeof buf, "%s - accuracy %.1f%% (%.0f of %.0f)",
             normalized ? "Confusion matrix, row-normalized" : "Confusion matrix", 100 * acc,
             correct, total);
    fig_text(cr, g.width / 2.0, 30, buf, TITLE_SIZE, 1, 0.5, 0.5, 0);

    draw_colour_bar(cr, &g, g.y0, mat, vmax, normalized);
    return fig_canvas_commit(&c);
}

/* ------------------------------------------------------------------ */

void fig_confusion_free(fig_confusion *cm)
{
    if (!cm)
        return;
    if (cm->names)
        for (int i = 0; i < cm->n; i++)
            free(cm->names[i]);
    free(cm->names);
    free(cm->counts);
    memset(cm, 0, sizeof *cm);
}

static int confusion_alloc(fig_confusion *cm, int n, char *const *names)
{
    memset(cm, 0, sizeof *cm);
    cm->names = calloc((size_t)n, sizeof *cm->names);
    cm->counts = calloc((size_t)n * (size_t)n, sizeof *cm->counts);
    if (!cm->names || !cm->counts) {
        fig_confusion_free(cm);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    cm->n = n;
    for (int i = 0; i < n; i++) {
        cm->names[i] = strdup(names[i]);
        if (!cm->names[i]) {
            fig_confusion_free(cm);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
    }
    return SG_OK;
}

int fig_confusion_read(fig_confusion *cm, const char *path)
{
    csv_table t;
    memset(cm, 0, sizeof *cm);
    int rc = csv_table_read(&t, path);
    if (rc)
        return rc;
    int n = (int)t.n_cols - 1;
    if (n < 1 || strcmp(t.header[0], "label") != 0) {
        rc = sg_fail(SG_E_PARSE, "%s:1: expected header 'label,<class 0>,...'", path);
        goto done;
    }
    if (t.n_rows != (size_t)n) {
        rc = sg_fail(SG_E_PARSE, "%s: %zu rows for %d classes in the header", path, t.n_rows, n);
        goto done;
    }
    rc = confusion_alloc(cm, n, t.header + 1);
    if (rc)
        goto done;
    for (int i = 0; i < n; i++) {
        if (strcmp(csv_table_cell(&t, (size_t)i, 0), t.header[i + 1]) != 0) {
            rc = sg_fail(SG_E_PARSE, "%s:%ld:1: row class '%s' differs from column %d's '%s'",
                         path, t.line[i], csv_table_cell(&t, (size_t)i, 0), i + 2,
                         t.header[i + 1]);
            goto done;
        }
        for (int j = 0; j < n; j++) {
            double v;
            rc = csv_table_number(&t, (size_t)i, j + 1, &v, NULL);
            if (rc)
                goto done;
            if (v < 0) {
                rc = sg_fail(SG_E_PARSE, "%s:%ld:%d: negative count %g", path, t.line[i], j + 2,
                             v);
                goto done;
            }
            cm->counts[i * n + j] = v;
        }
    }
done:
    if (rc)
        fig_confusion_free(cm);
    csv_table_free(&t);
    return rc;
}

int fig_confusion_from_predictions(fig_confusion *cm, const char *path)
{
    csv_table t;
    memset(cm, 0, sizeof *cm);
    int rc = csv_table_read(&t, path);
    if (rc)
        return rc;
    int c_label, c_pred, c_loss;
    if ((rc = csv_table_require_column(&t, "label", &c_label)) ||
        (rc = csv_table_require_column(&t, "pred", &c_pred)) ||
        (rc = csv_table_require_column(&t, "loss", &c_loss)))
        goto done;
    int n = (int)t.n_cols - (c_loss + 1);
    if (n < 1) {
        rc = sg_fail(SG_E_PARSE, "%s:1: no class probability columns after 'loss'", path);
        goto done;
    }
    rc = confusion_alloc(cm, n, t.header + c_loss + 1);
    if (rc)
        goto done;
    for (size_t r = 0; r < t.n_rows; r++) {
        int idx[2] = {-1, -1};
        const int cols[2] = {c_label, c_pred};
        for (int k = 0; k < 2; k++) {
            const char *s = csv_table_cell(&t, r, cols[k]);
            for (int i = 0; i < n && idx[k] < 0; i++)
                if (strcmp(s, cm->names[i]) == 0)
                    idx[k] = i;
            if (idx[k] < 0) {
                rc = sg_fail(SG_E_PARSE, "%s:%ld:%d: unknown class '%s' in column '%s'", path,
                             t.line[r], cols[k] + 1, s, t.header[cols[k]]);
                goto done;
            }
        }
        cm->counts[idx[0] * n + idx[1]] += 1;
    }
done:
    if (rc)
        fig_confusion_free(cm);
    csv_table_free(&t);
    return rc;
}
