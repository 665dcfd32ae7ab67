/* job_lr_find.c - the engine of `sensorgram lr-find`: the learning-rate
 * range test.
 *
 * The learning rate grows exponentially from --start-lr (1e-7) to
 * --end-lr (10) over --steps (100) optimizer steps on the training part
 * of the data (as `train` would split it), and the loss is smoothed with
 * fastai's debiased exponential average (beta 0.98).  The test stops
 * early once the smoothed loss exceeds 4x its minimum (or is NaN).
 * Writes RUN_DIR/lr_find.csv and lr_find_suggestions.csv (minimum/10 and
 * the steepest descent); the command draws figures/lr_find.<fmt>.  The network is thrown
 * away afterwards: nothing here changes a later `train`.
 */
#include "src/train/pretrain.h"
#include "src/train/job_lr_find.h"
#include "src/train/job_budget.h"
#include "src/train/job_aug.h"
#include "src/train/job_data.h"
#include "src/train/job_setup.h"
#include "src/train/loader.h"
#include "src/train/run_dir.h"
#include "src/train/run_files.h"
#include "src/base/atomic_file.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SKIP_END = 5 };

typedef struct lr_trace {
    int n;
    double *lr, *loss, *smooth;
} lr_trace;

/* Suggestions over the trace without its first tenth (the debiased
 * average is still noisy there) and its last SKIP_END points, as fastai
 * does (lrs[num_it // 10 : -5]). */
static void suggest(const lr_trace *t, int planned, double *min_div10, double *steepest)
{
    int n = t->n > SKIP_END + 2 ? t->n - SKIP_END : t->n;
    int first = planned / 10 < n - 2 ? planned / 10 : 0;
    int best = first, steep = first;
    double steep_g = INFINITY;
    for (int i = first; i < n; i++) {
        if (t->smooth[i] < t->smooth[best])
            best = i;
        if (n < 2)
            continue;
        /* np.gradient of loss over log10(lr): central inside, one-sided at ends. */
        int a = i > first ? i - 1 : i, b = i < n - 1 ? i + 1 : i;
        double g = (t->smooth[b] - t->smooth[a]) / (log10(t->lr[b]) - log10(t->lr[a]));
        if (g < steep_g) {
            steep_g = g;
            steep = i;
        }
    }
    *min_div10 = t->lr[best] / 10.0;
    *steepest = t->lr[steep];
}

static int write_outputs(const char *dir, const lr_trace *t, double s_min, double s_steep)
{
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_LR_FIND);
    sg_atomic_file af;
    if (rc == SG_OK)
        rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fputs("step,lr,loss,smoothed_loss\n", af.fp);
    for (int i = 0; i < t->n; i++)
        fprintf(af.fp, "%d,%.9g,%.9g,%.9g\n", i, t->lr[i], t->loss[i], t->smooth[i]);
    rc = sg_atomic_commit(&af);
    if (rc == SG_OK)
        rc = run_dir_path(path, sizeof path, dir, SG_RUN_LR_FIND_SUGGESTIONS);
    if (rc == SG_OK)
        rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fprintf(af.fp, "name,lr\nminimum_div10,%.9g\nsteepest,%.9g\n", s_min, s_steep);
    return sg_atomic_commit(&af);
}

