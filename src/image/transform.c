/* transform.c - resize, crop, flip, affine, channel adaptation and the
 * train/eval pipeline (see transform.h for the semantics).
 *
 * Resizing is separable: a horizontal pass into a (c, in_h, out_w)
 * temporary, then a vertical pass, each with precomputed PIL-style
 * triangle-filter weights.  Accumulation is in double so results match
 * torch's antialiased interpolate to ~1e-6.
 */
#include "src/image/transform.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Filter taps for one axis: out[i] = sum_k weight[i*ksize + k] * in[first[i] + k]
 * for k < count[i]. */
typedef struct resample_axis {
    int ksize;
    int *first, *count;
    double *weight;
} resample_axis;

static void axis_free(resample_axis *a)
{
    free(a->first);
    free(a->count);
    free(a->weight);
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static int axis_init(resample_axis *a, int in_size, int out_size)
{
    memset(a, 0, sizeof *a);
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale > 1.0 ? scale : 1.0;
    double support = 1.0 * filterscale;   /* bilinear's support is 1 */
    a->ksize = (int)ceil(support) * 2 + 1;
    a->first = malloc(sizeof(int) * (size_t)out_size);
    a->count = malloc(sizeof(int) * (size_t)out_size);
    a->weight = calloc((size_t)out_size * (size_t)a->ksize, sizeof(double));
    if (!a->first || !a->count || !a->weight) {
        axis_free(a);
        return sg_fail(SG_E_NOMEM, "out of memory for resize weights");
    }
    double ss = 1.0 / filterscale;
    for (int i = 0; i < out_size; i++) {
        double center = ((double)i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        if (lo < 0)
            lo = 0;
        int hi = (int)(center + support + 0.5);
        if (hi > in_size)
            hi = in_size;
        int cnt = hi - lo;
        if (cnt > a->ksize)
            cnt = a->ksize;
        double *w = a->weight + (size_t)i * (size_t)a->ksize;
        double total = 0.0;
        for (int k = 0; k < cnt; k++) {
            w[k] = triangle(((double)(k + lo) - center + 0.5) * ss);
            total += w[k];
        }
        for (int k = 0; k < cnt && total != 0.0; k++)
            w[k] /= total;
        a->first[i] = lo;
        a->count[i] = cnt;
    }
    return SG_OK;
}

int sg_image_resize(sg_image *out, const sg_image *in, int h, int w)
{
    memset(out, 0, sizeof *out);
    if (h <= 0 || w <= 0)
        return sg_fail(SG_E_INVALID, "resize to invalid size %dx%d", h, w);
    resample_axis ax, ay;
    int rc = axis_init(&ax, in->w, w);
    if (rc < 0)
        return rc;
    rc = axis_init(&ay, in->h, h);
    if (rc < 0) {
        axis_free(&ax);
        return rc;
    }
    /* tmp is (c, in_h, w) after the horizontal pass */
    float *tmp = malloc(sizeof(float) * (size_t)in->c * (size_t)in->h * (size_t)w);
    if (!tmp) {
        rc = sg_fail(SG_E_NOMEM, "out of memory for resize");
        goto done;
    }
    rc = sg_image_alloc(out, in->c, h, w);
    if (rc < 0)
        goto done;
    for (int c = 0; c < in->c; c++) {
        for (int y = 0; y < in->h; y++) {
            const float *src = in->data + ((size_t)c * (size_t)in->h + (size_t)y) * (size_t)in->w;
            float *dst = tmp + ((size_t)c * (size_t)in->h + (size_t)y) * (size_t)w;
            for (int x = 0; x < w; x++) {
                const double *wt = ax.weight + (size_t)x * (size_t)ax.ksize;
                const float *s = src + ax.first[x];
                double acc = 0.0;
                for (int k = 0; k < ax.count[x]; k++)
                    acc += wt[k] * (double)s[k];
                dst[x] = (float)acc;
            }
        }
        for (int y = 0; y < h; y++) {
            const double *wt = ay.weight + (size_t)y * (size_t)ay.ksize;
            float *dst = out->data + ((size_t)c * (size_t)h + (size_t)y) * (size_t)w;
            for (int x = 0; x < w; x++) {
                double acc = 0.0;
                for (int k = 0; k < ay.count[y]; k++) {
                    size_t row = (size_t)c * (size_t)in->h + (size_t)(ay.first[y] + k);
                    acc += wt[k] * (double)tmp[row * (size_t)w + (size_t)x];
                }
                dst[x] = (float)acc;
            }
        }
    }
done:
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    if (rc < 0)
        sg_image_free(out);
    return rc;
}

int sg_image_resize_short(sg_image *out, const sg_image *in, int size)
{
    memset(out, 0, sizeof *out);
    if (size <= 0)
        return sg_fail(SG_E_INVALID, "resize to invalid size %d", size);
    int h, w;
    if (in->w <= in->h) {
        w = size;
        h = (int)((double)size * (double)in->h / (double)in->w);
    } else {
        h = size;
        w = (int)((double)size * (double)in->w / (double)in->h);
    }
    return sg_image_resize(out, in, h, w);
}

int sg_image_crop(sg_image *out, const sg_image *in, int top, int left, int h, int w)
{
    int rc = sg_image_alloc(out, in->c, h, w);
    if (rc < 0)
        return rc;
    for (int c = 0; c < in->c; c++)
        for (int y = 0; y < h; y++) {
            float *dst = out->data + ((size_t)c * (size_t)h + (size_t)y) * (size_t)w;
            int sy = top + y;
            for (int x = 0; x < w; x++) {
                int sx = left + x;
                dst[x] = (sy >= 0 && sy < in->h && sx >= 0 && sx < in->w)
                             ? in->data[((size_t)c * (size_t)in->h + (size_t)sy) * (size_t)in->w +
                                        (size_t)sx]
                             : 0.0f;
            }
        }
    return SG_OK;
}

int sg_image_center_crop(sg_image *out, const sg_image *in, int h, int w)
{
    /* nearbyint rounds half to even, like Python's round(). */
    int top = (int)nearbyint((double)(in->h - h) / 2.0);
    int left = (int)nearbyint((double)(in->w - w) / 2.0);
    return sg_image_crop(out, in, top, left, h, w);
}

void sg_rrc_params(int *top, int *left, int *ch, int *cw, int h, int w, double scale_min,
                   double scale_max, double ratio_min, double ratio_max, sg_rng *rng)
{
    double area = (double)h * (double)w;
    double log_lo = log(ratio_min), log_hi = log(ratio_max);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * sg_rng_range(rng, scale_min, scale_max);
        double aspect = exp(sg_rng_range(rng, log_lo, log_hi));
        int cwi = (int)nearbyint(sqrt(target * aspect));
        int chi = (int)nearbyint(sqrt(target / aspect));
        if (cwi > 0 && cwi <= w && chi > 0 && chi <= h) {
            *top = (int)sg_rng_below(rng, (uint64_t)(h - chi + 1));
            *left = (int)sg_rng_below(rng, (uint64_t)(w - cwi + 1));
            *ch = chi;
            *cw = cwi;
            return;
        }
    }
    /* Fallback: the central crop with the ratio clamped into range. */
    double in_ratio = (double)w / (double)h;
    int cwi = w, chi = h;
    if (in_ratio < ratio_min)
        chi = (int)nearbyint((double)w / ratio_min);
    else if (in_ratio > ratio_max)
        cwi = (int)nearbyint((double)h * ratio_max);
    *ch = chi;
    *cw = cwi;
    *top = (h - chi) / 2;
    *left = (w - cwi) / 2;
}

void sg_image_hflip(sg_image *img)
{
    for (size_t r = 0; r < (size_t)img->c * (size_t)img->h; r++) {
        float *row = img->data + r * (size_t)img->w;
        for (int a = 0, b = img->w - 1; a < b; a++, b--) {
            float t = row[a];
            row[a] = row[b];
            row[b] = t;
        }
    }
}

void sg_image_vflip(sg_image *img)
{
    size_t w = (size_t)img->w;
    for (int c = 0; c < img->c; c++) {
        float *plane = img->data + (size_t)c * (size_t)img->h * w;
        for (int a = 0, b = img->h - 1; a < b; a++, b--)
            for (size_t x = 0; x < w; x++) {
                float t = plane[(size_t)a * w + x];
                plane[(size_t)a * w + x] = plane[(size_t)b * w + x];
                plane[(size_t)b * w + x] = t;
            }
    }
}

static double sample_zero(const float *plane, int h, int w, int y, int x)
{
    if (y < 0 || y >= h || x < 0 || x >= w)
        return 0.0;
    return plane[(size_t)y * (size_t)w + (size_t)x];
}

int sg_image_affine(sg_image *out, const sg_image *in, double angle_deg, double zoom, double tx,
                    double ty)
{
    memset(out, 0, sizeof *out);
    if (!(zoom > 0.0))
        return sg_fail(SG_E_INVALID, "affine zoom must be > 0 (got %g)", zoom);
    int rc = sg_image_alloc(out, in->c, in->h, in->w);
    if (rc < 0)
        return rc;
    /* Inverse map: source = R(-angle) * (dest - centre - t) / zoom + centre,
     * in pixel-centre coordinates (pixel i spans [i, i + 1)). */
    double a = angle_deg * M_PI / 180.0;
    double ca = cos(a), sa = sin(a);
    double cx = in->w * 0.5, cy = in->h * 0.5;
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++) {
            double dx = ((double)x + 0.5 - cx - tx) / zoom;
            double dy = ((double)y + 0.5 - cy - ty) / zoom;
            /* y points down, so this rotates counter-clockwise on screen */
            double sx = ca * dx - sa * dy + cx - 0.5;
            double sy = sa * dx + ca * dy + cy - 0.5;
            int x0 = (int)floor(sx), y0 = (int)floor(sy);
            double fx = sx - x0, fy = sy - y0;
            for (int c = 0; c < in->c; c++) {
                const float *p = in->data + (size_t)c * (size_t)in->h * (size_t)in->w;
                double v = (1 - fy) * ((1 - fx) * sample_zero(p, in->h, in->w, y0, x0) +
                                       fx * sample_zero(p, in->h, in->w, y0, x0 + 1)) +
                           fy * ((1 - fx) * sample_zero(p, in->h, in->w, y0 + 1, x0) +
                                 fx * sample_zero(p, in->h, in->w, y0 + 1, x0 + 1));
                out->data[((size_t)c * (size_t)in->h + (size_t)y) * (size_t)in->w + (size_t)x] =
                    (float)v;
            }
        }
    return SG_OK;
}

