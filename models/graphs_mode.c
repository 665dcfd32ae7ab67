/* graphs_mode.c - the names of the --cuda-graphs modes (with or without
 * libtorch: the command line parses them in every build). */
#include "models/sg_model.h"

#include <strings.h>

#include "src/base/sg_error.h"

int sg_cuda_graphs_parse(sg_cuda_graphs *out, const char *name)
{
    static const char *const names[] = {"off", "auto", "on"};
    for (int i = 0; i < 3; i++)
        if (name && strcasecmp(name, names[i]) == 0) { /* as every choice: any case */
            *out = (sg_cuda_graphs)i;
            return SG_OK;
        }
    return sg_fail(SG_E_INVALID, "'%s' (expected auto, on or off)", name ? name : "(null)");
}
