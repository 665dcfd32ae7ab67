/* ckpt_ensemble.h - several training checkpoints used as one model by
 * predict and eval: their softmax probabilities are averaged.
 *
 * CKPT, where predict and eval take one checkpoint, may also be a comma
 * list (a.safetensors,b.safetensors) or the folder of a run trained with
 * `--cv ... --keep-folds` (its fold_N/model.safetensors, N ascending).
 * The members must have the same classes in the same order and read the
 * same kind of input (sensor recordings or images); their encodings may
 * differ (sensors, encoder, scaling, image size: an ensemble of two
 * representations makes errors of two kinds, which is what averaging
 * needs).  Each prepares the inputs itself with its own encoding, fitted
 * statistics and normalisation (those come from each fold's own training
 * data), so member i's probabilities are exactly those of `eval` on it
 * alone, and the ensemble's are their mean.
 */
#ifndef SG_CKPT_ENSEMBLE_H
#define SG_CKPT_ENSEMBLE_H

#include "src/train/ckpt_data.h"

typedef struct ckpt_list {
    int n;
    char **paths;   /* n, owned */
    int is_run_dir; /* given as a --keep-folds run folder */
} ckpt_list;

/* Expands spec (one file, a comma list or a --keep-folds run folder)
 * into out; the caller owns out (ckpt_list_free). */
int ckpt_list_expand(ckpt_list *out, const char *spec);

/* Frees what l owns; accepts a zeroed list. */
void ckpt_list_free(ckpt_list *l);

/* Reads every member's metadata and refuses, in one line naming the
 * first member and the differing one, other classes or another kind of
 * input. */
int ckpt_list_check(const ckpt_list *l);

/* As ckpt_predictions_run for each member in turn (one model in memory
 * at a time); r keeps the first member's model, metadata and data, and
 * r->probs / r->loss become the ensemble's.  The inputs must give every
 * member the same samples in the same order (they do: same files). */
int ckpt_ensemble_run(ckpt_predictions *r, const job_opts *o, const ckpt_list *l,
                      int expect_arch, char *const *inputs, int n, int labelled,
                      const char *label_regex);

#endif
