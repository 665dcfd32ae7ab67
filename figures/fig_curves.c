/* fig_curves.c - training curves from fig_metrics: loss_curves,
 * accuracy and lr_schedule (learning rate and momentum, two panels).
 * x is always the global step, so the three figures line up; phase
 * changes (frozen head -> unfrozen, or the next fold) are dashed lines.
 */
#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double grey[3] = {0.45, 0.45, 0.45};

/* Dashed lines where the step rows' phase changes. */
static void draw_phase_marks(cairo_t *cr, const fig_axes *ax, const fig_metrics *m)
{
    char label[32];
    for (size_t i = 1; i < m->n_steps; i++) {
        if (m->step_phase[i] == m->step_phase[i - 1])
            continue;
        if (m->step_phase[i - 1] == 0 && m->step_phase[i] == 1)
            snprintf(label, sizeof label, "unfrozen");
        else
            snprintf(label, sizeof label, "phase %d", m->step_phase[i]);
        fig_axes_vline(cr, ax, m->step[i] - 0.5, grey, label);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of the finite values of y (NaN when none). */
static double quantile(const double *y, size_t n, double q)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return NAN;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]))
            s[k++] = y[i];
    double v = NAN;
    if (k) {
        qsort(s, k, sizeof *s, cmp_double);
        v = s[(size_t)floor(q * (double)(k - 1))];
    }
    free(s);
    return v;
}

/* The step range both step and epoch rows cover. */
static void fit_steps(fig_axes *ax, const fig_metrics *m)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < m->n_steps; i++) {
        lo = fmin(lo, m->step[i]);
        hi = fmax(hi, m->step[i]);
    }
    for (size_t i = 0; i < m->n_epochs; i++) {
        lo = fmin(lo, m->epoch_step[i]);
        hi = fmax(hi, m->epoch_step[i]);
    }
    if (!(lo < hi)) {
        lo = isfinite(lo) ? lo - 0.5 : 0;
        hi = lo + 1;
    }
    ax->x0 = lo;
    ax->x1 = hi;
}

int fig_loss_curves_write(const char *path, fig_format format, const fig_metrics *m)
{
    if (m->n_steps == 0 && m->n_epochs == 0)
        return sg_fail(SG_E_INVALID, "%s: no metrics to draw", path);
    double *smooth = malloc((m->n_steps ? m->n_steps : 1) * sizeof *smooth);
    if (!smooth)
        return sg_fail(SG_E_NOMEM, "out of memory");
    /* An EMA window of about 1/25 of the run (at most fastai's 0.98):
     * a fixed 0.98 lags visibly behind short runs. */
    double beta = 1.0 - 25.0 / (double)(m->n_steps > 0 ? m->n_steps : 1);
    beta = fmin(0.98, fmax(0.5, beta));
    fig_smooth_ema(smooth, m->loss, m->n_steps, beta);

    fig_canvas c;
    int rc = fig_canvas_open(&c, path, format, 900, 540);
    if (rc) {
        free(smooth);
        return rc;
    }
    fig_axes ax = {.x = 84, .y = 46, .w = 786, .h = 424};
    /* y: smoothed and validation losses, plus the raw batches up to
     * their 98th percentile (single outlier batches would flatten all) */
    fig_axes_fit(&ax, m->step, smooth, m->n_steps, 0);
    double ymin = ax.y0, ymax = ax.y1;
    if (m->n_steps == 0)
        ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < m->n_epochs; i++)
        if (isfinite(m->valid_loss[i])) {
            ymin = fmin(ymin, m->valid_loss[i]);
            ymax = fmax(ymax, m->valid_loss[i]);
        }
    double q = quantile(m->loss, m->n_steps, 0.98), qlo = quantile(m->loss, m->n_steps, 0.0);
    if (isfinite(q))
        ymax = fmax(ymax, q);
    if (isfinite(qlo))
        ymin = fmin(ymin, qlo);
    if (!(ymin < ymax)) {
        ymin = isfinite(ymin) ? ymin - 0.5 : 0;
        ymax = ymin + 1;
    }
    ax.y0 = fmax(0.0, ymin - 0.04 * (ymax - ymin));
    ax.y1 = ymax + 0.04 * (ymax - ymin);
    fit_steps(&ax, m);

    cairo_t *cr = c.cr;
    fig_axes_draw(cr, &ax, "Training and validation loss", "step", "loss");
    draw_phase_marks(cr, &ax, m);
    double blue[3], orange[3];
    fig_palette(0, blue);
    fig_palette(1, orange);
    fig_axes_line(cr, &ax, m->step, m->loss, m->n_steps, blue, 0.25, 1.0);
    fig_axes_line(cr, &ax, m->step, smooth, m->n_steps, blue, 1.0, 2.0);
    fig_axes_line(cr, &ax, m->epoch_step, m->valid_loss, m->n_epochs, orange, 1.0, 2.0);
    fig_axes_dots(cr, &ax, m->epoch_step, m->valid_loss, m->n_epochs, orange, 3.5);
    const char *names[3] = {"train (per batch)", "train (smoothed)", "valid (per epoch)"};
    const double cols[3][3] = {{0.75, 0.85, 0.93}, {blue[0], blue[1], blue[2]},
                               {orange[0], orange[1], orange[2]}};
    fig_axes_legend(cr, &ax, names, cols, 3, 0);
    free(smooth);
    return fig_canvas_commit(&c);
}

