/* npy_series.c - numpy segments and their labels (see npy_series.h).
 *
 * Labels are gathered as text whatever their dtype (an integer class 3
 * becomes "3"), then sorted once: numerically when every label is an
 * integer (so 10 follows 9), else by bytes.  TRAIN and TEST arrays of the
 * same problem then index their classes alike when both hold every class.
 */
#include "datasets/npy_series.h"
#include "src/base/fs_stat.h"

#include "src/base/csv_table.h"
#include "src/base/file_read.h"
#include "src/base/npy.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int ends_with_npy(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcasecmp(path + n - 4, ".npy") == 0;
}

/* Reads the whole .npy at path into *buf (the caller frees it) and
 * parses its header into in, checking that the data is all there. */
static int read_npy(const char *path, char **buf, sg_npy_info *in)
{
    size_t n = 0;
    int rc = sg_file_read(path, buf, &n);
    if (rc == SG_OK)
        rc = sg_npy_parse_header_any(in, (const unsigned char *)*buf, n, path);
    if (rc == SG_OK && (n - in->offset) / in->item < in->count)
        rc = sg_fail(SG_E_PARSE, "%s: truncated .npy data (expected %zu values)", path,
                     in->count);
    return rc;
}

/* The float32 or float64 value at p. */
static double float_at(const unsigned char *p, size_t item)
{
    if (item == 4) {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    double d;
    memcpy(&d, p, 8);
    return d;
}

/* y.npy or y.csv beside x (in its folder), or "". */
static void find_labels(const char *x, char *y, size_t size)
{
    const char *slash = strrchr(x, '/');
    int dir = slash ? (int)(slash - x + 1) : 0;
    const char *names[] = {"y.npy", "y.csv"};
    for (int i = 0; i < 2; i++) {
        snprintf(y, size, "%.*s%s", dir, x, names[i]);
        if (sg_is_file(y))
            return;
    }
    y[0] = '\0';
}

int npy_series_find(const char *data, char *x, char *y, size_t size)
{
    x[0] = y[0] = '\0';
    struct stat st;
    if (stat(data, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        char manifest[4096];
        snprintf(manifest, sizeof manifest, "%s/manifest.csv", data);
        snprintf(x, size, "%s/X.npy", data);
        if (sg_is_file(manifest) || !sg_is_file(x))
            return 0;
    } else if (ends_with_npy(data)) {
        snprintf(x, size, "%s", data);
    } else {
        return 0;
    }
    sg_npy_info info;
    int rc = sg_npy_read_header(x, &info);
    if (rc)
        return rc;
    if (info.ndim != 3)
        return 0;
    find_labels(x, y, size);
    return 1;
}

/* ---- labels ----------------------------------------------------------- */

typedef struct labels {
    size_t n;
    char **text; /* n labels, owned */
} labels;

static void labels_free(labels *l)
{
    for (size_t i = 0; l->text && i < l->n; i++)
        free(l->text[i]);
    free(l->text);
    memset(l, 0, sizeof *l);
}

/* UTF-32LE code points to UTF-8, stopping at the first NUL. */
static char *utf32_to_utf8(const unsigned char *p, size_t chars)
{
    char *s = malloc(chars * 4 + 1);
    if (!s)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < chars; i++) {
        uint32_t c = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        if (c == 0)
            break;
        if (c < 0x80) {
            s[k++] = (char)c;
        } else if (c < 0x800) {
            s[k++] = (char)(0xc0 | c >> 6);
            s[k++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            s[k++] = (char)(0xe0 | c >> 12);
            s[k++] = (char)(0x80 | (c >> 6 & 0x3f));
            s[k++] = (char)(0x80 | (c & 0x3f));
        } else {
            s[k++] = (char)(0xf0 | (c >> 18 & 0x07));
            s[k++] = (char)(0x80 | (c >> 12 & 0x3f));
            s[k++] = (char)(0x80 | (c >> 6 & 0x3f));
            s[k++] = (char)(0x80 | (c & 0x3f));
        }
    }
    s[k] = '\0';
    return s;
}

/* One label of a numeric y.npy as text. */
static int number_text(char **out, const unsigned char *p, const sg_npy_info *in,
                       const char *path, size_t i)
{
    long long v = 0;
    if (in->kind == 'f') {
        double d = float_at(p, in->item);
        if (!isfinite(d) || d != floor(d) || fabs(d) > 1e15)
            return sg_fail(SG_E_PARSE, "%s: label %zu is %g, not a class number", path, i + 1, d);
        v = (long long)d;
    } else {
        uint64_t u = 0;
        for (size_t b = 0; b < in->item; b++)
            u |= (uint64_t)p[b] << (8 * b);
        if (in->kind == 'i' && in->item < 8 && (u >> (8 * in->item - 1) & 1))
            u |= ~(uint64_t)0 << (8 * in->item); /* sign-extend */
        v = in->kind == 'i' ? (long long)u : (long long)(u & INT64_MAX);
    }
    return asprintf(out, "%lld", v) < 0 ? (*out = NULL, sg_fail(SG_E_NOMEM, "out of memory"))
                                        : SG_OK;
}

static int labels_from_npy(labels *l, const char *path)
{
    char *buf = NULL;
    sg_npy_info in;
    int rc = read_npy(path, &buf, &in);
    if (rc == SG_OK && !(in.ndim == 1 || (in.ndim == 2 && in.shape[1] == 1)))
        rc = sg_fail(SG_E_SHAPE, "%s: labels must be one value per case (shape (N,)), not %d "
                                 "dimensions", path, in.ndim);
    if (rc == SG_OK && !(l->text = calloc(in.count ? in.count : 1, sizeof *l->text)))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < in.count; i++) {
        const unsigned char *p = (const unsigned char *)buf + in.offset + i * in.item;
        l->n = i + 1;
        if (in.kind == 'U')
            rc = (l->text[i] = utf32_to_utf8(p, in.item / 4)) ? SG_OK
                                                               : sg_fail(SG_E_NOMEM, "out of memory");
        else
            rc = number_text(&l->text[i], p, &in, path, i);
    }
    free(buf);
    return rc;
}

static int labels_from_csv(labels *l, const char *path)
{
    csv_table t;
    int rc = csv_table_read(&t, path);
    if (rc)
        return rc;
    size_t col = t.n_cols;
    for (size_t c = 0; c < t.n_cols; c++)
        if (strcmp(t.header[c], "label") == 0)
            col = c;
    for (size_t c = 0; col == t.n_cols && c < t.n_cols; c++)
        if (strcmp(t.header[c], "y") == 0)
            col = c;
    if (col == t.n_cols && t.n_cols == 1)
        col = 0;
    if (col == t.n_cols)
        rc = sg_fail(SG_E_PARSE, "%s: no column 'label' or 'y' among %zu columns", path, t.n_cols);
    if (rc == SG_OK && !(l->text = calloc(t.n_rows ? t.n_rows : 1, sizeof *l->text)))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < t.n_rows; i++) {
        l->n = i + 1;
        if (!(l->text[i] = strdup(t.cells[i * t.n_cols + col])))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    csv_table_free(&t);
    return rc;
}

static int is_integer(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *s && !*end && !errno;
}

static int cmp_number(const void *a, const void *b)
{
    long long u, v;
    is_integer(*(const char *const *)a, &u);
    is_integer(*(const char *const *)b, &v);
    return (u > v) - (u < v);
}

static int cmp_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Classes: the distinct labels, sorted (numerically when all are
 * integers); label[i] indexes them. */
static int index_labels(sg_series_set *s, const labels *l)
{
    long long v;
    int numeric = 1;
    for (size_t i = 0; i < l->n; i++)
        numeric &= is_integer(l->text[i], &v);
    int (*cmp)(const void *, const void *) = numeric ? cmp_number : cmp_text;
    char **sorted = malloc((l->n ? l->n : 1) * sizeof *sorted);
    if (!sorted)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(sorted, l->text, l->n * sizeof *sorted);
    qsort(sorted, l->n, sizeof *sorted, cmp);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (k == 0 || cmp(&sorted[k - 1], &sorted[i]) != 0)
            sorted[k++] = sorted[i];
    int rc = SG_OK;
    s->class_names = calloc(k ? k : 1, sizeof *s->class_names);
    if (!s->class_names)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t c = 0; rc == SG_OK && c < k; c++) {
        s->n_classes = (int)c + 1;
        if (!(s->class_names[c] = strdup(sorted[c])))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; rc == SG_OK && i < l->n; i++) {
        char **at = bsearch(&l->text[i], s->class_names, k, sizeof *s->class_names, cmp);
        s->label[i] = (int)(at - s->class_names);
    }
    free(sorted);
    return rc;
}

