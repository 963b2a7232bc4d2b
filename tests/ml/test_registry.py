"""One model list for the window and `model list`; bundle kinds dispatched through one table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sfxstudio.cli import main
from sfxstudio.core import paths
from sfxstudio.core.classes import default_classes
from sfxstudio.core.errors import BadInputError, collect_warnings
from sfxstudio.ml import imagenet, kinds
from sfxstudio.ml.bundle import ModelBundle
from sfxstudio.ml.registry import list_models


def _bundle(folder: Path, name: str, classes: list[str], kind: str = "keras") -> Path:
    folder.mkdir(parents=True)
    meta = {"format": "sfxstudio-model", "version": 1, "name": name, "kind": kind,
            "classes": classes, "input_size": [32, 32], "preprocessing": "unit"}
    (folder / "bundle.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture
def beside_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    models = tmp_path / "program_models"
    _bundle(models / "demo", "Demo", ["fire", "otherwise"])
    monkeypatch.setattr(paths, "MODELS", models)
    return models


def test_built_in_first_then_models_beside_the_program_then_the_editors(beside_program: Path,
                                                                         tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    _bundle(mine / "b_birds", "Birds", ["bird", "otherwise"])
    _bundle(mine / "a_cars", "", ["cars", "dog_barking", "otherwise"])
    single = _bundle(tmp_path / "single", "Single", ["rain", "otherwise"])
    (mine / "no_bundle").mkdir()
    # the same folders again, and a folder that no longer exists: each listed once, none fails
    entries = list_models([mine, single, beside_program, mine / "b_birds", tmp_path / "gone"])
    assert [e.name for e in entries] == [imagenet.BUILTIN_LABEL, "Demo", "a_cars", "Birds", "Single"]
    builtin = entries[0]
    assert builtin.builtin and builtin.kind == "imagenet_mapped"
    assert builtin.folder == imagenet.builtin_bundle_dir() and not builtin.built
    assert list(builtin.classes) == default_classes().names
    assert entries[2].classes == ("cars", "dog_barking", "otherwise") and entries[2].kind == "keras"
    assert entries[4].folder == single and entries[4].built
    assert [e.name for e in list_models([mine], builtin=False, beside_program=False)] == ["a_cars", "Birds"]


def test_a_broken_bundle_is_a_warning_and_left_out(beside_program: Path, tmp_path: Path) -> None:
    _bundle(tmp_path / "mine" / "ok", "Ok", ["fire", "otherwise"])
    _bundle(tmp_path / "mine" / "bad", "Bad", ["fire"])  # no `otherwise`
    with collect_warnings() as lines:
        names = [e.name for e in list_models([tmp_path / "mine"], builtin=False)]
    assert names == ["Demo", "Ok"]
    assert len(lines) == 1 and lines[0].startswith(str(tmp_path / "mine" / "bad" / "bundle.json"))


def test_model_list_prints_the_same_list(beside_program: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _bundle(tmp_path / "mine" / "birds", "Birds", ["bird", "otherwise"])
    assert main(["model", "list", str(tmp_path / "mine")]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [r[1] for r in rows] == [e.name for e in list_models([tmp_path / "mine"])]
    assert rows[0] == [str(imagenet.builtin_bundle_dir()), imagenet.BUILTIN_LABEL, "21 classes",
                       "imagenet_mapped, built on first use"]
    assert rows[2] == [str(tmp_path / "mine" / "birds"), "Birds", "2 classes", "keras"]


def test_kinds_are_dispatched_through_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _bundle(tmp_path / "probe", "Probe", ["fire", "otherwise"], kind="probe")
    with pytest.raises(BadInputError, match="kind: model kind 'probe' is not supported"):
        ModelBundle.load(folder)
    loaded: list[Any] = []

    def check(meta: dict[str, Any], where: Path | str) -> None:
        if meta.get("probe_field") != 1:
            raise ValueError("probe_field: must be 1")

    def load(f: Path, meta: dict[str, Any], runtime: str) -> Any:
        loaded.append((f, meta["name"], runtime))
        return "a probe bundle"

    monkeypatch.setattr(kinds, "_registered", dict(kinds._registered))
    kinds.register(kinds.BundleKind("probe", load=load, check_meta=check))
    assert "probe" in kinds.names() and kinds.names()[:3] == ("keras", "imagenet_mapped", "zeroshot")
    with pytest.raises(BadInputError, match="probe_field: must be 1"):
        ModelBundle.load(folder)
    meta = json.loads((folder / "bundle.json").read_text()) | {"probe_field": 1}
    (folder / "bundle.json").write_text(json.dumps(meta))
    assert ModelBundle.load(folder, runtime="tf") == "a probe bundle"
    assert loaded == [(folder, "Probe", "tf")]


def test_built_in_kinds_resolve_to_their_modules() -> None:
    from sfxstudio.ml import bundle, zeroshot

    assert kinds.get("keras") is bundle.KERAS_KIND
    assert kinds.get("imagenet_mapped") is imagenet.IMAGENET_KIND
    assert kinds.get("zeroshot") is zeroshot.ZEROSHOT_KIND
    assert zeroshot.ZEROSHOT_KIND.compiled_key is not None  # its graph comes from the preset
