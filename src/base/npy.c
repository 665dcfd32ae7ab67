/* npy.c - NumPy .npy writing and reading (see npy.h).
 *
 * Writes format 1.0 with the header padded so the data starts on a
 * 64-byte boundary (what numpy itself does).  Reads format 1.0 and 2.0,
 * '<f4' and '<f8' (converted to float), C order only.  The host is
 * assumed little-endian (checked at run time; the project targets x86-64
 * and aarch64 Linux).
 */
#include "src/base/npy.h"
#include "src/base/atomic_file.h"
#include "src/base/file_read.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NPY_MAX_DIMS = 8, NPY_ALIGN = 64 };

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

int sg_npy_write(const char *path, const float *data, int ndim, const size_t *shape)
{
    return sg_npy_write_ex(path, data, ndim, shape, 1);
}

int sg_npy_header(unsigned char *head, size_t total, int ndim, const size_t *shape)
{
    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return sg_fail(SG_E_SHAPE, "npy ndim %d out of range 0..%d", ndim, NPY_MAX_DIMS);
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%zu%s", shape[i],
                        (ndim == 1 || i + 1 < ndim) ? ", " : "");
    if (ndim == 1)
        len -= 1;   /* "(5, )" -> "(5,)" */
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    /* magic(6) + version(2) + header length(2) + dict + padding + '\n' */
    size_t need = 10 + (size_t)len + 1;
    if (total == 0)
        total = need + (NPY_ALIGN - need % NPY_ALIGN) % NPY_ALIGN;
    if (total < need || total % NPY_ALIGN != 0 || total - 10 > 0xffff)
        return sg_fail(SG_E_SHAPE, "npy header of %zu bytes does not fit in %zu", need, total);
    size_t hlen = total - 10, pad = total - need;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)len);
    memset(head + 10 + len, ' ', pad);
    head[total - 1] = '\n';
    return (int)total;
}

