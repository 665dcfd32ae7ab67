/* loader.c - the threaded batch loader (see loader.h).
 *
 * State machine, all under one mutex:
 *   items of the epoch are numbered k = 0 .. n-1 in epoch order; item k
 *   belongs to batch k / batch_size, which lives in slot batch % depth.
 *   A worker may claim item k only when its batch is fewer than `depth`
 *   batches ahead of the oldest batch still in use by the consumer, so a
 *   slot is never rewritten while the consumer reads it.
 *   `generation` changes on every epoch restart; results of items
 *   claimed under an older generation are dropped, and a restart waits
 *   until no item is in flight before touching the slots.
 * What this does not do: reorder work by cost, or pin threads.
 */
#include "src/train/loader.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "models/sg_model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-epoch salt so the order stream differs from per-sample streams. */
enum { ORDER_STREAM = 0x6f72646572 };
/* Salt of the per-sample seed handed to the source (sg_sample_fn), so
 * the source's draws are not the image transforms' draws. */
#define SOURCE_STREAM 0x736f75726365ULL

typedef struct loader_slot {
    sg_batch b;
    size_t batch_no;   /* which batch the slot holds; SIZE_MAX: none */
    size_t want, done; /* samples in that batch, samples finished */
} loader_slot;

struct sg_loader {
    sg_sample_source src;
    sg_transform_spec spec;
    sg_loader_opts opts;
    size_t *subset;        /* n_items dataset indices */
    size_t *order;         /* n_items, this epoch's order */
    size_t *scratch;       /* n_subset + padding: the order before sharding */
    size_t n_subset;       /* subset size (n_items is after sharding/padding) */
    size_t n_items, n_batches, batch_size, sample_numel;
    int depth;
    loader_slot *slots;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;   /* workers: new work or stop */
    pthread_cond_t ready_cv;  /* consumer: a batch completed or failure */
    pthread_cond_t idle_cv;   /* restart: in-flight count reached 0 */
    int sync_ok;              /* mutex/conds initialised */
    pthread_t *threads;
    int n_threads;

    int epoch;
    int active;               /* an epoch is running */
    int stop;
    unsigned generation;
    size_t next_item;         /* next item to claim */
    size_t head;              /* next batch to hand to the consumer */
    int held;                 /* consumer holds batch head - 1 */
    int in_flight;
    int failed;
    size_t fail_item;         /* lowest failed item; its batch is where
                                 the consumer sees the error */
    int fail_code;
    char fail_msg[1024];
};

size_t sg_loader_n_batches(const sg_loader *l)
{
    return l->n_batches;
}

size_t sg_loader_n_samples(const sg_loader *l)
{
    return l->n_items;
}

/* Decodes/encodes one sample and transforms it into dst. */
static int produce(const sg_loader *l, int epoch, size_t index, float *dst, int *label)
{
    sg_image img = {0};
    *label = -1;
    uint64_t aug_seed =
        sg_rng_derive(l->opts.seed ^ SOURCE_STREAM, (uint64_t)epoch, (uint64_t)index);
    int rc = l->src.get(l->src.ctx, index, l->opts.train, aug_seed, &img, label);
    if (rc < 0) {
        sg_image_free(&img);
        return rc;
    }
    sg_rng rng;
    sg_rng_seed(&rng, sg_rng_derive(l->opts.seed, (uint64_t)epoch, (uint64_t)index));
    rc = sg_transform_apply(&l->spec, l->opts.train, &img, dst, &rng);
    if (rc < 0) {
        const char *name = l->src.name ? l->src.name(l->src.ctx, index) : NULL;
        if (name)
            sg_fail_context(rc, "%s", name);
        else
            sg_fail_context(rc, "sample %zu", index);
    }
    sg_image_free(&img);
    return rc;
}

static size_t batch_len(const sg_loader *l, size_t b)
{
    size_t start = b * l->batch_size;
    size_t left = l->n_items - start;
    return left < l->batch_size ? left : l->batch_size;
}

/* Called with mu held: may a worker claim the next item now? */
static int work_available(const sg_loader *l)
{
    if (!l->active || l->failed || l->next_item >= l->n_batches * l->batch_size ||
        l->next_item >= l->n_items)
        return 0;
    size_t b = l->next_item / l->batch_size;
    size_t oldest = l->head - (size_t)l->held;
    return b < oldest + (size_t)l->depth;
}

