/* uea_ts.c - the .ts reader (see uea_ts.h).
 *
 * One pass over the lines: the header fixes the shape and the classes,
 * then every case is parsed into a growing (n, C, T) array.  Each
 * dimension's values are counted before they are stored, so a ragged
 * case is reported by its dimension, not as a shifted neighbour.
 */
#include "datasets/uea_ts.h"

#include "src/base/sg_error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ts_header {
    int dimensions;      /* @dimensions; 0 = not given (learnt from case 1) */
    int length;          /* @seriesLength; 0 = not given (learnt from case 1) */
    int labelled;        /* @classLabel true */
    int n_classes;
    char **classes;      /* @classLabel's labels, owned */
    int seen_data;       /* @data read: cases follow */
} ts_header;

/* What one parse needs to report where it is. */
typedef struct ts_reader {
    const char *path;
    long line;
    ts_header h;
    sg_series_set *out;
    size_t cap;          /* segments the arrays hold */
} ts_reader;

int uea_ts_is_ts_path(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 3 && strcasecmp(path + n - 3, ".ts") == 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int header_bool(ts_reader *r, const char *key, const char *value, int *out)
{
    if (strcasecmp(value, "true") == 0)
        *out = 1;
    else if (strcasecmp(value, "false") == 0)
        *out = 0;
    else
        return sg_fail(SG_E_PARSE, "%s:%ld: @%s takes true or false, not '%s'", r->path, r->line,
                       key, value);
    return SG_OK;
}

static int header_int(ts_reader *r, const char *key, const char *value, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *trim(end) || v < 1 || v > 1000000)
        return sg_fail(SG_E_PARSE, "%s:%ld: @%s takes a whole number from 1 to 1000000, not '%s'",
                       r->path, r->line, key, value);
    *out = (int)v;
    return SG_OK;
}

