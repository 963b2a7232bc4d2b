"""Analysis layer (numpy only): threshold, mode filter, segmentation, layered mode, the on/off
temporal model, motion energy and onsets.

The single-mode functions (threshold_labels, mode_filter, segments_from_labels, auto_segments)
are a stable API (see README, "API") and keep DESIGN.md section 2 exactly.
"""

from sfxstudio.analysis.layered import (
    DEFAULT_SMOOTHING,
    DEFAULT_STICKINESS,
    SMOOTHINGS,
    LayeredCache,
    class_thresholds,
    layered_segments,
)
from sfxstudio.analysis.motion import MotionTracker, motion_features
from sfxstudio.analysis.onsets import effect_pan, onsets_in, pan_curve
from sfxstudio.analysis.segmentation import auto_segments, segments_from_labels
from sfxstudio.analysis.smoothing import mode_filter
from sfxstudio.analysis.temporal import decode_on_off, dwell_seconds, hmm_on_off, log_odds
from sfxstudio.analysis.threshold import apply_threshold, threshold_labels, top_labels

__all__ = [
    "DEFAULT_SMOOTHING",
    "DEFAULT_STICKINESS",
    "SMOOTHINGS",
    "LayeredCache",
    "MotionTracker",
    "apply_threshold",
    "auto_segments",
    "class_thresholds",
    "decode_on_off",
    "dwell_seconds",
    "effect_pan",
    "hmm_on_off",
    "layered_segments",
    "log_odds",
    "mode_filter",
    "motion_features",
    "onsets_in",
    "pan_curve",
    "segments_from_labels",
    "threshold_labels",
    "top_labels",
]
