/* job_features.h - `sensorgram features`: the global-average-pooled
 * ResNet features of every sample of o->args[0] (job_features.c says
 * how), written to o->output (N, D) float32 with its labels beside it.
 */
#ifndef SG_JOB_FEATURES_H
#define SG_JOB_FEATURES_H

#include <stddef.h>

#include "src/train/job.h"

/* Extracts and writes the features; *n and *dim get their shape.
 * Returns 0 or an SG_E_* code with the message set. */
int job_features(const job_opts *o, size_t *n, int *dim);

#endif
