/* pth_read.c - torch.save's zip and legacy formats into an sg_st_file.
 *
 * Three steps, each finished before the next starts: run the pickle(s)
 * through the allowlisted VM (nothing is built from file data before the
 * whole pickle passed), gather the storages' bytes (zip entries or the
 * legacy records) checking each against its declared size, then pick the
 * state dict and check every tensor against its storage before copying
 * any value out.  It deliberately ignores everything else a checkpoint
 * holds (optimizer state, epoch, _metadata) and keeps no Python types.
 */
#include "models/pth_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "models/pickle_vm.h"
#include "src/base/file_read.h"
#include "src/base/sg_error.h"

/* Bytes of a storage: borrowed from the file (legacy) or owned (zip). */
typedef struct pth_blob {
    char *key;
    unsigned char *data;
    size_t size;
    int owned;
} pth_blob;

typedef struct pth_ctx {
    const char *name;
    const unsigned char *buf;
    size_t len;
    pk_vm *vm;
    pk_value *root;
    pth_blob *blobs;
    size_t n_blobs;
    const char *format;
} pth_ctx;

/* the legacy stream's first pickle: this number as LONG1 */
static const unsigned char legacy_magic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

int sg_pth_sniff(const unsigned char *buf, size_t len)
{
    if (len >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0)
        return 1;
    /* PROTO 2, LONG1 of 10 bytes */
    return len >= 4 && buf[0] == 0x80 && buf[1] == 0x02 && buf[2] == 0x8a && buf[3] == 0x0a;
}

static void ctx_free(pth_ctx *c)
{
    for (size_t i = 0; i < c->n_blobs; i++) {
        free(c->blobs[i].key);
        if (c->blobs[i].owned)
            free(c->blobs[i].data);
    }
    free(c->blobs);
    pk_vm_free(c->vm);
}

static const pth_blob *blob_find(const pth_ctx *c, const char *key)
{
    for (size_t i = 0; i < c->n_blobs; i++)
        if (strcmp(c->blobs[i].key, key) == 0)
            return &c->blobs[i];
    return NULL;
}

