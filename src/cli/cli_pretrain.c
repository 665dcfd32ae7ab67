/* cli_pretrain.c - `sensorgram pretrain`: parses, runs the contrastive
 * pretraining (src/train/pretrain.h) and reports. */
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/train/pretrain.h"

#define PRETRAIN_USAGE                                                                             \
    "sensorgram pretrain [OPTIONS] DATA --out DIR  (data options as for train; labels unused)\n"  \
    "  then: sensorgram train DATA --pretrained DIR ...  (with --cv loso: pretrain --cv loso)"

int cmd_pretrain(int argc, char **argv)
{
    job_opts o;
    cli_given given = {0};
    int rc = cli_parse(&o, &given, argc, argv, PRETRAIN_USAGE);
    if (rc == 1)
        return 0;
    if (rc == SG_OK && o.n_args != 1)
        rc = sg_fail(SG_E_INVALID, "expected one DATA argument (see --help)");
    /* never a default folder: weights are a result the user names */
    if (rc == SG_OK && !cli_given_has(&given, "out"))
        rc = sg_fail(SG_E_INVALID, "--out DIR is required: where the pretrained weights go");
    if (rc)
        return cli_report("pretrain", rc, 2);
    return cli_report("pretrain", job_pretrain(&o), 1);
}
