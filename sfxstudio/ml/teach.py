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
inside manual segments of two different classes is ambiguous for a one-label head and skipped.

The head (one Dense softmax layer, embedding -> classes) starts from the base model's "probs"
weights, so it starts from the base model's behaviour, and an L2 pull towards those weights
keeps classes without corrections where they were. It is trained in numpy (Adam, class-balanced
weights): no TensorFlow start-up for the training itself, deterministic, and 10,000 frames take
well under a second. The new bundle is the base model up to its embedding layer plus the new
probs layer, saved like any bundle (safe_mode-loadable, no Lambda layers), with its provenance
in bundle.json. `reclassify` applies the new head to a cache's embeddings: new probabilities
without decoding the video again.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError
from sfxstudio.core.project import AnalysisCache, Project

ProgressFn = Callable[[dict[str, Any]], None]
DEFAULT_PSEUDO_WEIGHT = 0.3  # a left-alone frame counts 0.3 of a corrected one
# L2 pull towards the base head. 0.1 rather than 1e-3: on an uncorrected second demo video, event
# F1 after teaching from three corrections was 0.70 with 1e-3 and 0.84 with 0.1 (0.875 before).
DEFAULT_ANCHOR = 0.1
PROBS_LAYER = "probs"


# --- frames and labels from the editor's corrections ---------------------------------------------


@dataclass
class TeachingData:
    embeddings: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, indices into class_names
    weights: np.ndarray  # (N,) float32: 1 for corrections, pseudo_weight for pseudo-labels
    class_names: list[str]
    corrected: np.ndarray  # (N,) bool: the label comes from the editor
    sources: list[dict[str, Any]] = field(default_factory=list)

    def counts(self, corrected_only: bool = False) -> dict[str, int]:
        labels = self.labels[self.corrected] if corrected_only else self.labels
        n = np.bincount(labels, minlength=len(self.class_names))
        return {c: int(k) for c, k in zip(self.class_names, n, strict=True) if k}


def _as_project(p: Project | str | Path) -> tuple[Project, str | None]:
    if isinstance(p, Project):
        return p, None
    from sfxstudio.core.project_io import load_project

    return load_project(p), str(Path(p).resolve())


def _frame_labels(
    cache: AnalysisCache, project: Project, names: list[str], pseudo: bool
) -> tuple[np.ndarray, np.ndarray]:
    """-> (label per frame, -1 = unlabelled; True where the label comes from the editor)."""
    n = cache.frames
    centre = np.asarray(cache.times, np.float64) + 0.5 * cache.frame_duration
    manual = np.full(n, -1, np.int64)
    ambiguous = np.zeros(n, bool)
    muted = np.zeros(n, bool)
    auto = np.full(n, -1, np.int64)
    for seg in project.segments:
        inside = (centre >= seg.start) & (centre < seg.end)
        if seg.origin == "mute":
            muted |= inside
        elif seg.origin == "manual":
            c = names.index(seg.class_name)
            ambiguous |= inside & (manual >= 0) & (manual != c)
            manual[inside] = c
        else:
            auto[inside] = names.index(seg.class_name)
    otherwise = names.index(OTHERWISE)
    labels = np.full(n, -1, np.int64)
    # A manual segment states what is there; a mute only removes a proposal. Manual wins.
    labels[muted] = otherwise
    labels[manual >= 0] = manual[manual >= 0]
    labels[ambiguous] = -1
    corrected = labels >= 0
    if pseudo:
        left_alone = ~corrected & ~ambiguous
        labels[left_alone] = np.where(auto[left_alone] >= 0, auto[left_alone], otherwise)
    return labels, corrected