static int blob_add(pth_ctx *c, const char *key, unsigned char *data, size_t size, int owned)
{
    pth_blob *b = realloc(c->blobs, (c->n_blobs + 1) * sizeof *b);
    if (!b)
        return sg_fail(SG_E_NOMEM, "out of memory");
    c->blobs = b;
    b += c->n_blobs;
    if (!(b->key = strdup(key)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    b->data = data;
    b->size = size;
    b->owned = owned;
    c->n_blobs++;
    return 0;
}

/* The first storage value (of any load) named key, for its dtype. */
static const pk_value *storage_named(const pth_ctx *c, const char *key)
{
    pk_value *const *st;
    size_t n = pk_vm_storages(c->vm, &st);
    for (size_t i = 0; i < n; i++)
        if (strcmp(st[i]->s, key) == 0)
            return st[i];
    return NULL;
}

/* ---- zip (torch >= 1.6) -------------------------------------------------- */

static int zip_entry_read(pth_ctx *c, zip_t *za, zip_int64_t idx, const char *entry,
                          unsigned char **out, size_t *size)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return sg_fail(SG_E_CORRUPT, "%s: zip entry %s: %s", c->name, entry, zip_strerror(za));
    /* a size the archive cannot hold is refused before any allocation:
     * stored entries are at most the archive, deflate expands ~1032x */
    int stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    if ((stored && st.size > c->len) || st.size / 1100 > c->len || st.size > ((zip_uint64_t)1 << 40))
        return sg_fail(SG_E_CORRUPT, "%s: zip entry %s claims %llu bytes, more than the archive holds",
                       c->name, entry, (unsigned long long)st.size);
    unsigned char *buf = malloc(st.size ? (size_t)st.size : 1);
    if (!buf)
        return sg_fail(SG_E_NOMEM, "%s: cannot allocate %llu bytes", c->name, (unsigned long long)st.size);
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (!zf) {
        free(buf);
        return sg_fail(SG_E_CORRUPT, "%s: zip entry %s: %s", c->name, entry, zip_strerror(za));
    }
    zip_uint64_t got = 0;
    while (got < st.size) {
        zip_int64_t n = zip_fread(zf, buf + got, st.size - got);
        if (n <= 0)
            break;
        got += (zip_uint64_t)n;
    }
    int bad = got != st.size;
    char why[256];
    snprintf(why, sizeof why, "%s", bad ? zip_error_strerror(zip_file_get_error(zf)) : "");
    zip_fclose(zf);
    if (bad) {
        free(buf);
        return sg_fail(SG_E_CORRUPT, "%s: zip entry %s is truncated or corrupt (%llu of %llu bytes: %s)",
                       c->name, entry, (unsigned long long)got, (unsigned long long)st.size, why);
    }
    *out = buf;
    *size = (size_t)st.size;
    return 0;
}

static int read_zip(pth_ctx *c)
{
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(c->buf, c->len, 0, &err);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err) : NULL;
    if (!za) {
        int rc = sg_fail(SG_E_CORRUPT, "%s: not a readable zip archive (%s)", c->name, zip_error_strerror(&err));
        zip_error_fini(&err);
        zip_source_free(src);
        return rc;
    }
    zip_error_fini(&err);
    c->format = "pth-zip";
    int rc = 0;
    unsigned char *pkl = NULL;
    size_t pkl_size = 0;
    char prefix[256] = "", entry[512];
    zip_int64_t n = zip_get_num_entries(za, 0), pkl_idx = -1;
    for (zip_int64_t i = 0; i < n && pkl_idx < 0; i++) {
        const char *nm = zip_get_name(za, (zip_uint64_t)i, 0);
        const char *slash = nm ? strchr(nm, '/') : NULL;
        if (slash && slash != nm && strcmp(slash, "/data.pkl") == 0 && (size_t)(slash - nm) < sizeof prefix) {
            memcpy(prefix, nm, (size_t)(slash - nm));
            prefix[slash - nm] = 0;
            pkl_idx = i;
        }
    }
    if (pkl_idx < 0) {
        rc = sg_fail(SG_E_CORRUPT, "%s: zip archive without PREFIX/data.pkl (not a torch.save file)", c->name);
        goto done;
    }
    snprintf(entry, sizeof entry, "%s/byteorder", prefix);
    zip_int64_t bo = zip_name_locate(za, entry, 0);
    if (bo >= 0) {
        unsigned char *b = NULL;
        size_t bs = 0;
        if ((rc = zip_entry_read(c, za, bo, entry, &b, &bs)) != 0)
            goto done;
        int little = bs == 6 && memcmp(b, "little", 6) == 0;
        free(b);
        if (!little) {
            rc = sg_fail(SG_E_CORRUPT, "%s: byteorder is not 'little' (big-endian files are not supported)",
                         c->name);
            goto done;
        }
    }
    snprintf(entry, sizeof entry, "%s/data.pkl", prefix);
    if ((rc = zip_entry_read(c, za, pkl_idx, entry, &pkl, &pkl_size)) != 0)
        goto done;
    snprintf(entry, sizeof entry, "%s:%s/data.pkl", c->name, prefix);
    if ((rc = pk_vm_load(c->vm, pkl, pkl_size, entry, 0, &c->root, NULL)) != 0)
        goto done;
    /* the whole pickle passed: now the storages it names */
    pk_value *const *st;
    size_t ns = pk_vm_storages(c->vm, &st);
    for (size_t i = 0; i < ns && rc == 0; i++) {
        if (st[i]->view_key) {
            rc = sg_fail(SG_E_CORRUPT, "%s: storage '%s' has legacy view metadata inside a zip archive", c->name,
                         st[i]->s);
            break;
        }
        if (blob_find(c, st[i]->s))
            continue;
        snprintf(entry, sizeof entry, "%s/data/%s", prefix, st[i]->s);
        zip_int64_t idx = zip_name_locate(za, entry, 0);
        if (idx < 0) {
            rc = sg_fail(SG_E_CORRUPT, "%s: storage '%s' is missing (no entry %s)", c->name, st[i]->s, entry);
            break;
        }
        unsigned char *data = NULL;
        size_t size = 0;
        if ((rc = zip_entry_read(c, za, idx, entry, &data, &size)) != 0)
            break;
        if ((rc = blob_add(c, st[i]->s, data, size, 1)) != 0)
            free(data);
    }
done:
    free(pkl);
    zip_discard(za);
    return rc;
}

/* ---- legacy (torch < 1.6, or _use_new_zipfile_serialization=False) ------- */

