"""The LiteRT (XNNPACK) CPU runtime: same outputs as TensorFlow, cached once, safe fallbacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sfxstudio.core.errors import SfxError
from sfxstudio.core.project import AnalysisParams
from sfxstudio.ml import lite
from sfxstudio.ml.bundle import MODEL_FILE, ModelBundle
from tests.fixtures.models import make_bundle, make_color_bundle, solid_frames


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty conversion cache for this test."""
    d = tmp_path / "cache"
    monkeypatch.setenv(lite.CACHE_ENV, str(d))
    return d


@pytest.fixture(scope="module")
def color_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_color_bundle(tmp_path_factory.mktemp("lite-models"))


def _frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_lite_gives_tensorflows_outputs_and_loads_from_cache_without_keras(
    cache: Path, color_folder: Path
) -> None:
    tf_bundle = ModelBundle.load(color_folder, runtime="tf")
    assert tf_bundle.runtime == "tf"
    first = ModelBundle.load(color_folder, runtime="lite")  # converts, checks, caches
    assert first.runtime == "lite", first.runtime_note
    assert len(list(cache.glob("*.tflite"))) == 1 and len(list(cache.glob("*.json"))) == 1

    again = ModelBundle.load(color_folder, runtime="lite")
    assert again.runtime == "lite" and again._model is None  # the Keras model was not built
    assert again.embedding_dim == tf_bundle.embedding_dim == 8

    # Batches of several sizes: the interpreter is re-sized to each.
    for n, seed in ((5, 1), (2, 2), (7, 3), (1, 4)):
        x = _frames(n, seed)
        p_tf, e_tf = tf_bundle.predict(x)
        p_lite, e_lite = again.predict(x)
        assert p_lite.shape == p_tf.shape and e_lite.shape == e_tf.shape
        np.testing.assert_allclose(p_lite, p_tf, atol=1e-5)
        np.testing.assert_allclose(e_lite, e_tf, atol=1e-5)
    # The hand-set colour model still says what it should.
    red = again.predict(solid_frames("red", 3))[0]
    assert (red.argmax(1) == again.class_names.index("fire")).all()
    # Asking for the Keras model (teaching needs it) loads it then.
    assert again.model.name == "sfx_color" and again._model is not None


def test_cache_key_follows_the_model_bytes_not_the_description(tmp_path: Path, cache: Path) -> None:
    folder = make_color_bundle(tmp_path / "a")
    key = ModelBundle.load(folder, runtime="lite").compiled_key()
    meta_path = folder / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["description"] = "renamed by the editor"
    meta_path.write_text(json.dumps(meta))
    assert lite.compiled_key(folder / MODEL_FILE, meta) == key
    assert lite.cached_for_folder(folder)
    other = make_bundle(tmp_path / "b")  # another model: another key, not cached yet
    assert not lite.cached_for_folder(other)
    meta["classes"] = list(reversed(meta["classes"]))
    assert lite.compiled_key(folder / MODEL_FILE, meta) != key


def test_a_damaged_cache_file_is_converted_again(cache: Path, color_folder: Path) -> None:
    ModelBundle.load(color_folder, runtime="lite")
    (tflite,) = cache.glob("*.tflite")
    size = tflite.stat().st_size
    tflite.write_bytes(b"\0" * size)  # same size, garbage inside
    bundle = ModelBundle.load(color_folder, runtime="lite")
    assert bundle.runtime == "lite"
    assert (bundle.predict(solid_frames("blue", 2))[0].argmax(1) == bundle.class_names.index("river")).all()
    assert tflite.read_bytes()[:8] != b"\0" * 8


def test_a_conversion_that_disagrees_is_not_used(
    cache: Path, color_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lite, "PROB_TOLERANCE", -1.0)  # nothing can agree this closely
    bundle = ModelBundle.load(color_folder, runtime="lite")
    assert bundle.runtime == "tf" and "disagrees with TensorFlow" in bundle.runtime_note
    assert not list(cache.glob("*.tflite"))  # nothing cached: the next load tries again
    assert (bundle.predict(solid_frames("red", 1))[0].argmax(1) == bundle.class_names.index("fire")).all()


