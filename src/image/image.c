/* image.c - allocation of sg_image (see image.h). */
#include "src/image/image.h"
#include "src/base/sg_error.h"

#include <stdlib.h>
#include <string.h>

int sg_image_alloc(sg_image *img, int c, int h, int w)
{
    memset(img, 0, sizeof *img);
    if (c <= 0 || h <= 0 || w <= 0)
        return sg_fail(SG_E_INVALID, "invalid image shape %dx%dx%d", c, h, w);
    img->data = malloc((size_t)c * (size_t)h * (size_t)w * sizeof(float));
    if (!img->data)
        return sg_fail(SG_E_NOMEM, "out of memory for a %dx%dx%d image", c, h, w);
    img->c = c;
    img->h = h;
    img->w = w;
    return SG_OK;
}

void sg_image_free(sg_image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}
