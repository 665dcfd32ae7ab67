/* metrics.h - classification metrics and the confusion-matrix CSV.
 *
 * Conventions (documented because they differ between libraries):
 *   precision, recall, F1 of a class are 0 when undefined (no predicted
 *   / no true samples of it), like sklearn's zero_division=0;
 *   log loss clips probabilities to [1e-15, 1 - 1e-15] and renormalises
 *   each row, like sklearn.metrics.log_loss (up to 1.4).
 * Class indices are 0 .. k-1; rows of probability arrays are (n, k).
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_cm {
    int k;              /* number of classes */
    int64_t *counts;    /* (k, k): counts[true * k + pred], owned */
} sg_cm;

/* Allocates a zeroed k x k matrix owned by cm (free with cm_free). */
int cm_create(sg_cm *cm, int k);

/* Counts one sample; out-of-range classes are an error. */
int cm_add(sg_cm *cm, int truth, int pred);

/* Counts n samples. */
int cm_add_many(sg_cm *cm, const int *truth, const int *pred, size_t n);

/* Total number of samples counted. */
int64_t cm_total(const sg_cm *cm);

/* Fraction on the diagonal (0 when empty). */
double cm_accuracy(const sg_cm *cm);

/* Per-class precision, recall, F1 of class c (0 when undefined). */
double cm_precision(const sg_cm *cm, int c);
double cm_recall(const sg_cm *cm, int c);
double cm_f1(const sg_cm *cm, int c);

/* Unweighted mean of per-class F1 over the k classes (sklearn "macro"). */
double cm_macro_f1(const sg_cm *cm);

/* Writes confusion_matrix.csv (run_files.h format: header
 * label,<class 0>,...; one row per true class) atomically to path.
 * Names containing commas, quotes or newlines are quoted. */
int cm_write_csv(const sg_cm *cm, const char *const *class_names, const char *path);

/* Frees cm's counts and zeroes it; accepts NULL. */
void cm_free(sg_cm *cm);

/* Numerically stable softmax of k logits into probs (may alias logits). */
void sg_softmax(float *probs, const float *logits, int k);

/* Index of the largest of k values (first on ties). */
int sg_argmax(const float *v, int k);

/* Cross-entropy of one sample: -log(clip(p[label])) with sklearn's
 * clipping and row renormalisation. */
double sg_sample_log_loss(const float *probs, int k, int label);

/* Mean log loss over n samples (probs is (n, k)); SG_E_INVALID for a
 * label out of range or n == 0.  Result in *out. */
int sg_log_loss(double *out, const float *probs, const int *labels, size_t n, int k);

/* Writes to top the indices of the min(n_top, n) largest losses, largest
 * first, ties by lower index; returns how many were written. */
size_t sg_top_losses(size_t *top, const double *losses, size_t n, size_t n_top);

#endif
