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
    # Per project, the cache frame of each row (a frame in two classes' segments gives two rows).
    frame_index: list[np.ndarray] = field(default_factory=list)

    def frame_key(self) -> np.ndarray | None:
        """(N,) one number per (project, frame): rows that share it are one frame."""
        if not self.frame_index:
            return None
        start = np.cumsum([0] + [int(f.max()) + 1 if len(f) else 0 for f in self.frame_index[:-1]])
        return np.concatenate([f + s for f, s in zip(self.frame_index, start, strict=True)])

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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> (frame index, label, share, corrected) per labelled row.

    A frame inside manual segments of k classes (classes overlap: an ambulance among cars)
    gives k rows, one per class, each with share 1/k: a soft target that says "these classes",
    instead of dropping the frame. Other labelled frames give one row with share 1.
    """
    n = cache.frames
    centre = np.asarray(cache.times, np.float64) + 0.5 * cache.frame_duration
    manual = np.zeros((n, len(names)), bool)
    muted = np.zeros(n, bool)
    auto = np.full(n, -1, np.int64)
    for seg in project.segments:
        inside = (centre >= seg.start) & (centre < seg.end)
        if seg.origin == "mute":
            muted |= inside
        elif seg.origin == "manual":
            manual[inside, names.index(seg.class_name)] = True
        else:
            auto[inside] = names.index(seg.class_name)
    otherwise = names.index(OTHERWISE)
    claimed = manual.sum(axis=1)
    # A manual segment states what is there; a mute only removes a proposal. Manual wins.
    frame_m, label_m = np.nonzero(manual)
    share_m = 1.0 / claimed[frame_m]
    only_muted = np.flatnonzero(muted & (claimed == 0))
    frames = [frame_m, only_muted]
    labels = [label_m, np.full(len(only_muted), otherwise, np.int64)]
    shares = [share_m, np.ones(len(only_muted))]
    corrected = [np.ones(len(frame_m), bool), np.ones(len(only_muted), bool)]
    if pseudo:
        left_alone = np.flatnonzero(~muted & (claimed == 0))
        frames.append(left_alone)
        labels.append(np.where(auto[left_alone] >= 0, auto[left_alone], otherwise))
        shares.append(np.ones(len(left_alone)))
        corrected.append(np.zeros(len(left_alone), bool))
    order = np.argsort(np.concatenate(frames), kind="stable")
    return (
        np.concatenate(frames)[order].astype(np.int64),
        np.concatenate(labels)[order].astype(np.int64),
        np.concatenate(shares)[order].astype(np.float32),
        np.concatenate(corrected)[order],
    )


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

    embs, labels, weights, corrected, sources, frame_index = [], [], [], [], [], []
    for project, file in loaded:
        cache = project.analysis
        assert cache is not None
        idx, lab, share, corr = _frame_labels(cache, project, names, pseudo_weight > 0)
        embs.append(np.asarray(cache.embeddings[idx], np.float32))
        frame_index.append(idx)
        labels.append(lab)
        weights.append((np.where(corr, 1.0, pseudo_weight) * share).astype(np.float32))
        corrected.append(corr)
        counts = np.bincount(lab[corr], minlength=len(names))
        sources.append(
            {
                "project": file,
                "video": project.video,
                "frames": int(cache.frames),
                "corrected_frames": len(np.unique(idx[corr])),
                "pseudo_labelled_frames": int((~corr).sum()),
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
        frame_index,
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


def head_probs(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray,
    base_logits: np.ndarray | None = None,
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """The head's class probabilities for embeddings x (N, D).

    Without base_logits: softmax(x @ kernel + bias). With base_logits (N, C), a fixed base
    model's log class mass per frame (an ImageNet-mapped base: L_c = log of the summed
    exp-logits of class c's ImageNet classes, -inf where it has none), the head keeps the base
    and adds to it: P = softmax(v) with v_c = logaddexp(L_c + offset_c, u_c), u = x @ kernel +
    bias. Each taught logit u_c adds probability mass to class c on top of the base's, and
    offset_c scales the base's own mass for c. It is a softmax over [the 1000 ImageNet logits
    (+ offset of their class), u] summed per class: how the saved model computes it.
    """
    u = np.asarray(x, np.float32) @ kernel + bias
    if base_logits is None:
        return softmax(u)
    lb = base_logits + (0.0 if offset is None else offset)
    with np.errstate(divide="ignore"):
        return softmax(np.logaddexp(lb, u)).astype(np.float32)


@dataclass
class HeadFit:
    kernel: np.ndarray  # (D, C)
    bias: np.ndarray  # (C,)
    loss: list[float]
    seconds: float
    offset: np.ndarray | None = None  # (C,): with base_logits, the learnt scale of the base's mass


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
    base_logits: np.ndarray | None = None,
    frame_key: np.ndarray | None = None,
    offset_classes: np.ndarray | None = None,
) -> HeadFit:
    """Softmax regression from (kernel0, bias0): weighted cross-entropy + anchor * ||W - W0||^2.

    Classes are balanced (each class present carries the same total weight), so a long muted
    stretch of `otherwise` does not drown a short manual segment. Adam, mini-batches.

    base_logits (N, C): a fixed base's log class mass per frame (see head_probs). The head then
    adds to the base instead of replacing it, so what the base recognised stays recognised
    unless a correction says otherwise; the per-class offsets start at 0 and are pulled back
    to 0 like the kernel. An offset rescales its class on all footage, so only the classes in
    offset_classes (bool (C,), default all) move theirs: teach() passes the classes the editor
    corrected, so a clip of dogs does not shift `otherwise` (and every other class) everywhere.

    frame_key (N,): rows with the same key are one frame inside several classes' manual effects.
    Its label is the set ("cars or ambulance"): the loss is -log of the set's summed
    probability, done as soft targets re-split every pass in proportion to the current
    probabilities (an EM step), so a frame's existing favourite is not pushed down to 1/k.
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
    split = _SetLabels(frame_key, w) if frame_key is not None else None
    base = None if base_logits is None else np.asarray(base_logits, np.float32)
    if base is not None and base.shape != (n, c):
        raise ValueError(f"base_logits must be ({n}, {c}), not {base.shape}")
    params = [np.array(kernel0, np.float32), np.array(bias0, np.float32)]
    anchors: list[np.ndarray | None] = [np.asarray(kernel0, np.float32), None]
    if base is not None:
        params.append(np.zeros(c, np.float32))
        anchors.append(np.zeros(c, np.float32))
    adam = _Adam(params, learning_rate)
    movable = None
    if base is not None and offset_classes is not None:
        movable = np.asarray(offset_classes, bool).astype(np.float32)
    rng = np.random.default_rng(seed)
    onehot = np.eye(c, dtype=np.float32)
    losses: list[float] = []
    if base is not None:
        # The mapped head's logits start far from where a taught class needs them (a new class
        # at NEW_MASS_SHARE, log 1e-4 = -9): a few hundred Adam steps, not one per epoch.
        batch_size = max(1, min(batch_size, -(-n // MAPPED_STEPS_PER_EPOCH)))
    with _single_threaded_blas():
        for epoch in range(epochs):
            if split is not None:
                offset = params[2] if base is not None else None
                split.update(w, head_probs(x[split.rows], params[0], params[1],
                                           None if base is None else base[split.rows], offset), y)
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                loss, grads = _loss_and_grads(x[idx], y[idx], w[idx], params, onehot,
                                              None if base is None else base[idx])
                total += loss
                for g, p, a in zip(grads, params, anchors, strict=True):
                    if a is not None:
                        g += 2.0 * anchor * (p - a)
                if movable is not None:
                    grads[2] *= movable
                adam.step(grads)
            losses.append(total / n)
            if progress is not None:
                progress({"phase": "teach", "epoch": epoch + 1, "epochs": epochs, "loss": losses[-1]})
            if cancel is not None and cancel():
                raise Cancelled("teaching cancelled")
    offset = params[2] if base is not None else None
    return HeadFit(params[0], params[1], losses, time.perf_counter() - started, offset)


def _loss_and_grads(
    xb: np.ndarray, yb: np.ndarray, wb: np.ndarray, params: list[np.ndarray], onehot: np.ndarray,
    base: np.ndarray | None,
) -> tuple[float, list[np.ndarray]]:
    """Summed weighted cross-entropy of a batch and the gradients of its mean, per parameter."""
    kernel, bias = params[0], params[1]
    rows = np.arange(len(yb))
    u = xb @ kernel + bias
    if base is None:
        p = softmax(u)
    else:
        with np.errstate(divide="ignore"):
            lb = base + params[2]
            v = np.logaddexp(lb, u)
        p = softmax(v)
    loss = float(-(wb * np.log(p[rows, yb] + 1e-12)).sum())
    g = (p - onehot[yb]) * (wb / len(yb))[:, None]  # d loss / d (pre-softmax logits)
    if base is None:
        return loss, [xb.T @ g, g.sum(axis=0)]
    # v = logaddexp(lb, u): dv/du = exp(u - v), dv/d offset = exp(lb - v) (the two add to 1).
    gu = g * np.exp(u - v)
    go = g * np.exp(lb - v)
    return loss, [xb.T @ gu, gu.sum(axis=0), go.sum(axis=0)]


class _SetLabels:
    """Rows that are one frame with several labels: their weights re-split each pass."""

    def __init__(self, frame_key: np.ndarray, w: np.ndarray) -> None:
        _, inverse, counts = np.unique(np.asarray(frame_key), return_inverse=True, return_counts=True)
        self.rows = np.flatnonzero(counts[inverse] > 1)
        _, self.group = np.unique(inverse[self.rows], return_inverse=True)
        # Each row came with 1/k of its frame's weight (times its class balance): undo the 1/k.
        self.unit = w[self.rows] * np.bincount(self.group)[self.group]

    def update(self, w: np.ndarray, probs: np.ndarray, y: np.ndarray) -> None:
        if not len(self.rows):
            return
        p = probs[np.arange(len(self.rows)), y[self.rows]] + 1e-12
        share = p / np.bincount(self.group, weights=p)[self.group]
        w[self.rows] = (share * self.unit).astype(np.float32)


class _Adam:
    """Adam (Kingma & Ba) over a list of numpy arrays, updated in place."""

    def __init__(self, params: list[np.ndarray], learning_rate: float) -> None:
        self.params = params
        self.lr = learning_rate
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray]) -> None:
        b1, b2, eps = 0.9, 0.999, 1e-8
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= self.lr * (m / (1 - b1**self.t)) / (np.sqrt(v / (1 - b2**self.t)) + eps)


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


# --- a head that keeps an ImageNet-mapped base ------------------------------------------------------
# An imagenet_mapped base recognises its classes through ImageNet's 1000-way classifier. A head
# trained from scratch on one video would forget all of that (and, taught from a clip that is all
# one class, learns "everything is that class": nothing in the clip says what it is not). So the
# taught model keeps the base's ImageNet logits and their mapping, and learns two small things:
# a per-class offset (trust the base's mass for a class more or less) and one extra logit per
# class on the embedding, whose mass is added to the class. Untaught, it is the base exactly.
BASE_LOGITS_LAYER = "base_logits"  # Dense(1000) on the embedding: the ImageNet logits (+ offsets)
TAUGHT_LOGITS_LAYER = "taught_logits"  # Dense(C) on the embedding: the taught extra logits
# A new taught logit starts with this share of a typical frame's base mass: possible, not proposed.
NEW_MASS_SHARE = 1e-4
MAPPED_STEPS_PER_EPOCH = 10  # at least this many mini-batches per pass for the mapped head


@dataclass
class MappedHead:
    """base logits z = x @ base_kernel + base_bias (D -> G); groups (G, C) 0/1 says which class
    each of them counts for; kernel/bias (D -> C) the taught logits to start from."""

    base_kernel: np.ndarray
    base_bias: np.ndarray
    groups: np.ndarray
    kernel: np.ndarray
    bias: np.ndarray

    def base_logits(self, x: np.ndarray) -> np.ndarray:
        """(N, C) log of each class's summed exp-logits; -inf for a class with none."""
        z = np.asarray(x, np.float32) @ self.base_kernel + self.base_bias
        out = np.full((len(z), self.groups.shape[1]), -np.inf, np.float32)
        for c in range(self.groups.shape[1]):
            cols = self.groups[:, c] > 0
            if cols.any():
                zc = z[:, cols]
                top = zc.max(axis=1)
                out[:, c] = top + np.log(np.exp(zc - top[:, None]).sum(axis=1))
        return out

    def probs(self, x: np.ndarray) -> np.ndarray:
        return head_probs(x, self.kernel, self.bias, self.base_logits(x))


def _dense_weights(model: Any, name: str, where: Path | str) -> tuple[np.ndarray, np.ndarray]:
    try:
        weights = model.get_layer(name).get_weights()
    except ValueError:
        raise BadInputError(where, f"the model has no {name!r} layer") from None
    if len(weights) != 2 or np.ndim(weights[0]) != 2:
        raise BadInputError(where, f"the {name!r} layer is not a Dense layer")
    return np.asarray(weights[0], np.float32), np.asarray(weights[1], np.float32)


def is_mapped_head(model: Any) -> bool:
    """A model taught from an ImageNet-mapped base (it keeps the base's logits)."""
    return any(layer.name == TAUGHT_LOGITS_LAYER for layer in model.layers)


def mapped_head(model: Any, meta: dict[str, Any], names: list[str], where: Path | str) -> MappedHead:
    """The MappedHead of an imagenet_mapped bundle or of a model taught from one, widened to
    `names` (new classes: no base logits, a taught logit that starts near zero mass)."""
    base_names = list(meta.get("classes", []))
    extra = len(names) - len(base_names)
    if is_mapped_head(model):
        wb, bb = _dense_weights(model, BASE_LOGITS_LAYER, where)
        k0, b0 = _dense_weights(model, TAUGHT_LOGITS_LAYER, where)
        g_all = np.asarray(model.get_layer(PROBS_LAYER).get_weights()[0], np.float32)
        groups = g_all[: wb.shape[1]]
    else:
        from sfxstudio.ml.imagenet import IMAGENET_OUTPUT, mapping_matrix, parse_map

        wb, bb = _dense_weights(model, IMAGENET_OUTPUT, where)
        table = parse_map(meta.get("mapping"), where)
        groups = mapping_matrix(table, base_names)
        if OTHERWISE in base_names:  # otherwise = the ImageNet classes no effect class claims
            groups[:, base_names.index(OTHERWISE)] = groups.sum(axis=1) == 0
        # A calibrated mapping weighs class c's mass by w_c before normalising: log w_c added
        # to each of its ImageNet logits is the same thing.
        calibration = getattr(table, "calibration_weights", None)
        w = calibration(base_names) if calibration is not None else None
        if w is not None:
            bb = bb + groups @ np.log(np.asarray(w, np.float32))
        k0 = np.zeros((wb.shape[0], len(base_names)), np.float32)
        b0 = np.full(len(base_names), np.nan, np.float32)
    if groups.shape != (wb.shape[1], len(base_names)) or k0.shape != (wb.shape[0], len(base_names)):
        raise BadInputError(where, "the model's head does not match its classes")
    head = MappedHead(
        wb, bb,
        np.concatenate([groups, np.zeros((len(groups), extra), np.float32)], axis=1),
        np.concatenate([k0, np.zeros((len(k0), extra), np.float32)], axis=1),
        np.concatenate([b0, np.full(extra, np.nan, np.float32)]),
    )
    return head


def _start_new_logits(head: MappedHead, x: np.ndarray) -> None:
    """Taught logits not yet set (nan) start at NEW_MASS_SHARE of a typical frame's base mass."""
    unset = np.isnan(head.bias)
    if unset.any():
        total = np.logaddexp.reduce(head.base_logits(x), axis=1)
        head.bias[unset] = float(np.median(total)) + float(np.log(NEW_MASS_SHARE))


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
