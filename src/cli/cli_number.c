/* cli_number.c - option values as numbers (cli_number.h). */
#include "src/cli/cli_number.h"

#include "src/base/sg_error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int cli_parse_double(double *out, const char *name, const char *s, double lo, double hi,
                     int lo_open)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi ||
        (lo_open && v == lo))
        return !name ? SG_E_INVALID
                     : sg_fail(SG_E_INVALID, "--%s: '%s' is not a number in %s%g, %g]", name, s,
                               lo_open ? "(" : "[", lo, hi);
    *out = v;
    return SG_OK;
}

int cli_parse_int(int *out, const char *name, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return !name ? SG_E_INVALID
                     : sg_fail(SG_E_INVALID, "--%s: '%s' is not an integer in [%ld, %ld]", name,
                               s, lo, hi);
    *out = (int)v;
    return SG_OK;
}
