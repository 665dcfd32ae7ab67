/* train.c - the training engine (see train.h).
 *
 * Data flow per step: loader batch (n, c, h, w) -> sg_model_train_step
 * with the schedule's lr/momentum set on every stage first -> metrics
 * row.  Per epoch: validation through train_predict, table row, epoch
 * metrics row, checkpoints.  What this file does not do: parse options,
 * build models or know the checkpoint format (hooks do).
 */
#include "src/train/train.h"
#include "src/base/clock.h"

#include "src/train/batch_mix.h"
#include "src/train/loader.h"
#include "src/train/metrics.h"
#include "src/train/train_avg.h"
#include "src/base/progress.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/base/signals.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Salt of the mixup/cutmix draws (seed, epoch, step). */
#define MIX_STREAM 0x6d69787570ULL

static int make_loader_ex(sg_loader **out, sample_source *src, const sg_transform_spec *spec,
                          const size_t *idx, size_t n, int batch_size, int train, uint64_t seed,
                          int workers, int shard_world, int shard_rank, int interleave)
{
    sg_sample_source s = sample_source_loader_view(src);
    /* Samples per rank (or per micro-batch stream) after padding. */
    size_t g = (size_t)(shard_world > 1 ? shard_world : interleave > 1 ? interleave : 1);
    size_t per = (n + g - 1) / g;
    sg_loader_opts lo = {
        .batch_size = (size_t)batch_size * (interleave > 1 ? (size_t)interleave : 1),
        /* A last (micro-)batch of one sample breaks BatchNorm in train mode. */
        .drop_last = train && per % (size_t)batch_size == 1,
        .shuffle = train,
        .seed = seed,
        .train = train,
        .n_workers = workers,
        .prefetch = 2,
        .subset = idx,
        .subset_n = n,
        .shard_world = shard_world,
        .shard_rank = shard_rank,
        .interleave = interleave,
    };
    return sg_loader_create(out, &s, spec, &lo);
}

static int make_loader(sg_loader **out, sample_source *src, const sg_transform_spec *spec,
                       const size_t *idx, size_t n, int batch_size, int train, uint64_t seed,
                       int workers)
{
    return make_loader_ex(out, src, spec, idx, n, batch_size, train, seed, workers, 0, 0, 0);
}

int train_predict(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                  const size_t *idx, size_t n, const sg_transform_spec *spec, int n_classes,
                  int batch_size, int workers, int progress)
{
    *mean_loss = NAN;
    if (n == 0)
        return SG_OK;
    sg_loader *l = NULL;
    float *logits = malloc((size_t)batch_size * (size_t)n_classes * sizeof *logits);
    if (!logits)
        return sg_fail(SG_E_NOMEM, "out of memory for logits");
    int rc = make_loader(&l, src, spec, idx, n, batch_size, 0, 0, workers);
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 0);
    if (rc == SG_OK)
        rc = sg_loader_start_epoch(l, 0);
    sg_progress *bar = NULL;
    if (rc == SG_OK && progress != 0)
        rc = sg_progress_create(&bar, stderr, "predict", n, progress);
    size_t pos = 0;
    double loss_sum = 0.0;
    int all_labelled = 1;
    sg_batch *b;
    while (rc == SG_OK) {
        int got = sg_loader_next(l, &b);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 0)
            break;
        rc = sg_check_interrupt();
        if (rc == SG_OK)
            rc = sg_model_forward(m, b->x, b->n, b->c, b->h, b->w, logits);
        if (rc)
            break;
        /* A diverged model gives NaN/Inf logits: refuse them, never a
         * probability of NaN written as a prediction. */
        for (int i = 0; rc == SG_OK && i < b->n * n_classes; i++)
            if (!isfinite(logits[i]))
                rc = sg_fail(SG_E_NUMERIC,
                             "the model's output is not finite (NaN/Inf) for %s: the weights "
                             "are broken (the run diverged? lower --lr)",
                             src->name ? src->name[b->indices[i / n_classes]] : "a sample");
        if (rc)
            break;
        /* Unshuffled and not dropped: batches come in idx order. */
        for (int i = 0; i < b->n; i++, pos++) {
            if (pos >= n || b->indices[i] != idx[pos]) {
                rc = sg_fail(SG_E_INVALID, "loader returned samples out of order");
                break;
            }
            float *p = probs + pos * (size_t)n_classes;
            sg_softmax(p, logits + (size_t)i * (size_t)n_classes, n_classes);
            if (b->labels[i] >= 0 && b->labels[i] < n_classes)
                loss_sum += sg_sample_log_loss(p, n_classes, (int)b->labels[i]);
            else
                all_labelled = 0;
        }
        if (bar && rc == SG_OK)
            sg_progress_add(bar, (size_t)b->n);
    }
    if (rc == SG_OK && pos != n)
        rc = sg_fail(SG_E_INVALID, "prediction covered %zu of %zu samples", pos, n);
    if (rc == SG_OK && all_labelled)
        *mean_loss = loss_sum / (double)n;
    sg_progress_free(bar);
    sg_loader_free(l);
    free(logits);
    return rc;
}

