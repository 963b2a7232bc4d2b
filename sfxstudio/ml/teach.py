"""Learn from my corrections: a new classifier head trained on the editor's fixes, in seconds.

Every analysed frame already has its embedding in the project's analysis cache (the features
the model's last layer reads). The editor's edits say what those frames really are:
- a manual segment (created, moved, resized or relabelled) gives its class to the frames in it;
- a mute range (an automatic effect the editor deleted) says its frames are `otherwise`;
- frames the editor left alone keep the label the current proposal gives them (the automatic
  segment's class, or `otherwise` outside every segment), with the lower weight pseudo_weight
  (DEFAULT_PSEUDO_WEIGHT). They anchor the classes nobody corrected: without them a head taught
  from three corrections forgets the rest (bench/bench_teach_demo.py: event F1 on the demo
  0.75 -> 0.42 with 0, -> 0.94 with 0.1 to 1.0). They also re-teach the model its own mistakes
  the editor did not get to, which is why they weigh less than a correction; 0 turns them off.
A frame belongs to a range when its centre (t + frame_duration / 2) lies inside it. A frame
inside manual segments of k classes (classes overlap: an ambulance among cars) counts for each
of them with weight 1/k, a soft target, rather than being dropped.

The head (one Dense softmax layer, embedding -> classes) starts from the base model's "probs"
weights, so it starts from the base model's behaviour, and an L2 pull towards those weights
keeps classes without corrections where they were. It is trained in numpy (Adam, class-balanced
weights): no TensorFlow start-up for the training itself, deterministic, and 10,000 frames take
well under a second. The new bundle is the base model up to its embedding layer plus the new
probs layer, saved like any bundle (safe_mode-loadable, no Lambda layers), with its provenance
in bundle.json. `reclassify` applies the new head to a cache's embeddings: new probabilities
without decoding the video again.

An ImageNet-mapped base (and a model taught from one) keeps its ImageNet logits and mapping:
the taught model adds a per-class offset and one taught logit per class (see MappedHead), so
classes nobody corrected are recognised as before, and a class the base does not know (a name
only the editor's manual effects use) is learnt from its taught logit alone.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, Project
from sfxstudio.ml.teach_data import (
    DEFAULT_PSEUDO_WEIGHT,
    TeachingData,
    collect_frames,
    frames_from_projects,
)
from sfxstudio.ml.teach_head import (
    BASE_LOGITS_LAYER,
    DEFAULT_ANCHOR,
    MAPPED_STEPS_PER_EPOCH,
    NEW_MASS_SHARE,
    PROBS_LAYER,
    TAUGHT_LOGITS_LAYER,
    HeadFit,
    MappedHead,
    ProgressFn,
    _dense_weights,
    _start_new_logits,
    fit_head,
    head_probs,
    is_mapped_head,
    mapped_head,
    softmax,
)

# The names of teach_data and teach_head stay importable from here.
__all__ = [
    "BASE_LOGITS_LAYER", "DEFAULT_ANCHOR", "DEFAULT_PSEUDO_WEIGHT", "MAPPED_STEPS_PER_EPOCH",
    "NEW_MASS_SHARE", "PROBS_LAYER", "TAUGHT_LOGITS_LAYER", "HeadFit", "MappedHead", "ProgressFn",
    "TeachingData", "collect_frames", "fit_head", "frames_from_projects", "head_probs",
    "is_mapped_head", "mapped_head", "model_version", "reclassified_cache", "reclassify", "softmax",
    "teach",
]


# --- bundles ----------------------------------------------------------------------------------------


def _read_meta(folder: Path) -> dict[str, Any]:
    from sfxstudio.ml.bundle import read_bundle_json

    return read_bundle_json(folder)


def model_version(meta: dict[str, Any]) -> int:
    """A bundle's model version: 1 unless teaching made it from a parent."""
    v = meta.get("model_version") or (meta.get("training") or {}).get("model_version") or 1
    return int(v)


def _embedding_tensor(model: Any, meta: dict[str, Any], where: Path) -> tuple[Any, str]:
    name = meta.get("embedding_layer", "embedding")
    try:
        layer = model.get_layer(name)
    except ValueError:
        raise BadInputError(where, f"the model has no layer named {name!r} (embedding_layer)") from None
    return layer.output, name


