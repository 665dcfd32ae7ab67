/* sample_source.h - where the loader's samples come from.
 *
 * A sample source is an indexed set of labelled images that the batch
 * loader asks for one at a time from its worker threads.  Two kinds:
 *
 *   images  PNG/JPEG files (a class-per-folder tree, an encoded folder's
 *           manifest, an unlabelled test folder), decoded on demand;
 *   series  sensor segments held in memory (an sg_series_set), encoded
 *           on the fly with one enc_workspace per loader worker (a small
 *           pool: a worker borrows a free workspace for one encode, so
 *           the loader's callback needs no thread number): no PNG round
 *           trip.  Encoder output is mapped to [0, 1] exactly as
 *           the PNG writer maps it (enc_value_range: bounded ranges
 *           linearly, unbounded ones per image min-max), so that photos
 *           and sensor images meet at the same image path (transform.h).
 *
 * Both give a (c, h, w) sg_image in [0, 1]; geometry, augmentation and
 * normalisation happen later, in sg_transform_apply.  A source does not
 * know about splits: the training engine works with index lists.
 */
#ifndef SG_SAMPLE_SOURCE_H
#define SG_SAMPLE_SOURCE_H

#include <pthread.h>
#include <stddef.h>

#include "encoders/enc.h"
#include "src/encode/enc_stack.h"
#include "src/image/image.h"
#include "src/train/loader.h"
#include "datasets/series.h"
#include "datasets/series_augment.h"

typedef enum sample_kind {
    SAMPLE_IMAGES,
    SAMPLE_SERIES,
} sample_kind;

typedef struct sample_source {
    sample_kind kind;
    size_t n;
    int n_classes;
    char **class_names;   /* n_classes, owned */
    int *label;           /* n class indices, -1 = unlabelled, owned */
    int *group;           /* n group ids (subjects) or -1, owned */
    char **name;          /* n display names (file path / segment name), owned */

    /* SAMPLE_IMAGES */
    char **path;          /* n file paths, owned */
    size_t *row;          /* n rows of a stacked X.npy (path[i]), owned, or NULL */
    int value_map;        /* 1: map values from [vlo, vhi] (or per image) to [0, 1] */
    double vlo, vhi;
    int vbounded;

    /* SAMPLE_SERIES */
    sg_series_set series; /* owned */
    enc_params enc;       /* the (first) encoder */
    enc_fit *fit;         /* owned, may be NULL (single encoder) */
    enc_stack stack;      /* stack.n > 1: encoders stacked as channels (enc_stack.h) */
    enc_fit *stack_fit[ENC_STACK_MAX]; /* stack.n > 1: one fit per encoder, owned */
    enc_workspace **ws;   /* n_threads (x stack.n) workspaces, owned */
    int n_threads;
    int *ws_free;         /* stack of free workspace indices */
    int n_free;
    pthread_mutex_t ws_lock;
    pthread_cond_t ws_ready;
    int ws_sync;          /* lock and condition initialised */
    int oc, oh, ow;       /* encoder output shape */
    double lo, hi;        /* enc_value_range */
    int bounded;
    /* raw-series changes before encoding (series_augment.h): aug on
     * training reads only, roll (test-time shifts) on every read */
    int aug_on;
    series_aug_params aug;
    series_aug_layout aug_layout;
    int roll;
} sample_source;

/* Builds an image source from n paths (copied), labels (n class indices
 * or NULL for unlabelled; copied), groups (n ids or NULL; copied) and
 * n_classes class names (copied; may be 0 for unlabelled sets).  The
 * caller owns out (sample_source_free). */
int sample_source_images(sample_source *out, size_t n, const char *const *paths,
                         const int *labels, const int *groups, int n_classes,
                         const char *const *class_names);

/* Makes samples of an image source rows of stacked arrays: sample i is
 * row rows[i] of the (N, C, H, W) float32 .npy at path[i] (rows copied;
 * names become "PATH[ROW]"); rows[i] == SIZE_MAX keeps sample i an
 * image file.  For `encode --stack` folders. */
