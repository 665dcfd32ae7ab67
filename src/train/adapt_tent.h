/* adapt_tent.h - `eval`/`predict --tent N`: after AdaBN (adapt_bn.h), N
 * passes of test-time entropy minimisation over a new wearer's unlabelled
 * inputs (TENT, Wang et al., ICLR 2021).
 *
 * AdaBN moves the statistics a BatchNorm layer normalises with; TENT
 * also moves its scale and shift, by gradient steps that make the
 * model's predictions on those inputs more confident (lower entropy).
 * Everything else stays frozen.  Two departures from the paper, both
 * for a group of a person's segments rather than a stream of mixed
 * images: the layers normalise with the group's AdaBN statistics (eval
 * mode), not each batch's own (a batch of one activity would normalise
 * that activity away), and the steps are taken over the whole group,
 * shuffled, before any input is predicted (offline, as `eval` is).
 * Optimizer as the paper's for small images: Adam, lr 1e-3, no decay.
 */
#ifndef SG_ADAPT_TENT_H
#define SG_ADAPT_TENT_H

#include <stddef.h>

#include "models/sg_model.h"
#include "src/image/transform.h"
#include "src/train/sample_source.h"

#define ADAPT_TENT_LR 1e-3

/* Runs `epochs` shuffled passes of sg_model_train_step_entropy over
 * samples idx[0..n) of src (read unaugmented through spec, batches of
 * at most batch_size) with only the BatchNorm scales and shifts of m
 * trainable; m is left unfrozen and in eval mode, its BatchNorm affine
 * weights changed (the caller keeps the trained ones to restore).
 * *entropy_first and *entropy_last: the mean entropy over the first and
 * the last pass's batches (as the steps saw them). */
int adapt_tent(sg_model *m, sample_source *src, const size_t *idx, size_t n,
               const sg_transform_spec *spec, int batch_size, int workers, int epochs,
               double *entropy_first, double *entropy_last);

#endif
