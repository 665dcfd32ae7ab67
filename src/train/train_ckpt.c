/* train_ckpt.c - checkpoints with self-describing metadata (see
 * train_ckpt.h).
 *
 * Loading checks every tensor's name and shape against the freshly built
 * network before copying anything, so a checkpoint of another
 * architecture or class count fails with a message instead of a libtorch
 * shape error halfway through.
 */
#include "src/train/train_ckpt.h"

#include "src/train/ckpt_check.h"
#include "src/encode/enc_json.h"
#include "models/safetensors.h"
#include "src/base/sg_error.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "sensorgram-checkpoint"
#define OPTIM_PREFIX "optim."
#define HELD_PREFIX "train."

int train_meta_set_string(char **field, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = strdup(s)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    free(*field);
    *field = copy;
    return SG_OK;
}

int train_meta_init(train_meta *meta, sg_arch arch, int n_classes,
                    const char *const *class_names, const sg_transform_spec *spec)
{
    memset(meta, 0, sizeof *meta);
    meta->arch = arch;
    meta->in_channels = spec->channels;
    meta->n_classes = n_classes;
    meta->spec = *spec;
    meta->state.epoch = -1;
    meta->state.best_valid_loss = INFINITY;
    meta->class_names = calloc((size_t)(n_classes > 0 ? n_classes : 1), sizeof(char *));
    if (!meta->class_names)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int i = 0; i < n_classes; i++)
        if (!(meta->class_names[i] = strdup(class_names[i]))) {
            train_meta_free(meta);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
    return SG_OK;
}

void train_meta_free(train_meta *meta)
{
    if (!meta)
        return;
    if (meta->class_names)
        for (int i = 0; i < meta->n_classes; i++)
            free(meta->class_names[i]);
    free(meta->class_names);
    free(meta->fit_text);
    for (int k = 0; k < ENC_STACK_MAX; k++)
        free(meta->stack_fit_text[k]);
    free(meta->units);
    free(meta->sensors);
    free(meta->axes);
    free((char *)meta->csv.columns);
    free((char *)meta->csv.label_column);
    free((char *)meta->csv.label_regex);
    free(meta->run_text);
    memset(meta, 0, sizeof *meta);
}

static const char *const csv_header_names[] = {"auto", "yes", "no"};
static const char *const csv_label_names[] = {"dir", "column", "regex", "none"};

/* The CSV reading options as JSON (json_pack's "s?" leaves NULLs null). */
static json_t *csv_to_json(const sensor_csv_options *c)
{
    char delim[2] = {c->delimiter, '\0'};
    int h = c->header >= 0 && c->header < 3 ? (int)c->header : 0;
    int l = c->label_from >= 0 && c->label_from < 4 ? (int)c->label_from : 0;
    return json_pack("{s:s, s:s, s:s?, s:i, s:i, s:s, s:s?, s:b, s:s?}", "header",
                     csv_header_names[h], "delimiter", delim, "columns", c->columns, "window",
                     c->window, "stride", c->stride, "label_from", csv_label_names[l],
                     "label_column", c->label_column, "label_first", c->label_first,
                     "label_regex", c->label_regex);
}

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* The CSV record of a checkpoint trained on CSV recordings. */
static int read_csv_record(train_meta *meta, const json_t *j, const char *path)
{
    sensor_csv_options *c = &meta->csv;
    sensor_csv_options_default(c);
    int h = name_index(csv_header_names, 3, json_string_value(json_object_get(j, "header")));
    int l = name_index(csv_label_names, 4, json_string_value(json_object_get(j, "label_from")));
    const char *delim = json_string_value(json_object_get(j, "delimiter"));
    json_t *w = json_object_get(j, "window"), *st = json_object_get(j, "stride");
    if (h < 0 || l < 0 || !delim || strlen(delim) > 1 || !json_is_integer(w) ||
        !json_is_integer(st) || json_integer_value(w) < 0 || json_integer_value(st) < 0 ||
        json_integer_value(w) > INT_MAX || json_integer_value(st) > INT_MAX)
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint CSV record is malformed", path);
    meta->has_csv = 1;
    c->header = (sensor_csv_header)h;
    c->label_from = (sensor_csv_label_from)l;
    c->delimiter = delim[0];
    c->window = (int)json_integer_value(w);
    c->stride = (int)json_integer_value(st);
    c->label_first = json_is_true(json_object_get(j, "label_first"));
    char *columns = NULL, *label_column = NULL, *label_regex = NULL;
    int rc = train_meta_set_string(&columns, json_string_value(json_object_get(j, "columns")));
    if (!rc)
        rc = train_meta_set_string(&label_column,
                                   json_string_value(json_object_get(j, "label_column")));
    if (!rc)
        rc = train_meta_set_string(&label_regex,
                                   json_string_value(json_object_get(j, "label_regex")));
    c->columns = columns;
    c->label_column = label_column;
    c->label_regex = label_regex;
    return rc;
}

