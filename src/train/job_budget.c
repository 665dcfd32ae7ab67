/* job_budget.c - --bs auto and --train-steps (see job_budget.h). */
#include "src/train/job_budget.h"

#include "src/base/sg_error.h"

#include <stdio.h>

/* The cap on --bs auto for h x w images (see job_budget.h). */
static size_t batch_cap(int h, int w)
{
    double values = (double)(h > JOB_BS_AUTO_MIN_ROWS ? h : JOB_BS_AUTO_MIN_ROWS) * (double)w;
    double cost = h > 0 && w > 0 ? values / JOB_BS_AUTO_REF_VALUES : 1.0;
    double cap = cost > 1.0 ? JOB_BS_AUTO_MAX / cost : JOB_BS_AUTO_MAX;
    return cap > JOB_BS_AUTO_MIN ? (size_t)cap : JOB_BS_AUTO_MIN;
}

int job_budget_batch(size_t n_train, int h, int w)
{
    size_t want = n_train / 10, bs = JOB_BS_AUTO_MIN, cap = batch_cap(h, w);
    while (bs * 2 <= want && bs * 2 <= cap)
        bs *= 2;
    if (bs > n_train)
        bs = n_train;
    return bs < 2 ? 2 : (int)bs;
}

int job_budget_epochs(size_t n_train, int bs, int steps, int min_epochs)
{
    /* The loader drops a last batch of one sample (BatchNorm): count
     * whole batches, at least one. */
    size_t per_epoch = bs > 0 ? n_train / (size_t)bs : 0;
    if (per_epoch == 0)
        per_epoch = 1;
    size_t epochs = ((size_t)(steps > 0 ? steps : 0) + per_epoch - 1) / per_epoch;
    if (epochs < (size_t)(min_epochs > 0 ? min_epochs : 1))
        epochs = (size_t)(min_epochs > 0 ? min_epochs : 1);
    return epochs > JOB_BUDGET_MAX_EPOCHS ? JOB_BUDGET_MAX_EPOCHS : (int)epochs;
}

void job_budget_valid(job_opts *o, size_t n, int has_subjects)
{
    if (o->valid_pct >= 0)
        return;
    o->valid_pct = n <= JOB_VALID_AUTO_MAX_N && !has_subjects ? 0.0 : JOB_VALID_AUTO_PCT;
}

int job_budget_resolve(job_opts *o, size_t n_train, int h, int w, int talk)
{
    if (n_train < 2)
        return sg_fail(SG_E_INVALID, "%zu training sample%s: training needs at least 2", n_train,
                       n_train == 1 ? "" : "s");
    int auto_bs = o->batch_size == 0;
    int by_steps = o->train_steps > 0;
    int by_cost = 0;
    if (auto_bs) {
        int plain = job_budget_batch(n_train, 0, 0), capped = job_budget_batch(n_train, h, w);
        /* The image cost caps the batch only where the step budget sets
         * the length: where epochs do (--epochs, or a minimum of them
         * that the budget does not pass), a smaller batch would only add
         * steps to the same passes. */
        int min_epochs = o->epochs > 0 ? o->epochs : 1;
        by_cost = by_steps && capped < plain &&
                  job_budget_epochs(n_train, plain, o->train_steps, o->epochs) > min_epochs;
        o->batch_size = by_cost ? capped : plain;
    }
    if (by_steps)
        o->epochs = job_budget_epochs(n_train, o->batch_size, o->train_steps, o->epochs);
    if (talk && (auto_bs || by_steps)) {
        fprintf(stderr, "sensorgram train:");
        if (auto_bs)
            fprintf(stderr, " --bs auto: %d for %zu training samples%s%s", o->batch_size, n_train,
                    by_cost ? " (fewer for their image size)" : "", by_steps ? ";" : "");
        if (by_steps)
            fprintf(stderr, " --train-steps %d: %d epoch%s", o->train_steps, o->epochs,
                    o->epochs == 1 ? "" : "s");
        fprintf(stderr, "\n");
    }
    /* Fixed now: members, folds and config.json read the numbers. */
    o->train_steps = 0;
    return SG_OK;
}
