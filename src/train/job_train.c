/* job_train.c - the engine of `sensorgram train`: fine-tune a ResNet on images or on
 * sensor segments encoded in memory, leaving a run folder (run_files.h).
 *
 * Steps: options -> data -> per fold (split, encoder fit on the training
 * part, transform + normalisation, model + pretrained weights, engine)
 * -> validation outputs (predictions, confusion matrix, top losses; in
 * cross-validation the out-of-fold predictions of every fold) ->
 * config.json -> figures.  `train --features` is in train_features.c;
 * `--member` ensembles (the DSA default) run this once per member
 * (job_ensemble.c).
 */
#include "src/train/job_aug.h"
#include "src/train/job.h"
#include "src/train/job_data.h"
#include "src/train/job_cv.h"
#include "src/train/job_dist.h"
#include "src/train/job_fingerprint.h"
#include "src/train/job_train.h"
#include "src/train/job_budget.h"
#include "src/train/job_setup.h"
#include "src/train/run_dir.h"
#include "src/train/pretrain.h"
#include "src/train/run_guard.h"
#include "src/base/atomic_file.h"
#include "src/base/signals.h"
#include "src/train/run_files.h"
#include "src/base/sg_error.h"
#include "src/train/batch_mix.h"
#include "src/train/train.h"
#include "src/train/train_ckpt.h"
#include "src/train/train_features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct save_ctx {
    const char *dir;
    train_meta *meta;
    char last_path[4096];
} save_ctx;

static int save_hook(void *ctx, const char *which, sg_model *m, sg_optim *o, sg_wavg *held,
                     const train_state *st)
{
    save_ctx *c = ctx;
    char path[4096];
    int rc = run_dir_path(path, sizeof path, c->dir,
                          strcmp(which, "best") == 0 ? SG_RUN_CKPT_BEST : SG_RUN_CKPT_LAST);
    if (rc)
        return rc;
    c->meta->state = *st;
    rc = train_ckpt_save_held(path, m, o, held, c->meta);
    return rc ? sg_fail_context(rc, "saving the %s checkpoint", which) : SG_OK;
}

static int restore_hook(void *ctx, sg_optim *o)
{
    save_ctx *c = ctx;
    return train_ckpt_load_optim(o, c->last_path);
}

/* RUN/fold_N/model.safetensors: the final weights without optimizer
 * state, with the checkpoint's encoding record. */
static int keep_fold_model(const char *dir, sg_model *m, train_meta *meta, const train_result *r)
{
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_FOLD_MODEL);
    if (rc)
        return rc;
    meta->state.finished = 1;
    meta->state.epoch = r->epochs_done - 1;
    rc = train_ckpt_save(path, m, NULL, meta);
    return rc ? sg_fail_context(rc, "saving %s", path) : SG_OK;
}

/* Out-of-fold results gathered over folds (one fold without CV). */
typedef struct oof {
    size_t n;
    size_t *index;   /* dataset indices */
    float *probs;    /* (n, k) */
    int *fold;
} oof;

static int oof_append(oof *r, const size_t *idx, const float *probs, size_t n, int k, int fold)
{
    size_t *ni = realloc(r->index, (r->n + n + 1) * sizeof *ni);
    if (ni)
        r->index = ni;
    float *np = realloc(r->probs, (r->n + n + 1) * (size_t)k * sizeof *np);
    if (np)
        r->probs = np;
    int *nf = realloc(r->fold, (r->n + n + 1) * sizeof *nf);
    if (nf)
        r->fold = nf;
    if (!ni || !np || !nf)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(r->index + r->n, idx, n * sizeof *idx);
    memcpy(r->probs + r->n * (size_t)k, probs, n * (size_t)k * sizeof *probs);
    for (size_t i = 0; i < n; i++)
        r->fold[r->n + i] = fold;
    r->n += n;
    return SG_OK;
}

static void oof_free(oof *r)
{
    free(r->index);
    free(r->probs);
    free(r->fold);
    memset(r, 0, sizeof *r);
}