def _probs_head(model: Any, where: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """The (kernel, bias) of a bundle's final softmax Dense layer "probs"."""
    try:
        layer = model.get_layer(PROBS_LAYER)
    except ValueError:
        raise BadInputError(where, f"the model has no {PROBS_LAYER!r} layer to start from") from None
    weights = layer.get_weights()
    if (
        len(weights) != 2
        or getattr(layer, "activation", None) is None
        or getattr(layer.activation, "__name__", "") != "softmax"
    ):
        raise BadInputError(where, f"the {PROBS_LAYER!r} layer is not a softmax Dense layer")
    return np.asarray(weights[0], np.float32), np.asarray(weights[1], np.float32)


def _initial_head(
    base_model: Any, meta: dict[str, Any], names: list[str], dim: int, where: Path
) -> tuple[np.ndarray, np.ndarray]:
    """A keras base's softmax head for the first columns, neutral columns for added classes."""
    base_names = list(meta.get("classes", []))
    kernel = np.zeros((dim, len(names)), np.float32)
    bias = np.zeros(len(names), np.float32)
    k0, b0 = _probs_head(base_model, where)
    if k0.shape != (dim, len(base_names)):
        raise BadInputError(where, f"the {PROBS_LAYER!r} layer's weights do not match the embedding")
    kernel[:, : len(base_names)] = k0
    bias[: len(base_names)] = b0
    # New classes start a little below the median logit: possible, not yet proposed.
    bias[len(base_names) :] = float(np.median(b0)) - 1.0
    return kernel, bias


def _mapped_model(base_model: Any, emb_tensor: Any, head: MappedHead, fit: HeadFit, n_classes: int) -> Any:
    """inputs -> embedding -> softmax([ImageNet logits + class offsets, taught logits]) summed
    per class by a fixed 0/1 Dense: the class probabilities of head_probs, in Keras layers."""
    import keras

    assert fit.offset is not None
    n_base = head.base_kernel.shape[1]
    base = keras.layers.Dense(n_base, name=BASE_LOGITS_LAYER, dtype="float32")
    taught = keras.layers.Dense(n_classes, name=TAUGHT_LOGITS_LAYER, dtype="float32")
    both = keras.layers.Concatenate(name="all_logits")([base(emb_tensor), taught(emb_tensor)])
    spread = keras.layers.Activation("softmax", name="all_probs", dtype="float32")(both)
    total = keras.layers.Dense(n_classes, use_bias=False, name=PROBS_LAYER, dtype="float32")
    model = keras.Model(base_model.inputs, total(spread), name=f"{base_model.name}_taught")
    # Each base logit belongs to one class: its class's offset folds into its bias.
    base.set_weights([head.base_kernel, head.base_bias + head.groups @ fit.offset])
    taught.set_weights([fit.kernel, fit.bias])
    total.set_weights([np.concatenate([head.groups, np.eye(n_classes, dtype=np.float32)])])
    for layer in (base, taught, total):
        layer.trainable = False
    return model


def _warn_one_sided(data: TeachingData, where: Path) -> None:
    """Every frame learnt from has the same class: nothing shows what that class is not."""
    present = np.unique(data.labels)
    if len(present) == 1:
        name = data.class_names[int(present[0])]
        from sfxstudio.core.errors import warn

        warn(where, f"every frame learnt from is {name!r}: nothing shows the model what is not "
                    f"{name!r}, so it may propose it on unrelated footage; correct a stretch "
                    "without it too, or add a project where it is absent")


def teach(
    projects: Sequence[Project | str | Path],
    base_bundle_dir: str | Path | Any,
    out_dir: str | Path,
    epochs: int = 30,
    progress: ProgressFn | None = None,
    *,
    pseudo_weight: float = DEFAULT_PSEUDO_WEIGHT,
    learning_rate: float = 0.01,
    anchor: float = DEFAULT_ANCHOR,
    name: str | None = None,
    overwrite: bool = False,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Train a new head on the projects' corrections and write base backbone + new head to out_dir.

    base_bundle_dir: the base bundle's folder, or the loaded bundle (a ModelBundle with .model,
    .meta and .path): the GUI has it in memory, and loading a ResNet152V2 again costs seconds.
    Returns out_dir. bundle.json records the parent (name, path, model version), the projects,
    frame counts per class, accuracy on the corrected frames before and after, and
    training.model_version = the parent's + 1.
    """
    import keras

    from sfxstudio.ml.bundle import MODEL_FILE, load_keras_model, precompile, save_bundle

    started = time.perf_counter()
    loaded = None if isinstance(base_bundle_dir, (str, Path)) else base_bundle_dir
    if loaded is not None and getattr(loaded, "path", None) is None:
        raise BadInputError(None, "the base model has not been saved; save it before teaching it")
    base_dir = Path(loaded.path if loaded is not None else base_bundle_dir)
    meta = dict(loaded.meta) if loaded is not None else _read_meta(base_dir)
    base_names = list(meta.get("classes", []))
    data = collect_frames(projects, pseudo_weight, class_names=base_names or None)
    if data.class_names[: len(base_names)] != base_names:
        raise BadInputError(base_dir, "the projects were analysed with a model with other classes")
    if progress is not None:
        progress({"phase": "load", "message": f"Loading {base_dir.name}"})
    base_model = loaded.model if loaded is not None else load_keras_model(base_dir / MODEL_FILE)
    emb_tensor, emb_name = _embedding_tensor(base_model, meta, base_dir)
    dim = int(emb_tensor.shape[-1])
    if data.embeddings.shape[1] != dim:
        raise BadInputError(
            base_dir,
            f"the projects' embeddings have {data.embeddings.shape[1]} values per frame, "
            f"this model's {dim}: they were analysed with another model",
        )
    n_classes = len(data.class_names)
    mapped = meta.get("kind", "keras") == "imagenet_mapped" or is_mapped_head(base_model)
    corrected_x = data.embeddings[data.corrected]
    corrected_y = data.labels[data.corrected]
    if mapped:
        mhead = mapped_head(base_model, meta, data.class_names, base_dir)
        _start_new_logits(mhead, data.embeddings)
        kernel0, bias0 = mhead.kernel, mhead.bias
        base_logits: np.ndarray | None = mhead.base_logits(data.embeddings)
        before_probs = mhead.probs(corrected_x)
    else:
        kernel0, bias0 = _initial_head(base_model, meta, data.class_names, dim, base_dir)
        base_logits = None
        before_probs = softmax(corrected_x @ kernel0 + bias0)
    before = float((before_probs.argmax(1) == corrected_y).mean())
    _warn_one_sided(data, base_dir)
    fit = fit_head(
        data.embeddings,
        data.labels,
        kernel0,
        bias0,
        data.weights,
        epochs=epochs,
        learning_rate=learning_rate,
        anchor=anchor,
        progress=progress,
        cancel=cancel,
        base_logits=base_logits,
        frame_key=data.frame_key(),
        offset_classes=np.bincount(corrected_y, minlength=n_classes) > 0,
    )
    after_probs = head_probs(
        corrected_x, fit.kernel, fit.bias,
        None if base_logits is None else base_logits[data.corrected], fit.offset,
    )
    after = float((after_probs.argmax(1) == corrected_y).mean())

    # Base model up to the embedding + the new head. Reusing the base's layer objects keeps the
    # backbone's weights exactly; the old head (and dropout, an identity at inference) drop out.
    if mapped:
        model = _mapped_model(base_model, emb_tensor, mhead, fit, n_classes)
    else:
        head = keras.layers.Dense(n_classes, activation="softmax", name=PROBS_LAYER, dtype="float32")
        model = keras.Model(base_model.inputs, head(emb_tensor), name=f"{base_model.name}_taught")
        head.set_weights([fit.kernel, fit.bias])

    version = model_version(meta) + 1
    # Both kinds of head keep what the base recognised (an ImageNet-mapped base keeps its mapping).
    base_supported = meta.get("supported_classes") or base_names
    taught = set(data.counts())
    supported = [c for c in data.class_names if c in base_supported or c in taught or c == OTHERWISE]
    training = {
        "method": "teach (new head on cached embeddings of the editor's corrections)",
        "model_version": version,
        "taught_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "epochs": epochs,
        "learning_rate": learning_rate,
        "anchor": anchor,
        "pseudo_weight": pseudo_weight,
        "head": "base ImageNet logits and mapping kept; per-class offsets and taught logits added"
        if mapped else "softmax Dense on the embedding",
        "frames": len(data.labels),
        "corrected_frames": sum(int(src["corrected_frames"]) for src in data.sources),
        "frames_per_class": data.counts(),
        "corrected_frames_per_class": data.counts(corrected_only=True),
        "accuracy_on_corrections_before": round(before, 4),
        "accuracy_on_corrections_after": round(after, 4),
        "final_loss": round(fit.loss[-1], 6) if fit.loss else None,
        "head_seconds": round(fit.seconds, 3),
        "projects": data.sources,
    }
    parent = {
        "name": meta.get("name", base_dir.name),
        "path": str(base_dir.resolve()),
        "model_version": model_version(meta),
        "kind": meta.get("kind", "keras"),
    }
    w, h = meta["input_size"]
    out = save_bundle(
        model,
        out_dir,
        data.class_names,
        backbone=str(meta.get("backbone", "")),
        preprocessing=str(meta.get("preprocessing", "raw")),
        input_size=(int(w), int(h)),
        weights_source=f"{meta.get('weights_source', '')}; head taught from corrections",
        embedding_layer=emb_name,
        description=f"{meta.get('name', base_dir.name)} v{version}: taught from "
        f"{training['corrected_frames']} corrected frames in {len(data.sources)} project(s)",
        training=training | {"total_seconds": round(time.perf_counter() - started, 3)},
        parent=parent,
        supported_classes=supported,
        name=name,
        overwrite=overwrite,
    )
    precompile(out)  # the first analysis with the taught model converts nothing
    if progress is not None:
        progress({"phase": "done", "path": str(out), "accuracy": after})
    return out


def reclassify(cache: AnalysisCache, new_bundle: str | Path | Any) -> np.ndarray:
    """New probabilities (N, C) for a cache from its embeddings only, through the bundle's head.

    new_bundle: a folder or a loaded ModelBundle whose model ends in the "probs" softmax Dense
    layer on the embedding (every SFX Studio keras bundle, taught or trained), or a model taught
    from an ImageNet-mapped base (its head reads the embedding only). The cache must come from
    a model with the same backbone (teaching keeps it), checked by embedding size.
    """
    if isinstance(new_bundle, (str, Path)):
        from sfxstudio.ml.bundle import MODEL_FILE, load_keras_model

        folder = Path(new_bundle)
        model = load_keras_model(folder / MODEL_FILE)
        where: Path | str = folder
        meta: dict[str, Any] | None = None
    else:
        model = new_bundle.model
        where = getattr(new_bundle, "path", None) or "model"
        meta = getattr(new_bundle, "meta", None)
    if is_mapped_head(model):
        wb, _ = _dense_weights(model, BASE_LOGITS_LAYER, where)
        dim = wb.shape[0]
        names = list((meta or _read_meta(Path(where)))["classes"])
        head: Callable[[np.ndarray], np.ndarray] = mapped_head(model, {"classes": names}, names, where).probs
    else:
        kernel, bias = _probs_head(model, where)
        dim = kernel.shape[0]
        head = lambda x: softmax(x @ kernel + bias)
    emb = np.asarray(cache.embeddings, np.float32)
    if emb.ndim != 2 or emb.shape[1] != dim:
        raise BadInputError(
            where,
            f"the analysis has embeddings of size {emb.shape[-1] if emb.ndim == 2 else 0}, the "
            f"model's head reads {dim}: analyse the video again with this model",
        )
    return np.asarray(head(emb), np.float32)


def reclassified_cache(cache: AnalysisCache, new_bundle: Any) -> AnalysisCache:
    """The cache with the new bundle's probabilities and class names (embeddings unchanged)."""
    from sfxstudio.ml.bundle import ModelBundle

    bundle = ModelBundle.load(new_bundle) if isinstance(new_bundle, (str, Path)) else new_bundle
    probs = reclassify(cache, bundle)
    return AnalysisCache(
        times=cache.times,
        probs=probs,
        embeddings=cache.embeddings,
        class_names=list(bundle.class_names),
        frame_duration=cache.frame_duration,
        duration=cache.duration,
        model=str(bundle.path or ""),
    )
