/* cli_aug_opts.h - the series augmentation options of the training
 * commands and --tta of eval/predict.
 *
 *   --aug-rotate DEG   max rotation angle per body unit (default 10; 0 off)
 *   --aug-scale S      sigma of the per-sensor factor N(1, S) (default 0.1)
 *   --aug-shift N      max circular roll in samples (default 8)
 *   --aug-crop F       random crop of >= F of the segment, resized back (default 1: off)
 *   --aug-warp S       smooth time warp, knot speed sigma (default 0: off)
 *   --aug-jitter S     Gaussian noise, S x each channel's std (default 0: off)
 *   --tta N            eval/predict: mean probabilities over N time shifts
 *   --mixup ALPHA      train: mixup of training batches, Beta(ALPHA, ALPHA) (default 0: off)
 *   --cutmix ALPHA     train: cutmix instead (default 0: off)
 *
 * The defaults are series_augment.h's SERIES_AUG_*_DEFAULT.  They apply
 * to sensor series trained in memory (--dataset dsa); --no-augment turns
 * them all off; given explicitly for image folders they are a usage
 * error (the series is gone once it is a PNG).
 */
#ifndef SG_CLI_AUG_OPTS_H
#define SG_CLI_AUG_OPTS_H

#include "src/train/job.h"

/* getopt values of these options; kept clear of cli_enc_opts.h's range. */
enum {
    CLI_AUG_OPT_FIRST = 0x4100,
    CLI_AUG_OPT_ROTATE = CLI_AUG_OPT_FIRST,
    CLI_AUG_OPT_SCALE,
    CLI_AUG_OPT_SHIFT,
    CLI_AUG_OPT_CROP,
    CLI_AUG_OPT_WARP,
    CLI_AUG_OPT_JITTER,
    CLI_AUG_OPT_TTA,
    CLI_AUG_OPT_MIXUP,
    CLI_AUG_OPT_CUTMIX,
    CLI_AUG_OPT_REMOUNT,
    CLI_AUG_OPT_END,
};


/* Fills a with the defaults. */
void aug_args_default(aug_args *a);

/* Parses option `opt` (a CLI_AUG_OPT_* value, named `name` in messages)
 * with its argument: 1 when it was one of ours and is valid, 0 when opt
 * is not ours, SG_E_INVALID with a one-line message for a bad value. */
int cli_aug_option(aug_args *a, int opt, const char *name, const char *arg);

#endif
