/* cli_lr_find.c - `sensorgram lr-find`: parses, runs the range test
 * (src/train/job_lr_find.h), prints its suggestions and draws
 * figures/lr_find.<fmt>. */
#include "figures/fig.h"
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/train/job_lr_find.h"
#include "src/train/run_files.h"

#include <stdio.h>

#define LR_FIND_USAGE "sensorgram lr-find [OPTIONS] DATA  (data options as for train)"

static int report(const job_opts *o, const job_lr_find_result *r)
{
    fig_format ff;
    printf("lr-find: %d steps, lr %.3g .. %.3g\n", r->steps, r->lr_first, r->lr_last);
    printf("suggestions: minimum/10 %.3g   steepest %.3g\n", r->min_div10, r->steepest);
    if (fig_format_parse(&ff, o->figure_format) != SG_OK ||
        fig_lr_find_draw(o->out_dir, ff) != SG_OK)
        fprintf(stderr, "sensorgram lr-find: warning: figure: %s\n", sg_last_error());
    printf("written to %s/%s and figures/\n", o->out_dir, SG_RUN_LR_FIND);
    return SG_OK;
}

int cmd_lr_find(int argc, char **argv)
{
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, LR_FIND_USAGE);
    if (rc == 1)
        return 0;
    if (rc == SG_OK && o.n_args != 1)
        rc = sg_fail(SG_E_INVALID, "expected one DATA argument (see --help)");
    if (rc)
        return cli_report("lr-find", rc, 2);
    job_lr_find_result r;
    rc = job_lr_find(&o, &r);
    if (rc == SG_OK)
        rc = report(&o, &r);
    return cli_report("lr-find", rc, 1);
}
