/* weights_catalog.h - the pretrained weight files sensorgram knows by
 * name (torchvision's ImageNet ResNets, pinned by SHA-256): what
 * `weights fetch NAME` downloads (weights_fetch.c) and what --pretrained
 * NAME resolves to (weights.c).  Its own file so that neither of those
 * two includes the other.
 */
#ifndef SG_WEIGHTS_CATALOG_H
#define SG_WEIGHTS_CATALOG_H

#include "models/sg_model.h"

/* One downloadable weight file. */
typedef struct sg_weights_source {
    const char *name;    /* "resnet34": also the --pretrained NAME */
    sg_arch arch;
    const char *url;
    const char *sha256;  /* lowercase hex, 64 digits */
} sg_weights_source;

/* The known source for name, or NULL (static storage). */
const sg_weights_source *sg_weights_source_find(const char *name);

#endif
