/* file_read.c - whole-file reading and printf-to-malloc (see file_read.h). */
#include "src/base/file_read.h"

#include "src/base/sg_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sg_file_read(const char *path, char **buf, size_t *size)
{
    *buf = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    int rc = b ? SG_OK : sg_fail(SG_E_NOMEM, "%s: out of memory", path);
    while (!rc) {
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                rc = sg_fail(SG_E_NOMEM, "%s: out of memory", path);
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!rc && ferror(f))
        rc = sg_fail(SG_E_IO, "%s: read failed", path);
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b;
    *size = n;
    return SG_OK;
}

char *sg_str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}
