/* train_features.c - a linear softmax head on cached features (see
 * train_features.h).
 *
 * Full-batch Adam is used rather than L-BFGS because it needs no line
 * search and converges well on standardised features; a few hundred
 * steps over a few thousand rows take seconds.  Deliberately not done:
 * mini-batches, early stopping.
 */
#include "src/train/train_features.h"

#include "src/train/metrics.h"
#include "src/base/npy.h"
#include "src/train/run_dir.h"
#include "src/train/run_files.h"
#include "src/base/sg_error.h"
#include "src/train/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FEAT_STEPS = 300, FEAT_EPOCH_EVERY = 30 };

typedef struct feat_data {
    size_t n;
    int d;
    float *x;           /* (n, d) */
    int *label;         /* n */
    char **path;        /* n */
    int k;
    char **class_names; /* k */
} feat_data;

static void feat_free(feat_data *f)
{
    free(f->x);
    free(f->label);
    for (size_t i = 0; f->path && i < f->n; i++)
        free(f->path[i]);
    free(f->path);
    for (int c = 0; f->class_names && c < f->k; c++)
        free(f->class_names[c]);
    free(f->class_names);
    memset(f, 0, sizeof *f);
}

/* "dir/feats.npy" -> "dir/feats.labels.csv". */
static void labels_path(char *out, size_t size, const char *npy)
{
    size_t len = strlen(npy);
    if (len > 4 && strcmp(npy + len - 4, ".npy") == 0)
        len -= 4;
    snprintf(out, size, "%.*s.labels.csv", (int)len, npy);
}