/* ---- segments --------------------------------------------------------- */

/* X's values as doubles into s->data, refusing NaN and infinities. */
static int read_x(sg_series_set *s, const char *path)
{
    char *buf = NULL;
    sg_npy_info in;
    int rc = read_npy(path, &buf, &in);
    if (rc == SG_OK && in.kind != 'f')
        rc = sg_fail(SG_E_UNSUPPORTED,
                     "%s: dtype '<%c%zu': segments must be float32 or float64 (X.astype('float32'))",
                     path, in.kind, in.kind == 'U' ? in.item / 4 : in.item);
    if (rc == SG_OK && in.ndim != 3)
        rc = sg_fail(SG_E_SHAPE, "%s: %d dimensions; segments are (N, C, T): cases, channels, "
                                 "samples", path, in.ndim);
    if (rc == SG_OK && (in.shape[0] == 0 || in.shape[1] == 0 || in.shape[2] == 0 ||
                        in.shape[1] > 100000 || in.shape[2] > 10000000))
        rc = sg_fail(SG_E_SHAPE, "%s: shape (%zu, %zu, %zu) holds no usable segments", path,
                     in.shape[0], in.shape[1], in.shape[2]);
    if (rc == SG_OK && !(s->data = malloc(in.count * sizeof *s->data)))
        rc = sg_fail(SG_E_NOMEM, "out of memory for %zu values", in.count);
    for (size_t i = 0; rc == SG_OK && i < in.count; i++) {
        double d = float_at((const unsigned char *)buf + in.offset + i * in.item, in.item);
        if (!isfinite(d)) {
            size_t seg = in.shape[1] * in.shape[2];
            rc = sg_fail(SG_E_PARSE, "%s: case %zu, channel %zu, sample %zu is %g: fill or "
                                     "interpolate missing values first",
                         path, i / seg + 1, i % seg / in.shape[2], i % in.shape[2] + 1, d);
        }
        s->data[i] = d;
    }
    if (rc == SG_OK) {
        s->n = in.shape[0];
        s->n_channels = (int)in.shape[1];
        s->n_samples = (int)in.shape[2];
    }
    free(buf);
    return rc;
}

