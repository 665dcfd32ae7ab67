/* job_train.h - the engine of `sensorgram train` (job_train.c): one run
 * (job_train, also what the ensemble driver job_ensemble.c calls once per
 * member before averaging what the members hand back).
 */
#ifndef SG_JOB_TRAIN_H
#define SG_JOB_TRAIN_H

#include "src/train/job.h"
#include "src/train/job_data.h"
#include "src/train/job_dist.h"
#include "src/train/job_setup.h"

/* What a finished run hands back (rank 0 only): its validation (in
 * cross-validation, out-of-fold) probabilities, its fold results and the
 * labels of the whole dataset; with want_data also the dataset itself
 * (last fold's encoder fit) and the transform, to draw top-loss images
 * as the network saw them. */
typedef struct job_outcome {
    int want_data;              /* in */
    size_t n;                   /* validation rows */
    size_t *index;              /* n dataset indices */
    float *probs;               /* (n, n_classes) */
    int *fold;                  /* n */
    fold_result *folds;
    int n_folds;
    size_t n_samples;           /* of the dataset */
    int n_classes;
    int *label;                 /* n_samples */
    int has_data;
    job_data data;
    sg_transform_spec spec;
} job_outcome;

/* The usage checks of train's options (one line, SG_E_INVALID), before
 * anything is read. */
int job_train_check(const job_opts *o);

/* Trains o into o->out_dir (already guarded by run_guard_prepare); keep
 * (may be NULL) receives the outcome on rank 0. */
int job_train(const job_opts *o, sg_dist *dist, job_outcome *keep);

/* Frees what t holds; accepts a zeroed outcome. */
void job_outcome_free(job_outcome *t);

#endif
