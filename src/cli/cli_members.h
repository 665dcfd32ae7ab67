/* cli_members.h - `train --member OPTS`: the members' options, parsed.
 *
 * Each member is the command's argv followed by its own OPTS (split at
 * white space), parsed by cli_parse into a whole job_opts and checked as
 * train checks one run, so that a bad member fails before any training;
 * the engine (src/train/job_ensemble.h) then trains the structs.  OPTS may
 * set what defines a model (data selection of sensors/units/axes, encoder
 * and its options, network, schedule, augmentation, seed) but not what the
 * members must share (the data, the split, the output folder and the
 * process group).
 *
 * Where the user leaves the representation of --dataset dsa open (no
 * --sensors, --encoder, --scope, --layout or --magnitude, no --single,
 * no --member), the members are CLI_DSA_MEMBERS: the recipe behind the
 * docs/accuracy.md LOSO table.
 */
#ifndef SG_CLI_MEMBERS_H
#define SG_CLI_MEMBERS_H

#include "src/train/job.h"

/* The default members for DSA series, as a user would type them: the
 * single default (acc+gyro, gray+gray:scope=axis), the same stack over
 * all 45 axes with x, y, z as colours (the magnetometers tell the
 * elevator and treadmill classes apart, which acc+gyro confuse; the rgb
 * layout trains 2.3x faster than 45 rows and scored as well), acc+gyro
 * gray (other errors again: it does not take some people's sitting for
 * lying) and acc+gyro spectrograms (the frequency content, blind to
 * where in the 5 s a stride falls: the best calibrated member alone).
 * docs/accuracy.md's LOSO table measures each and the mean. */
#define CLI_DSA_MEMBERS                                                                   \
    {"", "--sensors acc,gyro,mag --layout rgb", "--encoder gray", "--encoder spectrogram"}

typedef struct cli_members {
    int n;
    char *buf[JOB_MEMBERS_MAX];   /* each member's OPTS tokens, NUL-separated */
    char **argv[JOB_MEMBERS_MAX]; /* the command's argv, then the tokens */
    job_opts opts[JOB_MEMBERS_MAX]; /* borrow from argv and buf */
} cli_members;

/* Sets o's members to CLI_DSA_MEMBERS where the rule above applies;
 * refuses --single with --member. */
int cli_ensemble_defaults(job_opts *o);

/* Parses and checks every member of base (argv of the command, groups and
 * usage as cli_parse takes them).  ms must be zeroed; free it with
 * cli_members_free whatever this returns.  base and argv must outlive
 * it. */
int cli_members_parse(cli_members *ms, const job_opts *base, int argc, char **argv,
                      unsigned groups, const char *usage);

/* Frees what ms holds (not ms). */
void cli_members_free(cli_members *ms);

#endif