/* Trains one fold (or the whole run without CV) into dir. */
static int train_fold(fold_result *fr, oof *out, sg_transform_spec *spec_out,
                      job_data *d, const job_opts *o,
                      int fold, int n_folds, const char *run_dir, const char *dir,
                      run_metrics *metrics, int *noted, json_t *config, sg_dist *dist,
                      int quiet)
{
    /* Under a process group only rank 0 writes and prints; quiet: a fold
     * of --cv-parallel on another rank (it writes its fold, prints nothing). */
    int writer = sg_dist_rank(dist) == 0;
    int talk = writer && !quiet;
    sg_split split = {0};
    sg_model *m = NULL;
    sg_wavg *avg = NULL;
    train_meta meta = {0}, resume_meta = {0};
    float *probs = NULL;
    int have_resume = 0;
    int rc = job_split_make(&split, d, o, n_folds > 1 ? fold : 0);
    if (rc == SG_OK && split.n_train == 0)
        rc = sg_fail(SG_E_INVALID, "the training set is empty (all %zu samples are validation)",
                     d->src.n);
    /* BatchNorm needs two samples per batch; a last batch of one is dropped. */
    if (rc == SG_OK && split.n_train < 2)
        rc = sg_fail(SG_E_INVALID,
                     "the training set has 1 sample; training needs at least 2 (one batch of "
                     "2 or more)");
    fr->fold = fold;
    fr->group = (o->cv == JOB_CV_LOSO && split.n_valid) ? d->src.group[split.valid[0]] : -1;
    fr->n_train = split.n_train;
    fr->n_valid = split.n_valid;
    if (rc == SG_OK)
        rc = job_data_fit(d, split.train, split.n_train);
    sg_transform_spec spec = {0};
    if (rc == SG_OK)
        rc = job_transform_spec(&spec, d, o);
    char pretrained[4096] = "";
    int sensor_pre = 0; /* the weights are a sensor pretraining (pretrain.h) */
    if (rc == SG_OK)
        rc = job_resolve_pretrained(pretrained, sizeof pretrained, o, "train", noted);
    /* a pretraining folder: this fold's file, never one that saw a
     * validation subject (src/train/pretrain.h) */
    if (rc == SG_OK) {
        rc = job_pretrained_pick(pretrained, sizeof pretrained, d, &split, o, &sensor_pre);
        if (rc == SG_OK && talk && n_folds > 1 && o->pretrained &&
            strcmp(o->pretrained, pretrained) != 0)
            fprintf(stderr, "sensorgram train: fold %d: pretrained weights %s\n", fold + 1,
                    pretrained);
    }
    if (rc == SG_OK)
        rc = job_normalization(&spec, d, split.train, split.n_train, pretrained[0] != 0, o);
    save_ctx sc = {.dir = dir, .meta = &meta};
    if (rc == SG_OK)
        rc = run_dir_path(sc.last_path, sizeof sc.last_path, dir, SG_RUN_CKPT_LAST);
    if (rc == SG_OK && o->resume) {
        rc = train_ckpt_load(&m, &resume_meta, sc.last_path, o->device, (int)o->arch,
                             o->precision,
                             job_torch_threads(o));
        have_resume = rc == SG_OK;
        if (rc == SG_OK)
            rc = sg_model_set_cuda_graphs(m, o->cuda_graphs);
    } else if (rc == SG_OK) {
        rc = job_model_create(&m, o, &spec, d->src.n_classes, pretrained,
                              o->seed + (uint64_t)fold, "train", fold == 0);
    }
    /* --sync-bn: the BatchNorm layers share the statistics of all ranks. */
    if (rc == SG_OK && dist && o->sync_bn)
        rc = sg_dist_sync_bn(dist, m);
    if (rc == SG_OK)
        rc = train_meta_init(&meta, o->arch, d->src.n_classes,
                             (const char *const *)d->src.class_names, &spec);
    if (rc == SG_OK)
        rc = job_meta_sensor(&meta, d, o, run_dir);
    /* How pretrained weights are fine-tuned: ImageNet's with a head-only
     * epoch and stage rates lr/100 .. lr (fastai); a sensor pretraining's
     * (sensorgram pretrain) like random init, every stage at lr from the
     * start: measured on DSA LOSO, docs/accuracy.md. */
    int freeze = o->freeze_epochs >= 0 ? o->freeze_epochs : (pretrained[0] && !sensor_pre);
    int spread = o->lr_spread >= 0 ? o->lr_spread : (pretrained[0] && !sensor_pre);
    /* What defines the run goes into every checkpoint; --resume must match it. */
    if (rc == SG_OK)
        rc = job_fingerprint(&meta.run_text, d, o, &spec, freeze);
    if (rc == SG_OK && have_resume)
        rc = job_fingerprint_compare(resume_meta.run_text, meta.run_text, sc.last_path);
    if (rc == SG_OK && fold == 0 && writer)
        rc = job_config_add_model(config, &spec, pretrained, d, &meta);
    if (rc == SG_OK && fold == 0 && writer)
        rc = run_config_write(run_dir, config);
    if (rc == SG_OK && fold == 0 && talk && dist)
        fprintf(stderr, "sensorgram train: %d ranks (Gloo), %d samples per rank per step%s\n",
                sg_dist_world_size(dist), o->batch_size,
                o->sync_bn ? ", BatchNorm statistics over all ranks (--sync-bn)" : "");
    if (rc == SG_OK && fold == 0 && talk) {
        char dev[256] = "";
        sg_model_device(m, dev, sizeof dev);
        fprintf(stderr,
                "sensorgram train: %zu training and %zu validation samples, %d classes, "
                "%dx%dx%d input, %s on %s\n",
                split.n_train, split.n_valid, d->src.n_classes, spec.channels, spec.height,
                spec.width, sg_arch_name(o->arch), dev);
    }
    if (rc == SG_OK && !talk) {
        /* quiet: rank 0 says it */
    } else if (rc == SG_OK && n_folds > 1 && fr->group >= 0)
        fprintf(stderr, "sensorgram train: fold %d/%d (validation subject %d)\n", fold + 1,
                n_folds, fr->group);
    else if (rc == SG_OK && n_folds > 1)
        fprintf(stderr, "sensorgram train: fold %d/%d\n", fold + 1, n_folds);
    /* --ema/--swa: the average starts from the weights training starts
     * from, or comes back from last.safetensors. */
    if (rc == SG_OK && (o->ema > 0 || o->swa > 0))
        rc = have_resume ? train_ckpt_load_held(&avg, m, sc.last_path) : sg_wavg_create(&avg, m);
    train_options to = {
        .epochs = o->epochs,
        .freeze_epochs = freeze,
        .discriminative = spread,
        .lr = o->lr,
        .batch_size = o->batch_size,
        .wd = o->wd,
        .opt = o->opt,
        .label_smoothing = o->label_smoothing,
        .bn_recal_batches = o->bn_recal,
        .schedule = o->schedule_fastai ? SG_SCHED_FASTAI : SG_SCHED_TORCH,
        .seed = o->seed + (uint64_t)fold,
        .workers = o->workers,
        .verbose = talk,
        .progress = o->progress,
        .fold = n_folds > 1 ? fold : -1,
        .accumulate = o->accumulate,
        .dist = dist,
        .sync_bn = dist && o->sync_bn,
        .hash_log = o->dist_hash_log,
        .mix = o->aug.mixup > 0 ? BATCH_MIX_MIXUP : o->aug.cutmix > 0 ? BATCH_MIX_CUTMIX : 0,
        .mix_alpha = o->aug.mixup > 0 ? o->aug.mixup : o->aug.cutmix,
        .avg = avg,
        .ema_decay = o->ema,
        .swa_epochs = o->swa,
    };
    train_hooks hooks = {.save = writer ? save_hook : NULL, .restore = restore_hook, .ctx = &sc};
    if (rc == SG_OK && have_resume && talk) {
        fprintf(stderr, "sensorgram train: resuming %s after epoch %d\n", sc.last_path,
                resume_meta.state.epoch);
        meta.state = resume_meta.state;
    }
    if (rc == SG_OK)
        rc = train_run(&fr->r, m, &d->src, &split, &spec, &to, metrics, &hooks,
                       have_resume ? &resume_meta.state : NULL);
    if (rc == SG_OK && talk && dist && fr->r.comm_steps > 0)
        fprintf(stderr,
                "sensorgram train: %d ranks: %.1f images/s over all ranks, gradient all-reduce "
                "%.1f ms per step (%.0f%% of training time), %.1f ms of it after backward "
                "(%.0f%% overlapped)\n",
                sg_dist_world_size(dist), fr->r.images_per_s,
                1e3 * fr->r.comm_seconds / (double)fr->r.comm_steps,
                fr->r.train_seconds > 0 ? 100.0 * fr->r.comm_seconds / fr->r.train_seconds : 0.0,
                1e3 * fr->r.comm_exposed_seconds / (double)fr->r.comm_steps,
                fr->r.comm_seconds > 0
                    ? fmax(0.0, 100.0 * (1.0 - fr->r.comm_exposed_seconds / fr->r.comm_seconds))
                    : 0.0);
    /* --keep-folds: the fold's final model (the one its predictions come
     * from), usable alone or in an ensemble. */
    if (rc == SG_OK && writer && o->keep_folds && n_folds > 1)
        rc = keep_fold_model(dir, m, &meta, &fr->r);
    /* Validation predictions of the final model, for the run's files. */
    size_t k = (size_t)d->src.n_classes;
    if (rc == SG_OK && split.n_valid && writer) {
        probs = malloc(split.n_valid * k * sizeof *probs);
        double loss;
        rc = probs ? train_predict(probs, &loss, m, &d->src, split.valid, split.n_valid, &spec,
                                   (int)k, o->batch_size, o->workers, 0)
                   : sg_fail(SG_E_NOMEM, "out of memory");
        if (rc == SG_OK)
            rc = oof_append(out, split.valid, probs, split.n_valid, (int)k, fold);
    }
    /* What the network saw, before normalisation: for top-loss images. */
    *spec_out = spec;
    spec_out->normalize = 0;
    free(probs);
    train_meta_free(&meta);
    train_meta_free(&resume_meta);
    sg_wavg_free(avg);
    sg_model_free(m);
    sg_split_free(&split);
    return rc;
}

