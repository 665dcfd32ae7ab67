/* safetensors.c - validating reader and atomic writer for safetensors.
 *
 * The reader loads the whole file, parses the JSON header with jansson
 * and checks every entry before any caller can read a tensor (see
 * safetensors.h for the list).  Values are decoded byte by byte as
 * little-endian, so offsets need no alignment.  It deliberately supports
 * only the dtypes sensorgram needs.
 */
#include "models/safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/base/atomic_file.h"
#include "src/base/sg_error.h"

/* Headers bigger than this are not weight files (a ResNet50's is ~20 KB). */
#define ST_MAX_HEADER (64u << 20)

static const struct {
    const char *name;
    sg_st_dtype dtype;
    size_t size;
} st_dtypes[] = {
    {"F32", SG_ST_F32, 4},
    {"F16", SG_ST_F16, 2},
    {"BF16", SG_ST_BF16, 2},
    {"I64", SG_ST_I64, 8},
    {"F64", SG_ST_F64, 8},
};

const char *sg_st_dtype_name(sg_st_dtype d)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (st_dtypes[i].dtype == d)
            return st_dtypes[i].name;
    return "?";
}

static size_t dtype_size(sg_st_dtype d)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (st_dtypes[i].dtype == d)
            return st_dtypes[i].size;
    return 0;
}

static uint64_t load_le(const unsigned char *p, int nbytes)
{
    uint64_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void store_le(unsigned char *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0) {
        /* zero or subnormal: man x 2^-24 */
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    if (exp == 31)
        return f32_from_bits(sign | 0x7f800000u | (man << 13));
    return f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
}

void sg_st_close(sg_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].name);
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->raw);
    free(f->path);
    memset(f, 0, sizeof *f);
}

static int read_whole(const char *path, unsigned char **buf, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return sg_fail(SG_E_IO, "%s: not a regular file", path);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *b = malloc(n ? n : 1);
    if (!b) {
        fclose(fp);
        return sg_fail(SG_E_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    if (fread(b, 1, n, fp) != n) {
        free(b);
        fclose(fp);
        return sg_fail(SG_E_IO, "%s: read failed", path);
    }
    fclose(fp);
    *buf = b;
    *size = n;
    return 0;
}

static int parse_metadata(sg_st_file *f, json_t *meta)
{
    if (!json_is_object(meta))
        return sg_fail(SG_E_CORRUPT, "%s: __metadata__ is not an object", f->path);
    size_t n = json_object_size(meta);
    f->meta_keys = calloc(n ? n : 1, sizeof *f->meta_keys);
    f->meta_values = calloc(n ? n : 1, sizeof *f->meta_values);
    if (!f->meta_keys || !f->meta_values)
        return sg_fail(SG_E_NOMEM, "%s: out of memory", f->path);
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v) {
        if (!json_is_string(v))
            return sg_fail(SG_E_CORRUPT, "%s: __metadata__ value of '%s' is not a string", f->path, key);
        f->meta_keys[f->n_meta] = strdup(key);
        f->meta_values[f->n_meta] = strdup(json_string_value(v));
        f->n_meta++;
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_values[f->n_meta - 1])
            return sg_fail(SG_E_NOMEM, "%s: out of memory", f->path);
    }
    return 0;
}

