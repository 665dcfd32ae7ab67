/* enc_fit.c - state fitted on training data, saved and loaded as JSON.
 *
 * gray: per-channel min and max over every fitted segment.
 * mtf with mtf_fitted: per-channel bin edges from all of a channel's
 * values (quantile: numpy percentiles of the pooled values, equal edges
 * dropped like pyts; uniform: pooled min/max; normal: fixed).
 * Other encoders get an empty fit, so callers need no special case.
 *
 * File: {"format": "sensorgram-enc-fit", "version": 1, "encoder": NAME,
 *        "channels": C, ["min": [C], "max": [C]] | ["n_bins": k,
 *        "strategy": S, "edges": [[...] x C]]}, written atomically.
 */
#include "encoders/enc_internal.h"
#include "src/base/atomic_file.h"
#include "src/base/sg_error.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct enc_fit {
    enc_kind kind;
    int C;
    double *min, *max;   /* gray: C each, else NULL */
    int n_bins;          /* mtf: edges per channel <= n_bins - 1 */
    enc_strategy strategy;
    int *n_edges;        /* mtf: C counts, else NULL */
    double *edges;       /* mtf: (C, n_bins - 1) */
};

static const char *const strategy_names[] = {"quantile", "uniform", "normal"};

void enc_fit_free(enc_fit *fit)
{
    if (!fit)
        return;
    free(fit->min);
    free(fit->max);
    free(fit->n_edges);
    free(fit->edges);
    free(fit);
}

const double *enc_fit_gray_min(const enc_fit *fit) { return fit ? fit->min : NULL; }
const double *enc_fit_gray_max(const enc_fit *fit) { return fit ? fit->max : NULL; }

const double *enc_fit_mtf_edges(const enc_fit *fit, int channel, int *n_edges)
{
    if (!fit || !fit->edges || channel < 0 || channel >= fit->C)
        return NULL;
    *n_edges = fit->n_edges[channel];
    return fit->edges + (size_t)channel * (size_t)(fit->n_bins - 1);
}

static int fit_alloc(enc_fit **out, const enc_params *p, int C, int gray, int mtf)
{
    enc_fit *f = calloc(1, sizeof *f);
    if (!f)
        return sg_fail(SG_E_NOMEM, "out of memory for an encoder fit");
    f->kind = p->kind;
    f->C = C;
    f->n_bins = p->n_bins;
    f->strategy = p->strategy;
    if (gray) {
        f->min = calloc((size_t)C, sizeof(double));
        f->max = calloc((size_t)C, sizeof(double));
    }
    if (mtf) {
        f->n_edges = calloc((size_t)C, sizeof(int));
        f->edges = calloc((size_t)C * (size_t)(p->n_bins - 1), sizeof(double));
    }
    if ((gray && (!f->min || !f->max)) || (mtf && (!f->n_edges || !f->edges))) {
        enc_fit_free(f);
        return sg_fail(SG_E_NOMEM, "out of memory for an encoder fit");
    }
    *out = f;
    return 0;
}

static int fits_mtf(const enc_params *p) { return p->kind == ENC_MTF && p->mtf_fitted; }

