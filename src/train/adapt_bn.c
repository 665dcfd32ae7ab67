/* adapt_bn.c - BatchNorm statistics of a new wearer's inputs (AdaBN; see
 * adapt_bn.h).
 */
#include "src/train/adapt_bn.h"

#include "src/train/adapt_tent.h"

#include "src/base/sg_error.h"
#include "src/base/signals.h"
#include "src/train/loader.h"
#include "src/train/metrics.h"
#include "src/train/predict_tta.h"
#include "src/train/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any fixed seed: the batches' composition, not their order, matters
 * (below), and the same inputs give the same statistics every time. */
#define ADAPT_BN_SEED 0xada8a7c4ULL

const char *adapt_bn_source_name(adapt_bn_source s)
{
    switch (s) {
    case ADAPT_BN_SUBJECT:
        return "subject";
    case ADAPT_BN_INPUT_SET:
        return "input_set";
    case ADAPT_BN_TRAINED:
        return "trained";
    }
    return "?";
}

void adapt_bn_plan_print(FILE *fp, const char *cmd, const adapt_bn_plan *p)
{
    for (int g = 0; g < p->n_groups; g++) {
        const adapt_bn_group *grp = &p->groups[g];
        fprintf(fp, "%s: --adapt-bn: ", cmd);
        if (grp->subject >= 0)
            fprintf(fp, "subject %d (%zu inputs): ", grp->subject, grp->n);
        else
            fprintf(fp, "%zu inputs, subjects not known: ", grp->n);
        switch (grp->source) {
        case ADAPT_BN_SUBJECT:
            fprintf(fp, "BatchNorm statistics of its own inputs\n");
            break;
        case ADAPT_BN_INPUT_SET:
            if (grp->subject >= 0)
                fprintf(fp, "fewer than %d, BatchNorm statistics of all %zu inputs\n",
                        ADAPT_BN_MIN_SAMPLES, p->n_samples);
            else
                fprintf(fp, "BatchNorm statistics of all of them\n");
            break;
        case ADAPT_BN_TRAINED:
            fprintf(fp, "fewer than %d in all, the trained BatchNorm statistics kept (not "
                        "adapted)\n",
                    ADAPT_BN_MIN_SAMPLES);
            break;
        }
        if (p->tent_epochs > 0 && grp->source != ADAPT_BN_TRAINED)
            fprintf(fp, "%s: --tent: %d passes, mean entropy %.4f in the first, %.4f in the "
                        "last (first checkpoint)\n",
                    cmd, p->tent_epochs, grp->entropy_first, grp->entropy_last);
    }
}