int sg_npy_write_ex(const char *path, const float *data, int ndim, const size_t *shape,
                    int fsync_file)
{
    if (!host_is_little_endian())
        return sg_fail(SG_E_UNSUPPORTED, "%s: npy writing needs a little-endian host", path);
    unsigned char head[640];
    int total = sg_npy_header(head, 0, ndim, shape);
    if (total < 0)
        return sg_fail_context(total, "%s", path);
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= shape[i];

    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    af.no_fsync = !fsync_file;
    if (fwrite(head, 1, (size_t)total, af.fp) != (size_t)total ||
        (count && fwrite(data, sizeof(float), count, af.fp) != count)) {
        int e = errno;
        sg_atomic_abort(&af);
        return sg_fail(SG_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    return sg_atomic_commit(&af);
}

/* Finds 'key': in the header dict and returns a pointer past the colon. */
static const char *dict_value(const char *dict, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(dict, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

/* descr "'<f8'" (or '|u1') into kind and item size; 0 or -1. */
static int parse_descr(const char *descr, char *kind, size_t *item)
{
    if (descr[0] != '\'' || (descr[1] != '<' && descr[1] != '|'))
        return -1;
    char k = descr[2];
    char *end;
    errno = 0;
    unsigned long size = strtoul(descr + 3, &end, 10);
    if (errno || end == descr + 3 || *end != '\'' || size == 0 || size > 4096)
        return -1;
    if (k == 'U')
        size *= 4;
    else if (!((k == 'f' && (size == 4 || size == 8)) ||
               ((k == 'i' || k == 'u') && (size == 1 || size == 2 || size == 4 || size == 8))))
        return -1;
    if (descr[1] == '|' && size != 1)
        return -1;
    *kind = k;
    *item = size;
    return 0;
}

int sg_npy_parse_header(sg_npy_info *info, const unsigned char *buf, size_t n,
                        const char *name)
{
    int rc = sg_npy_parse_header_any(info, buf, n, name);
    if (rc == SG_OK && info->kind != 'f')
        return sg_fail(SG_E_UNSUPPORTED, "%s: .npy dtype '<%c%zu' is not '<f4' or '<f8'", name,
                       info->kind, info->kind == 'U' ? info->item / 4 : info->item);
    return rc;
}

int sg_npy_parse_header_any(sg_npy_info *info, const unsigned char *buf, size_t n,
                            const char *name)
{
    memset(info, 0, sizeof *info);
    if (!host_is_little_endian())
        return sg_fail(SG_E_UNSUPPORTED, "%s: npy reading needs a little-endian host", name);
    if (n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return sg_fail(SG_E_PARSE, "%s: not a .npy file (bad magic)", name);
    size_t hlen, start;
    if (buf[6] == 1) {
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8);
        start = 10;
    } else if (buf[6] == 2 || buf[6] == 3) {
        if (n < 12)
            return sg_fail(SG_E_PARSE, "%s: truncated .npy header", name);
        hlen = (size_t)buf[8] | ((size_t)buf[9] << 8) | ((size_t)buf[10] << 16) |
               ((size_t)buf[11] << 24);
        start = 12;
    } else {
        return sg_fail(SG_E_PARSE, "%s: unsupported .npy version %d", name, buf[6]);
    }
    if (hlen > 1 << 20)
        return sg_fail(SG_E_PARSE, "%s: .npy header too long", name);
    if (n < start + hlen)
        return sg_fail(SG_E_PARSE, "%s: truncated .npy header", name);
    char *dict = malloc(hlen + 1);
    if (!dict)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(dict, buf + start, hlen);
    dict[hlen] = '\0';
    int rc = SG_OK;
    const char *descr = dict_value(dict, "descr");
    const char *fo = dict_value(dict, "fortran_order");
    const char *sh = dict_value(dict, "shape");
    if (!descr || !fo || !sh) {
        rc = sg_fail(SG_E_PARSE, "%s: .npy header lacks descr/fortran_order/shape", name);
        goto done;
    }
    if (parse_descr(descr, &info->kind, &info->item) != 0) {
        rc = sg_fail(SG_E_UNSUPPORTED, "%s: .npy dtype %.8s is not a little-endian number or "
                                       "text", name, descr);
        goto done;
    }
    if (strncmp(fo, "False", 5) != 0) {
        rc = sg_fail(SG_E_UNSUPPORTED, "%s: Fortran-order .npy is not supported", name);
        goto done;
    }
    if (*sh != '(') {
        rc = sg_fail(SG_E_PARSE, "%s: bad .npy shape", name);
        goto done;
    }
    sh++;
    size_t count = 1;
    for (;;) {
        while (*sh == ' ' || *sh == ',')
            sh++;
        if (*sh == ')')
            break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(sh, &end, 10);
        if (end == sh || errno || info->ndim == NPY_MAX_DIMS) {
            rc = sg_fail(SG_E_PARSE, "%s: bad .npy shape", name);
            goto done;
        }
        if (v && count > SIZE_MAX / 8 / v) {
            rc = sg_fail(SG_E_PARSE, "%s: .npy shape too large", name);
            goto done;
        }
        info->shape[info->ndim++] = (size_t)v;
        count *= (size_t)v;
        sh = end;
    }
    if (count > SIZE_MAX / info->item) {
        rc = sg_fail(SG_E_PARSE, "%s: .npy shape too large", name);
        goto done;
    }
    info->count = count;
    info->offset = start + hlen;
done:
    free(dict);
    return rc;
}

int sg_npy_decode(const unsigned char *buf, size_t n, const char *name, float **data, int *ndim,
                  size_t shape[8])
{
    *data = NULL;
    *ndim = 0;
    sg_npy_info info;
    int rc = sg_npy_parse_header(&info, buf, n, name);
    if (rc)
        return rc;
    if ((n - info.offset) / info.item < info.count)
        return sg_fail(SG_E_PARSE, "%s: truncated .npy data (expected %zu values)", name,
                       info.count);
    float *out = malloc(info.count ? info.count * sizeof(float) : 1);
    if (!out)
        return sg_fail(SG_E_NOMEM, "out of memory (%zu values)", info.count);
    const unsigned char *raw = buf + info.offset;
    if (info.item == 4) {
        memcpy(out, raw, info.count * 4);
    } else {
        for (size_t i = 0; i < info.count; i++) {
            double d;
            memcpy(&d, raw + i * 8, 8);
            out[i] = (float)d;
        }
    }
    for (int i = 0; i < info.ndim; i++)
        shape[i] = info.shape[i];
    *ndim = info.ndim;
    *data = out;
    return SG_OK;
}

int sg_npy_read(const char *path, float **data, int *ndim, size_t shape[8])
{
    *data = NULL;
    *ndim = 0;
    char *buf = NULL;
    size_t n = 0;
    int rc = sg_file_read(path, &buf, &n);
    if (rc)
        return rc;
    rc = sg_npy_decode((const unsigned char *)buf, n, path, data, ndim, shape);
    free(buf);
    return rc;
}

int sg_npy_read_header(const char *path, sg_npy_info *info)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: %s", path, strerror(errno));
    unsigned char head[12];
    size_t got = fread(head, 1, sizeof head, f);
    size_t hlen = got < 12 ? 0
                  : head[6] == 1 ? (size_t)head[8] | (size_t)head[9] << 8
                                 : (size_t)head[8] | (size_t)head[9] << 8 |
                                       (size_t)head[10] << 16 | (size_t)head[11] << 24;
    size_t want = 12 + (hlen < (1u << 20) ? hlen : 0);
    unsigned char *buf = malloc(want);
    int rc = buf ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    if (rc == SG_OK) {
        memcpy(buf, head, got);
        got += fread(buf + got, 1, want - got, f);
        rc = sg_npy_parse_header_any(info, buf, got, path);
    }
    free(buf);
    fclose(f);
    return rc;
}
