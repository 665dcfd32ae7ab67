/* cli_members.h - `train --member OPTS`: the members' options, parsed.
 *
 * Each member is the command's argv followed by its own OPTS (split at
 * white space), parsed by cli_parse into a whole job_opts and checked as
 * train checks one run, so that a bad member fails before any training;
 * the engine (src/train/job_ensemble.h) then trains the structs.  OPTS may
 * set what defines a model (data selection of sensors/units/axes, encoder
 * and its options, network, schedule, augmentation, seed) but not what the
 * members must share: the registry's CLI_F_SHARED rows (the data, the
 * split, the output folder and the process group).
 *
 * Where the user leaves the representation of --dataset dsa open, the
 * members are the DSA recipe's (src/cli/cli_preset.c).
 */
#ifndef SG_CLI_MEMBERS_H
#define SG_CLI_MEMBERS_H

#include "src/train/job.h"

typedef struct cli_members {
    int n;
    char *buf[JOB_MEMBERS_MAX];   /* each member's OPTS tokens, NUL-separated */
    char **argv[JOB_MEMBERS_MAX]; /* the command's argv, then the tokens */
    job_opts opts[JOB_MEMBERS_MAX]; /* borrow from argv and buf */
} cli_members;

/* Parses and checks every member of base (argv of the command and usage
 * as cli_parse takes them).  ms must be zeroed; free it with
 * cli_members_free whatever this returns.  base and argv must outlive
 * it. */
int cli_members_parse(cli_members *ms, const job_opts *base, int argc, char **argv,
                      const char *usage);

/* Frees what ms holds (not ms). */
void cli_members_free(cli_members *ms);

#endif
