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

import io
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.atomic import atomic_write_bytes
from sfxstudio.core.classes import OTHERWISE, default_classes
from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.ml.bundle import ModelBundle, model_io_shapes, traced_forward
from sfxstudio.ml.bundle_file import (
    BUNDLE_JSON,
    FORMAT,
    VERSION,
    one_line,
    validate_meta,
    write_bundle_json,
)
from sfxstudio.ml.kinds import BundleKind
from sfxstudio.ml.zeroshot_preset import (
    DOWNLOADABLE,
    HEAD_LAYERS,
    IMAGE_CONVERTER_FILE,
    MAX_PRESET_JSON_BYTES,
    WEIGHTS_FILE,
    Preset,
    build_image_model,
    download_preset,
    inspect_preset,
    learned_calibration,
    load_backbone,
    load_text_preprocessor,
    resolve_preset,
)
from sfxstudio.ml.zeroshot_vocab import (
    AGGREGATES,
    EMBEDDING_LAYER,
    FAMILIES,
    KIND,
    MAX_BIAS,
    MAX_OFFSET,
    MAX_SCALE,
    MODES,
    Calibration,
    _normalise,
    calibrated_probs,
    class_similarities,
    default_prompts,
    default_vocabulary,
    parse_calibration,
    parse_prompts,
    validate_zeroshot_meta,
)

# The names of zeroshot_vocab and zeroshot_preset stay importable from here.
__all__ = [
    "AGGREGATES", "DOWNLOADABLE", "EMBEDDING_LAYER", "FAMILIES", "HEAD_LAYERS", "IMAGE_CONVERTER_FILE",
    "KIND", "MAX_BIAS", "MAX_OFFSET", "MAX_PRESET_JSON_BYTES", "MAX_SCALE", "MODES", "TEXT_BATCH",
    "WEIGHTS_FILE", "ZEROSHOT_KIND", "Calibration", "Preset", "TextEmbeddings", "ZeroShotBundle",
    "_normalise", "build_image_model", "calibrated_probs", "class_similarities",
    "create_zeroshot_bundle", "default_prompts", "default_vocabulary", "download_preset",
    "image_graph_key", "inspect_preset", "learned_calibration", "load_backbone",
    "load_text_preprocessor", "load_zeroshot_bundle", "parse_calibration", "parse_prompts",
    "resolve_preset", "text_cache_dir", "validate_zeroshot_meta",
]

log = logging.getLogger(__name__)

TEXT_BATCH = 64


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
        write_bundle_json(self.path, self.meta)


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
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_bundle_json(out_dir, meta)
    except OSError as exc:
        raise ExportError(out_dir, f"writing the model failed ({exc.strerror or exc})") from exc


def _compiled_key(folder: Path, meta: dict[str, Any]) -> str:
    return image_graph_key(inspect_preset(resolve_preset(folder, str(meta["preset"]))))


ZEROSHOT_KIND = BundleKind(KIND, load=load_zeroshot_bundle, check_meta=validate_zeroshot_meta,
                           compiled_key=_compiled_key)
