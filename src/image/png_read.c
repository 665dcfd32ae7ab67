/* png_read.c - PNG decoding through libpng (sg_png_read of png_io.h).
 *
 * The file is read into memory first and fed to libpng from there, so a
 * truncated file shows up as a libpng error ("Read Error") instead of a
 * short stdio read.  libpng reports errors by longjmp; everything that
 * must be freed on that path lives in a struct reached through a pointer,
 * never in locals changed after setjmp.  What this does not do: gamma or
 * colour-profile conversion (values are the stored samples / max).
 */
#include "src/image/image_read.h"
#include "src/image/png_io.h"
#include "src/base/sg_error.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_source {
    const unsigned char *buf;
    size_t n, pos;
} png_source;

typedef struct png_job {
    const char *name;
    png_structp png;
    png_infop info;
    unsigned char *pixels;   /* (h, rowbytes) raw samples */
    png_bytep *rows;         /* h pointers into pixels */
    char message[256];       /* libpng's error text */
} png_job;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->message, sizeof job->message, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    /* Benign ancillary-chunk warnings (e.g. bad iCCP profiles) are common
     * in the wild; the pixels are still right, so stay quiet. */
    (void)png;
    (void)msg;
}

static void on_png_read(png_structp png, png_bytep dst, png_size_t len)
{
    png_source *src = png_get_io_ptr(png);
    if (len > src->n - src->pos)
        png_error(png, "file is truncated");
    memcpy(dst, src->buf + src->pos, len);
    src->pos += len;
}

/* Runs the libpng part; returns 0 and fills job->pixels/rows and the
 * geometry, or -1 with job->message set (after a longjmp). */
static int png_decode_raw(png_job *job, png_source *src, int *w, int *h, int *channels,
                          int *depth)
{
    if (setjmp(png_jmpbuf(job->png)))
        return -1;
    png_set_read_fn(job->png, src, on_png_read);
    png_read_info(job->png, job->info);
    int color = png_get_color_type(job->png, job->info);
    int bit_depth = png_get_bit_depth(job->png, job->info);
    /* Normalise to 8- or 16-bit gray or RGB without alpha. */
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(job->png);
    if (color == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(job->png);
    if (color & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(job->png);
    png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);
    *w = (int)png_get_image_width(job->png, job->info);
    *h = (int)png_get_image_height(job->png, job->info);
    *channels = png_get_channels(job->png, job->info);
    *depth = png_get_bit_depth(job->png, job->info);
    if ((*channels != 1 && *channels != 3) || (*depth != 8 && *depth != 16))
        png_error(job->png, "unexpected pixel layout after conversion");
    size_t rowbytes = png_get_rowbytes(job->png, job->info);
    if ((size_t)*h > ((size_t)1 << 28) / (rowbytes ? rowbytes : 1))
        png_error(job->png, "image too large");
    job->pixels = malloc(rowbytes * (size_t)*h);
    job->rows = malloc(sizeof(png_bytep) * (size_t)*h);
    if (!job->pixels || !job->rows)
        png_error(job->png, "out of memory");
    for (int y = 0; y < *h; y++)
        job->rows[y] = job->pixels + (size_t)y * rowbytes;
    png_read_image(job->png, job->rows);
    png_read_end(job->png, NULL);
    return 0;
}

int sg_png_decode(const unsigned char *buf, size_t n, const char *name, sg_image *out)
{
    memset(out, 0, sizeof *out);
    if (n < 8 || png_sig_cmp((png_const_bytep)buf, 0, 8) != 0)
        return sg_fail(SG_E_PARSE, "%s: not a PNG or JPEG image", name);
    png_job job;
    memset(&job, 0, sizeof job);
    job.name = name;
    png_source src = {buf, n, 0};
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_png_error, on_png_warning);
    if (!job.png)
        return sg_fail(SG_E_NOMEM, "%s: cannot start the PNG decoder", name);
    job.info = png_create_info_struct(job.png);
    if (!job.info) {
        png_destroy_read_struct(&job.png, NULL, NULL);
        return sg_fail(SG_E_NOMEM, "%s: cannot start the PNG decoder", name);
    }
    int w = 0, h = 0, channels = 0, depth = 0;
    int rc = SG_OK;
    if (png_decode_raw(&job, &src, &w, &h, &channels, &depth) != 0) {
        rc = sg_fail(SG_E_PARSE, "%s: corrupt or truncated PNG image: %s", name, job.message);
        goto done;
    }
    rc = sg_image_alloc(out, channels, h, w);
    if (rc < 0) {
        sg_fail_context(rc, "%s", name);
        goto done;
    }
    /* interleaved (h, w, channels) big-endian samples -> planar floats */
    size_t plane = (size_t)w * (size_t)h;
    if (depth == 8) {
        for (size_t p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                out->data[(size_t)c * plane + p] =
                    (float)job.pixels[p * (size_t)channels + (size_t)c] * (1.0f / 255.0f);
    } else {
        for (size_t p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++) {
                const unsigned char *s = job.pixels + (p * (size_t)channels + (size_t)c) * 2;
                unsigned v = ((unsigned)s[0] << 8) | s[1];
                out->data[(size_t)c * plane + p] = (float)((double)v / 65535.0);
            }
    }
done:
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.pixels);
    free(job.rows);
    return rc;
}
