/* sample_source.c - image files and in-memory encoded segments as one
 * indexed sample set (see sample_source.h).
 *
 * The [0, 1] mapping of encoder output mirrors the PNG writer so that a
 * model trained on `encode`d PNGs and one trained in memory see the same
 * values up to 16-bit rounding.
 */
#include "src/train/sample_source.h"

#include "src/image/image_read.h"
#include "src/base/npy_stack.h"
#include "src/base/sg_error.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **strings_copy(const char *const *v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(v[i] ? v[i] : "");
        if (!out[i]) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void strings_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int sample_source_images(sample_source *out, size_t n, const char *const *paths,
                         const int *labels, const int *groups, int n_classes,
                         const char *const *class_names)
{
    memset(out, 0, sizeof *out);
    out->kind = SAMPLE_IMAGES;
    out->n = n;
    out->n_classes = n_classes;
    out->path = strings_copy(paths, n);
    out->name = strings_copy(paths, n);
    out->class_names = strings_copy(class_names, (size_t)n_classes);
    out->label = malloc((n ? n : 1) * sizeof *out->label);
    out->group = malloc((n ? n : 1) * sizeof *out->group);
    if (!out->path || !out->name || !out->class_names || !out->label || !out->group) {
        sample_source_free(out);
        return sg_fail(SG_E_NOMEM, "out of memory for %zu samples", n);
    }
    for (size_t i = 0; i < n; i++) {
        out->label[i] = labels ? labels[i] : -1;
        out->group[i] = groups ? groups[i] : -1;
        if (out->label[i] >= n_classes) {
            int l = out->label[i];
            sample_source_free(out);
            return sg_fail(SG_E_INVALID, "%s: label %d outside %d classes", paths[i], l,
                           n_classes);
        }
    }
    return SG_OK;
}

