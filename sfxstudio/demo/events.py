"""Event-based and segment-based F1 against ground truth, for the demo.

The metrics live in sfxstudio.ml.evaluate (the evaluation layer); this module re-exports them
so demo code and its tests read naturally.
"""

from sfxstudio.ml.evaluate import (
    GroundTruth,
    as_events,
    event_f1,
    load_truth,
    segment_f1,
    truth_json,
    write_truth,
)

__all__ = ["GroundTruth", "as_events", "event_f1", "load_truth", "segment_f1", "truth_json", "write_truth"]