/* Fills t from one JSON entry; checks dtype, shape and offsets. */
static int parse_entry(sg_st_file *f, sg_st_tensor *t, const char *name, json_t *e)
{
    if (!json_is_object(e))
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': entry is not an object", f->path, name);
    json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape"),
           *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd) || !json_is_array(js) || !json_is_array(jo))
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': needs string dtype, array shape and data_offsets",
                       f->path, name);
    const char *dn = json_string_value(jd);
    size_t k;
    for (k = 0; k < sizeof st_dtypes / sizeof st_dtypes[0]; k++)
        if (strcmp(dn, st_dtypes[k].name) == 0)
            break;
    if (k == sizeof st_dtypes / sizeof st_dtypes[0])
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': unsupported dtype '%s' (F32, F16, BF16, F64, I64)",
                       f->path, name, dn);
    t->dtype = st_dtypes[k].dtype;
    if (json_array_size(js) > SG_ST_MAX_DIMS)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': %zu dimensions (at most %d)", f->path, name,
                       json_array_size(js), SG_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        json_t *jv = json_array_get(js, (size_t)d);
        if (!json_is_integer(jv) || json_integer_value(jv) < 0)
            return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': shape[%d] is not a non-negative integer",
                           f->path, name, d);
        t->shape[d] = json_integer_value(jv);
        if (t->shape[d] != 0 && numel > (UINT64_MAX / 8) / (uint64_t)t->shape[d])
            return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': shape too large", f->path, name);
        numel *= (uint64_t)t->shape[d];
    }
    if (json_array_size(jo) != 2 || !json_is_integer(json_array_get(jo, 0)) ||
        !json_is_integer(json_array_get(jo, 1)) || json_integer_value(json_array_get(jo, 0)) < 0 ||
        json_integer_value(json_array_get(jo, 1)) < 0)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': data_offsets must be two non-negative integers",
                       f->path, name);
    t->begin = (uint64_t)json_integer_value(json_array_get(jo, 0));
    t->end = (uint64_t)json_integer_value(json_array_get(jo, 1));
    if (t->begin > t->end)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': data_offsets [%llu, %llu] begin after end", f->path,
                       name, (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > f->data_size)
        return sg_fail(SG_E_CORRUPT,
                       "%s: tensor '%s': data_offsets [%llu, %llu] outside the %zu-byte data buffer",
                       f->path, name, (unsigned long long)t->begin, (unsigned long long)t->end,
                       f->data_size);
    if (t->end - t->begin != numel * dtype_size(t->dtype))
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': %llu bytes for %llu %s values (need %llu)", f->path,
                       name, (unsigned long long)(t->end - t->begin), (unsigned long long)numel, dn,
                       (unsigned long long)(numel * dtype_size(t->dtype)));
    t->numel = (size_t)numel;
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const sg_st_tensor *x = *(const sg_st_tensor *const *)a, *y = *(const sg_st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The spec: the buffer is entirely indexed, without holes or overlaps. */
static int check_layout(sg_st_file *f)
{
    if (f->n_tensors == 0)
        return f->data_size == 0 ? 0
                                 : sg_fail(SG_E_CORRUPT, "%s: %zu data bytes but no tensors", f->path,
                                           f->data_size);
    const sg_st_tensor **order = malloc(f->n_tensors * sizeof *order);
    if (!order)
        return sg_fail(SG_E_NOMEM, "%s: out of memory", f->path);
    for (size_t i = 0; i < f->n_tensors; i++)
        order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, cmp_begin);
    int rc = 0;
    uint64_t pos = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < f->n_tensors && rc == 0; i++) {
        const sg_st_tensor *t = order[i];
        if (t->begin < pos)
            rc = sg_fail(SG_E_CORRUPT, "%s: tensors '%s' and '%s' overlap (bytes %llu..%llu)", f->path,
                         prev, t->name, (unsigned long long)t->begin, (unsigned long long)pos);
        else if (t->begin > pos)
            rc = sg_fail(SG_E_CORRUPT, "%s: tensor '%s': %llu unindexed bytes before it (hole at %llu)",
                         f->path, t->name, (unsigned long long)(t->begin - pos), (unsigned long long)pos);
        if (t->end > pos) {
            pos = t->end;
            prev = t->name;
        }
    }
    if (rc == 0 && pos != f->data_size)
        rc = sg_fail(SG_E_CORRUPT, "%s: %llu bytes after the last tensor are not indexed", f->path,
                     (unsigned long long)(f->data_size - pos));
    free(order);
    return rc;
}

