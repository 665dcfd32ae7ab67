#!/usr/bin/env python3
"""oracle_models.py - reference values from torchvision/PyTorch for the
model tests (tests/test_models.c, tests/test_optim.c).  TEST ORACLE ONLY:
run by the tests through SG_PYTHON (/usr/bin/python3 with Debian's torch
1.13 and torchvision 0.14).

    oracle_models.py OUT CMD...    runs each CMD, writing into folder OUT:
    forward        random weights, inputs, logits (eval and train mode)
                   and pooled features, resnet18/34/50 at 3 channels, 18/50 at 15
    stem           RGB weights and numpy-adapted conv1
    optim          SGD and AdamW steps
    predict        PNGs, weights and softmax probabilities
    ema            SGD steps with torch.optim.swa_utils.AveragedModel as EMA
                   and as SWA (the running mean) beside them
    gradcam        Grad-CAM (Selvaraju et al. 2017) with autograd: random
                   resnet18 weights at 3 and 1 channels, inputs, the maps of
                   layer4 and layer3 for the predicted and a given class

Arrays are raw little-endian float32 (.f32) or int64 (.i64) files.

SG_TEST_DEVICE (cpu, cuda, cuda:N; the tests' variable) picks the device
of `forward` and `optim`: on CUDA, float32 runs with TF32 off (as the C
side does in the tests) and `forward` also writes eval-mode logits under
bf16 and fp16 autocast (TAG_eval_bf16, TAG_eval_fp16), the references of
the mixed-precision tolerances in docs/method.md.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision


# one thread: OpenMP teams collapse on a loaded 2-core CI machine
torch.set_num_threads(1)
DEVICE = torch.device(os.environ.get("SG_TEST_DEVICE") or "cpu")
if DEVICE.type == "cuda":
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
ARCHS = ["resnet18", "resnet34", "resnet50"]
N_CLASSES = 10


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: torch.Tensor} (float -> F32, integer -> I64) to path."""
    import torch

    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.is_floating_point():
            t, dtype = t.to(torch.float32), "F32"
        else:
            t, dtype = t.to(torch.int64), "I64"
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def save(out, name, a):
    if isinstance(a, torch.Tensor):
        a = a.detach().float().cpu().numpy()
    a = np.ascontiguousarray(a)
    ext = ".i64" if a.dtype.kind in "iu" else ".f32"
    a.astype("<i8" if ext == ".i64" else "<f4").tofile(os.path.join(out, name + ext))


def make_net(arch, in_ch, n_classes, seed):
    torch.manual_seed(seed)
    net = getattr(torchvision.models, arch)(num_classes=n_classes)
    if in_ch != 3:
        net.conv1 = torch.nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, ())))
    return net


def features(net, x):
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
    return torch.flatten(net.avgpool(x), 1)


def cmd_forward(out):
    for arch in ARCHS:
        # 15 channels (conv1 replaced) once per block type keeps CI fast
        for in_ch in ((3,) if arch == "resnet34" else (3, 15)):
            tag = f"{arch}_c{in_ch}"
            net = make_net(arch, in_ch, N_CLASSES, seed=in_ch + len(tag))
            write_safetensors(os.path.join(out, tag + ".safetensors"), net.state_dict())
            x = torch.randn(2, in_ch, 64, 64)
            save(out, tag + "_x", x.numpy())
            net.to(DEVICE).eval()
            x = x.to(DEVICE)
            with torch.no_grad():
                save(out, tag + "_eval", net(x))
                save(out, tag + "_feat", features(net, x))
                if DEVICE.type == "cuda":
                    for dt, name in ((torch.bfloat16, "bf16"), (torch.float16, "fp16")):
                        with torch.autocast("cuda", dtype=dt):
                            save(out, f"{tag}_eval_{name}", net(x))
                net.train()
                save(out, tag + "_train", net(x))


def cmd_stem(out):
    net = make_net("resnet18", 3, N_CLASSES, seed=7)
    write_safetensors(os.path.join(out, "rgb.safetensors"), net.state_dict())
    w = net.conv1.weight.detach().numpy().astype(np.float64)  # (64, 3, 7, 7)
    for c in (1, 2, 15):
        if c == 1:
            a = w.sum(axis=1, keepdims=True)
        else:
            a = np.concatenate([w[:, i % 3:i % 3 + 1] for i in range(c)], axis=1) * (3.0 / c)
        save(out, f"stem_c{c}", a)
    save(out, "layer1_0_conv1", net.layer1[0].conv1.weight.detach().numpy())


STAGES = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


def stage_of(name):
    if name.startswith("layer"):
        return STAGES.index(name.split(".")[0])
    return 5 if name.startswith("fc.") else 0


def stage_lr(base, s):
    # discriminative rates, the same formula as test_optim.c
    return base * (s + 1) / 6.0