/* The sensor record's norm rows and encoder stack (absent in older
 * checkpoints: no norm rows, one encoder). */
static int read_sensor_extras(train_meta *meta, const json_t *sensor, const char *path)
{
    json_t *csv = json_object_get(sensor, "csv");
    if (json_is_object(csv)) {
        int rc = read_csv_record(meta, csv, path);
        if (rc)
            return rc;
    }
    static const char *const magnitude_names[] = {"off", "add", "only"};
    const char *mag = json_string_value(json_object_get(sensor, "magnitude"));
    meta->magnitude = 0;
    for (int m = 0; mag && m < 3; m++)
        if (strcmp(mag, magnitude_names[m]) == 0)
            meta->magnitude = m;
    json_t *max_length = json_object_get(sensor, "max_length");
    meta->max_length = 0;
    if (max_length && (!json_is_integer(max_length) || json_integer_value(max_length) < 2 ||
                       json_integer_value(max_length) > 1 << 30))
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint max_length must be an integer >= 2", path);
    if (max_length)
        meta->max_length = (int)json_integer_value(max_length);
    json_t *arr = json_object_get(sensor, "stack");
    if (!arr) {
        enc_stack_single(&meta->stack, &meta->enc);
        return SG_OK;
    }
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n < 2 || n > ENC_STACK_MAX)
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint encoder stack must list 2 to %d encoders",
                       path, ENC_STACK_MAX);
    memset(&meta->stack, 0, sizeof meta->stack);
    meta->stack.n = (int)n;
    for (size_t k = 0; k < n; k++) {
        json_t *e = json_array_get(arr, k);
        int rc = enc_params_from_json(&meta->stack.p[k], json_object_get(e, "encoder"));
        if (rc == SG_OK)
            rc = train_meta_set_string(&meta->stack_fit_text[k],
                                       json_string_value(json_object_get(e, "fit")));
        if (rc)
            return sg_fail_context(SG_E_CORRUPT, "%s: encoder stack entry %zu", path, k + 1);
    }
    meta->enc = meta->stack.p[0];
    return SG_OK;
}

