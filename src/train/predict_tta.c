/* predict_tta.c - probabilities averaged over time shifts (see predict_tta.h).
 *
 * Each shift is one full train_predict pass with the source rolled, so
 * the loader, batching and ordering are the ones of a plain prediction;
 * sums are kept in double so that the mean does not depend on N's
 * rounding more than a float allows.
 */
#include "src/train/predict_tta.h"

#include "src/train/metrics.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdlib.h>

int train_predict_tta(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                      const size_t *idx, size_t n, const sg_transform_spec *spec, int n_classes,
                      int batch_size, int workers, int progress, int n_shifts)
{
    if (n_shifts <= 1)
        return train_predict(probs, mean_loss, m, src, idx, n, spec, n_classes, batch_size,
                             workers, progress);
    *mean_loss = NAN;
    if (src->kind != SAMPLE_SERIES)
        return sg_fail(SG_E_INVALID,
                       "--tta %d shifts sensor series in time; these inputs are image files, "
                       "and shifting a picture is not shifting its signal (give the DSA root or "
                       "segment files instead)",
                       n_shifts);
    int T = src->series.n_samples;
    if (n_shifts > T)
        return sg_fail(SG_E_INVALID, "--tta %d: more shifts than the segments' %d samples",
                       n_shifts, T);
    size_t len = n * (size_t)n_classes;
    double *sum = calloc(len ? len : 1, sizeof *sum);
    if (!sum)
        return sg_fail(SG_E_NOMEM, "out of memory for %zu probabilities", len);
    int rc = SG_OK;
    for (int k = 0; rc == SG_OK && k < n_shifts; k++) {
        double loss;
        sample_source_set_roll(src, (int)((long)k * T / n_shifts));
        rc = train_predict(probs, &loss, m, src, idx, n, spec, n_classes, batch_size, workers,
                           progress);
        for (size_t j = 0; rc == SG_OK && j < len; j++)
            sum[j] += probs[j];
    }
    sample_source_set_roll(src, 0);
    if (rc == SG_OK) {
        double loss_sum = 0.0;
        int all_labelled = 1;
        for (size_t j = 0; j < len; j++)
            probs[j] = (float)(sum[j] / n_shifts);
        for (size_t i = 0; i < n; i++) {
            int label = src->label[idx[i]];
            if (label >= 0 && label < n_classes)
                loss_sum += sg_sample_log_loss(probs + i * (size_t)n_classes, n_classes, label);
            else
                all_labelled = 0;
        }
        if (all_labelled && n > 0)
            *mean_loss = loss_sum / (double)n;
    }
    free(sum);
    return rc;
}
