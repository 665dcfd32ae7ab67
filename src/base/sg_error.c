/* sg_error.c - the thread-local last-error message (see sg_error.h). */
#include "src/base/sg_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { SG_ERROR_MAX = 1024 };

/* One buffer per thread: the only mutable state of the error path. */
static _Thread_local char sg_error_buf[SG_ERROR_MAX];

int sg_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sg_error_buf, sizeof sg_error_buf, fmt, ap);
    va_end(ap);
    return code;
}

int sg_fail_context(int code, const char *fmt, ...)
{
    char prefix[SG_ERROR_MAX];
    char old[SG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, sg_error_buf, sizeof old);
    if (old[0] != '\0')
        snprintf(sg_error_buf, sizeof sg_error_buf, "%s: %s", prefix, old);
    else
        snprintf(sg_error_buf, sizeof sg_error_buf, "%s", prefix);
    return code;
}

const char *sg_last_error(void)
{
    return sg_error_buf;
}

void sg_error_clear(void)
{
    sg_error_buf[0] = '\0';
}

const char *sg_status_name(int code)
{
    switch (code) {
    case SG_OK: return "ok";
    case SG_E_IO: return "I/O error";
    case SG_E_PARSE: return "parse error";
    case SG_E_INVALID: return "invalid argument";
    case SG_E_NOMEM: return "out of memory";
    case SG_E_UNSUPPORTED: return "unsupported";
    case SG_E_TORCH: return "libtorch error";
    case SG_E_SHAPE: return "shape mismatch";
    case SG_E_NUMERIC: return "numeric error";
    case SG_E_CORRUPT: return "corrupt file";
    case SG_E_INTERRUPTED: return "interrupted";
    default: return "error";
    }
}