int sg_image_to_channels(sg_image *out, const sg_image *in, int channels)
{
    memset(out, 0, sizeof *out);
    size_t plane = (size_t)in->h * (size_t)in->w;
    if (in->c == channels) {
        int rc = sg_image_alloc(out, channels, in->h, in->w);
        if (rc == 0)
            memcpy(out->data, in->data, sizeof(float) * plane * (size_t)channels);
        return rc;
    }
    if (in->c == 1 && channels == 3) {
        int rc = sg_image_alloc(out, 3, in->h, in->w);
        if (rc < 0)
            return rc;
        for (int c = 0; c < 3; c++)
            memcpy(out->data + (size_t)c * plane, in->data, sizeof(float) * plane);
        return SG_OK;
    }
    if (in->c == 3 && channels == 1) {
        int rc = sg_image_alloc(out, 1, in->h, in->w);
        if (rc < 0)
            return rc;
        for (size_t p = 0; p < plane; p++)
            out->data[p] = 0.2989f * in->data[p] + 0.587f * in->data[plane + p] +
                           0.114f * in->data[2 * plane + p];
        return SG_OK;
    }
    return sg_fail(SG_E_SHAPE, "cannot convert a %d-channel image to %d channels", in->c,
                   channels);
}

int sg_image_normalize(sg_image *img, const float *mean, const float *std)
{
    size_t plane = (size_t)img->h * (size_t)img->w;
    for (int c = 0; c < img->c; c++)
        if (!(std[c] > 0.0f))
            return sg_fail(SG_E_INVALID, "normalization std[%d] must be > 0 (got %g)", c,
                           (double)std[c]);
    for (int c = 0; c < img->c; c++) {
        float *p = img->data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            p[i] = (p[i] - mean[c]) / std[c];
    }
    return SG_OK;
}

