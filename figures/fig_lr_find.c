/* fig_lr_find.c - the learning-rate range test: smoothed loss against
 * log10(lr), with the suggested rates (lr_find_suggestions.csv) marked.
 * The y range stops a little above the starting loss: the divergence at
 * the end of the sweep would otherwise squash the useful part.
 */
#include "figures/fig.h"
#include "src/base/csv_table.h"
#include "src/train/run_files.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Linear interpolation of y at x over increasing xs (NaN outside). */
static double interp(const double *xs, const double *ys, size_t n, double x)
{
    for (size_t i = 1; i < n; i++) {
        if (!(xs[i - 1] <= x && x <= xs[i]))
            continue;
        double f = xs[i] > xs[i - 1] ? (x - xs[i - 1]) / (xs[i] - xs[i - 1]) : 0;
        return ys[i - 1] + f * (ys[i] - ys[i - 1]);
    }
    return NAN;
}

int fig_lr_find_write(const char *path, fig_format format, const double *lr, const double *loss,
                      const double *smoothed, size_t n, const char *const *sugg_names,
                      const double *sugg_lr, int n_sugg)
{
    if (n < 2)
        return sg_fail(SG_E_INVALID, "%s: lr-find needs at least 2 points, got %zu", path, n);
    if (n_sugg > 8)
        n_sugg = 8;
    double *lx = malloc(n * sizeof *lx), *sm = malloc(n * sizeof *sm);
    if (!lx || !sm) {
        free(lx);
        free(sm);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (!(lr[i] > 0)) {
            free(lx);
            free(sm);
            return sg_fail(SG_E_INVALID, "%s: learning rate %g at point %zu is not positive",
                           path, lr[i], i);
        }
        lx[i] = log10(lr[i]);
    }
    if (smoothed)
        memcpy(sm, smoothed, n * sizeof *sm);
    else
        fig_smooth_ema(sm, loss, n, 0.98);

    fig_axes ax = {.x = 84, .y = 46, .w = 786, .h = 424, .x_exp10 = 1};
    fig_axes_fit(&ax, lx, sm, n, 0);
    double lo = ax.y0, start = NAN;
    if (loss && smoothed) /* the light raw curve dips below the smoothed one */
        for (size_t i = 0; i < n; i++)
            if (isfinite(loss[i]))
                lo = fmin(lo, loss[i]);
    for (size_t i = 0; i < n && !isfinite(start); i++)
        start = sm[i];
    double hi = fmin(ax.y1, start + 1.0 * (start - lo) + 0.05 * fabs(start));
    if (!(hi > lo))
        hi = ax.y1;
    ax.y0 = lo - 0.05 * (hi - lo);
    ax.y1 = hi + 0.05 * (hi - lo);

    fig_canvas c;
    int rc = fig_canvas_open(&c, path, format, 900, 540);
    if (rc) {
        free(lx);
        free(sm);
        return rc;
    }
    cairo_t *cr = c.cr;
    fig_axes_draw(cr, &ax, "Learning-rate finder", "learning rate (log scale)", "loss");
    double blue[3];
    fig_palette(0, blue);
    if (loss && smoothed)
        fig_axes_line(cr, &ax, lx, loss, n, blue, 0.2, 1.0);
    fig_axes_line(cr, &ax, lx, sm, n, blue, 1.0, 2.0);

    const char *names[9];
    char labels[9][96];
    double cols[9][3];
    names[0] = "smoothed loss";
    memcpy(cols[0], blue, sizeof blue);
    for (int k = 0; k < n_sugg; k++) {
        double col[3];
        static const int sugg_colour[8] = {3, 2, 4, 5, 6, 8, 9, 1};
        fig_palette(sugg_colour[k], col);
        double x = log10(sugg_lr[k]);
        fig_axes_vline(cr, &ax, x, col, NULL);
        double y = interp(lx, sm, n, x);
        fig_axes_dots(cr, &ax, &x, &y, 1, col, 5);
        snprintf(labels[k + 1], sizeof labels[k + 1], "%s: %.2e", sugg_names[k], sugg_lr[k]);
        names[k + 1] = labels[k + 1];
        memcpy(cols[k + 1], col, sizeof col);
    }
    fig_axes_legend(cr, &ax, names, (const double(*)[3])cols, n_sugg + 1, 0);
    free(lx);
    free(sm);
    return fig_canvas_commit(&c);
}