int train_dataset_stats(float *mean, float *std, sample_source *src, const size_t *idx,
                        size_t n, const sg_transform_spec *spec, size_t max_samples,
                        int workers)
{
    if (n == 0)
        return sg_fail(SG_E_INVALID, "no training samples to compute statistics on");
    size_t m = n < max_samples ? n : max_samples;
    size_t *pick = malloc(m * sizeof *pick);
    if (!pick)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m; i++)
        pick[i] = idx[(size_t)((double)i * (double)n / (double)m)];
    sg_transform_spec s = *spec;
    s.normalize = 0;
    sg_loader *l = NULL;
    int rc = make_loader(&l, src, &s, pick, m, 32, 0, 0, workers);
    if (rc == SG_OK)
        rc = sg_loader_start_epoch(l, 0);
    double sum[SG_TRANSFORM_MAX_CHANNELS] = {0}, sq[SG_TRANSFORM_MAX_CHANNELS] = {0};
    double count = 0.0;
    sg_batch *b;
    while (rc == SG_OK) {
        int got = sg_loader_next(l, &b);
        if (got <= 0) {
            rc = got;
            break;
        }
        size_t plane = (size_t)b->h * (size_t)b->w;
        for (int i = 0; i < b->n; i++)
            for (int c = 0; c < b->c && c < SG_TRANSFORM_MAX_CHANNELS; c++) {
                const float *x = b->x + ((size_t)i * (size_t)b->c + (size_t)c) * plane;
                for (size_t k = 0; k < plane; k++) {
                    sum[c] += x[k];
                    sq[c] += (double)x[k] * x[k];
                }
            }
        count += (double)b->n * (double)plane;
    }
    sg_loader_free(l);
    free(pick);
    if (rc)
        return rc;
    for (int c = 0; c < spec->channels && c < SG_TRANSFORM_MAX_CHANNELS; c++) {
        double mu = sum[c] / count;
        double var = sq[c] / count - mu * mu;
        mean[c] = (float)mu;
        /* A constant channel would divide by zero: leave it unscaled. */
        std[c] = (float)(var > 1e-12 ? sqrt(var) : 1.0);
    }
    return SG_OK;
}

/* Sets lr and momentum on every stage for this step of the phase. */
static int apply_schedule(sg_optim *o, const sg_onecycle *sched, const double *stage_mult,
                          long step, double *head_lr, double *mom)
{
    double lr = sg_onecycle_lr(sched, step);
    *mom = sg_onecycle_momentum(sched, step);
    *head_lr = lr;
    for (int s = 0; s < SG_STAGE_COUNT; s++) {
        int rc = sg_optim_set_stage(o, (sg_stage)s, lr * stage_mult[s], *mom);
        if (rc)
            return rc;
    }
    return SG_OK;
}

static int set_phase_freeze(sg_model *m, int frozen)
{
    for (int s = 0; s < SG_STAGE_HEAD; s++) {
        int rc = sg_model_set_frozen(m, (sg_stage)s, frozen, 1);
        if (rc)
            return rc;
    }
    return sg_model_set_frozen(m, SG_STAGE_HEAD, 0, 1);
}

static void print_table_header(void)
{
    printf("%-6s %-11s %-11s %-9s %-9s %s\n", "epoch", "train_loss", "valid_loss", "accuracy",
           "log_loss", "time");
    fflush(stdout);
}

/* tag: "" or the weights validated ("ema", "swa": an average, train_avg.h). */
static void print_table_row(int epoch, double tl, double vl, double acc, double ll,
                            double seconds, const char *tag)
{
    int s = (int)(seconds + 0.5);
    char note[32] = "";
    if (tag[0])
        snprintf(note, sizeof note, "  (%s weights)", tag);
    if (isnan(vl))
        printf("%-6d %-11.6f %-11s %-9s %-9s %02d:%02d%s\n", epoch, tl, "-", "-", "-", s / 60,
               s % 60, note);
    else
        printf("%-6d %-11.6f %-11.6f %-9.6f %-9.6f %02d:%02d%s\n", epoch, tl, vl, acc, ll,
               s / 60, s % 60, note);
    fflush(stdout);
}