const float sg_imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
const float sg_imagenet_std[3] = {0.229f, 0.224f, 0.225f};

void sg_transform_spec_sensor(sg_transform_spec *s, int channels, int height, int width)
{
    memset(s, 0, sizeof *s);
    s->channels = channels;
    s->height = height;
    s->width = width;
    s->resize = SG_RESIZE_NONE;
    s->rrc_scale[0] = 0.08;
    s->rrc_scale[1] = 1.0;
    s->rrc_ratio[0] = 3.0 / 4.0;
    s->rrc_ratio[1] = 4.0 / 3.0;
    s->normalize = 1;
    for (int c = 0; c < SG_TRANSFORM_MAX_CHANNELS; c++) {
        /* gray (and stacked) sensor images use the mean of the ImageNet statistics */
        s->mean[c] = channels == 3 && c < 3 ? sg_imagenet_mean[c] : 0.449f;
        s->std[c] = channels == 3 && c < 3 ? sg_imagenet_std[c] : 0.226f;
    }
}

void sg_transform_spec_photo(sg_transform_spec *s, int height, int width)
{
    sg_transform_spec_sensor(s, 3, height, width);
    s->resize = SG_RESIZE_SHORT_CROP;
    s->train_random_crop = 1;
    s->hflip_p = 0.5;
}

