/* predict_bare.h - `sensorgram predict --arch A --weights FILE`: a bare
 * model (torchvision names) on images of its input size (predict_bare.c
 * says how they are fed); CSV rows `path,pred,p0,...` to o->output.
 */
#ifndef SG_PREDICT_BARE_H
#define SG_PREDICT_BARE_H

#include "src/train/job.h"

/* Predicts o->args (n_args image files) with o->weights into o->output,
 * atomically.  Returns 0 or an SG_E_* code with the message set. */
int predict_bare(const job_opts *o);

#endif
