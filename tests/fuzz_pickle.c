/* fuzz_pickle.c - libFuzzer target for the allowlisted unpickler.
 *
 * Built and run by tools/fuzz.sh (`make fuzz`), not by `make test`.  The
 * input is one pickle stream, run to its STOP (and on, as the legacy .pth
 * reader does, while bytes remain).  Any crash, sanitizer report, leak or
 * hang is a finding; a refusal must come with a message naming the fake
 * file and a byte offset.
 */
#include "models/pickle_vm.h"
#include "src/base/sg_error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pk_vm *vm = pk_vm_new();
    if (!vm)
        return 0;
    size_t pos = 0;
    while (pos < size) {
        pk_value *v = NULL;
        size_t used = 0;
        if (pk_vm_load(vm, data + pos, size - pos, "fuzz.pkl", pos, &v, &used) != 0) {
            if (!strstr(sg_last_error(), "fuzz.pkl") || !strstr(sg_last_error(), "at byte"))
                abort();
            break;
        }
        if (!v || used == 0 || used > size - pos)
            abort();
        pos += used;
    }
    pk_vm_free(vm);
    return 0;
}