def collect_frames(
    projects: Sequence[Project | str | Path],
    pseudo_weight: float = DEFAULT_PSEUDO_WEIGHT,
    class_names: Sequence[str] | None = None,
) -> TeachingData:
    """The labelled cached frames of all projects (see the module doc for the rules).

    All projects must have been analysed by the same model (same classes and embedding size).
    Manual segments of a class the model does not have add that class at the end.
    """
    if not 0.0 <= pseudo_weight <= 1.0:
        raise ValueError("pseudo_weight must be between 0 and 1")
    names: list[str] | None = list(class_names) if class_names is not None else None
    loaded = [_as_project(p) for p in projects]
    if not loaded:
        raise BadInputError(None, "no projects to learn from")
    dim: int | None = None
    for project, file in loaded:
        where = file or project.video
        cache = project.analysis
        if cache is None or cache.frames == 0:
            raise BadInputError(where, "the project has no analysis; analyse the video first")
        if cache.embeddings.ndim != 2 or cache.embeddings.shape[1] == 0:
            raise BadInputError(where, "the analysis has no embeddings; analyse the video again")
        if names is None:
            names = list(cache.class_names)
        elif list(cache.class_names) != names[: len(cache.class_names)]:
            raise BadInputError(where, "was analysed with a model with other classes than the other projects")
        if dim is None:
            dim = int(cache.embeddings.shape[1])
        elif cache.embeddings.shape[1] != dim:
            raise BadInputError(where, "was analysed with another model (embedding size differs)")
    assert names is not None
    if OTHERWISE not in names:
        raise BadInputError(None, f"the model has no {OTHERWISE!r} class")
    for project, _ in loaded:
        for seg in project.segments:
            if seg.origin == "manual" and seg.class_name not in names:
                names.append(seg.class_name)

    embs, labels, weights, corrected, sources = [], [], [], [], []
    for project, file in loaded:
        cache = project.analysis
        assert cache is not None
        lab, corr = _frame_labels(cache, project, names, pseudo_weight > 0)
        keep = lab >= 0
        embs.append(np.asarray(cache.embeddings[keep], np.float32))
        labels.append(lab[keep])
        weights.append(np.where(corr[keep], 1.0, pseudo_weight).astype(np.float32))
        corrected.append(corr[keep])
        counts = np.bincount(lab[corr], minlength=len(names))
        sources.append(
            {
                "project": file,
                "video": project.video,
                "frames": int(cache.frames),
                "corrected_frames": int(corr.sum()),
                "pseudo_labelled_frames": int((keep & ~corr).sum()),
                "corrected_per_class": {c: int(k) for c, k in zip(names, counts, strict=True) if k},
            }
        )
    data = TeachingData(
        np.concatenate(embs),
        np.concatenate(labels),
        np.concatenate(weights),
        names,
        np.concatenate(corrected),
        sources,
    )
    if not data.corrected.any():
        raise BadInputError(
            None, "the projects have no corrections (manual segments or deleted effects) to learn from"
        )
    return data


