/* cli_aug_opts.c - parsing of the augmentation options (see cli_aug_opts.h).
 *
 * Values are parsed strictly, as in cli_common.c: `--aug-rotate 10x` is a
 * usage error, not 10 degrees.  Whether a shift fits the segments is
 * checked later, when their length is known (sample_source_set_augment).
 */
#include "src/cli/cli_aug_opts.h"
#include "src/cli/cli_number.h"

#include "src/base/sg_error.h"

#include <stdlib.h>

void aug_args_default(aug_args *a)
{
    series_aug_params_default(&a->p);
    a->given = NULL;
    a->tta = 1;
    a->mixup = a->cutmix = 0.0;
}

int cli_aug_option(aug_args *a, int opt, const char *name, const char *arg)
{
    int rc;
    switch (opt) {
    case CLI_AUG_OPT_ROTATE: rc = cli_parse_double(&a->p.rotate_deg, name, arg, 0, 180, 0); break;
    case CLI_AUG_OPT_SCALE: rc = cli_parse_double(&a->p.scale_sigma, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_SHIFT: rc = cli_parse_int(&a->p.shift_max, name, arg, 0, 1 << 20); break;
    case CLI_AUG_OPT_CROP: rc = cli_parse_double(&a->p.crop_min, name, arg, 0, 1, 1); break;
    case CLI_AUG_OPT_WARP: rc = cli_parse_double(&a->p.warp_sigma, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_JITTER: rc = cli_parse_double(&a->p.jitter_sigma, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_REMOUNT: rc = cli_parse_double(&a->p.remount_p, name, arg, 0, 1, 0); break;
    case CLI_AUG_OPT_TTA: return cli_parse_int(&a->tta, name, arg, 1, 1024) ? SG_E_INVALID : 1;
    case CLI_AUG_OPT_MIXUP:
    case CLI_AUG_OPT_CUTMIX: {
        double *v = opt == CLI_AUG_OPT_MIXUP ? &a->mixup : &a->cutmix;
        if (cli_parse_double(v, name, arg, 0, 100, 0))
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
