/* job_dist.h - the process group of `sensorgram train` from flags and
 * the environment torchrun or Slurm sets (see job_dist.c). */
#ifndef SG_JOB_DIST_H
#define SG_JOB_DIST_H

#include "src/train/job.h"
#include "models/sg_dist.h"

#include <jansson.h>

/* Joins the process group the options and environment describe; *out
 * is NULL for one process (no WORLD_SIZE, or 1).  The caller owns *out. */
int job_dist_join(sg_dist **out, const job_opts *o);

/* torchrun's restart count (TORCHELASTIC_RESTART_COUNT), 0 when unset. */
int job_dist_restart_count(void);

/* The step's global batch: --bs x ranks x --accumulate. */
long job_dist_global_batch(const job_opts *o, const sg_dist *d);

/* Records world_size, accumulate and global_batch in the run's config. */
int job_dist_config_add(json_t *config, const job_opts *o, const sg_dist *d);

/* --resume: the run in dir must have been trained with the same global
 * batch (steps per epoch and the schedule depend on it; how it is split
 * into ranks or micro-batches may change).  Runs without the record
 * (before data parallelism) count as one process without accumulation. */
int job_dist_check_resume(const char *dir, const job_opts *o, const sg_dist *d);

#endif
