/* job_train_main.h - `sensorgram train` after parsing: one run
 * (job_train.h) or an ensemble of members (job_ensemble.h), in one
 * process or as a rank of a process group.
 */
#ifndef SG_JOB_TRAIN_MAIN_H
#define SG_JOB_TRAIN_MAIN_H

#include "src/train/job.h"

/* Everything `train` does after its options were parsed and checked
 * (src/cli/cli_train.c): joins the process group (--dist-url or the
 * torchrun environment), gives each local rank its GPU, resumes after a
 * torchrun restart, guards the run folder, then trains o alone or, with
 * n_members > 0, the members (parsed and checked job_opts, each a whole
 * model) as one ensemble into o->out_dir.  *usage is set when the
 * error is the user's to fix before anything trained (exit status 2). */
int job_train_main(job_opts *o, const job_opts *members, int n_members, int *usage);

#endif
