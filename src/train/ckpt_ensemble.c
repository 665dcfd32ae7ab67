/* ckpt_ensemble.c - fold and checkpoint ensembles for predict and eval
 * (see ckpt_ensemble.h). */
#include "src/train/ckpt_ensemble.h"
#include "src/base/fs_stat.h"

#include "src/train/run_files.h"
#include "src/encode/enc_json.h"
#include "src/train/metrics.h"
#include "src/base/sg_error.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int list_add(ckpt_list *l, const char *path, size_t len)
{
    char **np = realloc(l->paths, (size_t)(l->n + 1) * sizeof *np);
    if (!np)
        return sg_fail(SG_E_NOMEM, "out of memory");
    l->paths = np;
    if (!(l->paths[l->n] = strndup(path, len)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    l->n++;
    return SG_OK;
}

typedef struct numbered {
    long n;
    char *path;
} numbered;

static int numbered_cmp(const void *a, const void *b)
{
    const numbered *x = a, *y = b;
    return (x->n > y->n) - (x->n < y->n);
}

/* dir/PREFIXN/leaf (leaf "" = the folder itself) for every decimal N
 * where that exists, N ascending, into *out (*n_out entries; free each
 * path and the array). */
static int numbered_subdirs(numbered **out, size_t *n_out, const char *dir, const char *prefix,
                            const char *leaf)
{
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sg_fail(SG_E_IO, "%s: cannot open the folder", dir);
    size_t plen = strlen(prefix), nv = 0;
    numbered *v = NULL;
    int rc = SG_OK;
    struct dirent *e;
    while (rc == SG_OK && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strncmp(name, prefix, plen) != 0 || !name[plen] ||
            strspn(name + plen, "0123456789") != strlen(name + plen))
            continue;
        char path[4352];
        snprintf(path, sizeof path, "%s/%s%s%s", dir, name, leaf[0] ? "/" : "", leaf);
        if (leaf[0] ? !sg_is_file(path) : !sg_is_dir(path))
            continue;
        numbered *nvp = realloc(v, (nv + 1) * sizeof *nvp);
        if (!nvp) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        v = nvp;
        v[nv].n = strtol(name + plen, NULL, 10);
        if (!(v[nv].path = strdup(path)))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        else
            nv++;
    }
    closedir(d);
    if (rc == SG_OK && nv > 1)
        qsort(v, nv, sizeof *v, numbered_cmp);
    *out = v;
    *n_out = nv;
    return rc;
}

static void numbered_free(numbered *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

/* A run's final models: fold_N/model.safetensors of a --keep-folds run,
 * else (no cross-validation) last.safetensors.  *found: how many. */
static int expand_one_run(ckpt_list *out, const char *dir, size_t *found)
{
    numbered *v;
    size_t nv;
    int rc = numbered_subdirs(&v, &nv, dir, "fold_", SG_RUN_FOLD_MODEL);
    for (size_t i = 0; rc == SG_OK && i < nv; i++)
        rc = list_add(out, v[i].path, strlen(v[i].path));
    numbered_free(v, nv);
    *found = nv;
    char last[4352];
    snprintf(last, sizeof last, "%s/%s", dir, SG_RUN_CKPT_LAST);
    if (rc == SG_OK && nv == 0 && sg_is_file(last)) {
        rc = list_add(out, last, strlen(last));
        *found = rc == SG_OK;
    }
    return rc;
}

/* A run folder: an ensemble's (train --member: every member_N's models,
 * N ascending), a --keep-folds run's (fold_N's), or a single run's final
 * model. */
static int expand_run_dir(ckpt_list *out, const char *dir)
{
    numbered *members;
    size_t n_members, found = 0;
    int rc = numbered_subdirs(&members, &n_members, dir, SG_RUN_MEMBER_PREFIX, "");
    for (size_t i = 0; rc == SG_OK && i < n_members; i++) {
        rc = expand_one_run(out, members[i].path, &found);
        if (rc == SG_OK && found == 0)
            rc = sg_fail(SG_E_INVALID,
                         "%s: an ensemble member without its final model (%s, or fold_N/%s "
                         "of a --keep-folds run)",
                         members[i].path, SG_RUN_CKPT_LAST, SG_RUN_FOLD_MODEL);
    }
    numbered_free(members, n_members);
    /* A run of its own: its --keep-folds models, else its final model,
     * the one its validation outputs came from (as for a member). */
    if (rc == SG_OK && n_members == 0) {
        rc = expand_one_run(out, dir, &found);
        if (rc == SG_OK && found == 0)
            rc = sg_fail(SG_E_INVALID,
                         "%s: a folder without %s, fold_N/%s or member_N/: give a checkpoint "
                         "file, or the folder of a finished run",
                         dir, SG_RUN_CKPT_LAST, SG_RUN_FOLD_MODEL);
    }
    out->is_run_dir = rc == SG_OK;
    return rc;
}

int ckpt_list_expand(ckpt_list *out, const char *spec)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (sg_is_dir(spec)) {
        rc = expand_run_dir(out, spec);
    } else if (sg_is_file(spec) || !strchr(spec, ',')) {
        /* one file (a name with a comma included); a missing one fails
         * where it is opened, with the loader's message */
        rc = list_add(out, spec, strlen(spec));
    } else {
        rc = SG_OK;
        for (const char *p = spec; rc == SG_OK;) {
            size_t len = strcspn(p, ",");
            if (len == 0)
                rc = sg_fail(SG_E_INVALID, "'%s': an empty checkpoint name in the list", spec);
            else
                rc = list_add(out, p, len);
            if (!p[len])
                break;
            p += len + 1;
        }
    }
    if (rc)
        ckpt_list_free(out);
    return rc;
}

void ckpt_list_free(ckpt_list *l)
{
    for (int i = 0; l->paths && i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int ckpt_list_check(const ckpt_list *l)
{
    if (l->n < 2)
        return SG_OK;
    train_meta first = {0};
    int rc = train_ckpt_read_meta(&first, l->paths[0]);
    if (rc)
        return rc;
    for (int i = 1; rc == SG_OK && i < l->n; i++) {
        train_meta m;
        rc = train_ckpt_read_meta(&m, l->paths[i]);
        if (rc)
            break;
        int same = m.n_classes == first.n_classes;
        for (int c = 0; same && c < m.n_classes; c++)
            same = strcmp(m.class_names[c], first.class_names[c]) == 0;
        if (!same)
            rc = sg_fail(SG_E_INVALID,
                         "%s and %s have different classes (%d and %d, or another order): an "
                         "ensemble averages the probabilities of the same classes",
                         l->paths[0], l->paths[i], first.n_classes, m.n_classes);
        else if (m.is_series != first.is_series)
            rc = sg_fail(SG_E_INVALID,
                         "%s and %s take different inputs (one sensor recordings, the other "
                         "images): an ensemble's members read the same inputs",
                         l->paths[0], l->paths[i]);
        train_meta_free(&m);
    }
    train_meta_free(&first);
    return rc;
}

/* The member must have predicted the same samples as the first. */
static int same_samples(const ckpt_predictions *a, const ckpt_predictions *b, const char *pa,
                        const char *pb)
{
    if (a->n != b->n)
        return sg_fail(SG_E_INVALID, "%s and %s read %zu and %zu samples from the inputs", pa, pb,
                       a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const char *na = a->data.src.name ? a->data.src.name[i] : NULL;
        const char *nb = b->data.src.name ? b->data.src.name[i] : NULL;
        if (!same_str(na, nb) || a->data.src.label[i] != b->data.src.label[i])
            return sg_fail(SG_E_INVALID, "%s and %s read the inputs differently (sample %zu)", pa,
                           pb, i);
    }
    return SG_OK;
}

int ckpt_ensemble_run(ckpt_predictions *r, const job_opts *o, const ckpt_list *l,
                      int expect_arch, char *const *inputs, int n, int labelled,
                      const char *label_regex)
{
    memset(r, 0, sizeof *r);
    if (l->n < 1)
        return sg_fail(SG_E_INVALID, "no checkpoint given");
    int rc = ckpt_list_check(l);
    if (rc == SG_OK)
        rc = ckpt_predictions_run(r, o, l->paths[0], expect_arch, inputs, n, labelled,
                                  label_regex);
    if (rc || l->n == 1)
        return rc;
    size_t k = (size_t)r->meta.n_classes, total = r->n * k;
    double *sum = malloc((total ? total : 1) * sizeof *sum);
    if (!sum)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < total; i++)
        sum[i] = r->probs[i];
    /* One member's model and data at a time. */
    for (int m = 1; rc == SG_OK && m < l->n; m++) {
        ckpt_predictions q;
        rc = ckpt_predictions_run(&q, o, l->paths[m], expect_arch, inputs, n, labelled,
                                  label_regex);
        if (rc)
            break;
        rc = same_samples(r, &q, l->paths[0], l->paths[m]);
        for (size_t i = 0; rc == SG_OK && i < total; i++)
            sum[i] += q.probs[i];
        ckpt_predictions_free(&q);
    }
    if (rc == SG_OK) {
        double loss = 0.0;
        int all = 1;
        for (size_t i = 0; i < total; i++)
            r->probs[i] = (float)(sum[i] / (double)l->n);
        for (size_t i = 0; i < r->n; i++) {
            int y = r->data.src.label[i];
            if (y >= 0 && y < (int)k)
                loss += sg_sample_log_loss(r->probs + i * k, (int)k, y);
            else
                all = 0;
        }
        r->loss = all && r->n ? loss / (double)r->n : NAN;
    }
    free(sum);
    if (rc)
        ckpt_predictions_free(r);
    return rc;
}
