/* image_read.c - file slurping and PNG/JPEG dispatch by magic bytes. */
#include "image_read.h"
#include "file_read.h"
#include "png_io.h"
#include "sg_error.h"

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
        return sg_fail(SG_E_PARSE, "%s: empty file, not a PNG or JPEG image", path);
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

int sg_image_read(const char *path, sg_image *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t n;
    int rc = sg_file_read_all(path, &buf, &n);
    if (rc < 0)
        return rc;
    if (is_png(buf, n))
        rc = sg_png_decode(buf, n, path, out);
    else if (is_jpeg(buf, n))
        rc = sg_jpeg_decode(buf, n, path, out);
    else
        rc = sg_fail(SG_E_PARSE, "%s: not a PNG or JPEG image", path);
    free(buf);
    return rc;
}
