"""Open vocabulary: a recogniser that reads the effect classes as text (SigLIP / CLIP via keras-hub).

A zero-shot bundle is a folder with only bundle.json ("kind": "zeroshot"). It names a keras-hub
preset folder (config.json, model.weights.h5, tokenizer and image-converter files) that holds an
image encoder and a text encoder trained together, and gives every class a few text prompts
("a dog barking", "a photo of a dog"). Per analysed frame:

1. the image encoder gives an embedding x (L2-normalised: this is also the embedding the
   analysis caches, so "learn from my corrections" can train a head on it later);
2. each class c gets a similarity s_c: the cosine between x and the class's prompt ensemble
   (the normalised mean of its normalised prompt embeddings, as in the CLIP paper's prompt
   ensembling; "max" over prompts is the alternative);
3. calibration turns similarities into probabilities on one scale for every class:
   logit_c = scale * s_c + bias + offset_c, with the model's own learned scale (and SigLIP's
   learned bias), a per-class offset (0 unless fitted on labelled frames), then
   - "softmax" (default): a softmax over the effect classes AND the `otherwise` prompts
     ("a photo", "a blurry photo"...): the classes compete with what "no effect" looks like, with
     one shared temperature, so p >= tau means the same for every class, and a frame that
     matches none of them goes to `otherwise`;
   - "sigmoid" (SigLIP's own training objective): p_c = sigmoid(logit_c), each class on its
     own, and p(otherwise) = 1 - max_c p_c (the chance that no class prompt wins).
   The analysis layer (argmax, threshold, smoothing) works on these unchanged.

Prompts are encoded once: text embeddings are cached on disk per preset (keyed by the preset's
content) and prompt text, so changing a prompt or adding a class re-encodes only what is new,
and re-scores cached analyses without touching the video (`probs_from_embeddings`).

The image encoder runs like every other bundle: a Keras graph (the preset's scale/offset inside
it) converted once to LiteRT on a CPU, TensorFlow otherwise. Weights come from a local preset
folder only; `download_preset` fetches one through keras-hub, and refuses unless the caller says
the editor confirmed it. Nothing here downloads on its own. keras-hub (and TensorFlow) are
imported inside functions.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core import validate
from sfxstudio.core.atomic import atomic_write_bytes, atomic_write_text
from sfxstudio.core.classes import OTHERWISE, default_classes, read_prompts
from sfxstudio.core.errors import BadInputError, ExportError, SfxError
from sfxstudio.ml.bundle import (
    BUNDLE_JSON,
    FORMAT,
    MAX_EMBEDDING,
    VERSION,
    ModelBundle,
    _code_in_config,
    model_io_shapes,
    one_line,
    traced_forward,
    validate_meta,
)

log = logging.getLogger(__name__)

KIND = "zeroshot"
# keras-hub backbone class (config.json) -> family, and the layer holding the learned logit scale.
FAMILIES = {"SigLIPBackbone": "siglip", "CLIPBackbone": "clip"}
HEAD_LAYERS = {"siglip": "siglip_head", "clip": "clip_head"}
MODES = ("softmax", "sigmoid")
AGGREGATES = ("mean", "max")
EMBEDDING_LAYER = "image_embedding"
WEIGHTS_FILE = "model.weights.h5"
IMAGE_CONVERTER_FILE = "image_converter.json"
MAX_PRESET_JSON_BYTES = 16 << 20
MAX_SCALE = 1000.0  # CLIP clamps its learned scale at 100; SigLIP's is ~117
MAX_BIAS = 100.0
MAX_OFFSET = 50.0
TEXT_BATCH = 64
_CALIBRATION_KEYS = {"mode", "aggregate", "scale", "bias", "offsets"}
# Presets keras-hub knows by name (for the explicit, confirmed download only).
DOWNLOADABLE = ("clip_vit_base_patch32", "clip_vit_base_patch16", "clip_vit_large_patch14",
                "siglip_base_patch16_224", "siglip_base_patch16_256", "siglip_large_patch16_256",
                "siglip2_base_patch16_224")


def default_prompts(name: str) -> tuple[str, ...]:
    """Prompts for a class: resources/classes.json's, else made from the name ("door_bell" ->
    "a door bell", "a photo of a door bell"), the CLIP paper's plain template."""
    known = default_classes().get(name)
    if known is not None and known.prompts:
        return known.prompts
    words = " ".join(name.replace("_", " ").replace("-", " ").split()) or name
    return (f"a {words}" if name != OTHERWISE else "a photo", f"a photo of a {words}")


