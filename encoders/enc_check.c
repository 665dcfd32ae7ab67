/* enc_check.c - input validation shared by enc_encode and enc_fit.
 *
 * Lives below both so that neither calls into the other for it: enc_fit
 * validates every training segment, enc_encode every segment it encodes.
 */
#include "encoders/enc_internal.h"
#include "src/base/sg_error.h"

#include <float.h>
#include <math.h>

int enc_check_finite(const double *x, int C, int T)
{
    /* branch-free scan first (vectorizes); locate only on failure */
    size_t n = (size_t)C * (size_t)T;
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= !(fabs(x[i]) <= DBL_MAX);
    if (!bad)
        return 0;
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++)
            if (!isfinite(x[(size_t)c * T + t]))
                return sg_fail(SG_E_NUMERIC, "non-finite value (%g) in channel %d at sample %d",
                               x[(size_t)c * T + t], c, t);
    return 0;
}
