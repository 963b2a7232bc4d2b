"""Long jobs (analyse, render, evaluate) as generators that yield progress and honour cancel.

The command line drives them with a progress bar (`progress.drive`), the window with a thin Qt
worker or the long-lived analysis process (`analysis_server`). Everything a caller needs is
re-exported here, so `from sfxstudio import pipeline; pipeline.analyze(...)` reads naturally.
"""

from sfxstudio.pipeline.document import make_document
from sfxstudio.pipeline.jobs import (
    CPU_BATCH,
    GPU_BATCH,
    LITE_BATCH,
    OPTIMISING_MESSAGE,
    AnalysisChunk,
    AnalyzeOptions,
    CancelFn,
    Progress,
    analyze,
    analyze_to_cache,
    compute_auto_segments,
    evaluate_video,
    render_project,
    resegment,
    run_job,
)
from sfxstudio.pipeline.sounds import (
    SoundAssigner,
    assign_files,
    class_attributes,
    effect_onsets,
    effect_pans,
    load_library,
    project_placements,
    record_sounds,
)

__all__ = [
    "CPU_BATCH",
    "GPU_BATCH",
    "LITE_BATCH",
    "OPTIMISING_MESSAGE",
    "AnalysisChunk",
    "AnalyzeOptions",
    "CancelFn",
    "Progress",
    "SoundAssigner",
    "analyze",
    "analyze_to_cache",
    "assign_files",
    "class_attributes",
    "compute_auto_segments",
    "effect_onsets",
    "effect_pans",
    "evaluate_video",
    "load_library",
    "make_document",
    "project_placements",
    "record_sounds",
    "render_project",
    "resegment",
    "run_job",
]
