/* weights_fetch.h - download pretrained ImageNet weights (needs internet).
 *
 * torchvision's original ImageNet weights, as republished in safetensors
 * form with torchvision's parameter names by timm on Hugging Face
 * (timm/resnetNN.tv_in1k).  The download runs the `curl` program, is
 * hashed (SHA-256, nettle) while it streams into a temporary file beside
 * the destination, is validated as safetensors with the architecture's
 * names and shapes, and only then renamed into place.  SG_WEIGHTS_URL in
 * the environment replaces the address (a mirror, or a test's file://
 * URL); the SHA-256 check still applies.
 */
#ifndef SG_WEIGHTS_FETCH_H
#define SG_WEIGHTS_FETCH_H

#include <stddef.h>

/* One downloadable weight file. */
typedef struct sg_weights_source {
    const char *name;    /* "resnet34": also the --pretrained NAME */
    const char *url;
    const char *sha256;  /* lowercase hex, NULL when not pinned in this build */
    const char *page;    /* where a human can read the hash */
} sg_weights_source;

/* The known source for name, or NULL (static storage). */
const sg_weights_source *sg_weights_source_find(const char *name);

/* SHA-256 of a whole file as 64 lowercase hex digits into hex[65]. */
int sg_sha256_file(const char *path, char hex[65]);

/* Downloads name into dir (NULL: sg_weights_dir()) as NAME.safetensors
 * and writes the final path into out.  sha256 (hex) overrides or supplies
 * the expected hash; a source without a pinned hash needs it.  Nothing is
 * left under the final name unless every check passed. */
int sg_weights_fetch(const char *name, const char *dir, const char *sha256, char *out, size_t size);

#endif
