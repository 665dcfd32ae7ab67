/* batch_mix.h - mixup and cutmix of one training batch, with the soft
 * targets they imply.
 *
 *   mixup   x_i = lam x_i + (1 - lam) x_p(i), lam ~ Beta(alpha, alpha) once
 *           per batch, p a random permutation of the batch (Zhang et al.
 *           2018, as fastai's MixUp);
 *   cutmix  a box of about (1 - lam) of the image, centred uniformly and
 *           clipped to it, pasted from x_p(i) into x_i; lam is then the
 *           kept area's exact fraction (Yun et al. 2019).
 * Targets: lam onehot(y_i) + (1 - lam) onehot(y_p(i)), then label
 * smoothing (1 - eps) t + eps / k, for sg_model_train_step_soft.  The
 * draws come from the seed alone (the caller derives it from seed,
 * epoch and step), so a run is repeatable.  Pure computation over
 * caller-owned buffers.
 */
#ifndef SG_BATCH_MIX_H
#define SG_BATCH_MIX_H

#include <stddef.h>
#include <stdint.h>

#include "models/sg_model.h"
#include "src/train/loader.h"

typedef enum batch_mix_kind {
    BATCH_MIX_NONE,
    BATCH_MIX_MIXUP,
    BATCH_MIX_CUTMIX,
} batch_mix_kind;

/* What was drawn, for tests and logs (any field may be ignored). */
typedef struct batch_mix_draw {
    double lam;              /* weight of each sample's own image and label */
    int y0, y1, x0, x1;      /* cutmix: the pasted box, rows [y0, y1) x cols [x0, x1) */
} batch_mix_draw;

/* Mixes x (n, c, h, w) in place and writes targets (n, k) for labels
 * (n class indices in 0..k-1).  perm (n ints) receives the permutation,
 * scratch holds n * c * h * w floats.  alpha > 0.  draw may be NULL. */
void batch_mix_apply(float *x, float *targets, int *perm, float *scratch, const int64_t *labels,
                     int n, int c, int h, int w, int k, batch_mix_kind kind, double alpha,
                     double label_smoothing, uint64_t seed, batch_mix_draw *draw);

/* One training step of m on batch b mixed as above (b->x is changed in
 * place), through sg_model_train_step_soft with k classes; buffers are
 * allocated for the step.  *loss: the mean soft cross-entropy. */
int batch_mix_train_step(sg_model *m, sg_optim *o, sg_batch *b, int k, batch_mix_kind kind,
                         double alpha, double label_smoothing, uint64_t seed, double *loss);

#endif
