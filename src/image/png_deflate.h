/* png_deflate.h - PNG files written with libdeflate (png_deflate.c says why). */
#ifndef SG_PNG_DEFLATE_H
#define SG_PNG_DEFLATE_H

#include <stdint.h>
#include <stdio.h>

/* The PNG row filters used here, with their type bytes. */
typedef enum sg_png_filter {
    SG_PNG_FILTER_NONE = 0,
    SG_PNG_FILTER_SUB = 1,
    SG_PNG_FILTER_UP = 2,
} sg_png_filter;

/* Writes a whole PNG to fp: raw holds h rows of w pixels, c (1: gray,
 * 3: RGB) samples each, depth 8 or 16 bits (16-bit samples big-endian),
 * as the PNG stores them unfiltered.  Every row gets `filter` (UP's first
 * row NONE); the rows are compressed at libdeflate level 0..12.  The
 * caller validated c, depth and the size; path names errors only. */
int sg_png_deflate_write(FILE *fp, const char *path, const uint8_t *raw, int c, int h, int w,
                         int depth, int level, sg_png_filter filter);

#endif
