/* arch_guess.c - ResNet depth from tensor names (see arch_guess.h).
 *
 * torchvision's ResNets differ in their blocks: basic blocks (conv1,
 * conv2) for 18/34, bottlenecks (conv3 too) for 50/101/152, and the
 * number of blocks in layer3: 2 (18), 6 (34, 50), 23 (101), 36 (152).
 */
#include "models/arch_guess.h"

#include <stdio.h>

static int has(const sg_st_file *f, const char *name)
{
    return sg_st_find(f, name) != NULL;
}

/* Blocks in layer3: the first index whose conv1 is absent. */
static int layer3_blocks(const sg_st_file *f)
{
    int n = 0;
    char name[64];
    for (;; n++) {
        snprintf(name, sizeof name, "layer3.%d.conv1.weight", n);
        if (!has(f, name) || n > 64)
            return n;
    }
}

const char *sg_st_guess_resnet(const sg_st_file *f)
{
    if (!has(f, "conv1.weight") || !has(f, "layer1.0.conv1.weight"))
        return NULL;
    int bottleneck = has(f, "layer1.0.conv3.weight");
    int blocks = layer3_blocks(f);
    if (!bottleneck)
        return blocks == 2 ? "resnet18" : blocks == 6 ? "resnet34" : NULL;
    return blocks == 6 ? "resnet50" : blocks == 23 ? "resnet101" : blocks == 36 ? "resnet152" : NULL;
}