/* train_predict sharded over the ranks: rank r predicts idx[r], idx[r+W],
 * ...; the rows are summed into probs (zero elsewhere, so the sum is
 * exact) and the mean loss is recomputed over all of them in idx order,
 * as train_predict would. */
static int dist_predict(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                        const size_t *idx, size_t n, const sg_transform_spec *spec, int k,
                        int batch_size, int workers, sg_dist *d)
{
    int w = sg_dist_world_size(d), r = sg_dist_rank(d);
    size_t mine = n > (size_t)r ? (n - (size_t)r + (size_t)w - 1) / (size_t)w : 0;
    size_t *sub = malloc((mine ? mine : 1) * sizeof *sub);
    float *part = malloc((mine ? mine : 1) * (size_t)k * sizeof *part);
    int rc = sub && part ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < mine; i++)
        sub[i] = idx[(size_t)r + i * (size_t)w];
    double shard_loss;
    if (rc == SG_OK)
        rc = train_predict(part, &shard_loss, m, src, sub, mine, spec, k, batch_size, workers, 0);
    if (rc == SG_OK) {
        memset(probs, 0, n * (size_t)k * sizeof *probs);
        for (size_t i = 0; i < mine; i++)
            memcpy(probs + ((size_t)r + i * (size_t)w) * (size_t)k, part + i * (size_t)k,
                   (size_t)k * sizeof *probs);
    }
    /* Collective even after a local failure would hang the others less
     * long, but a failed rank reports and exits: its peers see it lost. */
    if (rc == SG_OK)
        rc = sg_dist_allreduce_sum_f32(d, probs, n * (size_t)k);
    *mean_loss = NAN;
    if (rc == SG_OK) {
        double sum = 0.0;
        int all = 1;
        for (size_t i = 0; i < n; i++) {
            int y = src->label[idx[i]];
            if (y >= 0 && y < k)
                sum += sg_sample_log_loss(probs + i * (size_t)k, k, y);
            else
                all = 0;
        }
        if (all)
            *mean_loss = sum / (double)n;
    }
    free(sub);
    free(part);
    return rc;
}

/* FNV-1a over every parameter and buffer of m (float32 bytes). */
static int model_hash(uint64_t *out, const sg_model *m)
{
    int count;
    int rc = sg_model_tensor_count(m, &count);
    uint64_t h = 1469598103934665603ull;
    float *buf = NULL;
    size_t cap = 0;
    for (int i = 0; rc == SG_OK && i < count; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        rc = sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int);
        size_t numel = 1;
        for (int j = 0; rc == SG_OK && j < ndim; j++)
            numel *= (size_t)shape[j];
        if (rc == SG_OK && numel > cap) {
            float *nb = realloc(buf, numel * sizeof *nb);
            if (!nb) {
                rc = sg_fail(SG_E_NOMEM, "out of memory");
                break;
            }
            buf = nb;
            cap = numel;
        }
        if (rc == SG_OK)
            rc = sg_model_tensor_get(m, name, buf, numel);
        const unsigned char *p = (const unsigned char *)buf;
        for (size_t b = 0; rc == SG_OK && b < numel * sizeof *buf; b++) {
            h ^= p[b];
            h *= 1099511628211ull;
        }
    }
    free(buf);
    *out = h;
    return rc;
}

/* Every rank's weights hash, compared: they must be identical. */
static int check_ranks_agree(const train_options *opt, const sg_model *m, int epoch)
{
    int w = sg_dist_world_size(opt->dist), r = sg_dist_rank(opt->dist);
    uint64_t h;
    int rc = model_hash(&h, m);
    if (rc)
        return rc;
    if (opt->hash_log)
        fprintf(stderr, "sensorgram train: rank %d epoch %d weights fnv1a %016llx\n", r, epoch,
                (unsigned long long)h);
    double *all = calloc((size_t)w * 2, sizeof *all);
    if (!all)
        return sg_fail(SG_E_NOMEM, "out of memory");
    /* Two exact 32-bit halves per rank; everyone else's slots are zero. */
    all[2 * r] = (double)(h >> 32);
    all[2 * r + 1] = (double)(h & 0xffffffffu);
    rc = sg_dist_allreduce_sum(opt->dist, all, (size_t)w * 2);
    for (int i = 0; rc == SG_OK && i < w; i++)
        if (all[2 * i] != all[0] || all[2 * i + 1] != all[1])
            rc = sg_fail(SG_E_INVALID, "weights differ between rank 0 and rank %d after epoch %d",
                         i, epoch);
    free(all);
    return rc;
}