/* Called with mu held: claims the next item, preparing its slot. */
static size_t claim(sg_loader *l, loader_slot **slot_out, size_t *k_out, size_t *j_out)
{
    size_t k = l->next_item++;
    *k_out = k;
    size_t b = k / l->batch_size, j = k % l->batch_size;
    loader_slot *s = &l->slots[b % (size_t)l->depth];
    if (j == 0) {
        s->batch_no = b;
        s->want = batch_len(l, b);
        s->done = 0;
    }
    *slot_out = s;
    *j_out = j;
    return l->order[k];
}

/* Called with mu held: records a finished item k. */
static void finish(sg_loader *l, loader_slot *s, size_t k, size_t j, size_t index, int label,
                   int rc)
{
    if (rc < 0) {
        /* Keep the earliest failure so the reported error does not depend
         * on thread timing. */
        if (!l->failed || k < l->fail_item) {
            l->failed = 1;
            l->fail_item = k;
            l->fail_code = rc;
            snprintf(l->fail_msg, sizeof l->fail_msg, "%s", sg_last_error());
        }
        pthread_cond_broadcast(&l->ready_cv);
        return;
    }
    s->b.labels[j] = label;
    s->b.indices[j] = index;
    if (++s->done == s->want)
        pthread_cond_broadcast(&l->ready_cv);
}

