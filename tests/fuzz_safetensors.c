/* fuzz_safetensors.c - libFuzzer target: a file given as a checkpoint.
 *
 * Runs the whole read path of `predict CKPT`: file-kind sniffing, the
 * safetensors header (length, JSON, dtypes, shapes, offsets), the
 * checksum, the "sensorgram" JSON metadata, then every tensor's data.
 * A crash, sanitizer report or leak is a finding; an error must name the
 * file.
 */
#include "tests/fuzz_common.h"

#include "models/safetensors.h"
#include "src/base/sg_error.h"
#include "src/train/ckpt_check.h"
#include "src/train/train_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("ck.safetensors", data, size);
    train_meta meta;
    int rc = train_ckpt_read_meta(&meta, path);
    if (rc == SG_OK)
        train_meta_free(&meta);
    else if (!strstr(sg_last_error(), "ck.safetensors"))
        abort();
    sg_st_file f;
    if (sg_st_open(&f, path) != SG_OK)
        return 0;
    (void)ckpt_verify_hash(&f, path);
    for (size_t i = 0; i < f.n_tensors; i++) {
        const sg_st_tensor *t = &f.tensors[i];
        if (t->numel > (1u << 20))
            continue;
        float *buf = malloc((t->numel ? t->numel : 1) * sizeof *buf);
        if (!buf)
            abort();
        (void)sg_st_read_f32(&f, t, buf);
        free(buf);
    }
    for (size_t i = 0; i < f.n_meta; i++)
        (void)strlen(f.meta_keys[i]), (void)strlen(f.meta_values[i]);
    sg_st_close(&f);
    return 0;
}