static int parse_file(sg_st_file *f, size_t size)
{
    if (size < 8)
        return sg_fail(SG_E_CORRUPT, "%s: truncated: %zu bytes, not even the 8-byte header length", f->path,
                       size);
    uint64_t hlen = load_le(f->raw, 8);
    if (hlen > size - 8)
        return sg_fail(SG_E_CORRUPT, "%s: header length %llu exceeds the file size %zu (truncated?)",
                       f->path, (unsigned long long)hlen, size);
    if (hlen > ST_MAX_HEADER || hlen < 2)
        return sg_fail(SG_E_CORRUPT, "%s: implausible header length %llu", f->path,
                       (unsigned long long)hlen);
    f->data = f->raw + 8 + hlen;
    f->data_size = size - 8 - (size_t)hlen;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)f->raw + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return sg_fail(SG_E_CORRUPT, "%s: bad JSON header at line %d column %d: %s", f->path, jerr.line,
                       jerr.column, jerr.text);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = sg_fail(SG_E_CORRUPT, "%s: JSON header is not an object", f->path);
        goto done;
    }
    size_t n = json_object_size(root);
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    if (!f->tensors) {
        rc = sg_fail(SG_E_NOMEM, "%s: out of memory", f->path);
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if ((rc = parse_metadata(f, v)) != 0)
                goto done;
            continue;
        }
        sg_st_tensor *t = &f->tensors[f->n_tensors];
        if (!(t->name = strdup(key))) {
            rc = sg_fail(SG_E_NOMEM, "%s: out of memory", f->path);
            goto done;
        }
        f->n_tensors++;
        if ((rc = parse_entry(f, t, key, v)) != 0)
            goto done;
    }
    rc = check_layout(f);
done:
    json_decref(root);
    return rc;
}

