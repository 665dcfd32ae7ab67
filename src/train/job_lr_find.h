/* job_lr_find.h - the learning-rate range test of `sensorgram lr-find`
 * (job_lr_find.c says how): grows the rate exponentially over o->steps
 * optimizer steps on the training part of the data and writes
 * o->out_dir/lr_find.csv and lr_find_suggestions.csv.
 */
#ifndef SG_JOB_LR_FIND_H
#define SG_JOB_LR_FIND_H

#include "src/train/job.h"

typedef struct job_lr_find_result {
    int steps;                 /* steps taken (the test stops when the loss diverges) */
    double lr_first, lr_last;  /* the rates of the first and the last step */
    double min_div10;          /* suggestion: the rate of the loss minimum / 10 */
    double steepest;           /* suggestion: the rate of the steepest descent */
} job_lr_find_result;

/* Runs the test for o (one DATA argument) into o->out_dir; fills *res.
 * Returns 0 or an SG_E_* code with the message set. */
int job_lr_find(const job_opts *o, job_lr_find_result *res);

#endif
