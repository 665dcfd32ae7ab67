/* dist_sync_bn.cpp - SyncBatchNorm (sg_dist_sync_bn in sg_dist.h): the
 * training-mode statistics of every BatchNorm layer taken over the whole
 * batch of all ranks, as torch.nn.SyncBatchNorm takes them.
 *
 * Forward: each rank sums x and x^2 per channel (accumulated in float64,
 * so that E[x^2] - E[x]^2 does not lose the variance) and counts its
 * values; one all-reduce of [sum, sum of squares, count] gives the global
 * mean and biased variance, which normalise, and the running mean and
 * unbiased variance (count / (count - 1)) that every rank folds into its
 * buffers with the layer's momentum (or the cumulative average when the
 * momentum is none, as in recalibration): the buffers stay identical on
 * all ranks.  Backward: the gradient of full-batch BatchNorm with respect
 * to x needs the global sum(dy) and sum(dy * (x - mean)) per channel: one
 * more all-reduce; the weight and bias gradients are this rank's own sums,
 * which the gradient all-reduce adds up like any other gradient.
 *
 * Every collective here is synchronous.  Why they cannot deadlock against
 * dist_grads.cpp's bucket all-reduces: forward runs while no bucket is in
 * flight (buckets go out only during backward, and the step waits for all
 * of them before the optimizer step); in backward, the BatchNorm
 * all-reduces and the bucket launches are both issued by the autograd
 * engine's thread for the model's device (on the CPU the calling thread),
 * in the order the graph fixes, which is the same on every rank; so all
 * ranks issue the same sequence of collectives, and collectives are
 * matched by their order on the process group.  A BatchNorm all-reduce
 * may wait behind buckets issued before it; those need no other work from
 * this thread to finish.
 */
#include "models/dist_internal.hpp"

#include <cstdint>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/* The channel dimension is 1; BatchNorm2d's input is (n, c, h, w). */
const std::vector<int64_t> kDims = {0, 2, 3};

torch::Tensor per_channel(const torch::Tensor &v)
{
    return v.view({1, -1, 1, 1});
}

/* Sums t over the ranks of d, in place; a failure is thrown with the
 * line naming the ranks. */
void allreduce_sync(sg_dist *d, torch::Tensor &t, const char *what)
{
    try {
        std::vector<torch::Tensor> v{t.to(d->comm_device)};
        sg_dist_impl::allreduce(d, v)->wait();
        t = v[0].to(t.device());
    } catch (const std::exception &e) {
        throw sg::status_error(SG_E_IO, sg_dist_impl::collective_message(d, what, e));
    }
}

struct SyncBN : torch::autograd::Function<SyncBN> {
    static torch::Tensor forward(AutogradContext *ctx, const torch::Tensor &x,
                                 const torch::Tensor &weight, const torch::Tensor &bias,
                                 torch::Tensor running_mean, torch::Tensor running_var,
                                 double eps, double factor, int64_t dist)
    {
        sg_dist *d = reinterpret_cast<sg_dist *>(static_cast<intptr_t>(dist));
        int64_t c = x.size(1);
        double local_n = (double)(x.numel() / (c ? c : 1));
        auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(x.device());
        /* Under CUDA mixed precision x is fp16/bf16: square in the weight's
         * float32 (an fp16 square overflows above 256). */
        torch::Tensor xf = x.scalar_type() == weight.scalar_type() ? x : x.to(weight.scalar_type());
        torch::Tensor stats = torch::cat({xf.sum(kDims, false, torch::kFloat64),
                                          xf.square().sum(kDims, false, torch::kFloat64),
                                          torch::full({1}, local_n, f64)});
        allreduce_sync(d, stats, "a SyncBatchNorm statistics all-reduce");
        double n = stats[2 * c].item<double>();
        if (n <= 1.0)
            throw std::invalid_argument("SyncBatchNorm needs more than 1 value per channel "
                                        "over all ranks");
        torch::Tensor mean = stats.narrow(0, 0, c) / n;
        torch::Tensor var = (stats.narrow(0, c, c) / n - mean * mean).clamp_min(0.0);
        if (running_mean.defined() && running_var.defined()) {
            running_mean.mul_(1.0 - factor).add_(mean.to(running_mean.scalar_type()), factor);
            running_var.mul_(1.0 - factor)
                .add_((var * (n / (n - 1.0))).to(running_var.scalar_type()), factor);
        }
        torch::Tensor mean_f = mean.to(weight.scalar_type());
        torch::Tensor invstd = (var + eps).rsqrt().to(weight.scalar_type());
        ctx->save_for_backward({x, weight, mean_f, invstd});
        ctx->saved_data["n"] = n;
        ctx->saved_data["dist"] = dist;
        torch::Tensor y = (xf - per_channel(mean_f)) * per_channel(invstd * weight) +
                          per_channel(bias);
        return y.to(x.scalar_type());
    }

