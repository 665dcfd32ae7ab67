/* job_features.c - the engine of `sensorgram features --arch A
 * --pretrained W DATA -o feats.npy`: global-average-pooled ResNet features of every sample,
 * cached so that `train --features` can fit a linear head in seconds.
 *
 * Writes feats.npy (N, D) float32 and, beside it, feats.labels.csv
 * (path,label,class_index; class_index -1 for unlabelled files).  Inputs
 * go through the eval geometry of `train` (no augmentation) with ImageNet
 * normalisation for pretrained weights, the data's statistics otherwise.
 */
#include "src/base/atomic_file.h"
#include "src/train/pretrain.h"
#include "src/train/job_features.h"
#include "src/train/job_data.h"
#include "src/train/job_setup.h"
#include "src/train/loader.h"
#include "src/base/npy.h"
#include "src/base/progress.h"
#include "src/train/run_dir.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_labels(const char *npy, const job_data *d)
{
    char path[4096];
    size_t len = strlen(npy);
    if (len > 4 && strcmp(npy + len - 4, ".npy") == 0)
        len -= 4;
    int n = snprintf(path, sizeof path, "%.*s.labels.csv", (int)len, npy);
    if (n < 0 || (size_t)n >= sizeof path)
        return sg_fail(SG_E_INVALID, "%s: path too long", npy);
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fputs("path,label,class_index\n", af.fp);
    for (size_t i = 0; i < d->src.n; i++) {
        int y = d->src.label[i];
        sg_csv_write_field(af.fp, d->src.name[i]);
        fputc(',', af.fp);
        if (y >= 0)
            sg_csv_write_field(af.fp, d->src.class_names[y]);
        fprintf(af.fp, ",%d\n", y);
    }
    return sg_atomic_commit(&af);
}

static int extract(float *feats, int dim, sg_model *m, job_data *d,
                   const sg_transform_spec *spec, const job_opts *o)
{
    sg_sample_source s = sample_source_loader_view(&d->src);
    sg_loader_opts lo = {
        .batch_size = (size_t)(o->batch_size > 0 ? o->batch_size : 64),
        .n_workers = o->workers,
    };
    sg_loader *l = NULL;
    sg_progress *bar = NULL;
    int rc = sg_loader_create(&l, &s, spec, &lo);
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 0);
    if (rc == SG_OK)
        rc = sg_loader_start_epoch(l, 0);
    if (rc == SG_OK && o->progress != 0)
        rc = sg_progress_create(&bar, stderr, "features", d->src.n, o->progress);
    size_t pos = 0;
    sg_batch *b;
    while (rc == SG_OK) {
        int got = sg_loader_next(l, &b);
        if (got <= 0) {
            rc = got;
            break;
        }
        /* Unshuffled: batches arrive in dataset order. */
        rc = sg_model_features(m, b->x, b->n, b->c, b->h, b->w, feats + pos * (size_t)dim);
        pos += (size_t)b->n;
        if (bar)
            sg_progress_add(bar, (size_t)b->n);
    }
    sg_progress_free(bar);
    sg_loader_free(l);
    if (rc == SG_OK && pos != d->src.n)
        rc = sg_fail(SG_E_INVALID, "features covered %zu of %zu samples", pos, d->src.n);
    return rc;
}

int job_features(const job_opts *o, size_t *n_out, int *dim_out)
{
    job_data d;
    int rc = job_data_load(&d, o, o->args[0], 0);
    if (rc)
        return rc;
    size_t n = d.src.n;
    size_t *all = malloc(n * sizeof *all);
    if (!all) {
        job_data_free(&d);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        all[i] = i;
    sg_transform_spec spec = {0};
    sg_model *m = NULL;
    float *feats = NULL;
    char pretrained[4096] = "";
    int noted = 0, dim = 0;
    rc = job_data_fit(&d, all, n);
    if (rc == SG_OK)
        rc = job_transform_spec(&spec, &d, o);
    if (rc == SG_OK)
        rc = job_resolve_pretrained(pretrained, sizeof pretrained, o, "features", &noted);
    if (rc == SG_OK)
        rc = job_pretrained_pick(pretrained, sizeof pretrained, &d, NULL, o, NULL);
    if (rc == SG_OK)
        rc = job_normalization(&spec, &d, all, n, pretrained[0] != 0, o);
    /* The head's size does not matter for pooled features. */
    if (rc == SG_OK)
        rc = job_model_create(&m, o, &spec, d.src.n_classes > 0 ? d.src.n_classes : 1,
                              pretrained, o->seed, "features", 1);
    if (rc == SG_OK)
        rc = sg_model_feature_dim(m, &dim);
    if (rc == SG_OK) {
        feats = malloc(n * (size_t)dim * sizeof *feats);
        if (!feats)
            rc = sg_fail(SG_E_NOMEM, "out of memory for %zu x %d features", n, dim);
    }
    if (rc == SG_OK)
        rc = extract(feats, dim, m, &d, &spec, o);
    if (rc == SG_OK) {
        size_t shape[2] = {n, (size_t)dim};
        rc = sg_npy_write(o->output, feats, 2, shape);
    }
    if (rc == SG_OK)
        rc = write_labels(o->output, &d);
    *n_out = n;
    *dim_out = dim;
    free(feats);
    free(all);
    sg_model_free(m);
    job_data_free(&d);
    return rc;
}
