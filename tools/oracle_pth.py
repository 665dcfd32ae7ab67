#!/usr/bin/env python3
"""oracle_pth.py - .pth files written by torch.save, and hostile pickles,
for tests/test_pth.c and tests/test_models_fetch.c.  TEST ORACLE ONLY: run
through SG_PYTHON (/usr/bin/python3 with Debian's torch and torchvision).

    oracle_pth.py OUT good      torch.save files in both formats + manifests
    oracle_pth.py OUT hostile   hand-assembled pickles that must be refused
    oracle_pth.py OUT fetch     one ResNet18 .pth for the download test

Each good file F.pth comes with F.txt: one line per tensor the C reader
must produce, "name dtype shape sha256", where sha256 is over the tensor's
values as contiguous little-endian float32 (what sg_st_read_f32 yields),
so a match is bit for bit.  forward_x.f32 / forward_logits.f32 are an
input and the eval-mode logits torchvision computes for views.pth.

The hostile pickles are written as raw bytes and never unpickled here;
were one executed it would create OUT/canary_NAME.
"""
import hashlib
import io
import os
import struct
import sys
import zipfile

DTYPES = {}


def manifest(path, sd):
    import torch
    global DTYPES
    DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
              torch.float64: "F64", torch.int64: "I64"}
    with open(path, "w") as f:
        for k, v in sd.items():
            data = v.detach().float().contiguous().numpy().astype("<f4").tobytes()
            shape = ",".join(str(s) for s in v.shape)
            f.write(f"{k} {DTYPES[v.dtype]} [{shape}] {hashlib.sha256(data).hexdigest()}\n")


def make_net(arch, seed):
    import torch
    import torchvision
    torch.manual_seed(seed)
    net = getattr(torchvision.models, arch)()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, ())))
    return net


def save_both(out, name, obj, sd):
    import torch
    torch.save(obj, os.path.join(out, name + ".pth"))
    torch.save(obj, os.path.join(out, name + ".legacy.pth"), _use_new_zipfile_serialization=False)
    manifest(os.path.join(out, name + ".txt"), sd)


def cmd_good(out):
    import torch
    torch.set_num_threads(1)
    for seed, arch in enumerate(("resnet18", "resnet34", "resnet50")):
        sd = make_net(arch, seed + 1).state_dict()
        save_both(out, arch, sd, sd)
    net = make_net("resnet18", 11)
    sd = net.state_dict()
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
    bf = {k: (v.bfloat16() if v.is_floating_point() else v) for k, v in sd.items()}
    save_both(out, "r18_f16", half, half)
    save_both(out, "r18_bf16", bf, bf)
    # a training checkpoint: the state dict beside optimizer state and epoch
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.randn(2, 3, 32, 32)).sum().backward()
    opt.step()
    sd = net.state_dict()
    save_both(out, "ckpt", {"epoch": 7, "optimizer": opt.state_dict(), "state_dict": sd}, sd)
    save_both(out, "ckpt_model", {"model": sd, "best_acc": 0.5}, sd)
    # DataParallel / DDP names
    save_both(out, "ddp", {"module." + k: v for k, v in sd.items()}, sd)
    # views: tensors sharing one storage, offsets, non-contiguous slices
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10) / 7
    views = {"base": base, "rows": base[1:3], "cols": base[:, 2:9:3], "t": base.t(),
             "row": base[4], "scalar": base[5, 9], "f64": torch.linspace(-1, 1, 7, dtype=torch.float64),
             "i64": torch.tensor([[1, -2], [3, 2**40]]), "empty": base[:0]}
    save_both(out, "slices", views, views)
    save_both(out, "nokey", {"weights": views, "epoch": 1}, views)
    # a whole ResNet18 whose tensors are views: bn1's weight and bias
    # share one storage, conv1's weight is a permuted (non-contiguous) one
    net = make_net("resnet18", 21).eval()
    sd = dict(net.state_dict())
    w = sd["conv1.weight"]
    sd["conv1.weight"] = w.permute(2, 3, 1, 0).contiguous().permute(3, 2, 0, 1)
    assert not sd["conv1.weight"].is_contiguous()
    both = torch.cat([sd["bn1.weight"], sd["bn1.bias"]])
    sd["bn1.weight"], sd["bn1.bias"] = both[:64], both[64:]
    fcw = sd["fc.weight"]
    sd["fc.weight"] = fcw.t().contiguous().t()
    save_both(out, "views", sd, sd)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = net(x)
    x.numpy().astype("<f4").tofile(os.path.join(out, "forward_x.f32"))
    logits.numpy().astype("<f4").tofile(os.path.join(out, "forward_logits.f32"))


# ---- hostile ----------------------------------------------------------------

def su(s):
    """BINUNICODE"""
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def glob(mod, name):
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def binint(v):
    return b"J" + struct.pack("<i", v)


def long1(v):
    """LONG1 in pickle's own minimal encoding"""
    import pickle
    b = pickle.encode_long(v)
    return b"\x8a" + bytes([len(b)]) + b