int sample_source_set_rows(sample_source *s, const size_t *rows);

/* Maps every image of an image source from the encoder's value range to
 * [0, 1] as the PNG writer and the in-memory series path do (bounded:
 * [lo, hi] linearly; else per-image min-max): for raw encoder floats
 * read from .npy files (the folder's encoding.json says which range). */
void sample_source_set_value_map(sample_source *s, double lo, double hi, int bounded);

/* Reads OUTDIR/encoding.json as `encode` writes it beside .npy output:
 * *found = 0 when there is none (PNG folders, photos); else the value
 * range into lo/hi/bounded.  SG_E_PARSE naming the file on bad JSON. */
int sample_source_read_encoding(const char *dir, int *found, double *lo, double *hi,
                                int *bounded);

/* Builds a series source that TAKES OWNERSHIP of *set (zeroed on success)
 * and of fit (may be NULL when the encoder needs none; freed on failure
 * too), checking enc against the set's shape and creating one workspace
 * per worker thread (n_threads >= 1).  The caller owns out. */
int sample_source_series(sample_source *out, sg_series_set *set, const enc_params *enc,
                         enc_fit *fit, int n_threads);

/* Same as sample_source_series for encoders stacked as channels
 * (enc_stack.h); TAKES OWNERSHIP of *set and of fits[0..stack->n) (fits
 * or its entries may be NULL; freed on failure too).  A stack of one is
 * sample_source_series with fits[0]. */
int sample_source_series_stack(sample_source *out, sg_series_set *set, const enc_stack *stack,
                               enc_fit **fits, int n_threads);

/* Replaces the fits of a stacked series source (takes ownership of
 * fits[0..stack.n), frees the previous ones); as sample_source_set_fit. */
void sample_source_set_stack_fits(sample_source *s, enc_fit **fits);

/* Replaces the encoder fit of a series source (takes ownership of fit,
 * frees the previous one), e.g. refitted on each fold's training part.
 * Not thread-safe: call between epochs, never while a loader reads. */
void sample_source_set_fit(sample_source *s, enc_fit *fit);

/* Augments the raw segments of a series source on training reads
 * (train = 1 in sample_source_read_ex / the loader callback) with p
 * (copied; checked against the segments' length), before encoding.
 * All kinds off (series_aug_active false) switches it off.  The rotations'
 * triads come from the channel names, or from triads (--triads:
 * series_aug_layout_set_triads; NULL or "auto": the names).  SG_E_INVALID
 * for an image source, a bad p or bad triads.  Not thread-safe: call
 * before a loader reads. */
int sample_source_set_augment(sample_source *s, const series_aug_params *p, const char *triads);

/* Rolls every segment of a series source circularly by `samples` in time
 * on every read (train or not) from now on; 0 stops.  For test-time
 * augmentation (train_predict_tta).  Not thread-safe: call between
 * passes, never while a loader reads. */
void sample_source_set_roll(sample_source *s, int samples);

/* Produces sample i as a newly allocated image in [0, 1] (caller-owned,
 * sg_image_free), without augmentation.  Thread-safe: up to n_threads
 * callers encode at once, more wait for a free workspace. */
int sample_source_read(sample_source *s, size_t i, sg_image *out);

/* sample_source_read, with the series augmentation of
 * sample_source_set_augment applied when train is 1, drawn from seed. */
int sample_source_read_ex(sample_source *s, size_t i, int train, uint64_t seed, sg_image *out);

/* The loader callback (loader.h sg_sample_fn) over a sample_source ctx. */
int sample_source_loader_get(void *ctx, size_t index, int train, uint64_t aug_seed, sg_image *out,
                             int *label);

/* The loader's name callback: the sample's display name. */
const char *sample_source_loader_name(void *ctx, size_t index);

/* The loader's view of s (get/name callbacks over all samples); s stays
 * owned by the caller and must outlive the loader. */
sg_sample_source sample_source_loader_view(sample_source *s);

/* Frees everything the source owns and zeroes it; accepts NULL. */
void sample_source_free(sample_source *s);

#endif