/* Channel names, names, sources and ids of the n cases of x. */
static int describe(sg_series_set *s, const char *x)
{
    s->channel_names = calloc((size_t)s->n_channels, sizeof *s->channel_names);
    s->name = calloc(s->n, sizeof *s->name);
    s->source = calloc(s->n, sizeof *s->source);
    s->subject = malloc(s->n * sizeof *s->subject);
    s->segment = malloc(s->n * sizeof *s->segment);
    s->label = malloc(s->n * sizeof *s->label);
    if (!s->channel_names || !s->name || !s->source || !s->subject || !s->segment || !s->label)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; c < s->n_channels; c++)
        if (asprintf(&s->channel_names[c], "dim_%d", c) < 0)
            return s->channel_names[c] = NULL, sg_fail(SG_E_NOMEM, "out of memory");
    const char *base = strrchr(x, '/');
    base = base ? base + 1 : x;
    int stem = (int)strlen(base) - 4;
    for (size_t i = 0; i < s->n; i++) {
        if (asprintf(&s->name[i], "%.*s_%05zu", stem, base, i + 1) < 0)
            return s->name[i] = NULL, sg_fail(SG_E_NOMEM, "out of memory");
        if (!(s->source[i] = strdup(x)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        s->subject[i] = -1;
        s->segment[i] = (int)(i + 1);
        s->label[i] = -1;
    }
    return SG_OK;
}

int npy_series_load(sg_series_set *out, const char *x, const char *y)
{
    memset(out, 0, sizeof *out);
    labels l = {0};
    int rc = read_x(out, x);
    if (rc == SG_OK)
        rc = describe(out, x);
    if (rc == SG_OK && y && y[0]) {
        size_t len = strlen(y);
        rc = len > 4 && strcasecmp(y + len - 4, ".csv") == 0 ? labels_from_csv(&l, y)
                                                             : labels_from_npy(&l, y);
        if (rc == SG_OK && l.n != out->n)
            rc = sg_fail(SG_E_SHAPE, "%s has %zu cases, %s %zu labels: one label per case", x,
                         out->n, y, l.n);
        if (rc == SG_OK)
            rc = index_labels(out, &l);
    }
    labels_free(&l);
    if (rc)
        sg_series_set_free(out);
    return rc;
}
