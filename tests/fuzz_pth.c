/* fuzz_pth.c - libFuzzer target for the .pth reader (zip and legacy).
 *
 * Built and run by tools/fuzz.sh (`make fuzz`), not by `make test`.  The
 * input is a whole file: a zip archive goes through libzip and the
 * storage checks, anything else through the legacy stream reader; both
 * run the pickle VM and build the tensors.  Any crash, sanitizer report
 * or leak is a finding; a refusal must name the fake path, and an
 * accepted file's tensors must lie inside its data buffer.
 */
#include "models/pth_read.h"
#include "src/base/sg_error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_st_file f;
    if (sg_pth_open_mem(&f, data, size, "fuzz.pth", NULL) != 0) {
        if (!strstr(sg_last_error(), "fuzz.pth"))
            abort();
        return 0;
    }
    for (size_t i = 0; i < f.n_tensors; i++) {
        const sg_st_tensor *t = &f.tensors[i];
        if (t->begin > t->end || t->end > f.data_size)
            abort();
        /* touch every byte, so ASan sees any out-of-bounds */
        float *v = malloc((t->numel ? t->numel : 1) * sizeof *v);
        if (v && sg_st_read_f32(&f, t, v) != 0)
            abort();
        free(v);
    }
    sg_st_close(&f);
    return 0;
}