static json_t *meta_to_json(const train_meta *meta)
{
    json_t *classes = json_array();
    for (int i = 0; classes && i < meta->n_classes; i++)
        json_array_append_new(classes, json_string(meta->class_names[i]));
    const sg_transform_spec *s = &meta->spec;
    /* at least 3 entries, as before stacked encoders gave more channels */
    json_t *mean = json_array(), *std = json_array();
    for (int c = 0; mean && std && c < (s->channels > 3 ? s->channels : 3); c++) {
        json_array_append_new(mean, json_real((double)s->mean[c]));
        json_array_append_new(std, json_real((double)s->std[c]));
    }
    json_t *image = json_pack("{s:i, s:i, s:i, s:i, s:b, s:o, s:o}", "channels", s->channels,
                              "height", s->height, "width", s->width, "resize", (int)s->resize,
                              "normalize", s->normalize, "mean", mean, "std", std);
    json_t *sensor = json_null();
    if (meta->is_series) {
        json_decref(sensor);
        static const char *const magnitude_names[] = {"off", "add", "only"};
        sensor = json_pack("{s:o, s:s?, s:s?, s:s?, s:s?, s:i, s:s}", "encoder",
                           enc_params_to_json(&meta->enc), "fit", meta->fit_text, "units",
                           meta->units, "sensors", meta->sensors, "axes", meta->axes,
                           "segment_channels", meta->segment_channels, "magnitude",
                           magnitude_names[meta->magnitude >= 0 && meta->magnitude < 3
                                               ? meta->magnitude
                                               : 0]);
        if (sensor && meta->stack.n > 1) {
            json_t *arr = json_array();
            for (int k = 0; arr && k < meta->stack.n; k++)
                json_array_append_new(arr, json_pack("{s:o, s:s?}", "encoder",
                                                     enc_params_to_json(&meta->stack.p[k]),
                                                     "fit", meta->stack_fit_text[k]));
            json_object_set_new(sensor, "stack", arr);
        }
        if (sensor && meta->has_csv)
            json_object_set_new(sensor, "csv", csv_to_json(&meta->csv));
        if (sensor && meta->max_length > 0)
            json_object_set_new(sensor, "max_length", json_integer(meta->max_length));
    }
    const train_state *st = &meta->state;
    json_t *state = json_pack("{s:i, s:i, s:I, s:b, s:i, s:f, s:I}", "phase", st->phase,
                              "epoch", st->epoch, "step", (json_int_t)st->step, "finished",
                              st->finished, "total_epochs", st->total_epochs, "best_valid_loss",
                              isfinite(st->best_valid_loss) ? st->best_valid_loss : -1.0,
                              "n_averaged", (json_int_t)st->n_averaged);
    json_t *run = meta->run_text ? json_loads(meta->run_text, 0, NULL) : NULL;
    return json_pack("{s:i, s:s, s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "version", 1, "arch",
                     sg_arch_name(meta->arch), "in_channels", meta->in_channels, "n_classes",
                     meta->n_classes, "classes", classes, "image", image, "sensor", sensor,
                     "state", state, "run", run ? run : json_null());
}

int train_ckpt_save(const char *path, sg_model *m, sg_optim *o, const train_meta *meta)
{
    return train_ckpt_save_held(path, m, o, NULL, meta);
}

