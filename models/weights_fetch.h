/* weights_fetch.h - download torchvision's ImageNet weights (needs internet).
 *
 * The files torchvision's ResNet*_Weights.IMAGENET1K_V1 (and resnet50's
 * V2) load, from download.pytorch.org, pinned by SHA-256 (torchvision
 * names each file by its hash's first 8 hex digits).  The download goes
 * through libcurl (proxy variables, timeouts, redirects), is hashed with
 * nettle while it streams into a temporary file beside the destination,
 * then read as a .pth (models/pth_read.c, no pickle code runs), validated
 * against the architecture's names and shapes, and written as
 * NAME.safetensors atomically, where --pretrained NAME finds it.  A wrong
 * hash, a cut download or a file of another shape leaves nothing behind.
 *
 * For tests only: SG_TEST_WEIGHTS_URL replaces the address (a loopback
 * server) and SG_TEST_WEIGHTS_SHA256 the pinned hash.
 */
#ifndef SG_WEIGHTS_FETCH_H
#define SG_WEIGHTS_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "models/sg_model.h"
#include "models/weights_catalog.h"

/* SHA-256 of a whole file as 64 lowercase hex digits into hex[65]. */
int sg_sha256_file(const char *path, char hex[65]);

/* Called as bytes arrive: done so far and the total (0 when unknown). */
typedef void (*sg_fetch_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Downloads name into dir (NULL: sg_weights_dir()) as NAME.safetensors
 * and writes the final path into out; progress may be NULL.  Nothing is
 * left under the final name (or beside it) unless every check passed. */
int sg_weights_fetch(const char *name, const char *dir, char *out, size_t size,
                     sg_fetch_progress_fn progress, void *progress_ctx);

#endif
