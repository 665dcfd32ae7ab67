/* arch_guess.h - which ResNet a torchvision-named weights file holds,
 * from its tensor names (block counts), so that loading resnet18 weights
 * into --arch resnet34 says "the file holds resnet18 weights" instead of
 * "tensor ... missing". */
#ifndef SG_ARCH_GUESS_H
#define SG_ARCH_GUESS_H

#include "models/safetensors.h"

/* "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", or NULL
 * when the names are not a torchvision ResNet's. */
const char *sg_st_guess_resnet(const sg_st_file *f);

#endif
