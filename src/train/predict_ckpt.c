/* predict_ckpt.c - predictions from a training checkpoint (see
 * predict_ckpt.h).
 */
#include "src/train/predict_ckpt.h"

#include "src/base/atomic_file.h"
#include "src/train/ckpt_data.h"
#include "src/train/ckpt_ensemble.h"
#include "src/train/run_dir.h"
#include "src/base/sg_error.h"
#include "src/train/train.h"
#include "src/train/train_ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kaggle_row {
    long id;
    double p;
} kaggle_row;

static int kaggle_cmp(const void *a, const void *b)
{
    const kaggle_row *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* "dir/123.jpg" -> 123; -1 when the stem is not a number. */
static long stem_id(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char *end;
    long id = strtol(base, &end, 10);
    if (end == base || (*end != '.' && *end != '\0'))
        return -1;
    return id;
}

static int write_kaggle(const char *out, const job_data *d, const float *probs, int k,
                        double clip)
{
    int pos = 1;
    for (int c = 0; c < k; c++)
        if (strcmp(d->src.class_names[c], "dog") == 0)
            pos = c;
    if (k < 2)
        return sg_fail(SG_E_INVALID, "--kaggle needs a two-class checkpoint");
    kaggle_row *rows = malloc(d->src.n * sizeof *rows);
    if (!rows)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < d->src.n; i++) {
        rows[i].id = stem_id(d->src.name[i]);
        if (rows[i].id < 0) {
            free(rows);
            return sg_fail(SG_E_INVALID, "%s: --kaggle needs numeric file names (123.jpg)",
                           d->src.name[i]);
        }
        double p = probs[i * (size_t)k + (size_t)pos];
        rows[i].p = p < clip ? clip : p > 1.0 - clip ? 1.0 - clip : p;
    }
    qsort(rows, d->src.n, sizeof *rows, kaggle_cmp);
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, out);
    if (rc == SG_OK) {
        fputs("id,label\n", af.fp);
        for (size_t i = 0; i < d->src.n; i++)
            fprintf(af.fp, "%ld,%.6f\n", rows[i].id, rows[i].p);
        rc = sg_atomic_commit(&af);
    }
    free(rows);
    return rc;
}

int predict_ckpt_run(const job_opts *o)
{
    if (o->n_args < 2)
        return sg_fail(SG_E_INVALID, "expected CKPT and at least one input");
    /* One checkpoint, a comma list or a --keep-folds run: an ensemble. */
    ckpt_list list;
    int rc = ckpt_list_expand(&list, o->args[0]);
    if (rc)
        return rc;
    ckpt_predictions r;
    /* --arch given: the checkpoint must be of it, as eval checks. */
    rc = ckpt_ensemble_run(&r, o, &list, o->arch_given ? (int)o->arch : -1, o->args + 1,
                           o->n_args - 1, 0, NULL);
    if (rc == SG_OK && r.adapted)
        adapt_bn_plan_print(stderr, "sensorgram predict", &r.adapt);
    int members = list.n;
    ckpt_list_free(&list);
    if (rc)
        return rc;
    size_t n = r.n;
    int k = r.meta.n_classes;
    if (o->kaggle)
        rc = write_kaggle(o->output, &r.data, r.probs, k, o->clip);
    else
        rc = run_predictions_write(o->output, n, (const char *const *)r.data.src.name,
                                   r.data.src.label, r.probs, k,
                                   (const char *const *)r.meta.class_names);
    if (rc == SG_OK)
        fprintf(stderr, "sensorgram predict: %zu inputs -> %s%s\n", n, o->output,
                members > 1 ? " (ensemble: mean probabilities)" : "");
    ckpt_predictions_free(&r);
    return rc;
}
