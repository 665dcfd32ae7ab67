/* cuda_graph.cpp - the whole training step as one CUDA graph, and the
 * host side of the data path (pinned batch buffers, TF32).
 *
 * Why: a ResNet34 step on a 15x125 sensor image is a few hundred short
 * kernels, so on a GPU the time goes to launching them.  Captured once
 * and replayed, the step is one launch.  What a replay needs:
 *   - static device buffers for the input and the labels, written before
 *     each replay (the batch is copied in, never re-allocated);
 *   - the optimizer update in the graph, with every per-step value the
 *     schedule changes (lr, momentum, AdamW's bias corrections) read from
 *     one small device tensor written before each replay: libtorch's own
 *     optimizers pass lr as a host scalar, which a graph would freeze;
 *   - a warm-up of forward and backward on a side stream before the
 *     capture (cuDNN/cuBLAS handles and workspaces are created outside the
 *     graph), with the BatchNorm statistics it moves restored, so that
 *     graphs change nothing about the run;
 *   - eager steps for a batch of another shape (the last, partial one);
 *     a change of what trains (freezing) recaptures.
 * The update formulas are torch.optim's (SGD with momentum/nesterov and
 * coupled weight decay; AdamW with decoupled decay and bias correction),
 * on the same state tensors libtorch's optimizer keeps, so eager and graph
 * steps interleave and checkpoints see one optimizer.
 *
 * The graph half compiles only against a CUDA libtorch with the CUDA
 * runtime headers (the Makefile defines SG_TORCH_CUDA); elsewhere graphs
 * report as not built and SG_CUDA_GRAPHS_ON fails with a message.
 */
#include "models/torch_internal.hpp"

#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CPUAllocator.h>
#include <torch/cuda.h>

#ifdef SG_TORCH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <cmath>
#include <cstring>

/* Page-locked batches: a header before the caller's pointer holds the
 * allocator's DataPtr, so sg_host_free needs no table. */
namespace {

constexpr size_t kHostHeader = 64; /* keeps the caller's pointer 64-byte aligned */

struct host_block {
    c10::DataPtr data;
};

bool cuda_present()
{
    try {
        return torch::cuda::is_available();
    } catch (...) {
        return false;
    }
}

} // namespace

#ifdef SG_TORCH_CUDA

/* Per-parameter scalars written before each replay (float32 slots). */
enum { SGD_NEG_LR, SGD_MOMENTUM, SGD_SLOTS };
enum { ADAMW_DECAY, ADAMW_BETA1, ADAMW_ONE_MINUS_BETA1, ADAMW_SQRT_BC2, ADAMW_NEG_STEP, ADAMW_SLOTS };

struct sg_graph_state {
    std::vector<int64_t> shape; /* n, c, h, w of the captured batch */
    std::string signature;      /* what trains, modes, label smoothing */
    torch::Tensor x, y;         /* static inputs */
    torch::Tensor out, loss;    /* static outputs of the graph */
    torch::Tensor hyper_host;   /* pinned, float32, slots per parameter */
    torch::Tensor hyper_dev;
    struct param {
        size_t tensor; /* index into model->tensors */
        size_t group;  /* optimizer parameter group */
    };
    std::vector<param> params;
    at::cuda::CUDAGraph graph;
};

