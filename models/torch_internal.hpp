/* torch_internal.hpp - what the libtorch bridge's .cpp files share.
 *
 * Private to the .cpp files of models/: the torchvision-structured ResNet, the
 * sg_model / sg_optim structs behind the opaque C handles, and the one
 * macro that turns every C++ exception into a C status code.  Nothing
 * outside models/ includes this.
 */
#ifndef SG_TORCH_INTERNAL_HPP
#define SG_TORCH_INTERNAL_HPP

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

extern "C" {
#include "src/base/sg_error.h"
#include "models/sg_model.h"
}

struct sg_dist;

namespace sg {

/* Keeps only the first line of an exception message: c10::Error appends
 * a C++ backtrace that does not belong in a one-line error. */
std::string first_line(const char *what);

/* An error whose message is already the whole line (a failed collective
 * naming the ranks): SG_TORCH_TRY returns its code with the message as
 * it is, without the "libtorch: " prefix. */
struct status_error : std::runtime_error {
    int code;
    status_error(int c, const std::string &what) : std::runtime_error(what), code(c) {}
};

/* Where a network's training-mode BatchNorm layers take their batch
 * statistics from: d NULL, this process's batch alone (PyTorch's
 * BatchNorm2d, DDP's default); else the whole batch of every rank of d
 * (SyncBatchNorm, models/dist_sync_bn.cpp).  One per network, shared by
 * its blocks. */
struct bn_sync {
    sg_dist *d = nullptr;
};

/* bn(x), through the process group when s says so and bn is training
 * (eval mode uses the running statistics: nothing to synchronise). */
torch::Tensor bn_forward(torch::nn::BatchNorm2dImpl &bn, const torch::Tensor &x,
                         const bn_sync &s);

/* One residual block: BasicBlock (ResNet18/34) or Bottleneck v1.5
 * (ResNet50, stride on conv2), with torchvision's member names. */
struct BlockImpl : torch::nn::Module {
    BlockImpl(int64_t in_planes, int64_t planes, int64_t stride, bool bottleneck,
              std::shared_ptr<bn_sync> sync);
    torch::Tensor forward(const torch::Tensor &x);

    bool bottleneck;
    std::shared_ptr<bn_sync> sync; /* the network's */
    torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
    torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Block);

/* torchvision.models.resnet{18,34,50} with in_channels inputs and
 * n_classes outputs; state_dict names match torchvision's exactly. */
struct ResNetImpl : torch::nn::Module {
    ResNetImpl(sg_arch arch, int64_t in_channels, int64_t n_classes);
    torch::Tensor features(const torch::Tensor &x); /* (n, feature_dim) */
    torch::Tensor forward(const torch::Tensor &x);  /* (n, n_classes) */

    int64_t feature_dim;
    std::shared_ptr<bn_sync> sync = std::make_shared<bn_sync>();
    torch::nn::Conv2d conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    torch::nn::Sequential layer[4];
    torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet);

/* Stage of a torchvision state_dict name ("layer2.0.conv1.weight" ->
 * SG_STAGE_LAYER2). */
sg_stage stage_of(const std::string &name);

} // namespace sg

/* One named tensor of the network, in state_dict order. */
struct sg_named_tensor {
    std::string name;
    torch::Tensor t;
    sg_stage stage;
    bool is_param;
    bool is_bn; /* parameter of a BatchNorm layer */
};

struct sg_model {
    sg::ResNet net{nullptr};
    torch::Device device{torch::kCPU};
    sg_model_spec spec{};
    std::string device_desc;
    std::vector<sg_named_tensor> tensors;
    std::unordered_map<std::string, size_t> index;
    /* BatchNorm modules of each stage, to hold frozen ones in eval. */
    std::vector<torch::nn::BatchNorm2d> stage_bn[SG_STAGE_COUNT];
    bool frozen[SG_STAGE_COUNT] = {};
    bool bn_trainable[SG_STAGE_COUNT] = {};
    bool training = false;
    /* fp16 dynamic loss scaling (CUDA only). */
    double loss_scale = 65536.0;
    int good_steps = 0;
    /* sg_model_set_cuda_graphs: off, or on after checks (auto resolved) */
    bool cuda_graphs = false;
};

/* A captured training step (models/cuda_graph.cpp). */
struct sg_graph_state;

