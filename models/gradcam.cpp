/* gradcam.cpp - Grad-CAM (Selvaraju et al. 2017) of a ResNet: the forward
 * pass with one stage's output kept, the gradient of the target class's
 * logit with respect to it, the channel weights as the spatial mean of
 * that gradient, ReLU(sum_k w_k A_k), upsampled bilinearly
 * (align_corners false, as torch.nn.functional.interpolate) to the input
 * size.  Eval mode is the caller's (sg_model_set_train(m, 0)): BatchNorm
 * then uses its running statistics, so the samples of a batch do not mix
 * and the batch's summed score gives each sample its own gradient.
 * fp32 only: autocast would change the maps against the reference.
 */
#include "models/torch_internal.hpp"

#include <cstring>

extern "C" {

int sg_model_gradcam(sg_model *m, const float *x, int n, int c, int h, int w, sg_stage layer,
                     const int *classes, float *cam, float *logits)
{
    if (!m || !x || !cam)
        return sg_fail(SG_E_INVALID, "sg_model_gradcam: NULL argument");
    if (layer < SG_STAGE_LAYER1 || layer > SG_STAGE_LAYER4)
        return sg_fail(SG_E_INVALID, "sg_model_gradcam: the layer must be layer1 .. layer4");
    SG_TORCH_TRY(
        torch::AutoGradMode grad_on(true);
        torch::Tensor in = sg_input_tensor(m, x, n, c, h, w).detach().clone();
        /* the input requires grad so that the graph exists even when the
         * weights are frozen; only the stage's gradient is computed */
        in.requires_grad_(true);
        sg::ResNetImpl &net = *m->net;
        torch::Tensor out = sg::bn_forward(*net.bn1, net.conv1(in), *net.sync).relu();
        out = torch::max_pool2d(out, 3, 2, 1);
        torch::Tensor act;
        for (int s = 0; s < 4; s++) {
            out = net.layer[s]->forward(out);
            if (s == (int)layer - (int)SG_STAGE_LAYER1)
                act = out;
        }
        torch::Tensor z = net.fc(torch::adaptive_avg_pool2d(out, {1, 1}).flatten(1));
        int64_t k = z.size(1);
        torch::Tensor target;
        if (classes) {
            std::vector<int64_t> t((size_t)n);
            for (int i = 0; i < n; i++) {
                if (classes[i] < 0 || classes[i] >= k)
                    throw std::invalid_argument("class " + std::to_string(classes[i]) +
                                                " is not one of the model's " +
                                                std::to_string(k));
                t[(size_t)i] = classes[i];
            }
            target = torch::tensor(t, torch::kLong).to(z.device());
        } else {
            target = z.argmax(1);
        }
        torch::Tensor score = z.gather(1, target.view({-1, 1})).sum();
        torch::Tensor g = torch::autograd::grad({score}, {act})[0];
        torch::Tensor weights = g.mean({2, 3}, /*keepdim=*/true);
        torch::Tensor map = (weights * act).sum(1, /*keepdim=*/true).relu();
        namespace F = torch::nn::functional;
        map = F::interpolate(map, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{h, w})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
        map = map.detach().to(torch::kCPU, torch::kFloat32).contiguous();
        std::memcpy(cam, map.data_ptr<float>(), (size_t)map.numel() * sizeof(float));
        if (logits) {
            torch::Tensor zl = z.detach().to(torch::kCPU, torch::kFloat32).contiguous();
            std::memcpy(logits, zl.data_ptr<float>(), (size_t)zl.numel() * sizeof(float));
        }
        return 0;)
}

} // extern "C"
