/* model_none.c - the sg_model.h API in a build without libtorch.
 *
 * Compiled only with NO_TORCH=1 (the Makefile filters it out otherwise):
 * every entry point fails with SG_E_UNSUPPORTED and one clear message,
 * so the encoding half of sensorgram builds and runs on machines without
 * libtorch.  Keep in sync with sg_model.h.
 */
#include "models/sg_model.h"

#include <stdlib.h>

#include "src/base/sg_error.h"

#define SG_NO_TORCH_MSG "sensorgram was built without libtorch (NO_TORCH=1)"

static int no_torch(void)
{
    return sg_fail(SG_E_UNSUPPORTED, SG_NO_TORCH_MSG);
}

int sg_torch_available(void) { return 0; }
int sg_cuda_available(void) { return 0; }

int sg_model_create(sg_model **out, const sg_model_spec *spec)
{
    (void)spec;
    if (out)
        *out = NULL;
    return no_torch();
}

void sg_model_free(sg_model *m) { (void)m; }

int sg_model_device(const sg_model *m, char *buf, size_t size)
{
    (void)m, (void)buf, (void)size;
    return no_torch();
}

int sg_model_tensor_count(const sg_model *m, int *count)
{
    (void)m, (void)count;
    return no_torch();
}

int sg_model_tensor_info(const sg_model *m, int i, const char **name, int *ndim, int64_t shape[4],
                         int *is_int)
{
    (void)m, (void)i, (void)name, (void)ndim, (void)shape, (void)is_int;
    return no_torch();
}

int sg_model_tensor_get(const sg_model *m, const char *name, float *dst, size_t numel)
{
    (void)m, (void)name, (void)dst, (void)numel;
    return no_torch();
}

int sg_model_tensor_set(sg_model *m, const char *name, const float *src, size_t numel)
{
    (void)m, (void)name, (void)src, (void)numel;
    return no_torch();
}

int sg_model_set_train(sg_model *m, int train)
{
    (void)m, (void)train;
    return no_torch();
}

int sg_model_set_frozen(sg_model *m, sg_stage stage, int frozen, int bn_trainable)
{
    (void)m, (void)stage, (void)frozen, (void)bn_trainable;
    return no_torch();
}

int sg_model_forward(sg_model *m, const float *x, int n, int c, int h, int w, float *logits)
{
    (void)m, (void)x, (void)n, (void)c, (void)h, (void)w, (void)logits;
    return no_torch();
}

int sg_model_bn_recalibrate_begin(sg_model *m, int *n_layers)
{
    (void)m, (void)n_layers;
    return no_torch();
}

int sg_model_bn_recalibrate_end(sg_model *m)
{
    (void)m;
    return no_torch();
}

int sg_model_gradcam(sg_model *m, const float *x, int n, int c, int h, int w, sg_stage layer,
                     const int *classes, float *cam, float *logits)
{
    (void)m, (void)x, (void)n, (void)c, (void)h, (void)w, (void)layer, (void)classes;
    (void)cam, (void)logits;
    return no_torch();
}

int sg_model_features(sg_model *m, const float *x, int n, int c, int h, int w, float *features)
{
    (void)m, (void)x, (void)n, (void)c, (void)h, (void)w, (void)features;
    return no_torch();
}

int sg_model_feature_dim(const sg_model *m, int *dim)
{
    (void)m, (void)dim;
    return no_torch();
}

int sg_optim_create(sg_optim **out, sg_model *m, const sg_optim_spec *spec)
{
    (void)m, (void)spec;
    if (out)
        *out = NULL;
    return no_torch();
}

void sg_optim_free(sg_optim *o) { (void)o; }

int sg_optim_set_stage(sg_optim *o, sg_stage stage, double lr, double momentum)
{
    (void)o, (void)stage, (void)lr, (void)momentum;
    return no_torch();
}

int sg_model_train_step(sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
                        const int64_t *labels, double label_smoothing, double *loss, float *logits)
{
    (void)m, (void)o, (void)x, (void)n, (void)c, (void)h, (void)w, (void)labels;
    (void)label_smoothing, (void)loss, (void)logits;
    return no_torch();
}