int sg_transform_spec_check(const sg_transform_spec *s)
{
    if (s->channels < 1 || s->channels > SG_TRANSFORM_MAX_CHANNELS)
        return sg_fail(SG_E_INVALID, "transform: channels must be 1 to %d (got %d)",
                       SG_TRANSFORM_MAX_CHANNELS, s->channels);
    if (s->height <= 0 || s->width <= 0 || s->height > 16384 || s->width > 16384)
        return sg_fail(SG_E_INVALID, "transform: invalid image size %dx%d", s->height, s->width);
    if (s->resize != SG_RESIZE_NONE && s->resize != SG_RESIZE_SQUISH &&
        s->resize != SG_RESIZE_SHORT_CROP)
        return sg_fail(SG_E_INVALID, "transform: unknown resize mode %d", (int)s->resize);
    if (s->train_random_crop &&
        !(s->rrc_scale[0] > 0 && s->rrc_scale[0] <= s->rrc_scale[1] && s->rrc_scale[1] <= 1.0 &&
          s->rrc_ratio[0] > 0 && s->rrc_ratio[0] <= s->rrc_ratio[1]))
        return sg_fail(SG_E_INVALID, "transform: invalid random-resized-crop scale/ratio");
    if (!(s->hflip_p >= 0 && s->hflip_p <= 1 && s->vflip_p >= 0 && s->vflip_p <= 1))
        return sg_fail(SG_E_INVALID, "transform: flip probabilities must be in [0, 1]");
    if (!(s->max_rotate_deg >= 0 && s->max_rotate_deg <= 180 && s->max_translate >= 0 &&
          s->max_translate < 1 && s->max_zoom >= 0 && s->max_zoom < 1))
        return sg_fail(SG_E_INVALID,
                       "transform: rotation must be in [0, 180], translate and zoom in [0, 1)");
    if (s->normalize)
        for (int c = 0; c < s->channels; c++)
            if (!(s->std[c] > 0))
                return sg_fail(SG_E_INVALID, "transform: std[%d] must be > 0", c);
    return SG_OK;
}

