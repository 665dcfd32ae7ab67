/* cli_train.c - `sensorgram train`: parses, applies the DSA recipe where
 * the user left the representation open, checks every member's options
 * before anything trains, and hands the request to the engine
 * (src/train/job_train.h).  Exit status: 0, 1 failure, 2 usage. */
#include "src/base/sg_error.h"
#include "src/base/signals.h"
#include "src/cli/cli_common.h"
#include "src/cli/cli_members.h"
#include "src/cli/commands.h"
#include "src/train/job_train.h"
#include "src/train/job_train_main.h"
#include "src/train/run_guard.h"
#include "src/train/train_features.h"

#define TRAIN_USAGE                                                                   \
    "sensorgram train [OPTIONS] DATA\n"                                               \
    "       sensorgram train --dataset dsa ROOT [OPTIONS]   (an ensemble: see --member)\n" \
    "       sensorgram train --dataset dsa ROOT --encoder gray --sensors acc [OPTIONS]\n" \
    "       sensorgram train PROBLEM_TRAIN.ts [OPTIONS]        (UEA/UCR: cases in memory)\n" \
    "       sensorgram train CSV_FOLDER --window N [--subject-regex RE] [OPTIONS]\n"         \
    "       sensorgram train --features A.npy[,B.npy] [OPTIONS]"

int cmd_train(int argc, char **argv)
{
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, TRAIN_USAGE);
    if (rc == 1)
        return 0;
    if (rc == SG_OK && o.single && o.n_members > 0)
        rc = sg_fail(SG_E_INVALID, "--single and --member exclude each other");
    if (rc == SG_OK)
        rc = job_train_check(&o);
    /* Every member's options, checked before the first one trains. */
    cli_members members = {0};
    if (rc == SG_OK && o.n_members > 0)
        rc = cli_members_parse(&members, &o, argc, argv, TRAIN_USAGE);
    /* Only where the loops poll the flag (not the --features head). */
    if (rc == SG_OK && !o.features)
        rc = sg_signals_install();
    if (rc == SG_OK && o.features) {
        rc = run_guard_prepare(o.out_dir, o.resume, o.overwrite);
        if (rc == SG_OK)
            return cli_report("train", train_features_run(&o), 1);
    }
    int usage = rc == SG_E_INVALID;
    if (rc == SG_OK)
        rc = job_train_main(&o, members.opts, members.n, &usage);
    cli_members_free(&members);
    return cli_report("train", rc, usage ? 2 : 1);
}