def default_vocabulary(classes: Sequence[str] | None = None) -> dict[str, list[str]]:
    names = list(classes) if classes is not None else default_classes().names
    return {n: list(default_prompts(n)) for n in names}


# --- bundle.json fields -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    mode: str = "softmax"
    aggregate: str = "mean"
    scale: float = 100.0
    bias: float = 0.0
    offsets: Mapping[str, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "aggregate": self.aggregate, "scale": self.scale,
                "bias": self.bias, "offsets": dict(self.offsets or {})}


def parse_calibration(value: Any, classes: Sequence[str]) -> Calibration:
    """bundle.json's "calibration" object (ValueError naming the field otherwise)."""
    cal = validate.obj(value, "calibration")
    unknown = sorted(set(cal) - _CALIBRATION_KEYS)
    if unknown:
        raise ValueError(f"calibration: unknown field {unknown[0]!r}")
    mode = cal.get("mode", "softmax")
    if mode not in MODES:
        raise ValueError(f"calibration.mode must be one of {', '.join(MODES)}, not {mode!r}")
    aggregate = cal.get("aggregate", "mean")
    if aggregate not in AGGREGATES:
        raise ValueError(f"calibration.aggregate must be one of {', '.join(AGGREGATES)}, not {aggregate!r}")
    scale = validate.number(cal.get("scale"), "calibration.scale", 0.0, MAX_SCALE, lo_open=True)
    bias = validate.number(cal.get("bias", 0.0), "calibration.bias", -MAX_BIAS, MAX_BIAS)
    offsets = validate.obj(cal.get("offsets", {}), "calibration.offsets")
    checked: dict[str, float] = {}
    for name, v in offsets.items():
        if name not in classes:
            raise ValueError(f"calibration.offsets: {name!r} is not one of the classes")
        checked[name] = validate.number(v, f"calibration.offsets.{name}", -MAX_OFFSET, MAX_OFFSET)
    return Calibration(str(mode), str(aggregate), scale, bias, checked)


def parse_prompts(value: Any, classes: Sequence[str], mode: str) -> dict[str, tuple[str, ...]]:
    """bundle.json's "prompts": one list per class, in any order; every effect class needs one
    prompt at least, `otherwise` too in softmax mode (it competes through its prompts)."""
    raw = validate.obj(value, "prompts")
    extra = sorted(set(raw) - set(classes))
    if extra:
        raise ValueError(f"prompts: {extra[0]!r} is not one of the classes")
    out: dict[str, tuple[str, ...]] = {}
    for name in classes:
        if name not in raw:
            raise ValueError(f"prompts: class {name!r} has no prompts")
        prompts = read_prompts(raw[name], f"prompts.{name}")
        needs = name != OTHERWISE or mode == "softmax"
        if needs and not prompts:
            what = "what 'no effect' looks like (softmax mode)" if name == OTHERWISE else "the class"
            raise ValueError(f"prompts.{name}: needs at least one prompt describing {what}")
        out[name] = prompts
    return out


def validate_zeroshot_meta(meta: dict[str, Any]) -> None:
    """The fields a zero-shot bundle.json adds to the common ones (ValueError naming the field);
    called by bundle.validate_meta for kind "zeroshot"."""
    classes = list(meta["classes"])
    validate.text(meta.get("preset"), "preset", max_len=4096)
    if not meta["preset"].strip():
        raise ValueError("preset: names no keras-hub preset folder")
    family = meta.get("family")
    if family not in FAMILIES.values():
        raise ValueError(f"family must be one of {', '.join(sorted(FAMILIES.values()))}, not {family!r}")
    validate.integer(meta.get("embedding_dim"), "embedding_dim", 1, MAX_EMBEDDING)
    if meta.get("embedding_layer", EMBEDDING_LAYER) != EMBEDDING_LAYER:
        raise ValueError(f"embedding_layer: a zero-shot bundle's is {EMBEDDING_LAYER!r}")
    cal = parse_calibration(meta.get("calibration"), classes)
    parse_prompts(meta.get("prompts"), classes, cal.mode)
    w, h = meta["input_size"]
    if w != h:
        raise ValueError(f"input_size: the image encoder takes square frames, not {w}x{h}")


