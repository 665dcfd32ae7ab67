/* weights.h - torchvision-named safetensors weights in and out of a model.
 *
 * Files are safetensors or PyTorch .pth (read without pickle's code
 * execution, models/pth_read.h).  Loading validates the whole file against the network's expected names
 * and shapes before it touches any tensor, adapts the first convolution
 * from RGB to the model's input channels, and leaves a new head in place
 * when the class count differs.  Pretrained files live under
 * ${XDG_DATA_HOME:-~/.local/share}/sensorgram/weights/NAME.safetensors.
 */
#ifndef SG_WEIGHTS_H
#define SG_WEIGHTS_H

#include <stddef.h>

#include "models/safetensors.h"
#include "models/sg_model.h"

/* What sg_weights_load did beyond a plain copy (for the caller to say). */
typedef struct sg_weights_report {
    int stem_adapted;        /* 1: conv1 adapted from file_in_channels */
    int file_in_channels;    /* conv1.weight's input channels in the file */
    int head_replaced;       /* 1: fc.* skipped, the model keeps its new head */
    int file_classes;        /* fc.weight rows in the file */
    int missing_bn_counters; /* num_batches_tracked absent in the file */
} sg_weights_report;

/* Loads the already opened, validated file f into m (see the file
 * comment); rep may be NULL.  Fails with SG_E_CORRUPT / SG_E_SHAPE
 * naming f's path and the tensor, with m untouched. */
int sg_weights_load_file(sg_model *m, const sg_st_file *f, sg_weights_report *rep);

/* Opens path, a .safetensors or a PyTorch .pth (told apart by content),
 * into f (caller closes it with sg_st_close); key picks the state dict
 * inside a .pth checkpoint (NULL: automatic, see models/pth_read.h). */
int sg_weights_open(sg_st_file *f, const char *path, const char *key);

/* The architecture f's tensors fit (names and shapes, with the stem and
 * head exceptions of loading), with fc's class count and conv1's input
 * channels; SG_E_SHAPE naming what each architecture missed. */
int sg_weights_fit(const sg_st_file *f, sg_arch *arch, int *n_classes, int *in_channels);

/* Converts src (.pth or .safetensors; key as for sg_weights_open) into a
 * safetensors file dst written atomically, its "source" metadata
 * source_label (NULL: src): float tensors as F32, integer
 * ones as I64, after checking that they fit an architecture (skipped,
 * and recorded as "unchecked", in a NO_TORCH build). */
int sg_weights_import(const char *src, const char *key, const char *dst, const char *source_label);

/* Opens path (.safetensors or .pth) and loads it into m as
 * sg_weights_load_file does. */
int sg_weights_load(sg_model *m, const char *path, sg_weights_report *rep);

/* Reads only the header of path: class count (fc.weight rows) and input
 * channels (conv1.weight's second dimension). */
int sg_weights_probe(const char *path, int *n_classes, int *in_channels);

/* Writes every tensor of m (torchvision names and order; integer
 * buffers as I64) plus n_meta metadata pairs to path atomically. */
int sg_weights_save(const sg_model *m, const char *path, const char *const *keys,
                    const char *const *values, size_t n_meta);

/* The first convolution's weights adapted from 3 (RGB) input channels to
 * in_ch: in_ch = 1 sums over RGB; otherwise the RGB kernels repeat
 * cyclically and are scaled by 3/in_ch, which keeps the activations'
 * scale.  rgb is (out_ch, 3, kh, kw), dst (out_ch, in_ch, kh, kw), both
 * caller-owned. */
void sg_weights_adapt_stem(float *dst, const float *rgb, int out_ch, int in_ch, int kh, int kw);

/* The same from src_ch input channels (another pretraining's stem):
 * in_ch = 1 sums over them; otherwise they repeat cyclically, scaled by
 * src_ch/in_ch (loading uses it for in_ch >= src_ch only).  src is
 * (out_ch, src_ch, kh, kw). */
void sg_weights_adapt_stem_from(float *dst, const float *src, int out_ch, int src_ch, int in_ch,
                                int kh, int kw);

/* Writes the folder of pretrained weights into out. */
int sg_weights_dir(char *out, size_t size);

/* Resolves --pretrained NAME|PATH: a path (has a '/', ends in
 * .safetensors, or exists) is used as is, a NAME (e.g. resnet34) maps to
 * sg_weights_dir()/NAME.safetensors, which must exist. */
int sg_weights_resolve(char *out, size_t size, const char *name_or_path);

#endif
