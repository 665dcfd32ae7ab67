/* cli_dist.h - the process group of `sensorgram train` from flags and
 * the environment torchrun or Slurm sets (see cli_dist.c). */
#ifndef SG_CLI_DIST_H
#define SG_CLI_DIST_H

#include "src/cli/cli_common.h"
#include "models/sg_dist.h"

/* Joins the process group the options and environment describe; *out
 * is NULL for one process (no WORLD_SIZE, or 1).  The caller owns *out. */
int cli_dist_join(sg_dist **out, const cli_opts *o);

#endif
