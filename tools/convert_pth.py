#!/usr/bin/env python3
"""convert_pth.py - torchvision .pth weights -> safetensors, offline.

sensorgram never unpickles .pth files (a pickle can run arbitrary code).
Users who already have torchvision's ImageNet weights, e.g.
~/.cache/torch/hub/checkpoints/resnet34-b627a593.pth, convert them once
with PyTorch here, then pass the result to --pretrained or --weights:

    /usr/bin/python3 tools/convert_pth.py resnet34-b627a593.pth resnet34.safetensors
    sensorgram train --pretrained resnet34.safetensors ...

or store it where `--pretrained resnet34` looks:
    ${XDG_DATA_HOME:-~/.local/share}/sensorgram/weights/resnet34.safetensors

The file is loaded with torch.load(weights_only=True) where this PyTorch
supports it (1.13+), which refuses arbitrary pickled objects.  A
{'state_dict': ...} or {'model': ...} wrapper is unwrapped; a
'module.' prefix (DataParallel) is stripped.  Float tensors are written
as F32, integer buffers (num_batches_tracked) as I64, with a small
hand-written safetensors writer (no safetensors package needed).
"""
import json
import struct
import sys


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
    import os
    os.replace(tmp, path)


def load_state_dict(path):
    import torch

    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # PyTorch < 1.13 has no weights_only
        sys.stderr.write("convert_pth: this PyTorch cannot load weights_only; "
                         "only convert files you trust\n")
        sd = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    out = {}
    for k, v in sd.items():
        if not hasattr(v, "shape"):
            raise SystemExit(f"convert_pth: {path}: entry '{k}' is not a tensor")
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0 if len(argv) == 2 else 2
    sd = load_state_dict(argv[1])
    if "fc.weight" not in sd or "conv1.weight" not in sd:
        raise SystemExit(f"convert_pth: {argv[1]}: not torchvision ResNet weights "
                         "(no conv1.weight / fc.weight)")
    write_safetensors(argv[2], sd, {"source": argv[1].rsplit("/", 1)[-1]})
    print(f"wrote {argv[2]}: {len(sd)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
