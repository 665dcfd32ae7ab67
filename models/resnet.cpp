/* resnet.cpp - torchvision's ResNet18/34/50 in libtorch's C++ frontend.
 *
 * Module structure, registration order (hence state_dict order), names
 * and initialisation follow torchvision/models/resnet.py (v0.14):
 * BasicBlock for 18/34, Bottleneck v1.5 (stride on the 3x3 conv) for 50,
 * kaiming_normal_(fan_out, relu) convolutions, BatchNorm weight 1 bias 0,
 * Linear with PyTorch's default init.  It deliberately has no dilation,
 * groups or zero_init_residual options: sensorgram never uses them.
 */
#include "models/torch_internal.hpp"

namespace sg {

namespace nn = torch::nn;

static nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad)
{
    return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

BlockImpl::BlockImpl(int64_t in_planes, int64_t planes, int64_t stride, bool bottleneck_,
                     std::shared_ptr<bn_sync> sync_)
    : bottleneck(bottleneck_), sync(std::move(sync_))
{
    int64_t expansion = bottleneck ? 4 : 1;
    if (bottleneck) {
        conv1 = register_module("conv1", conv(in_planes, planes, 1, 1, 0));
        bn1 = register_module("bn1", nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1));
        bn2 = register_module("bn2", nn::BatchNorm2d(planes));
        conv3 = register_module("conv3", conv(planes, planes * expansion, 1, 1, 0));
        bn3 = register_module("bn3", nn::BatchNorm2d(planes * expansion));
    } else {
        conv1 = register_module("conv1", conv(in_planes, planes, 3, stride, 1));
        bn1 = register_module("bn1", nn::BatchNorm2d(planes));
        conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
        bn2 = register_module("bn2", nn::BatchNorm2d(planes));
    }
    if (stride != 1 || in_planes != planes * expansion) {
        downsample = register_module(
            "downsample", nn::Sequential(conv(in_planes, planes * expansion, 1, stride, 0),
                                         nn::BatchNorm2d(planes * expansion)));
    }
}

/* Every BatchNorm call goes through bn_forward, which is plain bn(x)
 * unless the network has SyncBatchNorm on. */
torch::Tensor BlockImpl::forward(const torch::Tensor &x)
{
    torch::Tensor out = bn_forward(*bn1, conv1(x), *sync).relu_();
    if (bottleneck) {
        out = bn_forward(*bn2, conv2(out), *sync).relu_();
        out = bn_forward(*bn3, conv3(out), *sync);
    } else {
        out = bn_forward(*bn2, conv2(out), *sync);
    }
    torch::Tensor identity = x;
    if (downsample) {
        /* downsample = Sequential(conv, bn), torchvision's names "0" and "1" */
        identity = downsample->ptr(0)->as<torch::nn::Conv2d>()->forward(x);
        identity = bn_forward(*downsample->ptr(1)->as<torch::nn::BatchNorm2d>(), identity, *sync);
    }
    return (out + identity).relu_();
}

ResNetImpl::ResNetImpl(sg_arch arch, int64_t in_channels, int64_t n_classes)
{
    std::vector<int64_t> blocks;
    bool bottleneck = false;
    switch (arch) {
    case SG_ARCH_RESNET18: blocks = {2, 2, 2, 2}; break;
    case SG_ARCH_RESNET34: blocks = {3, 4, 6, 3}; break;
    case SG_ARCH_RESNET50: blocks = {3, 4, 6, 3}; bottleneck = true; break;
    default: throw std::invalid_argument("unknown architecture");
    }
    int64_t expansion = bottleneck ? 4 : 1;
    conv1 = register_module("conv1", conv(in_channels, 64, 7, 2, 3));
    bn1 = register_module("bn1", nn::BatchNorm2d(64));
    int64_t in_planes = 64;
    for (int s = 0; s < 4; s++) {
        int64_t planes = 64 << s;
        layer[s] = nn::Sequential();
        for (int64_t b = 0; b < blocks[s]; b++) {
            int64_t stride = (s > 0 && b == 0) ? 2 : 1;
            layer[s]->push_back(Block(in_planes, planes, stride, bottleneck, sync));
            in_planes = planes * expansion;
        }
        register_module("layer" + std::to_string(s + 1), layer[s]);
    }
    feature_dim = 512 * expansion;
    fc = register_module("fc", nn::Linear(feature_dim, n_classes));

    /* torchvision's init; Linear keeps PyTorch's default. */
    torch::NoGradGuard no_grad;
    for (auto &mod : modules(/*include_self=*/false)) {
        if (auto *c = mod->as<nn::Conv2d>()) {
            nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
        } else if (auto *bn = mod->as<nn::BatchNorm2d>()) {
            nn::init::ones_(bn->weight);
            nn::init::zeros_(bn->bias);
        }
    }
}

torch::Tensor ResNetImpl::features(const torch::Tensor &x)
{
    torch::Tensor out = bn_forward(*bn1, conv1(x), *sync).relu_();
    out = torch::max_pool2d(out, 3, 2, 1);
    for (auto &l : layer)
        out = l->forward(out);
    /* adaptive_avg_pool2d to 1x1 then flatten, as torchvision */
    return torch::adaptive_avg_pool2d(out, {1, 1}).flatten(1);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor &x)
{
    return fc(features(x));
}

sg_stage stage_of(const std::string &name)
{
    if (name.rfind("layer", 0) == 0 && name.size() > 5 && name[5] >= '1' && name[5] <= '4')
        return static_cast<sg_stage>(SG_STAGE_LAYER1 + (name[5] - '1'));
    if (name.rfind("fc.", 0) == 0)
        return SG_STAGE_HEAD;
    return SG_STAGE_STEM;
}

std::string first_line(const char *what)
{
    std::string s = what ? what : "";
    size_t nl = s.find('\n');
    if (nl != std::string::npos)
        s.resize(nl);
    return s;
}

} // namespace sg
