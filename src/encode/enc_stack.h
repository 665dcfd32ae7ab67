/* enc_stack.h - several encoders stacked as the channels of one image
 * (`--encoder gray+gasf+rp`).
 *
 * Each encoder makes its image exactly as it does alone (its own
 * defaults, the shared options, its own layout), then:
 *   1. each image is mapped to [0, 1] its own way, as the PNG writer and
 *      the in-memory series path map a single encoder (enc_value_range:
 *      bounded ranges linearly, unbounded ones per image min-max, clamped);
 *   2. every image is brought to the FIRST encoder's (H, W) with
 *      sg_image_resize (bilinear, antialiased when shrinking:
 *      torch.nn.functional.interpolate(mode="bilinear", antialias=True,
 *      align_corners=False)); an image already that size is kept as is;
 *   3. the channels are concatenated in list order.
 * So the list's order chooses the common size: `gasf+gray` is gasf-sized,
 * `gray+gasf` gray-sized.  Mapping before the resize keeps the values in
 * [0, 1] (the resize weights are a convex combination).
 *
 * A stack of one encoder is that encoder; callers keep their single-
 * encoder path for it (raw floats in `encode --format npy`).
 */
#ifndef SG_ENC_STACK_H
#define SG_ENC_STACK_H

#include <jansson.h>
#include <stddef.h>

#include "encoders/enc.h"

enum { ENC_STACK_MAX = 8 };

typedef struct enc_stack {
    int n;                        /* encoders, 1..ENC_STACK_MAX */
    enc_params p[ENC_STACK_MAX];  /* in channel order */
} enc_stack;

/* A stack of the single encoder p. */
void enc_stack_single(enc_stack *s, const enc_params *p);

/* "gray+gasf" into buf (truncated to size); a gray whose scope is not
 * dataset carries it as in --encoder ("gray+gray:scope=axis"). */
void enc_stack_name(const enc_stack *s, char *buf, size_t size);

/* Checks every encoder against C x T input and computes the stacked
 * shape: oc = the sum of the encoders' channels, (oh, ow) the first's. */
int enc_stack_shape(const enc_stack *s, int C, int T, int *oc, int *oh, int *ow);

/* Fits every encoder on n segments x (n, C, T) into fits[0..s->n)
 * (entries of encoders without fitted state are valid empty fits).  On
 * failure nothing is left allocated.  The caller frees with
 * enc_stack_fits_free. */
int enc_stack_fit_create(enc_fit **fits, const enc_stack *s, const double *x, size_t n, int C,
                         int T);

/* Frees fits[0..n) and NULLs them. */
void enc_stack_fits_free(enc_fit **fits, int n);

/* Creates one workspace per encoder for C x T into ws[0..s->n); on
 * failure nothing is left allocated.  Free with enc_stack_ws_free. */
int enc_stack_ws_create(enc_workspace **ws, const enc_stack *s, int C, int T);

/* Frees ws[0..n) and NULLs them. */
void enc_stack_ws_free(enc_workspace **ws, int n);

/* Encodes x (C, T) into out (oc, oh, ow) as given by enc_stack_shape,
 * values in [0, 1] (see above).  fits and ws are the stack's (fits[k]
 * may be NULL where encoder k needs none).  Thread-safe with one ws set
 * per thread. */
int enc_stack_encode(float *out, const double *x, int C, int T, const enc_stack *s,
                     enc_fit *const *fits, enc_workspace *const *ws);

/* Maps one encoder image (n values) to [0, 1] in place from its value
 * range (bounded: [lo, hi] linearly; else per image min-max), in double,
 * clamped; a constant image maps to 0.  The one map from raw encoder
 * values to pixels: encode's PNGs, the in-memory training images and the
 * .npy folders read back through encoding.json all use it, so the three
 * feed a network the same values. */
void enc_stack_map_unit(float *v, size_t n, double lo, double hi, int bounded);

/* A new JSON array with one enc_params object per encoder; owned by the
 * caller. */
json_t *enc_stack_to_json(const enc_stack *s);

/* Reads an array written by enc_stack_to_json; SG_E_PARSE naming the
 * entry on bad input. */
int enc_stack_from_json(enc_stack *s, const json_t *arr);

#endif
