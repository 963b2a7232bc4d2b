"""Zero-shot (open vocabulary) bundles on tiny random-weights SigLIP and CLIP presets.

The presets are built here with keras-hub's own classes and written with save_to_preset into a
temporary folder, so the whole path (preset folder -> bundle.json -> analysis) runs offline.
Random weights: the tests check shapes, ranges, plumbing and that prompts matter, never that
the model recognises anything.
"""

from __future__ import annotations

import io
import json
import socket
import string
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("keras_hub")
pytest.importorskip("tensorflow_text")

from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError, SfxError
from sfxstudio.core.project import AnalysisParams
from sfxstudio.ml import zeroshot
from sfxstudio.ml.bundle import BUNDLE_JSON, ModelBundle, read_bundle_json

SIZE = 32
CLASSES = ["dog_barking", "fire", "wave", OTHERWISE]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything that tries to reach the network (kagglehub, huggingface, sockets) fails loudly."""

    def refuse(*_a: Any, **_k: Any) -> None:
        raise AssertionError("a zero-shot test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    try:
        import kagglehub

        monkeypatch.setattr(kagglehub, "model_download", refuse)
    except ImportError:
        pass


def build_tiny_preset(folder: Path, family: str, seed: int = 0) -> Path:
    """A random-weights SigLIP or CLIP preset with the real file layout (a few hundred kB)."""
    import keras
    import keras_hub

    keras.utils.set_random_seed(seed)
    if family == "siglip":
        import sentencepiece as spm

        text = [" ".join(c.prompts) for c in default_classes().classes] + [string.ascii_lowercase]
        proto = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(text * 5), model_writer=proto, vocab_size=40, hard_vocab_limit=False,
            model_type="CHAR", pad_id=0, bos_id=1, eos_id=2, unk_id=3, unk_piece="<unk>",
            eos_piece="</s>", minloglevel=2)
        tok = keras_hub.models.SigLIPTokenizer(proto=proto.getvalue())
        vision = keras_hub.models.SigLIPVisionEncoder(
            patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=32,
            image_shape=(SIZE, SIZE, 3))
        text_enc = keras_hub.models.SigLIPTextEncoder(
            vocabulary_size=tok.vocabulary_size(), embedding_dim=16, hidden_dim=16, num_layers=1,
            num_heads=2, intermediate_dim=32, max_sequence_length=24)
        backbone = keras_hub.models.SigLIPBackbone(vision, text_enc)
        conv = keras_hub.layers.SigLIPImageConverter(image_size=(SIZE, SIZE), scale=1 / 127.5, offset=-1.0)
        pre = keras_hub.models.SigLIPPreprocessor(tok, conv, sequence_length=24)
    else:
        vocab = {"<|endoftext|>": 0, "<|startoftext|>": 1}
        for ch in string.ascii_lowercase + string.digits:
            vocab[ch] = len(vocab)
            vocab[ch + "</w>"] = len(vocab)
        vocab["og</w>"] = len(vocab)
        vocab["th"] = len(vocab)
        tok = keras_hub.models.CLIPTokenizer(vocabulary=vocab, merges=["o g</w>", "t h"])
        vision = keras_hub.models.CLIPVisionEncoder(
            patch_size=8, hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=32,
            image_shape=(SIZE, SIZE, 3))
        text_enc = keras_hub.models.CLIPTextEncoder(
            vocabulary_size=len(vocab), embedding_dim=16, hidden_dim=16, num_layers=1, num_heads=2,
            intermediate_dim=32, max_sequence_length=24)
        backbone = keras_hub.models.CLIPBackbone(vision, text_enc, projection_dim=12)
        mean, std = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
        conv = keras_hub.layers.CLIPImageConverter(
            image_size=(SIZE, SIZE), scale=[1 / (255 * s) for s in std],
            offset=[-m / s for m, s in zip(mean, std, strict=True)])
        pre = keras_hub.models.CLIPPreprocessor(tok, conv, sequence_length=24)
    backbone.save_to_preset(str(folder))
    pre.save_to_preset(str(folder))
    return folder


@pytest.fixture(scope="module")
def presets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("presets")
    return {f: build_tiny_preset(root / f"{f}_tiny", f) for f in ("siglip", "clip")}


@pytest.fixture(scope="module")
def siglip_bundle(presets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundles") / "zs_siglip"
    return zeroshot.create_zeroshot_bundle(out, presets["siglip"], classes=CLASSES)


def frames(n: int = 4, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)


# --- bundle.json ---------------------------------------------------------------------------------


def test_created_bundle_json_names_preset_prompts_and_calibration(siglip_bundle: Path,
                                                                  presets: dict[str, Path]) -> None:
    meta = read_bundle_json(siglip_bundle)
    assert meta["kind"] == "zeroshot" and meta["family"] == "siglip"
    assert meta["classes"] == CLASSES
    assert Path(meta["preset"]) == presets["siglip"].resolve()
    assert meta["prompts"]["fire"] == list(default_classes()["fire"].prompts)
    assert meta["prompts"][OTHERWISE]  # softmax mode: otherwise competes through its prompts
    cal = meta["calibration"]
    assert cal["mode"] == "softmax" and cal["aggregate"] == "mean"
    assert cal["scale"] == pytest.approx(1.0)  # exp(logit_scale) of a fresh SigLIP head
    assert meta["embedding_dim"] == 16 and meta["input_size"] == [SIZE, SIZE]
    assert not (siglip_bundle / "model.keras").exists()


def _broken(meta: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    meta = json.loads(json.dumps(meta))
    target = meta
    keys = path.split(".")
    for k in keys[:-1]:
        target = target[k]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return meta


@pytest.mark.parametrize(("path", "value", "words"), [
    ("preset", 7, "preset"),
    ("preset", "", "preset"),
    ("family", "dall-e", "family"),
    ("embedding_dim", 0, "embedding_dim"),
    ("embedding_dim", True, "embedding_dim"),
    ("prompts", KeyError, "prompts"),
    ("prompts.fire", KeyError, "fire"),
    ("prompts.fire", [], "fire"),
    ("prompts.fire", [""], "fire"),
    ("prompts.fire", ["x" * 500], "fire"),
    ("prompts.fire", "a fire", "fire"),
    ("prompts.otherwise", [], "otherwise"),
    ("prompts.spaceship", ["a spaceship"], "spaceship"),
    ("calibration", KeyError, "calibration"),
    ("calibration.mode", "argmax", "mode"),
    ("calibration.aggregate", "median", "aggregate"),
    ("calibration.scale", 0, "scale"),
    ("calibration.scale", 1e9, "scale"),
    ("calibration.scale", "100", "scale"),
    ("calibration.bias", 1e6, "bias"),
    ("calibration.offsets", {"spaceship": 1.0}, "spaceship"),
    ("calibration.offsets", {"fire": 1e3}, "fire"),
    ("calibration.temperature", 2.0, "temperature"),
    ("embedding_layer", "avg_pool", "embedding_layer"),
    ("input_size", [32, 40], "square"),
])
def test_bundle_json_validation_refuses_bad_fields(siglip_bundle: Path, tmp_path: Path, path: str,
                                                   value: Any, words: str) -> None:
    meta = _broken(read_bundle_json(siglip_bundle), path, value)
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / BUNDLE_JSON).write_text(json.dumps(meta))
    with pytest.raises(BadInputError) as err:
        ModelBundle.load(folder, runtime="tf")
    message = str(err.value)
    assert "\n" not in message and BUNDLE_JSON in message and words in message


def test_sigmoid_mode_may_leave_otherwise_without_prompts(siglip_bundle: Path, tmp_path: Path) -> None:
    meta = _broken(read_bundle_json(siglip_bundle), "calibration.mode", "sigmoid")
    meta["prompts"][OTHERWISE] = []
    folder = tmp_path / "sig"
    folder.mkdir()
    (folder / BUNDLE_JSON).write_text(json.dumps(meta))
    bundle = ModelBundle.load(folder, runtime="tf")
    p, _ = bundle.predict(frames())
    effect = p[:, :-1]
    np.testing.assert_allclose(p[:, -1], 1.0 - effect.max(axis=1), atol=1e-6)


def test_missing_preset_folder_is_one_line_and_never_downloads(siglip_bundle: Path, tmp_path: Path) -> None:
    meta = _broken(read_bundle_json(siglip_bundle), "preset", "siglip_base_patch16_224")
    folder = tmp_path / "named"
    folder.mkdir()
    (folder / BUNDLE_JSON).write_text(json.dumps(meta))
    with pytest.raises(BadInputError) as err:  # no_network would turn a download into an AssertionError
        ModelBundle.load(folder, runtime="tf")
    assert "does not exist" in str(err.value) and "\n" not in str(err.value)


def test_download_needs_confirmation() -> None:
    with pytest.raises(SfxError, match="confirmation"):
        zeroshot.download_preset("clip_vit_base_patch32", Path("/nonexistent/never"))


def test_preset_with_code_is_refused(presets: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "evil"
    shutil.copytree(presets["clip"], copy)
    config = json.loads((copy / "config.json").read_text())
    config["config"]["vision_encoder"]["config"]["extra"] = {"class_name": "Lambda", "config": {}}
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInputError, match="contains code"):
        zeroshot.inspect_preset(copy)


# --- scoring ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", ["tf", "lite"])
def test_predict_shapes_ranges_and_embeddings(siglip_bundle: Path, runtime: str) -> None:
    bundle = ModelBundle.load(siglip_bundle, runtime=runtime)
    assert isinstance(bundle, zeroshot.ZeroShotBundle)
    assert bundle.runtime == runtime, bundle.runtime_note
    p, e = bundle.predict(frames(5))
    assert p.shape == (5, len(CLASSES)) and e.shape == (5, 16)
    assert p.dtype == np.float32 and (p >= 0).all() and (p <= 1).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)  # softmax incl. otherwise
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(bundle.probs_from_embeddings(e), p, atol=1e-6)
    assert bundle.model.get_layer(zeroshot.EMBEDDING_LAYER) is not None  # teaching reads it


def test_lite_and_tensorflow_agree(siglip_bundle: Path) -> None:
    x = frames(3, seed=7)
    p_tf, e_tf = ModelBundle.load(siglip_bundle, runtime="tf").predict(x)
    p_lite, e_lite = ModelBundle.load(siglip_bundle, runtime="lite").predict(x)
    np.testing.assert_allclose(e_lite, e_tf, atol=1e-4)
    np.testing.assert_allclose(p_lite, p_tf, atol=1e-4)


def test_changing_prompts_changes_probabilities_and_caches_text(siglip_bundle: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "edit"
    shutil.copytree(siglip_bundle, folder)
    bundle = ModelBundle.load(folder, runtime="tf")
    assert isinstance(bundle, zeroshot.ZeroShotBundle)
    x = frames(4, seed=3)
    before, emb = bundle.predict(x)
    bundle.set_vocabulary({"fire": ["a volcano erupting at night"]})
    after = bundle.probs_from_embeddings(emb)
    assert not np.allclose(before, after)
    assert bundle.text.cached(["a volcano erupting at night"])
    # Add a class by its name: default prompts, a new column before otherwise.
    bundle.set_vocabulary({}, classes=["dog_barking", "fire", "wave", "door_bell", OTHERWISE])
    assert bundle.prompts["door_bell"] == ["a door bell", "a photo of a door bell"]
    p, _ = bundle.predict(x)
    assert p.shape == (4, 5)
    bundle.save()
    reread = read_bundle_json(folder)
    assert reread["classes"][3] == "door_bell"
    assert reread["prompts"]["fire"] == ["a volcano erupting at night"]
    # A bad vocabulary is refused and leaves the bundle as it was.
    with pytest.raises(BadInputError, match="fire"):
        bundle.set_vocabulary({"fire": []})
    assert bundle.prompts["fire"] == ["a volcano erupting at night"]


def test_text_embeddings_come_from_the_disk_cache(siglip_bundle: Path, presets: dict[str, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ModelBundle.load(siglip_bundle, runtime="lite")  # warms the conversion and the text cache

    def no_backbone(_preset: Any) -> Any:
        raise AssertionError("the backbone was loaded although everything was cached")

    monkeypatch.setattr(zeroshot, "load_backbone", no_backbone)
    bundle = ModelBundle.load(siglip_bundle, runtime="lite")
    p, _ = bundle.predict(frames(2))
    assert p.shape == (2, len(CLASSES))


def test_scoring_math() -> None:
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], np.float32)
    text = [np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 2.0]]), np.array([[-1.0, 0.0]])]
    names = ["a", "b", OTHERWISE]
    sims = zeroshot.class_similarities(emb, text, "mean")
    np.testing.assert_allclose(sims, [[1, 0, -1], [0, 1, 0], [0.6, 0.8, -0.6]], atol=1e-6)
    cal = zeroshot.Calibration("softmax", "mean", 10.0, 5.0, {"a": 1.0})
    p = zeroshot.calibrated_probs(sims, names, cal)
    logits = 10 * sims + np.array([1.0, 0.0, 0.0])  # the shared bias cancels in a softmax
    ref = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, ref, rtol=1e-5)
    sig = zeroshot.calibrated_probs(sims, names, zeroshot.Calibration("sigmoid", "mean", 10.0, -5.0, {}))
    q = 1 / (1 + np.exp(-(10 * sims - 5)))
    np.testing.assert_allclose(sig[:, :2], q[:, :2], rtol=1e-5)
    np.testing.assert_allclose(sig[:, 2], 1 - q[:, :2].max(axis=1), rtol=1e-5)


# --- end to end ------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["siglip", "clip"])
def test_analyse_video_end_to_end(family: str, presets: dict[str, Path], tmp_path: Path,
                                  make_video: Any) -> None:
    from sfxstudio.pipeline import analyze_to_cache, compute_auto_segments

    bundle_dir = zeroshot.create_zeroshot_bundle(tmp_path / f"zs_{family}", presets[family], classes=CLASSES)
    # Tip the calibration so that this random model proposes something: offsets are the
    # documented per-class knob (all zero by default).
    meta = read_bundle_json(bundle_dir)
    meta["calibration"]["offsets"] = {"fire": 8.0}
    (bundle_dir / BUNDLE_JSON).write_text(json.dumps(meta))
    video = make_video(seconds=2.0, fps=10, size=(64, 48))
    params = AnalysisParams(k=0.2, threshold=0.3, analysis_fps=5.0, model=str(bundle_dir))
    cache = analyze_to_cache(video, bundle_dir, params)
    assert cache.class_names == CLASSES
    assert cache.probs.shape == (cache.frames, len(CLASSES)) and cache.frames >= 9
    assert cache.embeddings.shape[0] == cache.frames and cache.embeddings.shape[1] in (12, 16)
    assert np.isfinite(cache.probs).all() and (cache.probs >= 0).all() and (cache.probs <= 1).all()
    np.testing.assert_allclose(cache.probs.sum(axis=1), 1.0, atol=1e-4)
    segments = compute_auto_segments(cache, params)
    assert segments and {s.class_name for s in segments} == {"fire"}
    assert all(0.0 <= s.start < s.end <= cache.duration + 1e-6 for s in segments)


def test_a_converted_zero_shot_bundle_counts_as_cached(siglip_bundle: Path) -> None:
    """So the analysis does not announce "Optimising the model" on every run."""
    from sfxstudio.ml import lite
    from sfxstudio.ml.bundle import ModelBundle

    ModelBundle.load(siglip_bundle, runtime="lite")  # converts once (or finds the conversion)
    assert lite.cached_for_folder(siglip_bundle)


def test_command_line_creates_a_zero_shot_bundle_and_never_downloads_unasked(
        presets: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sfxstudio.cli import main
    from sfxstudio.ml.bundle import read_bundle_json

    out = tmp_path / "zs"
    assert main(["model", "zeroshot", "--preset", str(presets["clip"]), "--out", str(out)]) == 0
    assert read_bundle_json(out)["kind"] == "zeroshot"
    capsys.readouterr()
    assert main(["model", "download-preset", "siglip_base_patch16_224", "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and "nothing was downloaded" in err and not (tmp_path / "p").exists()
