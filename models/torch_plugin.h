/* torch_plugin.h - the contract between the binary and its libtorch library.
 *
 * The libtorch half of models/ (every .cpp file of models/) is built as a shared
 * object, libsensorgram_torch.so, that the binary loads with dlopen() on
 * the first call into sg_model.h / sg_dist.h (models/torch_loader.c).
 * Loading libtorch and running its static initialisers takes 0.4-1.4 s,
 * which every process paid at start-up when libtorch was linked in;
 * `encode`, `figures` and the other commands that never touch a model
 * now do not.
 *
 * The library exports the sg_model.h / sg_dist.h functions themselves
 * (extern "C", as before) plus sg_torch_plugin_abi(); the binary exports
 * to it the one function of ours the .cpp files call, sg_fail()
 * (models/torch_host.syms), so that an error raised inside the library
 * lands in the caller's thread-local message.
 */
#ifndef SG_TORCH_PLUGIN_H
#define SG_TORCH_PLUGIN_H

#ifdef __cplusplus
extern "C" {
#endif

/* File name of the library; the loader looks for it next to the running
 * executable, then in ../lib/sensorgram/ from it (an installed prefix). */
#define SG_TORCH_PLUGIN_NAME "libsensorgram_torch.so"

/* Changed whenever sg_model.h / sg_dist.h change a signature or a struct,
 * so that a stale library from another build is refused with a message
 * instead of being called with the wrong arguments. */
#define SG_TORCH_PLUGIN_ABI 5

/* The version mixed with the sizes of the structs that cross the
 * boundary, so that a struct changed without a version bump is caught
 * too.  Needs sg_model.h and sg_dist.h included first. */
#define SG_TORCH_PLUGIN_ABI_KEY                                                       \
    ((long)SG_TORCH_PLUGIN_ABI * 1000003L + (long)sizeof(sg_model_spec) * 1009L +     \
     (long)sizeof(sg_optim_spec) * 101L + (long)sizeof(sg_dist_spec) * 11L +           \
     (long)sizeof(sg_cuda_graph_stats))

/* Returns SG_TORCH_PLUGIN_ABI_KEY as the library was compiled. */
long sg_torch_plugin_abi(void);

#ifdef __cplusplus
}
#endif

#endif