/* --bs auto and --train-steps, from the first fold's training split
 * (the folds differ by a sample or so). */
static int size_from_split(job_opts *o, const job_data *d, int talk)
{
    if (o->batch_size != 0 && o->train_steps <= 0)
        return SG_OK;
    sg_split split = {0};
    int rc = job_split_make_ex(&split, d, o, 0, 0);
    int h, w;
    job_input_hw(d, o, &h, &w);
    if (rc == SG_OK)
        rc = job_budget_resolve(o, split.n_train, h, w, talk);
    sg_split_free(&split);
    return rc;
}

/* --resume of a finished run is an error with the epoch it ended at. */
static int check_resume(const job_opts *o, const char *dir)
{
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_CKPT_LAST);
    if (rc)
        return rc;
    train_meta meta;
    rc = train_ckpt_read_meta(&meta, path);
    if (rc)
        return sg_fail_context(rc, "--resume");
    int finished = meta.state.finished, epoch = meta.state.epoch, phase = meta.state.phase;
    sg_arch arch = meta.arch;
    train_meta_free(&meta);
    if (finished)
        return sg_fail(SG_E_INVALID, "nothing to resume: run finished at epoch %d", epoch + 1);
    if (arch != o->arch)
        return sg_fail(SG_E_INVALID, "%s: checkpoint of architecture %s, but --arch is %s", path,
                       sg_arch_name(arch), sg_arch_name(o->arch));
    /* Drop step rows of the unfinished epoch: they are trained again. */
    return run_metrics_truncate(dir, phase, epoch);
}

