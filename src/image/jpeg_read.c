/* jpeg_read.c - JPEG decoding through TurboJPEG (tjDecompress2, RGB).
 *
 * Any TurboJPEG error or warning fails the decode: a warning such as
 * "Premature end of JPEG file" means a truncated file whose lower rows
 * are grey filler, which must not silently enter a training set.
 *
 * CMYK and YCCK JPEGs (print workflows, Photoshop) are decoded to CMYK
 * and converted to RGB the way torchvision's decode_jpeg does: the
 * samples are taken as Adobe-inverted (255 = no ink, as virtually every
 * CMYK JPEG stores them) and R = C * K / 255 (integer), likewise G, B.
 * No colour management: a CMS would map print gamut to screen better,
 * but this keeps decoding exact and comparable.
 */
#include "src/image/image_read.h"
#include "src/base/sg_error.h"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

int sg_jpeg_decode(const unsigned char *buf, size_t n, const char *name, sg_image *out)
{
    memset(out, 0, sizeof *out);
    if (n > (size_t)0xffffffffUL)
        return sg_fail(SG_E_PARSE, "%s: JPEG file too large", name);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return sg_fail(SG_E_NOMEM, "%s: cannot start the JPEG decoder", name);
    int w = 0, h = 0, subsamp = 0, colorspace = 0;
    unsigned char *rgb = NULL;
    int rc = SG_OK;
    if (tjDecompressHeader3(tj, buf, (unsigned long)n, &w, &h, &subsamp, &colorspace) != 0) {
        rc = sg_fail(SG_E_PARSE, "%s: not a valid JPEG image: %s", name, tjGetErrorStr2(tj));
        goto done;
    }
    if (w <= 0 || h <= 0 || (size_t)w * (size_t)h > ((size_t)1 << 28)) {
        rc = sg_fail(SG_E_PARSE, "%s: unsupported JPEG size %dx%d", name, w, h);
        goto done;
    }
    int cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
    rgb = malloc((size_t)w * (size_t)h * (cmyk ? 4 : 3));
    if (!rgb) {
        rc = sg_fail(SG_E_NOMEM, "%s: out of memory for a %dx%d JPEG", name, w, h);
        goto done;
    }
    /* Accurate DCT so that decoded pixels match libjpeg/PIL defaults. */
    if (tjDecompress2(tj, buf, (unsigned long)n, rgb, w, 0, h, cmyk ? TJPF_CMYK : TJPF_RGB,
                      TJFLAG_ACCURATEDCT) != 0) {
        rc = sg_fail(SG_E_PARSE, "%s: corrupt or truncated JPEG image: %s", name,
                     tjGetErrorStr2(tj));
        goto done;
    }
    if (cmyk) {
        /* (h, w, 4) inverted CMYK -> (h, w, 3) RGB in place (3 <= 4 bytes ahead). */
        size_t np = (size_t)w * (size_t)h;
        for (size_t p = 0; p < np; p++) {
            unsigned k = rgb[p * 4 + 3];
            unsigned r = rgb[p * 4] * k / 255, g = rgb[p * 4 + 1] * k / 255,
                     b = rgb[p * 4 + 2] * k / 255;
            rgb[p * 3] = (unsigned char)r;
            rgb[p * 3 + 1] = (unsigned char)g;
            rgb[p * 3 + 2] = (unsigned char)b;
        }
    }
    rc = sg_image_alloc(out, 3, h, w);
    if (rc < 0) {
        sg_fail_context(rc, "%s", name);
        goto done;
    }
    /* interleaved (h, w, 3) bytes -> planar (3, h, w) floats in [0, 1] */
    size_t plane = (size_t)w * (size_t)h;
    for (size_t p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++)
            out->data[(size_t)c * plane + p] = (float)rgb[p * 3 + (size_t)c] * (1.0f / 255.0f);
done:
    free(rgb);
    tjDestroy(tj);
    return rc;
}