def frames_from_projects(
    projects: Sequence[Project | str | Path], pseudo_weight: float = DEFAULT_PSEUDO_WEIGHT
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """-> (embeddings (N, D), labels (N,), class_names) of the frames the editor labelled."""
    d = collect_frames(projects, pseudo_weight)
    return d.embeddings, d.labels, d.class_names


# --- the head ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run numpy's matrix products on one thread for the duration.

    The head's products are small (1024 x D x C); handing them to BLAS worker threads costs
    more than it saves, and on a busy machine a descheduled worker stalls every call: measured
    4-10x slower with 2 threads than with 1 on a loaded 2-core machine. threadpoolctl does this
    portably when installed; otherwise the OpenBLAS that numpy bundles is asked directly. Any
    failure leaves the threads as they are (slower, never wrong).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    setters = []
    with contextlib.suppress(Exception):
        setters = _openblas_thread_setters()
    previous = []
    for get, set_ in setters:
        with contextlib.suppress(Exception):
            previous.append((set_, int(get())))
            set_(1)
    try:
        yield
    finally:
        for set_, n in previous:
            with contextlib.suppress(Exception):
                set_(n)


def _openblas_thread_setters() -> list[tuple[Any, Any]]:
    """(get_num_threads, set_num_threads) of the OpenBLAS libraries loaded in this process."""
    import ctypes

    paths = set()
    with open("/proc/self/maps", encoding="utf-8") as fh:  # Linux; elsewhere this raises
        for line in fh:
            path = line.split()[-1] if "/" in line else ""
            name = path.rsplit("/", 1)[-1].lower()
            if "openblas" in name and (name.endswith(".so") or ".so." in name):
                paths.add(path)
    out = []
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "_64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    set_.argtypes = [ctypes.c_int]
                    out.append((get, set_))
                    break
            else:
                continue
            break
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class HeadFit:
    kernel: np.ndarray  # (D, C)
    bias: np.ndarray  # (C,)
    loss: list[float]
    seconds: float


def fit_head(
    x: np.ndarray,
    y: np.ndarray,
    kernel0: np.ndarray,
    bias0: np.ndarray,
    sample_weight: np.ndarray | None = None,
    epochs: int = 30,
    batch_size: int = 1024,
    learning_rate: float = 0.01,
    anchor: float = DEFAULT_ANCHOR,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
) -> HeadFit:
    """Softmax regression from (kernel0, bias0): weighted cross-entropy + anchor * ||W - W0||^2.

    Classes are balanced (each class present carries the same total weight), so a long muted
    stretch of `otherwise` does not drown a short manual segment. Adam, mini-batches.
    """
    from sfxstudio.core.errors import Cancelled

    started = time.perf_counter()
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.int64)
    n = x.shape[0]
    c = kernel0.shape[1]
    w = np.ones(n, np.float32) if sample_weight is None else np.asarray(sample_weight, np.float32)
    per_class = np.bincount(y, weights=w, minlength=c)
    present = per_class > 0
    balance = np.zeros(c, np.float64)
    balance[present] = w.sum() / (present.sum() * per_class[present])
    w = (w * balance[y]).astype(np.float32)
    w /= w.mean()
    kernel0 = np.asarray(kernel0, np.float32)
    bias0 = np.asarray(bias0, np.float32)
    kernel, bias = kernel0.copy(), bias0.copy()
    m = [np.zeros_like(kernel), np.zeros_like(bias)]
    v = [np.zeros_like(kernel), np.zeros_like(bias)]
    rng = np.random.default_rng(seed)
    onehot = np.eye(c, dtype=np.float32)
    losses: list[float] = []
    step = 0
    with _single_threaded_blas():
        for epoch in range(epochs):
            step = _epoch(x, y, w, kernel, bias, kernel0, m, v, step, rng, onehot, batch_size,
                          learning_rate, anchor, losses)
            if progress is not None:
                progress({"phase": "teach", "epoch": epoch + 1, "epochs": epochs, "loss": losses[-1]})
            if cancel is not None and cancel():
                raise Cancelled("teaching cancelled")
    return HeadFit(kernel, bias, losses, time.perf_counter() - started)


