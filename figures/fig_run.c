/* fig_run.c - redraws every figure of a run folder from the files the
 * run left (run_files.h) into RUN_DIR/figures/, then RUN_DIR/report.html
 * over them (fig_report.c).  A missing input skips its figures; an input
 * that exists but is bad fails the whole call.
 */
#include "figures/fig.h"
#include "src/train/run_files.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct run_paths {
    const char *run_dir;
    fig_format format;
    fig_written_fn written;
    void *ctx;
    char in[4096];   /* scratch: an input path */
    char out[4096];  /* scratch: an output path */
    int made_dir;
} run_paths;

/* Sets rp->in to RUN_DIR/name; returns 1 when that file exists. */
static int input(run_paths *rp, const char *name)
{
    snprintf(rp->in, sizeof rp->in, "%s/%s", rp->run_dir, name);
    return access(rp->in, F_OK) == 0;
}

/* Sets rp->out to RUN_DIR/figures/base.ext, creating the folder once. */
static int output(run_paths *rp, const char *base)
{
    if (!rp->made_dir) {
        snprintf(rp->out, sizeof rp->out, "%s/%s", rp->run_dir, SG_RUN_FIGURES);
        int rc = sg_mkdir_p(rp->out);
        if (rc)
            return rc;
        rp->made_dir = 1;
    }
    snprintf(rp->out, sizeof rp->out, "%s/%s/%s.%s", rp->run_dir, SG_RUN_FIGURES, base,
             fig_format_ext(rp->format));
    return SG_OK;
}

static void report(run_paths *rp)
{
    if (rp->written)
        rp->written(rp->out, rp->ctx);
}

static int draw_confusion(run_paths *rp, int *drawn)
{
    fig_confusion cm;
    int rc;
    if (input(rp, SG_RUN_CONFUSION))
        rc = fig_confusion_read(&cm, rp->in);
    else if (input(rp, SG_RUN_PREDICTIONS))
        rc = fig_confusion_from_predictions(&cm, rp->in);
    else
        return SG_OK;
    if (rc)
        return rc;
    const char *const *names = (const char *const *)cm.names;
    static const char *const bases[2] = {"confusion_matrix", "confusion_matrix_normalized"};
    for (int k = 0; k < 2 && !rc; k++) {
        if (!(rc = output(rp, bases[k])) &&
            !(rc = fig_confusion_write(rp->out, rp->format, cm.counts, cm.n, names, k)))
            report(rp);
    }
    if (!rc && !(rc = output(rp, "per_class_f1")) &&
        !(rc = fig_per_class_f1_write(rp->out, rp->format, cm.counts, cm.n, names)))
        report(rp);
    fig_confusion_free(&cm);
    *drawn += rc == SG_OK;
    return rc;
}

static int draw_metrics(run_paths *rp, int *drawn)
{
    if (!input(rp, SG_RUN_METRICS))
        return SG_OK;
    fig_metrics m;
    int rc = fig_metrics_read(&m, rp->in);
    if (rc)
        return rc;
    if (!(rc = output(rp, "loss_curves")) &&
        !(rc = fig_loss_curves_write(rp->out, rp->format, &m)))
        report(rp);
    int have_acc = 0;
    for (size_t i = 0; i < m.n_epochs; i++)
        have_acc |= isfinite(m.accuracy[i]);
    if (!rc && have_acc && !(rc = output(rp, "accuracy")) &&
        !(rc = fig_accuracy_write(rp->out, rp->format, &m)))
        report(rp);
    if (!rc && m.n_steps > 0 && !(rc = output(rp, "lr_schedule")) &&
        !(rc = fig_lr_schedule_write(rp->out, rp->format, &m)))
        report(rp);
    fig_metrics_free(&m);
    *drawn += rc == SG_OK;
    return rc;
}

static int draw_top_losses(run_paths *rp, int *drawn)
{
    if (!input(rp, SG_RUN_TOP_LOSSES))
        return SG_OK;
    int rc = output(rp, "top_losses");
    if (!rc && !(rc = fig_top_losses_write(rp->out, rp->format, rp->run_dir, 16)))
        report(rp);
    *drawn += rc == SG_OK;
    return rc;
}

static int draw_lr_find(run_paths *rp, int *drawn)
{
    if (!input(rp, SG_RUN_LR_FIND))
        return SG_OK;
    int rc = output(rp, "lr_find"); /* creates the folder, sets the name */
    if (!rc && !(rc = fig_lr_find_draw(rp->run_dir, rp->format)))
        report(rp);
    *drawn += rc == SG_OK;
    return rc;
}

int fig_run_dir_draw_ex(const char *run_dir, fig_format format, fig_written_fn written, void *ctx)
{
    run_paths rp = {.run_dir = run_dir, .format = format, .written = written, .ctx = ctx};
    int drawn = 0, rc;
    if ((rc = draw_confusion(&rp, &drawn)) || (rc = draw_metrics(&rp, &drawn)) ||
        (rc = draw_top_losses(&rp, &drawn)) || (rc = draw_lr_find(&rp, &drawn)))
        return rc;
    if (drawn == 0)
        return sg_fail(SG_E_IO,
                       "%s: no run files to draw from (%s, %s, %s, %s, %s)", run_dir,
                       SG_RUN_METRICS, SG_RUN_CONFUSION, SG_RUN_PREDICTIONS, SG_RUN_TOP_LOSSES,
                       SG_RUN_LR_FIND);
    snprintf(rp.out, sizeof rp.out, "%s/%s", run_dir, SG_RUN_REPORT);
    if ((rc = fig_report_write(run_dir, format)))
        return rc;
    report(&rp);
    return SG_OK;
}

int fig_run_dir_draw(const char *run_dir, const char *format)
{
    fig_format f;
    int rc = fig_format_parse(&f, format);
    if (rc)
        return rc;
    return fig_run_dir_draw_ex(run_dir, f, NULL, NULL);
}