def test_an_unwritable_cache_keeps_tensorflow_and_names_the_folder(
    tmp_path: Path, color_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv(lite.CACHE_ENV, str(blocker / "cache"))
    bundle = ModelBundle.load(color_folder, runtime="lite")
    assert bundle.runtime == "tf" and str(blocker) in bundle.runtime_note
    assert bundle.predict(solid_frames("green", 1))[0].shape == (1, len(bundle.class_names))


def test_in_memory_bundles_stay_on_tensorflow(color_bundle: ModelBundle) -> None:
    from tests.fixtures.models import build_color_model

    b = ModelBundle.from_model(build_color_model(color_bundle.class_names), color_bundle.meta)
    assert not b.use_lite() and b.runtime == "tf" and "in-memory" in b.runtime_note


def test_runtime_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(lite.RUNTIME_ENV, raising=False)
    assert lite.resolve_runtime(None, on_gpu=False) == "lite"
    assert lite.resolve_runtime("auto", on_gpu=True) == "tf"
    assert lite.resolve_runtime("tf", on_gpu=False) == "tf"
    monkeypatch.setenv(lite.RUNTIME_ENV, "tf")
    assert lite.resolve_runtime(None, on_gpu=False) == "tf"
    assert lite.resolve_runtime("lite", on_gpu=False) == "lite"  # an explicit choice wins
    with pytest.raises(SfxError, match="unknown model runtime 'fast'"):
        lite.resolve_runtime("fast", on_gpu=False)
    monkeypatch.setattr(lite, "interpreter_class", lambda: None)
    assert lite.resolve_runtime("auto", on_gpu=False) == "tf"
    with pytest.raises(SfxError, match="ai-edge-litert"):
        lite.resolve_runtime("lite", on_gpu=False)


def test_imagenet_mapped_bundles_convert_too(tmp_path: Path, cache: Path) -> None:
    from sfxstudio.ml import imagenet

    folder = imagenet.create_imagenet_bundle(tmp_path / "inet", weights="none", architecture="tiny")
    ref = ModelBundle.load(folder, runtime="tf")
    fast = ModelBundle.load(folder, runtime="lite")
    assert isinstance(fast, imagenet.ImagenetMappedBundle) and fast.runtime == "lite"
    x = _frames(3, 5)
    for a, b in zip(ref.predict_imagenet(x), fast.predict_imagenet(x), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(ref.predict(x)[0], fast.predict(x)[0], atol=1e-5)


def test_analysis_on_lite_matches_tensorflow_and_says_when_it_converts(
    cache: Path, color_folder: Path, make_video, tmp_path: Path
) -> None:
    from sfxstudio import pipeline

    video = make_video(seconds=2.0, fps=10)
    params = AnalysisParams(k=0.0, threshold=0.0)

    def run(runtime: str) -> tuple[list[str], object]:
        steps = list(pipeline.analyze(video, color_folder, params,
                                      options=pipeline.AnalyzeOptions(runtime=runtime)))
        return [s.message for s in steps], steps[-1].result

    msgs_tf, cache_tf = run("tf")
    msgs_1, cache_1 = run("lite")
    msgs_2, cache_2 = run("lite")
    assert not any("Optimising" in m for m in msgs_tf)
    assert any("Optimising the model for this CPU" in m for m in msgs_1)
    assert not any("Optimising" in m for m in msgs_2)  # cached
    np.testing.assert_allclose(cache_1.probs, cache_tf.probs, atol=1e-5)  # type: ignore[attr-defined]
    np.testing.assert_allclose(cache_2.probs, cache_tf.probs, atol=1e-5)  # type: ignore[attr-defined]
    assert cache_tf.probs.shape[0] == 20  # type: ignore[attr-defined]
    shutil.rmtree(cache)


def test_a_cached_cpu_analysis_never_imports_tensorflow(
    cache: Path, color_folder: Path, make_video
) -> None:
    """Start-up matters for a 1-minute clip: TensorFlow's import alone costs seconds."""
    import os
    import subprocess
    import sys

    from sfxstudio.ml import tf_setup

    if tf_setup.maybe_gpu():
        pytest.skip("a GPU may be present: TensorFlow is asked about it")
    ModelBundle.load(color_folder, runtime="lite")  # converted and cached here
    video = make_video(seconds=1.0, fps=10)
    code = (
        "import sys\n"
        "from sfxstudio import pipeline\n"
        "from sfxstudio.core.project import AnalysisParams\n"
        f"c = pipeline.analyze_to_cache({str(video)!r}, {str(color_folder)!r}, AnalysisParams())\n"
        "print(c.frames, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    env = dict(os.environ, **{lite.CACHE_ENV: str(cache)})
    env.pop(lite.RUNTIME_ENV, None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout.split()
    assert out == ["10", "False", "False"]