static int read_legacy(pth_ctx *c)
{
    c->format = "pth-legacy";
    size_t pos = 0, used = 0;
    pk_value *v = NULL;
    int rc;
    if ((rc = pk_vm_load(c->vm, c->buf, c->len, c->name, 0, &v, &used)) != 0)
        return rc;
    if (v->kind != PK_BIGINT || v->len != sizeof legacy_magic || memcmp(v->s, legacy_magic, v->len) != 0)
        return sg_fail(SG_E_CORRUPT, "%s: legacy .pth without torch's magic number", c->name);
    pos += used;
    if ((rc = pk_vm_load(c->vm, c->buf + pos, c->len - pos, c->name, pos, &v, &used)) != 0)
        return rc;
    if (v->kind != PK_INT || v->i != 1001)
        return sg_fail(SG_E_CORRUPT, "%s: legacy protocol version %lld (expected 1001)", c->name,
                       v->kind == PK_INT ? (long long)v->i : -1LL);
    pos += used;
    if ((rc = pk_vm_load(c->vm, c->buf + pos, c->len - pos, c->name, pos, &v, &used)) != 0)
        return rc;
    const pk_value *le = pk_dict_get(v, "little_endian");
    if (v->kind != PK_DICT || (le && !(le->kind == PK_BOOL && le->i == 1)))
        return sg_fail(SG_E_CORRUPT, "%s: not a little-endian legacy file (big-endian is not supported)", c->name);
    pos += used;
    if ((rc = pk_vm_load(c->vm, c->buf + pos, c->len - pos, c->name, pos, &c->root, &used)) != 0)
        return rc;
    pos += used;
    pk_value *keys = NULL;
    if ((rc = pk_vm_load(c->vm, c->buf + pos, c->len - pos, c->name, pos, &keys, &used)) != 0)
        return rc;
    pos += used;
    if (keys->kind != PK_LIST)
        return sg_fail(SG_E_CORRUPT, "%s: legacy storage key list is not a list", c->name);
    for (size_t i = 0; i < keys->n; i++) {
        const pk_value *k = keys->items[i];
        if (k->kind != PK_STR)
            return sg_fail(SG_E_CORRUPT, "%s: legacy storage key %zu is not a string", c->name, i);
        const pk_value *s = storage_named(c, k->s);
        if (!s)
            return sg_fail(SG_E_CORRUPT, "%s: storage '%s' is listed but no tensor uses it", c->name, k->s);
        if (blob_find(c, k->s))
            return sg_fail(SG_E_CORRUPT, "%s: storage '%s' is listed twice", c->name, k->s);
        if (c->len - pos < 8)
            return sg_fail(SG_E_CORRUPT, "%s: truncated at storage '%s' (byte %zu)", c->name, k->s, pos);
        uint64_t numel = 0;
        for (int b = 7; b >= 0; b--)
            numel = (numel << 8) | c->buf[pos + (size_t)b];
        pos += 8;
        size_t es = pk_dtype_size(s->dtype);
        if (numel > (c->len - pos) / es)
            return sg_fail(SG_E_CORRUPT, "%s: storage '%s' claims %llu elements, more than the file holds "
                           "(byte %zu)", c->name, k->s, (unsigned long long)numel, pos - 8);
        if ((rc = blob_add(c, k->s, (unsigned char *)c->buf + pos, (size_t)numel * es, 0)) != 0)
            return rc;
        pos += (size_t)numel * es;
    }
    return 0;
}

/* ---- picking the state dict ------------------------------------------------ */

static const char *const nested_keys[] = {"state_dict", "model", "model_state_dict", "net"};

static int is_state_dict(const pk_value *d)
{
    if (!d || d->kind != PK_DICT || d->n == 0)
        return 0;
    for (size_t j = 0; j < d->n / 2; j++)
        if (d->items[2 * j]->kind != PK_STR || d->items[2 * j + 1]->kind != PK_TENSOR)
            return 0;
    return 1;
}

static int pick_state_dict(const pth_ctx *c, const char *key, const pk_value **out, const char **used)
{
    const pk_value *root = c->root;
    if (root->kind != PK_DICT)
        return sg_fail(SG_E_CORRUPT, "%s: the saved object is not a dict (a whole pickled model? save its "
                       "state_dict() instead)", c->name);
    if (key) {
        const pk_value *d = pk_dict_get(root, key);
        if (is_state_dict(d)) {
            *out = d;
            *used = key;
            return 0;
        }
    } else if (is_state_dict(root)) {
        *out = root;
        *used = "";
        return 0;
    } else {
        for (size_t k = 0; k < sizeof nested_keys / sizeof nested_keys[0]; k++) {
            const pk_value *d = pk_dict_get(root, nested_keys[k]);
            if (is_state_dict(d)) {
                *out = d;
                *used = nested_keys[k];
                return 0;
            }
        }
    }
    char list[512] = "";
    size_t used_len = 0;
    for (size_t j = 0; j < root->n / 2 && used_len + 4 < sizeof list; j++) {
        const pk_value *k = root->items[2 * j];
        int w = snprintf(list + used_len, sizeof list - used_len, "%s%s", j ? ", " : "",
                         k->kind == PK_STR ? k->s : "(non-string)");
        used_len += w > 0 ? (size_t)w : 0;
    }
    if (used_len >= sizeof list - 4)
        snprintf(list + sizeof list - 5, 5, "...");
    if (key)
        return sg_fail(SG_E_CORRUPT, "%s: key '%s' is not a dict of tensors; keys found: %s", c->name, key, list);
    return sg_fail(SG_E_CORRUPT, "%s: no state dict found (tried the top level, state_dict, model, "
                   "model_state_dict, net); keys found: %s; pick one with --key NAME", c->name, list);
}

