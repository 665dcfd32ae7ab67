/* train_features.h - `train --features A.npy,B.npy`: a linear softmax
 * head trained in C on cached pooled features (from `sensorgram
 * features`), in seconds instead of a network's minutes.
 *
 * Each A.npy is (N, D_a) float32 written by `features`, with labels in
 * A.labels.csv beside it (path,label,class_index); the files' features
 * are concatenated per row (all files must have the same N and the same
 * rows), standardised with the training rows' mean and std, and fitted
 * with full-batch Adam on cross-entropy plus L2 (--wd).
 */
#ifndef SG_TRAIN_FEATURES_H
#define SG_TRAIN_FEATURES_H

#include "src/train/job.h"

/* Runs the whole command for parsed options; writes the run folder's
 * metrics.csv, predictions.csv, confusion_matrix.csv and config.json. */
int train_features_run(const job_opts *o);

#endif
