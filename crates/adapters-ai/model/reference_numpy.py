#!/usr/bin/env python3
"""Independent numpy reference for torchvision's MobileNetV2 (eval mode) inference.

Reads torchvision's legacy (non-zip) checkpoint mobilenet_v2-b0353104.pth with a
restricted unpickler (no torch needed), preprocesses photos exactly as the standard
torchvision ImageNet eval transform does, and runs the network in float64 with
unfolded BatchNorm.

usage: python3 reference_numpy.py <weights.pth> <photos dir> <labels.txt> [out.tsv]
requires: numpy, pillow
"""
import collections
import os
import pickle
import struct
import sys

import numpy as np
from PIL import Image

# --------------------------------------------------------------------------------------
# Checkpoint reading (torch legacy serialisation: 3 header pickles, the state dict pickle,
# the list of storage keys, then each storage as <int64 numel><raw little-endian data>).
# --------------------------------------------------------------------------------------


# The restricted unpickler is shared with the conversion (it only reads the file's layout;
# the network below is this script's own).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_pth import Reader  # noqa: E402


def load_weights(path):
    """Return {name: float32 ndarray} for every float tensor in the checkpoint."""
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        state = Reader(f).load()
        keys = pickle.load(f)
        dtypes = {t.storage.key: t.storage.dtype for t in state.values()}
        storages = {}
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            np_dtype = {"float32": "<f4", "int64": "<i8"}[dtypes[key]]
            itemsize = np.dtype(np_dtype).itemsize
            storages[key] = np.frombuffer(f.read(numel * itemsize), dtype=np_dtype)
        if f.read(1):
            raise SystemExit("trailing bytes after the storages")
    weights = {}
    for name, t in state.items():
        if t.storage.dtype != "float32":
            continue  # num_batches_tracked counters
        buf = storages[t.storage.key]
        itemsize = buf.itemsize
        arr = np.lib.stride_tricks.as_strided(
            buf[t.offset:],
            shape=t.shape,
            strides=tuple(s * itemsize for s in t.stride),
        )
        weights[name] = np.array(arr, dtype=np.float32)  # copy, contiguous
    return weights


# --------------------------------------------------------------------------------------
# Preprocessing: Resize(256) -> CenterCrop(224) -> ToTensor -> Normalize
# --------------------------------------------------------------------------------------

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def preprocess(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    # torchvision Resize(int): shorter side -> 256, longer side int(256 * long / short)
    if w <= h:
        new_w, new_h = 256, int(256 * h / w)
    else:
        new_w, new_h = int(256 * w / h), 256
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.BILINEAR)
    # torchvision CenterCrop(224)
    top = int(round((new_h - 224) / 2.0))
    left = int(round((new_w - 224) / 2.0))
    img = img.crop((left, top, left + 224, top + 224))
    x = np.asarray(img, dtype=np.float64) / 255.0  # HWC, RGB
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1).copy()  # CHW


# --------------------------------------------------------------------------------------
# Network layers (all on a single CHW image, float64)
# --------------------------------------------------------------------------------------


def batchnorm(x, W, prefix, eps=1e-5):
    g = W[prefix + ".weight"].astype(np.float64)
    b = W[prefix + ".bias"].astype(np.float64)
    m = W[prefix + ".running_mean"].astype(np.float64)
    v = W[prefix + ".running_var"].astype(np.float64)
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + eps) * g[:, None, None] + b[:, None, None]


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def conv3x3_full(x, w, stride):
    """Dense 3x3 conv, padding 1, no bias. x: (Cin,H,W), w: (Cout,Cin,3,3)."""
    cin, h, wd = x.shape
    ho = (h + 2 - 3) // stride + 1
    wo = (wd + 2 - 3) // stride + 1
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros((w.shape[0], ho, wo))
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            out += np.einsum("oc,chw->ohw", w[:, :, ky, kx].astype(np.float64), patch)
    return out


def conv3x3_depthwise(x, w, stride):
    """Depthwise 3x3 conv (groups=C), padding 1, no bias. w: (C,1,3,3)."""
    c, h, wd = x.shape
    ho = (h + 2 - 3) // stride + 1
    wo = (wd + 2 - 3) // stride + 1
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros((c, ho, wo))
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            out += w[:, 0, ky, kx].astype(np.float64)[:, None, None] * patch
    return out


def conv1x1(x, w):
    """Pointwise conv, no bias. w: (Cout,Cin,1,1)."""
    c, h, wd = x.shape
    return (w[:, :, 0, 0].astype(np.float64) @ x.reshape(c, h * wd)).reshape(-1, h, wd)


# torchvision inverted residual settings: expansion t, out channels c, repeats n, stride s
SETTINGS = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
            [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


def forward(x, W):
    used = set()

    def get(name):
        used.add(name)
        return W[name]

    def bn(y, prefix):
        for s in ("weight", "bias", "running_mean", "running_var"):
            used.add(f"{prefix}.{s}")
        return batchnorm(y, W, prefix)

    # features.0: ConvBNReLU6 3->32, stride 2
    x = relu6(bn(conv3x3_full(x, get("features.0.0.weight"), 2), "features.0.1"))
    cin = 32
    idx = 1
    for t, c, n, s in SETTINGS:
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}.conv"
            y = x
            j = 0
            if t != 1:  # expansion 1x1 ConvBNReLU6
                y = relu6(bn(conv1x1(y, get(f"{p}.{j}.0.weight")), f"{p}.{j}.1"))
                j += 1
            # depthwise 3x3 ConvBNReLU6
            y = relu6(bn(conv3x3_depthwise(y, get(f"{p}.{j}.0.weight"), stride), f"{p}.{j}.1"))
            j += 1
            # linear projection 1x1 conv + BN (no activation)
            y = bn(conv1x1(y, get(f"{p}.{j}.weight")), f"{p}.{j + 1}")
            if stride == 1 and cin == c:
                y = y + x
            x = y
            cin = c
            idx += 1
    # features.18: ConvBNReLU6 320->1280 1x1
    x = relu6(bn(conv1x1(x, get(f"features.{idx}.0.weight")), f"features.{idx}.1"))
    # adaptive average pool to 1x1, flatten; dropout is identity in eval
    pooled = x.mean(axis=(1, 2))
    logits = get("classifier.1.weight").astype(np.float64) @ pooled + get("classifier.1.bias").astype(np.float64)
    return logits, used


def main(pth, photos_dir, labels_path, out_path=None):
    W = load_weights(pth)
    labels = [l.rstrip("\n") for l in open(labels_path, encoding="utf-8")]
    assert len(labels) == 1000, len(labels)
    files = sorted(f for f in os.listdir(photos_dir) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    lines = []
    used_all = set()
    for fname in files:
        x = preprocess(os.path.join(photos_dir, fname))
        logits, used = forward(x, W)
        used_all |= used
        e = np.exp(logits - logits.max())
        probs = e / e.sum()
        top5 = np.argsort(-logits)[:5]
        k = int(top5[0])
        lines.append(f"{fname}\t{k}\t{labels[k]}\t{logits[k]:.4f}\t{probs[k]:.4f}\t"
                     + ",".join(str(int(i)) for i in top5))
    # sanity: every float tensor in the checkpoint is used, and there are 262 of them
    assert used_all == set(W), sorted(set(W) ^ used_all)
    assert len(W) == 262, len(W)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    print(f"# {len(used_all)} float tensors used", file=sys.stderr)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