# --- scoring (numpy; shared by live analysis and cached embeddings) -------------------------------


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def class_similarities(image_emb: np.ndarray, text: Sequence[np.ndarray], aggregate: str) -> np.ndarray:
    """(N, D) image embeddings, per class its (P_c, D) prompt embeddings -> (N, C) cosines.

    mean: cosine to the normalised mean of the normalised prompts (prompt ensembling);
    max: the best single prompt. A class without prompts gets NaN (only `otherwise` in
    sigmoid mode, where its column is computed from the others).
    """
    x = _normalise(image_emb)
    out = np.full((x.shape[0], len(text)), np.nan, np.float32)
    for c, t in enumerate(text):
        if len(t) == 0:
            continue
        t = _normalise(t)
        if aggregate == "max":
            out[:, c] = (x @ t.T).max(axis=1)
        else:
            out[:, c] = x @ _normalise(t.mean(axis=0))
    return out


def calibrated_probs(sims: np.ndarray, classes: Sequence[str], cal: Calibration) -> np.ndarray:
    """(N, C) cosines -> (N, C) probabilities in the classes' order (see the module docstring)."""
    offsets = np.array([(cal.offsets or {}).get(n, 0.0) for n in classes], np.float64)
    logits = cal.scale * sims.astype(np.float64) + cal.bias + offsets
    o = list(classes).index(OTHERWISE)
    if cal.mode == "sigmoid":
        p = 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))
        effect = [i for i in range(len(classes)) if i != o]
        p[:, o] = 1.0 - p[:, effect].max(axis=1) if effect else 1.0
    else:
        z = logits - np.nanmax(logits, axis=1, keepdims=True)
        e = np.exp(np.nan_to_num(z, nan=-np.inf))
        p = e / e.sum(axis=1, keepdims=True)
    return np.clip(p, 0.0, 1.0).astype(np.float32)


# --- the preset folder --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """What SFX Studio reads from a keras-hub preset folder before Keras sees it."""

    folder: Path
    family: str
    input_size: tuple[int, int]  # (width, height)
    scale: float | tuple[float, ...]  # the image converter's x * scale + offset on 0..255 pixels
    offset: float | tuple[float, ...]
    digest: str  # sha256 over every file that shapes its outputs

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS_FILE


def _read_json_file(path: Path) -> Any:
    if not path.is_file():
        raise BadInputError(path, "is missing; a keras-hub preset folder needs it")
    if path.stat().st_size > MAX_PRESET_JSON_BYTES:
        raise BadInputError(path, "is too large for a preset description")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInputError(path, f"is not readable JSON ({one_line(str(exc), 100)})") from None


def _scale_value(value: Any, field: str, where: Path) -> float | tuple[float, ...]:
    try:
        if isinstance(value, list):
            if len(value) != 3:
                raise ValueError(f"{field} must be one number or one per RGB channel")
            return tuple(validate.number(v, field, -1e3, 1e3) for v in value)
        return validate.number(value, field, -1e3, 1e3)
    except ValueError as exc:
        raise BadInputError(where, str(exc)) from None


def _file_digest(path: Path) -> str:
    from sfxstudio.ml import lite

    return lite._file_sha256(path)  # remembered per (path, size, mtime) in this process