int train_ckpt_save_held(const char *path, sg_model *m, sg_optim *o, const sg_wavg *held,
                         const train_meta *meta)
{
    int n_model = 0, n_optim = 0;
    int rc = sg_model_tensor_count(m, &n_model);
    if (rc == SG_OK && o)
        rc = sg_optim_tensor_count(o, &n_optim);
    if (rc)
        return rc;
    int n_held = held ? n_model : 0;
    size_t n = (size_t)n_model + (size_t)n_optim + (size_t)n_held;
    sg_st_entry *entries = calloc(n ? n : 1, sizeof *entries);
    float **bufs = calloc(n ? n : 1, sizeof *bufs);
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!entries || !bufs || !names)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int i = 0; rc == SG_OK && i < n_model; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        rc = sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int);
        if (rc)
            break;
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        bufs[i] = malloc((numel ? numel : 1) * sizeof(float));
        if (!bufs[i]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        rc = sg_model_tensor_get(m, name, bufs[i], numel);
        entries[i].name = name;
        entries[i].ndim = ndim;
        for (int d = 0; d < ndim; d++)
            entries[i].shape[d] = shape[d];
        entries[i].data = bufs[i];
        entries[i].as_int = is_int;
    }
    for (int j = 0; rc == SG_OK && j < n_optim; j++) {
        size_t i = (size_t)n_model + (size_t)j;
        const char *name;
        size_t numel;
        rc = sg_optim_tensor_info(o, j, &name, &numel);
        if (rc)
            break;
        size_t len = strlen(name) + sizeof OPTIM_PREFIX;
        names[i] = malloc(len);
        bufs[i] = malloc((numel ? numel : 1) * sizeof(float));
        if (!names[i] || !bufs[i]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        snprintf(names[i], len, OPTIM_PREFIX "%s", name);
        rc = sg_optim_tensor_get(o, name, bufs[i], numel);
        entries[i].name = names[i];
        entries[i].ndim = 1;
        entries[i].shape[0] = (int64_t)numel;
        entries[i].data = bufs[i];
    }
    /* The training weights beside the averaged ones: same shapes, prefixed. */
    for (int j = 0; rc == SG_OK && j < n_held; j++) {
        size_t i = (size_t)n_model + (size_t)n_optim + (size_t)j;
        const sg_st_entry *src = &entries[j];
        size_t numel = 1;
        for (int d = 0; d < src->ndim; d++)
            numel *= (size_t)src->shape[d];
        size_t len = strlen(src->name) + sizeof HELD_PREFIX;
        names[i] = malloc(len);
        bufs[i] = malloc((numel ? numel : 1) * sizeof(float));
        if (!names[i] || !bufs[i]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        snprintf(names[i], len, HELD_PREFIX "%s", src->name);
        rc = sg_wavg_tensor_get(held, src->name, bufs[i], numel);
        entries[i] = *src;
        entries[i].name = names[i];
        entries[i].data = bufs[i];
    }
    char *meta_text = NULL;
    if (rc == SG_OK) {
        json_t *j = meta_to_json(meta);
        meta_text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9))
                      : NULL;
        json_decref(j);
        if (!meta_text)
            rc = sg_fail(SG_E_NOMEM, "%s: cannot serialise the checkpoint metadata", path);
    }
    /* Never a checkpoint of a diverged model; always one that can be verified. */
    if (rc == SG_OK)
        rc = ckpt_entries_finite(entries, n, path);
    char hash[65] = "";
    if (rc == SG_OK)
        rc = ckpt_hash_entries(hash, entries, n);
    if (rc == SG_OK) {
        const char *keys[] = {"format", "arch", "sensorgram", CKPT_HASH_KEY};
        const char *values[] = {CKPT_FORMAT, sg_arch_name(meta->arch), meta_text, hash};
        rc = sg_st_write(path, entries, n, keys, values, 4);
    }
    free(meta_text);
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(bufs);
    free(names);
    free(entries);
    return rc;
}

static int json_int_field(int *out, json_t *obj, const char *key, const char *path)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint metadata lacks integer '%s'", path, key);
    *out = (int)json_integer_value(v);
    return SG_OK;
}

