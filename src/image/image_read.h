/* image_read.h - decode PNG and JPEG files into sg_image.
 *
 * sg_image_read looks at the first bytes, not the extension, and hands
 * the file to the PNG (libpng) or JPEG (TurboJPEG) decoder.  Photos come
 * out as float (c, h, w) in [0, 1]: gray PNG -> 1 channel, colour or
 * palette PNG -> 3 (alpha dropped, 16-bit kept at 16-bit precision),
 * JPEG -> 3 (RGB, gray JPEGs are expanded).  A float32/float64 .npy
 * (what `encode --format npy` writes) is taken as (C, H, W) (or (H, W)
 * as one channel) with its values as stored.  Unknown, truncated or
 * corrupt files fail with SG_E_PARSE and a message naming the path;
 * nothing is left allocated on failure.
 */
#ifndef SG_IMAGE_READ_H
#define SG_IMAGE_READ_H

#include <stddef.h>

#include "src/image/image.h"

/* Decodes an in-memory .npy image ((C, H, W) or (H, W)); out is newly
 * allocated and owned by the caller. */
int sg_npy_image_decode(const unsigned char *buf, size_t n, const char *name, sg_image *out);

/* Reads path (PNG, JPEG or .npy, detected by magic bytes) into a newly
 * allocated image owned by the caller (free with sg_image_free). */
int sg_image_read(const char *path, sg_image *out);

/* Decodes an in-memory PNG; name is used in error messages only.  out is
 * newly allocated and owned by the caller. */
int sg_png_decode(const unsigned char *buf, size_t n, const char *name, sg_image *out);

/* Decodes an in-memory JPEG as RGB; name is used in error messages only.
 * out is newly allocated and owned by the caller. */
int sg_jpeg_decode(const unsigned char *buf, size_t n, const char *name, sg_image *out);

/* Reads a JPEG file into a newly allocated RGB image owned by the caller. */
int sg_jpeg_read(const char *path, sg_image *out);

/* Reads a whole file into a malloc'd buffer (*out, owned by the caller,
 * free with free()); *n receives its size.  Empty files are an error. */
int sg_file_read_all(const char *path, unsigned char **out, size_t *n);

#endif
