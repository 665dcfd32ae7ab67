/* png_io.h - PNG read and write (libpng; libdeflate for bulk writes). */
#ifndef SG_PNG_IO_H
#define SG_PNG_IO_H

#include "src/image/image.h"

/* Writes a (c, h, w) float image with values in [0, 1] (clamped, rounded)
 * as an 8- or 16-bit (depth) gray (c = 1), gray+alpha is never written,
 * or RGB (c = 3) PNG, atomically (atomic_file.h). */
int sg_png_write(const char *path, const float *chw, int c, int h, int w, int depth);

/* Same as sg_png_write (which uses level 6 and every filter) with an
 * explicit level 0..9: 1..5 are the bulk choices (SUB filter, libdeflate
 * at that level, png_deflate.h), 0 and 6+ go through libpng and zlib
 * (6+ tries all filters);
 * fsync_file 0 skips the per-file fsync (the caller syncs the folder
 * with sg_sync_folder before declaring it complete). */
int sg_png_write_level(const char *path, const float *chw, int c, int h, int w, int depth,
                       int level, int fsync_file);

/* Reads a PNG (any bit depth, palette, gray, RGB; alpha dropped) into a
 * newly allocated image in [0, 1] with 1 channel for gray and 3 for
 * colour.  Truncated or corrupt files fail with SG_E_PARSE naming path. */
int sg_png_read(const char *path, sg_image *out);

#endif
