/* cli_train.h - one run of `sensorgram train` (cli_train.c), for the
 * ensemble driver (cli_ensemble.c), which trains one per member and then
 * averages what the members hand back.
 */
#ifndef SG_CLI_TRAIN_H
#define SG_CLI_TRAIN_H

#include "src/cli/cli_common.h"
#include "src/cli/cli_data.h"
#include "src/cli/cli_dist.h"
#include "src/cli/cli_train_util.h"

/* What a finished run hands back (rank 0 only): its validation (in
 * cross-validation, out-of-fold) probabilities, its fold results and the
 * labels of the whole dataset; with want_data also the dataset itself
 * (last fold's encoder fit) and the transform, to draw top-loss images
 * as the network saw them. */
typedef struct cli_train_outcome {
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
    cli_dataset data;
    sg_transform_spec spec;
} cli_train_outcome;

/* The usage checks of train's options (one line, SG_E_INVALID), before
 * anything is read. */
int cli_train_check(const cli_opts *o);

/* Trains o into o->out_dir (already guarded by run_guard_prepare); keep
 * (may be NULL) receives the outcome on rank 0. */
int cli_train_run(const cli_opts *o, sg_dist *dist, cli_train_outcome *keep);

/* Frees what t holds; accepts a zeroed outcome. */
void cli_train_outcome_free(cli_train_outcome *t);

#endif