/* After Ctrl-C: what was finished and how to go on. */
static void report_interrupt(const job_opts *o, const char *run_dir, int n_folds)
{
    char path[4096];
    train_meta meta;
    int have = n_folds == 1 &&
               run_dir_path(path, sizeof path, run_dir, SG_RUN_CKPT_LAST) == SG_OK &&
               train_ckpt_read_meta(&meta, path) == SG_OK;
    /* A finished checkpoint: this run's, interrupted while writing its
     * validation outputs, or (--overwrite) the earlier run's, kept until
     * replaced. */
    if (have && meta.state.finished) {
        if (o->overwrite && !o->resume)
            fprintf(stderr,
                    "sensorgram train: interrupted; %s is the earlier run's (finished) "
                    "checkpoint or this run's final one\n",
                    path);
        else
            fprintf(stderr,
                    "sensorgram train: interrupted after training finished (%s is whole); the "
                    "validation outputs were not written: `sensorgram eval` them\n",
                    path);
        train_meta_free(&meta);
    } else if (have) {
        fprintf(stderr,
                "sensorgram train: interrupted after epoch %d (%s); `--resume --out %s` with "
                "the same options continues\n",
                meta.state.epoch, path, run_dir);
        train_meta_free(&meta);
    } else if (n_folds == 1) {
        fprintf(stderr,
                "sensorgram train: interrupted before the first epoch ended; nothing to resume "
                "(nothing kept in %s)\n",
                run_dir);
    } else {
        fprintf(stderr,
                "sensorgram train: interrupted during cross-validation; --resume does not "
                "combine with --cv (train again with --overwrite --out %s)\n",
                run_dir);
    }
}

