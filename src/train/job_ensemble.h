/* cli_ensemble.h - `train --member OPTS ...`: an ensemble trained in one
 * command.
 *
 * Each member is a whole run (figures/run_files.h) of the command's
 * options plus its own OPTS, trained one after another into
 * RUN_DIR/member_N/ (N from 0, in --member order).  RUN_DIR itself gets
 * the ensemble's results: the mean of the members' softmax probabilities
 * on the validation samples (out of fold in cross-validation: every
 * member holds out the same subjects), written as predictions.csv,
 * confusion_matrix.csv, top_losses.csv (images as member 0 sees them),
 * cv_folds.csv, config.json and figures.  eval/predict RUN_DIR use the
 * members' final models (ckpt_ensemble.h), so they reproduce these
 * numbers.
 *
 * Why one command: on the README's subject-wise measurements, members
 * that read the data differently (which sensors, how rows are scaled)
 * make different errors, and their mean beats every single model; a
 * default must be the best measured recipe, so for --dataset dsa with
 * the representation left open (no --sensors, --encoder, --scope,
 * --layout or --magnitude, no --single) the members are
 * CLI_DSA_MEMBERS.
 *
 * OPTS is split at white space; it may set what defines a model (data
 * selection of sensors/units/axes, encoder and its options, network,
 * schedule, augmentation, seed) but not what the members must share (the
 * data, the split, the output folder and the process group).
 */
#ifndef SG_CLI_ENSEMBLE_H
#define SG_CLI_ENSEMBLE_H

#include "src/cli/cli_common.h"
#include "src/cli/cli_dist.h"

/* The default members for DSA series, as a user would type them: the
 * single default (acc+gyro, gray+gray:scope=axis), the same stack over
 * all 45 axes with x, y, z as colours (the magnetometers tell the
 * elevator and treadmill classes apart, which acc+gyro confuse; the rgb
 * layout trains 2.3x faster than 45 rows and scored as well), acc+gyro
 * gray (other errors again: it does not take some people's sitting for
 * lying) and acc+gyro spectrograms (the frequency content, blind to
 * where in the 5 s a stride falls: the best calibrated member alone).
 * The README's LOSO table measures each and the mean. */
#define CLI_DSA_MEMBERS                                                                   \
    {"", "--sensors acc,gyro,mag --layout rgb", "--encoder gray", "--encoder spectrogram"}

typedef struct cli_ensemble cli_ensemble;

/* Sets o's members to CLI_DSA_MEMBERS where the rule above applies;
 * refuses --single with --member. */
int cli_ensemble_defaults(cli_opts *o);

/* Parses every member's options (argv of the command followed by the
 * member's OPTS, through cli_parse with groups and usage) and checks
 * them as train does, so that a bad member fails before any training.
 * The caller owns *out (cli_ensemble_free); base must outlive it. */
int cli_ensemble_create(cli_ensemble **out, const cli_opts *base, int argc, char **argv,
                        unsigned groups, const char *usage);

/* Trains the members and writes the ensemble's results (rank 0). */
int cli_ensemble_train(cli_ensemble *e, sg_dist *dist);

/* Frees e; accepts NULL. */
void cli_ensemble_free(cli_ensemble *e);

#endif
