/* enc_layout.c - arranging per-channel images into the output tensor.
 *
 * channels: (C, H, W) unchanged.  mosaic: the C tiles row-major on a
 * ceil(sqrt(C))-wide grid, one gray image, unused tiles 0.  rgb: channels
 * 3g, 3g+1, 3g+2 (x, y, z of one sensor) become R, G, B of tile g, tiles
 * on the same grid as mosaic over C/3.
 */
#include "encoders/enc_internal.h"

#include <math.h>
#include <string.h>

void enc_layout_apply(float *out, const float *tiles, int C, int H, int W, enc_layout layout)
{
    size_t plane = (size_t)H * (size_t)W;
    if (layout == ENC_LAYOUT_CHANNELS) {
        memcpy(out, tiles, sizeof(float) * plane * (size_t)C);
        return;
    }
    int colours = layout == ENC_LAYOUT_RGB ? 3 : 1;
    int n = C / colours;
    int cols = (int)ceil(sqrt((double)n));
    int rows = (n + cols - 1) / cols;
    size_t OW = (size_t)cols * W, OH = (size_t)rows * H;
    memset(out, 0, sizeof(float) * OW * OH * (size_t)colours);
    for (int g = 0; g < n; g++) {
        int ty = g / cols, tx = g % cols;
        for (int k = 0; k < colours; k++) {
            const float *src = tiles + (size_t)(g * colours + k) * plane;
            float *dst = out + (size_t)k * OW * OH + (size_t)ty * H * OW + (size_t)tx * W;
            for (int y = 0; y < H; y++)
                memcpy(dst + (size_t)y * OW, src + (size_t)y * W, sizeof(float) * (size_t)W);
        }
    }
}
