/* metrics.c - confusion matrix, derived scores, log loss, softmax and
 * the confusion-matrix CSV (see metrics.h). */
#include "src/train/metrics.h"
#include "src/base/atomic_file.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_CLASSES = 1 << 15 };

int cm_create(sg_cm *cm, int k)
{
    memset(cm, 0, sizeof *cm);
    if (k < 1 || k > MAX_CLASSES)
        return sg_fail(SG_E_INVALID, "confusion matrix: invalid class count %d", k);
    cm->counts = calloc((size_t)k * (size_t)k, sizeof(int64_t));
    if (!cm->counts)
        return sg_fail(SG_E_NOMEM, "confusion matrix: out of memory");
    cm->k = k;
    return SG_OK;
}

void cm_free(sg_cm *cm)
{
    if (!cm)
        return;
    free(cm->counts);
    memset(cm, 0, sizeof *cm);
}

int cm_add(sg_cm *cm, int truth, int pred)
{
    if (truth < 0 || truth >= cm->k || pred < 0 || pred >= cm->k)
        return sg_fail(SG_E_INVALID, "confusion matrix: class out of range (true %d, pred %d, k %d)",
                       truth, pred, cm->k);
    cm->counts[(size_t)truth * (size_t)cm->k + (size_t)pred]++;
    return SG_OK;
}

int cm_add_many(sg_cm *cm, const int *truth, const int *pred, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = cm_add(cm, truth[i], pred[i]);
        if (rc < 0)
            return sg_fail_context(rc, "sample %zu", i);
    }
    return SG_OK;
}

int64_t cm_total(const sg_cm *cm)
{
    int64_t t = 0;
    for (size_t i = 0; i < (size_t)cm->k * (size_t)cm->k; i++)
        t += cm->counts[i];
    return t;
}

static int64_t at(const sg_cm *cm, int t, int p)
{
    return cm->counts[(size_t)t * (size_t)cm->k + (size_t)p];
}

double cm_accuracy(const sg_cm *cm)
{
    int64_t total = cm_total(cm), diag = 0;
    for (int c = 0; c < cm->k; c++)
        diag += at(cm, c, c);
    return total ? (double)diag / (double)total : 0.0;
}

double cm_precision(const sg_cm *cm, int c)
{
    int64_t predicted = 0;
    for (int t = 0; t < cm->k; t++)
        predicted += at(cm, t, c);
    return predicted ? (double)at(cm, c, c) / (double)predicted : 0.0;
}

double cm_recall(const sg_cm *cm, int c)
{
    int64_t actual = 0;
    for (int p = 0; p < cm->k; p++)
        actual += at(cm, c, p);
    return actual ? (double)at(cm, c, c) / (double)actual : 0.0;
}

double cm_f1(const sg_cm *cm, int c)
{
    double p = cm_precision(cm, c), r = cm_recall(cm, c);
    return (p + r) > 0 ? 2.0 * p * r / (p + r) : 0.0;
}

double cm_macro_f1(const sg_cm *cm)
{
    double s = 0;
    for (int c = 0; c < cm->k; c++)
        s += cm_f1(cm, c);
    return s / cm->k;
}

int cm_write_csv(const sg_cm *cm, const char *const *class_names, const char *path)
{
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc < 0)
        return rc;
    fputs("label", af.fp);
    for (int c = 0; c < cm->k; c++) {
        fputc(',', af.fp);
        sg_csv_write_field(af.fp, class_names[c]);
    }
    fputc('\n', af.fp);
    for (int t = 0; t < cm->k; t++) {
        sg_csv_write_field(af.fp, class_names[t]);
        for (int p = 0; p < cm->k; p++)
            fprintf(af.fp, ",%lld", (long long)at(cm, t, p));
        fputc('\n', af.fp);
    }
    return sg_atomic_commit(&af);
}

void sg_softmax(float *probs, const float *logits, int k)
{
    float m = logits[0];
    for (int i = 1; i < k; i++)
        if (logits[i] > m)
            m = logits[i];
    double sum = 0;
    for (int i = 0; i < k; i++) {
        double e = exp((double)logits[i] - (double)m);
        probs[i] = (float)e;
        sum += e;
    }
    for (int i = 0; i < k; i++)
        probs[i] = (float)((double)probs[i] / sum);
}

int sg_argmax(const float *v, int k)
{
    int best = 0;
    for (int i = 1; i < k; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static double clip(double p)
{
    const double eps = 1e-15;
    return p < eps ? eps : (p > 1 - eps ? 1 - eps : p);
}

double sg_sample_log_loss(const float *probs, int k, int label)
{
    double sum = 0;
    for (int i = 0; i < k; i++)
        sum += clip(probs[i]);
    return -log(clip(probs[label]) / sum);
}

int sg_log_loss(double *out, const float *probs, const int *labels, size_t n, int k)
{
    *out = NAN;
    if (n == 0 || k < 1)
        return sg_fail(SG_E_INVALID, "log loss: no samples");
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return sg_fail(SG_E_INVALID, "log loss: sample %zu has label %d outside 0..%d", i,
                           labels[i], k - 1);
        total += sg_sample_log_loss(probs + i * (size_t)k, k, labels[i]);
    }
    *out = total / (double)n;
    return SG_OK;
}

size_t sg_top_losses(size_t *top, const double *losses, size_t n, size_t n_top)
{
    /* Insertion into a sorted top list: O(n * n_top), fine for the few
     * dozen images a figure shows. */
    size_t m = 0;
    if (n_top > n)
        n_top = n;
    for (size_t i = 0; i < n && n_top > 0; i++) {
        double v = losses[i];
        if (m == n_top && !(v > losses[top[m - 1]]))
            continue;
        size_t pos = m < n_top ? m : m - 1;
        while (pos > 0 && v > losses[top[pos - 1]]) {
            top[pos] = top[pos - 1];
            pos--;
        }
        top[pos] = i;
        if (m < n_top)
            m++;
    }
    return m;
}