static int meta_from_json(train_meta *meta, json_t *root, const char *path)
{
    const char *arch = json_string_value(json_object_get(root, "arch"));
    if (!arch || sg_arch_parse(&meta->arch, arch) != SG_OK)
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint metadata names no known architecture", path);
    int rc = json_int_field(&meta->in_channels, root, "in_channels", path);
    if (!rc)
        rc = json_int_field(&meta->n_classes, root, "n_classes", path);
    if (rc)
        return rc;
    json_t *classes = json_object_get(root, "classes");
    if (meta->n_classes < 1 || !json_is_array(classes) ||
        json_array_size(classes) != (size_t)meta->n_classes)
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint class list does not match n_classes", path);
    meta->class_names = calloc((size_t)meta->n_classes, sizeof(char *));
    if (!meta->class_names)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int i = 0; i < meta->n_classes; i++) {
        const char *s = json_string_value(json_array_get(classes, (size_t)i));
        if (!s || !(meta->class_names[i] = strdup(s)))
            return sg_fail(SG_E_CORRUPT, "%s: bad class name %d", path, i);
    }
    json_t *image = json_object_get(root, "image");
    sg_transform_spec *s = &meta->spec;
    int resize = 0;
    if (!json_is_object(image))
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint metadata lacks 'image'", path);
    sg_transform_spec_sensor(s, meta->in_channels, 1, 1);
    rc = json_int_field(&s->channels, image, "channels", path);
    if (!rc) rc = json_int_field(&s->height, image, "height", path);
    if (!rc) rc = json_int_field(&s->width, image, "width", path);
    if (!rc) rc = json_int_field(&resize, image, "resize", path);
    if (rc)
        return rc;
    s->resize = (sg_resize_mode)resize;
    s->normalize = json_is_true(json_object_get(image, "normalize"));
    json_t *jm = json_object_get(image, "mean"), *js = json_object_get(image, "std");
    if (s->channels > 3 && (json_array_size(jm) < (size_t)s->channels ||
                            json_array_size(js) < (size_t)s->channels))
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint 'image' has fewer mean/std entries than "
                                     "its %d channels", path, s->channels);
    for (int c = 0; c < (s->channels > 3 ? s->channels : 3); c++) {
        s->mean[c] = (float)json_number_value(json_array_get(jm, (size_t)c));
        s->std[c] = (float)json_number_value(json_array_get(js, (size_t)c));
    }
    rc = sg_transform_spec_check(s);
    if (rc)
        return sg_fail_context(SG_E_CORRUPT, "%s", path);
    json_t *sensor = json_object_get(root, "sensor");
    if (json_is_object(sensor)) {
        meta->is_series = 1;
        rc = enc_params_from_json(&meta->enc, json_object_get(sensor, "encoder"));
        if (rc)
            return sg_fail_context(SG_E_CORRUPT, "%s", path);
        rc = json_int_field(&meta->segment_channels, sensor, "segment_channels", path);
        if (!rc) rc = train_meta_set_string(&meta->fit_text, json_string_value(json_object_get(sensor, "fit")));
        if (!rc) rc = train_meta_set_string(&meta->units, json_string_value(json_object_get(sensor, "units")));
        if (!rc) rc = train_meta_set_string(&meta->sensors, json_string_value(json_object_get(sensor, "sensors")));
        if (!rc) rc = train_meta_set_string(&meta->axes, json_string_value(json_object_get(sensor, "axes")));
        if (rc)
            return rc;
        rc = read_sensor_extras(meta, sensor, path);
        if (rc)
            return rc;
    }
    json_t *run = json_object_get(root, "run");
    if (json_is_object(run)) {
        meta->run_text = json_dumps(run, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!meta->run_text)
            return sg_fail(SG_E_NOMEM, "out of memory");
    }
    json_t *state = json_object_get(root, "state");
    if (json_is_object(state)) {
        train_state *st = &meta->state;
        json_int_field(&st->phase, state, "phase", path);
        json_int_field(&st->epoch, state, "epoch", path);
        json_int_field(&st->total_epochs, state, "total_epochs", path);
        st->step = (long)json_integer_value(json_object_get(state, "step"));
        st->finished = json_is_true(json_object_get(state, "finished"));
        double b = json_number_value(json_object_get(state, "best_valid_loss"));
        st->best_valid_loss = b < 0 ? INFINITY : b;
        st->n_averaged = (long)json_integer_value(json_object_get(state, "n_averaged"));
    }
    return SG_OK;
}

static int read_meta_from(train_meta *meta, const sg_st_file *f, const char *path)
{
    memset(meta, 0, sizeof *meta);
    const char *format = sg_st_meta(f, "format");
    const char *text = sg_st_meta(f, "sensorgram");
    if (!format || strcmp(format, CKPT_FORMAT) != 0 || !text)
        return sg_fail(SG_E_CORRUPT,
                       "%s: not a sensorgram training checkpoint (no metadata; bare weights "
                       "go to predict --arch A --weights W)",
                       path);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (!root)
        return sg_fail(SG_E_CORRUPT, "%s: checkpoint metadata: %s", path, err.text);
    int rc = meta_from_json(meta, root, path);
    json_decref(root);
    if (rc)
        train_meta_free(meta);
    return rc;
}

