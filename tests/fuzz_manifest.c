/* fuzz_manifest.c - libFuzzer target: an encode folder's manifest.csv
 * (path,label,subject,segment,source) read by train/eval/predict.  Rows
 * must come back labelled within the classes; errors name the file.
 */
#include "tests/fuzz_common.h"

#include "datasets/image_folder.h"
#include "src/base/sg_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write("manifest.csv", data, size);
    sg_image_list l;
    int rc = sg_image_folder_manifest(&l, fuzz_dir());
    if (rc != SG_OK) {
        if (!strstr(sg_last_error(), "manifest.csv") && !strstr(sg_last_error(), "sgfuzz"))
            abort();
        return 0;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (l.labels[i] < -1 || l.labels[i] >= l.n_classes)
            abort();
        (void)strlen(l.paths[i]);
    }
    sg_image_list_free(&l);
    return 0;
}
