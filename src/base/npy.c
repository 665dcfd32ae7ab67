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

int sg_npy_write_ex(const char *path, const float *data, int ndim, const size_t *shape,
                    int fsync_file)
{
    if (!host_is_little_endian())
        return sg_fail(SG_E_UNSUPPORTED, "%s: npy writing needs a little-endian host", path);
    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return sg_fail(SG_E_SHAPE, "%s: npy ndim %d out of range 0..%d", path, ndim,
                       NPY_MAX_DIMS);
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%zu%s", shape[i],
                        (ndim == 1 || i + 1 < ndim) ? ", " : "");
        count *= shape[i];
    }
    if (ndim == 1)
        len -= 1;   /* "(5, )" -> "(5,)" */
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    /* magic(6) + version(2) + header length(2) + dict + padding + '\n' */
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (NPY_ALIGN - total % NPY_ALIGN) % NPY_ALIGN;
    size_t hlen = (size_t)len + pad + 1;
    unsigned char head[10 + 600];
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)len);
    memset(head + 10 + len, ' ', pad);
    head[10 + (size_t)len + pad] = '\n';

    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    af.no_fsync = !fsync_file;
    if (fwrite(head, 1, 10 + hlen, af.fp) != 10 + hlen ||
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

int sg_npy_read(const char *path, float **data, int *ndim, size_t shape[8])
{
    *data = NULL;
    *ndim = 0;
    if (!host_is_little_endian())
        return sg_fail(SG_E_UNSUPPORTED, "%s: npy reading needs a little-endian host", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char pre[12];
    char *dict = NULL;
    void *raw = NULL;
    float *out = NULL;
    int rc = SG_OK;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        rc = sg_fail(SG_E_PARSE, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            rc = sg_fail(SG_E_PARSE, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)pre[10] << 16) |
               ((size_t)pre[11] << 24);
    } else {
        rc = sg_fail(SG_E_PARSE, "%s: unsupported .npy version %d", path, pre[6]);
        goto done;
    }
    if (hlen > 1 << 20) {
        rc = sg_fail(SG_E_PARSE, "%s: .npy header too long", path);
        goto done;
    }
    dict = malloc(hlen + 1);
    if (!dict) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    if (fread(dict, 1, hlen, f) != hlen) {
        rc = sg_fail(SG_E_PARSE, "%s: truncated .npy header", path);
        goto done;
    }
    dict[hlen] = '\0';
    const char *descr = dict_value(dict, "descr");
    const char *fo = dict_value(dict, "fortran_order");
    const char *sh = dict_value(dict, "shape");
    if (!descr || !fo || !sh) {
        rc = sg_fail(SG_E_PARSE, "%s: .npy header lacks descr/fortran_order/shape", path);
        goto done;
    }
    size_t item;
    if (strncmp(descr, "'<f4'", 5) == 0) {
        item = 4;
    } else if (strncmp(descr, "'<f8'", 5) == 0) {
        item = 8;
    } else {
        rc = sg_fail(SG_E_UNSUPPORTED, "%s: .npy dtype %.8s is not '<f4' or '<f8'", path, descr);
        goto done;
    }
    if (strncmp(fo, "False", 5) != 0) {
        rc = sg_fail(SG_E_UNSUPPORTED, "%s: Fortran-order .npy is not supported", path);
        goto done;
    }
    if (*sh != '(') {
        rc = sg_fail(SG_E_PARSE, "%s: bad .npy shape", path);
        goto done;
    }
    sh++;
    size_t count = 1;
    int nd = 0;
    for (;;) {
        while (*sh == ' ' || *sh == ',')
            sh++;
        if (*sh == ')')
            break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(sh, &end, 10);
        if (end == sh || errno || nd == NPY_MAX_DIMS) {
            rc = sg_fail(SG_E_PARSE, "%s: bad .npy shape", path);
            goto done;
        }
        if (v && count > SIZE_MAX / 8 / v) {
            rc = sg_fail(SG_E_PARSE, "%s: .npy shape too large", path);
            goto done;
        }
        shape[nd++] = (size_t)v;
        count *= (size_t)v;
        sh = end;
    }
    raw = malloc(count ? count * item : 1);
    out = malloc(count ? count * sizeof(float) : 1);
    if (!raw || !out) {
        rc = sg_fail(SG_E_NOMEM, "out of memory (%zu values)", count);
        goto done;
    }
    if (fread(raw, item, count, f) != count) {
        rc = sg_fail(SG_E_PARSE, "%s: truncated .npy data (expected %zu values)", path, count);
        goto done;
    }
    if (item == 4) {
        memcpy(out, raw, count * 4);
    } else {
        for (size_t i = 0; i < count; i++) {
            double d;
            memcpy(&d, (const char *)raw + i * 8, 8);
            out[i] = (float)d;
        }
    }
    *data = out;
    out = NULL;
    *ndim = nd;
done:
    free(out);
    free(raw);
    free(dict);
    fclose(f);
    return rc;
}