namespace {

namespace optim = torch::optim;

sg_state_key_t state_key(const torch::Tensor &p)
{
    return sg_state_key(p);
}

/* The libtorch state of parameter p (created by bind_params). */
optim::OptimizerParamState &state_of(sg_optim *o, const torch::Tensor &p)
{
    auto &st = o->opt->state();
    auto it = st.find(state_key(p));
    if (it == st.end())
        throw std::logic_error("CUDA graph: a parameter has no optimizer state");
    return *it->second;
}

/* Everything a capture depends on besides the shape. */
std::string signature(const sg_model *m, double label_smoothing)
{
    std::string s = m->training ? "T" : "E";
    for (int st = 0; st < SG_STAGE_COUNT; st++)
        s += m->frozen[st] ? (m->bn_trainable[st] ? 'b' : 'f') : '-';
    for (const auto &nt : m->tensors)
        if (nt.is_param)
            s += nt.t.requires_grad() ? '1' : '0';
    s += std::to_string(label_smoothing);
    return s;
}

/* The optimizer group of each trainable parameter; the state libtorch's
 * optimizer would create on its first step, created now (zeros are
 * exactly "no state yet" for SGD with dampening 0 and for AdamW). */
void bind_params(sg_graph_state &g, sg_optim *o)
{
    std::unordered_map<const void *, size_t> group_of;
    auto &groups = o->opt->param_groups();
    for (size_t gi = 0; gi < groups.size(); gi++)
        for (auto &p : groups[gi].params())
            group_of[p.unsafeGetTensorImpl()] = gi;
    auto &st = o->opt->state();
    g.params.clear();
    for (size_t i = 0; i < o->model->tensors.size(); i++) {
        const sg_named_tensor &nt = o->model->tensors[i];
        if (!nt.is_param || !nt.t.requires_grad())
            continue;
        auto it = group_of.find(nt.t.unsafeGetTensorImpl());
        if (it == group_of.end())
            throw std::logic_error("parameter '" + nt.name + "' is in no optimizer group");
        g.params.push_back({i, it->second});
        sg_state_key_t key = state_key(nt.t);
        if (st.find(key) != st.end())
            continue;
        if (o->spec.kind == SG_OPTIM_SGD) {
            auto s = std::make_unique<optim::SGDParamState>();
            s->momentum_buffer(torch::zeros_like(nt.t, at::MemoryFormat::Preserve));
            st[key] = std::move(s);
        } else {
            auto s = std::make_unique<optim::AdamWParamState>();
            s->step(0);
            s->exp_avg(torch::zeros_like(nt.t, at::MemoryFormat::Preserve));
            s->exp_avg_sq(torch::zeros_like(nt.t, at::MemoryFormat::Preserve));
            st[key] = std::move(s);
        }
    }
    int slots = o->spec.kind == SG_OPTIM_SGD ? SGD_SLOTS : ADAMW_SLOTS;
    int64_t n = (int64_t)g.params.size() * slots;
    g.hyper_host = torch::zeros({n > 0 ? n : 1}, torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(true));
    g.hyper_dev = torch::zeros({n > 0 ? n : 1},
                               torch::TensorOptions().dtype(torch::kFloat32).device(o->model->device));
}

/* The update of every trainable parameter, reading the per-step scalars
 * from hyper_dev: recorded into the graph. */
void update_in_graph(sg_graph_state &g, sg_optim *o)
{
    torch::NoGradGuard no_grad;
    auto &groups = o->opt->param_groups();
    for (size_t k = 0; k < g.params.size(); k++) {
        const torch::Tensor &p = o->model->tensors[g.params[k].tensor].t;
        const torch::Tensor &grad = p.grad();
        if (!grad.defined())
            continue; /* an unused parameter: torch.optim skips it too */
        auto &opts = groups[g.params[k].group].options();
        auto &state = state_of(o, p);
        if (o->spec.kind == SG_OPTIM_SGD) {
            auto &so = static_cast<optim::SGDOptions &>(opts);
            torch::Tensor neg_lr = g.hyper_dev[(int64_t)k * SGD_SLOTS + SGD_NEG_LR];
            torch::Tensor mom = g.hyper_dev[(int64_t)k * SGD_SLOTS + SGD_MOMENTUM];
            torch::Tensor d_p = so.weight_decay() != 0.0 ? grad.add(p, so.weight_decay()) : grad;
            torch::Tensor buf = static_cast<optim::SGDParamState &>(state).momentum_buffer();
            buf.mul_(mom).add_(d_p); /* dampening 0 */
            d_p = so.nesterov() ? d_p.addcmul(buf, mom) : buf;
            p.addcmul_(d_p, neg_lr);
        } else {
            auto &ao = static_cast<optim::AdamWOptions &>(opts);
            auto &s = static_cast<optim::AdamWParamState &>(state);
            int64_t b = (int64_t)k * ADAMW_SLOTS;
            if (ao.weight_decay() != 0.0)
                p.mul_(g.hyper_dev[b + ADAMW_DECAY]);
            double beta2 = std::get<1>(ao.betas());
            s.exp_avg().mul_(g.hyper_dev[b + ADAMW_BETA1]).addcmul_(grad, g.hyper_dev[b + ADAMW_ONE_MINUS_BETA1]);
            s.exp_avg_sq().mul_(beta2).addcmul_(grad, grad, 1.0 - beta2);
            torch::Tensor denom = (s.exp_avg_sq().sqrt() / g.hyper_dev[b + ADAMW_SQRT_BC2]).add_(ao.eps());
            p.addcmul_(s.exp_avg() / denom, g.hyper_dev[b + ADAMW_NEG_STEP]);
        }
    }
}

/* This step's scalars, from the groups' current options (the schedule
 * wrote them through sg_optim_set_stage), into the pinned host tensor. */
void fill_hyper(sg_graph_state &g, sg_optim *o)
{
    float *h = g.hyper_host.data_ptr<float>();
    auto &groups = o->opt->param_groups();
    for (size_t k = 0; k < g.params.size(); k++) {
        auto &opts = groups[g.params[k].group].options();
        if (o->spec.kind == SG_OPTIM_SGD) {
            auto &so = static_cast<optim::SGDOptions &>(opts);
            h[k * SGD_SLOTS + SGD_NEG_LR] = (float)-so.lr();
            h[k * SGD_SLOTS + SGD_MOMENTUM] = (float)so.momentum();
        } else {
            auto &ao = static_cast<optim::AdamWOptions &>(opts);
            const torch::Tensor &p = o->model->tensors[g.params[k].tensor].t;
            auto &s = static_cast<optim::AdamWParamState &>(state_of(o, p));
            double beta1 = std::get<0>(ao.betas()), beta2 = std::get<1>(ao.betas());
            double step = (double)(s.step() + 1);
            double bc1 = 1.0 - std::pow(beta1, step), bc2 = 1.0 - std::pow(beta2, step);
            h[k * ADAMW_SLOTS + ADAMW_DECAY] = (float)(1.0 - ao.lr() * ao.weight_decay());
            h[k * ADAMW_SLOTS + ADAMW_BETA1] = (float)beta1;
            h[k * ADAMW_SLOTS + ADAMW_ONE_MINUS_BETA1] = (float)(1.0 - beta1);
            h[k * ADAMW_SLOTS + ADAMW_SQRT_BC2] = (float)std::sqrt(bc2);
            h[k * ADAMW_SLOTS + ADAMW_NEG_STEP] = (float)(-ao.lr() / bc1);
        }
    }
}

/* AdamW's host-side step counts advance with every replay. */
void advance_steps(sg_graph_state &g, sg_optim *o)
{
    if (o->spec.kind != SG_OPTIM_ADAMW)
        return;
    for (auto &pp : g.params) {
        auto &s = static_cast<optim::AdamWParamState &>(state_of(o, o->model->tensors[pp.tensor].t));
        s.step(s.step() + 1);
    }
}

void drop_grads(sg_model *m)
{
    for (auto &nt : m->tensors)
        if (nt.is_param)
            nt.t.mutable_grad() = torch::Tensor();
}

/* Forward, loss, backward of the static batch (the graph's body before
 * the update, and the warm-up's). */
void forward_backward(sg_graph_state &g, sg_model *m, double label_smoothing)
{
    {
        sg_autocast ac(m);
        g.out = m->net->forward(g.x);
    }
    g.loss = torch::nn::functional::cross_entropy(
        g.out.to(torch::kFloat32), g.y,
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
    g.loss.backward();
}

/* Warm-up on a side stream, then the capture.  The warm-up's BatchNorm
 * statistic updates are undone, so the first replay is the run's step. */
void capture(sg_graph_state &g, sg_model *m, sg_optim *o, double label_smoothing)
{
    c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, m->device.index());
    c10::cuda::CUDAStream cur = c10::cuda::getCurrentCUDAStream(m->device.index());
    std::vector<torch::Tensor> saved;
    for (auto &nt : m->tensors)
        if (!nt.is_param)
            saved.push_back(nt.t.detach().clone());
    {
        at::cuda::CUDAEvent ready;
        ready.record(cur);
        ready.block(side);
        c10::cuda::CUDAStreamGuard guard(side);
        for (int i = 0; i < 3; i++) {
            drop_grads(m);
            forward_backward(g, m, label_smoothing);
        }
        {
            torch::NoGradGuard no_grad; /* only for the restore: the capture records gradients */
            size_t j = 0;
            for (auto &nt : m->tensors)
                if (!nt.is_param)
                    nt.t.detach().copy_(saved[j++]);
        }
        drop_grads(m);
        g.out = torch::Tensor();
        g.loss = torch::Tensor();
        side.synchronize();

        /* Inside the capture nothing runs: autocast's weight cache must be
         * off so that every cast is recorded, not served from a cache. */
        bool cache = at::autocast::is_autocast_cache_enabled();
        at::autocast::set_autocast_cache_enabled(false);
        try {
            g.graph.capture_begin();
            forward_backward(g, m, label_smoothing);
            update_in_graph(g, o);
            g.graph.capture_end();
        } catch (...) {
            /* end the capture so the stream is usable again; the error
             * that stopped it is the one reported */
            try {
                g.graph.capture_end();
            } catch (...) {
            }
            at::autocast::set_autocast_cache_enabled(cache);
            throw;
        }
        at::autocast::set_autocast_cache_enabled(cache);
        at::cuda::CUDAEvent done;
        done.record(side);
        done.block(cur);
    }
}

bool labels_ok(const sg_model *m, const int64_t *labels, int n)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->spec.n_classes) {
            sg_fail(SG_E_TORCH, "libtorch: label %lld at index %d outside [0, %d)", (long long)labels[i], i,
                    m->spec.n_classes);
            return false;
        }
    return true;
}

} // namespace