def inspect_preset(folder: str | Path) -> Preset:
    """Check a local keras-hub preset folder (no Keras, no network) and describe it.

    Refused (BadInputError naming the file): a missing folder or file, a backbone that is not
    SigLIP/CLIP, a config that carries code (Lambda layers), sharded or missing weights.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BadInputError(folder, "zero-shot preset folder does not exist (weights are never "
                                    "downloaded without the editor's confirmation)")
    config_path = folder / "config.json"
    config = _read_json_file(config_path)
    if not isinstance(config, dict):
        raise BadInputError(config_path, "is not a keras-hub preset config (not a JSON object)")
    cls = config.get("class_name")
    if cls not in FAMILIES:
        raise BadInputError(config_path, f"holds a {cls!r}; a zero-shot model needs one of "
                                         f"{', '.join(FAMILIES)}")
    code = _code_in_config(config)
    if code:
        raise BadInputError(config_path, f"contains code ({code}); refused")
    if not (folder / WEIGHTS_FILE).is_file():
        raise BadInputError(folder / WEIGHTS_FILE, "is missing (sharded weights are not supported)")
    conv_path = folder / IMAGE_CONVERTER_FILE
    conv = _read_json_file(conv_path)
    cfg = conv.get("config") if isinstance(conv, dict) else None
    if not isinstance(cfg, dict):
        raise BadInputError(conv_path, "is not a keras-hub image converter description")
    size = cfg.get("image_size")
    if not isinstance(size, list) or len(size) != 2:
        raise BadInputError(conv_path, f"image_size must be [height, width], not {size!r}")
    try:
        h, w = (validate.integer(v, "image_size", 8, 2048) for v in size)
    except ValueError as exc:
        raise BadInputError(conv_path, str(exc)) from None
    scale = _scale_value(cfg.get("scale", 1 / 255.0), "scale", conv_path)
    offset = _scale_value(cfg.get("offset", 0.0) if cfg.get("offset") is not None else 0.0,
                          "offset", conv_path)
    digest = hashlib.sha256()
    files = [config_path, conv_path, folder / "tokenizer.json", folder / "preprocessor.json"]
    assets = folder / "assets"
    if assets.is_dir():
        files += sorted(p for p in assets.rglob("*") if p.is_file())
    for f in files:
        if f.is_file():
            digest.update(f.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(bytes.fromhex(_file_digest(f)))
    digest.update(bytes.fromhex(_file_digest(folder / WEIGHTS_FILE)))
    return Preset(folder.resolve(), FAMILIES[cls], (w, h), scale, offset, digest.hexdigest())


def resolve_preset(bundle_folder: Path | None, preset: str) -> Path:
    """bundle.json's "preset": an absolute folder, or one relative to the bundle folder."""
    path = Path(preset).expanduser()
    if not path.is_absolute() and bundle_folder is not None:
        path = bundle_folder / path
    return path


def _keras_hub() -> Any:
    from sfxstudio.ml import tf_setup

    tf_setup.configure()
    try:
        import keras_hub
    except ImportError as exc:
        raise SfxError("zero-shot models need keras-hub (scripts/setup.sh installs it: "
                       f"pip install --no-deps keras-hub tensorflow-text) ({exc})") from None
    return keras_hub


def load_backbone(preset: Preset) -> Any:
    """The preset's SigLIP/CLIP backbone, from the local folder only, deserialised in safe mode."""
    import keras

    hub = _keras_hub()
    # An absolute path: keras-hub maps a bare preset *name* to its Kaggle handle and downloads it.
    where = str(preset.folder.resolve())
    try:
        with keras.src.saving.serialization_lib.SafeModeScope(True):
            return hub.models.Backbone.from_preset(where)
    except MemoryError:
        raise
    except Exception as exc:  # h5, deserialisation and shape errors come in many types
        raise BadInputError(preset.folder, f"cannot be loaded as a keras-hub preset "
                                           f"({type(exc).__name__}: {one_line(str(exc), 120)})") from None


_PREPROCESSOR_KEYS = {"siglip": ("sequence_length", "add_start_token", "add_end_token", "canonicalize_text"),
                      "clip": ("sequence_length", "add_start_token", "add_end_token", "to_lower")}


def _asset(preset: Preset, name: str) -> Path:
    path = preset.folder / "assets" / "tokenizer" / name
    if not path.is_file():
        raise BadInputError(path, "is missing; the preset's tokenizer needs it")
    if path.stat().st_size > 64 << 20:
        raise BadInputError(path, "is too large for a tokenizer vocabulary")
    return path