int sg_model_train_step_soft(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                             int w, const float *targets, int k, double *loss, float *logits)
{
    (void)m, (void)o, (void)x, (void)n, (void)c, (void)h, (void)w, (void)targets, (void)k;
    (void)loss, (void)logits;
    return no_torch();
}

int sg_model_train_step_contrastive(sg_model *m, sg_optim *o, const float *x, int n, int c,
                                    int h, int w, double temperature, double *loss,
                                    double *top1)
{
    (void)m, (void)o, (void)x, (void)n, (void)c, (void)h, (void)w, (void)temperature;
    (void)loss, (void)top1;
    return no_torch();
}

int sg_model_train_step_masked(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                               int w, const float *target, const float *weight, int k,
                               double *loss)
{
    (void)m, (void)o, (void)x, (void)n, (void)c, (void)h, (void)w, (void)target, (void)weight;
    (void)k, (void)loss;
    return no_torch();
}

int sg_model_train_step_entropy(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                                int w, double *entropy)
{
    (void)m, (void)o, (void)x, (void)n, (void)c, (void)h, (void)w, (void)entropy;
    return no_torch();
}

int sg_model_eval_loss(sg_model *m, const float *x, int n, int c, int h, int w,
                       const int64_t *labels, double *loss, float *logits)
{
    (void)m, (void)x, (void)n, (void)c, (void)h, (void)w, (void)labels, (void)loss, (void)logits;
    return no_torch();
}

int sg_optim_tensor_count(const sg_optim *o, int *count)
{
    (void)o, (void)count;
    return no_torch();
}

int sg_optim_tensor_info(const sg_optim *o, int i, const char **name, size_t *numel)
{
    (void)o, (void)i, (void)name, (void)numel;
    return no_torch();
}

int sg_optim_tensor_get(const sg_optim *o, const char *name, float *dst, size_t numel)
{
    (void)o, (void)name, (void)dst, (void)numel;
    return no_torch();
}

int sg_optim_tensor_set(sg_optim *o, const char *name, const float *src, size_t numel)
{
    (void)o, (void)name, (void)src, (void)numel;
    return no_torch();
}

int sg_wavg_create(sg_wavg **out, const sg_model *m)
{
    (void)m;
    if (out)
        *out = NULL;
    return no_torch();
}

void sg_wavg_free(sg_wavg *a) { (void)a; }

int sg_wavg_update(sg_wavg *a, const sg_model *m, double decay)
{
    (void)a, (void)m, (void)decay;
    return no_torch();
}

int sg_wavg_swap(sg_wavg *a, sg_model *m)
{
    (void)a, (void)m;
    return no_torch();
}

int sg_wavg_tensor_get(const sg_wavg *a, const char *name, float *dst, size_t numel)
{
    (void)a, (void)name, (void)dst, (void)numel;
    return no_torch();
}

int sg_wavg_tensor_set(sg_wavg *a, const char *name, const float *src, size_t numel)
{
    (void)a, (void)name, (void)src, (void)numel;
    return no_torch();
}

int sg_torch_seed(uint64_t seed)
{
    (void)seed;
    return no_torch();
}

int sg_model_set_cuda_graphs(sg_model *m, sg_cuda_graphs mode)
{
    (void)m, (void)mode;
    return no_torch();
}

int sg_cuda_graphs_built(void) { return 0; }

int sg_optim_cuda_graph_stats(const sg_optim *o, sg_cuda_graph_stats *st)
{
    (void)o, (void)st;
    return no_torch();
}

/* Without libtorch there is nothing to pin: plain aligned memory, so the
 * loader's batches work the same in both builds. */
int sg_host_alloc(void **out, size_t bytes)
{
    if (!out)
        return sg_fail(SG_E_INVALID, "sg_host_alloc: NULL argument");
    size_t rounded = (bytes + 63) / 64 * 64;
    *out = aligned_alloc(64, rounded ? rounded : 64);
    return *out ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory for a %zu-byte host buffer", bytes);
}

void sg_host_free(void *p) { free(p); }

int sg_torch_set_tf32(int allow)
{
    (void)allow;
    return no_torch();
}
