/* cli_eval.c - `sensorgram eval CKPT DATA`: parses and evaluates
 * (src/train/job_eval.h). */
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/train/job_aug.h"
#include "src/train/job_eval.h"

#define EVAL_USAGE                                                                         \
    "sensorgram eval CKPT DATA [-o OUTDIR] [--top-losses N] [--label-regex RE] [--tta N]\n"    \
    "       CKPT: a checkpoint, a comma list of them or a --keep-folds run folder (an\n"       \
    "       ensemble: mean probabilities)"

int cmd_eval(int argc, char **argv)
{
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, EVAL_USAGE);
    if (rc == 1)
        return 0;
    if (rc == SG_OK && o.n_args < 2)
        rc = sg_fail(SG_E_INVALID, "expected CKPT and DATA (usage: " EVAL_USAGE ")");
    if (rc == SG_OK)
        rc = job_tta_check(&o, o.args[0]);
    if (rc)
        return cli_report("eval", rc, 2);
    return cli_report("eval", job_eval(&o), 1);
}
