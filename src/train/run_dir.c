/* run_dir.c - metrics.csv, config.json, predictions.csv, top_losses.csv
 * and confusion_matrix.csv writers (see run_dir.h and run_files.h).
 *
 * Numbers are written with %.9g so that a value read back is the float
 * that was computed (the e2e test compares predictions exactly).
 */
#include "src/train/run_dir.h"

#include "src/base/atomic_file.h"
#include "src/train/run_files.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_HEADER \
    "kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,accuracy,log_loss,seconds\n"

struct run_metrics {
    FILE *fp;
    char *path;
};

int run_dir_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return sg_fail(SG_E_INVALID, "%s/%s: path too long", dir, name);
    return SG_OK;
}

int run_dir_prepare(const char *dir)
{
    char path[4096];
    int rc = sg_mkdir_p(dir);
    if (rc)
        return rc;
    rc = run_dir_path(path, sizeof path, dir, SG_RUN_FIGURES);
    if (rc)
        return rc;
    return sg_mkdir_p(path);
}

int run_metrics_open(run_metrics **out, const char *dir, int append)
{
    *out = NULL;
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_METRICS);
    if (rc)
        return rc;
    run_metrics *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    m->fp = fopen(path, append ? "ab" : "wb");
    if (!m->fp) {
        int e = errno;
        free(m->path);
        free(m);
        return sg_fail(SG_E_IO, "%s: cannot write: %s", path, strerror(e));
    }
    if (ftell(m->fp) == 0 && fputs(METRICS_HEADER, m->fp) == EOF) {
        run_metrics_close(m);
        return sg_fail(SG_E_IO, "%s: write failed", path);
    }
    *out = m;
    return SG_OK;
}

static int metrics_flush(run_metrics *m)
{
    if (ferror(m->fp) || fflush(m->fp) != 0)
        return sg_fail(SG_E_IO, "%s: write failed: %s", m->path, strerror(errno));
    return SG_OK;
}

int run_metrics_step(run_metrics *m, int phase, int epoch, long step, double lr,
                     double momentum, double train_loss)
{
    fprintf(m->fp, "step,%d,%d,%ld,%.9g,%.9g,%.9g,,,,\n", phase, epoch, step, lr, momentum,
            train_loss);
    return metrics_flush(m);
}

int run_metrics_epoch(run_metrics *m, int phase, int epoch, long step, double train_loss,
                      double valid_loss, double accuracy, double log_loss, double seconds)
{
    fprintf(m->fp, "epoch,%d,%d,%ld,,,%.9g,", phase, epoch, step, train_loss);
    /* A run without a validation set leaves the validation fields empty. */
    if (isnan(valid_loss))
        fputs(",,,", m->fp);
    else
        fprintf(m->fp, "%.9g,%.9g,%.9g,", valid_loss, accuracy, log_loss);
    fprintf(m->fp, "%.3f\n", seconds);
    return metrics_flush(m);
}

int run_metrics_close(run_metrics *m)
{
    if (!m)
        return SG_OK;
    int rc = SG_OK;
    if (m->fp) {
        /* fclose runs even after a stream error, so the FILE never leaks. */
        int err = ferror(m->fp), e = errno;
        if (fclose(m->fp) != 0 && !err) {
            err = 1;
            e = errno;
        }
        if (err)
            rc = sg_fail(SG_E_IO, "%s: write failed: %s", m->path, strerror(e));
    }
    free(m->path);
    free(m);
    return rc;
}

/* Reads a whole file into a NUL-terminated malloc'd buffer. */
static int read_all(const char *path, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: cannot read: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (len < cap - 1)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf)
        return sg_fail(SG_E_NOMEM, "out of memory reading %s", path);
    if (err) {
        free(buf);
        return sg_fail(SG_E_IO, "%s: read failed", path);
    }
    buf[len] = '\0';
    *out = buf;
    return SG_OK;
}