int fig_accuracy_write(const char *path, fig_format format, const fig_metrics *m)
{
    double last = NAN, best = NAN;
    for (size_t i = 0; i < m->n_epochs; i++)
        if (isfinite(m->accuracy[i])) {
            last = m->accuracy[i];
            best = isfinite(best) ? fmax(best, last) : last;
        }
    if (!isfinite(last))
        return sg_fail(SG_E_INVALID, "%s: no epoch with an accuracy to draw", path);
    fig_canvas c;
    int rc = fig_canvas_open(&c, path, format, 900, 540);
    if (rc)
        return rc;
    fig_axes ax = {.x = 84, .y = 46, .w = 786, .h = 424};
    fig_axes_fit(&ax, m->epoch_step, m->accuracy, m->n_epochs, 0);
    fig_axes_pad_y(&ax, 0.08);
    ax.y0 = fmax(0.0, ax.y0);
    ax.y1 = fmin(1.0, ax.y1);
    if (ax.y1 - ax.y0 < 0.02)
        ax.y0 = fmax(0.0, ax.y1 - 0.02);
    fit_steps(&ax, m);
    char title[128];
    snprintf(title, sizeof title, "Validation accuracy (last %.2f%%, best %.2f%%)", 100 * last,
             100 * best);
    cairo_t *cr = c.cr;
    fig_axes_draw(cr, &ax, title, "step", "accuracy");
    draw_phase_marks(cr, &ax, m);
    double green[3];
    fig_palette(2, green);
    fig_axes_line(cr, &ax, m->epoch_step, m->accuracy, m->n_epochs, green, 1.0, 2.0);
    fig_axes_dots(cr, &ax, m->epoch_step, m->accuracy, m->n_epochs, green, 3.5);
    return fig_canvas_commit(&c);
}

int fig_lr_schedule_write(const char *path, fig_format format, const fig_metrics *m)
{
    if (m->n_steps == 0)
        return sg_fail(SG_E_INVALID, "%s: no step rows to draw a schedule from", path);
    fig_canvas c;
    int rc = fig_canvas_open(&c, path, format, 900, 640);
    if (rc)
        return rc;
    cairo_t *cr = c.cr;
    fig_axes top = {.x = 84, .y = 46, .w = 786, .h = 230};
    fig_axes bottom = {.x = 84, .y = 348, .w = 786, .h = 230};
    fig_axes_fit(&top, m->step, m->lr, m->n_steps, 0);
    top.y0 = 0; /* one-cycle starts near zero: show its shape from 0 */
    top.y1 *= 1.06;
    fig_axes_fit(&bottom, m->step, m->momentum, m->n_steps, 0);
    fig_axes_pad_y(&bottom, 0.1);
    fit_steps(&top, m);
    fit_steps(&bottom, m);
    double blue[3], purple[3];
    fig_palette(0, blue);
    fig_palette(4, purple);
    fig_axes_draw(cr, &top, "Learning rate (head group)", NULL, "learning rate");
    draw_phase_marks(cr, &top, m);
    fig_axes_line(cr, &top, m->step, m->lr, m->n_steps, blue, 1.0, 2.0);
    fig_axes_draw(cr, &bottom, "Momentum (beta1)", "step", "momentum");
    draw_phase_marks(cr, &bottom, m);
    fig_axes_line(cr, &bottom, m->step, m->momentum, m->n_steps, purple, 1.0, 2.0);
    return fig_canvas_commit(&c);
}