void job_outcome_free(job_outcome *t)
{
    free(t->index);
    free(t->probs);
    free(t->fold);
    free(t->folds);
    free(t->label);
    if (t->has_data)
        job_data_free(&t->data);
    memset(t, 0, sizeof *t);
}

/* Moves the run's results into keep (the caller's from then on). */
static int keep_outcome(job_outcome *keep, oof *res, fold_result **folds, int n_folds,
                        job_data *d, const sg_transform_spec *spec)
{
    keep->label = malloc((d->src.n + 1) * sizeof *keep->label);
    if (!keep->label)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(keep->label, d->src.label, d->src.n * sizeof *keep->label);
    keep->n_samples = d->src.n;
    keep->n_classes = d->src.n_classes;
    keep->n = res->n;
    keep->index = res->index;
    keep->probs = res->probs;
    keep->fold = res->fold;
    memset(res, 0, sizeof *res);
    keep->folds = *folds;
    keep->n_folds = n_folds;
    *folds = NULL;
    /* want_data: d is keep->data already (job_train). */
    keep->has_data = keep->want_data && d == &keep->data;
    keep->spec = *spec;
    return SG_OK;
}

int job_train(const job_opts *asked, sg_dist *dist, job_outcome *keep)
{
    /* --bs auto and --train-steps become numbers once the split is known. */
    job_opts sized = *asked;
    const job_opts *o = &sized;
    const char *run_dir = o->out_dir;
    int writer = sg_dist_rank(dist) == 0;
    if (o->resume && o->cv != JOB_CV_NONE)
        return sg_fail(SG_E_INVALID, "--resume does not combine with --cv");
    if (o->cv_parallel && o->cv == JOB_CV_NONE)
        return sg_fail(SG_E_INVALID, "--cv-parallel needs --cv loso or --cv kfold:K");
    int rc = writer ? run_dir_prepare(run_dir) : SG_OK;
    if (rc == SG_OK && o->resume && writer)
        rc = job_dist_check_resume(run_dir, o, dist);
    if (rc == SG_OK && o->resume && writer)
        rc = check_resume(o, run_dir);
    /* The others read the checkpoint only after rank 0 has checked it. */
    if (dist) {
        double ok[1] = {rc == SG_OK ? 0.0 : 1.0};
        int brc = sg_dist_allreduce_sum(dist, ok, 1);
        if (rc == SG_OK && brc == SG_OK && ok[0] != 0.0)
            rc = sg_fail(SG_E_INVALID, "rank 0 could not prepare the run folder %s", run_dir);
        if (rc == SG_OK)
            rc = brc;
    }
    if (rc)
        return rc;
    /* The dataset lives in keep when the caller keeps it. */
    job_data local;
    job_data *d = keep && keep->want_data ? &keep->data : &local;
    rc = job_data_load(d, o, o->args[0], 1);
    if (rc == SG_OK && (rc = job_aug_install(d, o)) != SG_OK)
        job_data_free(d);
    if (rc) {
        if (!o->resume)
            run_guard_discard_failed(run_dir);
        return rc;
    }
    job_budget_valid(&sized, d->src.n, job_data_has_subjects(d));
    rc = size_from_split(&sized, d, writer);
    if (rc) {
        job_data_free(d);
        if (!o->resume)
            run_guard_discard_failed(run_dir);
        return rc;
    }
    int n_folds = 1;
    rc = job_n_folds(d, o, &n_folds);
    json_t *config = NULL;
    if (rc == SG_OK)
        rc = job_config_new(&config, o, d, "train");
    if (rc == SG_OK)
        rc = job_aug_config_add(config, o, d);
    if (rc == SG_OK)
        rc = job_dist_config_add(config, o, dist);
    /* --cv-parallel: each rank trains whole folds, one process each, and
     * keeps each fold's metrics in its folder until rank 0 joins them. */
    int cvp = o->cv_parallel && dist && n_folds > 1;
    run_metrics *metrics = NULL;
    if (rc == SG_OK && writer && !cvp)
        rc = run_metrics_open(&metrics, run_dir, o->resume);
    fold_result *folds = calloc((size_t)n_folds, sizeof *folds);
    if (rc == SG_OK && !folds)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    oof res = {0};
    sg_transform_spec spec = {0};
    int noted = !writer; /* the pretrained-weights note: rank 0 only */
    for (int f = 0; rc == SG_OK && f < n_folds; f++) {
        char dir[4096];
        if (n_folds > 1)
            snprintf(dir, sizeof dir, "%s/fold_%d", run_dir, f);
        else
            snprintf(dir, sizeof dir, "%s", run_dir);
        if (cvp && job_cv_owner(dist, f) != sg_dist_rank(dist))
            continue;
        rc = writer || cvp ? sg_mkdir_p(dir) : SG_OK;
        run_metrics *fold_metrics = metrics;
        if (rc == SG_OK && cvp)
            rc = run_metrics_open(&fold_metrics, dir, 0);
        if (rc == SG_OK)
            rc = train_fold(&folds[f], &res, &spec, d, o, f, n_folds, run_dir, dir, fold_metrics,
                            &noted, config, cvp ? NULL : dist, cvp && !writer);
        if (cvp) {
            int crc = run_metrics_close(fold_metrics);
            if (rc == SG_OK)
                rc = crc;
        }
        if (rc)
            rc = n_folds > 1 ? sg_fail_context(rc, "fold %d", f) : rc;
    }
    if (rc == SG_E_INTERRUPTED && (!dist || sg_dist_rank(dist) == 0))
        report_interrupt(o, run_dir, n_folds);
    /* Only the writing rank cleans up what it wrote. */
    if (rc && n_folds == 1 && !o->resume && (!dist || sg_dist_rank(dist) == 0))
        run_guard_discard_failed(run_dir);
    int mrc = metrics ? run_metrics_close(metrics) : SG_OK;
    if (rc == SG_OK)
        rc = mrc;
    if (rc == SG_OK && cvp)
        rc = job_cv_gather_folds(dist, folds, n_folds);
    if (rc == SG_OK && cvp)
        rc = job_cv_gather_oof(dist, d->src.n, d->src.n_classes, &res.n, &res.index, &res.probs,
                               &res.fold);
    if (rc == SG_OK && cvp && writer)
        rc = job_cv_merge_metrics(run_dir, n_folds);
    /* Top-loss images render with the last fold's encoder fit, as in one
     * process (rank 0 may not have trained that fold). */
    if (rc == SG_OK && cvp && writer && job_cv_owner(dist, n_folds - 1) != 0) {
        sg_split last = {0};
        rc = job_split_make(&last, d, o, n_folds - 1);
        if (rc == SG_OK)
            rc = job_data_fit(d, last.train, last.n_train);
        sg_split_free(&last);
    }
    if (!writer) {
        oof_free(&res);
        free(folds);
        json_decref(config);
        job_data_free(d);
        return rc;
    }
    if (rc == SG_OK)
        rc = job_write_validation_outputs(run_dir, d, res.index, res.probs, res.n, o->top_losses,
                                          &spec, config);
    if (rc == SG_OK)
        rc = job_report_folds(config, folds, n_folds, run_dir);
    if (rc == SG_OK)
        rc = run_config_write(run_dir, config);
    if (rc == SG_OK)
        job_draw_figures(o, run_dir);
    if (rc == SG_OK && keep)
        rc = keep_outcome(keep, &res, &folds, n_folds, d, &spec);
    oof_free(&res);
    free(folds);
    json_decref(config);
    if (!(keep && keep->has_data))
        job_data_free(d);
    return rc;
}