static void *worker_main(void *arg)
{
    sg_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && !work_available(l))
            pthread_cond_wait(&l->work_cv, &l->mu);
        if (l->stop)
            break;
        loader_slot *s;
        size_t k, j;
        size_t index = claim(l, &s, &k, &j);
        unsigned gen = l->generation;
        int epoch = l->epoch;
        l->in_flight++;
        pthread_mutex_unlock(&l->mu);

        int label = -1;
        int rc = produce(l, epoch, index, s->b.x + j * l->sample_numel, &label);

        pthread_mutex_lock(&l->mu);
        l->in_flight--;
        if (gen == l->generation)
            finish(l, s, k, j, index, label, rc);
        if (l->in_flight == 0)
            pthread_cond_broadcast(&l->idle_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static int slots_alloc(sg_loader *l)
{
    l->slots = calloc((size_t)l->depth, sizeof *l->slots);
    if (!l->slots)
        return sg_fail(SG_E_NOMEM, "loader: out of memory");
    for (int i = 0; i < l->depth; i++) {
        loader_slot *s = &l->slots[i];
        s->batch_no = SIZE_MAX;
        s->b.c = l->spec.channels;
        s->b.h = l->spec.height;
        s->b.w = l->spec.width;
        /* pinned when a CUDA device is present: asynchronous copies */
        void *x = NULL;
        /* its own message: out of memory, or the model library missing */
        int rc = sg_host_alloc(&x, sizeof(float) * l->sample_numel * l->batch_size);
        if (rc != SG_OK)
            return sg_fail_context(rc, "loader");
        s->b.x = x;
        s->b.labels = malloc(sizeof(int64_t) * l->batch_size);
        s->b.indices = malloc(sizeof(size_t) * l->batch_size);
        if (!s->b.x || !s->b.labels || !s->b.indices)
            return sg_fail(SG_E_NOMEM, "loader: out of memory for %zu-sample batches",
                           l->batch_size);
    }
    return SG_OK;
}

static int check_opts(const sg_sample_source *src, const sg_loader_opts *o)
{
    if (!src || !src->get)
        return sg_fail(SG_E_INVALID, "loader: no sample source");
    if (o->batch_size == 0 || o->batch_size > (1u << 20))
        return sg_fail(SG_E_INVALID, "loader: batch size must be in 1..1048576 (got %zu)",
                       o->batch_size);
    if (o->n_workers < 0 || o->n_workers > 256)
        return sg_fail(SG_E_INVALID, "loader: workers must be in 0..256 (got %d)", o->n_workers);
    if (o->prefetch < 0 || o->prefetch > 64)
        return sg_fail(SG_E_INVALID, "loader: prefetch must be in 0..64 (got %d)", o->prefetch);
    if (o->subset)
        for (size_t i = 0; i < o->subset_n; i++)
            if (o->subset[i] >= src->n)
                return sg_fail(SG_E_INVALID, "loader: subset index %zu out of range (n = %zu)",
                               o->subset[i], src->n);
    return SG_OK;
}

int sg_loader_create(sg_loader **out, const sg_sample_source *src, const sg_transform_spec *spec,
                     const sg_loader_opts *opts)
{
    *out = NULL;
    int rc = check_opts(src, opts);
    if (rc < 0)
        return rc;
    rc = sg_transform_spec_check(spec);
    if (rc < 0)
        return rc;
    sg_loader *l = calloc(1, sizeof *l);
    if (!l)
        return sg_fail(SG_E_NOMEM, "loader: out of memory");
    l->src = *src;
    l->spec = *spec;
    l->opts = *opts;
    l->opts.subset = NULL;
    l->batch_size = opts->batch_size;
    l->n_subset = opts->subset ? opts->subset_n : src->n;
    l->n_items = l->n_subset;
    size_t group = 1;
    if (opts->shard_world > 1 || opts->interleave > 1) {
        if (opts->shard_world > 1 && opts->interleave > 1) {
            sg_loader_free(l);
            return sg_fail(SG_E_INVALID, "loader: sharding and interleaving do not combine");
        }
        group = (size_t)(opts->shard_world > 1 ? opts->shard_world : opts->interleave);
        if (opts->shard_world > 1 &&
            (opts->shard_rank < 0 || opts->shard_rank >= opts->shard_world)) {
            sg_loader_free(l);
            return sg_fail(SG_E_INVALID, "loader: shard rank %d outside 0..%d",
                           opts->shard_rank, opts->shard_world - 1);
        }
        if (opts->interleave > 1 && opts->batch_size % (size_t)opts->interleave) {
            sg_loader_free(l);
            return sg_fail(SG_E_INVALID, "loader: batch size %zu is not a multiple of %d",
                           opts->batch_size, opts->interleave);
        }
        size_t padded = (l->n_subset + group - 1) / group * group;
        l->n_items = opts->shard_world > 1 ? padded / group : padded;
    }
    l->n_batches = opts->drop_last ? l->n_items / l->batch_size
                                   : (l->n_items + l->batch_size - 1) / l->batch_size;
    l->sample_numel = (size_t)spec->channels * (size_t)spec->height * (size_t)spec->width;
    l->depth = opts->prefetch > 0 ? opts->prefetch : 2;
    /* Without workers the consumer fills one slot at a time. */
    if (opts->n_workers == 0)
        l->depth = 1;
    l->subset = malloc(sizeof(size_t) * (l->n_subset ? l->n_subset : 1));
    l->order = malloc(sizeof(size_t) * (l->n_items ? l->n_items : 1));
    l->scratch = malloc(sizeof(size_t) * (l->n_subset + group));
    if (!l->subset || !l->order || !l->scratch) {
        sg_loader_free(l);
        return sg_fail(SG_E_NOMEM, "loader: out of memory");
    }
    for (size_t i = 0; i < l->n_subset; i++)
        l->subset[i] = opts->subset ? opts->subset[i] : i;
    rc = slots_alloc(l);
    if (rc < 0) {
        sg_loader_free(l);
        return rc;
    }
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        sg_loader_free(l);
        return sg_fail(SG_E_NOMEM, "loader: cannot create a mutex");
    }
    /* Each condition variable is destroyed only if it was made: sync_ok
     * (which tells sg_loader_free to destroy all of them) is set last. */
    int c_work = pthread_cond_init(&l->work_cv, NULL);
    int c_ready = c_work ? -1 : pthread_cond_init(&l->ready_cv, NULL);
    int c_idle = c_ready ? -1 : pthread_cond_init(&l->idle_cv, NULL);
    if (c_idle != 0) {
        if (c_ready == 0)
            pthread_cond_destroy(&l->ready_cv);
        if (c_work == 0)
            pthread_cond_destroy(&l->work_cv);
        pthread_mutex_destroy(&l->mu);
        sg_loader_free(l);
        return sg_fail(SG_E_NOMEM, "loader: cannot create a condition variable");
    }
    l->sync_ok = 1;
    l->threads = calloc((size_t)(opts->n_workers > 0 ? opts->n_workers : 1), sizeof(pthread_t));
    if (!l->threads) {
        sg_loader_free(l);
        return sg_fail(SG_E_NOMEM, "loader: out of memory");
    }
    for (int i = 0; i < opts->n_workers; i++) {
        if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0) {
            sg_loader_free(l);
            return sg_fail(SG_E_IO, "loader: cannot start worker thread %d", i);
        }
        l->n_threads++;
    }
    *out = l;
    return SG_OK;
}

/* The epoch's order o (n_subset items) -> l->order under the sharding
 * or interleaving options (loader.h).  Padding repeats the start of o,
 * as torch.utils.data.DistributedSampler does. */
