"""Mutated model files for test_model_file.py, run in a child process so that a crash
fails the test instead of killing the suite:
    python tests/_model_file_fuzz.py SOURCE_FILE N_FILES SEED
Each mutated copy of SOURCE_FILE is loaded with nnfast.load; a load that succeeds is
then used to predict. Allowed: a ValueError from load, or a model whose predict returns
an array or raises ValueError/TypeError. Anything else is printed as a failure. The last
line is a JSON summary.
"""

import json
import os
import struct
import sys
import tempfile
import warnings

import numpy as np

import nnfast
from nnfast._model_file import checksum


def header_of(data):
    n = struct.unpack("<Q", data[:8])[0]
    return n, data[8:8 + n]


def mutate(data, rng):
    """One random mutation: raw bytes, the header length, or the JSON header's fields."""
    data = bytearray(data)
    n, header = header_of(bytes(data))
    kind = rng.integers(9)
    if kind == 0:  # flip bits anywhere
        for _ in range(rng.integers(1, 8)):
            i = rng.integers(len(data))
            data[i] ^= 1 << rng.integers(8)
    elif kind == 1:  # truncate
        del data[rng.integers(len(data)):]
    elif kind == 2:  # the header length field
        value = int(rng.choice([0, 1, n - 1, n + 1, len(data), 2**31, 2**63 - 1, 2**64 - 1]))
        data[:8] = struct.pack("<Q", value % 2**64)
    elif kind == 3:  # bytes inside the header
        for _ in range(rng.integers(1, 4)):
            i = 8 + rng.integers(n)
            data[i] = rng.integers(32, 127)
    elif kind == 4:  # insert or delete bytes
        i = rng.integers(len(data))
        if rng.random() < 0.5:
            data[i:i] = bytes(rng.integers(0, 256, rng.integers(1, 16), dtype=np.uint8))
        else:
            del data[i:i + rng.integers(1, 16)]
    else:  # a well-formed header with one field changed: the loader's own checks
        data = bytearray(json_mutation(bytes(data), n, header, rng))
        if rng.random() < 0.8:
            data = resign(bytes(data))  # as a hostile author would: a valid checksum
    return bytes(data)


def resign(data):
    """The file with its checksum recomputed over what safetensors reads from it (when
    safetensors can read it at all), so the loader's deeper checks are reached."""
    import safetensors.numpy
    try:
        with open(SCRATCH, "wb") as f:
            f.write(data)
        from safetensors import safe_open
        with safe_open(SCRATCH, framework="numpy") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception:  # noqa: BLE001 - unreadable: leave it as it is
        return data
    meta["checksum"] = checksum(meta, tensors)
    return safetensors.numpy.save(tensors, metadata=meta)


SCRATCH = None
HOSTILE_VALUES = [None, -1, 0, 1, 2**40, 1e300, float("nan"), "x", "", [], {}, [1, 2],
                  [2**62, 2**62], "F16", "I64", "U8", "BOOL", "1", "2", "99", True]


def json_mutation(data, n, header, rng):
    head = json.loads(header)
    names = sorted(head)
    key = names[rng.integers(len(names))]
    if key == "__metadata__":
        meta = head[key]
        field = sorted(meta)[rng.integers(len(meta))]
        if rng.random() < 0.5 and meta[field].startswith(("{", "[")):
            inner = json.loads(meta[field])
            if isinstance(inner, dict) and inner:
                sub = sorted(inner)[rng.integers(len(inner))]
                choice = rng.integers(3)
                if choice == 0:
                    del inner[sub]
                else:
                    inner[sub] = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
            meta[field] = json.dumps(inner)
        else:
            value = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
            meta[field] = value if isinstance(value, str) else json.dumps(value)
    else:
        tensor = head[key]
        field = ["dtype", "shape", "data_offsets"][rng.integers(3)]
        choice = rng.integers(4)
        if choice == 0 and field in ("shape", "data_offsets"):
            tensor[field] = [int(v) + int(rng.integers(-2, 3)) for v in tensor[field]]
        elif choice == 1 and field == "shape":
            tensor[field] = tensor[field][::-1]
        else:
            tensor[field] = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
        if rng.random() < 0.1:
            head[key + ".copy"] = dict(tensor)
    new = json.dumps(head).encode()
    new += b" " * ((8 - len(new) % 8) % 8)
    return struct.pack("<Q", len(new)) + new + data[8 + n:]


def main(source, count, seed):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(seed)
    original = open(source, "rb").read()
    X = np.random.default_rng(0).standard_normal((5, 64))
    counts = {"rejected": 0, "loaded": 0, "predicted": 0, "predict_rejected": 0}
    failures = []
    global SCRATCH
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.safetensors")
        SCRATCH = os.path.join(tmp, "scratch.safetensors")
        for i in range(count):
            data = mutate(original, rng)
            with open(path, "wb") as f:
                f.write(data)
            try:
                model = nnfast.load(path)
            except ValueError:
                counts["rejected"] += 1
                continue
            except Exception as e:  # noqa: BLE001 - any other type is a failure
                failures.append(f"{i}: load raised {type(e).__name__}: {e}")
                continue
            counts["loaded"] += 1
            try:
                model.predict(X[:, :model.n_features_in_])
                counts["predicted"] += 1
            except (ValueError, TypeError):
                counts["predict_rejected"] += 1
            except Exception as e:  # noqa: BLE001
                failures.append(f"{i}: predict raised {type(e).__name__}: {e}")
    for line in failures[:20]:
        print("FAILURE", line)
    print(json.dumps({"files": count, "failures": len(failures), **counts}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