/* Validation of the current model: loss, accuracy, log loss. */
static int validate(double *vl, double *acc, double *ll, float *probs, sg_model *m,
                    sample_source *src, const sg_split *split, const sg_transform_spec *spec,
                    const train_options *opt)
{
    *vl = *acc = *ll = NAN;
    if (split->n_valid == 0)
        return SG_OK;
    int k = src->n_classes;
    int rc = opt->dist ? dist_predict(probs, vl, m, src, split->valid, split->n_valid, spec, k,
                                      opt->batch_size, opt->workers, opt->dist)
                       : train_predict(probs, vl, m, src, split->valid, split->n_valid, spec, k,
                                       opt->batch_size, opt->workers, 0);
    if (rc)
        return rc;
    size_t hits = 0;
    for (size_t i = 0; i < split->n_valid; i++)
        if (sg_argmax(probs + i * (size_t)k, k) == src->label[split->valid[i]])
            hits++;
    *acc = (double)hits / (double)split->n_valid;
    int *labels = malloc(split->n_valid * sizeof *labels);
    if (!labels)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < split->n_valid; i++)
        labels[i] = src->label[split->valid[i]];
    rc = sg_log_loss(ll, probs, labels, split->n_valid, k);
    free(labels);
    return rc;
}

/* Recomputes the BatchNorm statistics of the current weights from up to
 * n_batches shuffled, unaugmented training batches (bn_recal.cpp says
 * why).  The statistics stay in the model, so the checkpoints saved after
 * this validation hold the ones it was validated with.  With sync_bn the
 * ranks take their shares of each batch (the DistributedSampler rule) and
 * the statistics are those of the global batch of --bs x ranks, as one
 * process with that batch computes them; without it every rank runs the
 * same batches of --bs and rank 0's result is broadcast. */
static int recalibrate_bn(sg_model *m, sample_source *src, const sg_split *split,
                          const sg_transform_spec *spec, const train_options *opt, int epoch)
{
    if (opt->bn_recal_batches <= 0 || split->n_train < 2)
        return SG_OK;
    int shard = opt->sync_bn && opt->dist ? sg_dist_world_size(opt->dist) : 1;
    size_t per = (split->n_train + (size_t)shard - 1) / (size_t)shard;
    sg_sample_source s = sample_source_loader_view(src);
    sg_loader_opts lo = {
        .batch_size = (size_t)opt->batch_size,
        .drop_last = per % (size_t)opt->batch_size == 1,
        .shard_world = shard > 1 ? shard : 0,
        .shard_rank = shard > 1 ? sg_dist_rank(opt->dist) : 0,
        .shuffle = 1,
        .seed = opt->seed ^ 0x6e5c0ffeeULL,
        .train = 0,
        .n_workers = opt->workers,
        .prefetch = 2,
        .subset = split->train,
        .subset_n = split->n_train,
    };
    sg_loader *l = NULL;
    int rc = sg_loader_create(&l, &s, spec, &lo);
    if (rc == SG_OK)
        rc = sg_loader_start_epoch(l, epoch);
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 1);
    int began = 0;
    if (rc == SG_OK) {
        rc = sg_model_bn_recalibrate_begin(m, NULL);
        began = rc == SG_OK;
    }
    float *logits = NULL;
    if (rc == SG_OK) {
        logits = malloc((size_t)opt->batch_size * (size_t)src->n_classes * sizeof *logits);
        if (!logits)
            rc = sg_fail(SG_E_NOMEM, "out of memory for BatchNorm recalibration");
    }
    for (int k = 0; rc == SG_OK && k < opt->bn_recal_batches; k++) {
        sg_batch *b;
        int got = sg_loader_next(l, &b);
        if (got <= 0) {
            rc = got;
            break;
        }
        rc = sg_model_forward(m, b->x, b->n, b->c, b->h, b->w, logits);
    }
    if (began) {
        int rc2 = sg_model_bn_recalibrate_end(m);
        if (rc == SG_OK)
            rc = rc2;
    }
    free(logits);
    sg_loader_free(l);
    return rc ? sg_fail_context(rc, "BatchNorm recalibration") : SG_OK;
}

typedef struct phase_plan {
    int epochs;
    int frozen;
    double stage_mult[SG_STAGE_COUNT];
} phase_plan;