def _epoch(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, kernel: np.ndarray, bias: np.ndarray,
    kernel0: np.ndarray, m: list[np.ndarray], v: list[np.ndarray], step: int,
    rng: np.random.Generator, onehot: np.ndarray, batch_size: int, learning_rate: float,
    anchor: float, losses: list[float],
) -> int:
    """One pass of Adam over shuffled mini-batches; updates kernel, bias, m and v in place."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    n = len(y)
    order = rng.permutation(n)
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        xb, yb, wb = x[idx], y[idx], w[idx]
        p = softmax(xb @ kernel + bias)
        total += float(-(wb * np.log(p[np.arange(len(idx)), yb] + 1e-12)).sum())
        g = (p - onehot[yb]) * (wb / len(idx))[:, None]
        grads = (xb.T @ g + 2.0 * anchor * (kernel - kernel0), g.sum(axis=0))
        step += 1
        for i, (param, grad) in enumerate(zip((kernel, bias), grads, strict=True)):
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            mhat = m[i] / (1 - b1**step)
            vhat = v[i] / (1 - b2**step)
            param -= learning_rate * mhat / (np.sqrt(vhat) + eps)
    losses.append(total / n)
    return step


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
    """The base model's head for the first columns, neutral columns for added classes.

    An imagenet_mapped base has no head over our classes (its top is ImageNet's 1000-way
    softmax): the head starts at zero with `otherwise` favoured, i.e. "no effect" until taught.
    """
    base_names = list(meta.get("classes", []))
    kernel = np.zeros((dim, len(names)), np.float32)
    bias = np.zeros(len(names), np.float32)
    if meta.get("kind", "keras") == "keras":
        k0, b0 = _probs_head(base_model, where)
        if k0.shape != (dim, len(base_names)):
            raise BadInputError(where, f"the {PROBS_LAYER!r} layer's weights do not match the embedding")
        kernel[:, : len(base_names)] = k0
        bias[: len(base_names)] = b0
        # New classes start a little below the median logit: possible, not yet proposed.
        bias[len(base_names) :] = float(np.median(b0)) - 1.0
    else:
        bias[names.index(OTHERWISE)] = 3.0
    return kernel, bias


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

    from sfxstudio.ml.bundle import MODEL_FILE, load_keras_model, save_bundle

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
    kernel0, bias0 = _initial_head(base_model, meta, data.class_names, dim, base_dir)
    corrected_x = data.embeddings[data.corrected]
    corrected_y = data.labels[data.corrected]
    before = float((softmax(corrected_x @ kernel0 + bias0).argmax(1) == corrected_y).mean())
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
    )
    after = float((softmax(corrected_x @ fit.kernel + fit.bias).argmax(1) == corrected_y).mean())

    # Base model up to the embedding + the new head. Reusing the base's layer objects keeps the
    # backbone's weights exactly; the old head (and dropout, an identity at inference) drop out.
    head = keras.layers.Dense(len(data.class_names), activation="softmax", name=PROBS_LAYER, dtype="float32")
    model = keras.Model(base_model.inputs, head(emb_tensor), name=f"{base_model.name}_taught")
    head.set_weights([fit.kernel, fit.bias])

    version = model_version(meta) + 1
    # An imagenet_mapped base recognised its classes through the ImageNet top, which the new head
    # replaces: only what was taught is recognised now.
    keras_base = meta.get("kind", "keras") == "keras"
    base_supported = (meta.get("supported_classes") or base_names) if keras_base else []
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
        "frames": len(data.labels),
        "corrected_frames": int(data.corrected.sum()),
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
    if progress is not None:
        progress({"phase": "done", "path": str(out), "accuracy": after})
    return out


def reclassify(cache: AnalysisCache, new_bundle: str | Path | Any) -> np.ndarray:
    """New probabilities (N, C) for a cache from its embeddings only, through the bundle's head.

    new_bundle: a folder or a loaded ModelBundle whose model ends in the "probs" softmax Dense
    layer on the embedding (every SFX Studio keras bundle, taught or trained). The cache must
    come from a model with the same backbone (teaching keeps it), checked by embedding size.
    """
    if isinstance(new_bundle, (str, Path)):
        from sfxstudio.ml.bundle import MODEL_FILE, load_keras_model

        folder = Path(new_bundle)
        model = load_keras_model(folder / MODEL_FILE)
        where: Path | str = folder
    else:
        model = new_bundle.model
        where = getattr(new_bundle, "path", None) or "model"
    kernel, bias = _probs_head(model, where)
    emb = np.asarray(cache.embeddings, np.float32)
    if emb.ndim != 2 or emb.shape[1] != kernel.shape[0]:
        raise BadInputError(
            where,
            f"the analysis has embeddings of size {emb.shape[-1] if emb.ndim == 2 else 0}, the "
            f"model's head reads {kernel.shape[0]}: analyse the video again with this model",
        )
    return softmax(emb @ kernel + bias).astype(np.float32)


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
