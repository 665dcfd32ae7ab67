/* cli_common.h - parsing shared by the model commands (train, eval,
 * predict, lr-find, features): argv into a job_opts through the option
 * registry (cli_registry.h), and their error reports.
 *
 * Data inputs (positional DATA):
 *   --dataset dsa ROOT    DSA segments, encoded in memory (--encoder ...)
 *   ROOT/manifest.csv     an encoded folder (`sensorgram encode`)
 *   ROOT/train, ROOT/valid  a given split of class folders
 *   ROOT/<class>/...      class folders; --label-regex for labels in names
 */
#ifndef SG_CLI_COMMON_H
#define SG_CLI_COMMON_H

#include "src/cli/cli_registry.h"
#include "src/train/job.h"

/* Fills o with the defaults of the command argv[0] names, parses argv
 * into it, applies the DSA recipe (train, lr-find) where the options in
 * *given (NULL: none) and argv leave it open, and builds the encoder
 * stack.  Returns 0, 1 when --help was asked (usage has been printed to
 * stdout), or SG_E_INVALID with a message.  o borrows strings from argv. */
int cli_parse(job_opts *o, cli_given *given, int argc, char **argv, const char *usage);

/* A model command's exit status after a step that returned rc: 0 when rc
 * is 0, else `status` after printing "sensorgram CMD: <last error>" to
 * stderr. */
int cli_report(const char *cmd, int rc, int status);

#endif