int run_metrics_truncate(const char *dir, int phase, int epoch)
{
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_METRICS);
    if (rc)
        return rc;
    char *text;
    rc = read_all(path, &text);
    if (rc)
        return rc;
    sg_atomic_file af;
    rc = sg_atomic_open(&af, path);
    if (rc) {
        free(text);
        return rc;
    }
    int first = 1;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        int p, e;
        char kind[16];
        /* Keep the header and every row before the resume point. */
        if (first || (sscanf(line, "%15[^,],%d,%d,", kind, &p, &e) == 3 &&
                      (p < phase || (p == phase && e <= epoch))))
            fprintf(af.fp, "%s\n", line);
        first = 0;
    }
    free(text);
    return sg_atomic_commit(&af);
}

int run_config_write(const char *dir, const json_t *config)
{
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_CONFIG);
    if (rc)
        return rc;
    char *text = json_dumps(config, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!text)
        return sg_fail(SG_E_NOMEM, "%s: cannot serialise the configuration", path);
    sg_atomic_file af;
    rc = sg_atomic_open(&af, path);
    if (rc == SG_OK) {
        fputs(text, af.fp);
        fputc('\n', af.fp);
        rc = sg_atomic_commit(&af);
    }
    free(text);
    return rc;
}

int run_config_read(json_t **out, const char *dir)
{
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_RUN_CONFIG);
    if (rc)
        return rc;
    json_error_t err;
    *out = json_load_file(path, 0, &err);
    if (!*out)
        return sg_fail(SG_E_PARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    return SG_OK;
}

static int argmax(const float *p, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (p[j] > p[best])
            best = j;
    return best;
}

int run_predictions_write(const char *path, size_t n, const char *const *paths,
                          const int *labels, const float *probs, int n_classes,
                          const char *const *class_names)
{
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    FILE *f = af.fp;
    fputs("path,label,pred,loss", f);
    for (int j = 0; j < n_classes; j++) {
        fputc(',', f);
        sg_csv_write_field(f, class_names[j]);
    }
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * (size_t)n_classes;
        int pred = argmax(p, n_classes);
        int label = labels ? labels[i] : -1;
        sg_csv_write_field(f, paths[i]);
        fputc(',', f);
        if (label >= 0)
            sg_csv_write_field(f, class_names[label]);
        fputc(',', f);
        sg_csv_write_field(f, class_names[pred]);
        fputc(',', f);
        if (label >= 0) {
            /* Same clamp as log loss so that a zero probability stays finite. */
            double q = p[label] < 1e-15f ? 1e-15 : (double)p[label];
            fprintf(f, "%.9g", -log(q));
        }
        for (int j = 0; j < n_classes; j++)
            fprintf(f, ",%.9g", (double)p[j]);
        fputc('\n', f);
    }
    return sg_atomic_commit(&af);
}

int run_top_losses_write(const char *path, const run_top_loss *rows, size_t n,
                         const char *const *class_names)
{
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fputs("rank,image,label,pred,prob,loss\n", af.fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(af.fp, "%zu,", i + 1);
        sg_csv_write_field(af.fp, rows[i].image);
        fputc(',', af.fp);
        sg_csv_write_field(af.fp, class_names[rows[i].label]);
        fputc(',', af.fp);
        sg_csv_write_field(af.fp, class_names[rows[i].pred]);
        fprintf(af.fp, ",%.9g,%.9g\n", rows[i].prob, rows[i].loss);
    }
    return sg_atomic_commit(&af);
}

int run_confusion_write(const char *path, const int64_t *counts, int k,
                        const char *const *class_names)
{
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fputs("label", af.fp);
    for (int j = 0; j < k; j++) {
        fputc(',', af.fp);
        sg_csv_write_field(af.fp, class_names[j]);
    }
    fputc('\n', af.fp);
    for (int i = 0; i < k; i++) {
        sg_csv_write_field(af.fp, class_names[i]);
        for (int j = 0; j < k; j++)
            fprintf(af.fp, ",%lld", (long long)counts[(size_t)i * (size_t)k + (size_t)j]);
        fputc('\n', af.fp);
    }
    return sg_atomic_commit(&af);
}
