"""How good is a model? Frame classification metrics on a labelled image folder (the paper's
evaluation) and event/segment F1 of the proposed effects on a video with a ground truth.

Image folders (`evaluate_folder`): data_dir/<class name>/*.jpg|png|...; every image is
classified (top-1, no threshold: the paper's accuracy) and we report accuracy, per-class
precision/recall/F1 with support, the paper's row-normalised confusion matrix, and the ROC curve
and AUC of "has an effect": score = 1 - p(otherwise), positive = the true class is not
`otherwise`. Everything is computed here in numpy (no sklearn): the numbers are small and this
keeps the definitions (ties, empty classes) in one readable place.

Videos (`evaluate_video` / `evaluate_cache`): the proposed automatic segments (threshold tau,
mode filter k) against a ground-truth file, scored two ways:
- event-based (what an editor feels: "did the effect start at the right moment?"): a predicted
  segment matches a ground-truth segment of the same class when their onsets differ by at most
  the collar (200 ms by default). Matching is one-to-one and, per class, maximises the number of
  matches first and then minimises the total onset difference (Hungarian algorithm), so one good
  prediction can never be counted for two truths.
- segment-based (robust to small onset errors): time is cut into blocks of `resolution` seconds
  and every (block, class) pair is active when any segment of that class overlaps the block.
Counts are summed over classes for the overall (micro) figures. Precision, recall and F1 are 0
when their denominator is 0, except that a class (or an overall) with nothing predicted and
nothing to find scores 1.0: there was nothing to get wrong.

These F1 functions and the ground-truth file helpers are the canonical ones; sfxstudio.demo
(a layer above) re-exports them.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from sfxstudio.core.atomic import atomic_write_text
from sfxstudio.core.classes import OTHERWISE
from sfxstudio.core.errors import BadInputError, ExportError
from sfxstudio.core.inputs import read_bytes
from sfxstudio.core.project import AnalysisCache, AnalysisParams

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
ProgressFn = Callable[[int, int], None]

# --- classification metrics ---------------------------------------------------------------------


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, n) int64 counts: row = true class, column = predicted class."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError("y_true and y_pred must be 1-D and the same length")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def normalize_rows(cm: np.ndarray) -> np.ndarray:
    """The paper's confusion matrix: each row divided by its total (a row of zeros stays zeros)."""
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, f1 (0 where undefined, as sklearn's zero_division=0) and support."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points for "score >= threshold means positive", one point per distinct score.

    -> (fpr, tpr, thresholds), starting at (0, 0) with threshold +inf and ending at (1, 1).
    Tied scores move together (one diagonal step), so the area under a tie counts half, as
    the Mann-Whitney statistic does. Needs at least one positive and one negative.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("scores and positive must be 1-D and the same length")
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("an ROC curve needs both positives and negatives")
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    # Last index of each run of equal scores: the curve only moves there.
    last = np.concatenate((np.flatnonzero(np.diff(s) != 0), [s.size - 1]))
    tps = np.cumsum(y)[last]
    fps = (last + 1) - tps
    tpr = np.concatenate(([0.0], tps / n_pos))
    fpr = np.concatenate(([0.0], fps / n_neg))
    thresholds = np.concatenate(([np.inf], s[last]))
    return fpr, tpr, thresholds


def auc(x: np.ndarray, y: np.ndarray) -> float:
    """Area under a curve by the trapezoid rule (x increasing)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def classification_metrics(
    y_true: np.ndarray, probs: np.ndarray, class_names: Sequence[str]
) -> dict[str, Any]:
    """Everything the report shows, from true labels (N,) and probabilities (N, C)."""
    names = list(class_names)
    probs = np.asarray(probs, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    if probs.ndim != 2 or probs.shape != (y_true.size, len(names)):
        raise ValueError(f"probabilities must be ({y_true.size}, {len(names)}), got {probs.shape}")
    y_pred = probs.argmax(axis=1) if y_true.size else np.zeros(0, np.int64)
    cm = confusion_matrix(y_true, y_pred, len(names))
    scores = per_class_scores(cm)
    present = scores["support"] > 0
    per_class = {
        n: {
            "precision": float(scores["precision"][i]),
            "recall": float(scores["recall"][i]),
            "f1": float(scores["f1"][i]),
            "support": int(scores["support"][i]),
            "predicted": int(cm[:, i].sum()),
        }
        for i, n in enumerate(names)
    }
    out: dict[str, Any] = {
        "images": int(y_true.size),
        "accuracy": float((y_pred == y_true).mean()) if y_true.size else 0.0,
        # Macro averages over the classes that have images: a class the data set does not
        # contain says nothing about the model.
        "macro_precision": float(scores["precision"][present].mean()) if present.any() else 0.0,
        "macro_recall": float(scores["recall"][present].mean()) if present.any() else 0.0,
        "macro_f1": float(scores["f1"][present].mean()) if present.any() else 0.0,
        "per_class": per_class,
        "class_names": names,
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_normalized": normalize_rows(cm).round(6).tolist(),
        "roc": None,
    }
    if OTHERWISE in names and y_true.size:
        o = names.index(OTHERWISE)
        score = 1.0 - probs[:, o]
        positive = y_true != o
        roc: dict[str, Any] = {
            "positives": int(positive.sum()),
            "negatives": int((~positive).sum()),
            "auc": None,
        }
        if positive.any() and (~positive).any():
            fpr, tpr, thr = roc_curve(score, positive)
            roc.update(
                auc=auc(fpr, tpr),
                fpr=fpr.round(6).tolist(),
                tpr=tpr.round(6).tolist(),
                thresholds=[None if math.isinf(t) else round(float(t), 6) for t in thr],
            )
        out["roc"] = roc
    return out


# --- image folders --------------------------------------------------------------------------------


@dataclass
class FolderScan:
    paths: list[Path]
    labels: np.ndarray  # indices into the model's classes
    counts: dict[str, int]  # images per evaluated class
    skipped_classes: dict[str, int]  # folder name -> images, classes the model does not have


def scan_eval_folder(data_dir: str | Path, class_names: Sequence[str]) -> FolderScan:
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise BadInputError(data_dir, "evaluation data folder does not exist")
    folders = sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise BadInputError(data_dir, "needs one sub-folder of images per class; found none")
    index = {n: i for i, n in enumerate(class_names)}
    paths: list[Path] = []
    labels: list[int] = []
    counts: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for folder in folders:
        images = sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        if folder.name not in index:
            skipped[folder.name] = len(images)
            continue
        counts[folder.name] = len(images)
        paths.extend(images)
        labels.extend([index[folder.name]] * len(images))
    if not paths:
        why = f" (folders the model has no class for: {', '.join(skipped)})" if skipped else ""
        raise BadInputError(data_dir, f"has no images in folders named after the model's classes{why}")
    return FolderScan(paths, np.asarray(labels, np.int64), counts, skipped)


def _load_image(path: Path, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 at size=(w, h), resized like training does (tf.image.resize, area)."""
    from PIL import Image

    from sfxstudio.ml import tf_setup

    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    w, h = size
    if rgb.shape[:2] == (h, w):
        return rgb
    resized = tf_setup.tf().image.resize(rgb, (h, w), method="area").numpy()
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8)