int enc_fit_create(enc_fit **out, const enc_params *p, const double *x, size_t n, int C, int T)
{
    *out = NULL;
    int rc = enc_params_check(p, C, T);
    if (rc)
        return rc;
    int gray = p->kind == ENC_GRAY, mtf = fits_mtf(p);
    if ((gray || mtf) && n == 0)
        return sg_fail(SG_E_INVALID, "%s: cannot fit on zero segments", enc_kind_name(p->kind));
    for (size_t i = 0; i < n && (gray || mtf); i++) {
        rc = enc_check_finite(x + i * (size_t)C * (size_t)T, C, T);
        if (rc)
            return sg_fail_context(rc, "segment %zu", i);
    }
    enc_fit *f;
    rc = fit_alloc(&f, p, C, gray, mtf);
    if (rc)
        return rc;
    if (gray) {
        for (int c = 0; c < C; c++) {
            double lo = x[(size_t)c * T], hi = lo;
            for (size_t i = 0; i < n; i++) {
                const double *row = x + (i * (size_t)C + (size_t)c) * (size_t)T;
                for (int t = 0; t < T; t++) {
                    lo = row[t] < lo ? row[t] : lo;
                    hi = row[t] > hi ? row[t] : hi;
                }
            }
            f->min[c] = lo;
            f->max[c] = hi;
        }
    }
    if (mtf) {
        size_t total = n * (size_t)T;
        if (total > INT_MAX) {
            enc_fit_free(f);
            return sg_fail(SG_E_INVALID, "mtf: too many values to fit (%zu)", total);
        }
        double *pool = malloc(sizeof(double) * total);
        double *sorted = malloc(sizeof(double) * total);
        if (!pool || !sorted) {
            free(pool);
            free(sorted);
            enc_fit_free(f);
            return sg_fail(SG_E_NOMEM, "out of memory fitting mtf edges");
        }
        for (int c = 0; c < C; c++) {
            for (size_t i = 0; i < n; i++) {
                const double *row = x + (i * (size_t)C + (size_t)c) * (size_t)T;
                for (int t = 0; t < T; t++)
                    pool[i * (size_t)T + (size_t)t] = row[t];
            }
            f->n_edges[c] = enc_bin_edges(f->edges + (size_t)c * (size_t)(p->n_bins - 1), pool,
                                          (int)total, p->n_bins, p->strategy, sorted);
        }
        free(pool);
        free(sorted);
    }
    *out = f;
    return 0;
}

