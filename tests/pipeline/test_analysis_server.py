"""Analyses in a separate process: same results as in-process, cancel, errors, reuse."""

import pytest

from sfxstudio.core.errors import BadInputError, Cancelled
from sfxstudio.core.project import AnalysisParams
from sfxstudio.pipeline import analyze_to_cache
from sfxstudio.pipeline.analysis_server import AnalysisServer

RED, GREEN = (255, 0, 0), (0, 255, 0)


@pytest.fixture(scope="module")
def server():
    s = AnalysisServer()
    yield s
    s.close()


def _run(server, video, model, cancel=lambda: False, **kw):
    result, devices = None, []
    for p in server.analyze(video, model, AnalysisParams(), cancel, on_device=devices.append, **kw):
        if p.finished:
            result = p.result
    return result, devices


def test_same_probabilities_as_in_process_and_reused(server, make_video, color_bundle):
    video = make_video(colors=[GREEN] * 10 + [RED] * 10, fps=10)
    cache, devices = _run(server, video, color_bundle.path)
    assert devices and ("CPU" in devices[0].upper() or "GPU" in devices[0].upper())
    local = analyze_to_cache(video, color_bundle, AnalysisParams())
    assert cache.frames == local.frames == 20
    assert abs(cache.probs - local.probs).max() < 1e-5
    pid = server._proc.pid
    again, _ = _run(server, video, color_bundle.path)  # same process, model kept warm
    assert server._proc.pid == pid and again.frames == 20


def test_bad_input_comes_back_as_bad_input(server, tmp_path, color_bundle):
    bogus = tmp_path / "x.mp4"
    bogus.write_text("not a video")
    with pytest.raises(BadInputError) as err:
        _run(server, bogus, color_bundle.path)
    assert str(bogus) in str(err.value)


def test_cancel_stops_and_the_next_analysis_is_clean(server, make_video, color_bundle):
    long_video = make_video(seconds=30.0, fps=25, size=(64, 48))
    seen = []

    def cancel():
        return len(seen) >= 1

    with pytest.raises(Cancelled):
        for p in server.analyze(long_video, color_bundle.path, AnalysisParams(), cancel, batch_size=8):
            if p.done:
                seen.append(p.done)
    short = make_video(colors=[RED] * 5, fps=10)
    cache, _ = _run(server, short, color_bundle.path)
    assert cache.frames == 5  # no leftovers of the cancelled run
