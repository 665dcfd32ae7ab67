/* torch_loader.c - sg_model.h / sg_dist.h in the binary: load libtorch on first use.
 *
 * In a libtorch build the .cpp files of models/ live in
 * libsensorgram_torch.so (models/torch_plugin.h says why).  Every
 * function of the two headers is defined here as a forwarder: the first
 * call loads the library (once per process, pthread_once), resolves
 * each function with dlsym into a table, and every call goes through
 * that table.  A process that never calls into a model (encode,
 * figures, weights, ...) never loads libtorch.
 *
 * Where the library is: next to the running executable
 * (/proc/self/exe, never the current directory), or
 * <exe>/../lib/sensorgram/ for an installed prefix (bin/ + lib/); the
 * environment variable SG_TORCH_LIBRARY names another file.  When it is
 * missing or cannot be loaded, every entry point fails with
 * SG_E_UNSUPPORTED and one line naming the path and the loader's
 * reason; sg_torch_available() then returns 0.
 *
 * The table is the one piece of process-wide state here: written once
 * under pthread_once before any reader sees it, read-only afterwards.
 * The library is opened with RTLD_NODELETE and never closed (libtorch
 * cannot be unloaded safely, and LeakSanitizer needs its code mapped to
 * name the frames of a report at exit).
 *
 * Not compiled with NO_TORCH=1 (models/model_none.c, dist_none.c there).
 */
#include "models/sg_dist.h"
#include "models/sg_model.h"
#include "models/torch_plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/sg_error.h"

/* Every function the library provides that the binary forwards to:
 * X(name).  The compiler checks each forwarder below against its
 * prototype in sg_model.h / sg_dist.h, and the table's pointer types
 * are taken from the same prototypes. */
#define SG_TORCH_FUNCS(X)                                                                          \
    X(sg_cuda_available) X(sg_torch_seed) X(sg_model_create) X(sg_model_free)                      \
    X(sg_model_device) X(sg_model_tensor_count) X(sg_model_tensor_info) X(sg_model_tensor_get)     \
    X(sg_model_tensor_set) X(sg_model_set_train) X(sg_model_set_frozen)                            \
    X(sg_model_bn_recalibrate_begin) X(sg_model_bn_recalibrate_end) X(sg_model_forward)            \
    X(sg_model_features) X(sg_model_feature_dim) X(sg_optim_create) X(sg_optim_free)               \
    X(sg_optim_set_stage) X(sg_model_train_step) X(sg_model_eval_loss) X(sg_optim_tensor_count)    \
    X(sg_optim_tensor_info) X(sg_optim_tensor_get) X(sg_optim_tensor_set)                          \
    X(sg_model_set_cuda_graphs) X(sg_cuda_graphs_built) X(sg_optim_cuda_graph_stats)               \
    X(sg_host_alloc) X(sg_host_free) X(sg_torch_set_tf32) X(sg_dist_create) X(sg_dist_free)        \
    X(sg_dist_rank) X(sg_dist_world_size) X(sg_dist_local_rank) X(sg_dist_note_failure)            \
    X(sg_dist_broadcast_model) X(sg_dist_broadcast_buffers) X(sg_dist_grad_sync_begin)              \
    X(sg_dist_allreduce_sum) X(sg_dist_allreduce_sum_f32) X(sg_dist_barrier) X(sg_dist_wait_all)   \
    X(sg_model_accumulate_grad) X(sg_model_zero_grad) X(sg_optim_step_accumulated)                \
    X(sg_model_train_step_soft) X(sg_wavg_create) X(sg_wavg_free) X(sg_wavg_update)                \
    X(sg_wavg_swap) X(sg_wavg_tensor_get) X(sg_wavg_tensor_set) X(sg_dist_grad_sync_end)         \
    X(sg_dist_sync_bn) X(sg_model_gradcam) X(sg_model_train_step_contrastive)                     \
    X(sg_model_train_step_masked) X(sg_model_train_step_entropy)

typedef struct torch_table {
#define SG_TORCH_MEMBER(name) __typeof__(name) *name;
    SG_TORCH_FUNCS(SG_TORCH_MEMBER)
#undef SG_TORCH_MEMBER
} torch_table;

typedef struct torch_lib {
    int ok;            /* 1: every function resolved */
    char error[1024];  /* why not, when ok == 0 */
    torch_table fn;
} torch_lib;

