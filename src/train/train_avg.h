/* train_avg.h - weight averaging in the training loop (--ema, --swa).
 *
 * The average lives in opt->avg (models/sg_model.h, sg_wavg), created by
 * the caller from the model before training (or restored from
 * last.safetensors on --resume); state->n_averaged counts the updates
 * folded in.
 *   EMA (opt->ema_decay > 0): after every optimizer step,
 *       avg <- d * avg + (1 - d) * w, starting from the weights training
 *       started from; after S steps avg = d^S w_0 + sum_k (1-d) d^(S-k) w_k.
 *   SWA (opt->swa_epochs = E > 0): after each of the last E epochs,
 *       avg <- n/(n+1) avg + 1/(n+1) w (n updates so far): the uniform
 *       mean of those epochs' end weights.
 * Validation, the best checkpoint and the final model use the averaged
 * weights once there are any (EMA: always; SWA: from the first averaged
 * epoch on), with BatchNorm statistics recomputed for them by --bn-recal
 * (copied from the training model with --bn-recal 0).
 */
#ifndef SG_TRAIN_AVG_H
#define SG_TRAIN_AVG_H

#include "src/train/train.h"

/* EMA update after optimizer step (st->step already counts it). */
int train_avg_after_step(const train_options *opt, sg_model *m, train_state *st);

/* SWA update after epoch `epoch` (global, 0-based) has trained. */
int train_avg_after_epoch(const train_options *opt, sg_model *m, train_state *st, int epoch);

/* 1 when validation should use the averaged weights now. */
int train_avg_ready(const train_options *opt, const train_state *st);

/* "ema" / "swa" for the table, or "" without averaging. */
const char *train_avg_tag(const train_options *opt, const train_state *st);

#endif
