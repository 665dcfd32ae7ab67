/* transform.h - geometry, augmentation and normalisation of sg_image.
 *
 * The one path every image takes into a batch: photos and encoded sensor
 * images alike.  Semantics follow torchvision 0.14 where it has an
 * equivalent (Resize with antialias, CenterCrop, RandomResizedCrop), so
 * that the C pipeline can be checked against it.  Randomness comes only
 * from the sg_rng passed in (rng.h), never from global state.
 *
 * Resampling: bilinear with PIL-style antialiasing when downscaling (the
 * triangle filter's support is widened by the scale factor, i.e. each
 * output pixel averages its whole footprint; this equals
 * torch.nn.functional.interpolate(mode="bilinear", antialias=True,
 * align_corners=False) and degrades to plain bilinear when upscaling).
 * Geometry functions work on any channel count.
 */
#ifndef SG_TRANSFORM_H
#define SG_TRANSFORM_H

#include <stdint.h>

#include "src/image/image.h"
#include "src/base/rng.h"

/* Resizes in to exactly h x w into a newly allocated out (owned by the
 * caller).  out must not alias in. */
int sg_image_resize(sg_image *out, const sg_image *in, int h, int w);

/* Resizes so that the shorter side becomes size, keeping the aspect
 * ratio (long side = trunc(size * long / short), as torchvision); out is
 * newly allocated and owned by the caller. */
int sg_image_resize_short(sg_image *out, const sg_image *in, int size);

/* Crops the h x w window at (top, left) into a newly allocated out owned
 * by the caller; parts outside in are filled with 0. */
int sg_image_crop(sg_image *out, const sg_image *in, int top, int left, int h, int w);

/* Centre crop h x w (offsets round((H - h) / 2) half-to-even like
 * torchvision; zero padding when the image is smaller); out owned by the
 * caller. */
int sg_image_center_crop(sg_image *out, const sg_image *in, int h, int w);

/* torchvision RandomResizedCrop.get_params: picks a window with area
 * fraction in [scale_min, scale_max] and aspect ratio in [ratio_min,
 * ratio_max] (log-uniform), 10 tries, then the central fallback.  Writes
 * top, left, height, width; advances rng. */
void sg_rrc_params(int *top, int *left, int *ch, int *cw, int h, int w, double scale_min,
                   double scale_max, double ratio_min, double ratio_max, sg_rng *rng);

/* Flips in place: horizontal (mirror columns) or vertical (mirror rows). */
void sg_image_hflip(sg_image *img);
void sg_image_vflip(sg_image *img);

/* Affine warp about the image centre: rotate by angle_deg (counter-
 * clockwise), scale by zoom, then translate by (tx, ty) pixels; bilinear,
 * 0 outside.  out is newly allocated (same shape as in), caller-owned. */
int sg_image_affine(sg_image *out, const sg_image *in, double angle_deg, double zoom, double tx,
                    double ty);

/* Converts channel count into a newly allocated out (caller-owned):
 * same -> copy, 1 -> 3 repeats gray, 3 -> 1 uses ITU-R 601 luma
 * (0.2989, 0.587, 0.114 as torchvision rgb_to_grayscale). */
int sg_image_to_channels(sg_image *out, const sg_image *in, int channels);

/* (x - mean[c]) / std[c] in place; mean and std have img->c entries. */
int sg_image_normalize(sg_image *img, const float *mean, const float *std);

/* The most channels a pipeline carries (stacked sensor encoders give
 * more than photos' 1 or 3). */
enum { SG_TRANSFORM_MAX_CHANNELS = 32 };

/* How an image reaches the spec's height x width. */
typedef enum sg_resize_mode {
    SG_RESIZE_NONE = 0,        /* sizes must already match (sensor images) */
    SG_RESIZE_SQUISH = 1,      /* resize to exactly h x w, aspect not kept */
    SG_RESIZE_SHORT_CROP = 2,  /* shorter side to max(h, w), then centre crop */
} sg_resize_mode;

/* A whole preprocessing pipeline; the same spec serves train and eval,
 * the train flag of sg_transform_apply enables the random parts. */
typedef struct sg_transform_spec {
    int channels;              /* output channels (1 or 3, input adapted; up to
                                * SG_TRANSFORM_MAX_CHANNELS for stacked encoders) */
    int height, width;         /* output size */
    sg_resize_mode resize;     /* eval geometry (and train without RRC) */
    int train_random_crop;     /* train: RandomResizedCrop instead of resize */
    double rrc_scale[2];       /* default (0.08, 1) */
    double rrc_ratio[2];       /* default (3/4, 4/3) */
    double hflip_p, vflip_p;   /* train: flip probabilities */
    double max_rotate_deg;     /* train: uniform in [-max, max] */
    double max_translate;      /* train: fraction of size, uniform +-max */
    double max_zoom;           /* train: zoom uniform in [1 - max, 1 + max] */
    int normalize;             /* apply mean/std */
    float mean[SG_TRANSFORM_MAX_CHANNELS], std[SG_TRANSFORM_MAX_CHANNELS]; /* per channel */
} sg_transform_spec;

/* The ImageNet channel statistics (torchvision's): pretrained networks
 * expect inputs normalised with them. */
extern const float sg_imagenet_mean[3];
extern const float sg_imagenet_std[3];

/* Defaults for encoded sensor images: exact size required, every
 * augmentation off (flipping or rotating a time axis changes meaning),
 * ImageNet mean/std on (3 channels; other counts: the gray mean 0.449
 * and std 0.226 of the ImageNet statistics on every channel). */
void sg_transform_spec_sensor(sg_transform_spec *s, int channels, int height, int width);

/* Defaults for photos: shorter side + centre crop for eval,
 * RandomResizedCrop + horizontal flip p=0.5 for training, ImageNet
 * mean/std, 3 channels. */
void sg_transform_spec_photo(sg_transform_spec *s, int height, int width);

/* Checks a spec's values; SG_E_INVALID with a message naming the field. */
int sg_transform_spec_check(const sg_transform_spec *s);

/* Runs the pipeline on in and writes (channels, height, width) floats to
 * out_chw (caller-owned, e.g. a batch slot).  train enables the random
 * parts, which draw only from rng.  A size mismatch under
 * SG_RESIZE_NONE fails with SG_E_SHAPE. */
int sg_transform_apply(const sg_transform_spec *s, int train, const sg_image *in, float *out_chw,
                       sg_rng *rng);

#endif