int train_ckpt_read_meta(train_meta *meta, const char *path)
{
    sg_st_file f;
    int rc = ckpt_open_checked(&f, path);
    if (rc)
        return rc;
    rc = read_meta_from(meta, &f, path);
    sg_st_close(&f);
    return rc;
}

/* The file's tensor for network tensor i, checked for presence and shape. */
static int find_tensor(const sg_st_tensor **out, const char **name, sg_model *m, int i,
                       const sg_st_file *f, const char *path)
{
    int ndim, is_int;
    int64_t shape[4];
    int rc = sg_model_tensor_info(m, i, name, &ndim, shape, &is_int);
    if (rc)
        return rc;
    const sg_st_tensor *t = sg_st_find(f, *name);
    if (!t)
        return sg_fail(SG_E_SHAPE, "%s: tensor '%s' missing (checkpoint of another "
                                   "architecture?)", path, *name);
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same)
        return sg_fail(SG_E_SHAPE, "%s: tensor '%s' has another shape than the network", path,
                       *name);
    *out = t;
    return SG_OK;
}

/* Checks every network tensor against the file, then copies them, so that
 * a mismatch leaves the network untouched. */
static int load_tensors(sg_model *m, const sg_st_file *f, const char *path)
{
    int count;
    const char *name;
    const sg_st_tensor *t;
    int rc = sg_model_tensor_count(m, &count);
    for (int i = 0; rc == SG_OK && i < count; i++)
        rc = find_tensor(&t, &name, m, i, f, path);
    float *buf = NULL;
    for (int i = 0; rc == SG_OK && i < count; i++) {
        rc = find_tensor(&t, &name, m, i, f, path);
        if (rc)
            break;
        float *nb = realloc(buf, (t->numel ? t->numel : 1) * sizeof *buf);
        if (!nb) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        buf = nb;
        rc = sg_st_read_f32(f, t, buf);
        for (size_t k = 0; rc == SG_OK && k < t->numel; k++)
            if (!isfinite(buf[k]))
                rc = sg_fail(SG_E_NUMERIC, "%s: tensor '%s' holds NaN or Inf (a diverged run?)",
                             path, name);
        if (rc == SG_OK)
            rc = sg_model_tensor_set(m, name, buf, t->numel);
    }
    free(buf);
    return rc;
}

int train_ckpt_load(sg_model **out, train_meta *meta, const char *path, const char *device,
                    int expect_arch, sg_precision precision, int n_threads)
{
    *out = NULL;
    sg_st_file f;
    int rc = ckpt_open_checked(&f, path);
    if (rc)
        return rc;
    rc = ckpt_verify_hash(&f, path);
    if (rc) {
        sg_st_close(&f);
        return rc;
    }
    rc = read_meta_from(meta, &f, path);
    if (rc) {
        sg_st_close(&f);
        return rc;
    }
    if (expect_arch >= 0 && (sg_arch)expect_arch != meta->arch) {
        rc = sg_fail(SG_E_SHAPE, "%s: checkpoint of architecture %s, not %s", path,
                     sg_arch_name(meta->arch), sg_arch_name((sg_arch)expect_arch));
    }
    sg_model *m = NULL;
    if (rc == SG_OK) {
        sg_model_spec spec = {
            .arch = meta->arch,
            .in_channels = meta->in_channels,
            .n_classes = meta->n_classes,
            .device = device,
            .precision = precision,
            .n_threads = n_threads,
        };
        rc = sg_model_create(&m, &spec);
    }
    if (rc == SG_OK)
        rc = load_tensors(m, &f, path);
    sg_st_close(&f);
    if (rc) {
        sg_model_free(m);
        train_meta_free(meta);
        return rc;
    }
    *out = m;
    return SG_OK;
}

