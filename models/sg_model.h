/* sg_model.h - the C API over libtorch (the only way C reaches torch).
 *
 * Everything torch lives behind these typed opaque handles; the bodies
 * are in the .cpp files of models/, each wrapped in one macro that catches
 * std::exception and everything else, stores the message as this
 * thread's last error (sg_last_error() in src/base/sg_error.h) and returns
 * SG_E_TORCH.  Built with NO_TORCH=1, models/model_none.c implements the
 * same API returning SG_E_UNSUPPORTED, so the encoding half still builds.
 *
 * Tensors cross the boundary as caller-owned host float32 buffers: NCHW
 * batches are wrapped without copying on CPU (copied once to the GPU on
 * CUDA); outputs are written into caller buffers.
 */
#ifndef SG_MODEL_H
#define SG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_model sg_model;
typedef struct sg_optim sg_optim;

typedef enum sg_arch {
    SG_ARCH_RESNET18,
    SG_ARCH_RESNET34,
    SG_ARCH_RESNET50,
} sg_arch;

/* Stages for freezing and discriminative learning rates, in network
 * order.  Parameter groups of an optimizer are these stages. */
typedef enum sg_stage {
    SG_STAGE_STEM,    /* conv1, bn1 */
    SG_STAGE_LAYER1,
    SG_STAGE_LAYER2,
    SG_STAGE_LAYER3,
    SG_STAGE_LAYER4,
    SG_STAGE_HEAD,    /* fc */
    SG_STAGE_COUNT,
} sg_stage;

typedef enum sg_precision {
    SG_PRECISION_FP32,
    SG_PRECISION_BF16, /* autocast, CUDA only */
    SG_PRECISION_FP16, /* autocast + grad scaling, CUDA only */
} sg_precision;

typedef struct sg_model_spec {
    sg_arch arch;
    int in_channels;      /* C of the input images */
    int n_classes;        /* size of the new fc head */
    const char *device;   /* "auto", "cpu", "cuda", "cuda:N"; NULL = auto */
    int channels_last;    /* CUDA: use channels_last memory format */
    sg_precision precision;
    int n_threads;        /* CPU intra-op threads; 0 = all cores */
} sg_model_spec;

/* Parses "resnet18" / "resnet34" / "resnet50". */
int sg_arch_parse(sg_arch *out, const char *name);
const char *sg_arch_name(sg_arch arch);

/* 1 when this build of sensorgram has libtorch, 0 with NO_TORCH. */
int sg_torch_available(void);

/* 1 when libtorch sees a usable CUDA device. */
int sg_cuda_available(void);

/* Builds a randomly initialised network with torchvision's structure,
 * parameter and buffer names and init.  The caller owns *out. */
int sg_model_create(sg_model **out, const sg_model_spec *spec);

/* Frees a model; accepts NULL. */
void sg_model_free(sg_model *m);

/* Writes the device in use ("cpu", "cuda:0 (NVIDIA H100 ...)"). */
int sg_model_device(const sg_model *m, char *buf, size_t size);

/* Named tensors of the network (parameters and buffers, torchvision's
 * state_dict order and names).  Index i in [0, count). */
int sg_model_tensor_count(const sg_model *m, int *count);

/* Name, rank and shape (up to 4 dims) of tensor i.  *name stays valid
 * for the model's lifetime.  int64 buffers (num_batches_tracked) report
 * is_int = 1. */
int sg_model_tensor_info(const sg_model *m, int i, const char **name,
                         int *ndim, int64_t shape[4], int *is_int);

/* Copies tensor `name` into dst (float32, numel elements; int buffers
 * converted). */
int sg_model_tensor_get(const sg_model *m, const char *name, float *dst, size_t numel);

/* Overwrites tensor `name` from src (float32, numel elements); the shape
 * must already match (callers validate first). */
int sg_model_tensor_set(sg_model *m, const char *name, const float *src, size_t numel);

/* Train (1) or eval (0) mode.  Frozen stages keep BatchNorm in eval mode
 * even in train mode (running statistics untouched). */
int sg_model_set_train(sg_model *m, int train);

/* Freezes (1) or unfreezes (0) one stage: requires_grad off and its
 * BatchNorm layers in eval mode.  With bn_trainable = 1 the BatchNorm
 * weights of a frozen stage still train (fastai's default). */
int sg_model_set_frozen(sg_model *m, sg_stage stage, int frozen, int bn_trainable);

/* BatchNorm recalibration (bn_recal.cpp).  _begin resets the running
 * statistics of every BatchNorm layer currently in training mode (call
 * sg_model_set_train(m, 1) first; frozen stages keep theirs) and switches
 * them to a cumulative average, so that the following sg_model_forward
 * passes over training batches recompute them for the current weights;
 * *n_layers (may be NULL) receives how many layers were reset.  _end
 * restores the usual momentum (0.1). */
