"""A local Ray batch stops every process it started, without waiting on the autoscaler monitor;
a batch on an already connected Ray leaves that Ray running."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sfxstudio.core.project import AnalysisParams
from sfxstudio.pipeline import batch_ray
from sfxstudio.pipeline.batch import run_batch
from sfxstudio.pipeline.batch_worker import BatchSettings

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'sfxstudio[ray]'; "
                                        "scripts/setup.sh installs it)")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

RED, GREEN = (230, 20, 20), (20, 200, 30)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _inputs(tmp_path: Path, make_video, color_bundle) -> tuple[Path, BatchSettings]:
    root = tmp_path / "in"
    root.mkdir()
    make_video(root / "a.mp4", colors=[GREEN] * 4 + [RED] * 6, fps=10)
    make_video(root / "b.mp4", colors=[RED] * 6, fps=10)
    model = str(color_bundle.path)
    return root, BatchSettings(model=model, params=AnalysisParams(model=model), exports=("json",))


def test_local_ray_stops_the_monitor_first_and_leaves_no_process(
        tmp_path: Path, make_video, color_bundle, monkeypatch) -> None:
    root, settings = _inputs(tmp_path, make_video, color_bundle)
    seen: dict[str, Any] = {}
    close = batch_ray.RayWorkers.close
    shutdown = ray.shutdown

    def spying_close(self: batch_ray.RayWorkers) -> None:
        node = ray._private.worker._global_node
        if node is not None and "procs" not in seen:
            seen["procs"] = _descendants(os.getpid())
            seen["monitor"] = [i.process for i in node.all_processes.get("monitor", [])]
        close(self)

    def spying_shutdown(*args: Any, **kwargs: Any) -> None:
        seen.setdefault("monitor_running_at_shutdown", [p.poll() is None for p in seen.get("monitor", [])])
        shutdown(*args, **kwargs)

    def no_round_trip(self: batch_ray.RayWorkers) -> list[int]:
        raise AssertionError("a local instance has one node: no need to ask the actors where they run")

    monkeypatch.setattr(batch_ray.RayWorkers, "close", spying_close)
    monkeypatch.setattr(batch_ray.RayWorkers, "_node_indices", no_round_trip)
    monkeypatch.setattr(ray, "shutdown", spying_shutdown)
    before = set(_descendants(os.getpid()))  # e.g. multiprocessing's resource tracker: not Ray's
    summary = run_batch([root], tmp_path / "out", settings, workers=2, ray="local", quiet=True)
    assert summary.exit_status == 0 and summary.count("ok") == 2 and not ray.is_initialized()
    assert seen["monitor"] and seen["monitor_running_at_shutdown"] == [False]
    procs = [p for p in seen["procs"] if p not in before]
    assert len(procs) >= 4  # gcs, raylet, dashboard, agents, workers: Ray's processes were seen
    deadline = time.monotonic() + 5.0
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in procs if _alive(p)] == []


def test_an_already_connected_ray_is_used_and_left_running(tmp_path: Path, make_video,
                                                           color_bundle) -> None:
    """What `--ray ADDRESS` does on a cluster: connect, ask each actor its node, never stop Ray."""
    root, settings = _inputs(tmp_path, make_video, color_bundle)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             object_store_memory=100 * 1024 * 1024)
    try:
        summary = run_batch([root], tmp_path / "out", settings, workers=2, ray="auto", quiet=True)
        assert summary.exit_status == 0 and summary.count("ok") == 2
        assert ray.is_initialized() and ray.cluster_resources().get("CPU") == 2
    finally:
        ray.shutdown()
