/* cli_explain.c - `sensorgram explain CKPT|RUN INPUT... -o OUTDIR`: parses
 * and explains (src/train/explain.h), with explain's figures drawn by
 * figures/fig_explain.c. */
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "figures/fig.h"
#include "src/train/explain.h"

#define EXPLAIN_USAGE                                                                      \
    "sensorgram explain CKPT INPUT... -o OUTDIR [--summary] [--windows N] [--gradcam]\n"     \
    "       [--layer layer1..layer4] [--overwrite]\n"                                        \
    "       CKPT: a checkpoint, a comma list of them or a run folder (an ensemble: the\n"    \
    "       mean of the members' attributions); INPUT: sensor recordings (segment files,\n" \
    "       a DSA root, X.npy, .ts), encoded folders or photos"

int cmd_explain(int argc, char **argv)
{
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, EXPLAIN_USAGE);
    if (rc == 1)
        return 0;
    if (rc == SG_OK && o.n_args < 2)
        rc = sg_fail(SG_E_INVALID, "expected CKPT and at least one INPUT (sensorgram explain "
                                   "--help)");
    if (rc == SG_OK && !o.output)
        rc = sg_fail(SG_E_INVALID, "-o OUTDIR is required");
    if (rc)
        return cli_report("explain", rc, 2);
    o.draw_explain_input = fig_explain_input_write;
    o.draw_explain_summary = fig_explain_summary_write;
    rc = explain_run(&o);
    return cli_report("explain", rc, rc == SG_E_INVALID ? 2 : 1);
}