static int class_labels(ts_reader *r, char *value)
{
    char *save = NULL;
    char *tok = strtok_r(value, " \t", &save);
    int labelled = 0;
    int rc = tok ? header_bool(r, "classLabel", tok, &labelled) : SG_OK;
    if (rc)
        return rc;
    r->h.labelled = labelled;
    while (labelled && (tok = strtok_r(NULL, " \t", &save)) != NULL) {
        for (int c = 0; c < r->h.n_classes; c++)
            if (strcmp(r->h.classes[c], tok) == 0)
                return sg_fail(SG_E_PARSE, "%s:%ld: @classLabel lists '%s' twice", r->path,
                               r->line, tok);
        char **grown = realloc(r->h.classes, ((size_t)r->h.n_classes + 1) * sizeof *grown);
        if (!grown)
            return sg_fail(SG_E_NOMEM, "out of memory");
        r->h.classes = grown;
        if (!(r->h.classes[r->h.n_classes] = strdup(tok)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        r->h.n_classes++;
    }
    if (labelled && r->h.n_classes == 0)
        return sg_fail(SG_E_PARSE, "%s:%ld: @classLabel true lists no labels", r->path, r->line);
    return SG_OK;
}

/* One `@key value` line before @data. */
static int header_line(ts_reader *r, char *line)
{
    char *key = line + 1, *value = key + strcspn(key, " \t");
    if (*value)
        *value++ = '\0';
    value = trim(value);
    int flag = 0, rc = SG_OK;
    if (strcasecmp(key, "data") == 0) {
        r->h.seen_data = 1;
    } else if (strcasecmp(key, "timeStamps") == 0) {
        rc = header_bool(r, key, value, &flag);
        if (rc == SG_OK && flag)
            rc = sg_fail(SG_E_PARSE,
                         "%s:%ld: @timeStamps true: time-stamped values are not read; write the "
                         "series as plain values sampled at one rate",
                         r->path, r->line);
    } else if (strcasecmp(key, "equalLength") == 0) {
        rc = header_bool(r, key, value, &flag);
        if (rc == SG_OK && !flag)
            rc = sg_fail(SG_E_PARSE,
                         "%s:%ld: @equalLength false: every case must have one length (an image "
                         "has one width); resample or crop the series to one length first",
                         r->path, r->line);
    } else if (strcasecmp(key, "dimensions") == 0 || strcasecmp(key, "dimension") == 0) {
        rc = header_int(r, key, value, &r->h.dimensions);
    } else if (strcasecmp(key, "seriesLength") == 0) {
        rc = header_int(r, key, value, &r->h.length);
    } else if (strcasecmp(key, "classLabel") == 0) {
        rc = class_labels(r, value);
    } else if (strcasecmp(key, "targetLabel") == 0) {
        rc = header_bool(r, key, value, &flag);
        if (rc == SG_OK && flag)
            rc = sg_fail(SG_E_PARSE,
                         "%s:%ld: @targetLabel true is a regression problem; sensorgram "
                         "classifies (@classLabel)",
                         r->path, r->line);
    }
    /* @problemName, @missing, @univariate and unknown keys say nothing
     * the cases do not show. */
    return rc;
}

static int grow(ts_reader *r)
{
    sg_series_set *s = r->out;
    if (s->n < r->cap)
        return SG_OK;
    size_t cap = r->cap ? 2 * r->cap : 64;
    size_t seg = (size_t)s->n_channels * (size_t)s->n_samples;
    double *data = realloc(s->data, cap * seg * sizeof *data);
    if (data)
        s->data = data;
    int *label = realloc(s->label, cap * sizeof *label);
    if (label)
        s->label = label;
    if (!data || !label)
        return sg_fail(SG_E_NOMEM, "out of memory for %zu cases of %d x %d", cap, s->n_channels,
                       s->n_samples);
    r->cap = cap;
    return SG_OK;
}

/* Counts the values of one dimension (commas + 1). */
static int count_values(const char *dim)
{
    int n = 1;
    for (; *dim; dim++)
        n += *dim == ',';
    return n;
}

/* Parses one dimension's n values into x. */
static int parse_values(ts_reader *r, char *dim, double *x, int n, size_t case_no, int d)
{
    char *p = dim;
    for (int t = 0; t < n; t++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *v = trim(p);
        char *end = NULL;
        errno = 0;
        double value = *v ? strtod(v, &end) : NAN;
        if (strcmp(v, "?") == 0 || (end && end != v && !*end && !isfinite(value)))
            return sg_fail(SG_E_PARSE,
                           "%s:%ld: case %zu, dimension %d, value %d: a missing value ('%s'); "
                           "fill or interpolate missing values before training",
                           r->path, r->line, case_no, d, t + 1, v);
        if (!*v || !end || *end || errno == ERANGE)
            return sg_fail(SG_E_PARSE, "%s:%ld: case %zu, dimension %d, value %d: '%s' is not a number",
                           r->path, r->line, case_no, d, t + 1, v);
        x[t] = value;
        p = comma ? comma + 1 : p + strlen(p);
    }
    return SG_OK;
}

/* The shape from the header, or from the first case where the header
 * leaves it open. */
static int set_shape(ts_reader *r, char **dims, int n_dims)
{
    sg_series_set *s = r->out;
    int C = r->h.dimensions ? r->h.dimensions : n_dims;
    int T = r->h.length ? r->h.length : count_values(dims[0]);
    s->n_channels = C;
    s->n_samples = T;
    s->channel_names = calloc((size_t)C, sizeof *s->channel_names);
    if (!s->channel_names)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; c < C; c++) {
        char name[32];
        snprintf(name, sizeof name, "dim_%d", c);
        if (!(s->channel_names[c] = strdup(name)))
            return sg_fail(SG_E_NOMEM, "out of memory");
    }
    return SG_OK;
}

/* One case line after @data: dims split at ':' (the label last). */
static int case_line(ts_reader *r, char *line)
{
    sg_series_set *s = r->out;
    size_t case_no = s->n + 1;
    int n_fields = 1;
    for (const char *p = line; *p; p++)
        n_fields += *p == ':';
    char **fields = malloc((size_t)n_fields * sizeof *fields);
    if (!fields)
        return sg_fail(SG_E_NOMEM, "out of memory");
    char *save = NULL;
    int k = 0;
    for (char *p = line;; p = NULL) {
        char *f = strtok_r(p, ":", &save);
        if (!f)
            break;
        fields[k++] = f;
    }
    /* strtok_r folds empty fields: count them as written instead */
    int n_dims = r->h.labelled ? n_fields - 1 : n_fields;
    int rc = k != n_fields ? sg_fail(SG_E_PARSE, "%s:%ld: case %zu has an empty dimension ('::')",
                                     r->path, r->line, case_no)
                           : SG_OK;
    if (rc == SG_OK && n_dims < 1)
        rc = sg_fail(SG_E_PARSE, "%s:%ld: case %zu has no values before its label", r->path,
                     r->line, case_no);
    if (rc == SG_OK && s->n == 0 && !s->channel_names)
        rc = set_shape(r, fields, n_dims);
    if (rc == SG_OK && n_dims != s->n_channels)
        rc = sg_fail(SG_E_SHAPE, "%s:%ld: case %zu has %d dimensions, %s %d", r->path, r->line,
                     case_no, n_dims, r->h.dimensions ? "@dimensions says" : "case 1 has",
                     s->n_channels);
    for (int d = 0; rc == SG_OK && d < n_dims; d++) {
        int n = count_values(fields[d]);
        if (n != s->n_samples)
            rc = sg_fail(SG_E_SHAPE,
                         "%s:%ld: case %zu, dimension %d has %d values, %s %d: unequal lengths "
                         "are not padded; resample or crop the series to one length first",
                         r->path, r->line, case_no, d, n,
                         r->h.length ? "@seriesLength says" : "case 1 has", s->n_samples);
    }
    if (rc == SG_OK)
        rc = grow(r);
    double *x = rc == SG_OK ? sg_series_at(s, s->n) : NULL;
    for (int d = 0; rc == SG_OK && d < n_dims; d++)
        rc = parse_values(r, fields[d], x + (size_t)d * (size_t)s->n_samples, s->n_samples,
                          case_no, d);
    int label = -1;
    if (rc == SG_OK && r->h.labelled) {
        const char *name = trim(fields[n_fields - 1]);
        for (int c = 0; c < r->h.n_classes; c++)
            if (strcmp(r->h.classes[c], name) == 0)
                label = c;
        if (label < 0)
            rc = sg_fail(SG_E_PARSE, "%s:%ld: case %zu: label '%s' is not one @classLabel declares",
                         r->path, r->line, case_no, name);
    }
    if (rc == SG_OK)
        s->label[s->n++] = label;
    free(fields);
    return rc;
}

/* Names, sources, segment numbers and classes, once the cases are read. */
static int finish(ts_reader *r)
{
    sg_series_set *s = r->out;
    const char *base = strrchr(r->path, '/');
    base = base ? base + 1 : r->path;
    int stem = (int)strlen(base) - 3;
    s->name = calloc(s->n, sizeof *s->name);
    s->source = calloc(s->n, sizeof *s->source);
    s->subject = malloc(s->n * sizeof *s->subject);
    s->segment = malloc(s->n * sizeof *s->segment);
    if (!s->name || !s->source || !s->subject || !s->segment)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int width = s->n >= 10000 ? 6 : 4;
    for (size_t i = 0; i < s->n; i++) {
        if (asprintf(&s->name[i], "%.*s_%0*zu", stem, base, width, i + 1) < 0) {
            s->name[i] = NULL;
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
        if (!(s->source[i] = strdup(r->path)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        s->subject[i] = -1;
        s->segment[i] = (int)(i + 1);
    }
    s->class_names = r->h.classes;
    s->n_classes = r->h.n_classes;
    r->h.classes = NULL;
    r->h.n_classes = 0;
    return SG_OK;
}

int uea_ts_load(sg_series_set *out, const char *path)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return sg_fail(SG_E_IO, "%s: %s", path, strerror(errno));
    ts_reader r = {.path = path, .out = out};
    char *buf = NULL;
    size_t size = 0;
    int rc = SG_OK;
    while (rc == SG_OK && getline(&buf, &size, f) >= 0) {
        r.line++;
        char *line = trim(buf);
        if (!*line || *line == '#')
            continue;
        if (!r.h.seen_data)
            rc = *line == '@' ? header_line(&r, line)
                              : sg_fail(SG_E_PARSE, "%s:%ld: a case before @data (or not a .ts "
                                                    "file)", path, r.line);
        else
            rc = case_line(&r, line);
    }
    if (rc == SG_OK && ferror(f))
        rc = sg_fail(SG_E_IO, "%s: read error", path);
    fclose(f);
    free(buf);
    if (rc == SG_OK && !r.h.seen_data)
        rc = sg_fail(SG_E_PARSE, "%s: no @data line (not a .ts file)", path);
    if (rc == SG_OK && out->n == 0)
        rc = sg_fail(SG_E_PARSE, "%s: no cases after @data", path);
    if (rc == SG_OK)
        rc = finish(&r);
    for (int c = 0; c < r.h.n_classes; c++)
        free(r.h.classes[c]);
    free(r.h.classes);
    if (rc)
        sg_series_set_free(out);
    return rc;
}