static void distribute(sg_loader *l, size_t *o)
{
    int world = l->opts.shard_world > 1 ? l->opts.shard_world : l->opts.interleave;
    if (world <= 1) {
        memcpy(l->order, o, sizeof(size_t) * l->n_items);
        return;
    }
    size_t g = (size_t)world;
    size_t padded = (l->n_subset + g - 1) / g * g;
    for (size_t i = l->n_subset; i < padded; i++)
        o[i] = o[i - l->n_subset];
    if (l->opts.shard_world > 1) {
        for (size_t i = 0; i < l->n_items; i++)
            l->order[i] = o[(size_t)l->opts.shard_rank + i * g];
        return;
    }
    /* Batch s holds o[s*B .. s*B+len); "rank" r's part is every g-th item
     * from r, and the parts follow each other. */
    for (size_t start = 0; start < padded; start += l->batch_size) {
        size_t len = padded - start < l->batch_size ? padded - start : l->batch_size;
        size_t part = len / g, k = start;
        for (size_t r = 0; r < g; r++)
            for (size_t j = 0; j < part; j++)
                l->order[k++] = o[start + r + j * g];
    }
}

int sg_loader_start_epoch(sg_loader *l, int epoch)
{
    pthread_mutex_lock(&l->mu);
    l->active = 0;
    l->generation++;
    while (l->in_flight > 0)
        pthread_cond_wait(&l->idle_cv, &l->mu);
    size_t *o = l->scratch;
    memcpy(o, l->subset, sizeof(size_t) * l->n_subset);
    if (l->opts.shuffle) {
        sg_rng rng;
        sg_rng_seed(&rng, sg_rng_derive(l->opts.seed, (uint64_t)epoch, ORDER_STREAM));
        sg_rng_shuffle(&rng, o, l->n_subset);
    }
    distribute(l, o);
    for (int i = 0; i < l->depth; i++)
        l->slots[i].batch_no = SIZE_MAX;
    l->epoch = epoch;
    l->next_item = 0;
    l->head = 0;
    l->held = 0;
    l->failed = 0;
    l->fail_msg[0] = '\0';
    l->active = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    return SG_OK;
}

/* n_workers == 0: fill batch head in the caller's thread. */
static int produce_inline(sg_loader *l)
{
    while (work_available(l)) {
        loader_slot *s;
        size_t k, j;
        size_t index = claim(l, &s, &k, &j);
        int label = -1;
        int rc = produce(l, l->epoch, index, s->b.x + j * l->sample_numel, &label);
        finish(l, s, k, j, index, label, rc);
        if (rc < 0)
            return rc;
    }
    return SG_OK;
}

int sg_loader_next(sg_loader *l, sg_batch **out)
{
    *out = NULL;
    pthread_mutex_lock(&l->mu);
    if (!l->active) {
        pthread_mutex_unlock(&l->mu);
        return sg_fail(SG_E_INVALID, "loader: sg_loader_next before sg_loader_start_epoch");
    }
    if (l->held) {
        l->held = 0;   /* the consumer is done with batch head - 1 */
        pthread_cond_broadcast(&l->work_cv);
    }
    if (l->head >= l->n_batches) {
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    loader_slot *s = &l->slots[l->head % (size_t)l->depth];
    if (l->n_threads == 0)
        produce_inline(l);
    /* Batches before the failed one are still delivered: all their items
     * were claimed before the failing one and finish regardless. */
    while (!(l->failed && l->fail_item / l->batch_size <= l->head) &&
           !(s->batch_no == l->head && s->done == s->want))
        pthread_cond_wait(&l->ready_cv, &l->mu);
    if (l->failed && l->fail_item / l->batch_size <= l->head) {
        int code = l->fail_code;
        char msg[sizeof l->fail_msg];
        memcpy(msg, l->fail_msg, sizeof msg);
        pthread_mutex_unlock(&l->mu);
        return sg_fail(code, "%s", msg);
    }
    s->b.n = (int)s->want;
    l->head++;
    l->held = 1;
    *out = &s->b;
    pthread_mutex_unlock(&l->mu);
    return 1;
}

void sg_loader_free(sg_loader *l)
{
    if (!l)
        return;
    if (l->sync_ok) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        l->active = 0;
        pthread_cond_broadcast(&l->work_cv);
        pthread_mutex_unlock(&l->mu);
        for (int i = 0; i < l->n_threads; i++)
            pthread_join(l->threads[i], NULL);
        pthread_cond_destroy(&l->work_cv);
        pthread_cond_destroy(&l->ready_cv);
        pthread_cond_destroy(&l->idle_cv);
        pthread_mutex_destroy(&l->mu);
    }
    if (l->slots)
        for (int i = 0; i < l->depth; i++) {
            sg_host_free(l->slots[i].b.x);
            free(l->slots[i].b.labels);
            free(l->slots[i].b.indices);
        }
    free(l->slots);
    free(l->threads);
    free(l->subset);
    free(l->order);
    free(l->scratch);
    free(l);
}
