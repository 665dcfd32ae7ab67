/* loader.h - multi-threaded prefetching batch loader.
 *
 * Worker threads pull samples from a source (decode a photo from disk,
 * or encode a sensor segment in memory), run the transform pipeline and
 * write straight into one contiguous (n, c, h, w) batch buffer, while
 * the consumer trains on the previous batch.  Up to `prefetch` batches
 * are in flight; work is handed out sample by sample, in order, so the
 * next batch is finished first.
 *
 * Repeatability: the epoch's order comes from (seed, epoch) and each
 * sample's augmentation RNG from (seed, epoch, dataset index), so the
 * batches are bit-identical whatever the thread count or scheduling.
 * A failure in any worker stops the epoch: the batches before the one
 * holding the failed sample are still delivered, then sg_loader_next
 * returns the error with the worker's message (the earliest failed
 * sample's, so the outcome does not depend on thread timing).
 */
#ifndef SG_LOADER_H
#define SG_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "src/image/image.h"
#include "src/image/transform.h"

/* Produces sample index: fills *out with a newly allocated image (the
 * loader frees it) and *label with its class (or -1).  train is the
 * loader's train flag (1: a training epoch, where a source may augment
 * what it produces, e.g. the raw series before encoding; 0: validation,
 * prediction, BatchNorm recalibration: never augment); aug_seed is the
 * sample's own seed for that, derived from (seed, epoch, dataset index)
 * like the image transforms' RNG but from a different stream, so it is
 * the same whatever the thread count.  Called from worker threads
 * concurrently, so it must be thread-safe; return 0 or a negative
 * SG_E_* after sg_fail. */
typedef int (*sg_sample_fn)(void *ctx, size_t index, int train, uint64_t aug_seed, sg_image *out,
                            int *label);

/* Optional: a display name for sample index (e.g. its path), used to
 * name the sample in transform errors.  The string stays owned by ctx. */
typedef const char *(*sg_sample_name_fn)(void *ctx, size_t index);

typedef struct sg_sample_source {
    sg_sample_fn get;
    sg_sample_name_fn name;    /* may be NULL */
    void *ctx;
    size_t n;                  /* valid indices are 0 .. n-1 */
} sg_sample_source;

typedef struct sg_loader_opts {
    size_t batch_size;
    int drop_last;             /* drop a final partial batch */
    int shuffle;               /* reshuffle each epoch from (seed, epoch) */
    uint64_t seed;
    int train;                 /* enables the spec's random augmentation */
    int n_workers;             /* 0: produce batches in the caller's thread */
    int prefetch;              /* batches in flight (>= 1; 0 means 2) */
    const size_t *subset;      /* dataset indices to iterate, or NULL: all */
    size_t subset_n;
    /* PyTorch's DistributedSampler rule, applied to the epoch's order
     * (shuffled or not): pad the order to a multiple of shard_world by
     * repeating its start, then keep every shard_world-th item from
     * shard_rank.  Every rank shuffles with the same (seed, epoch), so
     * the shards are disjoint and cover the epoch.  0 or 1: no sharding. */
    int shard_world, shard_rank;
    /* Gradient accumulation over `interleave` micro-batches: pad like a
     * shard_world of `interleave`, then within each batch put the items
     * of "rank" 0 first, then those of rank 1, ...  Split into
     * `interleave` equal contiguous parts, batch s is then exactly what
     * ranks 0..K-1 would get as their batch s with batch_size /
     * interleave each.  batch_size must be a multiple of interleave. */
    int interleave;
} sg_loader_opts;

/* One batch; memory owned by the loader. */
typedef struct sg_batch {
    int n, c, h, w;            /* x is (n, c, h, w) contiguous */
    float *x;
    int64_t *labels;           /* n class indices (-1 when unlabelled) */
    size_t *indices;           /* n dataset indices */
} sg_batch;

typedef struct sg_loader sg_loader;

/* Creates a loader and starts its workers (idle until an epoch starts).
 * src, spec and the subset are copied; src->ctx must outlive the loader.
 * *out is owned by the caller (free with sg_loader_free). */
int sg_loader_create(sg_loader **out, const sg_sample_source *src, const sg_transform_spec *spec,
                     const sg_loader_opts *opts);

/* Number of batches one epoch yields. */
size_t sg_loader_n_batches(const sg_loader *l);

/* Number of samples one epoch visits (before drop_last). */
size_t sg_loader_n_samples(const sg_loader *l);

/* Starts (or restarts, abandoning the current one) epoch number epoch.
 * Any batch pointer obtained before becomes invalid. */
int sg_loader_start_epoch(sg_loader *l, int epoch);

/* Waits for the next batch of the current epoch: returns 1 and sets *out
 * (owned by the loader, valid until the next call on l), 0 at the end of
 * the epoch, or a negative SG_E_* with the worker's message. */
int sg_loader_next(sg_loader *l, sg_batch **out);

/* Stops and joins the workers (mid-epoch is fine) and frees everything;
 * accepts NULL. */
void sg_loader_free(sg_loader *l);

#endif