static int group_add(adapt_bn_plan *p, int subject, adapt_bn_source source, size_t cap)
{
    adapt_bn_group *g = realloc(p->groups, (size_t)(p->n_groups + 1) * sizeof *g);
    if (!g)
        return sg_fail(SG_E_NOMEM, "out of memory");
    p->groups = g;
    g += p->n_groups;
    memset(g, 0, sizeof *g);
    g->subject = subject;
    g->source = source;
    g->entropy_first = g->entropy_last = NAN;
    if (!(g->idx = malloc((cap ? cap : 1) * sizeof *g->idx)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    p->n_groups++;
    return SG_OK;
}

int adapt_bn_plan_make(adapt_bn_plan *out, const int *group, size_t n)
{
    memset(out, 0, sizeof *out);
    out->n_samples = n;
    int known = group != NULL && n > 0;
    for (size_t i = 0; known && i < n; i++)
        known = group[i] >= 0;
    adapt_bn_source whole = n >= ADAPT_BN_MIN_SAMPLES ? ADAPT_BN_INPUT_SET : ADAPT_BN_TRAINED;
    int rc = SG_OK;
    if (!known) {
        rc = group_add(out, -1, whole, n);
        for (size_t i = 0; rc == SG_OK && i < n; i++)
            out->groups[0].idx[out->groups[0].n++] = i;
    } else {
        int *subjects = NULL;
        size_t n_subjects = 0;
        rc = sg_subjects_distinct(&subjects, &n_subjects, group, n);
        for (size_t s = 0; rc == SG_OK && s < n_subjects; s++) {
            size_t count = 0;
            for (size_t i = 0; i < n; i++)
                count += group[i] == subjects[s];
            rc = group_add(out, subjects[s],
                           count >= ADAPT_BN_MIN_SAMPLES ? ADAPT_BN_SUBJECT : whole, count);
            adapt_bn_group *g = rc == SG_OK ? &out->groups[out->n_groups - 1] : NULL;
            for (size_t i = 0; g && i < n; i++)
                if (group[i] == subjects[s])
                    g->idx[g->n++] = i;
        }
        free(subjects);
    }
    if (rc)
        adapt_bn_plan_free(out);
    return rc;
}

void adapt_bn_plan_free(adapt_bn_plan *p)
{
    for (int g = 0; p->groups && g < p->n_groups; g++)
        free(p->groups[g].idx);
    free(p->groups);
    memset(p, 0, sizeof *p);
}

int adapt_loader_create(sg_loader **out, sample_source *src, const size_t *idx, size_t n,
                        const sg_transform_spec *spec, size_t batch_size, int drop_last,
                        uint64_t seed, int workers)
{
    sg_sample_source s = sample_source_loader_view(src);
    sg_loader_opts lo = {
        .batch_size = batch_size,
        .drop_last = drop_last,
        .shuffle = 1,
        .seed = seed,
        .train = 0,
        .n_workers = workers,
        .prefetch = 2,
        .subset = idx,
        .subset_n = n,
    };
    return sg_loader_create(out, &s, spec, &lo);
}

int adapt_bn_stats(sg_model *m, sample_source *src, const size_t *idx, size_t n,
                   const sg_transform_spec *spec, int batch_size, int workers)
{
    if (n < 2 || batch_size < 1)
        return sg_fail(SG_E_INVALID, "BatchNorm statistics need at least 2 inputs (got %zu)", n);
    /* Near-equal batches: each batch weighs the same in the average, so a
     * last batch of a few inputs must not count as much as a full one.
     * Shuffled: the average of per-batch variances is the variance of the
     * whole group only when every batch is a sample of all of it (inputs
     * come ordered by activity; a batch of one activity would miss the
     * spread between activities). */
    size_t n_batches = (n + (size_t)batch_size - 1) / (size_t)batch_size;
    size_t per = (n + n_batches - 1) / n_batches;
    sg_loader *l = NULL;
    /* one input alone has no batch variance in the last layers */
    int rc = adapt_loader_create(&l, src, idx, n, spec, per, n % per == 1, ADAPT_BN_SEED, workers);
    if (rc == SG_OK)
        rc = sg_loader_start_epoch(l, 0);
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 1);
    int began = 0;
    if (rc == SG_OK) {
        rc = sg_model_bn_recalibrate_begin(m, NULL);
        began = rc == SG_OK;
    }
    float *logits = NULL;
    if (rc == SG_OK && !(logits = malloc(per * (size_t)src->n_classes * sizeof *logits)))
        rc = sg_fail(SG_E_NOMEM, "out of memory for BatchNorm statistics");
    while (rc == SG_OK) {
        sg_batch *b;
        int got = sg_loader_next(l, &b);
        if (got <= 0) {
            rc = got;
            break;
        }
        rc = sg_check_interrupt();
        if (rc == SG_OK)
            rc = sg_model_forward(m, b->x, b->n, b->c, b->h, b->w, logits);
    }
    if (began) {
        int rc2 = sg_model_bn_recalibrate_end(m);
        if (rc == SG_OK)
            rc = rc2;
    }
    int rc3 = sg_model_set_train(m, 0);
    if (rc == SG_OK)
        rc = rc3;
    free(logits);
    sg_loader_free(l);
    return rc ? sg_fail_context(rc, "--adapt-bn") : SG_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static int is_bn_buffer(const char *name)
{
    return ends_with(name, ".running_mean") || ends_with(name, ".running_var") ||
           ends_with(name, ".num_batches_tracked");
}

static int any_tensor(const char *name)
{
    (void)name;
    return 1;
}

/* Copies the tensors of m whose names keep() accepts into out. */
static int save_tensors(adapt_bn_saved *out, const sg_model *m, int (*keep)(const char *))
{
    memset(out, 0, sizeof *out);
    int count = 0;
    int rc = sg_model_tensor_count(m, &count);
    if (rc == SG_OK && count > 0) {
        out->names = calloc((size_t)count, sizeof *out->names);
        out->values = calloc((size_t)count, sizeof *out->values);
        out->numel = calloc((size_t)count, sizeof *out->numel);
        if (!out->names || !out->values || !out->numel)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (int i = 0; rc == SG_OK && i < count; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        rc = sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int);
        if (rc || !keep(name))
            continue;
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        int k = out->n;
        out->numel[k] = numel;
        out->names[k] = strdup(name);
        out->values[k] = malloc((numel ? numel : 1) * sizeof(float));
        out->n++;
        if (!out->names[k] || !out->values[k])
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        else
            rc = sg_model_tensor_get(m, name, out->values[k], numel);
    }
    if (rc)
        adapt_bn_saved_free(out);
    return rc;
}

int adapt_bn_save(adapt_bn_saved *out, const sg_model *m)
{
    return save_tensors(out, m, is_bn_buffer);
}

int adapt_bn_restore(sg_model *m, const adapt_bn_saved *s)
{
    int rc = SG_OK;
    for (int k = 0; rc == SG_OK && k < s->n; k++)
        rc = sg_model_tensor_set(m, s->names[k], s->values[k], s->numel[k]);
    return rc;
}

void adapt_bn_saved_free(adapt_bn_saved *s)
{
    for (int k = 0; k < s->n; k++) {
        free(s->names[k]);
        free(s->values[k]);
    }
    free(s->names);
    free(s->values);
    free(s->numel);
    memset(s, 0, sizeof *s);
}

/* Predicts group g with m as it is; its rows of probs (sample order). */
static int predict_group(float *probs, float *tmp, sg_model *m, sample_source *src,
                         const adapt_bn_group *g, const sg_transform_spec *spec, int k,
                         int batch_size, int workers, int progress, int n_shifts)
{
    double loss;
    int rc = train_predict_tta(tmp, &loss, m, src, g->idx, g->n, spec, k, batch_size, workers,
                               progress, n_shifts);
    for (size_t i = 0; rc == SG_OK && i < g->n; i++)
        memcpy(probs + g->idx[i] * (size_t)k, tmp + i * (size_t)k, (size_t)k * sizeof *tmp);
    return rc;
}

/* Group grp's statistics (its own inputs, or idx[0..n)), then, with
 * --tent, the entropy passes and the statistics again for the moved
 * scales and shifts. */
static int adapt_group(sg_model *m, sample_source *src, adapt_bn_group *grp, const size_t *idx,
                       size_t n, int tent_epochs, const sg_transform_spec *spec, int batch_size,
                       int workers)
{
    int rc = adapt_bn_stats(m, src, idx, n, spec, batch_size, workers);
    if (rc == SG_OK && tent_epochs > 0)
        rc = adapt_tent(m, src, idx, n, spec, batch_size, workers, tent_epochs,
                        &grp->entropy_first, &grp->entropy_last);
    if (rc == SG_OK && tent_epochs > 0)
        rc = adapt_bn_stats(m, src, idx, n, spec, batch_size, workers);
    return rc;
}

int adapt_bn_predict(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                     adapt_bn_plan *plan, const sg_transform_spec *spec, int n_classes,
                     int batch_size, int workers, int progress, int n_shifts)
{
    *mean_loss = NAN;
    size_t n = src->n, k = (size_t)n_classes;
    if (plan->n_samples != n)
        return sg_fail(SG_E_INVALID, "--adapt-bn: a plan of %zu inputs for %zu", plan->n_samples,
                       n);
    /* TENT moves the BatchNorm scales and shifts too: keep everything */
    adapt_bn_saved trained;
    int rc = plan->tent_epochs > 0 ? save_tensors(&trained, m, any_tensor)
                                   : adapt_bn_save(&trained, m);
    if (rc)
        return rc;
    float *tmp = malloc((n ? n : 1) * k * sizeof *tmp);
    size_t *all = malloc((n ? n : 1) * sizeof *all);
    if (!tmp || !all)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < n; i++)
        all[i] = i;
    /* Subjects with their own statistics, each from the trained ones. */
    for (int g = 0; rc == SG_OK && g < plan->n_groups; g++) {
        adapt_bn_group *grp = &plan->groups[g];
        if (grp->source != ADAPT_BN_SUBJECT)
            continue;
        rc = adapt_group(m, src, grp, grp->idx, grp->n, plan->tent_epochs, spec, batch_size,
                         workers);
        if (rc == SG_OK)
            rc = predict_group(probs, tmp, m, src, grp, spec, n_classes, batch_size, workers,
                               progress, n_shifts);
        int rc2 = adapt_bn_restore(m, &trained);
        if (rc == SG_OK)
            rc = rc2;
    }
    /* The rest on the whole input set's statistics, computed once. */
    const adapt_bn_group *adapted = NULL;
    for (int g = 0; rc == SG_OK && g < plan->n_groups; g++) {
        adapt_bn_group *grp = &plan->groups[g];
        if (grp->source != ADAPT_BN_INPUT_SET)
            continue;
        if (!adapted) {
            rc = adapt_group(m, src, grp, all, n, plan->tent_epochs, spec, batch_size, workers);
            adapted = grp;
        }
        grp->entropy_first = adapted->entropy_first;
        grp->entropy_last = adapted->entropy_last;
        if (rc == SG_OK)
            rc = predict_group(probs, tmp, m, src, grp, spec, n_classes, batch_size, workers,
                               progress, n_shifts);
    }
    if (adapted) {
        int rc2 = adapt_bn_restore(m, &trained);
        if (rc == SG_OK)
            rc = rc2;
    }
    for (int g = 0; rc == SG_OK && g < plan->n_groups; g++)
        if (plan->groups[g].source == ADAPT_BN_TRAINED)
            rc = predict_group(probs, tmp, m, src, &plan->groups[g], spec, n_classes, batch_size,
                               workers, progress, n_shifts);
    if (rc == SG_OK) {
        double sum = 0.0;
        int all_labelled = n > 0;
        for (size_t i = 0; i < n; i++) {
            int y = src->label[i];
            if (y >= 0 && y < n_classes)
                sum += sg_sample_log_loss(probs + i * k, n_classes, y);
            else
                all_labelled = 0;
        }
        if (all_labelled)
            *mean_loss = sum / (double)n;
    }
    free(tmp);
    free(all);
    adapt_bn_saved_free(&trained);
    return rc;
}