/* ---- tensors out ------------------------------------------------------------- */

static int st_dtype_of(pk_dtype d, sg_st_dtype *out)
{
    switch (d) {
    case PK_F32: *out = SG_ST_F32; return 0;
    case PK_F16: *out = SG_ST_F16; return 0;
    case PK_BF16: *out = SG_ST_BF16; return 0;
    case PK_F64: *out = SG_ST_F64; return 0;
    case PK_I64: *out = SG_ST_I64; return 0;
    default: return -1;
    }
}

/* Checks tensor t (named name) against its storage; its element count in
 * *numel, the storage's bytes (from its first element) in *base. */
static int check_tensor(const pth_ctx *c, const char *name, const pk_value *t, size_t *numel,
                        const unsigned char **base)
{
    const pk_value *s = t->storage;
    sg_st_dtype sd;
    if (st_dtype_of(s->dtype, &sd) != 0)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s' has dtype %s (weights must be float32, float16, "
                       "bfloat16, float64 or int64)", c->name, name, pk_dtype_name(s->dtype));
    const pth_blob *b = blob_find(c, s->s);
    if (!b)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': storage '%s' is missing", c->name, name, s->s);
    size_t es = pk_dtype_size(s->dtype);
    uint64_t have = b->size / es, view = (uint64_t)s->view_offset;
    if (view > have || (uint64_t)s->i > have - view)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': storage '%s' declares %lld elements at %llu but the "
                       "archive holds %llu (storage larger than archive)", c->name, name, s->s,
                       (long long)s->i, (unsigned long long)view, (unsigned long long)have);
    /* numel and the last element's index, without overflow */
    uint64_t n = 1, last = (uint64_t)t->offset;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t sz = (uint64_t)t->size[d], st = (uint64_t)t->stride[d], span;
        if (__builtin_mul_overflow(n, sz, &n))
            return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': sizes overflow", c->name, name);
        if (sz && (__builtin_mul_overflow(sz - 1, st, &span) || __builtin_add_overflow(last, span, &last)))
            return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': strides overflow", c->name, name);
    }
    if (n && last >= (uint64_t)s->i)
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s': offset %lld with its sizes and strides reaches element "
                       "%llu of a %lld-element storage", c->name, name, (long long)t->offset,
                       (unsigned long long)last, (long long)s->i);
    if (n > ((uint64_t)1 << 40))
        return sg_fail(SG_E_CORRUPT, "%s: tensor '%s' is too large", c->name, name);
    *numel = (size_t)n;
    *base = b->data + view * es;
    return 0;
}

/* Copies t's elements in row-major order (its strides resolved). */
static void copy_strided(unsigned char *dst, const unsigned char *src, const pk_value *t, size_t es, size_t numel)
{
    int64_t idx[PK_MAX_DIMS] = {0};
    for (size_t k = 0; k < numel; k++) {
        int64_t off = t->offset;
        for (int d = 0; d < t->ndim; d++)
            off += idx[d] * t->stride[d];
        memcpy(dst + k * es, src + (size_t)off * es, es);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->size[d])
                break;
            idx[d] = 0;
        }
    }
}

