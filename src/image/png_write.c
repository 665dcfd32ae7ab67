/* png_write.c - sg_png_write through libpng (see png_io.h).
 *
 * Writing is on the encode hot path (6,840 segments x 15 channels), so
 * the level is a parameter.  Levels 1..5 (`encode` uses 1) go to
 * png_deflate.c: the SUB filter on every row and one libdeflate call for
 * the IDAT.  On DSA subject 1 as rp 500 x 500 mosaics, libdeflate level 1
 * took 2.7 s of CPU against 3.8 s for zlib's Huffman-only level 1 (the
 * previous bulk choice) with files half the size; with libdeflate SUB
 * beat NONE (2.9 s, +44% size) and UP (2.9 s, +30%).  Levels 0 and 6..9
 * stay with libpng: sg_png_write (figures, galleries) uses level 6 with
 * every filter.
 * libpng reports errors by
 * longjmp; its messages are routed into sg_fail instead of stderr.
 * Reading lives in png_read.c.
 */
#include "src/image/png_io.h"
#include "src/image/png_deflate.h"
#include "src/base/atomic_file.h"
#include "src/base/sg_error.h"

#include <png.h>
#include <setjmp.h>
#include <zlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct png_err {
    jmp_buf jmp;
    char msg[256];
};

static void on_png_error(png_structp png, png_const_charp msg)
{
    struct png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jmp, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;   /* warnings are not errors; the library never prints */
}

static inline unsigned to_level(float v, unsigned maxv)
{
    if (!(v > 0.0f))          /* also maps NaN to 0 */
        return 0;
    if (v >= 1.0f)
        return maxv;
    return (unsigned)(v * (float)maxv + 0.5f);
}

/* Packs (c, h, w) floats into interleaved big-endian rows. */
static void pack_rows(uint8_t *buf, const float *chw, int c, int h, int w, int depth)
{
    size_t plane = (size_t)h * (size_t)w;
    if (c == 1 && depth == 8) {
        /* The common case, kept branch-light so it vectorizes. */
        for (size_t i = 0; i < plane; i++) {
            float v = chw[i] * 255.0f + 0.5f;
            v = v > 0.0f ? v : 0.0f;   /* also maps NaN to 0 */
            v = v < 255.0f ? v : 255.0f;
            buf[i] = (uint8_t)v;
        }
        return;
    }
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            for (int k = 0; k < c; k++) {
                float v = chw[(size_t)k * plane + (size_t)y * (size_t)w + (size_t)x];
                size_t o = ((size_t)y * (size_t)w + (size_t)x) * (size_t)c + (size_t)k;
                if (depth == 8) {
                    buf[o] = (uint8_t)to_level(v, 255);
                } else {
                    unsigned q = to_level(v, 65535);
                    buf[2 * o] = (uint8_t)(q >> 8);
                    buf[2 * o + 1] = (uint8_t)(q & 0xff);
                }
            }
        }
    }
}

int sg_png_write_level(const char *path, const float *chw, int c, int h, int w, int depth,
                       int level, int fsync_file)
{
    if (c != 1 && c != 3)
        return sg_fail(SG_E_SHAPE, "%s: PNG needs 1 or 3 channels, got %d", path, c);
    if (depth != 8 && depth != 16)
        return sg_fail(SG_E_INVALID, "%s: PNG depth must be 8 or 16, got %d", path, depth);
    if (h <= 0 || w <= 0 || h > 1000000 || w > 1000000)
        return sg_fail(SG_E_SHAPE, "%s: bad PNG size %dx%d", path, w, h);
    if (level < 0 || level > 9)
        return sg_fail(SG_E_INVALID, "%s: zlib level must be 0..9, got %d", path, level);

    size_t row_bytes = (size_t)w * (size_t)c * (size_t)(depth / 8);
    uint8_t *buf = malloc(row_bytes * (size_t)h);
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (!buf || !rows) {
        free(buf);
        free(rows);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    pack_rows(buf, chw, c, h, w, depth);
    for (int y = 0; y < h; y++)
        rows[y] = buf + (size_t)y * row_bytes;

    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc) {
        free(buf);
        free(rows);
        return rc;
    }
    af.no_fsync = !fsync_file;
    if (level >= 1 && level <= 5) {
        rc = sg_png_deflate_write(af.fp, path, buf, c, h, w, depth, level, SG_PNG_FILTER_SUB);
        free(buf);
        free(rows);
        if (rc) {
            sg_atomic_abort(&af);
            return rc;
        }
        return sg_atomic_commit(&af);
    }
    struct png_err err;
    err.msg[0] = '\0';
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, on_png_error,
                                              on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        sg_atomic_abort(&af);
        free(buf);
        free(rows);
        return sg_fail(SG_E_NOMEM, "%s: cannot create a PNG writer", path);
    }
    if (setjmp(err.jmp)) {
        png_destroy_write_struct(&png, &info);
        sg_atomic_abort(&af);
        free(buf);
        free(rows);
        return sg_fail(SG_E_IO, "%s: PNG write failed: %s", path, err.msg);
    }
    png_init_io(png, af.fp);
    png_set_compression_level(png, level);
    if (level <= 1)
        png_set_compression_strategy(png, Z_HUFFMAN_ONLY);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, level < 6 ? PNG_FILTER_SUB : PNG_ALL_FILTERS);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth,
                 c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(buf);
    free(rows);
    return sg_atomic_commit(&af);
}

int sg_png_write(const char *path, const float *chw, int c, int h, int w, int depth)
{
    return sg_png_write_level(path, chw, c, h, w, depth, 6, 1);
}
