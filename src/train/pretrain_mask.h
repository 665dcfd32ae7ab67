/* pretrain_mask.h - the masked-segment task of `pretrain --objective
 * masked`: hide stretches of time, ask for what they held.
 *
 * A sensor image's columns are time (gray rows: one sample per column;
 * spectrograms: one frame per column), so its width is cut into
 * PRETRAIN_MASK_BLOCKS equal spans and half of them, chosen per image,
 * are set to 0 (the normalised mean) over every channel and row.  The
 * network must then give, for each channel, row and span, the mean of
 * the original values there (c x h x blocks outputs from its fc, a
 * linear decoder of the pooled features), scored on the hidden spans
 * only.  What it must learn is how the body's axes move together over
 * time, the part of an activity the seen spans imply about the unseen
 * (masked-signal modelling for sensors: TST, Zerveas et al. 2021;
 * SimMIM's linear head, Xie et al. 2022).
 */
#ifndef SG_PRETRAIN_MASK_H
#define SG_PRETRAIN_MASK_H

#include "src/base/rng.h"

#include <stddef.h>

/* Spans the width is cut into, and how many of them are hidden. */
#define PRETRAIN_MASK_BLOCKS 8
#define PRETRAIN_MASK_HIDDEN 4

/* The decoder's outputs for images of c x h: c * h * blocks. */
int pretrain_mask_outputs(int c, int h);

/* For n images x (n, c, h, w), w >= PRETRAIN_MASK_BLOCKS: writes the
 * masked copies to xm (same shape), the span means of x to target
 * (n, pretrain_mask_outputs(c, h)) and 1 into weight where a span is
 * hidden, 0 elsewhere; the hidden spans of each image drawn from r. */
void pretrain_mask_batch(const float *x, int n, int c, int h, int w, sg_rng *r, float *xm,
                         float *target, float *weight);

#endif
