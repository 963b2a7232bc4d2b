"""Analysis layer (numpy only): threshold, mode filter, segmentation, motion energy.

The three public functions below are a stable API (see README, "API").
"""

from sfxstudio.analysis.segmentation import auto_segments, segments_from_labels
from sfxstudio.analysis.smoothing import mode_filter
from sfxstudio.analysis.threshold import apply_threshold, threshold_labels, top_labels

__all__ = [
    "apply_threshold",
    "auto_segments",
    "mode_filter",
    "segments_from_labels",
    "threshold_labels",
    "top_labels",
]
