/* job_cv.c - folds spread over ranks (see job_cv.h).
 *
 * Gathering uses sums: every slot is zero except on the one rank that
 * owns it, so a float sum reproduces the owner's value bit for bit.
 */
#include "src/train/job_cv.h"

#include "src/base/atomic_file.h"
#include "src/base/file_read.h"
#include "src/base/sg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int job_cv_owner(const sg_dist *d, int fold)
{
    return fold % sg_dist_world_size(d);
}

enum { FOLD_FIELDS = 13 };

int job_cv_gather_folds(sg_dist *d, fold_result *folds, int n_folds)
{
    int rc = sg_dist_wait_all(d, "cv-folds");
    if (rc)
        return rc;
    double *v = calloc((size_t)n_folds * FOLD_FIELDS, sizeof *v);
    if (!v)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int f = 0; f < n_folds; f++) {
        if (job_cv_owner(d, f) != sg_dist_rank(d))
            continue;
        const fold_result *r = &folds[f];
        double *x = v + (size_t)f * FOLD_FIELDS;
        x[0] = r->fold;
        x[1] = r->group;
        x[2] = (double)r->n_train;
        x[3] = (double)r->n_valid;
        x[4] = r->r.train_loss;
        x[5] = r->r.valid_loss;
        x[6] = r->r.accuracy;
        x[7] = r->r.log_loss;
        x[8] = r->r.seconds;
        x[9] = r->r.images_per_s;
        x[10] = r->r.epochs_done;
        x[11] = (double)r->r.steps;
        x[12] = r->r.comm_seconds;
    }
    rc = sg_dist_allreduce_sum(d, v, (size_t)n_folds * FOLD_FIELDS);
    for (int f = 0; rc == SG_OK && f < n_folds; f++) {
        fold_result *r = &folds[f];
        const double *x = v + (size_t)f * FOLD_FIELDS;
        r->fold = (int)x[0];
        r->group = (int)x[1];
        r->n_train = (size_t)x[2];
        r->n_valid = (size_t)x[3];
        r->r.train_loss = x[4];
        r->r.valid_loss = x[5];
        r->r.accuracy = x[6];
        r->r.log_loss = x[7];
        r->r.seconds = x[8];
        r->r.images_per_s = x[9];
        r->r.epochs_done = (int)x[10];
        r->r.steps = (long)x[11];
        r->r.comm_seconds = x[12];
    }
    free(v);
    return rc;
}

typedef struct oof_key {
    double key;
    size_t index;
} oof_key;

static int by_key(const void *a, const void *b)
{
    double x = ((const oof_key *)a)->key, y = ((const oof_key *)b)->key;
    return (x > y) - (x < y);
}

int job_cv_gather_oof(sg_dist *d, size_t n_src, int k, size_t *n, size_t **index, float **probs,
                      int **fold)
{
    /* key of sample i: 1 + fold * n_src + its position in the fold. */
    double *key = calloc(n_src ? n_src : 1, sizeof *key);
    float *p = calloc((n_src ? n_src : 1) * (size_t)k, sizeof *p);
    oof_key *order = NULL;
    size_t *ni = NULL;
    float *np = NULL;
    int *nf = NULL;
    int rc = key && p ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    size_t pos = 0;
    for (size_t i = 0; rc == SG_OK && i < *n; i++) {
        if (i > 0 && (*fold)[i] != (*fold)[i - 1])
            pos = 0;
        size_t s = (*index)[i];
        if (s >= n_src || key[s] != 0.0) {
            rc = sg_fail(SG_E_INVALID, "sample %zu is validated twice across folds", s);
            break;
        }
        key[s] = 1.0 + (double)(*fold)[i] * (double)n_src + (double)pos++;
        memcpy(p + s * (size_t)k, *probs + i * (size_t)k, (size_t)k * sizeof *p);
    }
    if (rc == SG_OK)
        rc = sg_dist_allreduce_sum(d, key, n_src);
    if (rc == SG_OK)
        rc = sg_dist_allreduce_sum_f32(d, p, n_src * (size_t)k);
    size_t m = 0;
    if (rc == SG_OK) {
        for (size_t s = 0; s < n_src; s++)
            m += key[s] != 0.0;
        order = malloc((m ? m : 1) * sizeof *order);
        ni = malloc((m ? m : 1) * sizeof *ni);
        np = malloc((m ? m : 1) * (size_t)k * sizeof *np);
        nf = malloc((m ? m : 1) * sizeof *nf);
        if (!order || !ni || !np || !nf)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc == SG_OK) {
        size_t j = 0;
        for (size_t s = 0; s < n_src; s++)
            if (key[s] != 0.0)
                order[j++] = (oof_key){key[s], s};
        qsort(order, m, sizeof *order, by_key);
        for (size_t i = 0; i < m; i++) {
            size_t s = order[i].index;
            ni[i] = s;
            nf[i] = (int)((order[i].key - 1.0) / (double)n_src);
            memcpy(np + i * (size_t)k, p + s * (size_t)k, (size_t)k * sizeof *np);
        }
        free(*index);
        free(*probs);
        free(*fold);
        *index = ni;
        *probs = np;
        *fold = nf;
        *n = m;
        ni = NULL;
        np = NULL;
        nf = NULL;
    }
    free(ni);
    free(np);
    free(nf);
    free(order);
    free(key);
    free(p);
    return rc;
}

int job_cv_merge_metrics(const char *run_dir, int n_folds)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    for (int f = 0; rc == SG_OK && f < n_folds; f++) {
        char part[4200];
        snprintf(part, sizeof part, "%s/fold_%d/metrics.csv", run_dir, f);
        char *text = NULL;
        size_t size = 0;
        rc = sg_file_read(part, &text, &size);
        if (rc) {
            rc = sg_fail_context(rc, "joining the folds' metrics");
            break;
        }
        /* The header once, from fold 0. */
        const char *body = text;
        if (f > 0) {
            const char *nl = memchr(text, '\n', size);
            body = nl ? nl + 1 : text + size;
        }
        size_t len = size - (size_t)(body - text);
        if (fwrite(body, 1, len, af.fp) != len)
            rc = sg_fail(SG_E_IO, "%s: write failed", path);
        free(text);
    }
    if (rc) {
        sg_atomic_abort(&af);
        return rc;
    }
    return sg_atomic_commit(&af);
}
