/* fuzz_image.c - libFuzzer target: PNG and JPEG decoding through our
 * wrappers (sg_png_decode / sg_jpeg_decode over libpng and TurboJPEG).
 * Built twice by tools/fuzz.sh: -DFUZZ_JPEG for the JPEG path.  A
 * decoded image must have a sane shape and finite pixels in [0, 1].
 */
#include "tests/fuzz_common.h"

#include "src/base/sg_error.h"
#include "src/image/image_read.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_image img;
#ifdef FUZZ_JPEG
    int rc = sg_jpeg_decode(data, size, "fuzz.jpg", &img);
#else
    int rc = sg_png_decode(data, size, "fuzz.png", &img);
#endif
    if (rc != SG_OK) {
        if (!strstr(sg_last_error(), "fuzz."))
            abort(); /* an error that does not name the file */
        return 0;
    }
    if (img.c < 1 || img.c > 4 || img.h < 1 || img.w < 1)
        abort();
    size_t n = (size_t)img.c * (size_t)img.h * (size_t)img.w;
    for (size_t i = 0; i < n; i++)
        if (!(img.data[i] >= 0.0f && img.data[i] <= 1.0f))
            abort();
    sg_image_free(&img);
    return 0;
}
