"""No cold start: a bundle written for the editor carries its CPU conversion (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfxstudio.ml import lite


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv(lite.CACHE_ENV, str(cache))
    monkeypatch.delenv("SFXSTUDIO_PRECOMPILE", raising=False)
    return cache


@pytest.mark.skipif(not lite.available(), reason="the LiteRT runtime is not installed")
def test_a_created_bundle_carries_its_conversion_to_an_empty_cache(
        fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.ml.create import create_bundle

    folder = create_bundle("tiny", tmp_path / "m", weights="none")
    assert (folder / lite.BUNDLE_COMPILED).is_file() and (folder / (lite.BUNDLE_COMPILED + ".json")).is_file()
    # Another machine, or the cache wiped: the bundle alone is enough, nothing is converted.
    monkeypatch.setenv(lite.CACHE_ENV, str(tmp_path / "other-cache"))
    assert lite.cached_for_folder(folder)

    def no_conversion(*_a: object, **_k: object) -> None:
        raise AssertionError("the first analysis converted the model again")

    monkeypatch.setattr(lite, "compile_model", no_conversion)
    bundle = ModelBundle.load(folder, runtime="lite")
    assert bundle.runtime == "lite"


def test_precompile_can_be_turned_off_and_never_fails_the_bundle(
        fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio.ml import bundle as bundle_mod
    from sfxstudio.ml.create import create_bundle

    monkeypatch.setenv("SFXSTUDIO_PRECOMPILE", "0")
    folder = create_bundle("tiny", tmp_path / "off", weights="none")
    assert not (folder / lite.BUNDLE_COMPILED).exists()
    monkeypatch.delenv("SFXSTUDIO_PRECOMPILE")

    def broken(*_a: object, **_k: object) -> None:
        raise bundle_mod.SfxError("the converter crashed")

    monkeypatch.setattr(bundle_mod.ModelBundle, "load", classmethod(lambda cls, *a, **k: broken()))
    assert bundle_mod.precompile(folder) is False  # logged, the bundle stays usable