static int build_file(const pth_ctx *c, const pk_value *sd, const char *sd_key, sg_st_file *f)
{
    size_t n = sd->n / 2, prefix = 7;
    for (size_t j = 0; j < n && prefix; j++)
        if (strncmp(sd->items[2 * j]->s, "module.", 7) != 0)
            prefix = 0;
    size_t *numel = calloc(n, sizeof *numel);
    const unsigned char **base = calloc(n, sizeof *base);
    f->tensors = calloc(n, sizeof *f->tensors);
    f->meta_keys = calloc(3, sizeof *f->meta_keys);
    f->meta_values = calloc(3, sizeof *f->meta_values);
    int rc = 0;
    if (!numel || !base || !f->tensors || !f->meta_keys || !f->meta_values || !(f->path = strdup(c->name))) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    uint64_t total = 0;
    for (size_t j = 0; j < n; j++) {
        const char *name = sd->items[2 * j]->s + prefix;
        const pk_value *t = sd->items[2 * j + 1];
        if (!*name) {
            rc = sg_fail(SG_E_CORRUPT, "%s: a tensor has an empty name", c->name);
            goto done;
        }
        for (size_t k = 0; k < j; k++)
            if (strcmp(f->tensors[k].name, name) == 0) {
                rc = sg_fail(SG_E_CORRUPT, "%s: tensor '%s' appears twice", c->name, name);
                goto done;
            }
        if ((rc = check_tensor(c, name, t, &numel[j], &base[j])) != 0)
            goto done;
        sg_st_tensor *out = &f->tensors[j];
        if (!(out->name = strdup(name))) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            goto done;
        }
        f->n_tensors = j + 1;
        st_dtype_of(t->storage->dtype, &out->dtype);
        out->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++)
            out->shape[d] = t->size[d];
        out->numel = numel[j];
        out->begin = total;
        total += (uint64_t)numel[j] * pk_dtype_size(t->storage->dtype);
        out->end = total;
        if (total > ((uint64_t)1 << 40)) {
            rc = sg_fail(SG_E_CORRUPT, "%s: tensors too large in total", c->name);
            goto done;
        }
    }
    if (!(f->raw = malloc(total ? (size_t)total : 1))) {
        rc = sg_fail(SG_E_NOMEM, "%s: cannot allocate %llu bytes", c->name, (unsigned long long)total);
        goto done;
    }
    f->data = f->raw;
    f->data_size = (size_t)total;
    for (size_t j = 0; j < n; j++) {
        const pk_value *t = sd->items[2 * j + 1];
        copy_strided(f->data + f->tensors[j].begin, base[j], t, pk_dtype_size(t->storage->dtype), numel[j]);
    }
    const char *keys[3] = {"format", "state_dict_key", "module_prefix_removed"};
    const char *vals[3] = {c->format, sd_key, prefix ? "yes" : "no"};
    for (int k = 0; k < 3; k++) {
        if (!(f->meta_keys[k] = strdup(keys[k])) || !(f->meta_values[k] = strdup(vals[k]))) {
            free(f->meta_keys[k]);
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            goto done;
        }
        f->n_meta = (size_t)k + 1;
    }
done:
    free(numel);
    free(base);
    return rc;
}

int sg_pth_open_mem(sg_st_file *f, const unsigned char *buf, size_t len, const char *name, const char *key)
{
    if (!f || !buf)
        return sg_fail(SG_E_INVALID, "sg_pth_open_mem: NULL argument");
    memset(f, 0, sizeof *f);
    pth_ctx c = {.name = name ? name : "(buffer)", .buf = buf, .len = len};
    if (!(c.vm = pk_vm_new()))
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc;
    if (len >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0)
        rc = read_zip(&c);
    else if (sg_pth_sniff(buf, len))
        rc = read_legacy(&c);
    else if (len > 262 && memcmp(buf + 257, "ustar", 5) == 0)
        rc = sg_fail(SG_E_CORRUPT, "%s: a tar-format .pth (torch < 0.4) is not supported", c.name);
    else
        rc = sg_fail(SG_E_CORRUPT, "%s: not a PyTorch .pth file (neither a zip archive nor a legacy pickle)",
                     c.name);
    const pk_value *sd = NULL;
    const char *sd_key = NULL;
    if (rc == 0)
        rc = pick_state_dict(&c, key, &sd, &sd_key);
    if (rc == 0)
        rc = build_file(&c, sd, sd_key, f);
    ctx_free(&c);
    if (rc != 0)
        sg_st_close(f);
    return rc;
}

int sg_pth_open(sg_st_file *f, const char *path, const char *key)
{
    if (!f || !path)
        return sg_fail(SG_E_INVALID, "sg_pth_open: NULL argument");
    memset(f, 0, sizeof *f);
    char *buf = NULL;
    size_t len = 0;
    int rc = sg_file_read(path, &buf, &len);
    if (rc != 0)
        return rc;
    rc = sg_pth_open_mem(f, (const unsigned char *)buf, len, path, key);
    free(buf);
    return rc;
}
