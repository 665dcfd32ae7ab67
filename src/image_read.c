/* image_read.c - file slurping and PNG/JPEG dispatch by magic bytes. */
#include "image_read.h"
#include "png_io.h"
#include "sg_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_file_read_all(const char *path, unsigned char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return sg_fail(SG_E_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                fclose(fp);
                return sg_fail(SG_E_NOMEM, "%s: out of memory", path);
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(fp);
    fclose(fp);
    if (read_error) {
        free(buf);
        return sg_fail(SG_E_IO, "%s: read error", path);
    }
    if (len == 0) {
        free(buf);
        return sg_fail(SG_E_PARSE, "%s: empty file, not a PNG or JPEG image", path);
    }
    *out = buf;
    *n = len;
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