static int read_labels(feat_data *f, const char *npy)
{
    char path[4096];
    labels_path(path, sizeof path, npy);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return sg_fail(SG_E_IO, "%s: cannot read (written by sensorgram features)", path);
    f->label = calloc(f->n ? f->n : 1, sizeof *f->label);
    f->path = calloc(f->n ? f->n : 1, sizeof *f->path);
    if (!f->label || !f->path) {
        fclose(fp);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    char line[8192];
    size_t row = 0;
    int rc = SG_OK;
    int lineno = 0;
    while (rc == SG_OK && fgets(line, sizeof line, fp)) {
        lineno++;
        if (lineno == 1)
            continue; /* header path,label,class_index */
        line[strcspn(line, "\r\n")] = '\0';
        /* The class index and name are the last two fields; the path may
         * hold commas (it is quoted then), so parse from the right. */
        char *c2 = strrchr(line, ',');
        if (!c2) {
            rc = sg_fail(SG_E_PARSE, "%s:%d:1: expected path,label,class_index", path, lineno);
            break;
        }
        *c2 = '\0';
        char *c1 = strrchr(line, ',');
        if (!c1 || row >= f->n) {
            rc = sg_fail(SG_E_PARSE, "%s:%d:1: expected path,label,class_index (or too many rows)",
                         path, lineno);
            break;
        }
        *c1 = '\0';
        char *end;
        long idx = strtol(c2 + 1, &end, 10);
        if (*end != '\0' || idx < -1 || idx > 100000) {
            rc = sg_fail(SG_E_PARSE, "%s:%d:%d: bad class index '%s'", path, lineno,
                         (int)(c2 - line) + 2, c2 + 1);
            break;
        }
        f->label[row] = (int)idx;
        f->path[row] = strdup(line);
        if (!f->path[row]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        if (idx >= f->k) {
            char **nc = realloc(f->class_names, (size_t)(idx + 1) * sizeof *nc);
            if (!nc) {
                rc = sg_fail(SG_E_NOMEM, "out of memory");
                break;
            }
            for (long c = f->k; c <= idx; c++)
                nc[c] = NULL;
            f->class_names = nc;
            f->k = (int)idx + 1;
        }
        if (idx >= 0 && !f->class_names[idx] && !(f->class_names[idx] = strdup(c1 + 1)))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        row++;
    }
    fclose(fp);
    if (rc == SG_OK && row != f->n)
        rc = sg_fail(SG_E_PARSE, "%s: %zu label rows for %zu feature rows", path, row, f->n);
    for (int c = 0; rc == SG_OK && c < f->k; c++)
        if (!f->class_names[c] && !(f->class_names[c] = strdup("?")))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    return rc;
}

static int load_features(feat_data *f, const char *list)
{
    memset(f, 0, sizeof *f);
    char *copy = strdup(list);
    if (!copy)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK, first = 1;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); rc == SG_OK && tok;
         tok = strtok_r(NULL, ",", &save)) {
        float *x = NULL;
        int ndim;
        size_t shape[8];
        rc = sg_npy_read(tok, &x, &ndim, shape);
        if (rc)
            break;
        if (ndim != 2 || shape[0] == 0 || shape[1] == 0 || shape[1] > 1000000) {
            free(x);
            rc = sg_fail(SG_E_SHAPE, "%s: expected a (N, D) feature array", tok);
            break;
        }
        if (first) {
            f->n = shape[0];
            f->x = x;
            f->d = (int)shape[1];
            rc = read_labels(f, tok);
            first = 0;
            continue;
        }
        if (shape[0] != f->n) {
            free(x);
            rc = sg_fail(SG_E_SHAPE, "%s: %zu rows, but the first feature file has %zu", tok,
                         shape[0], f->n);
            break;
        }
        size_t d2 = (size_t)f->d + shape[1];
        float *cat = malloc(f->n * d2 * sizeof *cat);
        if (!cat) {
            free(x);
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < f->n; i++) {
            memcpy(cat + i * d2, f->x + i * (size_t)f->d, (size_t)f->d * sizeof *cat);
            memcpy(cat + i * d2 + f->d, x + i * shape[1], shape[1] * sizeof *cat);
        }
        free(x);
        free(f->x);
        f->x = cat;
        f->d = (int)d2;
    }
    free(copy);
    if (rc == SG_OK && first)
        rc = sg_fail(SG_E_INVALID, "--features: no file given");
    if (rc == SG_OK && f->k < 2)
        rc = sg_fail(SG_E_INVALID, "--features: need at least two classes (found %d)", f->k);
    for (size_t i = 0; rc == SG_OK && i < f->n; i++)
        if (f->label[i] < 0)
            rc = sg_fail(SG_E_INVALID, "%s: unlabelled row, cannot train on it", f->path[i]);
    if (rc)
        feat_free(f);
    return rc;
}

/* probs (k) of row x under weights w (k, d) and bias b (k). */
static void head_forward(float *probs, const float *x, const float *w, const float *b, int d,
                         int k)
{
    for (int c = 0; c < k; c++) {
        double z = b[c];
        const float *wc = w + (size_t)c * (size_t)d;
        for (int j = 0; j < d; j++)
            z += (double)wc[j] * x[j];
        probs[c] = (float)z;
    }
    sg_softmax(probs, probs, k);
}

static int evaluate(double *loss, double *acc, float *probs, const feat_data *f, const float *xs,
                    const size_t *idx, size_t n, const float *w, const float *b)
{
    size_t hits = 0;
    int *labels = malloc((n ? n : 1) * sizeof *labels);
    if (!labels)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        float *p = probs + i * (size_t)f->k;
        head_forward(p, xs + idx[i] * (size_t)f->d, w, b, f->d, f->k);
        labels[i] = f->label[idx[i]];
        hits += sg_argmax(p, f->k) == labels[i];
    }
    *acc = n ? (double)hits / (double)n : NAN;
    int rc = n ? sg_log_loss(loss, probs, labels, n, f->k) : SG_OK;
    if (!n)
        *loss = NAN;
    free(labels);
    return rc;
}

