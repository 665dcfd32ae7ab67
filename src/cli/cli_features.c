/* cli_features.c - `sensorgram features`: parses, extracts (src/train/
 * job_features.h) and says what it wrote. */
#include "src/base/sg_error.h"
#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/train/job_features.h"

#include <stdio.h>

#define FEATURES_USAGE \
    "sensorgram features --arch A --pretrained W [--image-size N] DATA -o FEATS.npy"

int cmd_features(int argc, char **argv)
{
    job_opts o;
    int rc = cli_parse(&o, NULL, argc, argv, FEATURES_USAGE);
    if (rc == 1)
        return 0;
    if (rc == SG_OK && o.n_args != 1)
        rc = sg_fail(SG_E_INVALID, "expected one DATA argument (usage: " FEATURES_USAGE ")");
    if (rc == SG_OK && !o.output)
        rc = sg_fail(SG_E_INVALID, "-o FEATS.npy is required");
    if (rc)
        return cli_report("features", rc, 2);
    size_t n = 0;
    int dim = 0;
    rc = job_features(&o, &n, &dim);
    if (rc == SG_OK)
        printf("features: %zu x %d -> %s\n", n, dim, o.output);
    return cli_report("features", rc, 1);
}