int sg_st_open(sg_st_file *f, const char *path)
{
    if (!f || !path)
        return sg_fail(SG_E_INVALID, "sg_st_open: NULL argument");
    memset(f, 0, sizeof *f);
    size_t size = 0;
    int rc = read_whole(path, &f->raw, &size);
    if (rc != 0)
        return rc;
    if (!(f->path = strdup(path))) {
        sg_st_close(f);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    if ((rc = parse_file(f, size)) != 0)
        sg_st_close(f);
    return rc;
}

const sg_st_tensor *sg_st_find(const sg_st_file *f, const char *name)
{
    for (size_t i = 0; f && name && i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *sg_st_meta(const sg_st_file *f, const char *key)
{
    for (size_t i = 0; f && key && i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

int sg_st_read_f32(const sg_st_file *f, const sg_st_tensor *t, float *dst)
{
    if (!f || !t || (!dst && t->numel))
        return sg_fail(SG_E_INVALID, "sg_st_read_f32: NULL argument");
    const unsigned char *p = f->data + t->begin;
    for (size_t i = 0; i < t->numel; i++) {
        switch (t->dtype) {
        case SG_ST_F32: dst[i] = f32_from_bits((uint32_t)load_le(p + 4 * i, 4)); break;
        case SG_ST_F16: dst[i] = f16_to_f32((uint16_t)load_le(p + 2 * i, 2)); break;
        case SG_ST_BF16: dst[i] = f32_from_bits((uint32_t)load_le(p + 2 * i, 2) << 16); break;
        case SG_ST_I64: dst[i] = (float)(int64_t)load_le(p + 8 * i, 8); break;
        case SG_ST_F64: {
            uint64_t u = load_le(p + 8 * i, 8);
            double d;
            memcpy(&d, &u, sizeof d);
            dst[i] = (float)d;
            break;
        }
        }
    }
    return 0;
}

static size_t entry_numel(const sg_st_entry *e)
{
    size_t n = 1;
    for (int d = 0; d < e->ndim; d++)
        n *= (size_t)e->shape[d];
    return n;
}

/* Builds the JSON header, padded with spaces to a multiple of 8 so that
 * the data buffer starts aligned (as the reference writer does). */
static char *build_header(const sg_st_entry *entries, size_t n, const char *const *keys,
                          const char *const *values, size_t n_meta, size_t *len)
{
    json_t *root = json_object();
    char *text = NULL;
    if (!root)
        return NULL;
    if (n_meta > 0) {
        json_t *meta = json_object();
        if (!meta || json_object_set_new(root, "__metadata__", meta) != 0)
            goto fail;
        for (size_t i = 0; i < n_meta; i++)
            if (json_object_set_new(meta, keys[i], json_string(values[i])) != 0)
                goto fail;
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        const sg_st_entry *e = &entries[i];
        json_t *shape = json_array();
        for (int d = 0; shape && d < e->ndim; d++)
            json_array_append_new(shape, json_integer(e->shape[d]));
        uint64_t bytes = entry_numel(e) * (e->as_int ? 8u : 4u);
        json_t *ent = json_pack("{s:s, s:o, s:[I, I]}", "dtype", e->as_int ? "I64" : "F32", "shape",
                                shape, "data_offsets", (json_int_t)offset, (json_int_t)(offset + bytes));
        if (!ent || json_object_set_new(root, e->name, ent) != 0)
            goto fail;
        offset += bytes;
    }
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text) {
        size_t l = strlen(text), padded = (l + 7) / 8 * 8;
        char *p = realloc(text, padded + 1);
        if (!p) {
            free(text);
            text = NULL;
            goto fail;
        }
        text = p;
        memset(text + l, ' ', padded - l);
        text[padded] = '\0';
        *len = padded;
    }
fail:
    json_decref(root);
    return text;
}

int sg_st_write(const char *path, const sg_st_entry *entries, size_t n, const char *const *keys,
                const char *const *values, size_t n_meta)
{
    if (!path || (!entries && n) || ((!keys || !values) && n_meta))
        return sg_fail(SG_E_INVALID, "sg_st_write: NULL argument");
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].name || strcmp(entries[i].name, "__metadata__") == 0 || entries[i].ndim < 0 ||
            entries[i].ndim > SG_ST_MAX_DIMS || (!entries[i].data && entry_numel(&entries[i])))
            return sg_fail(SG_E_INVALID, "%s: bad tensor entry %zu", path, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(entries[i].name, entries[j].name) == 0)
                return sg_fail(SG_E_INVALID, "%s: duplicate tensor name '%s'", path, entries[i].name);
    }
    for (size_t i = 0; i < n_meta; i++)
        if (!keys[i] || !values[i])
            return sg_fail(SG_E_INVALID, "%s: NULL metadata key or value", path);
    size_t hlen = 0;
    char *header = build_header(entries, n, keys, values, n_meta, &hlen);
    if (!header)
        return sg_fail(SG_E_NOMEM, "%s: cannot build the JSON header", path);
    sg_atomic_file af = {0};
    int rc = sg_atomic_open(&af, path);
    if (rc != 0) {
        free(header);
        return rc;
    }
    unsigned char len8[8];
    store_le(len8, hlen, 8);
    fwrite(len8, 1, 8, af.fp);
    fwrite(header, 1, hlen, af.fp);
    free(header);
    unsigned char buf[4096];
    for (size_t i = 0; i < n; i++) {
        const sg_st_entry *e = &entries[i];
        size_t numel = entry_numel(e), w = e->as_int ? 8 : 4, used = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* float32 in memory is already little-endian F32: one write, not
         * one store per element (a checkpoint is 45-90 MB per epoch) */
        if (!e->as_int) {
            if (numel)
                fwrite(e->data, 4, numel, af.fp);
            continue;
        }
#endif
        for (size_t k = 0; k < numel; k++) {
            if (e->as_int) {
                store_le(buf + used, (uint64_t)(int64_t)llroundf(e->data[k]), 8);
            } else {
                uint32_t u;
                memcpy(&u, &e->data[k], 4);
                store_le(buf + used, u, 4);
            }
            used += w;
            if (used + 8 > sizeof buf || k + 1 == numel) {
                fwrite(buf, 1, used, af.fp);
                used = 0;
            }
        }
    }
    /* the commit sees any write error (ENOSPC included) on the stream */
    return sg_atomic_commit(&af);
}
