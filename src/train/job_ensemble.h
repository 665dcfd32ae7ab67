/* job_ensemble.h - `train --member OPTS ...`: an ensemble trained in one
 * command.
 *
 * Each member is a whole run (src/train/run_files.h) of the command's
 * options plus its own OPTS, trained one after another into
 * RUN_DIR/member_N/ (N from 0, in --member order).  RUN_DIR itself gets
 * the ensemble's results: the mean of the members' softmax probabilities
 * on the validation samples (out of fold in cross-validation: every
 * member holds out the same subjects), written as predictions.csv,
 * confusion_matrix.csv, top_losses.csv (images as member 0 sees them),
 * cv_folds.csv, config.json and figures.  eval/predict RUN_DIR use the
 * members' final models (ckpt_ensemble.h), so they reproduce these
 * numbers.
 *
 * Why one command: on docs/accuracy.md's subject-wise measurements, members
 * that read the data differently (which sensors, how rows are scaled)
 * make different errors, and their mean beats every single model; a
 * default must be the best measured recipe, so for --dataset dsa with
 * the representation left open (no --sensors, --encoder, --scope,
 * --layout or --magnitude, no --single) the members are
 * the DSA recipe's (src/cli/cli_preset.c).
 *
 * OPTS is split at white space; it may set what defines a model (data
 * selection of sensors/units/axes, encoder and its options, network,
 * schedule, augmentation, seed) but not what the members must share (the
 * data, the split, the output folder and the process group).
 */
#ifndef SG_JOB_ENSEMBLE_H
#define SG_JOB_ENSEMBLE_H

#include "src/train/job.h"
#include "src/train/job_dist.h"

typedef struct job_ensemble job_ensemble;

/* An ensemble of n members (parsed and checked: src/cli/cli_members.h),
 * each trained into base->out_dir/member_N; base->members[i] names member
 * i's OPTS in messages and config.json.  The caller owns *out
 * (job_ensemble_free); base and members must outlive it. */
int job_ensemble_create(job_ensemble **out, const job_opts *base, const job_opts *members,
                        int n);

/* Trains the members and writes the ensemble's results (rank 0). */
int job_ensemble_train(job_ensemble *e, sg_dist *dist);

/* Frees e; accepts NULL. */
void job_ensemble_free(job_ensemble *e);

#endif