int sample_source_set_rows(sample_source *s, const size_t *rows)
{
    if (s->kind != SAMPLE_IMAGES)
        return sg_fail(SG_E_INVALID, "stacked rows need an image source");
    size_t *r = malloc((s->n ? s->n : 1) * sizeof *r);
    if (!r)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(r, rows, s->n * sizeof *r);
    for (size_t i = 0; i < s->n; i++) {
        char *name = NULL;
        if (rows[i] == SIZE_MAX)
            continue;
        if (asprintf(&name, "%s[%zu]", s->path[i], rows[i]) < 0) {
            free(r);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
        free(s->name[i]);
        s->name[i] = name;
    }
    free(s->row);
    s->row = r;
    return SG_OK;
}

void sample_source_set_value_map(sample_source *s, double lo, double hi, int bounded)
{
    s->value_map = 1;
    s->vlo = lo;
    s->vhi = hi;
    s->vbounded = bounded;
}

int sample_source_read_encoding(const char *dir, int *found, double *lo, double *hi,
                                int *bounded)
{
    *found = 0;
    char *path = NULL;
    if (asprintf(&path, "%s/encoding.json", dir) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    FILE *f = fopen(path, "r");
    if (!f) {
        free(path);
        return SG_OK;
    }
    json_error_t err;
    json_t *j = json_loadf(f, 0, &err);
    fclose(f);
    int rc = SG_OK;
    json_t *range = j ? json_object_get(j, "value_range") : NULL;
    json_t *b = j ? json_object_get(j, "bounded") : NULL;
    if (!j)
        rc = sg_fail(SG_E_PARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    else if (!json_is_boolean(b) || !json_is_array(range) || json_array_size(range) != 2 ||
             !json_is_number(json_array_get(range, 0)) ||
             !json_is_number(json_array_get(range, 1)))
        rc = sg_fail(SG_E_PARSE, "%s: needs \"value_range\": [lo, hi] and \"bounded\"", path);
    if (!rc) {
        *lo = json_number_value(json_array_get(range, 0));
        *hi = json_number_value(json_array_get(range, 1));
        *bounded = json_is_true(b);
        *found = 1;
    }
    json_decref(j);
    free(path);
    return rc;
}

int sample_source_series(sample_source *out, sg_series_set *set, const enc_params *enc,
                         enc_fit *fit, int n_threads)
{
    enc_stack one;
    enc_stack_single(&one, enc);
    return sample_source_series_stack(out, set, &one, &fit, n_threads);
}

int sample_source_series_stack(sample_source *out, sg_series_set *set, const enc_stack *stack,
                               enc_fit **fits, int n_threads)
{
    memset(out, 0, sizeof *out);
    int nk = stack->n >= 1 && stack->n <= ENC_STACK_MAX ? stack->n : 0;
    if (n_threads < 1 || nk == 0) {
        if (fits)
            enc_stack_fits_free(fits, nk);
        return sg_fail(SG_E_INVALID, n_threads < 1 ? "a series source needs at least one thread"
                                                   : "bad encoder stack");
    }
    int C = set->n_channels, T = set->n_samples;
    int rc = enc_stack_shape(stack, C, T, &out->oc, &out->oh, &out->ow);
    if (rc) {
        if (fits)
            enc_stack_fits_free(fits, nk);
        return rc;
    }
    out->kind = SAMPLE_SERIES;
    out->enc = stack->p[0];
    out->stack = *stack;
    if (nk == 1) {
        out->fit = fits ? fits[0] : NULL;
    } else {
        for (int k = 0; k < nk; k++)
            out->stack_fit[k] = fits ? fits[k] : NULL;
    }
    if (fits)
        for (int k = 0; k < nk; k++)
            fits[k] = NULL;
    out->n_threads = n_threads;
    /* A stack is already mapped to [0, 1] by enc_stack_encode. */
    if (nk == 1)
        enc_value_range(&out->enc, &out->lo, &out->hi, &out->bounded);
    else
        out->lo = 0.0, out->hi = 1.0, out->bounded = 1;
    out->ws = calloc((size_t)n_threads * (size_t)nk, sizeof *out->ws);
    out->ws_free = calloc((size_t)n_threads, sizeof *out->ws_free);
    if (!out->ws || !out->ws_free) {
        sample_source_free(out);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (int t = 0; t < n_threads; t++) {
        rc = enc_stack_ws_create(out->ws + (size_t)t * (size_t)nk, stack, C, T);
        if (rc) {
            sample_source_free(out);
            return rc;
        }
        out->ws_free[out->n_free++] = t;
    }
    if (pthread_mutex_init(&out->ws_lock, NULL) != 0) {
        sample_source_free(out);
        return sg_fail(SG_E_NOMEM, "cannot create a mutex");
    }
    if (pthread_cond_init(&out->ws_ready, NULL) != 0) {
        pthread_mutex_destroy(&out->ws_lock);
        sample_source_free(out);
        return sg_fail(SG_E_NOMEM, "cannot create a condition variable");
    }
    out->ws_sync = 1;
    /* Take the set: its arrays become ours; labels and groups alias the
     * set's (they are freed with it). */
    out->series = *set;
    memset(set, 0, sizeof *set);
    out->n = out->series.n;
    out->n_classes = out->series.n_classes;
    out->class_names = out->series.class_names;
    out->label = out->series.label;
    out->group = out->series.subject;
    out->name = out->series.name;
    return SG_OK;
}

/* Borrows a free workspace, waiting while all are in use. */
static int workspace_acquire(sample_source *s)
{
    pthread_mutex_lock(&s->ws_lock);
    while (s->n_free == 0)
        pthread_cond_wait(&s->ws_ready, &s->ws_lock);
    int t = s->ws_free[--s->n_free];
    pthread_mutex_unlock(&s->ws_lock);
    return t;
}

static void workspace_release(sample_source *s, int t)
{
    pthread_mutex_lock(&s->ws_lock);
    s->ws_free[s->n_free++] = t;
    pthread_cond_signal(&s->ws_ready);
    pthread_mutex_unlock(&s->ws_lock);
}

int sample_source_set_augment(sample_source *s, const series_aug_params *p, const char *triads)
{
    if (s->kind != SAMPLE_SERIES)
        return sg_fail(SG_E_INVALID, "series augmentation needs sensor segments, not image files");
    int rc = series_aug_params_check(p, s->series.n_samples);
    if (rc)
        return rc;
    series_aug_layout_free(&s->aug_layout);
    s->aug_on = 0;
    if (!series_aug_active(p))
        return SG_OK;
    rc = series_aug_layout_build(&s->aug_layout, s->series.channel_names, s->series.n_channels);
    if (rc == SG_OK)
        rc = series_aug_layout_set_triads(&s->aug_layout, triads);
    if (rc) {
        series_aug_layout_free(&s->aug_layout);
        return rc;
    }
    s->aug = *p;
    s->aug_on = 1;
    return SG_OK;
}

void sample_source_set_roll(sample_source *s, int samples)
{
    s->roll = samples;
}

/* The segment to encode for one read: x itself, or (augmenting or
 * rolling) a changed copy in *copy (caller frees). */
static int segment_for_read(const sample_source *s, size_t i, int train, uint64_t seed,
                            const double **x, double **copy)
{
    int C = s->series.n_channels, T = s->series.n_samples;
    *x = sg_series_at(&s->series, i);
    *copy = NULL;
    int augment = train && s->aug_on;
    if (!augment && s->roll == 0)
        return SG_OK;
    size_t n = (size_t)C * (size_t)T, ns = series_aug_scratch_len(C, T);
    double *buf = malloc((n + ns) * sizeof *buf);
    if (!buf)
        return sg_fail(SG_E_NOMEM, "out of memory for a %d x %d segment", C, T);
    memcpy(buf, *x, n * sizeof *buf);
    if (augment)
        series_aug_apply(buf, C, T, &s->aug_layout, &s->aug, seed, buf + n);
    if (s->roll != 0)
        series_aug_roll(buf, C, T, s->roll, buf + n);
    *x = buf;
    *copy = buf;
    return SG_OK;
}

int sample_source_read(sample_source *s, size_t i, sg_image *out)
{
    return sample_source_read_ex(s, i, 0, 0, out);
}

int sample_source_read_ex(sample_source *s, size_t i, int train, uint64_t seed, sg_image *out)
{
    memset(out, 0, sizeof *out);
    if (i >= s->n)
        return sg_fail(SG_E_INVALID, "sample %zu out of range (%zu samples)", i, s->n);
    if (s->kind == SAMPLE_IMAGES) {
        int rc;
        if (s->row && s->row[i] != SIZE_MAX) {
            int nd;
            size_t shape[7];
            rc = sg_npy_read_row(s->path[i], s->row[i], &out->data, &nd, shape);
            if (rc == SG_OK && nd != 3 && nd != 2) {
                sg_image_free(out);
                rc = sg_fail(SG_E_SHAPE, "%s: stacked images must be (N, C, H, W), not %d dims",
                             s->path[i], nd + 1);
            }
            if (rc == SG_OK) {
                out->c = nd == 3 ? (int)shape[0] : 1;
                out->h = (int)shape[nd - 2];
                out->w = (int)shape[nd - 1];
            }
        } else {
            rc = sg_image_read(s->path[i], out);
        }
        if (rc == SG_OK && s->value_map)
            enc_stack_map_unit(out->data, sg_image_numel(out), s->vlo, s->vhi, s->vbounded);
        return rc;
    }
    const double *x;
    double *copy;
    int rc = segment_for_read(s, i, train, seed, &x, &copy);
    if (rc)
        return rc;
    rc = sg_image_alloc(out, s->oc, s->oh, s->ow);
    if (rc) {
        free(copy);
        return rc;
    }
    int t = workspace_acquire(s);
    if (s->stack.n > 1)
        rc = enc_stack_encode(out->data, x, s->series.n_channels, s->series.n_samples,
                              &s->stack, s->stack_fit, s->ws + (size_t)t * (size_t)s->stack.n);
    else
        rc = enc_encode(out->data, x, s->series.n_channels, s->series.n_samples, &s->enc,
                        s->fit, s->ws[t]);
    workspace_release(s, t);
    free(copy);
    if (rc) {
        sg_image_free(out);
        return sg_fail_context(rc, "%s", s->name[i]);
    }
    if (s->stack.n <= 1)
        enc_stack_map_unit(out->data, sg_image_numel(out), s->lo, s->hi, s->bounded);
    return SG_OK;
}

void sample_source_set_stack_fits(sample_source *s, enc_fit **fits)
{
    enc_stack_fits_free(s->stack_fit, s->stack.n);
    for (int k = 0; k < s->stack.n; k++) {
        s->stack_fit[k] = fits[k];
        fits[k] = NULL;
    }
}

void sample_source_set_fit(sample_source *s, enc_fit *fit)
{
    enc_fit_free(s->fit);
    s->fit = fit;
}

sg_sample_source sample_source_loader_view(sample_source *s)
{
    return (sg_sample_source){
        .get = sample_source_loader_get,
        .name = sample_source_loader_name,
        .ctx = s,
        .n = s->n,
    };
}

int sample_source_loader_get(void *ctx, size_t index, int train, uint64_t aug_seed, sg_image *out,
                             int *label)
{
    sample_source *s = ctx;
    int rc = sample_source_read_ex(s, index, train, aug_seed, out);
    if (rc == SG_OK)
        *label = s->label[index];
    return rc;
}

const char *sample_source_loader_name(void *ctx, size_t index)
{
    const sample_source *s = ctx;
    return index < s->n ? s->name[index] : "?";
}

void sample_source_free(sample_source *s)
{
    if (!s)
        return;
    if (s->kind == SAMPLE_SERIES) {
        /* Labels, groups, names and class names alias the set's arrays. */
        sg_series_set_free(&s->series);
    } else {
        strings_free(s->class_names, (size_t)(s->n_classes > 0 ? s->n_classes : 0));
        strings_free(s->name, s->n);
        strings_free(s->path, s->n);
        free(s->row);
        free(s->label);
        free(s->group);
    }
    if (s->ws)
        for (size_t t = 0; t < (size_t)s->n_threads * (size_t)(s->stack.n > 1 ? s->stack.n : 1);
             t++)
            enc_workspace_free(s->ws[t]);
    if (s->stack.n > 1)
        enc_stack_fits_free(s->stack_fit, s->stack.n);
    free(s->ws);
    free(s->ws_free);
    if (s->ws_sync) {
        pthread_mutex_destroy(&s->ws_lock);
        pthread_cond_destroy(&s->ws_ready);
    }
    enc_fit_free(s->fit);
    series_aug_layout_free(&s->aug_layout);
    memset(s, 0, sizeof *s);
}
