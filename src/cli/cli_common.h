/* cli_common.h - option parsing and data loading shared by train, eval,
 * predict, lr-find and features.
 *
 * One table of long options serves every model command; each command
 * says which groups it accepts (CLI_G_*), so an option given to the
 * wrong command is a usage error rather than silently ignored.  Values
 * are checked while parsing; errors come back through sg_fail as one
 * line naming the option.
 *
 * Data inputs (positional DATA):
 *   --dataset dsa ROOT    DSA segments, encoded in memory (--encoder ...)
 *   ROOT/manifest.csv     an encoded folder (`sensorgram encode`)
 *   ROOT/train, ROOT/valid  a given split of class folders
 *   ROOT/<class>/...      class folders; --label-regex for labels in names
 */
#ifndef SG_CLI_COMMON_H
#define SG_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "src/cli/cli_aug_opts.h"
#include "src/cli/cli_enc_opts.h"
#include "src/train/job.h"

enum {
    CLI_G_DATA = 1 << 0,   /* --dataset, --label-regex, DSA selection, encoder */
    CLI_G_SPLIT = 1 << 1,  /* --valid-pct, --valid-subjects, --cv */
    CLI_G_MODEL = 1 << 2,  /* --arch, --pretrained, --image-size, --device, -j, --seed */
    CLI_G_TRAIN = 1 << 3,  /* --epochs, --lr, --bs, ... */
    CLI_G_OUTPUT = 1 << 4, /* -o, --kaggle, --clip, --top-losses */
    CLI_G_LRFIND = 1 << 5, /* --start-lr, --end-lr, --steps */
};


/* Fills o with the documented defaults. */
void cli_opts_default(job_opts *o);

/* The encoder stack `train` and `lr-find` use for DSA series when neither
 * --encoder nor --scope is given: the rows scaled over the dataset (the
 * gravity direction postures need) and the same rows min-max scaled per
 * segment and axis (small motions such as an elevator starting, lost
 * under the range running sets). */
#define CLI_SENSOR_ENCODER "gray+gray:scope=axis"

/* The defaults of `train` and `lr-find` for DSA sensor series, where the
 * user left them open: accelerometers and gyroscopes (30 axes), ResNet18,
 * 3 epochs and CLI_SENSOR_ENCODER.  The README's subject-wise ablation is the measurement behind
 * each; photos keep ResNet34 and 5 epochs.  Returns 0 or an
 * SG_E_* code with the message set. */
int cli_sensor_defaults(job_opts *o);

/* Parses argv (argv[0] is the command's name) accepting the option
 * groups in `groups`.  Returns 0, 1 when --help was asked (usage has
 * been printed to stdout), or SG_E_INVALID with a message.  o borrows
 * strings from argv. */
int cli_parse(job_opts *o, int argc, char **argv, unsigned groups, const char *usage);

/* A model command's exit status after a step that returned rc: 0 when rc
 * is 0, else `status` after printing "sensorgram CMD: <last error>" to
 * stderr. */
int cli_report(const char *cmd, int rc, int status);

/* Prints the option help of the given groups to f. */
void cli_print_options(FILE *f, unsigned groups);


#endif
