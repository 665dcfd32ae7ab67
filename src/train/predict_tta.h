/* predict_tta.h - test-time augmentation: class probabilities averaged
 * over deterministic time shifts of each sensor segment.
 *
 * A segment cut from a continuous recording starts at an arbitrary
 * moment, so the model's answer should not depend on where; averaging
 * the softmax over N circular rolls by k T / N (k = 0 .. N-1) of the raw
 * series before encoding smooths that dependence out.  Only sensor
 * series are shifted: an image file (a photo, or a sensor image already
 * encoded) is refused, because for most encoders (rp, gasf, mtf) a
 * horizontal shift of the picture is not a shift in time.
 */
#ifndef SG_PREDICT_TTA_H
#define SG_PREDICT_TTA_H

#include "src/train/train.h"

/* train_predict (train.h) averaged over n_shifts rolls of src's series:
 * n_shifts 1 is exactly train_predict; *mean_loss is the mean
 * cross-entropy of the averaged probabilities (NAN unless every sample
 * is labelled).  SG_E_INVALID for n_shifts > 1 on an image source.  src's
 * roll is back at 0 afterwards. */
int train_predict_tta(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                      const size_t *idx, size_t n, const sg_transform_spec *spec, int n_classes,
                      int batch_size, int workers, int progress, int n_shifts);

#endif
