/* arch.c - architecture names; no libtorch needed (both builds). */
#include "models/sg_model.h"

#include <string.h>

#include "src/base/sg_error.h"

static const char *const arch_names[] = {"resnet18", "resnet34", "resnet50"};

int sg_arch_parse(sg_arch *out, const char *name)
{
    for (int i = 0; i < (int)(sizeof arch_names / sizeof arch_names[0]); i++) {
        if (name && strcmp(name, arch_names[i]) == 0) {
            *out = (sg_arch)i;
            return 0;
        }
    }
    return sg_fail(SG_E_INVALID, "unknown architecture '%s' (expected resnet18, resnet34 or resnet50)",
                   name ? name : "(null)");
}

const char *sg_arch_name(sg_arch arch)
{
    if ((int)arch < 0 || (int)arch >= (int)(sizeof arch_names / sizeof arch_names[0]))
        return "unknown";
    return arch_names[arch];
}