/* Replaces *cur by next (freeing the old working image). */
static void take(sg_image *cur, sg_image *next)
{
    sg_image_free(cur);
    *cur = *next;
    memset(next, 0, sizeof *next);
}

static int apply_geometry(const sg_transform_spec *s, int train, const sg_image *in,
                          sg_image *work, sg_rng *rng)
{
    sg_image next = {0};
    int rc = SG_OK;
    if (train && s->train_random_crop) {
        int top, left, ch, cw;
        sg_rrc_params(&top, &left, &ch, &cw, in->h, in->w, s->rrc_scale[0], s->rrc_scale[1],
                      s->rrc_ratio[0], s->rrc_ratio[1], rng);
        sg_image crop = {0};
        rc = sg_image_crop(&crop, in, top, left, ch, cw);
        if (rc < 0)
            return rc;
        rc = sg_image_resize(&next, &crop, s->height, s->width);
        sg_image_free(&crop);
    } else if (s->resize == SG_RESIZE_NONE) {
        if (in->h != s->height || in->w != s->width)
            return sg_fail(SG_E_SHAPE, "image is %dx%d but the pipeline expects %dx%d (no resize)",
                           in->h, in->w, s->height, s->width);
        rc = sg_image_to_channels(&next, in, in->c);   /* a private copy */
    } else if (s->resize == SG_RESIZE_SQUISH) {
        rc = sg_image_resize(&next, in, s->height, s->width);
    } else {
        sg_image shorter = {0};
        int side = s->height > s->width ? s->height : s->width;
        rc = sg_image_resize_short(&shorter, in, side);
        if (rc < 0)
            return rc;
        rc = sg_image_center_crop(&next, &shorter, s->height, s->width);
        sg_image_free(&shorter);
    }
    if (rc < 0)
        return rc;
    take(work, &next);
    return SG_OK;
}

static int apply_augment(const sg_transform_spec *s, sg_image *work, sg_rng *rng)
{
    /* Draw every random number unconditionally, in a fixed order, so a
     * sample's stream does not depend on earlier outcomes. */
    double u_h = sg_rng_uniform(rng), u_v = sg_rng_uniform(rng);
    double angle = sg_rng_range(rng, -s->max_rotate_deg, s->max_rotate_deg);
    double zoom = sg_rng_range(rng, 1.0 - s->max_zoom, 1.0 + s->max_zoom);
    double tx = sg_rng_range(rng, -s->max_translate, s->max_translate) * work->w;
    double ty = sg_rng_range(rng, -s->max_translate, s->max_translate) * work->h;
    if (u_h < s->hflip_p)
        sg_image_hflip(work);
    if (u_v < s->vflip_p)
        sg_image_vflip(work);
    if (s->max_rotate_deg > 0 || s->max_zoom > 0 || s->max_translate > 0) {
        sg_image next = {0};
        int rc = sg_image_affine(&next, work, angle, zoom, tx, ty);
        if (rc < 0)
            return rc;
        take(work, &next);
    }
    return SG_OK;
}

int sg_transform_apply(const sg_transform_spec *s, int train, const sg_image *in, float *out_chw,
                       sg_rng *rng)
{
    if (!in || !in->data || in->c <= 0)
        return sg_fail(SG_E_INVALID, "transform: empty input image");
    sg_image work = {0};
    int rc = apply_geometry(s, train, in, &work, rng);
    if (rc == 0 && train)
        rc = apply_augment(s, &work, rng);
    if (rc == 0 && work.c != s->channels) {
        sg_image next = {0};
        rc = sg_image_to_channels(&next, &work, s->channels);
        if (rc == 0)
            take(&work, &next);
    }
    if (rc == 0 && s->normalize)
        rc = sg_image_normalize(&work, s->mean, s->std);
    if (rc == 0)
        memcpy(out_chw, work.data, sizeof(float) * sg_image_numel(&work));
    sg_image_free(&work);
    return rc;
}
