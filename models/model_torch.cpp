/* model_torch.cpp - the sg_model half of the C API over libtorch.
 *
 * Creation (device, threads, memory format), the named-tensor view of
 * the network in torchvision's state_dict order, train/eval modes with
 * per-stage freezing, and gradient-free forward passes.  Optimizers and
 * training steps are in optim_torch.cpp.
 */
#include "models/torch_internal.hpp"

extern "C" {
#include "models/sg_dist.h"
#include "models/torch_plugin.h"
}

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>

#include <cstring>
#include <thread>

namespace {

/* Parses "auto" / "cpu" / "cuda" / "cuda:N" (NULL = auto). */
torch::Device parse_device(const char *name)
{
    std::string s = name ? name : "auto";
    if (s == "auto")
        return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (s == "cpu")
        return torch::Device(torch::kCPU);
    if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
        if (!torch::cuda::is_available())
            throw std::runtime_error("device '" + s + "' requested but libtorch sees no CUDA device");
        torch::Device d = s == "cuda" ? torch::Device(torch::kCUDA, 0) : torch::Device(s);
        if (d.index() >= (int)torch::cuda::device_count())
            throw std::runtime_error("device '" + s + "' out of range (" +
                                     std::to_string(torch::cuda::device_count()) + " CUDA devices)");
        return d;
    }
    throw std::runtime_error("unknown device '" + s + "' (expected auto, cpu, cuda or cuda:N)");
}

/* Collects parameters then buffers of each module in pre-order, which is
 * exactly PyTorch's state_dict order. */
void collect_tensors(sg_model *m)
{
    for (auto &item : m->net->named_modules()) {
        const std::string &prefix = item.key();
        auto &mod = item.value();
        bool is_bn = mod->as<torch::nn::BatchNorm2d>() != nullptr;
        auto add = [&](const std::string &key, const torch::Tensor &t, bool is_param) {
            if (!t.defined())
                return;
            std::string name = prefix.empty() ? key : prefix + "." + key;
            m->index[name] = m->tensors.size();
            m->tensors.push_back({name, t, sg::stage_of(name), is_param, is_bn && is_param});
        };
        for (auto &p : mod->named_parameters(/*recurse=*/false))
            add(p.key(), p.value(), true);
        for (auto &b : mod->named_buffers(/*recurse=*/false))
            add(b.key(), b.value(), false);
        if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(mod))
            m->stage_bn[sg::stage_of(prefix)].push_back(torch::nn::BatchNorm2d(bn));
    }
}

const sg_named_tensor &find_tensor(const sg_model *m, const char *name)
{
    auto it = m->index.find(name ? name : "");
    if (it == m->index.end())
        throw std::invalid_argument(std::string("no tensor named '") + (name ? name : "(null)") + "'");
    return m->tensors[it->second];
}

/* Applies the model's mode: everything train/eval, then BatchNorm of
 * frozen stages back to eval (unless bn_trainable) so that their running
 * statistics stay those of the pretrained weights. */
void apply_mode(sg_model *m)
{
    m->net->train(m->training);
    if (!m->training)
        return;
    for (int s = 0; s < SG_STAGE_COUNT; s++)
        if (m->frozen[s] && !m->bn_trainable[s])
            for (auto &bn : m->stage_bn[s])
                bn->eval();
}

} // namespace

torch::Tensor sg_input_tensor(sg_model *m, const float *x, int n, int c, int h, int w)
{
    if (!x || n <= 0 || c <= 0 || h <= 0 || w <= 0)
        throw std::invalid_argument("empty or invalid input batch");
    if (c != m->spec.in_channels)
        throw std::invalid_argument("input has " + std::to_string(c) + " channels, model expects " +
                                    std::to_string(m->spec.in_channels));
    /* from_blob does not copy: the caller's buffer is used in place. */
    torch::Tensor t = torch::from_blob(const_cast<float *>(x), {n, c, h, w}, torch::kFloat32);
    if (m->device.is_cuda()) {
        /* From a pinned buffer (sg_host_alloc, the loader's batches) the
         * copy is asynchronous; every caller reads a result back before
         * returning, which orders it before the buffer is reused. */
        t = t.to(m->device, /*non_blocking=*/t.is_pinned(), /*copy=*/true);
        if (m->spec.channels_last)
            t = t.contiguous(at::MemoryFormat::ChannelsLast);
    }
    return t;
}