    static variable_list backward(AutogradContext *ctx, variable_list grad_out)
    {
        auto saved = ctx->get_saved_variables();
        const torch::Tensor &x = saved[0], &weight = saved[1], &mean = saved[2],
                            &invstd = saved[3];
        double n = ctx->saved_data["n"].toDouble();
        sg_dist *d = reinterpret_cast<sg_dist *>(
            static_cast<intptr_t>(ctx->saved_data["dist"].toInt()));
        torch::Tensor dy = grad_out[0].to(weight.scalar_type());
        torch::Tensor xmu = x.to(weight.scalar_type()) - per_channel(mean);
        torch::Tensor sum_dy = dy.sum(kDims, false, torch::kFloat64);
        torch::Tensor sum_dy_xmu = (dy * xmu).sum(kDims, false, torch::kFloat64);
        torch::Tensor gx, gw, gb;
        if (ctx->needs_input_grad(1))
            gw = (sum_dy_xmu * invstd.to(torch::kFloat64)).to(weight.scalar_type());
        if (ctx->needs_input_grad(2))
            gb = sum_dy.to(weight.scalar_type());
        if (ctx->needs_input_grad(0)) {
            int64_t c = x.size(1);
            torch::Tensor both = torch::cat({sum_dy, sum_dy_xmu});
            allreduce_sync(d, both, "a SyncBatchNorm gradient all-reduce");
            torch::Tensor mean_dy = (both.narrow(0, 0, c) / n).to(weight.scalar_type());
            torch::Tensor mean_dy_xmu = (both.narrow(0, c, c) / n).to(weight.scalar_type());
            gx = (dy - per_channel(mean_dy) - xmu * per_channel(invstd * invstd * mean_dy_xmu)) *
                 per_channel(invstd * weight);
            gx = gx.to(x.scalar_type());
        }
        return {gx, gw, gb, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
                torch::Tensor()};
    }
};

} // namespace

namespace sg {

torch::Tensor bn_forward(torch::nn::BatchNorm2dImpl &bn, const torch::Tensor &x,
                         const bn_sync &s)
{
    if (!s.d || !bn.is_training())
        return bn.forward(x);
    /* The running-average factor exactly as BatchNormImplBase::forward
     * computes it (momentum, or 1/batches with momentum none). */
    double factor = bn.options.momentum().value_or(0.0);
    torch::Tensor rm, rv;
    if (bn.options.track_running_stats()) {
        rm = bn.running_mean;
        rv = bn.running_var;
        if (bn.num_batches_tracked.defined()) {
            torch::NoGradGuard no_grad;
            bn.num_batches_tracked += 1;
            if (!bn.options.momentum().has_value())
                factor = 1.0 / bn.num_batches_tracked.item<double>();
        }
    }
    return SyncBN::apply(x, bn.weight, bn.bias, rm, rv, bn.options.eps(), factor,
                         static_cast<int64_t>(reinterpret_cast<intptr_t>(s.d)));
}

} // namespace sg

extern "C" int sg_dist_sync_bn(sg_dist *d, sg_model *m)
{
    if (!m)
        return sg_fail(SG_E_INVALID, "sg_dist_sync_bn: NULL model");
    SG_TORCH_TRY(
        m->net->sync->d = d;
        return 0;)
}
