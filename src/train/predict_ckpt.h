/* predict_ckpt.h - `sensorgram predict CKPT INPUTS -o preds.csv`: class
 * probabilities from a training checkpoint, which carries everything
 * needed (classes, input size, normalisation, encoder settings and fit).
 *
 * Output (atomic): predictions.csv's format (run_files.h): path, label
 * (when known from folders), pred, loss, one probability per class.
 * With --kaggle: `id,label` sorted by numeric id (the file stem), label
 * the probability of the positive class ("dog" when a class has that
 * name, else class 1) clipped to [clip, 1 - clip].
 */
#ifndef SG_PREDICT_CKPT_H
#define SG_PREDICT_CKPT_H

#include "src/train/job.h"

/* Runs predict for o->args = CKPT INPUTS... and o->output. */
int predict_ckpt_run(const job_opts *o);

#endif