static void plan_phases(phase_plan plan[2], const train_options *opt)
{
    memset(plan, 0, 2 * sizeof *plan);
    plan[0].epochs = opt->freeze_epochs;
    plan[0].frozen = 1;
    plan[1].epochs = opt->epochs;
    for (int s = 0; s < SG_STAGE_COUNT; s++)
        plan[0].stage_mult[s] = plan[1].stage_mult[s] = 1.0;
    if (opt->discriminative) {
        /* fastai's slice(lr/100, lr): geometric over the six stages. */
        double rates[SG_STAGE_COUNT];
        sg_lr_spread(rates, SG_STAGE_COUNT, opt->lr / 100.0, opt->lr);
        for (int s = 0; s < SG_STAGE_COUNT; s++)
            plan[1].stage_mult[s] = rates[s] / opt->lr;
    }
}

static int make_schedule(sg_onecycle *sched, const train_options *opt, long total)
{
    if (opt->schedule == SG_SCHED_FASTAI)
        sg_onecycle_fastai_defaults(sched, opt->lr, total);
    else
        sg_onecycle_torch_defaults(sched, opt->lr, total);
    return sg_onecycle_check(sched);
}

/* Everything one phase needs, to keep train_run readable. */
/* At most about this many validations (and checkpoints) per run: every
 * epoch up to 50 epochs, every 2nd up to 100, ... */
#define TRAIN_MAX_VALIDATIONS 50
#define TRAIN_SAVE_SECONDS 60.0

typedef struct run_ctx {
    sg_model *m;
    sample_source *src;
    const sg_split *split;
    const sg_transform_spec *spec;
    const train_options *opt;
    run_metrics *metrics;
    const train_hooks *hooks;
    train_state st;
    float *probs;           /* (n_valid, k) */
    double train_seconds;
    double loader_wait_seconds; /* inside train_seconds: waiting in sg_loader_next */
    size_t train_samples;
    train_result *res;
    int split_step;         /* accumulate or dist: the step in parts */
    int micro;              /* micro-batches per step */
    int world;              /* ranks (1: one process) */
    double comm_seconds;    /* gradient all-reduce time, summed */
    double comm_exposed_seconds; /* the part of it not hidden behind backward */
    long comm_steps;        /* steps it was summed over */
    int phase_end;          /* the current phase's last epoch + 1 */
    double last_saved;      /* when "last" was last written (now_seconds) */
    int valid_every;        /* validate (and checkpoint) every this many epochs */
} run_ctx;

/* One optimizer step as micro-batches and/or ranks (train.h): the batch's
 * rows split into c->micro equal contiguous parts, gradients summed over
 * parts and ranks, divided by their number; *loss is the mean over them. */
static int split_step(run_ctx *c, sg_optim *o, const sg_batch *b, double *loss)
{
    const train_options *opt = c->opt;
    int part = b->n / c->micro;
    if (part * c->micro != b->n)
        return sg_fail(SG_E_INVALID, "batch of %d does not split into %d micro-batches", b->n,
                       c->micro);
    size_t plane = (size_t)b->c * (size_t)b->h * (size_t)b->w;
    int rc = sg_model_zero_grad(c->m);
    /* Ranks: the gradient all-reduce runs in buckets while backward does. */
    int armed = 0;
    if (rc == SG_OK && opt->dist) {
        rc = sg_dist_grad_sync_begin(opt->dist, c->m);
        armed = rc == SG_OK;
    }
    double sum = 0.0;
    for (int k = 0; rc == SG_OK && k < c->micro; k++) {
        double l;
        rc = sg_model_accumulate_grad(c->m, b->x + (size_t)k * (size_t)part * plane, part, b->c,
                                      b->h, b->w, b->labels + (size_t)k * (size_t)part,
                                      opt->label_smoothing, &l);
        sum += l;
    }
    if (armed) {
        sg_dist_comm_time t;
        int end = sg_dist_grad_sync_end(opt->dist, c->m, rc != SG_OK, &t);
        if (rc == SG_OK)
            rc = end;
        c->comm_seconds += t.span_s;
        c->comm_exposed_seconds += t.exposed_s;
        c->comm_steps++;
        double ls[1] = {sum};
        if (rc == SG_OK)
            rc = sg_dist_allreduce_sum(opt->dist, ls, 1);
        sum = ls[0];
    }
    if (rc == SG_OK)
        rc = sg_optim_step_accumulated(o, (double)c->micro * (double)c->world);
    *loss = sum / ((double)c->micro * (double)c->world);
    return rc;
}

