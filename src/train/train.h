/* train.h - the training engine: phases, epochs, steps, one-cycle
 * schedules per stage, validation, checkpoints, metrics rows.
 *
 * A run has up to two phases, each with its own optimizer and its own
 * one-cycle schedule over all of its steps:
 *   phase 0  (freeze_epochs > 0) backbone frozen (BatchNorm weights still
 *            train), head at lr;
 *   phase 1  everything trains; with discriminative rates the stages get
 *            geometric rates from lr/100 (stem) to lr (head).
 * Epoch numbers and optimizer steps count on across phases, so one run's
 * curves are one line.  Validation runs after every epoch of a run of up
 * to 50 epochs, and after every k-th (and each phase's last) of a longer
 * one, so that about 50 happen (a step budget over a small set makes
 * hundreds of short epochs); the validated model with the lowest
 * validation loss is kept as best, the latest as last (in a longer run
 * at most every minute, and at its end; both
 * written by the caller's save callback: the engine does not know the
 * checkpoint format).  A non-finite loss stops the run with
 * "loss is NaN at step S (lr L)".
 *
 * The engine prints only when opt->verbose: the progress bar (stderr)
 * and one fastai-like table row per validated epoch (stdout).
 */
#ifndef SG_TRAIN_H
#define SG_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "src/train/run_dir.h"
#include "src/train/sample_source.h"
#include "src/train/schedule.h"
#include "models/sg_dist.h"
#include "models/sg_model.h"
#include "src/train/split.h"
#include "src/image/transform.h"

typedef struct train_options {
    int epochs;             /* phase 1 epochs */
    int freeze_epochs;      /* phase 0 epochs (0: none) */
    int discriminative;     /* phase 1: lr/100 .. lr over the stages */
    double lr;
    int batch_size;
    double wd;
    sg_optim_kind opt;
    double label_smoothing;
    int bn_recal_batches;   /* > 0: BatchNorm statistics recomputed from that
                             * many shuffled training batches (no augmentation)
                             * before each validation; 0: running averages */
    sg_sched_kind schedule;
    uint64_t seed;
    int workers;            /* loader threads (0: in the caller's thread) */
    int verbose;            /* progress bar and table rows */
    int progress;           /* bar: 1 on, 0 off, -1 when stderr is a terminal */
    int fold;               /* >= 0: cross-validation fold, written as the
                             * metrics phase; -1: phases 0/1 as above */
    int accumulate;         /* micro-batches per step (0 or 1: none); the
                             * step's batch is accumulate x batch_size */
    sg_dist *dist;          /* process group or NULL: one process */
    int sync_bn;            /* with dist: the model has SyncBatchNorm on
                             * (sg_dist_sync_bn); recalibration then shards
                             * its batches over the ranks too */
    int hash_log;           /* every rank prints its weights' hash per epoch */
    int mix;                /* batch_mix_kind (batch_mix.h): mixup/cutmix of training
                             * batches with soft targets; 0: none (one process only) */
    double mix_alpha;       /* its Beta(alpha, alpha) */
    /* Weight averaging (src/train/train_avg.h): the caller's average of m
     * or NULL; with it, ema_decay > 0 (EMA per step) or swa_epochs > 0
     * (uniform mean of the last swa_epochs epochs). */
    sg_wavg *avg;
    double ema_decay;
    int swa_epochs;
} train_options;

/* Where the engine stands; saved with every checkpoint so that a run can
 * be resumed. */
typedef struct train_state {
    int phase;              /* 0 or 1 */
    int epoch;              /* global 0-based index of the last finished epoch, -1: none */
    long step;              /* optimizer steps done */
    int finished;           /* 1 after the last epoch */
    int total_epochs;       /* freeze_epochs + epochs */
    double best_valid_loss; /* INFINITY until the first validation */
    long n_averaged;        /* updates folded into train_options.avg */
} train_state;

/* Saves the model (and optimizer state, for "last") as a checkpoint at
 * path; `which` is "best" or "last".  held != NULL: m holds the averaged
 * weights and held the training ones (saved with "last" for --resume). */
typedef int (*train_save_fn)(void *ctx, const char *which, sg_model *m, sg_optim *o,
                             sg_wavg *held, const train_state *st);

/* Restores optimizer state saved with the last checkpoint (resume). */
typedef int (*train_restore_fn)(void *ctx, sg_optim *o);

typedef struct train_hooks {
    train_save_fn save;          /* may be NULL: no checkpoints */
    train_restore_fn restore;    /* used only when resuming */
    void *ctx;
} train_hooks;

typedef struct train_result {
    double train_loss;      /* last epoch's mean */
    double valid_loss, accuracy, log_loss;  /* final model; NAN without validation */
    double seconds;
    double images_per_s;    /* training throughput (samples / training time, all ranks) */
    long steps;             /* optimizer steps done */
    double train_seconds;   /* time in training steps (no validation) */
    double comm_seconds;    /* gradient all-reduce time, first bucket sent to last summed */
    double comm_exposed_seconds; /* of the steps' time, spent after backward ended */
    long comm_steps;        /* steps of this session (comm_seconds / comm_steps per step) */
    double loader_wait_s;   /* of the training time, spent waiting for the next batch */
    int epochs_done;
} train_result;

/* Data parallelism (opt->dist) and accumulation follow one rule, so that
 * W ranks with batch B and one process with --accumulate W and batch B
 * take the same optimizer steps: every rank shuffles the training set
 * with the same (seed, epoch), pads it to a multiple of W and takes every
 * W-th sample from its rank (torch's DistributedSampler); micro-batch k
 * of an accumulated step holds exactly what rank k would get.  Gradients
 * of the per-micro-batch mean losses are summed (all-reduce or autograd
 * accumulation) and divided by W x K before the step.  Rank 0's weights
 * and buffers are broadcast before training; BatchNorm statistics are
 * each rank's own during an epoch (with sync_bn, those of the global
 * batch, the same on every rank) and rank 0's are broadcast before
 * validation, which is sharded (rank r takes every W-th sample, no
 * padding) and summed, so every rank sees the same metrics.  After each
 * epoch the ranks compare a hash of their weights and stop with an error
 * if they differ.  Only callers on rank 0 pass metrics, verbose and
 * save hooks.
 *
 * Trains m on split->train with validation on split->valid (may be
 * empty), reading samples from src through spec, appending rows to
 * metrics (may be NULL).  resume_from (may be NULL) is the state of the
 * last checkpoint already loaded into m: training continues after its
 * epoch.  Everything is borrowed. */
int train_run(train_result *res, sg_model *m, sample_source *src, const sg_split *split,
              const sg_transform_spec *spec, const train_options *opt, run_metrics *metrics,
              const train_hooks *hooks, const train_state *resume_from);

/* Runs m (eval mode) over the samples idx[0..n) of src through spec
 * (deterministic, no augmentation) and writes their softmax
 * probabilities to probs, (n, n_classes), in idx order.  When every
 * sample is labelled, *mean_loss receives the mean cross-entropy (else
 * NAN).  workers as in train_options; progress: as train_options. */
int train_predict(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                  const size_t *idx, size_t n, const sg_transform_spec *spec, int n_classes,
                  int batch_size, int workers, int progress);

/* Per-channel mean and std (population) of up to max_samples training
 * images after the eval geometry of spec (spec->normalize ignored),
 * sampled evenly over idx.  mean/std have spec->channels slots. */
int train_dataset_stats(float *mean, float *std, sample_source *src, const size_t *idx,
                        size_t n, const sg_transform_spec *spec, size_t max_samples,
                        int workers);

#endif