static torch_lib g_lib;
static pthread_once_t g_lib_once = PTHREAD_ONCE_INIT;

/* Writes the library's path into path: SG_TORCH_LIBRARY, else the first of
 * <exe dir>/NAME and <exe dir>/../lib/sensorgram/NAME that exists (the
 * first when neither does, for the message).  Returns 0, or -1 with
 * g_lib.error set. */
static int library_path(char *path, size_t size)
{
    const char *env = getenv("SG_TORCH_LIBRARY");
    if (env && *env) {
        if ((size_t)snprintf(path, size, "%s", env) >= size) {
            snprintf(g_lib.error, sizeof g_lib.error, "SG_TORCH_LIBRARY is too long");
            return -1;
        }
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(g_lib.error, sizeof g_lib.error,
                 "cannot find the model library " SG_TORCH_PLUGIN_NAME
                 ": /proc/self/exe is unreadable (set SG_TORCH_LIBRARY to its path)");
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    const char *dir = slash ? exe : ".";
    static const char *const rel[] = {"", "/../lib/sensorgram"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        if ((size_t)snprintf(path, size, "%s%s/" SG_TORCH_PLUGIN_NAME, dir, rel[i]) >= size) {
            snprintf(g_lib.error, sizeof g_lib.error, "the path of %s is too long", exe);
            return -1;
        }
        if (access(path, F_OK) == 0)
            return 0;
    }
    snprintf(g_lib.error, sizeof g_lib.error,
             "the model library " SG_TORCH_PLUGIN_NAME
             " is missing: looked in %s/ and %s/../lib/sensorgram/ (install it beside the "
             "sensorgram binary, or set SG_TORCH_LIBRARY)",
             dir, dir);
    return -1;
}

static void lib_load(void)
{
    char path[PATH_MAX + 64];
    if (library_path(path, sizeof path) != 0)
        return;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        const char *why = dlerror();
        snprintf(g_lib.error, sizeof g_lib.error, "cannot load the model library: %s",
                 why ? why : path);
        return;
    }
    long (*abi)(void) = (long (*)(void))dlsym(h, "sg_torch_plugin_abi");
    if (!abi || abi() != SG_TORCH_PLUGIN_ABI_KEY) {
        snprintf(g_lib.error, sizeof g_lib.error,
                 "%s was built from another version of sensorgram (ABI %ld, this binary "
                 "%ld): rebuild both with make",
                 path, abi ? abi() : -1L, (long)SG_TORCH_PLUGIN_ABI_KEY);
        return; /* RTLD_NODELETE: stays mapped, harmless */
    }
#define SG_TORCH_RESOLVE(name)                                                                     \
    *(void **)&g_lib.fn.name = dlsym(h, #name);                                                    \
    if (!g_lib.fn.name) {                                                                          \
        snprintf(g_lib.error, sizeof g_lib.error, "%s lacks the function %s", path, #name);      \
        return;                                                                                    \
    }
    SG_TORCH_FUNCS(SG_TORCH_RESOLVE)
#undef SG_TORCH_RESOLVE
    g_lib.ok = 1;
}

/* The loaded table, or NULL with this thread's error set. */
static const torch_table *lib(void)
{
    if (pthread_once(&g_lib_once, lib_load) != 0) {
        sg_fail(SG_E_UNSUPPORTED, "cannot load the model library: pthread_once failed");
        return NULL;
    }
    if (!g_lib.ok) {
        sg_fail(SG_E_UNSUPPORTED, "%s", g_lib.error);
        return NULL;
    }
    return &g_lib.fn;
}

/* A forwarder for a function returning a status code. */
#define SG_FORWARD(name, params, args)                                                             \
    int name params                                                                                \
    {                                                                                              \
        const torch_table *t = lib();                                                              \
        return t ? t->name args : SG_E_UNSUPPORTED;                                                \
    }

/* A constructor: without the library, *out is NULL as after any failed
 * create, so the caller's single free path holds. */
#define SG_FORWARD_CREATE(name, params, args)                                                      \
    int name params                                                                                \
    {                                                                                              \
        const torch_table *t = lib();                                                              \
        if (!t) {                                                                                  \
            if (out)                                                                               \
                *out = NULL;                                                                       \
            return SG_E_UNSUPPORTED;                                                               \
        }                                                                                          \
        return t->name args;                                                                       \
    }

/* A non-NULL handle came from the library, so it is loaded; NULL is a
 * no-op that must not load libtorch. */
#define SG_FORWARD_FREE(name, type)                                                                \
    void name(type *p)                                                                             \
    {                                                                                              \
        if (p)                                                                                     \
            lib()->name(p);                                                                        \
    }

/* Whether the library loads (and so libtorch is there); loads it. */
int sg_torch_available(void) { return lib() != NULL; }

int sg_cuda_available(void)
{
    const torch_table *t = lib();
    return t ? t->sg_cuda_available() : 0;
}

int sg_cuda_graphs_built(void)
{
    const torch_table *t = lib();
    return t ? t->sg_cuda_graphs_built() : 0;
}

/* --- sg_model.h --------------------------------------------------------- */

SG_FORWARD_CREATE(sg_model_create, (sg_model **out, const sg_model_spec *spec), (out, spec))

SG_FORWARD_FREE(sg_model_free, sg_model)

SG_FORWARD(sg_torch_seed, (uint64_t seed), (seed))
SG_FORWARD(sg_model_device, (const sg_model *m, char *buf, size_t size), (m, buf, size))
SG_FORWARD(sg_model_tensor_count, (const sg_model *m, int *count), (m, count))
SG_FORWARD(sg_model_tensor_info,
           (const sg_model *m, int i, const char **name, int *ndim, int64_t shape[4], int *is_int),
           (m, i, name, ndim, shape, is_int))
SG_FORWARD(sg_model_tensor_get, (const sg_model *m, const char *name, float *dst, size_t numel),
           (m, name, dst, numel))
SG_FORWARD(sg_model_tensor_set, (sg_model *m, const char *name, const float *src, size_t numel),
           (m, name, src, numel))
SG_FORWARD(sg_model_set_train, (sg_model *m, int train), (m, train))
SG_FORWARD(sg_model_set_frozen, (sg_model *m, sg_stage stage, int frozen, int bn_trainable),
           (m, stage, frozen, bn_trainable))
SG_FORWARD(sg_model_bn_recalibrate_begin, (sg_model *m, int *n_layers), (m, n_layers))
SG_FORWARD(sg_model_bn_recalibrate_end, (sg_model *m), (m))
SG_FORWARD(sg_model_forward, (sg_model *m, const float *x, int n, int c, int h, int w, float *logits),
           (m, x, n, c, h, w, logits))
SG_FORWARD(sg_model_features,
           (sg_model *m, const float *x, int n, int c, int h, int w, float *features),
           (m, x, n, c, h, w, features))
SG_FORWARD(sg_model_feature_dim, (const sg_model *m, int *dim), (m, dim))
SG_FORWARD(sg_model_gradcam,
           (sg_model *m, const float *x, int n, int c, int h, int w, sg_stage layer,
            const int *classes, float *cam, float *logits),
           (m, x, n, c, h, w, layer, classes, cam, logits))

SG_FORWARD_CREATE(sg_optim_create, (sg_optim **out, sg_model *m, const sg_optim_spec *spec),
                  (out, m, spec))

SG_FORWARD_FREE(sg_optim_free, sg_optim)

SG_FORWARD(sg_optim_set_stage, (sg_optim *o, sg_stage stage, double lr, double momentum),
           (o, stage, lr, momentum))
SG_FORWARD(sg_model_train_step,
           (sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
            const int64_t *labels, double label_smoothing, double *loss, float *logits),
           (m, o, x, n, c, h, w, labels, label_smoothing, loss, logits))
SG_FORWARD(sg_model_train_step_soft,
           (sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
            const float *targets, int k, double *loss, float *logits),
           (m, o, x, n, c, h, w, targets, k, loss, logits))
SG_FORWARD(sg_model_train_step_contrastive,
           (sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
            double temperature, double *loss, double *top1),
           (m, o, x, n, c, h, w, temperature, loss, top1))
SG_FORWARD(sg_model_train_step_masked,
           (sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
            const float *target, const float *weight, int k, double *loss),
           (m, o, x, n, c, h, w, target, weight, k, loss))
SG_FORWARD(sg_model_train_step_entropy,
           (sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
            double *entropy),
           (m, o, x, n, c, h, w, entropy))
SG_FORWARD(sg_model_eval_loss,
           (sg_model *m, const float *x, int n, int c, int h, int w, const int64_t *labels,
            double *loss, float *logits),
           (m, x, n, c, h, w, labels, loss, logits))
SG_FORWARD_CREATE(sg_wavg_create, (sg_wavg **out, const sg_model *m), (out, m))

SG_FORWARD_FREE(sg_wavg_free, sg_wavg)

SG_FORWARD(sg_wavg_update, (sg_wavg *a, const sg_model *m, double decay), (a, m, decay))
SG_FORWARD(sg_wavg_swap, (sg_wavg *a, sg_model *m), (a, m))
SG_FORWARD(sg_wavg_tensor_get, (const sg_wavg *a, const char *name, float *dst, size_t numel),
           (a, name, dst, numel))
SG_FORWARD(sg_wavg_tensor_set, (sg_wavg *a, const char *name, const float *src, size_t numel),
           (a, name, src, numel))
SG_FORWARD(sg_optim_tensor_count, (const sg_optim *o, int *count), (o, count))
SG_FORWARD(sg_optim_tensor_info, (const sg_optim *o, int i, const char **name, size_t *numel),
           (o, i, name, numel))
SG_FORWARD(sg_optim_tensor_get, (const sg_optim *o, const char *name, float *dst, size_t numel),
           (o, name, dst, numel))
SG_FORWARD(sg_optim_tensor_set, (sg_optim *o, const char *name, const float *src, size_t numel),
           (o, name, src, numel))
SG_FORWARD(sg_model_set_cuda_graphs, (sg_model *m, sg_cuda_graphs mode), (m, mode))
SG_FORWARD(sg_optim_cuda_graph_stats, (const sg_optim *o, sg_cuda_graph_stats *st), (o, st))
SG_FORWARD(sg_host_alloc, (void **out, size_t bytes), (out, bytes))

SG_FORWARD_FREE(sg_host_free, void)

SG_FORWARD(sg_torch_set_tf32, (int allow), (allow))

/* --- sg_dist.h ---------------------------------------------------------- */

SG_FORWARD_CREATE(sg_dist_create, (sg_dist **out, const sg_dist_spec *spec), (out, spec))

SG_FORWARD_FREE(sg_dist_free, sg_dist)

/* Without a group these answer for one process, as the library does,
 * without loading it. */
int sg_dist_rank(const sg_dist *d) { return d ? lib()->sg_dist_rank(d) : 0; }
int sg_dist_world_size(const sg_dist *d) { return d ? lib()->sg_dist_world_size(d) : 1; }
int sg_dist_local_rank(const sg_dist *d) { return d ? lib()->sg_dist_local_rank(d) : 0; }

void sg_dist_note_failure(sg_dist *d, const char *message)
{
    if (d)
        lib()->sg_dist_note_failure(d, message);
}

SG_FORWARD(sg_dist_broadcast_model, (sg_dist *d, sg_model *m), (d, m))
SG_FORWARD(sg_dist_broadcast_buffers, (sg_dist *d, sg_model *m), (d, m))
SG_FORWARD(sg_dist_grad_sync_begin, (sg_dist *d, sg_model *m), (d, m))
SG_FORWARD(sg_dist_grad_sync_end,
           (sg_dist *d, sg_model *m, int failed, sg_dist_comm_time *times),
           (d, m, failed, times))
SG_FORWARD(sg_dist_sync_bn, (sg_dist *d, sg_model *m), (d, m))
SG_FORWARD(sg_dist_allreduce_sum, (sg_dist *d, double *buf, size_t n), (d, buf, n))
SG_FORWARD(sg_dist_allreduce_sum_f32, (sg_dist *d, float *buf, size_t n), (d, buf, n))
SG_FORWARD(sg_dist_barrier, (sg_dist *d), (d))
SG_FORWARD(sg_dist_wait_all, (sg_dist *d, const char *tag), (d, tag))
SG_FORWARD(sg_model_accumulate_grad,
           (sg_model *m, const float *x, int n, int c, int h, int w, const int64_t *labels,
            double label_smoothing, double *loss),
           (m, x, n, c, h, w, labels, label_smoothing, loss))
SG_FORWARD(sg_model_zero_grad, (sg_model *m), (m))
SG_FORWARD(sg_optim_step_accumulated, (sg_optim *o, double divisor), (o, divisor))