int sg_model_bn_recalibrate_begin(sg_model *m, int *n_layers);
int sg_model_bn_recalibrate_end(sg_model *m);

/* Forward pass without gradients on x (n, c, h, w) host float32;
 * writes n x n_classes logits into logits (host). */
int sg_model_forward(sg_model *m, const float *x, int n, int c, int h, int w,
                     float *logits);

/* Global-average-pooled features (n x feature_dim, 512 for ResNet18/34,
 * 2048 for ResNet50) without gradients. */
int sg_model_features(sg_model *m, const float *x, int n, int c, int h, int w,
                      float *features);
int sg_model_feature_dim(const sg_model *m, int *dim);

/* Grad-CAM (models/gradcam.cpp): for each of the n images of x (n, c, h,
 * w), the class activation map of stage `layer` (SG_STAGE_LAYER1 ..
 * SG_STAGE_LAYER4, the last convolutional stage) for class classes[i]
 * (NULL: each image's predicted class): ReLU(sum_k w_k A_k) with w_k the
 * spatial mean of d logit / d A_k, upsampled bilinearly (align_corners
 * false) to (h, w), written to cam (n, h, w), not normalised; logits (n,
 * n_classes) too when not NULL.  Put the model in eval mode first. */
int sg_model_gradcam(sg_model *m, const float *x, int n, int c, int h, int w, sg_stage layer,
                     const int *classes, float *cam, float *logits);

typedef enum sg_optim_kind {
    SG_OPTIM_SGD,
    SG_OPTIM_ADAMW,
} sg_optim_kind;

typedef struct sg_optim_spec {
    sg_optim_kind kind;
    double lr;             /* initial lr of every group */
    double momentum;       /* SGD momentum, or Adam beta1 */
    double beta2;          /* AdamW */
    double eps;            /* AdamW, default 1e-8 */
    double weight_decay;
    int nesterov;          /* SGD */
    int no_decay_bn_bias;  /* 1: no weight decay on BatchNorm and bias */
} sg_optim_spec;

/* Creates an optimizer over all parameters of m, with one parameter
 * group per (stage, decay/no-decay) pair so that learning rates can be
 * set per stage.  The caller owns *out; it must be freed before m. */
int sg_optim_create(sg_optim **out, sg_model *m, const sg_optim_spec *spec);

/* Frees an optimizer; accepts NULL. */
void sg_optim_free(sg_optim *o);

/* Sets learning rate and momentum (SGD momentum or Adam beta1) of every
 * parameter group belonging to stage.  Called every step by schedules. */
int sg_optim_set_stage(sg_optim *o, sg_stage stage, double lr, double momentum);

/* One training step: forward in the model's current mode, cross-entropy
 * (with label_smoothing), backward, optimizer step.  labels are n class
 * indices.  Writes the mean loss, and the logits when logits != NULL. */
int sg_model_train_step(sg_model *m, sg_optim *o, const float *x, int n, int c,
                        int h, int w, const int64_t *labels,
                        double label_smoothing, double *loss, float *logits);

/* sg_model_train_step with soft targets (mixup, cutmix): targets is
 * (n, k) class probabilities per sample, k the model's class count, and
 * the loss the mean over samples of -sum_j targets[i][j] log softmax(out)[i][j]
 * (torch's cross_entropy with probability targets; label smoothing is
 * the caller's, folded into targets).  Always eager: never a CUDA graph
 * replay.  Borrowed buffers; writes the mean loss and, when logits !=
 * NULL, the logits. */
int sg_model_train_step_soft(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                             int w, const float *targets, int k, double *loss, float *logits);

/* One self-supervised step (SimCLR's NT-Xent, Chen et al. 2020): x holds
 * 2n images, rows 0..n-1 one augmented view of n segments and rows
 * n..2n-1 another view of the same segments in the same order; the
 * model's output (its fc as a linear projection head) is compared by
 * cosine similarity / temperature, and each row must pick its pair
 * among the 2n - 1 others.  Writes the mean loss and, when top1 != NULL,
 * the fraction of rows whose most similar other row is their pair. */
int sg_model_train_step_contrastive(sg_model *m, sg_optim *o, const float *x, int n, int c,
                                    int h, int w, double temperature, double *loss,
                                    double *top1);

/* One masked-reconstruction step (pretrain --objective masked): x holds n
 * inputs with parts hidden, target (n, k) what the hidden parts held and
 * weight (n, k) 1 where an output is scored, 0 where it is not; the
 * model's k outputs (its fc as a linear decoder) are fitted by the
 * squared error averaged over the scored outputs.  Writes that mean. */
int sg_model_train_step_masked(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                               int w, const float *target, const float *weight, int k,
                               double *loss);

/* One step of test-time entropy minimisation (TENT, Wang et al. 2021):
 * no labels, the loss is the mean over the n inputs of the entropy
 * -sum_j p_j log p_j of the model's softmax, in the model's current mode
 * (freeze what must not move first).  Writes that mean. */
