/* fuzz_enc_fit.c - libFuzzer target: the encoder-fit JSON (--load-fit,
 * and the "fit" text inside sensor checkpoints).  The first byte picks
 * the encoder whose fit is expected (gray or fitted mtf) and C.
 */
#include "tests/fuzz_common.h"

#include "encoders/enc.h"
#include "src/base/sg_error.h"
#include "src/encode/enc_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enc_params p;
    int mtf = data[0] & 1;
    enc_params_default(&p, mtf ? ENC_MTF : ENC_GRAY);
    if (mtf)
        p.mtf_fitted = 1;
    int C = 1 + (data[0] >> 1) % 6;
    char *text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    enc_fit *fit = NULL;
    int rc = enc_fit_from_text(&fit, text, &p, C, fuzz_dir());
    if (rc == SG_OK)
        enc_fit_free(fit);
    free(text);
    return 0;
}