static int run_epoch(run_ctx *c, sg_loader *l, sg_optim *o, const sg_onecycle *sched,
                     const phase_plan *plan, int phase, int epoch, long phase_step0)
{
    const train_options *opt = c->opt;
    double t0 = sg_now_seconds();
    int rc = sg_loader_start_epoch(l, epoch);
    if (rc)
        return rc;
    rc = sg_model_set_train(c->m, 1);
    if (rc)
        return rc;
    sg_progress *bar = NULL;
    if (opt->verbose && opt->progress != 0) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d", epoch);
        rc = sg_progress_create(&bar, stderr, label, sg_loader_n_batches(l), opt->progress);
        if (rc)
            return rc;
    }
    double loss_sum = 0.0, smooth = 0.0;
    size_t n_seen = 0;
    long k = 0;
    int metrics_phase = opt->fold >= 0 ? opt->fold : phase;
    sg_batch *b;
    for (;;) {
        /* time the model waits for the loader: ~0 when the workers keep
         * ahead of the GPU (the check that data never starves it) */
        double w0 = sg_now_seconds();
        int got = sg_loader_next(l, &b);
        c->loader_wait_seconds += sg_now_seconds() - w0;
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 0)
            break;
        double lr, mom, loss;
        rc = sg_check_interrupt();
        if (rc)
            break;
        rc = apply_schedule(o, sched, plan->stage_mult, c->st.step - phase_step0, &lr, &mom);
        if (rc)
            break;
        if (opt->mix != BATCH_MIX_NONE)
            rc = batch_mix_train_step(c->m, o, b, c->src->n_classes, (batch_mix_kind)opt->mix,
                                      opt->mix_alpha, opt->label_smoothing,
                                      sg_rng_derive(opt->seed ^ MIX_STREAM, (uint64_t)epoch,
                                                    (uint64_t)c->st.step),
                                      &loss);
        else if (c->split_step)
            rc = split_step(c, o, b, &loss);
        else
            rc = sg_model_train_step(c->m, o, b->x, b->n, b->c, b->h, b->w, b->labels,
                                     opt->label_smoothing, &loss, NULL);
        /* The bridge refuses a non-finite loss itself; say where it happened. */
        if (rc == SG_E_NUMERIC || (rc == SG_OK && !isfinite(loss))) {
            rc = sg_fail(SG_E_NUMERIC, "loss is NaN at step %ld (lr %.3g)", c->st.step, lr);
            break;
        }
        if (rc)
            break;
        if (c->metrics) {
            rc = run_metrics_step(c->metrics, metrics_phase, epoch, c->st.step, lr, mom, loss);
            if (rc)
                break;
        }
        c->st.step++;
        k++;
        rc = train_avg_after_step(opt, c->m, &c->st);
        if (rc)
            break;
        loss_sum += loss * b->n * c->world;
        n_seen += (size_t)b->n * (size_t)c->world;
        /* fastai's debiased exponential average for the bar. */
        smooth = 0.98 * smooth + 0.02 * loss;
        if (bar) {
            char text[48];
            snprintf(text, sizeof text, "loss %.4f", smooth / (1.0 - pow(0.98, (double)k)));
            sg_progress_set_text(bar, text);
            sg_progress_add(bar, 1);
        }
    }
    sg_progress_free(bar);
    if (rc)
        return rc;
    double t_train = sg_now_seconds() - t0;
    c->train_seconds += t_train;
    c->train_samples += n_seen;
    double tl = n_seen ? loss_sum / (double)n_seen : NAN;
    if (opt->dist) {
        /* The epoch's loss over all ranks. */
        double sums[2] = {loss_sum / c->world, (double)n_seen / c->world};
        rc = sg_dist_allreduce_sum(opt->dist, sums, 2);
        if (rc == SG_OK)
            tl = sums[1] > 0 ? sums[0] / sums[1] : NAN;
        if (rc)
            return rc;
    }
    double vl, acc, ll;
    /* With weight averaging, the averaged weights are validated and saved
     * (the training ones go into "last" beside them, for --resume). */
    rc = train_avg_after_epoch(opt, c->m, &c->st, epoch);
    /* Hundreds of short epochs (a step budget over a small set): validate,
     * log and checkpoint every valid_every-th and each phase's last, or
     * BatchNorm recalibration, validation and checkpoint writes (an
     * optimizer state each time) cost more than the training. */
    if (rc == SG_OK && (epoch + 1) % c->valid_every != 0 && epoch + 1 != c->phase_end)
        return SG_OK;
    int averaged = rc == SG_OK && train_avg_ready(opt, &c->st);
    if (averaged)
        rc = sg_wavg_swap(opt->avg, c->m);
    if (rc == SG_OK)
        rc = recalibrate_bn(c->m, c->src, c->split, c->spec, opt, epoch);
    if (rc)
        return rc;
    if (opt->dist) {
        /* Rank 0's BatchNorm statistics for everyone (its own, or the
         * recalibrated ones), so that validation and checkpoints see one
         * model; then the ranks compare what they hold. */
        rc = sg_dist_broadcast_buffers(opt->dist, c->m);
        if (rc == SG_OK)
            rc = check_ranks_agree(opt, c->m, epoch);
        if (rc)
            return rc;
    }
    rc = validate(&vl, &acc, &ll, c->probs, c->m, c->src, c->split, c->spec, opt);
    if (rc)
        return sg_fail_context(rc, "validation after epoch %d (no checkpoint written)", epoch);
    /* A checkpoint only from a model that still computes numbers. */
    if (!isfinite(tl) || (c->split->n_valid && !isfinite(vl)))
        return sg_fail(SG_E_NUMERIC,
                       "%s loss is %g after epoch %d: the run diverged (lower --lr); no "
                       "checkpoint written for it",
                       !isfinite(tl) ? "training" : "validation", !isfinite(tl) ? tl : vl,
                       epoch);
    double secs = sg_now_seconds() - t0;
    if (opt->verbose)
        print_table_row(epoch, tl, vl, acc, ll, secs, train_avg_tag(opt, &c->st));
    if (c->metrics) {
        rc = run_metrics_epoch(c->metrics, metrics_phase, epoch, c->st.step, tl, vl, acc, ll,
                               secs);
        if (rc)
            return rc;
    }
    c->res->train_loss = tl;
    c->res->valid_loss = vl;
    c->res->accuracy = acc;
    c->res->log_loss = ll;
    c->res->epochs_done = epoch + 1;
    c->st.phase = phase;
    c->st.epoch = epoch;
    c->st.finished = epoch + 1 >= c->st.total_epochs;
    if (c->hooks && c->hooks->save) {
        /* best first: if last fails (disk full), best is already safe. */
        if (!isnan(vl) && vl < c->st.best_valid_loss) {
            c->st.best_valid_loss = vl;
            rc = c->hooks->save(c->hooks->ctx, "best", c->m, NULL, NULL, &c->st);
            if (rc)
                return rc;
        }
        /* A long run (more than TRAIN_MAX_VALIDATIONS epochs) writes
         * "last" (weights and optimizer state, 134 MB for ResNet18) at
         * most every TRAIN_SAVE_SECONDS, and at its end: --resume then
         * repeats up to that much. */
        double now = sg_now_seconds();
        if (c->valid_every == 1 || c->st.finished || c->last_saved == 0 ||
            now - c->last_saved >= TRAIN_SAVE_SECONDS) {
            rc = c->hooks->save(c->hooks->ctx, "last", c->m, o, averaged ? opt->avg : NULL,
                                &c->st);
            c->last_saved = now;
        }
    }
    /* Training goes on with its own weights; after the last epoch the
     * model stays the averaged one (the final model). */
    if (rc == SG_OK && averaged && !c->st.finished)
        rc = sg_wavg_swap(opt->avg, c->m);
    return rc;
}