def load_text_preprocessor(preset: Preset) -> Any:
    """The preset's prompt preprocessor (tokenizer + packer), without its image converter.

    The tokenizer's config is deserialised in safe mode; its vocabulary is then handed over as
    data read from the preset's own assets folder (keras-hub's safe mode refuses file paths).
    """
    import keras

    hub = _keras_hub()
    tok_path = preset.folder / "tokenizer.json"
    tok_config = _read_json_file(tok_path)
    pre_path = preset.folder / "preprocessor.json"
    pre_config = _read_json_file(pre_path) if pre_path.is_file() else {}
    for path, config in ((tok_path, tok_config), (pre_path, pre_config)):
        code = _code_in_config(config)
        if code:
            raise BadInputError(path, f"contains code ({code}); refused")
    expected = "SigLIPTokenizer" if preset.family == "siglip" else "CLIPTokenizer"
    if not isinstance(tok_config, dict) or tok_config.get("class_name") != expected:
        raise BadInputError(tok_path, f"is not a {expected} description")
    try:
        with keras.src.saving.serialization_lib.SafeModeScope(True):
            tokenizer = keras.saving.deserialize_keras_object(tok_config, safe_mode=True)
        if preset.family == "siglip":
            tokenizer.set_proto(_asset(preset, "vocabulary.spm").read_bytes())
            cls = hub.models.SigLIPPreprocessor
        else:
            vocab = json.loads(_asset(preset, "vocabulary.json").read_text(encoding="utf-8"))
            merges = [ln.rstrip("\r\n") for ln in
                      _asset(preset, "merges.txt").read_text(encoding="utf-8").splitlines()]
            tokenizer.set_vocabulary_and_merges(vocab, [m for m in merges if m])
            cls = hub.models.CLIPPreprocessor
        cfg = pre_config.get("config", {}) if isinstance(pre_config, dict) else {}
        kwargs = {k: cfg[k] for k in _PREPROCESSOR_KEYS[preset.family] if k in cfg}
        return cls(tokenizer=tokenizer, image_converter=None, **kwargs)
    except (BadInputError, MemoryError):
        raise
    except Exception as exc:  # vocabulary and deserialisation errors come in many types
        raise BadInputError(preset.folder, f"has no usable tokenizer ({type(exc).__name__}: "
                                           f"{one_line(str(exc), 120)})") from None


def build_image_model(backbone: Any, preset: Preset) -> Any:
    """uint8-range RGB (B, h, w, 3) float32 -> [projected image embedding, its L2-normalised
    copy "image_embedding"]. Two outputs, like every bundle graph (the CPU runtime converts and
    checks two); the normalised one is what is scored and cached."""
    import keras

    w, h = preset.input_size
    inputs = keras.Input((h, w, 3), name="frames", dtype="float32")
    scale = list(preset.scale) if isinstance(preset.scale, tuple) else preset.scale
    offset = list(preset.offset) if isinstance(preset.offset, tuple) else preset.offset
    x = keras.layers.Rescaling(scale, offset, name="preprocess")(inputs)
    raw = backbone.get_vision_embeddings(x)
    emb = keras.layers.UnitNormalization(axis=-1, name=EMBEDDING_LAYER)(raw)
    return keras.Model(inputs, [raw, emb], name=f"zeroshot_{preset.family}_image")


def learned_calibration(backbone: Any, family: str) -> tuple[float, float]:
    """(scale, bias) the model learned: exp(logit_scale), and SigLIP's logit_bias (CLIP: 0)."""
    head = backbone.get_layer(HEAD_LAYERS[family])
    values = {w.name.split("/")[-1].split(":")[0]: float(np.asarray(w.numpy())) for w in head.weights}
    scale = math.exp(values.get("logit_scale", math.log(100.0)))
    bias = values.get("logit_bias", 0.0)
    return min(max(scale, 1e-3), MAX_SCALE), min(max(bias, -MAX_BIAS), MAX_BIAS)


# --- text embeddings and their cache ----------------------------------------------------------------


def text_cache_dir() -> Path:
    from sfxstudio.ml import lite

    return lite.cache_dir() / "zeroshot-text"