static char *join(const char *dir, const char *a, const char *b)
{
    size_t n = strlen(dir) + strlen(a) + (b ? strlen(b) : 0) + 3;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s%s", dir, a, b ? "/" : "", b ? b : "");
    return p;
}

/* Reads lr_find_suggestions.csv when it exists; missing is not an error. */
static int read_suggestions(const char *path, csv_table *t, double *lr, int *n)
{
    *n = 0;
    if (access(path, F_OK) != 0)
        return SG_OK;
    int rc = csv_table_read(t, path);
    if (rc)
        return rc;
    int c_name, c_lr;
    if ((rc = csv_table_require_column(t, "name", &c_name)) ||
        (rc = csv_table_require_column(t, "lr", &c_lr)))
        return rc;
    for (size_t r = 0; r < t->n_rows && *n < 8; r++) {
        if ((rc = csv_table_number(t, r, c_lr, &lr[*n], NULL)))
            return rc;
        (*n)++;
    }
    return SG_OK;
}

int fig_lr_find_draw(const char *run_dir, fig_format format)
{
    char *csv = join(run_dir, SG_RUN_LR_FIND, NULL);
    char *sugg = join(run_dir, SG_RUN_LR_FIND_SUGGESTIONS, NULL);
    char *dir = join(run_dir, SG_RUN_FIGURES, NULL);
    char name[64];
    snprintf(name, sizeof name, "lr_find.%s", fig_format_ext(format));
    char *out = join(run_dir, SG_RUN_FIGURES, name);
    csv_table t = {0}, s = {0};
    double *lr = NULL, *loss = NULL, *sm = NULL;
    int rc = SG_OK;
    if (!csv || !sugg || !dir || !out) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = csv_table_read(&t, csv)))
        goto done;
    int c_lr, c_loss, c_sm;
    if ((rc = csv_table_require_column(&t, "lr", &c_lr)) ||
        (rc = csv_table_require_column(&t, "loss", &c_loss)))
        goto done;
    c_sm = csv_table_column(&t, "smoothed_loss");
    size_t n = t.n_rows;
    lr = malloc((n ? n : 1) * sizeof *lr);
    loss = malloc((n ? n : 1) * sizeof *loss);
    sm = malloc((n ? n : 1) * sizeof *sm);
    if (!lr || !loss || !sm) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    int have_sm = c_sm >= 0;
    for (size_t r = 0; r < n; r++) {
        int present = 1;
        if ((rc = csv_table_number(&t, r, c_lr, &lr[r], NULL)) ||
            (rc = csv_table_number(&t, r, c_loss, &loss[r], &present)))
            goto done;
        if (have_sm && (rc = csv_table_number(&t, r, c_sm, &sm[r], &present)))
            goto done;
    }
    double s_lr[8];
    const char *s_names[8];
    int n_sugg = 0;
    if ((rc = read_suggestions(sugg, &s, s_lr, &n_sugg)))
        goto done;
    for (int k = 0; k < n_sugg; k++)
        s_names[k] = csv_table_cell(&s, (size_t)k, csv_table_column(&s, "name"));
    if ((rc = sg_mkdir_p(dir)))
        goto done;
    rc = fig_lr_find_write(out, format, lr, loss, have_sm ? sm : NULL, n, s_names, s_lr, n_sugg);
done:
    csv_table_free(&t);
    csv_table_free(&s);
    free(lr);
    free(loss);
    free(sm);
    free(csv);
    free(sugg);
    free(dir);
    free(out);
    return rc;
}
