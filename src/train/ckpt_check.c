/* ckpt_check.c - checkpoint kind, checksum and finiteness (see ckpt_check.h). */
#include "src/train/ckpt_check.h"

#include "src/base/file_kind.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ckpt_hash_entries hashes float bytes as stored: little-endian hosts only"
#endif

int ckpt_open_checked(sg_st_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    sg_file_kind kind;
    int rc = sg_file_kind_read(path, &kind);
    if (rc)
        return rc;
    if (kind != SG_FILE_SAFETENSORS && kind != SG_FILE_UNKNOWN) {
        return sg_fail(SG_E_CORRUPT, "%s is %s, not a checkpoint", path, sg_file_kind_name(kind));
    }
    return sg_st_open(f, path);
}

static void to_hex(char hex[65], struct sha256_ctx *ctx)
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int ckpt_hash_entries(char hex[65], const sg_st_entry *entries, size_t n)
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    for (size_t i = 0; i < n; i++) {
        const sg_st_entry *e = &entries[i];
        size_t numel = 1;
        for (int d = 0; d < e->ndim; d++)
            numel *= (size_t)e->shape[d];
        if (!e->as_int) {
            sha256_update(&ctx, numel * sizeof(float), (const uint8_t *)e->data);
            continue;
        }
        /* I64 as sg_st_write stores it: the rounded value, little-endian. */
        for (size_t k = 0; k < numel; k++) {
            int64_t v = (int64_t)llroundf(e->data[k]);
            uint8_t b[8];
            for (int j = 0; j < 8; j++)
                b[j] = (uint8_t)((uint64_t)v >> (8 * j));
            sha256_update(&ctx, 8, b);
        }
    }
    to_hex(hex, &ctx);
    return 0;
}

int ckpt_verify_hash(const sg_st_file *f, const char *path)
{
    const char *want = sg_st_meta(f, CKPT_HASH_KEY);
    if (!want)
        return SG_OK;
    struct sha256_ctx ctx;
    char got[65];
    sha256_init(&ctx);
    sha256_update(&ctx, f->data_size, f->data);
    to_hex(got, &ctx);
    if (strcmp(got, want) != 0)
        return sg_fail(SG_E_CORRUPT,
                       "%s: checksum mismatch: the tensor data is damaged (sha256 %.12s..., "
                       "the file says %.12s...)",
                       path, got, want);
    return SG_OK;
}

int ckpt_entries_finite(const sg_st_entry *entries, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++) {
        const sg_st_entry *e = &entries[i];
        size_t numel = 1;
        for (int d = 0; d < e->ndim; d++)
            numel *= (size_t)e->shape[d];
        for (size_t k = 0; k < numel; k++)
            if (!isfinite(e->data[k]))
                return sg_fail(SG_E_NUMERIC,
                               "%s: not written: tensor '%s' holds %s (the run diverged; lower "
                               "--lr)",
                               path, e->name, isnan(e->data[k]) ? "NaN" : "Inf");
    }
    return SG_OK;
}
