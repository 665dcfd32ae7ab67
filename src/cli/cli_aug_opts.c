/* cli_aug_opts.c - parsing of the augmentation options (see cli_aug_opts.h).
 *
 * Values are parsed strictly, as in cli_common.c: `--aug-rotate 10x` is a
 * usage error, not 10 degrees.  Whether a shift fits the segments is
 * checked later, when their length is known (sample_source_set_augment).
 */
#include "src/cli/cli_aug_opts.h"

#include "src/base/sg_error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

void cli_aug_args_default(cli_aug_args *a)
{
    series_aug_params_default(&a->p);
    a->given = NULL;
    a->tta = 1;
    a->mixup = a->cutmix = 0.0;
}

static int number(double *out, const char *name, const char *s, double lo, double hi, int lo_open)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi ||
        (lo_open && v == lo))
        return sg_fail(SG_E_INVALID, "--%s: '%s' is not a number in %s%g, %g]", name, s,
                       lo_open ? "(" : "[", lo, hi);
    *out = v;
    return SG_OK;
}

static int integer(int *out, const char *name, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return sg_fail(SG_E_INVALID, "--%s: '%s' is not an integer in [%ld, %ld]", name, s, lo,
                       hi);
    *out = (int)v;
    return SG_OK;
}

int cli_aug_option(cli_aug_args *a, int opt, const char *name, const char *arg)
{
    int rc;
    switch (opt) {
    case CLI_AUG_OPT_ROTATE: rc = number(&a->p.rotate_deg, name, arg, 0, 180, 0); break;
    case CLI_AUG_OPT_SCALE: rc = number(&a->p.scale_sigma, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_SHIFT: rc = integer(&a->p.shift_max, name, arg, 0, 1 << 20); break;
    case CLI_AUG_OPT_CROP: rc = number(&a->p.crop_min, name, arg, 0, 1, 1); break;
    case CLI_AUG_OPT_WARP: rc = number(&a->p.warp_sigma, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_JITTER: rc = number(&a->p.jitter_sigma, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_TTA: return integer(&a->tta, name, arg, 1, 1024) ? SG_E_INVALID : 1;
    case CLI_AUG_OPT_MIXUP:
    case CLI_AUG_OPT_CUTMIX: {
        double *v = opt == CLI_AUG_OPT_MIXUP ? &a->mixup : &a->cutmix;
        if (number(v, name, arg, 0, 100, 0))
            return SG_E_INVALID;
        if (a->mixup > 0 && a->cutmix > 0)
            return sg_fail(SG_E_INVALID, "--mixup and --cutmix do not combine: choose one");
        return 1;
    }
    default: return 0;
    }
    if (rc)
        return rc;
    if (!a->given)
        a->given = name;
    return 1;
}
