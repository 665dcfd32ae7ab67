/* optim_torch.cpp - optimizers, training steps and losses over libtorch.
 *
 * SGD (momentum, nesterov) and AdamW from libtorch, whose update rules
 * match torch.optim's single-tensor implementations; parameter groups per
 * (stage, decay/no-decay) so schedules can set lr and momentum per stage.
 * fp16 training uses a small dynamic loss scaler (libtorch 1.13 has no
 * C++ GradScaler); bf16 needs none.  Optimizer state is exposed as named
 * float tensors for checkpoints.
 */
#include "models/torch_internal.hpp"

#include <cmath>
#include <cstring>

namespace {

namespace optim = torch::optim;

sg_state_key_t state_key(const torch::Tensor &p)
{
    return sg_state_key(p); /* the TensorImpl address, as this libtorch keys it */
}

void drop_grads(sg_model *m)
{
    for (auto &nt : m->tensors)
        if (nt.is_param)
            nt.t.mutable_grad() = torch::Tensor();
}

void build_state_entries(sg_optim *o)
{
    static const char *const fields[] = {"momentum_buffer", "exp_avg", "exp_avg_sq", "step"};
    for (size_t i = 0; i < o->model->tensors.size(); i++) {
        const sg_named_tensor &nt = o->model->tensors[i];
        if (!nt.is_param)
            continue;
        std::vector<int> fs;
        if (o->spec.kind == SG_OPTIM_SGD) {
            if (o->spec.momentum != 0.0)
                fs = {0};
        } else {
            fs = {1, 2, 3};
        }
        for (int f : fs) {
            size_t numel = f == 3 ? 1 : (size_t)nt.t.numel();
            o->state_index[nt.name + "." + fields[f]] = o->state.size();
            o->state.push_back({nt.name + "." + fields[f], i, f, numel});
        }
    }
}

/* The state tensor of entry e, creating fresh (zero) state when the
 * optimizer has not stepped that parameter yet; zero state is exactly
 * equivalent to no state for both SGD (dampening 0) and AdamW. */
torch::Tensor state_tensor(sg_optim *o, const sg_optim::state_entry &e, bool create, int64_t **step)
{
    const torch::Tensor &p = o->model->tensors[e.param].t;
    auto &st = o->opt->state();
    sg_state_key_t key = state_key(p);
    auto it = st.find(key);
    if (it == st.end()) {
        if (!create)
            return torch::Tensor();
        if (o->spec.kind == SG_OPTIM_SGD) {
            auto s = std::make_unique<optim::SGDParamState>();
            s->momentum_buffer(torch::zeros_like(p, at::MemoryFormat::Preserve));
            st[key] = std::move(s);
        } else {
            auto s = std::make_unique<optim::AdamWParamState>();
            s->step(0);
            s->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
            s->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
            st[key] = std::move(s);
        }
        it = st.find(key);
    }
    if (o->spec.kind == SG_OPTIM_SGD)
        return static_cast<optim::SGDParamState &>(*it->second).momentum_buffer();
    auto &s = static_cast<optim::AdamWParamState &>(*it->second);
    if (e.field == 3) {
        *step = &const_cast<int64_t &>(s.step());
        return torch::Tensor();
    }
    return e.field == 1 ? s.exp_avg() : s.exp_avg_sq();
}

const sg_optim::state_entry &find_state(const sg_optim *o, const char *name)
{
    auto it = o->state_index.find(name ? name : "");
    if (it == o->state_index.end())
        throw std::invalid_argument(std::string("no optimizer state named '") + (name ? name : "(null)") +
                                    "'");
    return o->state[it->second];
}

torch::Tensor labels_tensor(sg_model *m, const int64_t *labels, int n)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->spec.n_classes)
            throw std::invalid_argument("label " + std::to_string(labels[i]) + " at index " +
                                        std::to_string(i) + " outside [0, " +
                                        std::to_string(m->spec.n_classes) + ")");
    return torch::from_blob(const_cast<int64_t *>(labels), {n}, torch::kInt64).to(m->device);
}

