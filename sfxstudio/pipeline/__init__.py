"""Long jobs (analyse, render, evaluate) as generators that yield progress and honour cancel.

The command line drives them with a progress bar (`progress.drive`), the window with a thin Qt
worker or the long-lived analysis process (`analysis_server`). Everything a caller needs is
re-exported here, so `from sfxstudio import pipeline; pipeline.analyze(...)` reads naturally.
"""

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
    class_attributes,
    compute_auto_segments,
    evaluate_video,
    load_library,
    render_project,
    resegment,
    run_job,
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
    "analyze",
    "analyze_to_cache",
    "class_attributes",
    "compute_auto_segments",
    "evaluate_video",
    "load_library",
    "render_project",
    "resegment",
    "run_job",
]
