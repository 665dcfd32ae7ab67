/* job_eval.h - `sensorgram eval CKPT DATA` (job_eval.c says what it
 * writes): o->args[0] is a checkpoint, a comma list of them or a run
 * folder, the rest the data; results go to o->output (default: eval/
 * beside the checkpoint) and a summary to stdout.
 */
#ifndef SG_JOB_EVAL_H
#define SG_JOB_EVAL_H

#include "src/train/job.h"

/* Evaluates; a failed evaluation leaves none of its files behind.
 * Returns 0 or an SG_E_* code with the message set. */
int job_eval(const job_opts *o);

#endif
