/* image_read.c - file slurping and PNG/JPEG dispatch by magic bytes. */
#include "src/image/image_read.h"
#include "src/base/file_read.h"
#include "src/base/npy.h"
#include "src/image/png_io.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_file_read_all(const char *path, unsigned char **out, size_t *n)
{
    char *buf;
    int rc = sg_file_read(path, &buf, n);
    *out = (unsigned char *)buf;
    if (rc)
        return rc;
    if (*n == 0) {
        free(buf);
        *out = NULL;
        return sg_fail(SG_E_PARSE, "%s: empty file, not a PNG, JPEG or .npy image", path);
    }
    return SG_OK;
}

static int is_png(const unsigned char *b, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return n >= 8 && memcmp(b, sig, 8) == 0;
}

static int is_jpeg(const unsigned char *b, size_t n)
{
    return n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}

static int is_npy(const unsigned char *b, size_t n)
{
    return n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0;
}

int sg_npy_image_decode(const unsigned char *buf, size_t n, const char *name, sg_image *out)
{
    memset(out, 0, sizeof *out);
    float *data;
    int ndim;
    size_t shape[8];
    int rc = sg_npy_decode(buf, n, name, &data, &ndim, shape);
    if (rc)
        return rc;
    /* (C, H, W) as `encode --format npy` writes, or one (H, W) plane */
    if (ndim == 2) {
        shape[2] = shape[1];
        shape[1] = shape[0];
        shape[0] = 1;
    }
    if ((ndim != 2 && ndim != 3) || shape[0] == 0 || shape[1] == 0 || shape[2] == 0 ||
        shape[0] > 4096 || shape[1] > 1 << 20 || shape[2] > 1 << 20) {
        free(data);
        return sg_fail(SG_E_SHAPE, "%s: a .npy image must be (C, H, W) or (H, W), non-empty; "
                       "this one has %d dims", name, ndim);
    }
    out->c = (int)shape[0];
    out->h = (int)shape[1];
    out->w = (int)shape[2];
    out->data = data;
    return SG_OK;
}

typedef int (*image_decoder)(const unsigned char *buf, size_t n, const char *name,
                             sg_image *out);

/* Any supported format, told apart by its magic bytes, not its name. */
static int decode_any(const unsigned char *buf, size_t n, const char *name, sg_image *out)
{
    if (is_png(buf, n))
        return sg_png_decode(buf, n, name, out);
    if (is_jpeg(buf, n))
        return sg_jpeg_decode(buf, n, name, out);
    if (is_npy(buf, n))
        return sg_npy_image_decode(buf, n, name, out);
    return sg_fail(SG_E_PARSE, "%s: not a PNG, JPEG or .npy image", name);
}

/* The one read path of every image reader: slurp the file, decode, free. */
static int read_and_decode(const char *path, sg_image *out, image_decoder decode)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t n;
    int rc = sg_file_read_all(path, &buf, &n);
    if (rc < 0)
        return rc;
    rc = decode(buf, n, path, out);
    free(buf);
    return rc;
}

int sg_image_read(const char *path, sg_image *out)
{
    return read_and_decode(path, out, decode_any);
}

int sg_png_read(const char *path, sg_image *out)
{
    return read_and_decode(path, out, sg_png_decode);
}

int sg_jpeg_read(const char *path, sg_image *out)
{
    return read_and_decode(path, out, sg_jpeg_decode);
}