def _load_bundle(bundle: str | Path | Any) -> Any:
    if isinstance(bundle, (str, Path)):
        from sfxstudio.ml.bundle import ModelBundle

        return ModelBundle.load(bundle)
    return bundle


def predict_folder(
    bundle: Any, scan: FolderScan, batch_size: int = 32, progress: ProgressFn | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """-> (labels of the images read, probabilities (N, C), problems: unreadable files, skipped)."""
    w, h = bundle.input_size
    size = (int(w), int(h))
    probs: list[np.ndarray] = []
    kept: list[int] = []
    problems: list[str] = []
    batch: list[np.ndarray] = []
    batch_idx: list[int] = []
    total = len(scan.paths)

    def flush() -> None:
        if batch:
            p, _ = bundle.predict(np.stack(batch))
            probs.append(np.asarray(p, np.float64))
            kept.extend(batch_idx)
            batch.clear()
            batch_idx.clear()

    for i, path in enumerate(scan.paths):
        try:
            batch.append(_load_image(path, size))
            batch_idx.append(i)
        except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... for bad files
            problems.append(f"{path}: cannot be read as an image ({exc}); skipped")
        if len(batch) >= batch_size:
            flush()
            if progress is not None:
                progress(i + 1, total)
    flush()
    if progress is not None:
        progress(total, total)
    if not kept:
        raise BadInputError(scan.paths[0].parent.parent, "none of the images could be read")
    return scan.labels[np.asarray(kept)], np.concatenate(probs), problems


def evaluate_folder(
    bundle_dir: str | Path | Any,
    data_dir: str | Path,
    report_dir: str | Path,
    batch_size: int = 32,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Classify every image of data_dir/<class>/ and write the report into report_dir.

    Writes (each atomically) report.html (self-contained), confusion_matrix.png/.csv, roc.png
    (when there are images with and without an effect) and metrics.json. Returns the metrics.
    Folders named after classes the model does not have are reported and skipped.
    """
    from sfxstudio.ml import report

    bundle = _load_bundle(bundle_dir)
    names = list(bundle.class_names)
    scan = scan_eval_folder(data_dir, names)
    # Fail before the (long) classification, not after it, when the report cannot be written.
    report_dir = Path(report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(report_dir, f"cannot create the report folder ({exc.strerror or exc})") from exc
    labels, probs, problems = predict_folder(bundle, scan, batch_size, progress)
    metrics = classification_metrics(labels, probs, names)
    meta = dict(getattr(bundle, "meta", {}) or {})
    metrics.update(
        {
            "model": {
                "name": getattr(bundle, "name", meta.get("name", "")),
                "path": str(getattr(bundle, "path", "") or ""),
                "kind": meta.get("kind", "keras"),
                "backbone": meta.get("backbone"),
                "weights_source": meta.get("weights_source"),
                "input_size": list(bundle.input_size),
                "classes": names,
                "supported_classes": meta.get("supported_classes") or names,
                "training": meta.get("training", {}),
                "description": meta.get("description", ""),
            },
            "data_dir": str(Path(data_dir).resolve()),
            "evaluated_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "class_counts": scan.counts,
            "skipped_classes": scan.skipped_classes,
            "problems": problems,
        }
    )
    metrics["files"] = report.write_report(metrics, report_dir)
    return metrics


# --- event and segment F1 ----------------------------------------------------------------------------

TRUTH_FORMAT = "sfxstudio-truth"
TRUTH_VERSION = 1

# Onset differences are computed from floats like 1.2 - 1.0 = 0.19999999999999996; a tolerance
# keeps "exactly on the collar" inside it, as the definition says (<=).
_EPS = 1e-9

Event = tuple[str, float, float]


@dataclass(frozen=True)
class GroundTruth:
    video: str
    duration: float
    fps: float
    segments: list[Event]


def as_events(items: Iterable[Any]) -> list[Event]:
    """(class, start, end) tuples from tuples or Segment-like objects (class_name, start, end).

    `otherwise` entries and mute ranges are dropped: they are the absence of an effect.
    """
    out: list[Event] = []
    for item in items:
        if isinstance(item, Sequence) and not isinstance(item, str):
            cls, start, end = item[0], item[1], item[2]
        else:
            if getattr(item, "origin", None) == "mute":
                continue
            cls, start, end = item.class_name, item.start, item.end
        if cls == OTHERWISE:
            continue
        out.append((str(cls), float(start), float(end)))
    return out


def _scores(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    if tp + fp + fn == 0:
        precision = recall = f1 = 1.0
    else:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def _match_onsets(pred: Sequence[float], truth: Sequence[float], collar: float) -> list[tuple[int, int]]:
    """One-to-one pairs (pred index, truth index) with |onset difference| <= collar."""
    if not pred or not truth:
        return []
    diff = np.abs(np.asarray(pred, dtype=np.float64)[:, None] - np.asarray(truth, dtype=np.float64)[None, :])
    valid = diff <= collar + _EPS
    if not valid.any():
        return []
    # An invalid pair costs more than all valid pairs together, so the assignment first
    # maximises the number of valid matches, then minimises their total onset difference.
    big = float(diff[valid].sum()) + 1.0 + collar * diff.size
    cost = np.where(valid, diff, big)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if valid[r, c]]


def event_f1(pred: Iterable[Any], truth: Iterable[Any], collar: float = 0.2) -> dict[str, Any]:
    """Event-based precision/recall/F1 with an onset collar (seconds).

    Returns {"collar": c, "overall": {tp, fp, fn, precision, recall, f1},
             "per_class": {name: {...same keys...}}, "classes": (the same dict, older name),
             "matches": [(class, pred_onset, truth_onset)]}.
    """
    p_events, t_events = as_events(pred), as_events(truth)
    classes = sorted({e[0] for e in p_events} | {e[0] for e in t_events})
    per_class: dict[str, dict[str, float | int]] = {}
    matches: list[tuple[str, float, float]] = []
    tp_all = fp_all = fn_all = 0
    for cls in classes:
        p_on = [e[1] for e in p_events if e[0] == cls]
        t_on = [e[1] for e in t_events if e[0] == cls]
        pairs = _match_onsets(p_on, t_on, collar)
        tp = len(pairs)
        fp, fn = len(p_on) - tp, len(t_on) - tp
        per_class[cls] = _scores(tp, fp, fn)
        matches.extend((cls, p_on[i], t_on[j]) for i, j in pairs)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    return {
        "collar": collar,
        "overall": _scores(tp_all, fp_all, fn_all),
        "per_class": per_class,
        "classes": per_class,
        "matches": sorted(matches, key=lambda m: m[2]),
    }


def _activity(events: list[Event], cls: str, n_blocks: int, resolution: float, duration: float) -> np.ndarray:
    active = np.zeros(n_blocks, dtype=bool)
    for c, start, end in events:
        if c != cls:
            continue
        start, end = max(start, 0.0), min(end, duration)
        if end <= start:
            continue
        first = math.floor(start / resolution + _EPS)
        # A segment ending exactly on a block boundary does not touch the next block.
        last = math.ceil(end / resolution - _EPS) - 1
        active[max(first, 0) : min(last, n_blocks - 1) + 1] = True
    return active


def segment_f1(
    pred: Iterable[Any], truth: Iterable[Any], duration: float, resolution: float = 1.0
) -> dict[str, Any]:
    """Segment-based precision/recall/F1 over blocks of `resolution` seconds.

    Block i covers [i * resolution, (i + 1) * resolution); the last block may be shorter.
    Returns {"resolution", "blocks", "overall": {...}, "per_class": {name: {...}}, "classes"}.
    """
    if duration <= 0 or resolution <= 0:
        raise ValueError("duration and resolution must be positive")
    p_events, t_events = as_events(pred), as_events(truth)
    n_blocks = math.ceil(duration / resolution - _EPS)
    classes = sorted({e[0] for e in p_events} | {e[0] for e in t_events})
    per_class: dict[str, dict[str, float | int]] = {}
    tp_all = fp_all = fn_all = 0
    for cls in classes:
        p = _activity(p_events, cls, n_blocks, resolution, duration)
        t = _activity(t_events, cls, n_blocks, resolution, duration)
        tp, fp, fn = int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum())
        per_class[cls] = _scores(tp, fp, fn)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    return {
        "resolution": resolution,
        "blocks": n_blocks,
        "overall": _scores(tp_all, fp_all, fn_all),
        "per_class": per_class,
        "classes": per_class,
    }


def truth_json(video: str, duration: float, fps: float, segments: Iterable[Any]) -> dict[str, Any]:
    return {
        "format": TRUTH_FORMAT,
        "version": TRUTH_VERSION,
        "video": video,
        "duration": round(float(duration), 6),
        "fps": fps,
        "segments": [
            {"class": c, "start": round(s, 6), "end": round(e, 6)} for c, s, e in as_events(segments)
        ],
    }


def write_truth(path: str | Path, video: str, duration: float, fps: float, segments: Iterable[Any]) -> None:
    atomic_write_text(path, json.dumps(truth_json(video, duration, fps, segments), indent=1) + "\n")


def load_truth(path: str | Path) -> GroundTruth:
    """Read a ground-truth file; BadInputError naming the file when it is not one.

    Two layouts are read:
    - SFX Studio's own: {"format": "sfxstudio-truth", "version": 1, "video": name,
      "duration": s, "fps": fps, "segments": [{"class": c, "start": s, "end": s}, ...]};
      `otherwise` stretches are not listed.
    - hand-made multi-label truth (the videos_real layout): {"video", "duration",
      "segments": [{"class", "start", "end"}], "notes"} with no "format" (fps optional). Several
      classes may be active at once; each class is scored on its own, so overlaps are fine.
    Segments must have a class name and finite times with 0 <= start < end.
    """
    path = Path(path)
    raw = read_bytes(path, "ground-truth file", 64 * 1024 * 1024)  # never blocks on a FIFO
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadInputError(path, f"not a readable JSON file ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(data, dict):
        raise BadInputError(path, "not a ground-truth file (expected a JSON object)")
    fmt = data.get("format")
    if fmt is None:
        if "segments" not in data or "duration" not in data:
            raise BadInputError(path, "not a ground-truth file (needs 'duration' and 'segments')")
    elif fmt != TRUTH_FORMAT:
        raise BadInputError(path, f"not a ground-truth file (format must be {TRUTH_FORMAT!r})")
    elif data.get("version") != TRUTH_VERSION:
        raise BadInputError(path, f"unsupported ground-truth version {data.get('version')!r}")
    try:
        duration = _truth_number(data["duration"], "duration")
        fps = _truth_number(data["fps"], "fps") if fmt is not None or "fps" in data else 0.0
        raw = data["segments"]
        if not isinstance(raw, list):
            raise ValueError("'segments' must be a list")
        segments = [_truth_segment(s, i) for i, s in enumerate(raw)]
    except (KeyError, TypeError, ValueError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise BadInputError(path, f"malformed ground-truth file ({detail})") from None
    if duration <= 0:
        raise BadInputError(path, "malformed ground-truth file (duration must be positive)")
    return GroundTruth(
        video=str(data.get("video", "")), duration=duration, fps=fps,
        segments=[e for e in segments if e[0] != OTHERWISE],
    )


def _truth_number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{field} must be a finite number, not {value!r}")
    return float(value)


def _truth_segment(item: Any, i: int) -> Event:
    if not isinstance(item, dict):
        raise ValueError(f"segment {i} is not an object")
    cls = item["class"]
    if not isinstance(cls, str) or not cls.strip():
        raise ValueError(f"segment {i}: class must be a name, not {cls!r}")
    start = _truth_number(item["start"], f"segment {i} start")
    end = _truth_number(item["end"], f"segment {i} end")
    if start < 0 or end <= start:
        raise ValueError(f"segment {i} ({cls}): needs 0 <= start < end, got {start}..{end}")
    return (cls, start, end)


# --- videos -----------------------------------------------------------------------------------------

# (video, bundle folder or loaded bundle, params) -> the analysis cache. sfxstudio.pipeline
# provides it (ml sits below pipeline and must not import it).
AnalyzeFn = Callable[[Path, Any, AnalysisParams], AnalysisCache]


def evaluate_cache(
    cache: AnalysisCache,
    truth: GroundTruth | str | Path,
    k: float,
    tau: float,
    collar: float = 0.2,
    resolution: float = 1.0,
) -> dict[str, Any]:
    """Score the automatic segments an analysis proposes at (k, tau) against a ground truth."""
    from sfxstudio.analysis import auto_segments

    gt = truth if isinstance(truth, GroundTruth) else load_truth(truth)
    if OTHERWISE not in cache.class_names:
        raise ValueError(f"analysis has no {OTHERWISE!r} class")
    segments = auto_segments(
        cache.probs,
        cache.times,
        cache.frame_duration,
        cache.class_names,
        cache.class_names.index(OTHERWISE),
        k,
        tau,
        cache.duration,
    )
    pred = as_events(segments)
    duration = gt.duration if gt.duration > 0 else cache.duration
    return {
        "k": k,
        "tau": tau,
        "duration": duration,
        "frames": cache.frames,
        "analysis_fps": 1.0 / cache.frame_duration,
        "model": cache.model,
        "event": event_f1(pred, gt.segments, collar=collar),
        "segment": segment_f1(pred, gt.segments, duration, resolution=resolution),
        "predicted": [list(e) for e in pred],
        "truth": [list(e) for e in gt.segments],
        # Truth classes the model cannot propose count as misses; say which they are.
        "classes_not_in_model": sorted({e[0] for e in gt.segments} - set(cache.class_names)),
    }


def evaluate_video(
    bundle_dir: str | Path | Any,
    video: str | Path,
    truth_json: str | Path,
    k: float,
    tau: float,
    analysis_fps: float | None = None,
    *,
    analyze: AnalyzeFn,
    collar: float = 0.2,
    resolution: float = 1.0,
) -> dict[str, Any]:
    """Analyse the video with the model, propose segments at (k, tau), score them.

    `analyze` runs the analysis (sfxstudio.pipeline supplies it: this layer cannot import the
    pipeline). Returns evaluate_cache's result plus the video and truth paths.
    """
    gt = load_truth(truth_json)  # read first: a bad truth file should not cost an analysis
    params = AnalysisParams(k=k, threshold=tau, analysis_fps=analysis_fps)
    cache = analyze(Path(video), bundle_dir, params)
    result = evaluate_cache(cache, gt, k, tau, collar=collar, resolution=resolution)
    result.update(video=str(video), truth_file=str(truth_json))
    return result