int train_features_run(const job_opts *o)
{
    feat_data f;
    int rc = load_features(&f, o->features);
    if (rc)
        return rc;
    sg_split split = {0};
    rc = sg_split_random(&split, f.n, o->valid_pct, o->seed);
    size_t nd = f.n * (size_t)f.d, wk = (size_t)f.k * (size_t)f.d;
    float *xs = malloc(nd * sizeof *xs);
    float *w = calloc(wk + (size_t)f.k, sizeof *w);
    float *g = calloc(wk + (size_t)f.k, sizeof *g);
    float *m1 = calloc(wk + (size_t)f.k, sizeof *m1);
    float *m2 = calloc(wk + (size_t)f.k, sizeof *m2);
    float *probs = malloc(f.n * (size_t)f.k * sizeof *probs);
    double *mu = calloc((size_t)f.d, sizeof *mu), *sd = calloc((size_t)f.d, sizeof *sd);
    if (rc == SG_OK && (!xs || !w || !g || !m1 || !m2 || !probs || !mu || !sd))
        rc = sg_fail(SG_E_NOMEM, "out of memory for %zu x %d features", f.n, f.d);
    if (rc == SG_OK && split.n_train == 0)
        rc = sg_fail(SG_E_INVALID, "the training set is empty");
    run_metrics *metrics = NULL;
    if (rc == SG_OK)
        rc = run_dir_prepare(o->out_dir);
    if (rc == SG_OK)
        rc = run_metrics_open(&metrics, o->out_dir, 0);
    if (rc == SG_OK) {
        /* Standardise with the training rows only. */
        for (size_t t = 0; t < split.n_train; t++)
            for (int j = 0; j < f.d; j++) {
                double v = f.x[split.train[t] * (size_t)f.d + (size_t)j];
                mu[j] += v;
                sd[j] += v * v;
            }
        for (int j = 0; j < f.d; j++) {
            mu[j] /= (double)split.n_train;
            double var = sd[j] / (double)split.n_train - mu[j] * mu[j];
            sd[j] = var > 1e-12 ? sqrt(var) : 1.0;
        }
        for (size_t i = 0; i < f.n; i++)
            for (int j = 0; j < f.d; j++)
                xs[i * (size_t)f.d + (size_t)j] =
                    (float)((f.x[i * (size_t)f.d + (size_t)j] - mu[j]) / sd[j]);
    }
    float *b = w + wk, *p = probs;
    double lr = 0.01, b1 = 0.9, b2 = 0.999;
    printf("%-6s %-11s %-11s %-9s %-9s\n", "step", "train_loss", "valid_loss", "accuracy", "log_loss");
    for (int step = 1; rc == SG_OK && step <= FEAT_STEPS; step++) {
        memset(g, 0, (wk + (size_t)f.k) * sizeof *g);
        double loss = 0.0;
        for (size_t t = 0; t < split.n_train; t++) {
            size_t i = split.train[t];
            const float *x = xs + i * (size_t)f.d;
            head_forward(p, x, w, b, f.d, f.k);
            loss -= log(fmax((double)p[f.label[i]], 1e-15));
            for (int c = 0; c < f.k; c++) {
                float e = p[c] - (c == f.label[i] ? 1.0f : 0.0f);
                float *gc = g + (size_t)c * (size_t)f.d;
                for (int j = 0; j < f.d; j++)
                    gc[j] += e * x[j];
                g[wk + (size_t)c] += e;
            }
        }
        double inv = 1.0 / (double)split.n_train;
        loss *= inv;
        for (size_t q = 0; q < wk + (size_t)f.k; q++) {
            double gq = g[q] * inv + (q < wk ? o->wd * w[q] : 0.0);
            m1[q] = (float)(b1 * m1[q] + (1 - b1) * gq);
            m2[q] = (float)(b2 * m2[q] + (1 - b2) * gq * gq);
            double mh = m1[q] / (1 - pow(b1, step)), vh = m2[q] / (1 - pow(b2, step));
            w[q] -= (float)(lr * mh / (sqrt(vh) + 1e-8));
        }
        if (!isfinite(loss)) {
            rc = sg_fail(SG_E_NUMERIC, "loss is NaN at step %d (lr %g)", step - 1, lr);
            break;
        }
        rc = run_metrics_step(metrics, 0, step / FEAT_EPOCH_EVERY, step - 1, lr, b1, loss);
        if (rc == SG_OK && step % FEAT_EPOCH_EVERY == 0) {
            double vl, acc;
            rc = evaluate(&vl, &acc, probs, &f, xs, split.valid, split.n_valid, w, b);
            if (rc == SG_OK)
                rc = run_metrics_epoch(metrics, 0, step / FEAT_EPOCH_EVERY - 1, step, loss, vl,
                                       acc, vl, 0.0);
            printf("%-6d %-11.6f %-11.6f %-9.6f %-9.6f\n", step, loss, vl, acc, vl);
        }
    }
    int mrc = run_metrics_close(metrics);
    if (rc == SG_OK)
        rc = mrc;
    double vl = NAN, acc = NAN;
    if (rc == SG_OK)
        rc = evaluate(&vl, &acc, probs, &f, xs, split.valid, split.n_valid, w, b);
    char path[4096];
    if (rc == SG_OK && split.n_valid) {
        const char **paths = malloc(split.n_valid * sizeof *paths);
        int *labels = malloc(split.n_valid * sizeof *labels);
        sg_cm cm = {0};
        rc = (paths && labels) ? cm_create(&cm, f.k) : sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t i = 0; rc == SG_OK && i < split.n_valid; i++) {
            paths[i] = f.path[split.valid[i]];
            labels[i] = f.label[split.valid[i]];
            rc = cm_add(&cm, labels[i], sg_argmax(probs + i * (size_t)f.k, f.k));
        }
        if (rc == SG_OK)
            rc = run_dir_path(path, sizeof path, o->out_dir, SG_RUN_PREDICTIONS);
        if (rc == SG_OK)
            rc = run_predictions_write(path, split.n_valid, paths, labels, probs, f.k,
                                       (const char *const *)f.class_names);
        if (rc == SG_OK)
            rc = run_dir_path(path, sizeof path, o->out_dir, SG_RUN_CONFUSION);
        if (rc == SG_OK)
            rc = cm_write_csv(&cm, (const char *const *)f.class_names, path);
        cm_free(&cm);
        free(paths);
        free(labels);
    }
    if (rc == SG_OK) {
        json_t *classes = json_array();
        for (int c = 0; classes && c < f.k; c++)
            json_array_append_new(classes, json_string(f.class_names[c]));
        json_t *config = json_pack("{s:s, s:s, s:I, s:i, s:o, s:f, s:f, s:I}", "command",
                                   "train --features", "features", o->features, "n_samples",
                                   (json_int_t)f.n, "feature_dim", f.d, "classes", classes,
                                   "valid_pct", o->valid_pct, "wd", o->wd, "seed",
                                   (json_int_t)o->seed);
        /* Without a validation set there are no results to record. */
        if (config && split.n_valid)
            json_object_set_new(config, "results",
                                json_pack("{s:f, s:f}", "accuracy", acc, "log_loss", vl));
        rc = config ? run_config_write(o->out_dir, config)
                    : sg_fail(SG_E_NOMEM, "cannot build config.json");
        json_decref(config);
        printf("final: accuracy %.4f  log_loss %.4f  (%zu train, %zu valid, %d features)\n", acc,
               vl, split.n_train, split.n_valid, f.d);
        if (rc == SG_OK)
            job_draw_figures(o, o->out_dir);
    }
    free(xs);
    free(w);
    free(g);
    free(m1);
    free(m2);
    free(probs);
    free(mu);
    free(sd);
    sg_split_free(&split);
    feat_free(&f);
    return rc;
}