class TextEmbeddings:
    """Prompt -> normalised text embedding for one preset, cached in memory and on disk.

    The text encoder (the whole backbone) is loaded only when a prompt is not cached yet.
    """

    def __init__(self, preset: Preset, backbone: Any = None) -> None:
        self.preset = preset
        self._backbone = backbone
        self._pre: Any = None
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.path = text_cache_dir() / f"{preset.digest[:32]}.npz"
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as z:
                prompts, vectors = [str(p) for p in z["prompts"]], np.asarray(z["vectors"], np.float32)
            if vectors.ndim == 2 and len(prompts) == len(vectors) and np.isfinite(vectors).all():
                self._vectors = dict(zip(prompts, vectors, strict=True))
        except (OSError, ValueError, KeyError, EOFError) as exc:  # a damaged cache: encode again
            log.warning("%s: text embedding cache unusable (%s)", self.path, exc)

    def _save(self) -> None:
        buf = io.BytesIO()
        prompts = list(self._vectors)
        np.savez(buf, prompts=np.array(prompts, dtype=str),
                 vectors=np.stack([self._vectors[p] for p in prompts]))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, buf.getvalue())
        except OSError as exc:  # a read-only cache only costs time
            log.warning("cannot write the text embedding cache %s: %s", self.path, exc)

    def cached(self, prompts: Sequence[str]) -> bool:
        return all(p in self._vectors for p in prompts)

    @property
    def backbone(self) -> Any:
        if self._backbone is None:
            self._backbone = load_backbone(self.preset)
        return self._backbone

    def encode(self, prompts: Sequence[str]) -> np.ndarray:
        """(len(prompts), D) normalised embeddings; new prompts go through the text encoder."""
        with self._lock:
            missing = [p for p in dict.fromkeys(prompts) if p not in self._vectors]
            if missing:
                if self._pre is None:
                    self._pre = load_text_preprocessor(self.preset)
                    self._pre.build(None)
                for i in range(0, len(missing), TEXT_BATCH):
                    chunk = missing[i: i + TEXT_BATCH]
                    tokens = self._pre({"images": None, "prompts": chunk})["token_ids"]
                    vecs = _normalise(np.asarray(self.backbone.get_text_embeddings(tokens)))
                    if not np.isfinite(vecs).all():
                        raise BadInputError(self.preset.weights, "gives text embeddings that are not "
                                                                 "finite; its weights are damaged")
                    self._vectors.update(zip(chunk, vecs, strict=True))
                self._save()
            return np.stack([self._vectors[p] for p in prompts]) if prompts else np.zeros((0, 0), np.float32)


# --- the bundle --------------------------------------------------------------------------------------


