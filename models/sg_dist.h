/* sg_dist.h - data-parallel training through libtorch's own c10d.
 *
 * A process group (c10d::TCPStore for the rendezvous, ProcessGroupGloo
 * for the collectives) behind one opaque handle, plus the pieces of a
 * training step that data parallelism and gradient accumulation need:
 * forward/backward without a step (gradients add up), one bucketed
 * gradient all-reduce, and the optimizer step on the summed gradients.
 * Same error rules as sg_model.h: every body catches C++ exceptions and
 * returns SG_E_TORCH with one line in sg_last_error(); a collective
 * that fails because a peer died or timed out returns SG_E_IO with a
 * message naming the lost rank when it can tell, and the cause.  No
 * message names this rank: the caller knows it (sg_dist_rank) and puts
 * it once in front of whatever context it adds on the way up.  With
 * NO_TORCH=1 models/dist_none.c returns SG_E_UNSUPPORTED.
 *
 * Gradient averaging is our own gradient hooks with bucketing, not
 * c10d::Reducer (whose hooks would have to be rebuilt whenever a phase
 * freezes or unfreezes stages): sg_dist_grad_sync_begin lays the
 * trainable parameters out, in reverse parameter order as DDP does, into
 * flat buckets of up to bucket_mb MiB and registers a hook on each (once:
 * buckets and hooks are kept while the trainable set stays the same); while
 * backward runs, each hook copies its gradient into its bucket, and a
 * bucket whose gradients are all in is launched as an asynchronous
 * all-reduce (in bucket order on every rank, as DDP does, so the ranks'
 * collectives match).  sg_dist_grad_sync_end waits for them all and
 * writes the sums back as the gradients.  With no_overlap set they all
 * go out after backward instead (same buckets, same sums).
 *
 * SyncBatchNorm (sg_dist_sync_bn): the BatchNorm layers of a model compute
 * their training-mode statistics over the batches of all ranks, with
 * synchronous all-reduces in forward and backward (models/dist_sync_bn.cpp
 * says why they cannot deadlock against the gradient buckets).
 */
#ifndef SG_DIST_H
#define SG_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "models/sg_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_dist sg_dist;

typedef struct sg_dist_spec {
    const char *backend;      /* "gloo", "nccl" or NULL/"auto" (gloo here) */
    const char *master_addr;  /* rank 0's address */
    int master_port;
    int rank, world_size, local_rank;
    double timeout_s;         /* rendezvous and every collective */
    /* torchrun's agent already hosts the store (TORCHELASTIC_USE_AGENT_STORE):
     * every rank is a client and keys live under /worker/attempt_<restart>. */
    int agent_store;
    int restart_count;
    double bucket_mb;         /* gradient bucket cap; 0: 25 MiB as DDP */
    int cuda;                 /* the ranks train on cuda:local_rank ("auto" picks NCCL) */
    int no_overlap;           /* 1: the gradient buckets go out after backward, not during */
} sg_dist_spec;

/* Joins the process group (blocks until all world_size ranks have
 * arrived or the timeout passes).  The caller owns *out. */
int sg_dist_create(sg_dist **out, const sg_dist_spec *spec);

/* Leaves the group; accepts NULL. */
void sg_dist_free(sg_dist *d);

int sg_dist_rank(const sg_dist *d);
int sg_dist_world_size(const sg_dist *d);
int sg_dist_local_rank(const sg_dist *d);

/* Records this rank's failure in the store (best effort) so that the
 * other ranks can name it when their next collective fails. */
void sg_dist_note_failure(sg_dist *d, const char *message);

/* Copies every parameter and buffer of m from rank 0 to all ranks. */
int sg_dist_broadcast_model(sg_dist *d, sg_model *m);

/* Copies only the buffers (BatchNorm running statistics) from rank 0:
 * DDP's broadcast_buffers before every forward. */
int sg_dist_broadcast_buffers(sg_dist *d, sg_model *m);

/* Time spent on one step's gradient all-reduce. */
typedef struct sg_dist_comm_time {
    double span_s;   /* first bucket launched .. last bucket summed */
    double exposed_s; /* of it, after backward ended (what the step waited) */
} sg_dist_comm_time;

/* Arms the gradient all-reduce for the next backward pass of m (one
 * backward: the gradients must have been dropped with sg_model_zero_grad
 * first).  Every rank must call it with the same trainable parameters. */
int sg_dist_grad_sync_begin(sg_dist *d, sg_model *m);

/* After that backward (or after it failed): launches the buckets still
 * unlaunched (zeros for parameters that got no gradient), waits for every
 * bucket, writes the sums (not yet divided: sg_optim_step_accumulated
 * divides, so that 2 ranks and 2 accumulated micro-batches round alike)
 * into the gradients and removes the hooks.  With failed set, only waits
 * and cleans up.  *t (may be NULL) receives the step's times. */
int sg_dist_grad_sync_end(sg_dist *d, sg_model *m, int failed, sg_dist_comm_time *t);

/* From now on the BatchNorm layers of m, in training mode, normalise with
 * the mean and variance of the whole batch of all ranks of d and update
 * their running statistics from them (unbiased over the global count), as
 * torch.nn.SyncBatchNorm does; gradients are those of BatchNorm over the
 * whole batch.  Every training-mode forward and backward of m is then a
 * collective: all ranks must run them alike.  Eval mode is unchanged (the
 * running statistics, identical on all ranks).  d NULL turns it off; m
 * keeps d without owning it, so d must outlive m or be turned off first. */
int sg_dist_sync_bn(sg_dist *d, sg_model *m);

/* Sums buf[0..n) (float64) over the ranks, in place, on every rank. */
int sg_dist_allreduce_sum(sg_dist *d, double *buf, size_t n);

/* Sums buf[0..n) (float32) over the ranks, in place; with buffers that
 * are zero except where one rank wrote, this gathers exactly. */
int sg_dist_allreduce_sum_f32(sg_dist *d, float *buf, size_t n);

/* Waits for every rank (a collective: within the timeout). */
int sg_dist_barrier(sg_dist *d);

/* Waits for every rank to reach the same tag, however long they take
 * (whole cross-validation folds), failing only when a rank stops its
 * heartbeat for the timeout or records a failure.  Through the store,
 * not the collectives. */
int sg_dist_wait_all(sg_dist *d, const char *tag);

/* --- gradient accumulation (one process or one rank) ------------------ */

/* Forward in the model's current mode, cross-entropy of the mean over
 * the n samples, backward: the gradients are added to those already
 * accumulated (none after sg_model_zero_grad).  Writes the mean loss.
 * fp16 loss scaling is not supported on this path. */
int sg_model_accumulate_grad(sg_model *m, const float *x, int n, int c, int h, int w,
                             const int64_t *labels, double label_smoothing, double *loss);

/* Drops the accumulated gradients. */
int sg_model_zero_grad(sg_model *m);

/* Divides the accumulated gradients by divisor (K micro-batches times
 * the world size), takes the optimizer step and drops the gradients. */
int sg_optim_step_accumulated(sg_optim *o, double divisor);

#ifdef __cplusplus
}
#endif

#endif