struct sg_optim {
    sg_model *model = nullptr;
    sg_optim_spec spec{};
    std::unique_ptr<torch::optim::Optimizer> opt;
    /* Parameter group indices of each stage (decay and no-decay). */
    std::vector<size_t> stage_groups[SG_STAGE_COUNT];
    /* The optimizer-state tensors exposed for --resume. */
    struct state_entry {
        std::string name;   /* "<param>.momentum_buffer", ".exp_avg", ... */
        size_t param;       /* index into model->tensors */
        int field;          /* 0 momentum_buffer, 1 exp_avg, 2 exp_avg_sq, 3 step */
        size_t numel;
    };
    std::vector<state_entry> state;
    std::unordered_map<std::string, size_t> state_index;
    /* The captured step when the model has CUDA graphs on (shared_ptr:
     * the type is complete only in cuda_graph.cpp). */
    std::shared_ptr<sg_graph_state> graph;
    sg_cuda_graph_stats graph_stats{};
};

/* libtorch keys each parameter's optimizer state by its TensorImpl
 * address: as a string up to 1.13 (Debian's), as the pointer itself in 2.x
 * (CUDA PyTorch wheels).  This builds the key of whichever this libtorch has. */
using sg_state_map = std::remove_reference_t<decltype(std::declval<torch::optim::Optimizer &>().state())>;
using sg_state_key_t = std::remove_const_t<typename sg_state_map::value_type::first_type>;
template <typename Key> Key sg_state_key_as(const torch::Tensor &p)
{
    if constexpr (std::is_same_v<Key, std::string>) {
        std::ostringstream s; /* what c10::guts::to_string wrote */
        s << p.unsafeGetTensorImpl();
        return s.str();
    } else {
        return p.unsafeGetTensorImpl();
    }
}
inline sg_state_key_t sg_state_key(const torch::Tensor &p)
{
    return sg_state_key_as<sg_state_key_t>(p);
}

/* RAII autocast region for CUDA mixed precision; a no-op for fp32/CPU.
 * libtorch 2.4 replaced the CUDA-only calls (set_enabled,
 * set_autocast_gpu_dtype; deprecated, later removed) by per-device ones. */
#if defined(TORCH_VERSION_MAJOR) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
#define SG_TORCH_DEVICE_AUTOCAST 1
#else
#define SG_TORCH_DEVICE_AUTOCAST 0
#endif

struct sg_autocast {
    bool on;
    bool prev;
    explicit sg_autocast(const sg_model *m)
        : on(m->device.is_cuda() && m->spec.precision != SG_PRECISION_FP32),
#if SG_TORCH_DEVICE_AUTOCAST
          prev(at::autocast::is_autocast_enabled(at::kCUDA))
#else
          prev(at::autocast::is_enabled())
#endif
    {
        if (!on)
            return;
        at::ScalarType dt = m->spec.precision == SG_PRECISION_BF16 ? at::kBFloat16 : at::kHalf;
#if SG_TORCH_DEVICE_AUTOCAST
        at::autocast::set_autocast_dtype(at::kCUDA, dt);
        at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
        at::autocast::set_autocast_gpu_dtype(dt);
        at::autocast::set_enabled(true);
#endif
        at::autocast::increment_nesting();
    }
    ~sg_autocast()
    {
        if (!on)
            return;
        if (at::autocast::decrement_nesting() == 0)
            at::autocast::clear_cache();
#if SG_TORCH_DEVICE_AUTOCAST
        at::autocast::set_autocast_enabled(at::kCUDA, prev);
#else
        at::autocast::set_enabled(prev);
#endif
    }
};

/* Host input (n, c, h, w) as a tensor on the model's device and memory
 * format; zero-copy on CPU. */
torch::Tensor sg_input_tensor(sg_model *m, const float *x, int n, int c, int h, int w);

/* The training step as a CUDA graph replay (models/cuda_graph.cpp):
 * 1 when done that way (loss and logits written), 0 when the step must
 * run eager (graphs off, other shape, fp16), or a negative SG_E_* after
 * sg_fail.  Throws like any libtorch code. */
int sg_graph_train_step(sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
                        const int64_t *labels, double label_smoothing, double *loss,
                        float *logits);

/* Wraps one extern "C" body: any exception becomes this thread's error
 * message and a status code, so no C++ exception ever reaches C. */
#define SG_TORCH_TRY(...)                                                      \
    try {                                                                      \
        __VA_ARGS__                                                            \
    } catch (const sg::status_error &e) {                                      \
        return sg_fail(e.code, "%s", e.what());                                \
    } catch (const std::bad_alloc &) {                                         \
        return sg_fail(SG_E_NOMEM, "libtorch: out of memory");                 \
    } catch (const c10::Error &e) {                                            \
        return sg_fail(SG_E_TORCH, "libtorch: %s",                             \
                       sg::first_line(e.what_without_backtrace()).c_str());    \
    } catch (const std::exception &e) {                                        \
        return sg_fail(SG_E_TORCH, "libtorch: %s", sg::first_line(e.what()).c_str()); \
    } catch (...) {                                                            \
        return sg_fail(SG_E_TORCH, "libtorch: unknown C++ exception");         \
    }

#endif