class ZeroShotBundle(ModelBundle):
    """A loaded zero-shot bundle: predict() -> (calibrated class probabilities, image embeddings)."""

    def __init__(self, path: Path | None, meta: dict[str, Any], model: Any,
                 compiled: dict[str, Any] | None = None, *, preset: Preset,
                 text: TextEmbeddings | None = None) -> None:
        self.preset = preset
        self.text = text or TextEmbeddings(preset)
        self._scoring_lock = threading.Lock()
        super().__init__(path, meta, model, compiled=compiled)
        self._set_scoring(meta)

    # ModelBundle hooks ---------------------------------------------------------------------------

    def _where(self) -> Path | str:
        return self.path / BUNDLE_JSON if self.path else "zero-shot model"

    def _output0_dim(self) -> int:
        return int(self.meta["embedding_dim"])

    def _check_model(self, model: Any) -> None:
        where = self.preset.folder
        outputs, shape = model_io_shapes(model, where)
        dim = int(self.meta["embedding_dim"])
        if len(outputs) != 2 or any(o != (None, dim) for o in outputs):
            raise BadInputError(where, f"the image encoder gives {[o[1:] for o in outputs]}, "
                                       f"not two {dim}-value embeddings (bundle.json embedding_dim)")
        w, h = self.input_size
        if len(shape) != 4 or shape[1:] != (h, w, 3):
            raise BadInputError(where, f"the image encoder takes {shape[1:]}, not input_size {w}x{h}")
        self.embedding_dim = dim
        self._predictor = model
        self._forward = traced_forward(model, (w, h))

    @property
    def model(self) -> Any:
        """The Keras image graph (built from the preset when the bundle runs from LiteRT)."""
        with self._model_lock:
            if self._model is None:
                self._model = build_image_model(self.text.backbone, self.preset)
            return self._model

    def compiled_key(self) -> str | None:

        return image_graph_key(self.preset)

    def _run(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            with self._lock:
                _raw, emb = self._forward(frames)
            emb = np.asarray(emb, np.float32)
        except (BadInputError, MemoryError):
            raise
        except Exception as exc:  # TensorFlow and LiteRT raise many types
            raise BadInputError(self.preset.folder, f"the image encoder failed ({type(exc).__name__}: "
                                                    f"{one_line(str(exc), 120)})") from None
        if not np.isfinite(emb).all():
            raise BadInputError(self.preset.weights, "gives numbers that are not finite (NaN or "
                                                     "infinity); its weights are damaged")
        return self.probs_from_embeddings(emb), emb

    # scoring -----------------------------------------------------------------------------------

    def _set_scoring(self, meta: dict[str, Any]) -> None:
        classes = list(meta["classes"])
        cal = parse_calibration(meta["calibration"], classes)
        prompts = parse_prompts(meta["prompts"], classes, cal.mode)
        every = [p for n in classes for p in prompts[n]]
        vectors = dict(zip(every, self.text.encode(every), strict=True)) if every else {}
        dim = int(meta["embedding_dim"])
        text = [np.stack([vectors[p] for p in prompts[n]]) if prompts[n] else np.zeros((0, dim), np.float32)
                for n in classes]
        if any(t.shape[1] != dim for t in text if len(t)):
            raise BadInputError(self.preset.folder, "its text embeddings do not match its image "
                                                    f"embeddings ({dim} values, bundle.json embedding_dim)")
        with self._scoring_lock:
            self._classes, self._cal, self._text_matrices = classes, cal, text

    def probs_from_embeddings(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, D) image embeddings (live, or cached with an analysis) -> (N, C) probabilities
        with the current prompts and calibration: no video decoding, no image encoder."""
        emb = np.asarray(embeddings, np.float32)
        with self._scoring_lock:
            classes, cal, text = self._classes, self._cal, self._text_matrices
        if emb.ndim != 2 or emb.shape[1] != int(self.meta["embedding_dim"]):
            raise ValueError(f"embeddings must be (frames, {self.meta['embedding_dim']}), not {emb.shape}")
        if emb.shape[0] == 0:
            return np.zeros((0, len(classes)), np.float32)
        return calibrated_probs(class_similarities(emb, text, cal.aggregate), classes, cal)

    @property
    def prompts(self) -> dict[str, list[str]]:
        return {n: list(v) for n, v in self.meta["prompts"].items()}

    @property
    def calibration(self) -> Calibration:
        return self._cal

    def set_vocabulary(self, prompts: Mapping[str, Sequence[str]],
                       classes: Sequence[str] | None = None) -> None:
        """New prompts (and optionally a new class list, `otherwise` included; a class added
        by name gets default_prompts unless given). New prompts are encoded now (cached);
        bundle.json is not written: call save(). Raises BadInputError for a bad vocabulary."""
        names = list(classes) if classes is not None else self.class_names
        merged = {n: list(prompts[n]) if n in prompts else
                  (self.prompts.get(n) or list(default_prompts(n))) for n in names}
        meta = dict(self.meta, classes=names, prompts=merged)
        offsets = dict(meta["calibration"].get("offsets") or {})
        meta["calibration"] = dict(meta["calibration"], offsets={k: v for k, v in offsets.items()
                                                                 if k in names})
        meta.pop("supported_classes", None)
        meta.pop("unsupported_classes", None)
        meta = validate_meta(meta, self._where())
        self._set_scoring(meta)  # encodes first: a failure leaves the bundle as it was
        self.meta = meta

    def save(self) -> None:
        """Write bundle.json (prompts, classes, calibration) back to the bundle folder, atomically."""
        if self.path is None:
            raise ExportError("zero-shot model", "this bundle has no folder to save to")
        text = json.dumps(self.meta, indent=2, ensure_ascii=False, allow_nan=False)
        atomic_write_text(self.path / BUNDLE_JSON, text + "\n")


def image_graph_key(preset: Preset) -> str:
    """LiteRT cache key of a preset's image graph: its content only, so a prompt or class
    change never converts again."""
    from sfxstudio.ml import lite

    shape = {"kind": KIND, "input_size": list(preset.input_size), "preprocessing": preset.digest,
             "embedding_layer": EMBEDDING_LAYER}
    return lite.compiled_key(preset.weights, shape)


def load_zeroshot_bundle(folder: str | Path, meta: dict[str, Any], runtime: str = "tf") -> ZeroShotBundle:
    """Load a folder whose validated bundle.json says kind "zeroshot" (ModelBundle.load calls
    this with the runtime already resolved: "tf" or "lite")."""
    from sfxstudio.ml import lite

    folder = Path(folder)
    where = folder / BUNDLE_JSON
    preset = inspect_preset(resolve_preset(folder, str(meta["preset"])))
    if preset.family != meta["family"]:
        raise BadInputError(where, f"family: the preset holds a {preset.family} model, not {meta['family']}")
    if list(preset.input_size) != list(meta["input_size"]):
        w, h = preset.input_size
        raise BadInputError(where, f"input_size: the preset's image encoder takes {w}x{h}")
    text = TextEmbeddings(preset)
    if runtime == "lite":
        info = lite.find_compiled(image_graph_key(preset))
        if info is not None:
            try:
                return ZeroShotBundle(folder, meta, None, compiled=info, preset=preset, text=text)
            except BadInputError:
                raise
            except Exception as exc:  # a damaged cache file: any interpreter error
                log.warning("%s: cached conversion unusable (%s); converting again", folder, exc)
                lite.discard(image_graph_key(preset))
    model = build_image_model(text.backbone, preset)
    bundle = ZeroShotBundle(folder, meta, model, preset=preset, text=text)
    if runtime == "lite":
        bundle.use_lite()
    return bundle


def create_zeroshot_bundle(
    out_dir: str | Path,
    preset: str | Path,
    *,
    classes: Sequence[str] | None = None,
    prompts: Mapping[str, Sequence[str]] | None = None,
    mode: str = "softmax",
    aggregate: str = "mean",
    name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a zero-shot bundle (bundle.json only) that uses a local keras-hub preset folder.

    classes: the output order (default: the 21 classes of resources/classes.json); `otherwise`
    is added last when missing. prompts: per class (default: classes.json's, else made from the
    name). The calibration starts from the scale (and SigLIP bias) the model learned.
    """
    out_dir = Path(out_dir)
    info = inspect_preset(preset)
    names = list(classes) if classes is not None else default_classes().names
    if OTHERWISE not in names:
        names.append(OTHERWISE)
    vocab = {n: list(prompts[n]) if prompts and n in prompts else list(default_prompts(n)) for n in names}
    text = TextEmbeddings(info)
    scale, bias = learned_calibration(text.backbone, info.family)
    dim = int(build_image_model(text.backbone, info).outputs[1].shape[-1])
    inside = out_dir.resolve() in info.folder.parents
    meta: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "name": name or out_dir.name, "kind": KIND,
        "classes": names, "input_size": list(info.input_size), "preprocessing": "raw",
        "preprocessing_in_model": True, "backbone": f"keras-hub {info.family}",
        "family": info.family,
        "preset": info.folder.relative_to(out_dir.resolve()).as_posix() if inside else str(info.folder),
        "weights_source": f"keras-hub preset folder {info.folder} (sha256 {info.digest[:16]}...)",
        "embedding_layer": EMBEDDING_LAYER, "embedding_dim": dim,
        "prompts": vocab,
        "calibration": Calibration(mode, aggregate, scale, bias if mode == "sigmoid" or
                                   info.family == "siglip" else 0.0, {}).to_json(),
        "description": (f"Zero-shot {info.family} image-text model: each class is recognised from "
                        "its text prompts, no training"),
        "training": {"method": "none (zero-shot image-text similarity)"},
    }
    meta = validate_meta(meta, out_dir / BUNDLE_JSON)
    # Encode the prompts now: a preset that cannot read them fails here, not in the editor's
    # first analysis, and the cache is warm for it.
    text.encode([p for n in names for p in vocab[n]])
    _write_meta_folder(out_dir, meta, overwrite)
    return out_dir