int sg_model_train_step_entropy(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                                int w, double *entropy);

/* Forward + cross-entropy without gradients (validation loss). */
int sg_model_eval_loss(sg_model *m, const float *x, int n, int c, int h, int w,
                       const int64_t *labels, double *loss, float *logits);

/* Optimizer state is saved/restored for --resume as named float tensors
 * (exp_avg, exp_avg_sq, momentum_buffer, step) through the same count/
 * info/get/set pattern as the model. */
int sg_optim_tensor_count(const sg_optim *o, int *count);
int sg_optim_tensor_info(const sg_optim *o, int i, const char **name, size_t *numel);
int sg_optim_tensor_get(const sg_optim *o, const char *name, float *dst, size_t numel);
int sg_optim_tensor_set(sg_optim *o, const char *name, const float *src, size_t numel);

/* --- Averaged weights for EMA and SWA (weight_avg.cpp) --- */

typedef struct sg_wavg sg_wavg;

/* A copy of every tensor of m (parameters and buffers) on m's device,
 * the starting point of the average.  The caller owns *out; it is used
 * with m only and freed before m. */
int sg_wavg_create(sg_wavg **out, const sg_model *m);

/* Frees an average; accepts NULL. */
void sg_wavg_free(sg_wavg *a);

/* Floating parameters: avg <- decay * avg + (1 - decay) * param (decay in
 * [0, 1]; 0 copies the model, 1 keeps the average).  Buffers (BatchNorm
 * running statistics) are copied from m: recompute them for the averaged
 * weights with sg_model_bn_recalibrate_begin/_end. */
int sg_wavg_update(sg_wavg *a, const sg_model *m, double decay);

/* Exchanges the values of every tensor of m with a's, in place (the
 * optimizer keeps its parameters): swap in to validate or save the
 * averaged weights, swap again to go on training. */
int sg_wavg_swap(sg_wavg *a, sg_model *m);

/* Tensor `name` (the model's names) of the average, as float32 (numel
 * elements), for checkpoints. */
int sg_wavg_tensor_get(const sg_wavg *a, const char *name, float *dst, size_t numel);
int sg_wavg_tensor_set(sg_wavg *a, const char *name, const float *src, size_t numel);

/* Seeds libtorch's generators (init, dropout-free nets: init only). */
int sg_torch_seed(uint64_t seed);

/* --- CUDA graphs and the host side of the data path (cuda_graph.cpp) --- */

typedef enum sg_cuda_graphs {
    SG_CUDA_GRAPHS_OFF,  /* every step eager (the default of the C API) */
    SG_CUDA_GRAPHS_AUTO, /* on for CUDA bf16/fp32 training, else off */
    SG_CUDA_GRAPHS_ON,   /* on; an error where graphs cannot run */
} sg_cuda_graphs;

/* Parses "auto" / "on" / "off". */
int sg_cuda_graphs_parse(sg_cuda_graphs *out, const char *name);

/* Whether sg_model_train_step captures the whole step (forward, loss,
 * backward, optimizer update) in a CUDA graph and replays it: input and
 * labels are copied into static device buffers, the schedule's lr and
 * momentum into device scalars, then the graph replays.  A batch of
 * another shape (the last, partial one) runs eager; freezing or
 * unfreezing a stage recaptures.  fp16 (dynamic loss scaling) never
 * graphs.  SG_CUDA_GRAPHS_ON fails (SG_E_UNSUPPORTED) on a CPU model, in
 * a build without CUDA graphs, or with fp16; AUTO then means off. */
int sg_model_set_cuda_graphs(sg_model *m, sg_cuda_graphs mode);

/* 1 when this build was compiled with CUDA graph support. */
int sg_cuda_graphs_built(void);

typedef struct sg_cuda_graph_stats {
    long captures;   /* graphs captured (first step, and after a freeze change) */
    long replays;    /* steps run as a graph replay */
    long eager;      /* steps run eager while graphs were enabled */
} sg_cuda_graph_stats;

/* What the steps of optimizer o did so far. */
int sg_optim_cuda_graph_stats(const sg_optim *o, sg_cuda_graph_stats *st);

/* Host buffers for batches: page-locked (pinned) when libtorch sees a
 * CUDA device, so that host-to-device copies run asynchronously and at
 * full bandwidth; ordinary memory otherwise.  64-byte aligned.  Free
 * with sg_host_free (accepts NULL). */
int sg_host_alloc(void **out, size_t bytes);
void sg_host_free(void *p);

/* TF32 tensor cores for float32 convolutions and matmuls on CUDA (1: on,
 * PyTorch's convolution default).  The tests turn it off to compare
 * float32 results with torchvision at the CPU tolerance. */
int sg_torch_set_tf32(int allow);

#ifdef __cplusplus
}
#endif

#endif
