/* bn_recal.cpp - BatchNorm statistics recomputed from training batches.
 *
 * A BatchNorm layer's running mean and variance are an exponential
 * average (momentum 0.1) of batch statistics taken while the weights were
 * still moving, so right after a short or fast schedule they describe an
 * older network than the one being validated: a 1-epoch run on walking
 * vs running validates near chance although its training batches are
 * classified well.  Recalibration resets the statistics of every
 * BatchNorm layer that is training (frozen stages keep their pretrained
 * statistics) and lets the next forward passes, in training mode and
 * without gradients, accumulate a plain cumulative average (PyTorch's
 * momentum=None), as torch.optim.swa_utils.update_bn does.  The C side
 * runs those passes with sg_model_forward over training batches.
 */
#include "models/torch_internal.hpp"

/* PyTorch's (and torchvision's) BatchNorm momentum, restored afterwards. */
static constexpr double kDefaultMomentum = 0.1;

extern "C" int sg_model_bn_recalibrate_begin(sg_model *m, int *n_layers)
{
    if (!m)
        return sg_fail(SG_E_INVALID, "sg_model_bn_recalibrate_begin: NULL model");
    SG_TORCH_TRY(
        int count = 0;
        for (auto &mod : m->net->modules(/*include_self=*/false)) {
            auto *bn = dynamic_cast<torch::nn::BatchNorm2dImpl *>(mod.get());
            if (!bn || !bn->is_training())
                continue;
            bn->reset_running_stats();
            bn->options.momentum(c10::nullopt);
            count++;
        }
        if (n_layers)
            *n_layers = count;
        return 0;)
}

extern "C" int sg_model_bn_recalibrate_end(sg_model *m)
{
    if (!m)
        return sg_fail(SG_E_INVALID, "sg_model_bn_recalibrate_end: NULL model");
    SG_TORCH_TRY(
        for (auto &mod : m->net->modules(/*include_self=*/false)) {
            auto *bn = dynamic_cast<torch::nn::BatchNorm2dImpl *>(mod.get());
            if (bn && !bn->options.momentum().has_value())
                bn->options.momentum(kDefaultMomentum);
        }
        return 0;)
}
