"""Learn from my corrections, step 2: the classifier head, fitted in numpy.

A softmax head (embedding -> classes) fitted from the base model's head with Adam, class-balanced
weights and an L2 pull towards the starting weights (fit_head); no TensorFlow start-up, and
deterministic. MappedHead is the head that keeps an ImageNet-mapped base's logits (see
sfxstudio.ml.teach for why).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError

ProgressFn = Callable[[dict[str, Any]], None]
# L2 pull towards the base head. 0.1 rather than 1e-3: on an uncorrected second demo video, event
# F1 after teaching from three corrections was 0.70 with 1e-3 and 0.84 with 0.1 (0.875 before).
DEFAULT_ANCHOR = 0.1
PROBS_LAYER = "probs"


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
