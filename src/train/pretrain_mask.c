/* pretrain_mask.c - hidden spans and their targets (pretrain_mask.h). */
#include "src/train/pretrain_mask.h"

#include <string.h>

int pretrain_mask_outputs(int c, int h)
{
    return c * h * PRETRAIN_MASK_BLOCKS;
}

/* Span b of a width w: columns [b w / B, (b + 1) w / B), so the spans
 * cover the width and differ by at most one column. */
static int span_start(int b, int w)
{
    return (int)((long)b * w / PRETRAIN_MASK_BLOCKS);
}

void pretrain_mask_batch(const float *x, int n, int c, int h, int w, sg_rng *r, float *xm,
                         float *target, float *weight)
{
    size_t image = (size_t)c * (size_t)h * (size_t)w;
    size_t k = (size_t)pretrain_mask_outputs(c, h);
    memcpy(xm, x, (size_t)n * image * sizeof *xm);
    for (int i = 0; i < n; i++) {
        /* PRETRAIN_MASK_HIDDEN distinct spans: a partial shuffle */
        size_t order[PRETRAIN_MASK_BLOCKS];
        int hidden[PRETRAIN_MASK_BLOCKS] = {0};
        for (int b = 0; b < PRETRAIN_MASK_BLOCKS; b++)
            order[b] = (size_t)b;
        sg_rng_shuffle(r, order, PRETRAIN_MASK_BLOCKS);
        for (int j = 0; j < PRETRAIN_MASK_HIDDEN; j++)
            hidden[order[j]] = 1;
        const float *xi = x + (size_t)i * image;
        float *mi = xm + (size_t)i * image;
        float *ti = target + (size_t)i * k, *wi = weight + (size_t)i * k;
        for (int row = 0; row < c * h; row++) {
            const float *src = xi + (size_t)row * (size_t)w;
            float *dst = mi + (size_t)row * (size_t)w;
            for (int b = 0; b < PRETRAIN_MASK_BLOCKS; b++) {
                int lo = span_start(b, w), hi = span_start(b + 1, w);
                double sum = 0;
                for (int col = lo; col < hi; col++)
                    sum += src[col];
                size_t at = (size_t)row * PRETRAIN_MASK_BLOCKS + (size_t)b;
                ti[at] = (float)(sum / (hi - lo));
                wi[at] = (float)hidden[b];
                if (hidden[b])
                    memset(dst + lo, 0, (size_t)(hi - lo) * sizeof *dst);
            }
        }
    }
}
