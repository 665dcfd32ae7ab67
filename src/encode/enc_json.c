/* enc_json.c - enc_params <-> JSON and enc_fit <-> text (see enc_json.h).
 *
 * Enums are stored by name, not number, so that a checkpoint stays
 * readable if the enums grow.  The fit goes through enc_fit_save/load
 * (the encoders' own file format) with a temporary file, because the
 * encoders expose no in-memory form; the file never outlives the call.
 */
#include "src/encode/enc_json.h"

#include "src/base/sg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const layout_names[] = {"channels", "mosaic", "rgb", NULL};
static const char *const threshold_names[] = {"none", "point", "distance", "value", NULL};
static const char *const strategy_names[] = {"quantile", "uniform", "normal", NULL};
static const char *const window_names[] = {"hann", "hamming", "blackman", "rectangular", NULL};
static const char *const scope_names[] = {"dataset", "segment", "axis", NULL};

json_t *enc_params_to_json(const enc_params *p)
{
    return json_pack("{s:s, s:s, s:i, s:f, s:b, s:b, s:[f,f], s:i, s:s, s:b, s:i, s:i, s:s, "
                     "s:f, s:f, s:i, s:i, s:s, s:b, s:s}",
                     "encoder", enc_kind_name(p->kind), "layout", layout_names[p->layout],
                     "image_size", p->image_size, "image_size_frac", p->image_size_frac,
                     "overlapping", p->overlapping, "sample_range_none", p->sample_range_none,
                     "sample_range", p->sample_range[0], p->sample_range[1], "n_bins",
                     p->n_bins, "strategy", strategy_names[p->strategy], "mtf_fitted",
                     p->mtf_fitted, "dimension", p->dimension, "time_delay", p->time_delay,
                     "threshold", threshold_names[p->threshold], "threshold_value",
                     p->threshold_value, "percentage", p->percentage, "window_length",
                     p->window_length, "hop", p->hop, "window", window_names[p->window],
                     "log_db", p->log_db, "scope", scope_names[p->scope]);
}

static int get_name(int *out, const json_t *obj, const char *key, const char *const *names)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return SG_OK;
    const char *s = json_string_value(v);
    for (int i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return SG_OK;
        }
    return sg_fail(SG_E_PARSE, "encoder settings: bad value for '%s'", key);
}

static int get_int(int *out, const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return SG_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return SG_OK;
    }
    if (!json_is_integer(v))
        return sg_fail(SG_E_PARSE, "encoder settings: '%s' is not an integer", key);
    *out = (int)json_integer_value(v);
    return SG_OK;
}

static int get_double(double *out, const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return SG_OK;
    if (!json_is_number(v))
        return sg_fail(SG_E_PARSE, "encoder settings: '%s' is not a number", key);
    *out = json_number_value(v);
    return SG_OK;
}

int enc_params_from_json(enc_params *p, const json_t *obj)
{
    if (!json_is_object(obj))
        return sg_fail(SG_E_PARSE, "encoder settings: not a JSON object");
    enc_kind kind;
    const char *name = json_string_value(json_object_get(obj, "encoder"));
    if (!name)
        return sg_fail(SG_E_PARSE, "encoder settings: no 'encoder' name");
    int rc = enc_kind_parse(&kind, name);
    if (rc)
        return rc;
    enc_params_default(p, kind);
    int layout = p->layout, strategy = p->strategy, threshold = p->threshold;
    int window = p->window, scope = p->scope;
    rc = get_name(&layout, obj, "layout", layout_names);
    if (!rc) rc = get_name(&strategy, obj, "strategy", strategy_names);
    if (!rc) rc = get_name(&threshold, obj, "threshold", threshold_names);
    if (!rc) rc = get_name(&window, obj, "window", window_names);
    if (!rc) rc = get_name(&scope, obj, "scope", scope_names);
    if (!rc) rc = get_int(&p->image_size, obj, "image_size");
    if (!rc) rc = get_double(&p->image_size_frac, obj, "image_size_frac");
    if (!rc) rc = get_int(&p->overlapping, obj, "overlapping");
    if (!rc) rc = get_int(&p->sample_range_none, obj, "sample_range_none");
    if (!rc) rc = get_int(&p->n_bins, obj, "n_bins");
    if (!rc) rc = get_int(&p->mtf_fitted, obj, "mtf_fitted");
    if (!rc) rc = get_int(&p->dimension, obj, "dimension");
    if (!rc) rc = get_int(&p->time_delay, obj, "time_delay");
    if (!rc) rc = get_double(&p->threshold_value, obj, "threshold_value");
    if (!rc) rc = get_double(&p->percentage, obj, "percentage");
    if (!rc) rc = get_int(&p->window_length, obj, "window_length");
    if (!rc) rc = get_int(&p->hop, obj, "hop");
    if (!rc) rc = get_int(&p->log_db, obj, "log_db");
    if (rc)
        return rc;
    json_t *range = json_object_get(obj, "sample_range");
    if (json_is_array(range) && json_array_size(range) == 2) {
        p->sample_range[0] = json_number_value(json_array_get(range, 0));
        p->sample_range[1] = json_number_value(json_array_get(range, 1));
    }
    p->layout = (enc_layout)layout;
    p->strategy = (enc_strategy)strategy;
    p->threshold = (enc_threshold)threshold;
    p->window = (enc_window)window;
    p->scope = (enc_scope)scope;
    return SG_OK;
}

/* A fresh temporary path in tmp_dir; the caller frees it. */
static char *temp_name(const char *tmp_dir)
{
    size_t n = strlen(tmp_dir) + 40;
    char *path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/.enc_fit.XXXXXX", tmp_dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}

static int slurp(char **out, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: cannot read", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!buf) {
        fclose(f);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[got] = '\0';
    *out = buf;
    return SG_OK;
}

int enc_fit_to_text(char **out, const enc_fit *fit, const char *tmp_dir)
{
    *out = NULL;
    char *path = temp_name(tmp_dir);
    if (!path)
        return sg_fail(SG_E_IO, "%s: cannot create a temporary file", tmp_dir);
    int rc = enc_fit_save(fit, path);
    if (rc == SG_OK)
        rc = slurp(out, path);
    unlink(path);
    free(path);
    return rc;
}

int enc_fit_from_text(enc_fit **out, const char *text, const enc_params *p, int C,
                      const char *tmp_dir)
{
    *out = NULL;
    char *path = temp_name(tmp_dir);
    if (!path)
        return sg_fail(SG_E_IO, "%s: cannot create a temporary file", tmp_dir);
    int rc = SG_OK;
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) == EOF)
        rc = sg_fail(SG_E_IO, "%s: cannot write", path);
    if (f && fclose(f) != 0 && rc == SG_OK)
        rc = sg_fail(SG_E_IO, "%s: cannot write", path);
    if (rc == SG_OK)
        rc = enc_fit_load(out, path, p, C);
    unlink(path);
    free(path);
    return rc;
}