def tensor(key, numel, offset, size, stride, storage="FloatStorage"):
    """_rebuild_tensor_v2 over storage KEY, as torch writes it."""
    def tup(vals):
        return b"(" + b"".join(long1(v) for v in vals) + b"t"
    pid = b"(" + su("storage") + glob("torch", storage) + su(key) + su("cpu") + long1(numel) + b"t"
    return (glob("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + b"Q" + long1(offset) +
            tup(size) + tup(stride) + b"\x89" + glob("collections", "OrderedDict") + b")R" + b"tR")


def state_dict(entries):
    """{'w': tensor, ...} as an OrderedDict REDUCE + SETITEMS."""
    body = b"".join(su(k) + v for k, v in entries)
    return b"\x80\x02" + glob("collections", "OrderedDict") + b")R(" + body + b"u."


def write_zip(path, pkl, storages, cut=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        for k, data in storages.items():
            z.writestr("archive/data/" + k, data)
        z.writestr("archive/version", "3\n")
    data = buf.getvalue()
    if cut is not None:
        data = data[:cut]
    with open(path, "wb") as f:
        f.write(data)


def write_legacy(path, pkl, storages):
    import pickle
    # magic, protocol version, sys info: plain values, written by pickle
    head = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)
    head += pickle.dumps(1001, protocol=2)
    head += pickle.dumps({"protocol_version": 1001, "little_endian": True,
                          "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    keys = pickle.dumps(list(storages), protocol=2)
    with open(path, "wb") as f:
        f.write(head + pkl + keys)
        for data in storages.values():
            f.write(struct.pack("<q", len(data) // 4) + data)


def cmd_hostile(out):
    def canary(name):
        return os.path.join(out, "canary_" + name)

    def call(mod, fn, arg):
        return b"\x80\x02" + glob(mod, fn) + b"(" + arg + b"tR."

    cases = {
        "os_system": call("os", "system", su("touch " + canary("os_system"))),
        "posix_system": call("posix", "system", su("touch " + canary("posix_system"))),
        "builtins_eval": call("builtins", "eval", su(f"open('{canary('builtins_eval')}', 'w')")),
        "builtins_exec": call("builtins", "exec", su(f"open('{canary('builtins_exec')}', 'w')")),
        "subprocess_popen": call("subprocess", "Popen",
                                 b"(" + su("touch") + su(canary("subprocess_popen")) + b"l"),
        # STACK_GLOBAL spelling of os.system (protocol 4)
        "stack_global": b"\x80\x04" + su("os") + su("system") + b"\x93(" +
                        su("touch " + canary("stack_global")) + b"tR.",
        # OrderedDict called with items: not what torch writes
        "odict_args": b"\x80\x02" + glob("collections", "OrderedDict") + b"(((" + su("a") + binint(1) +
                      b"tltR.",
        # a protocol-0 INST opcode, which calls os.system in Python
        "inst_opcode": b"\x80\x02(" + su("touch " + canary("inst_opcode")) + b"ios\nsystem\n.",
        "memo_oob": b"\x80\x02h\x05.",
        "deep_stack": b"\x80\x02" + b"]" * 5000 + b".",
        "deep_marks": b"\x80\x02" + b"(" * 1000 + b".",
        "deep_nesting": b"\x80\x02]q\x00" + b"]h\x00aq\x000" * 100 + b".",
        "reduce_storage": b"\x80\x02" + glob("torch", "FloatStorage") + b")R.",
    }
    for name, pkl in cases.items():
        write_zip(os.path.join(out, name + ".pth"), pkl, {})
    write_legacy(os.path.join(out, "legacy_os_system.pth"),
                 call("os", "system", su("touch " + canary("legacy_os_system"))), {})
    four = struct.pack("<4f", 1, 2, 3, 4)
    tensors = {
        "storage_large": ([("w", tensor("0", 1000, 0, [1000], [1]))], four),
        "neg_size": ([("w", tensor("0", 4, 0, [-1], [1]))], four),
        "neg_stride": ([("w", tensor("0", 4, 0, [2], [-1]))], four),
        "neg_offset": ([("w", tensor("0", 4, -1, [2], [1]))], four),
        "overflow_size": ([("w", tensor("0", 4, 0, [2**32, 2**32, 2**32], [0, 0, 0]))], four),
        "overflow_stride": ([("w", tensor("0", 4, 0, [2**33], [2**33]))], four),
        "overflow_offset": ([("w", tensor("0", 4, 2**62, [2], [1]))], four),
        "past_end": ([("w", tensor("0", 4, 3, [2], [1]))], four),
        "int32_dtype": ([("w", tensor("0", 4, 0, [4], [1], "IntStorage"))], four),
        "ok": ([("w", tensor("0", 4, 0, [2, 2], [1, 2]))], four),
    }
    for name, (entries, data) in tensors.items():
        write_zip(os.path.join(out, name + ".pth"), state_dict(entries), {"0": data})
    entries, data = tensors["storage_large"]
    write_legacy(os.path.join(out, "legacy_storage_large.pth"), state_dict(entries)[:-1] + b".",
                 {"0": data})
    entries, data = tensors["ok"]
    write_legacy(os.path.join(out, "legacy_ok.pth"), state_dict(entries), {"0": data})
    # truncated archives: a valid file cut short
    whole = io.BytesIO()
    write_zip(os.path.join(out, "ok_copy.pth"), state_dict(entries), {"0": data})
    with open(os.path.join(out, "ok_copy.pth"), "rb") as f:
        whole = f.read()
    with open(os.path.join(out, "truncated.pth"), "wb") as f:
        f.write(whole[:len(whole) // 2])
    with open(os.path.join(out, "legacy_ok.pth"), "rb") as f:
        legacy = f.read()
    with open(os.path.join(out, "legacy_truncated.pth"), "wb") as f:
        f.write(legacy[:-6])


def cmd_fetch(out):
    """fetch_resnet18.pth: what the loopback server of test_models_fetch.c serves"""
    import torch
    torch.save(make_net("resnet18", 5).state_dict(), os.path.join(out, "fetch_resnet18.pth"))


def main(argv):
    if len(argv) < 3:
        sys.stdout.write(__doc__)
        return 2
    out = argv[1]
    for cmd in argv[2:]:
        {"good": cmd_good, "hostile": cmd_hostile, "fetch": cmd_fetch}[cmd](out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
