/* weight_avg.cpp - averaged copies of a network's weights (EMA, SWA).
 *
 * An sg_wavg holds one tensor per tensor of its model, on the model's
 * device, in the model's state_dict order.  Parameters are averaged,
 * avg <- decay * avg + (1 - decay) * param; buffers (BatchNorm running
 * statistics, num_batches_tracked) are copied from the model, since an
 * average of running statistics describes no network: the training loop
 * recomputes them for the averaged weights (--bn-recal) before it
 * validates, as torch.optim.swa_utils.update_bn does.  Swapping exchanges
 * values in place, never storage, so the optimizer's parameter references
 * and a captured CUDA graph stay valid.
 */
#include "models/torch_internal.hpp"

#include <cstring>

struct sg_wavg {
    std::vector<torch::Tensor> t;       /* model->tensors order */
    std::vector<std::string> names;
    std::unordered_map<std::string, size_t> index;
};

/* The average must belong to this model: same tensors, same order. */
static int check_pair(const sg_wavg *a, const sg_model *m, const char *fn)
{
    if (!a || !m)
        return sg_fail(SG_E_INVALID, "%s: NULL argument", fn);
    if (a->t.size() != m->tensors.size())
        return sg_fail(SG_E_SHAPE, "%s: the average has %zu tensors, the model %zu", fn,
                       a->t.size(), m->tensors.size());
    return 0;
}

extern "C" int sg_wavg_create(sg_wavg **out, const sg_model *m)
{
    if (!out || !m)
        return sg_fail(SG_E_INVALID, "sg_wavg_create: NULL argument");
    *out = nullptr;
    SG_TORCH_TRY(
        torch::NoGradGuard no_grad;
        auto a = std::make_unique<sg_wavg>();
        for (size_t i = 0; i < m->tensors.size(); i++) {
            a->t.push_back(m->tensors[i].t.detach().clone());
            a->names.push_back(m->tensors[i].name);
            a->index[m->tensors[i].name] = i;
        }
        *out = a.release();
        return 0;)
}

extern "C" void sg_wavg_free(sg_wavg *a)
{
    delete a;
}

extern "C" int sg_wavg_update(sg_wavg *a, const sg_model *m, double decay)
{
    int rc = check_pair(a, m, "sg_wavg_update");
    if (rc)
        return rc;
    if (!(decay >= 0.0 && decay <= 1.0))
        return sg_fail(SG_E_INVALID, "sg_wavg_update: decay %g outside [0, 1]", decay);
    SG_TORCH_TRY(
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < a->t.size(); i++) {
            const sg_named_tensor &nt = m->tensors[i];
            if (nt.is_param && nt.t.is_floating_point()) {
                a->t[i].mul_(decay).add_(nt.t.detach(), 1.0 - decay);
            } else {
                a->t[i].copy_(nt.t.detach());
            }
        }
        return 0;)
}

extern "C" int sg_wavg_swap(sg_wavg *a, sg_model *m)
{
    int rc = check_pair(a, m, "sg_wavg_swap");
    if (rc)
        return rc;
    SG_TORCH_TRY(
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < a->t.size(); i++) {
            torch::Tensor &p = m->tensors[i].t;
            torch::Tensor held = a->t[i].clone();
            a->t[i].copy_(p.detach());
            p.copy_(held);
        }
        return 0;)
}

static const torch::Tensor *find(const sg_wavg *a, const char *name)
{
    auto it = a->index.find(name);
    return it == a->index.end() ? nullptr : &a->t[it->second];
}

extern "C" int sg_wavg_tensor_get(const sg_wavg *a, const char *name, float *dst, size_t numel)
{
    if (!a || !name || !dst)
        return sg_fail(SG_E_INVALID, "sg_wavg_tensor_get: NULL argument");
    SG_TORCH_TRY(
        const torch::Tensor *t = find(a, name);
        if (!t)
            return sg_fail(SG_E_INVALID, "averaged weights have no tensor '%s'", name);
        if ((size_t)t->numel() != numel)
            return sg_fail(SG_E_SHAPE, "averaged tensor '%s' has %lld elements, caller buffer %zu",
                           name, (long long)t->numel(), numel);
        torch::Tensor h = t->to(torch::kCPU, torch::kFloat32).contiguous();
        std::memcpy(dst, h.data_ptr<float>(), numel * sizeof(float));
        return 0;)
}

extern "C" int sg_wavg_tensor_set(sg_wavg *a, const char *name, const float *src, size_t numel)
{
    if (!a || !name || !src)
        return sg_fail(SG_E_INVALID, "sg_wavg_tensor_set: NULL argument");
    SG_TORCH_TRY(
        const torch::Tensor *t = find(a, name);
        if (!t)
            return sg_fail(SG_E_INVALID, "averaged weights have no tensor '%s'", name);
        if ((size_t)t->numel() != numel)
            return sg_fail(SG_E_SHAPE, "averaged tensor '%s' has %lld elements, source %zu", name,
                           (long long)t->numel(), numel);
        torch::NoGradGuard no_grad;
        torch::Tensor s = torch::from_blob(const_cast<float *>(src), t->sizes(), torch::kFloat32);
        const_cast<torch::Tensor &>(*t).copy_(s);
        return 0;)
}
