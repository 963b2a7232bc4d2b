"""Zero-shot vocabulary: prompts, calibration and scoring (numpy only, no Keras).

What a zero-shot bundle.json adds to the common fields (preset, family, embedding_dim,
prompts, calibration), checked here, and the math that turns image embeddings and prompt
embeddings into class probabilities (see sfxstudio.ml.zeroshot for the method). Scoring is
shared by live analysis and re-scoring of cached embeddings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sfxstudio.core import validate
from sfxstudio.core.classes import OTHERWISE, default_classes, read_prompts
from sfxstudio.ml.bundle_file import MAX_EMBEDDING

KIND = "zeroshot"
# keras-hub backbone class (config.json) -> family
FAMILIES = {"SigLIPBackbone": "siglip", "CLIPBackbone": "clip"}
MODES = ("softmax", "sigmoid")
AGGREGATES = ("mean", "max")
EMBEDDING_LAYER = "image_embedding"
MAX_SCALE = 1000.0  # CLIP clamps its learned scale at 100; SigLIP's is ~117
MAX_BIAS = 100.0
MAX_OFFSET = 50.0
_CALIBRATION_KEYS = {"mode", "aggregate", "scale", "bias", "offsets"}


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


def validate_zeroshot_meta(meta: dict[str, Any], where: Path | str = "bundle.json") -> None:
    """The fields a zero-shot bundle.json adds to the common ones (ValueError naming the field);
    called by bundle_file.validate_meta for kind "zeroshot" (`where` names the file there)."""
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
