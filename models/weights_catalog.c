/* weights_catalog.c - the known weight files (weights_catalog.h). */
#include "models/weights_catalog.h"

#include <string.h>

static const sg_weights_source sources[] = {
    {"resnet18", SG_ARCH_RESNET18, "https://download.pytorch.org/models/resnet18-f37072fd.pth",
     "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec"},
    {"resnet34", SG_ARCH_RESNET34, "https://download.pytorch.org/models/resnet34-b627a593.pth",
     "b627a593bcbe140c234610266fe4f8ae95ea42fc881d091c9b6052e6b1d0590f"},
    {"resnet50", SG_ARCH_RESNET50, "https://download.pytorch.org/models/resnet50-0676ba61.pth",
     "0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a"},
    /* IMAGENET1K_V2 (80.858% top-1, torchvision's newer recipe) */
    {"resnet50-v2", SG_ARCH_RESNET50, "https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
     "11ad3fa62ca79e40addfd354a8ec4b7c75143b3038b8d2a807fbc68deab379ca"},
};

const sg_weights_source *sg_weights_source_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof sources / sizeof sources[0]; i++)
        if (strcmp(sources[i].name, name) == 0)
            return &sources[i];
    return NULL;
}