extern "C" {

long sg_torch_plugin_abi(void)
{
    return SG_TORCH_PLUGIN_ABI_KEY;
}

int sg_torch_available(void)
{
    return 1;
}

int sg_cuda_available(void)
{
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

int sg_torch_seed(uint64_t seed)
{
    SG_TORCH_TRY(torch::manual_seed(seed); return 0;)
}

int sg_model_create(sg_model **out, const sg_model_spec *spec)
{
    if (!out || !spec)
        return sg_fail(SG_E_INVALID, "sg_model_create: NULL argument");
    *out = nullptr;
    if (spec->in_channels <= 0 || spec->n_classes <= 0)
        return sg_fail(SG_E_INVALID, "model needs in_channels > 0 and n_classes > 0 (got %d, %d)",
                       spec->in_channels, spec->n_classes);
    SG_TORCH_TRY(
        std::unique_ptr<sg_model> m(new sg_model());
        m->spec = *spec;
        m->device = parse_device(spec->device);
        if (m->device.is_cpu()) {
            int n = spec->n_threads > 0 ? spec->n_threads : (int)std::thread::hardware_concurrency();
            /* libtorch driven from C++ may start with one thread. */
            at::set_num_threads(n > 0 ? n : 1);
            m->spec.channels_last = 0; /* channels_last is a CUDA-only optimisation here */
            m->spec.precision = SG_PRECISION_FP32;
        }
        m->net = sg::ResNet(spec->arch, spec->in_channels, spec->n_classes);
        m->net->to(m->device);
        if (m->spec.channels_last) {
            torch::NoGradGuard no_grad;
            for (auto &p : m->net->parameters())
                if (p.dim() == 4)
                    p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
        }
        m->device_desc = m->device.str();
        collect_tensors(m.get());
        m->net->eval();
        *out = m.release();
        return 0;)
}

void sg_model_free(sg_model *m)
{
    try {
        delete m;
    } catch (...) {
    }
}

int sg_model_device(const sg_model *m, char *buf, size_t size)
{
    if (!m || !buf || size == 0)
        return sg_fail(SG_E_INVALID, "sg_model_device: NULL argument");
    snprintf(buf, size, "%s", m->device_desc.c_str());
    return 0;
}

int sg_model_tensor_count(const sg_model *m, int *count)
{
    if (!m || !count)
        return sg_fail(SG_E_INVALID, "sg_model_tensor_count: NULL argument");
    *count = (int)m->tensors.size();
    return 0;
}

int sg_model_tensor_info(const sg_model *m, int i, const char **name, int *ndim, int64_t shape[4],
                         int *is_int)
{
    if (!m || i < 0 || i >= (int)m->tensors.size())
        return sg_fail(SG_E_INVALID, "tensor index %d out of range", i);
    const sg_named_tensor &nt = m->tensors[(size_t)i];
    if (name)
        *name = nt.name.c_str();
    if (ndim)
        *ndim = (int)nt.t.dim();
    if (shape)
        for (int d = 0; d < 4; d++)
            shape[d] = d < nt.t.dim() ? nt.t.size(d) : 1;
    if (is_int)
        *is_int = nt.t.is_floating_point() ? 0 : 1;
    return 0;
}

int sg_model_tensor_get(const sg_model *m, const char *name, float *dst, size_t numel)
{
    if (!m || !dst)
        return sg_fail(SG_E_INVALID, "sg_model_tensor_get: NULL argument");
    SG_TORCH_TRY(
        const sg_named_tensor &nt = find_tensor(m, name);
        if ((size_t)nt.t.numel() != numel)
            return sg_fail(SG_E_SHAPE, "tensor '%s' has %lld elements, caller buffer %zu", name,
                           (long long)nt.t.numel(), numel);
        torch::Tensor h = nt.t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        std::memcpy(dst, h.data_ptr<float>(), numel * sizeof(float));
        return 0;)
}

int sg_model_tensor_set(sg_model *m, const char *name, const float *src, size_t numel)
{
    if (!m || !src)
        return sg_fail(SG_E_INVALID, "sg_model_tensor_set: NULL argument");
    SG_TORCH_TRY(
        const sg_named_tensor &nt = find_tensor(m, name);
        if ((size_t)nt.t.numel() != numel)
            return sg_fail(SG_E_SHAPE, "tensor '%s' has %lld elements, source %zu", name,
                           (long long)nt.t.numel(), numel);
        torch::NoGradGuard no_grad;
        torch::Tensor s = torch::from_blob(const_cast<float *>(src), nt.t.sizes(), torch::kFloat32);
        /* copy_ converts dtype/device and keeps the destination's layout. */
        const_cast<torch::Tensor &>(nt.t).copy_(s);
        return 0;)
}

int sg_model_set_train(sg_model *m, int train)
{
    if (!m)
        return sg_fail(SG_E_INVALID, "sg_model_set_train: NULL model");
    SG_TORCH_TRY(m->training = train != 0; apply_mode(m); return 0;)
}

int sg_model_set_frozen(sg_model *m, sg_stage stage, int frozen, int bn_trainable)
{
    if (!m || (int)stage < 0 || stage >= SG_STAGE_COUNT)
        return sg_fail(SG_E_INVALID, "sg_model_set_frozen: bad model or stage %d", (int)stage);
    SG_TORCH_TRY(
        m->frozen[stage] = frozen != 0;
        m->bn_trainable[stage] = bn_trainable != 0;
        for (auto &nt : m->tensors) {
            if (nt.stage != stage || !nt.is_param)
                continue;
            bool trains = !frozen || (nt.is_bn && bn_trainable);
            nt.t.requires_grad_(trains);
            /* A stale gradient would still move a frozen weight through
             * weight decay or momentum: drop it. */
            if (!trains)
                nt.t.mutable_grad() = torch::Tensor();
        }
        apply_mode(m);
        return 0;)
}

int sg_model_feature_dim(const sg_model *m, int *dim)
{
    if (!m || !dim)
        return sg_fail(SG_E_INVALID, "sg_model_feature_dim: NULL argument");
    *dim = (int)m->net->feature_dim;
    return 0;
}

int sg_model_forward(sg_model *m, const float *x, int n, int c, int h, int w, float *logits)
{
    if (!m || !logits)
        return sg_fail(SG_E_INVALID, "sg_model_forward: NULL argument");
    SG_TORCH_TRY(
        torch::NoGradGuard no_grad;
        torch::Tensor in = sg_input_tensor(m, x, n, c, h, w);
        torch::Tensor out;
        {
            sg_autocast ac(m);
            out = m->net->forward(in);
        }
        out = out.to(torch::kCPU, torch::kFloat32).contiguous();
        std::memcpy(logits, out.data_ptr<float>(), (size_t)out.numel() * sizeof(float));
        return 0;)
}

int sg_model_features(sg_model *m, const float *x, int n, int c, int h, int w, float *features)
{
    if (!m || !features)
        return sg_fail(SG_E_INVALID, "sg_model_features: NULL argument");
    SG_TORCH_TRY(
        torch::NoGradGuard no_grad;
        torch::Tensor in = sg_input_tensor(m, x, n, c, h, w);
        torch::Tensor out;
        {
            sg_autocast ac(m);
            out = m->net->features(in);
        }
        out = out.to(torch::kCPU, torch::kFloat32).contiguous();
        std::memcpy(features, out.data_ptr<float>(), (size_t)out.numel() * sizeof(float));
        return 0;)
}

} // extern "C"
