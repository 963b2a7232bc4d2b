"""Zero-shot presets: the keras-hub SigLIP/CLIP folder a zero-shot bundle names.

Read and checked before Keras sees it (no code in configs, local files only), then its
backbone, prompt tokenizer and image graph are built from it. `download_preset` is the only
code that fetches weights, and only when the editor confirmed it. keras-hub and TensorFlow are
imported inside functions.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core import validate
from sfxstudio.core.errors import BadInputError, ExportError, SfxError
from sfxstudio.ml.bundle_file import one_line
from sfxstudio.ml.keras_file import _code_in_config
from sfxstudio.ml.zeroshot_vocab import EMBEDDING_LAYER, FAMILIES, MAX_BIAS, MAX_SCALE

# the layer of a keras-hub backbone holding the learned logit scale
HEAD_LAYERS = {"siglip": "siglip_head", "clip": "clip_head"}
WEIGHTS_FILE = "model.weights.h5"
IMAGE_CONVERTER_FILE = "image_converter.json"
MAX_PRESET_JSON_BYTES = 16 << 20
# Presets keras-hub knows by name (for the explicit, confirmed download only).
DOWNLOADABLE = ("clip_vit_base_patch32", "clip_vit_base_patch16", "clip_vit_large_patch14",
                "siglip_base_patch16_224", "siglip_base_patch16_256", "siglip_large_patch16_256",
                "siglip2_base_patch16_224")



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
