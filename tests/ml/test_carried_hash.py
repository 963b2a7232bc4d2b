"""A bundle's carried conversion records its model file's hash: loading it hashes nothing, and a
model file rewritten since is hashed again (and then no longer matches the conversion)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfxstudio.ml import lite


@pytest.mark.skipif(not lite.available(), reason="the LiteRT runtime is not installed")
def test_the_carried_hash_is_used_while_the_model_file_is_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.create import create_bundle

    monkeypatch.setenv(lite.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("SFXSTUDIO_PRECOMPILE", raising=False)
    folder = create_bundle("tiny", tmp_path / "m", weights="none")
    model = folder / "model.keras"
    real_sha = lite._file_sha256(model)
    assert lite._carried_sha256(model) == real_sha
    # Another machine (empty cache), a new process (no memo): the bundle loads without hashing.
    monkeypatch.setenv(lite.CACHE_ENV, str(tmp_path / "other-cache"))
    lite._hash_cache.clear()
    hashed: list[Path] = []
    real = lite._file_sha256
    monkeypatch.setattr(lite, "_file_sha256", lambda p: hashed.append(p) or real(p))
    bundle = ModelBundle.load(folder, runtime="lite")
    assert bundle.runtime == "lite" and hashed == []
    # The model file rewritten (new bytes, a new mtime): the recorded hash is not trusted.
    with open(model, "ab") as f:
        f.write(b"\0")
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    assert lite._carried_sha256(model) is None
    assert not lite.cached_for_folder(folder)  # the new bytes' key finds no conversion
    assert hashed and hashed[-1] == model