int job_train_check(const job_opts *o)
{
    int rc = SG_OK;
    if (!o->features && o->n_args != 1)
        rc = sg_fail(SG_E_INVALID, "expected one DATA argument (see --help)");
    if (rc == SG_OK && o->epochs == 0 && o->freeze_epochs <= 0)
        rc = sg_fail(SG_E_INVALID, "--epochs 0 trains nothing (with --freeze-epochs 0); to "
                                   "evaluate a model use `sensorgram eval`");
    if (rc == SG_OK && o->ema > 0 && o->swa > 0)
        rc = sg_fail(SG_E_INVALID, "--ema and --swa are two ways to average weights: choose one");
    if (rc == SG_OK && o->keep_folds && o->cv == JOB_CV_NONE)
        rc = sg_fail(SG_E_INVALID, "--keep-folds needs --cv loso or --cv kfold:K");
    if (rc == SG_OK && o->features && (o->ema > 0 || o->swa > 0 || o->keep_folds))
        rc = sg_fail(SG_E_INVALID, "--ema, --swa and --keep-folds are for training networks, "
                                   "not --features");
    if (rc == SG_OK && o->swa > o->epochs + (o->freeze_epochs > 0 ? o->freeze_epochs : 0))
        rc = sg_fail(SG_E_INVALID, "--swa %d: the run has fewer epochs (--epochs %d)", o->swa,
                     o->epochs);
    /* BatchNorm in train mode needs two samples per batch (the linear
     * head of --features has none). */
    if (rc == SG_OK && (o->aug.mixup > 0 || o->aug.cutmix > 0) &&
        (o->accumulate > 1 || o->features))
        rc = sg_fail(SG_E_INVALID, "--%s is for image batches of one process: not with "
                                   "--accumulate or --features",
                     o->aug.mixup > 0 ? "mixup" : "cutmix");
    if (rc == SG_OK && o->features && o->batch_size == 0)
        rc = sg_fail(SG_E_INVALID, "--bs auto sizes a network's batches: give --bs N with "
                                   "--features");
    if (rc == SG_OK && !o->features && o->batch_size == 1)
        rc = sg_fail(SG_E_INVALID, "--bs %d: training batches need at least 2 samples "
                                   "(BatchNorm)", o->batch_size);
    return rc;
}