int sg_graph_train_step(sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
                        const int64_t *labels, double label_smoothing, double *loss, float *logits)
{
    if (!m->cuda_graphs || !m->device.is_cuda() || m->spec.precision == SG_PRECISION_FP16)
        return 0;
    if (c != m->spec.in_channels || n <= 0 || h <= 0 || w <= 0 || !x)
        return 0; /* the eager path reports the error */
    std::vector<int64_t> shape = {n, c, h, w};
    std::string sig = signature(m, label_smoothing);
    if (o->graph && o->graph->shape != shape)
        return 0; /* another shape (the last, partial batch): eager */
    if (!labels_ok(m, labels, n))
        return SG_E_TORCH;

    sg_graph_state *g = o->graph.get();
    bool fresh = !g || g->signature != sig;
    if (fresh) {
        o->graph.reset(); /* releases the old graph's memory pool first */
        drop_grads(m);
        auto ng = std::make_shared<sg_graph_state>();
        ng->shape = shape;
        ng->signature = sig;
        auto dev = torch::TensorOptions().device(m->device);
        ng->x = torch::empty({n, c, h, w}, dev.dtype(torch::kFloat32));
        if (m->spec.channels_last)
            ng->x = ng->x.contiguous(at::MemoryFormat::ChannelsLast);
        ng->y = torch::empty({n}, dev.dtype(torch::kInt64));
        bind_params(*ng, o);
        g = ng.get();
        o->graph = ng;
    }
    torch::Tensor hx = torch::from_blob(const_cast<float *>(x), {n, c, h, w}, torch::kFloat32);
    g->x.copy_(hx, /*non_blocking=*/hx.is_pinned());
    g->y.copy_(torch::from_blob(const_cast<int64_t *>(labels), {n}, torch::kInt64));
    if (fresh) {
        try {
            capture(*g, m, o, label_smoothing);
        } catch (...) {
            o->graph.reset();
            drop_grads(m);
            throw;
        }
        o->graph_stats.captures++;
    }
    fill_hyper(*g, o);
    g->hyper_dev.copy_(g->hyper_host, /*non_blocking=*/true);
    g->graph.replay();
    *loss = g->loss.item<double>(); /* waits for the step */
    advance_steps(*g, o);
    o->graph_stats.replays++;
    if (!std::isfinite(*loss))
        return sg_fail(SG_E_NUMERIC, "training loss is %g (diverged; lower the learning rate)", *loss);
    if (logits) {
        torch::Tensor hl = g->out.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        std::memcpy(logits, hl.data_ptr<float>(), (size_t)hl.numel() * sizeof(float));
    }
    return 1;
}