void copy_out(const torch::Tensor &t, float *dst)
{
    torch::Tensor h = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    std::memcpy(dst, h.data_ptr<float>(), (size_t)h.numel() * sizeof(float));
}

} // namespace

extern "C" {

int sg_optim_create(sg_optim **out, sg_model *m, const sg_optim_spec *spec)
{
    if (!out || !m || !spec)
        return sg_fail(SG_E_INVALID, "sg_optim_create: NULL argument");
    *out = nullptr;
    if (!(spec->lr >= 0.0) || spec->weight_decay < 0.0)
        return sg_fail(SG_E_INVALID, "optimizer needs lr >= 0 and weight_decay >= 0");
    if (spec->kind == SG_OPTIM_SGD && spec->nesterov && spec->momentum <= 0.0)
        return sg_fail(SG_E_INVALID, "nesterov SGD needs momentum > 0");
    SG_TORCH_TRY(
        std::unique_ptr<sg_optim> o(new sg_optim());
        o->model = m;
        o->spec = *spec;
        if (o->spec.kind == SG_OPTIM_ADAMW) {
            if (o->spec.beta2 == 0.0)
                o->spec.beta2 = 0.999;
            if (o->spec.eps == 0.0)
                o->spec.eps = 1e-8;
        }
        std::vector<optim::OptimizerParamGroup> groups;
        for (int s = 0; s < SG_STAGE_COUNT; s++) {
            for (int decay = 1; decay >= 0; decay--) {
                std::vector<torch::Tensor> params;
                for (auto &nt : m->tensors) {
                    if (!nt.is_param || nt.stage != s)
                        continue;
                    bool no_decay = spec->no_decay_bn_bias &&
                                    (nt.is_bn || (nt.name.size() >= 5 &&
                                                      nt.name.compare(nt.name.size() - 5, 5, ".bias") == 0));
                    if (no_decay == (decay == 0))
                        params.push_back(nt.t);
                }
                if (params.empty())
                    continue;
                double wd = decay ? spec->weight_decay : 0.0;
                std::unique_ptr<optim::OptimizerOptions> opts;
                if (spec->kind == SG_OPTIM_SGD)
                    opts = std::make_unique<optim::SGDOptions>(optim::SGDOptions(spec->lr)
                                                                   .momentum(spec->momentum)
                                                                   .weight_decay(wd)
                                                                   .nesterov(spec->nesterov != 0));
                else
                    opts = std::make_unique<optim::AdamWOptions>(
                        optim::AdamWOptions(spec->lr)
                            .betas(std::make_tuple(spec->momentum, o->spec.beta2))
                            .eps(o->spec.eps)
                            .weight_decay(wd));
                o->stage_groups[s].push_back(groups.size());
                groups.emplace_back(std::move(params), std::move(opts));
            }
        }
        if (spec->kind == SG_OPTIM_SGD)
            o->opt = std::make_unique<optim::SGD>(std::move(groups), optim::SGDOptions(spec->lr));
        else if (spec->kind == SG_OPTIM_ADAMW)
            o->opt = std::make_unique<optim::AdamW>(std::move(groups), optim::AdamWOptions(spec->lr));
        else
            return sg_fail(SG_E_INVALID, "unknown optimizer kind %d", (int)spec->kind);
        build_state_entries(o.get());
        *out = o.release();
        return 0;)
}

void sg_optim_free(sg_optim *o)
{
    try {
        delete o;
    } catch (...) {
    }
}

int sg_optim_set_stage(sg_optim *o, sg_stage stage, double lr, double momentum)
{
    if (!o || (int)stage < 0 || stage >= SG_STAGE_COUNT)
        return sg_fail(SG_E_INVALID, "sg_optim_set_stage: bad optimizer or stage %d", (int)stage);
    SG_TORCH_TRY(
        for (size_t g : o->stage_groups[stage]) {
            auto &opts = o->opt->param_groups()[g].options();
            if (o->spec.kind == SG_OPTIM_SGD) {
                static_cast<optim::SGDOptions &>(opts).lr(lr).momentum(momentum);
            } else {
                auto &a = static_cast<optim::AdamWOptions &>(opts);
                a.lr(lr).betas(std::make_tuple(momentum, std::get<1>(a.betas())));
            }
        }
        return 0;)
}

/* Backward from the loss l and one optimizer step (fp16: with dynamic
 * loss scaling, skipping the step on overflow); called inside
 * SG_TORCH_TRY by both training steps. */
static void backward_and_step(sg_model *m, sg_optim *o, torch::Tensor &l)
{
    bool fp16 = m->device.is_cuda() && m->spec.precision == SG_PRECISION_FP16;
    if (!fp16) {
        l.backward();
        o->opt->step();
    } else {
        (l * m->loss_scale).backward();
        bool finite = true;
        {
            torch::NoGradGuard no_grad;
            for (auto &nt : m->tensors) {
                if (!nt.is_param || !nt.t.grad().defined())
                    continue;
                nt.t.mutable_grad().mul_(1.0 / m->loss_scale);
                if (finite && !torch::isfinite(nt.t.grad()).all().item<bool>())
                    finite = false;
            }
        }
        if (finite) {
            o->opt->step();
            if (++m->good_steps >= 2000) {
                m->loss_scale *= 2.0;
                m->good_steps = 0;
            }
        } else {
            /* overflow: skip this step and halve the scale */
            m->loss_scale = std::max(m->loss_scale * 0.5, 1.0);
            m->good_steps = 0;
        }
    }
}

int sg_model_train_step(sg_model *m, sg_optim *o, const float *x, int n, int c, int h, int w,
                        const int64_t *labels, double label_smoothing, double *loss, float *logits)
{
    if (!m || !o || !labels || !loss || o->model != m)
        return sg_fail(SG_E_INVALID, "sg_model_train_step: NULL argument or optimizer of another model");
    SG_TORCH_TRY(
        /* a CUDA graph replay when graphs are on and the shape is the captured one */
        int graphed = sg_graph_train_step(m, o, x, n, c, h, w, labels, label_smoothing, loss, logits);
        if (graphed != 0)
            return graphed < 0 ? graphed : 0;
        if (o->model->cuda_graphs)
            o->graph_stats.eager++;
        torch::Tensor in = sg_input_tensor(m, x, n, c, h, w);
        torch::Tensor y = labels_tensor(m, labels, n);
        drop_grads(m);
        torch::Tensor out, l;
        {
            sg_autocast ac(m);
            out = m->net->forward(in);
        }
        /* the loss in fp32 even under autocast */
        l = torch::nn::functional::cross_entropy(
            out.to(torch::kFloat32), y,
            torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
        *loss = l.item<double>();
        if (!std::isfinite(*loss))
            return sg_fail(SG_E_NUMERIC, "training loss is %g (diverged; lower the learning rate)", *loss);
        backward_and_step(m, o, l);
        drop_grads(m);
        if (logits)
            copy_out(out, logits);
        return 0;)
}

/* The forward pass of the steps that never replay a CUDA graph (soft,
 * contrastive, masked): counted as eager, gradients dropped, under
 * autocast. */
static torch::Tensor eager_forward(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                                   int w)
{
    if (o->model->cuda_graphs)
        o->graph_stats.eager++;
    torch::Tensor in = sg_input_tensor(m, x, n, c, h, w);
    drop_grads(m);
    sg_autocast ac(m);
    return m->net->forward(in);
}

/* A host (n, k) float32 matrix copied to the model's device. */
static torch::Tensor device_matrix(sg_model *m, const float *p, int n, int k)
{
    return torch::from_blob(const_cast<float *>(p), {n, k}, torch::kFloat32)
        .to(m->device, /*non_blocking=*/false, /*copy=*/true);
}

int sg_model_train_step_soft(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                             int w, const float *targets, int k, double *loss, float *logits)
{
    if (!m || !o || !targets || !loss || o->model != m || k < 1)
        return sg_fail(SG_E_INVALID,
                       "sg_model_train_step_soft: NULL argument or optimizer of another model");
    SG_TORCH_TRY(
        torch::Tensor out = eager_forward(m, o, x, n, c, h, w);
        torch::Tensor t = device_matrix(m, targets, n, k);
        if (out.size(1) != k)
            return sg_fail(SG_E_SHAPE, "soft targets have %d classes, the model %lld", k,
                           (long long)out.size(1));
        /* the loss in fp32 even under autocast */
        torch::Tensor l = -(t * torch::log_softmax(out.to(torch::kFloat32), 1)).sum(1).mean();
        *loss = l.item<double>();
        if (!std::isfinite(*loss))
            return sg_fail(SG_E_NUMERIC, "training loss is %g (diverged; lower the learning rate)", *loss);
        backward_and_step(m, o, l);
        drop_grads(m);
        if (logits)
            copy_out(out, logits);
        return 0;)
}

int sg_model_train_step_contrastive(sg_model *m, sg_optim *o, const float *x, int n, int c,
                                    int h, int w, double temperature, double *loss,
                                    double *top1)
{
    if (!m || !o || !x || !loss || o->model != m || n < 2 || !(temperature > 0.0))
        return sg_fail(SG_E_INVALID, "sg_model_train_step_contrastive: NULL argument, optimizer of "
                                     "another model, fewer than 2 pairs or temperature <= 0");
    SG_TORCH_TRY(
        torch::Tensor out = eager_forward(m, o, x, 2 * n, c, h, w);
        /* NT-Xent (SimCLR): cosine similarities over the 2n projections,
         * each one's own similarity masked out, the other view of the
         * same segment as the class among the 2n - 1 others; in fp32. */
        torch::Tensor o32 = out.to(torch::kFloat32);
        /* F.normalize: x / max(||x||, 1e-12), written out */
        torch::Tensor z = o32 / o32.norm(2, {1}, true).clamp_min(1e-12);
        torch::Tensor sim = torch::matmul(z, z.t()) / temperature;
        torch::Tensor self = torch::eye(2 * n, torch::TensorOptions().dtype(torch::kBool).device(m->device));
        sim = sim.masked_fill(self, -1e9);
        torch::Tensor idx = torch::arange(2 * n, torch::TensorOptions().dtype(torch::kInt64));
        torch::Tensor target = torch::remainder(idx + n, 2 * n).to(m->device);
        torch::Tensor l = torch::nn::functional::cross_entropy(sim, target);
        *loss = l.item<double>();
        if (!std::isfinite(*loss))
            return sg_fail(SG_E_NUMERIC, "contrastive loss is %g (diverged; lower the learning rate)",
                           *loss);
        if (top1) {
            torch::NoGradGuard no_grad;
            *top1 = sim.argmax(1).eq(target).to(torch::kFloat64).mean().item<double>();
        }
        backward_and_step(m, o, l);
        drop_grads(m);
        return 0;)
}

int sg_model_train_step_masked(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                               int w, const float *target, const float *weight, int k,
                               double *loss)
{
    if (!m || !o || !x || !target || !weight || !loss || o->model != m || n < 1 || k < 1)
        return sg_fail(SG_E_INVALID, "sg_model_train_step_masked: NULL argument, optimizer of "
                                     "another model or an empty batch");
    SG_TORCH_TRY(
        torch::Tensor out = eager_forward(m, o, x, n, c, h, w);
        torch::Tensor t = device_matrix(m, target, n, k), wt = device_matrix(m, weight, n, k);
        if (out.size(1) != k)
            return sg_fail(SG_E_SHAPE, "masked targets have %d values, the model %lld outputs", k,
                           (long long)out.size(1));
        /* in fp32 even under autocast; an all-zero weight scores nothing */
        torch::Tensor d = out.to(torch::kFloat32) - t;
        torch::Tensor l = (wt * d * d).sum() / wt.sum().clamp_min(1.0);
        *loss = l.item<double>();
        if (!std::isfinite(*loss))
            return sg_fail(SG_E_NUMERIC, "reconstruction loss is %g (diverged; lower the learning "
                                         "rate)", *loss);
        backward_and_step(m, o, l);
        drop_grads(m);
        return 0;)
}

int sg_model_train_step_entropy(sg_model *m, sg_optim *o, const float *x, int n, int c, int h,
                                int w, double *entropy)
{
    if (!m || !o || !x || !entropy || o->model != m || n < 1)
        return sg_fail(SG_E_INVALID, "sg_model_train_step_entropy: NULL argument, optimizer of "
                                     "another model or an empty batch");
    SG_TORCH_TRY(
        torch::Tensor out = eager_forward(m, o, x, n, c, h, w);
        /* TENT's loss: the mean Shannon entropy of the predictions, in fp32 */
        torch::Tensor lp = torch::log_softmax(out.to(torch::kFloat32), 1);
        torch::Tensor l = -(lp.exp() * lp).sum(1).mean();
        *entropy = l.item<double>();
        if (!std::isfinite(*entropy))
            return sg_fail(SG_E_NUMERIC, "entropy is %g (diverged)", *entropy);
        backward_and_step(m, o, l);
        drop_grads(m);
        return 0;)
}

int sg_model_eval_loss(sg_model *m, const float *x, int n, int c, int h, int w,
                       const int64_t *labels, double *loss, float *logits)
{
    if (!m || !labels || !loss)
        return sg_fail(SG_E_INVALID, "sg_model_eval_loss: NULL argument");
    SG_TORCH_TRY(
        torch::NoGradGuard no_grad;
        torch::Tensor in = sg_input_tensor(m, x, n, c, h, w);
        torch::Tensor y = labels_tensor(m, labels, n);
        torch::Tensor out;
        {
            sg_autocast ac(m);
            out = m->net->forward(in);
        }
        *loss = torch::nn::functional::cross_entropy(out.to(torch::kFloat32), y).item<double>();
        if (logits)
            copy_out(out, logits);
        return 0;)
}

int sg_optim_tensor_count(const sg_optim *o, int *count)
{
    if (!o || !count)
        return sg_fail(SG_E_INVALID, "sg_optim_tensor_count: NULL argument");
    *count = (int)o->state.size();
    return 0;
}

int sg_optim_tensor_info(const sg_optim *o, int i, const char **name, size_t *numel)
{
    if (!o || i < 0 || i >= (int)o->state.size())
        return sg_fail(SG_E_INVALID, "optimizer state index %d out of range", i);
    if (name)
        *name = o->state[(size_t)i].name.c_str();
    if (numel)
        *numel = o->state[(size_t)i].numel;
    return 0;
}

int sg_optim_tensor_get(const sg_optim *o, const char *name, float *dst, size_t numel)
{
    if (!o || !dst)
        return sg_fail(SG_E_INVALID, "sg_optim_tensor_get: NULL argument");
    SG_TORCH_TRY(
        const sg_optim::state_entry &e = find_state(o, name);
        if (e.numel != numel)
            return sg_fail(SG_E_SHAPE, "optimizer state '%s' has %zu elements, caller buffer %zu", name,
                           e.numel, numel);
        int64_t *step = nullptr;
        torch::Tensor t = state_tensor(const_cast<sg_optim *>(o), e, false, &step);
        if (e.field == 3)
            dst[0] = step ? (float)*step : 0.0f;
        else if (t.defined())
            copy_out(t, dst);
        else
            std::memset(dst, 0, numel * sizeof(float));
        return 0;)
}

int sg_optim_tensor_set(sg_optim *o, const char *name, const float *src, size_t numel)
{
    if (!o || !src)
        return sg_fail(SG_E_INVALID, "sg_optim_tensor_set: NULL argument");
    SG_TORCH_TRY(
        const sg_optim::state_entry &e = find_state(o, name);
        if (e.numel != numel)
            return sg_fail(SG_E_SHAPE, "optimizer state '%s' has %zu elements, source %zu", name, e.numel,
                           numel);
        int64_t *step = nullptr;
        torch::Tensor t = state_tensor(o, e, true, &step);
        if (e.field == 3) {
            *step = (int64_t)std::llround(src[0]);
        } else {
            torch::NoGradGuard no_grad;
            t.copy_(torch::from_blob(const_cast<float *>(src), t.sizes(), torch::kFloat32));
        }
        return 0;)
}

} // extern "C"