int train_ckpt_load_optim(sg_optim *o, const char *path)
{
    sg_st_file f;
    int rc = ckpt_open_checked(&f, path);
    if (rc == SG_OK)
        rc = ckpt_verify_hash(&f, path);
    if (rc) {
        sg_st_close(&f);
        return rc;
    }
    int count = 0;
    rc = sg_optim_tensor_count(o, &count);
    float *buf = NULL;
    for (int i = 0; rc == SG_OK && i < count; i++) {
        const char *name;
        size_t numel;
        rc = sg_optim_tensor_info(o, i, &name, &numel);
        if (rc)
            break;
        char key[512];
        snprintf(key, sizeof key, OPTIM_PREFIX "%s", name);
        const sg_st_tensor *t = sg_st_find(&f, key);
        /* State that does not exist yet (no step taken) is not saved. */
        if (!t)
            continue;
        if (t->numel != numel) {
            rc = sg_fail(SG_E_SHAPE, "%s: optimizer tensor '%s' has %zu values, expected %zu",
                         path, name, t->numel, numel);
            break;
        }
        float *nb = realloc(buf, (numel ? numel : 1) * sizeof *buf);
        if (!nb) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        buf = nb;
        rc = sg_st_read_f32(&f, t, buf);
        if (rc == SG_OK)
            rc = sg_optim_tensor_set(o, name, buf, numel);
    }
    free(buf);
    sg_st_close(&f);
    return rc;
}

int train_ckpt_load_held(sg_wavg **out, sg_model *m, const char *path)
{
    *out = NULL;
    sg_wavg *avg = NULL;
    int rc = sg_wavg_create(&avg, m);
    sg_st_file f;
    int opened = 0;
    if (rc == SG_OK) {
        rc = ckpt_open_checked(&f, path);
        opened = rc == SG_OK;
    }
    if (rc == SG_OK)
        rc = ckpt_verify_hash(&f, path);
    int count = 0;
    if (rc == SG_OK)
        rc = sg_model_tensor_count(m, &count);
    /* Without training weights in the file (no average yet) the model's
     * are the training ones: nothing to exchange. */
    int have = 0;
    for (int i = 0; rc == SG_OK && i < count; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        rc = sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int);
        char key[512];
        snprintf(key, sizeof key, HELD_PREFIX "%s", name);
        if (rc == SG_OK && sg_st_find(&f, key))
            have++;
    }
    if (rc == SG_OK && have != 0 && have != count)
        rc = sg_fail(SG_E_CORRUPT, "%s: %d of %d training tensors (" HELD_PREFIX "*) present",
                     path, have, count);
    float *buf = NULL;
    for (int i = 0; rc == SG_OK && have && i < count; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        rc = sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int);
        if (rc)
            break;
        char key[512];
        snprintf(key, sizeof key, HELD_PREFIX "%s", name);
        const sg_st_tensor *t = sg_st_find(&f, key);
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        if (t->numel != numel) {
            rc = sg_fail(SG_E_SHAPE, "%s: tensor '%s' has %zu values, expected %zu", path, key,
                         t->numel, numel);
            break;
        }
        float *nb = realloc(buf, (numel ? numel : 1) * sizeof *buf);
        if (!nb) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        buf = nb;
        rc = sg_st_read_f32(&f, t, buf);
        if (rc == SG_OK)
            rc = sg_wavg_tensor_set(avg, name, buf, numel);
    }
    free(buf);
    if (opened)
        sg_st_close(&f);
    /* The model trains on: it takes the training weights, the average
     * keeps the averaged ones. */
    if (rc == SG_OK && have)
        rc = sg_wavg_swap(avg, m);
    if (rc) {
        sg_wavg_free(avg);
        return rc;
    }
    *out = avg;
    return SG_OK;
}