#else /* no CUDA graphs in this build */

struct sg_graph_state {
};

int sg_graph_train_step(sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
                        const int64_t *labels, double label_smoothing, double *loss, float *logits)
{
    (void)m, (void)o, (void)x, (void)n, (void)c, (void)h, (void)w, (void)labels;
    (void)label_smoothing, (void)loss, (void)logits;
    return 0;
}

#endif

extern "C" {

int sg_cuda_graphs_built(void)
{
#ifdef SG_TORCH_CUDA
    return 1;
#else
    return 0;
#endif
}

int sg_model_set_cuda_graphs(sg_model *m, sg_cuda_graphs mode)
{
    if (!m)
        return sg_fail(SG_E_INVALID, "sg_model_set_cuda_graphs: NULL model");
    const char *why = nullptr;
    if (!sg_cuda_graphs_built())
        why = "this sensorgram was built without CUDA graphs (a libtorch without CUDA, or no CUDA "
              "runtime headers)";
    else if (!m->device.is_cuda())
        why = "CUDA graphs need a CUDA device (the model is on the CPU)";
    else if (m->spec.precision == SG_PRECISION_FP16)
        why = "CUDA graphs do not run fp16 training (its loss scaling skips steps on the host); use "
              "--mixed-precision bf16";
    if (mode == SG_CUDA_GRAPHS_ON && why)
        return sg_fail(SG_E_UNSUPPORTED, "--cuda-graphs on: %s", why);
    m->cuda_graphs = mode != SG_CUDA_GRAPHS_OFF && !why;
    return SG_OK;
}

int sg_optim_cuda_graph_stats(const sg_optim *o, sg_cuda_graph_stats *st)
{
    if (!o || !st)
        return sg_fail(SG_E_INVALID, "sg_optim_cuda_graph_stats: NULL argument");
    *st = o->graph_stats;
    return SG_OK;
}

int sg_host_alloc(void **out, size_t bytes)
{
    if (!out)
        return sg_fail(SG_E_INVALID, "sg_host_alloc: NULL argument");
    *out = nullptr;
    SG_TORCH_TRY(
        c10::Allocator *a = cuda_present() ? at::detail::getCUDAHooks().getPinnedMemoryAllocator()
                                           : c10::GetCPUAllocator();
        c10::DataPtr dp = a->allocate(bytes + kHostHeader);
        char *base = static_cast<char *>(dp.get());
        if (!base)
            return sg_fail(SG_E_NOMEM, "out of memory for a %zu-byte host buffer", bytes);
        host_block *blk = new host_block{std::move(dp)};
        std::memcpy(base, &blk, sizeof blk);
        *out = base + kHostHeader;
        return SG_OK;)
}

void sg_host_free(void *p)
{
    if (!p)
        return;
    host_block *blk;
    std::memcpy(&blk, static_cast<char *>(p) - kHostHeader, sizeof blk);
    try {
        delete blk;
    } catch (...) {
    }
}

int sg_torch_set_tf32(int allow)
{
    SG_TORCH_TRY(
        at::globalContext().setAllowTF32CuDNN(allow != 0);
        at::globalContext().setAllowTF32CuBLAS(allow != 0);
        return SG_OK;)
}

} // extern "C"