def _write_meta_folder(out_dir: Path, meta: dict[str, Any], overwrite: bool) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ExportError(out_dir, "exists and is not a folder")
        if any(out_dir.iterdir()) and not overwrite:
            raise ExportError(out_dir, "folder exists and is not empty; choose another name or "
                                       "allow overwriting")
    text = json.dumps(meta, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out_dir / BUNDLE_JSON, text)
    except OSError as exc:
        raise ExportError(out_dir, f"writing the model failed ({exc.strerror or exc})") from exc


def download_preset(name: str, dest: str | Path, *, confirmed: bool = False) -> Path:
    """Fetch a keras-hub SigLIP/CLIP preset (hundreds of MB, from Kaggle) into dest.

    Only for an explicit request the editor has confirmed (confirmed=True); every other path
    reads local folders. Written to a temporary folder beside dest and renamed into place.
    """
    if not confirmed:
        raise SfxError(f"downloading the {name} weights needs the editor's confirmation; "
                       "nothing was downloaded")
    if name not in DOWNLOADABLE:
        raise SfxError(f"{name!r} is not a known SigLIP/CLIP preset ({', '.join(DOWNLOADABLE)})")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ExportError(dest, "folder exists and is not empty")
    hub = _keras_hub()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        family = "siglip" if name.startswith("siglip") else "clip"
        backbone = hub.models.Backbone.from_preset(name)
        pre_cls = hub.models.SigLIPPreprocessor if family == "siglip" else hub.models.CLIPPreprocessor
        pre = pre_cls.from_preset(name)
        backbone.save_to_preset(str(tmp))
        pre.save_to_preset(str(tmp))
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
