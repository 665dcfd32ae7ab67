/* job_budget.h - the batch size of `--bs auto` and the training length of
 * `--train-steps N`, fixed once the training split is known.
 *
 * A recipe that is to fit 40 segments and 40,000 cannot name a batch size
 * or a number of epochs: 5 epochs of 110 cases at batch 64 are 10
 * optimizer steps, 5 epochs of 40,000 at batch 8 are 25,000.  It names a
 * number of steps instead and lets the batch follow the data.
 */
#ifndef SG_JOB_BUDGET_H
#define SG_JOB_BUDGET_H

#include <stddef.h>

#include "src/train/job.h"

/* The batch of --bs auto for n_train training samples of h x w images:
 * about a tenth of them, rounded down to a power of two, within
 * [JOB_BS_AUTO_MIN, JOB_BS_AUTO_MAX] and never above n_train (at least
 * 2: BatchNorm).  Images that cost a ResNet more than DSA's 30 x 125
 * stack (JOB_BS_AUTO_REF_VALUES, rows counted as at least
 * JOB_BS_AUTO_MIN_ROWS: the deep layers run a row high however thin the
 * image) lower the cap in proportion, so that the step budget costs
 * about what it costs on such images: 45 channels x 364 samples get 8,
 * not 32, and train 25 epochs of 475 cases in minutes rather than 108 in
 * an hour.  h or w 0: no image cost known.  job_budget_resolve applies
 * the cap only where a step budget sets the training length. */
#define JOB_BS_AUTO_MIN 8
#define JOB_BS_AUTO_MAX 64
#define JOB_BS_AUTO_REF_VALUES (30 * 125)
#define JOB_BS_AUTO_MIN_ROWS 16
int job_budget_batch(size_t n_train, int h, int w);

/* The epochs that give at least steps optimizer steps of batch bs over
 * n_train samples, and never fewer than min_epochs; capped at
 * JOB_BUDGET_MAX_EPOCHS. */
#define JOB_BUDGET_MAX_EPOCHS 10000
int job_budget_epochs(size_t n_train, int bs, int steps, int min_epochs);

/* --valid-pct auto (JOB_VALID_AUTO): no validation split up to
 * JOB_VALID_AUTO_MAX_N samples, else JOB_VALID_AUTO_PCT; where the
 * samples carry subjects, always JOB_VALID_AUTO_PCT of the subjects (new
 * people are what such a set is for).  A set of 40 or 200 cases that
 * comes with its own test set (the UEA archive's split) cannot spare a
 * fifth for validation, nor train five folds in minutes; the test set
 * measures it.  Resolves o->valid_pct in place for a data set of n
 * samples; a no-op for a fraction. */
#define JOB_VALID_AUTO (-1.0)
#define JOB_VALID_AUTO_MAX_N 2000
#define JOB_VALID_AUTO_PCT 0.2
void job_budget_valid(job_opts *o, size_t n, int has_subjects);

/* Resolves o->batch_size 0 (--bs auto) and o->train_steps in place for a
 * training split of n_train samples of h x w images (the model's input);
 * says what it chose on stderr when talk.  Leaves o as it is when neither
 * is asked. */
int job_budget_resolve(job_opts *o, size_t n_train, int h, int w, int talk);

#endif
