/* train_ckpt.h - training checkpoints: the network's tensors, optionally
 * the optimizer's (for --resume), and everything predict needs to use
 * the model on new data without other files: architecture, classes,
 * input channels and size, normalisation, encoder settings and fit, DSA
 * selection, and where training stood.
 *
 * Format: safetensors (models/safetensors.h), written atomically, so a
 * failed write (disk full) leaves the previous checkpoint intact.
 * Tensors keep torchvision's state_dict names; optimizer tensors are
 * prefixed "optim.".  __metadata__ holds "format" =
 * "sensorgram-checkpoint", "arch", and "sensorgram" = a JSON object:
 *   {"version": 1, "arch", "in_channels", "n_classes", "classes": [...],
 *    "image": {"channels", "height", "width", "resize", "mean", "std"},
 *    "sensor": null | {"encoder": {...}, "fit": "<enc fit JSON text>",
 *                      "units", "sensors", "axes", "segment_channels",
 *                      "magnitude": "off"|"add"|"only",
 *                      "stack": absent | [{"encoder": {...}, "fit": text|null}, ...],
 *                      "csv": absent | {"header": "auto"|"yes"|"no", "delimiter": ""|","|...,
 *                               "columns", "window", "stride",
 *                               "label_from": "dir"|"column"|"regex", "label_column",
 *                               "label_first", "label_regex"}},
 *    "state": {"phase", "epoch", "step", "finished", "total_epochs",
 *              "best_valid_loss"},
 *    "run": null | {the run fingerprint: data, samples, classes, options}}
 * and "sha256" = the SHA-256 of the tensor data (ckpt_check.h).
 */
#ifndef SG_TRAIN_CKPT_H
#define SG_TRAIN_CKPT_H

#include "datasets/sensor_csv.h"
#include "encoders/enc.h"
#include "src/encode/enc_stack.h"
#include "models/sg_model.h"
#include "src/train/train.h"
#include "src/image/transform.h"

typedef struct train_meta {
    sg_arch arch;
    int in_channels;
    int n_classes;
    char **class_names;         /* n_classes, owned */
    sg_transform_spec spec;     /* eval geometry and normalisation */
    int is_series;
    enc_params enc;             /* when is_series */
    char *fit_text;             /* enc fit JSON text or NULL, owned */
    char *units, *sensors, *axes; /* DSA selection or NULL, owned */
    int segment_channels;       /* channels the encoder sees (norm rows included) */
    int magnitude;              /* dsa_magnitude: norm rows added to the DSA axes */
    int max_length;             /* inputs longer are shortened to it (series_length.h);
                                 * 0 none (absent in older checkpoints) */
    enc_stack stack;            /* when is_series; n > 1: stacked encoders (enc = p[0]) */
    char *stack_fit_text[ENC_STACK_MAX]; /* n > 1: each encoder's fit text or NULL, owned */
    int has_csv;                /* trained on CSV recordings read with csv (absent in
                                 * older checkpoints: read with the defaults) */
    sensor_csv_options csv;     /* its strings (columns, label_column, label_regex) are
                                 * owned; subjects are not kept (no split at predict) */
    train_state state;
    char *run_text;             /* what defines the run (JSON, job_fingerprint.h)
                                 * or NULL, owned; --resume compares it */
} train_meta;

/* Deep-copies class names and selection strings into meta (fit_text is
 * copied too).  The caller owns meta (train_meta_free). */
int train_meta_init(train_meta *meta, sg_arch arch, int n_classes,
                    const char *const *class_names, const sg_transform_spec *spec);

/* Sets a copy of s into *field (freeing the old value); s may be NULL. */
int train_meta_set_string(char **field, const char *s);

/* Frees what meta owns and zeroes it; accepts NULL. */
void train_meta_free(train_meta *meta);

/* Writes m's tensors (plus o's when o != NULL) and meta to path
 * atomically.  Everything borrowed. */
int train_ckpt_save(const char *path, sg_model *m, sg_optim *o, const train_meta *meta);

/* As train_ckpt_save; held != NULL: m holds averaged weights (--ema,
 * --swa) and held the training ones, saved as "train.<name>" tensors so
 * that --resume continues from them (train_ckpt_load_held). */
int train_ckpt_save_held(const char *path, sg_model *m, sg_optim *o, const sg_wavg *held,
                         const train_meta *meta);

/* For --resume with weight averaging: m was loaded from path (its main
 * tensors, the averaged weights when averaging had started).  Creates
 * *out, the average, from them and gives m the training weights saved
 * beside them ("train.*"); without those, *out is a copy of m.  The
 * caller owns *out (sg_wavg_free before m). */
int train_ckpt_load_held(sg_wavg **out, sg_model *m, const char *path);

/* Reads meta from path (validating the file); the caller owns meta. */
int train_ckpt_read_meta(train_meta *meta, const char *path);

/* Creates a model for the checkpoint at path on device (NULL = auto,
 * n_threads CPU threads, 0 = one per core) and loads its tensors; fills
 * meta.  expect_arch >= 0 makes a checkpoint of another architecture an
 * error.  The caller owns *out and meta. */
int train_ckpt_load(sg_model **out, train_meta *meta, const char *path, const char *device,
                    int expect_arch, sg_precision precision, int n_threads);

/* Loads the "optim." tensors of path into o (resume). */
int train_ckpt_load_optim(sg_optim *o, const char *path);

#endif