static int range_test(lr_trace *t, sg_model *m, job_data *d, const sg_split *split,
                      const sg_transform_spec *spec, const job_opts *o)
{
    sg_sample_source s = sample_source_loader_view(&d->src);
    sg_loader_opts lo = {
        .batch_size = (size_t)o->batch_size,
        .drop_last = split->n_train > (size_t)o->batch_size,
        .shuffle = 1,
        .seed = o->seed,
        .train = 1,
        .n_workers = o->workers,
        .subset = split->train,
        .subset_n = split->n_train,
    };
    sg_loader *l = NULL;
    sg_optim *opt = NULL;
    sg_optim_spec os = {
        .kind = o->opt, .lr = o->start_lr, .momentum = 0.9, .beta2 = 0.99, .eps = 1e-5,
        .weight_decay = o->wd, .no_decay_bn_bias = 1,
    };
    int rc = sg_loader_create(&l, &s, spec, &lo);
    if (rc == SG_OK)
        rc = sg_optim_create(&opt, m, &os);
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 1);
    double avg = 0.0, best = INFINITY;
    int epoch = 0, started = 0;
    for (int i = 0; rc == SG_OK && i < o->steps; i++) {
        sg_batch *b = NULL;
        int got = 0;
        if (started)
            got = sg_loader_next(l, &b);
        if (got == 0) {
            /* Next pass over the data (small sets need several). */
            rc = sg_loader_start_epoch(l, epoch++);
            started = 1;
            if (rc == SG_OK)
                got = sg_loader_next(l, &b);
            if (rc == SG_OK && got == 0)
                rc = sg_fail(SG_E_INVALID, "the training set yields no batch");
        }
        if (rc == SG_OK && got < 0)
            rc = got;
        if (rc)
            break;
        double lr = o->start_lr * pow(o->end_lr / o->start_lr, (double)i / (o->steps - 1));
        for (int st = 0; rc == SG_OK && st < SG_STAGE_COUNT; st++)
            rc = sg_optim_set_stage(opt, (sg_stage)st, lr, 0.9);
        double loss = NAN;
        if (rc == SG_OK)
            rc = sg_model_train_step(m, opt, b->x, b->n, b->c, b->h, b->w, b->labels,
                                     o->label_smoothing, &loss, NULL);
        if (rc)
            break;
        if (!isfinite(loss))
            break; /* diverged: the end of the useful range */
        avg = 0.98 * avg + 0.02 * loss;
        double smooth = avg / (1.0 - pow(0.98, i + 1));
        t->lr[t->n] = lr;
        t->loss[t->n] = loss;
        t->smooth[t->n] = smooth;
        t->n++;
        if (smooth < best)
            best = smooth;
        if (i > 0 && smooth > 4.0 * best)
            break;
    }
    sg_optim_free(opt);
    sg_loader_free(l);
    return rc;
}

int job_lr_find(const job_opts *asked, job_lr_find_result *res)
{
    job_opts sized = *asked; /* --bs auto: from the training split */
    const job_opts *o = &sized;
    const char *dir = o->out_dir;
    job_data d;
    int rc = job_data_load(&d, o, o->args[0], 1);
    if (rc)
        return rc;
    rc = job_aug_install(&d, o);
    sg_split split = {0};
    sg_model *m = NULL;
    sg_transform_spec spec = {0};
    lr_trace t = {0};
    char pretrained[4096] = "";
    int noted = 0;
    t.lr = calloc((size_t)o->steps, sizeof *t.lr);
    t.loss = calloc((size_t)o->steps, sizeof *t.loss);
    t.smooth = calloc((size_t)o->steps, sizeof *t.smooth);
    if (!t.lr || !t.loss || !t.smooth)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    if (rc == SG_OK)
        job_budget_valid(&sized, d.src.n, job_data_has_subjects(&d));
    if (rc == SG_OK)
        rc = job_split_make(&split, &d, o, 0);
    int h, w;
    job_input_hw(&d, o, &h, &w);
    if (rc == SG_OK)
        rc = job_budget_resolve(&sized, split.n_train, h, w, 1);
    if (rc == SG_OK)
        rc = job_data_fit(&d, split.train, split.n_train);
    if (rc == SG_OK)
        rc = job_transform_spec(&spec, &d, o);
    if (rc == SG_OK)
        rc = job_resolve_pretrained(pretrained, sizeof pretrained, o, "lr-find", &noted);
    if (rc == SG_OK)
        rc = job_pretrained_pick(pretrained, sizeof pretrained, &d, &split, o, NULL);
    if (rc == SG_OK)
        rc = job_normalization(&spec, &d, split.train, split.n_train, pretrained[0] != 0, o);
    if (rc == SG_OK)
        rc = job_model_create(&m, o, &spec, d.src.n_classes, pretrained, o->seed, "lr-find", 1);
    if (rc == SG_OK)
        rc = run_dir_prepare(dir);
    if (rc == SG_OK)
        rc = range_test(&t, m, &d, &split, &spec, o);
    if (rc == SG_OK && t.n < 2)
        rc = sg_fail(SG_E_NUMERIC, "the loss diverged immediately (at lr %g)", o->start_lr);
    double s_min = NAN, s_steep = NAN;
    if (rc == SG_OK) {
        suggest(&t, o->steps, &s_min, &s_steep);
        rc = write_outputs(dir, &t, s_min, s_steep);
    }
    if (rc == SG_OK)
        *res = (job_lr_find_result){.steps = t.n, .lr_first = t.lr[0], .lr_last = t.lr[t.n - 1],
                                    .min_div10 = s_min, .steepest = s_steep};
    free(t.lr);
    free(t.loss);
    free(t.smooth);
    sg_model_free(m);
    sg_split_free(&split);
    job_data_free(&d);
    return rc;
}
