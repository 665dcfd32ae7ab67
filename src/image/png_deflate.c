/* png_deflate.c - the bulk PNG writer: our own chunks, libdeflate's IDAT.
 *
 * `encode --format png` writes one PNG per segment (6,840 x 15-channel
 * mosaics for the whole DSA set), and zlib was half of the time of the
 * rp 125x125 run.  libdeflate compresses a whole buffer at once, several
 * times faster than zlib at the same ratio, but only as a whole buffer;
 * libpng streams rows into zlib.  So this file writes the PNG itself:
 * signature, IHDR, one IDAT holding the zlib stream of the filtered rows
 * (libdeflate_zlib_compress), IEND, each chunk with its CRC-32
 * (libdeflate_crc32).  No ancillary chunks (libpng wrote none either).
 *
 * One filter for every row (levels 1..5 pick it, see png_fast_filter):
 * encoder images are noisy, so per-row filter search buys little and
 * costs a pass per filter.  Reading stays with libpng (png_read.c), and
 * the tests decode what this writes with libpng and PIL.
 */
#include "src/image/png_deflate.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/sg_error.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes one chunk: length, type, data, CRC over type + data. */
static int put_chunk(FILE *fp, const char type[4], const uint8_t *data, size_t n)
{
    uint8_t head[8], tail[4];
    put_be32(head, (uint32_t)n);
    memcpy(head + 4, type, 4);
    uint32_t crc = libdeflate_crc32(0, head + 4, 4);
    if (n)
        crc = libdeflate_crc32(crc, data, n);
    put_be32(tail, crc);
    if (fwrite(head, 1, 8, fp) != 8 || (n && fwrite(data, 1, n, fp) != n) ||
        fwrite(tail, 1, 4, fp) != 4)
        return -1;
    return 0;
}

/* Filters h rows of row_bytes (bpp bytes a pixel) from raw into out, each
 * output row led by its filter type byte (PNG spec, section 9). */
static void filter_rows(uint8_t *out, const uint8_t *raw, size_t row_bytes, int h, size_t bpp,
                        sg_png_filter filter)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *r = raw + (size_t)y * row_bytes;
        const uint8_t *up = y ? r - row_bytes : NULL;
        uint8_t *o = out + (size_t)y * (row_bytes + 1);
        o[0] = (uint8_t)(filter == SG_PNG_FILTER_UP && !up ? SG_PNG_FILTER_NONE : filter);
        o++;
        if (filter == SG_PNG_FILTER_SUB) {
            memcpy(o, r, bpp < row_bytes ? bpp : row_bytes);
            for (size_t i = bpp; i < row_bytes; i++)
                o[i] = (uint8_t)(r[i] - r[i - bpp]);
        } else if (filter == SG_PNG_FILTER_UP && up) {
            for (size_t i = 0; i < row_bytes; i++)
                o[i] = (uint8_t)(r[i] - up[i]);
        } else {
            memcpy(o, r, row_bytes);
        }
    }
}

int sg_png_deflate_write(FILE *fp, const char *path, const uint8_t *raw, int c, int h, int w,
                         int depth, int level, sg_png_filter filter)
{
    size_t bpp = (size_t)c * (size_t)(depth / 8);
    size_t row_bytes = (size_t)w * bpp;
    size_t filtered_n = (row_bytes + 1) * (size_t)h;
    uint8_t *filtered = malloc(filtered_n);
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(level);
    size_t bound = z ? libdeflate_zlib_compress_bound(z, filtered_n) : 0;
    uint8_t *idat = z ? malloc(bound) : NULL;
    if (!filtered || !z || !idat) {
        free(filtered);
        free(idat);
        if (z)
            libdeflate_free_compressor(z);
        return sg_fail(SG_E_NOMEM, "%s: out of memory for the PNG stream", path);
    }
    filter_rows(filtered, raw, row_bytes, h, bpp, filter);
    size_t idat_n = libdeflate_zlib_compress(z, filtered, filtered_n, idat, bound);
    libdeflate_free_compressor(z);
    free(filtered);
    if (idat_n == 0 || idat_n > 0x7fffffffu) { /* a chunk's length is 31 bits */
        free(idat);
        return sg_fail(SG_E_SHAPE, "%s: PNG stream too large for one chunk", path);
    }

    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = (uint8_t)depth;
    ihdr[9] = c == 1 ? 0 : 2; /* gray or RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
    int bad = fwrite(sig, 1, 8, fp) != 8 || put_chunk(fp, "IHDR", ihdr, 13) ||
              put_chunk(fp, "IDAT", idat, idat_n) || put_chunk(fp, "IEND", NULL, 0);
    free(idat);
    return bad ? sg_fail(SG_E_IO, "%s: PNG write failed", path) : SG_OK;
}
