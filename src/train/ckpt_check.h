/* ckpt_check.h - trusting a checkpoint only when it is whole and sane.
 *
 * Three checks around train_ckpt.c: (1) a file given as a checkpoint is
 * recognised by its first bytes, so a JPEG is "a JPEG image, not a
 * checkpoint" rather than a nonsense header length; (2) the SHA-256 of
 * the tensor data (the safetensors data buffer, byte for byte) is stored
 * in the metadata as "sha256" and verified on load, so a flipped byte
 * is an error naming the file; (3) weights holding NaN or Inf are never
 * written, and never loaded.
 */
#ifndef SG_CKPT_CHECK_H
#define SG_CKPT_CHECK_H

#include <stddef.h>

#include "models/safetensors.h"

#define CKPT_HASH_KEY "sha256"

/* Opens path as a safetensors file after checking its kind (see above);
 * the caller owns f (sg_st_close). */
int ckpt_open_checked(sg_st_file *f, const char *path);

/* SHA-256 (hex) of the data buffer sg_st_write will write for entries. */
int ckpt_hash_entries(char hex[65], const sg_st_entry *entries, size_t n);

/* Verifies f's data against its "sha256" metadata; SG_E_CORRUPT naming
 * path on a mismatch.  Files written before checksums (no key) pass. */
int ckpt_verify_hash(const sg_st_file *f, const char *path);

/* SG_E_NUMERIC naming the first tensor with a NaN or Inf value. */
int ckpt_entries_finite(const sg_st_entry *entries, size_t n, const char *path);

#endif
