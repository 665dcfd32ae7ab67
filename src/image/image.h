/* image.h - the one image type where sensor images and photos meet.
 *
 * An sg_image is C x H x W float32, row-major (c, h, w).  Photos decode
 * to [0, 1]; encoded sensor segments keep their encoder's range.  All
 * later stages (resize, crop, augment, normalize, batch) take sg_image.
 */
#ifndef SG_IMAGE_H
#define SG_IMAGE_H

#include <stddef.h>

typedef struct sg_image {
    int c, h, w;
    float *data;   /* (c, h, w), owned by the image */
} sg_image;

/* Allocates an uninitialised c x h x w image (data owned by img). */
int sg_image_alloc(sg_image *img, int c, int h, int w);

/* Frees img->data and zeroes img; accepts NULL. */
void sg_image_free(sg_image *img);

static inline size_t sg_image_numel(const sg_image *img)
{
    return (size_t)img->c * (size_t)img->h * (size_t)img->w;
}

#endif