int train_run(train_result *res, sg_model *m, sample_source *src, const sg_split *split,
              const sg_transform_spec *spec, const train_options *opt, run_metrics *metrics,
              const train_hooks *hooks, const train_state *resume_from)
{
    memset(res, 0, sizeof *res);
    res->valid_loss = res->accuracy = res->log_loss = NAN;
    if (split->n_train == 0)
        return sg_fail(SG_E_INVALID, "the training set is empty");
    if (opt->batch_size < 1)
        return sg_fail(SG_E_INVALID, "batch size must be positive");
    int micro = opt->accumulate > 1 ? opt->accumulate : 1;
    int world = opt->dist ? sg_dist_world_size(opt->dist) : 1;
    if (micro > 1 && world > 1)
        return sg_fail(SG_E_INVALID, "--accumulate is for one process (give each rank its batch)");
    if (opt->mix != BATCH_MIX_NONE && (micro > 1 || opt->dist))
        return sg_fail(SG_E_INVALID, "--mixup/--cutmix are for one process without --accumulate");
    run_ctx c = {
        .m = m, .src = src, .split = split, .spec = spec, .opt = opt, .metrics = metrics,
        .hooks = hooks, .res = res, .split_step = micro > 1 || opt->dist != NULL,
        .micro = micro, .world = world,
    };
    c.st.phase = opt->freeze_epochs > 0 ? 0 : 1;
    c.st.epoch = -1;
    c.st.total_epochs = opt->freeze_epochs + opt->epochs;
    c.valid_every = 1 + (c.st.total_epochs - 1) / TRAIN_MAX_VALIDATIONS;
    c.st.best_valid_loss = INFINITY;
    if (resume_from)
        c.st = *resume_from;
    size_t k = (size_t)src->n_classes;
    c.probs = malloc((split->n_valid ? split->n_valid : 1) * k * sizeof *c.probs);
    if (!c.probs)
        return sg_fail(SG_E_NOMEM, "out of memory");
    phase_plan plan[2];
    plan_phases(plan, opt);
    double t_start = sg_now_seconds();
    if (opt->verbose && opt->avg && opt->ema_decay > 0.0)
        fprintf(stderr, "sensorgram train: validation, checkpoints and the final model use the "
                        "EMA of the weights (decay %g)\n", opt->ema_decay);
    else if (opt->verbose && opt->avg && opt->swa_epochs > 0)
        fprintf(stderr, "sensorgram train: validation, checkpoints and the final model use the "
                        "mean weights of the last %d epochs (SWA) once averaging starts\n",
                opt->swa_epochs);
    if (opt->verbose)
        print_table_header();
    sg_loader *l = NULL;
    int rc = make_loader_ex(&l, src, spec, split->train, split->n_train, opt->batch_size, 1,
                            opt->seed, opt->workers, world, opt->dist ? sg_dist_rank(opt->dist) : 0,
                            micro);
    /* Every rank starts from rank 0's weights and buffers. */
    if (rc == SG_OK && opt->dist)
        rc = sg_dist_broadcast_model(opt->dist, m);
    /* A fresh average starts from the weights training starts from
     * (rank 0's): decay 0 copies them. */
    if (rc == SG_OK && opt->avg && opt->dist && !resume_from)
        rc = sg_wavg_update(opt->avg, m, 0.0);
    long steps_per_epoch = l ? (long)sg_loader_n_batches(l) : 0;
    int epoch0 = 0;
    long step0 = 0;
    for (int phase = 0; phase < 2 && rc == SG_OK; phase++) {
        int first = epoch0, last = epoch0 + plan[phase].epochs; /* [first, last) */
        long phase_step0 = step0;
        epoch0 = last;
        step0 += (long)plan[phase].epochs * steps_per_epoch;
        if (plan[phase].epochs == 0 || c.st.epoch + 1 >= last)
            continue;
        rc = set_phase_freeze(m, plan[phase].frozen);
        if (rc)
            break;
        sg_optim_spec os = {
            .kind = opt->opt,
            .lr = opt->lr,
            .momentum = 0.9, /* SGD momentum or Adam beta1; the schedule overrides it */
            .beta2 = 0.99,
            .eps = 1e-5,
            .weight_decay = opt->wd,
            .nesterov = 0,
            .no_decay_bn_bias = 1,
        };
        sg_optim *o = NULL;
        rc = sg_optim_create(&o, m, &os);
        /* Resuming inside this phase: the optimizer's moments come back. */
        if (rc == SG_OK && resume_from && c.st.epoch >= first && hooks && hooks->restore)
            rc = hooks->restore(hooks->ctx, o);
        sg_onecycle sched;
        if (rc == SG_OK)
            rc = make_schedule(&sched, opt, (long)plan[phase].epochs * steps_per_epoch);
        c.phase_end = last;
        for (int e = c.st.epoch + 1 > first ? c.st.epoch + 1 : first; rc == SG_OK && e < last; e++)
            rc = run_epoch(&c, l, o, &sched, &plan[phase], phase, e, phase_step0);
        sg_optim_free(o);
    }
    sg_loader_free(l);
    res->seconds = sg_now_seconds() - t_start;
    res->images_per_s = c.train_seconds > 0 ? (double)c.train_samples / c.train_seconds : 0.0;
    res->steps = c.st.step;
    res->train_seconds = c.train_seconds;
    res->comm_seconds = c.comm_seconds;
    res->comm_exposed_seconds = c.comm_exposed_seconds;
    res->comm_steps = c.comm_steps;
    res->loader_wait_s = c.loader_wait_seconds;
    free(c.probs);
    return rc;
}