static json_t *doubles_json(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_real(v[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *fit_to_json(const enc_fit *fit)
{
    json_t *root = json_pack("{s:s, s:i, s:s, s:i}", "format", "sensorgram-enc-fit", "version", 1,
                             "encoder", enc_kind_name(fit->kind), "channels", fit->C);
    if (!root)
        return NULL;
    if (fit->min) {
        if (json_object_set_new(root, "min", doubles_json(fit->min, fit->C)) ||
            json_object_set_new(root, "max", doubles_json(fit->max, fit->C)))
            goto fail;
    }
    if (fit->edges) {
        json_t *all = json_array();
        if (json_object_set_new(root, "edges", all) ||
            json_object_set_new(root, "n_bins", json_integer(fit->n_bins)) ||
            json_object_set_new(root, "strategy", json_string(strategy_names[fit->strategy])))
            goto fail;
        for (int c = 0; c < fit->C; c++) {
            if (json_array_append_new(all, doubles_json(fit->edges + (size_t)c * (fit->n_bins - 1),
                                                        fit->n_edges[c])))
                goto fail;
        }
    }
    return root;
fail:
    json_decref(root);
    return NULL;
}

int enc_fit_save(const enc_fit *fit, const char *path)
{
    if (!fit)
        return sg_fail(SG_E_INVALID, "no fit to save");
    json_t *root = fit_to_json(fit);
    if (!root)
        return sg_fail(SG_E_NOMEM, "%s: out of memory building the fit JSON", path);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return sg_fail(SG_E_NOMEM, "%s: out of memory writing the fit JSON", path);
    size_t len = strlen(text);
    int rc = sg_atomic_write(path, text, len);
    free(text);
    return rc;
}

/* Reads a JSON array of at most max numbers into v; returns the count. */
static int read_doubles(double *v, int max, json_t *a, const char *path, const char *what)
{
    if (!json_is_array(a) || (int)json_array_size(a) > max)
        return sg_fail(SG_E_PARSE, "%s: '%s' must be an array of at most %d numbers", path, what,
                       max);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (!json_is_number(e) || !isfinite(json_number_value(e)))
            return sg_fail(SG_E_PARSE, "%s: '%s'[%zu] is not a finite number", path, what, i);
        v[i] = json_number_value(e);
    }
    return (int)json_array_size(a);
}

static int fit_from_json(enc_fit **out, json_t *root, const char *path, const enc_params *p,
                         int C)
{
    const char *format = NULL, *encoder = NULL;
    int channels = 0;
    json_error_t err;
    if (json_unpack_ex(root, &err, 0, "{s:s, s:s, s:i}", "format", &format, "encoder", &encoder,
                       "channels", &channels))
        return sg_fail(SG_E_PARSE, "%s: not an encoder fit: %s", path, err.text);
    if (strcmp(format, "sensorgram-enc-fit") != 0)
        return sg_fail(SG_E_PARSE, "%s: format is '%s', expected sensorgram-enc-fit", path, format);
    if (strcmp(encoder, enc_kind_name(p->kind)) != 0)
        return sg_fail(SG_E_INVALID, "%s: fit is for encoder '%s', not '%s'", path, encoder,
                       enc_kind_name(p->kind));
    if (channels != C)
        return sg_fail(SG_E_INVALID, "%s: fit has %d channels, data has %d", path, channels, C);
    int gray = p->kind == ENC_GRAY, mtf = fits_mtf(p);
    if (mtf) {
        json_int_t nb = json_integer_value(json_object_get(root, "n_bins"));
        const char *st = json_string_value(json_object_get(root, "strategy"));
        if (nb != p->n_bins || !st || strcmp(st, strategy_names[p->strategy]) != 0)
            return sg_fail(SG_E_INVALID, "%s: fit has n_bins %lld strategy %s, params say %d %s",
                           path, (long long)nb, st ? st : "(none)", p->n_bins,
                           strategy_names[p->strategy]);
    }
    enc_fit *f;
    int rc = fit_alloc(&f, p, C, gray, mtf);
    if (rc)
        return rc;
    if (gray) {
        rc = read_doubles(f->min, C, json_object_get(root, "min"), path, "min");
        if (rc == C)
            rc = read_doubles(f->max, C, json_object_get(root, "max"), path, "max");
        if (rc >= 0 && rc != C)
            rc = sg_fail(SG_E_PARSE, "%s: 'min' and 'max' need %d values each", path, C);
        for (int c = 0; rc >= 0 && c < C; c++)
            if (f->min[c] > f->max[c])
                rc = sg_fail(SG_E_PARSE, "%s: channel %d has min %g > max %g", path, c, f->min[c],
                             f->max[c]);
    }
    if (mtf && rc >= 0) {
        json_t *all = json_object_get(root, "edges");
        if (!json_is_array(all) || (int)json_array_size(all) != C)
            rc = sg_fail(SG_E_PARSE, "%s: 'edges' must hold %d arrays", path, C);
        for (int c = 0; rc >= 0 && c < C; c++) {
            double *e = f->edges + (size_t)c * (size_t)(p->n_bins - 1);
            char what[32];
            snprintf(what, sizeof what, "edges[%d]", c);
            rc = read_doubles(e, p->n_bins - 1, json_array_get(all, (size_t)c), path, what);
            if (rc >= 0)
                f->n_edges[c] = rc;
            for (int i = 1; rc >= 0 && i < f->n_edges[c]; i++)
                if (!(e[i] > e[i - 1]))
                    rc = sg_fail(SG_E_PARSE, "%s: %s is not increasing", path, what);
        }
    }
    if (rc < 0) {
        enc_fit_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int enc_fit_load(enc_fit **out, const char *path, const enc_params *p, int C)
{
    *out = NULL;
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        if (err.line < 0)
            return sg_fail(SG_E_IO, "%s: %s", path, err.text);
        return sg_fail(SG_E_PARSE, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    }
    int rc = fit_from_json(out, root, path, p, C);
    json_decref(root);
    return rc;
}