def cmd_optim(out):
    x = torch.randn(4, 3, 32, 32)
    y = torch.tensor([1, 3, 5, 7])
    save(out, "x", x.numpy())
    save(out, "y", y.numpy())
    cases = [("sgd", torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), 1e-2, True),
             ("adamw", torch.optim.AdamW, dict(lr=1e-3, betas=(0.9, 0.99), eps=1e-8), 5e-2, False)]
    for tag, cls, kw, wd, no_decay_bn_bias in cases:
        net = make_net("resnet18", 3, N_CLASSES, seed=11)
        write_safetensors(os.path.join(out, "init.safetensors"), net.state_dict())
        bn_params = {id(p) for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)
                     for p in m.parameters()}
        groups = []
        for s in range(6):
            for decay in (True, False):
                ps = [p for n, p in net.named_parameters() if stage_of(n) == s and
                      (not no_decay_bn_bias or (id(p) not in bn_params and not n.endswith(".bias"))) == decay]
                if ps:
                    groups.append(dict(params=ps, weight_decay=wd if decay else 0.0,
                                       lr=stage_lr(kw["lr"], s)))
        net.to(DEVICE)  # in place: the groups keep these parameters
        opt = cls(groups, **kw)
        net.train()
        losses = []
        for step in range(2):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x.to(DEVICE)), y.to(DEVICE),
                                                     label_smoothing=0.1)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if step == 0 and tag == "sgd":
                buf = opt.state[net.layer2[0].conv1.weight]["momentum_buffer"]
                save(out, "sgd_buf_layer2_0_conv1", buf)
        save(out, tag + "_loss", np.array(losses))
        sd = net.state_dict()
        for name in ("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                     "layer2.0.conv1.weight", "layer3.1.bn2.bias", "layer4.1.conv2.weight",
                     "fc.weight", "fc.bias"):
            save(out, tag + "_" + name, sd[name])


EMA_DECAY = 0.8
EMA_NAMES = ("conv1.weight", "bn1.weight", "layer2.0.conv1.weight", "layer4.1.bn2.bias",
             "fc.weight", "fc.bias")


def cmd_ema(out):
    """3 SGD steps; the EMA starts from the initial weights (one
    update_parameters before training copies them), SWA averages the
    weights after steps 2 and 3 (AveragedModel's default running mean)."""
    from torch.optim.swa_utils import AveragedModel

    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(21))
    y = torch.tensor([0, 2, 4, 6])
    save(out, "ema_x", x.numpy())
    save(out, "ema_y", y.numpy())
    net = make_net("resnet18", 3, N_CLASSES, seed=13)
    write_safetensors(os.path.join(out, "ema_init.safetensors"), net.state_dict())
    net.to(DEVICE)
    d = EMA_DECAY
    ema = AveragedModel(net, avg_fn=lambda avg, p, n: d * avg + (1.0 - d) * p)
    swa = AveragedModel(net)
    ema.update_parameters(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    net.train()
    for step in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x.to(DEVICE)), y.to(DEVICE)).backward()
        opt.step()
        ema.update_parameters(net)
        if step >= 1:
            swa.update_parameters(net)
    for tag, avg in (("ema", ema), ("swa", swa)):
        sd = avg.module.state_dict()
        for name in EMA_NAMES:
            save(out, tag + "_" + name, sd[name])


def cmd_predict(out):
    from PIL import Image

    net = make_net("resnet18", 3, 4, seed=3).eval()
    write_safetensors(os.path.join(out, "net.safetensors"), net.state_dict())
    rng = np.random.default_rng(5)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    xs = []
    for i in range(2):
        img = rng.integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
        Image.fromarray(img, "RGB").save(os.path.join(out, f"img{i}.png"))
        xs.append(torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1))
    x = torch.stack(xs)
    with torch.no_grad():
        save(out, "probs_raw", torch.softmax(net(x), 1).numpy())
        save(out, "probs_imagenet", torch.softmax(net((x - mean) / std), 1).numpy())


def gradcam(net, stage, x, classes=None):
    """ReLU(sum_k w_k A_k), w_k the spatial mean of d logit / d A_k,
    upsampled bilinearly (align_corners False) to x's size: (n, h, w)."""
    acts = {}
    hook = getattr(net, stage).register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    x = x.clone().requires_grad_(True)
    z = net(x)
    hook.remove()
    a = acts["a"]
    t = z.argmax(1) if classes is None else torch.tensor(classes)
    score = z.gather(1, t.view(-1, 1)).sum()
    g, = torch.autograd.grad(score, a)
    cam = torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, size=x.shape[2:], mode="bilinear",
                                          align_corners=False)
    return cam[:, 0].detach()


def cmd_gradcam(out):
    for in_ch in (3, 1):
        tag = f"gradcam_c{in_ch}"
        net = make_net("resnet18", in_ch, 5, seed=20 + in_ch).eval()
        write_safetensors(os.path.join(out, tag + ".safetensors"), net.state_dict())
        x = torch.randn(3, in_ch, 56, 72)
        save(out, tag + "_x", x.numpy())
        for stage in ("layer4", "layer3"):
            save(out, f"{tag}_{stage}_pred", gradcam(net, stage, x))
            save(out, f"{tag}_{stage}_cls", gradcam(net, stage, x, [4, 0, 2]))


if __name__ == "__main__":
    out = sys.argv[1]
    cmds = {"forward": cmd_forward, "stem": cmd_stem, "optim": cmd_optim, "predict": cmd_predict,
            "ema": cmd_ema, "gradcam": cmd_gradcam}
    for cmd in sys.argv[2:]:
        cmds[cmd](out)
