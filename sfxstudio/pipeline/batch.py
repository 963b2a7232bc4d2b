"""Batch: a whole media library in one command, resumable, on a local process pool or on Ray.

    run_batch(inputs, out, settings, workers=None, ray=None) -> BatchSummary

1. Videos are found (folders recursively, by suffix; the output folder and hidden files are
   never inputs), each gets its own output folder `out/<name>/` (a unique name when two inputs
   share a stem) and a content hash (sha256, streamed; reused from the manifest while the
   file's size and modification time are unchanged, so a rerun does not read the library again).
2. `out/manifest.jsonl` holds one line per finished video: path, content hash, parameters and
   their key, status (ok | failed), duration, effects, seconds, error. A video whose latest
   line is `ok` with the same content and parameters is skipped; anything else (never run,
   failed, interrupted, changed) is done again. Lines are appended and fsynced one at a time
   by this process only (workers hand their results back); a line torn by a kill is dropped
   and the file rewritten atomically on the next run.
3. The work runs on worker processes that load the model once each (a spawn-context process
   pool here, Ray actors with `ray=`), every worker confined to its own share of the cores so
   N workers never oversubscribe them. Outputs are written by the workers, atomically
   (core.atomic), so an interrupted video leaves no half-written file under a final name.
4. One bad file never stops the batch: its line says why, in one line. Cancelling (Ctrl+C or
   `cancel()`) stops the workers; the finished lines stay, and a rerun continues.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from sfxstudio.core.errors import BadInputError, Cancelled, SfxError
from sfxstudio.pipeline.batch_files import (
    MANIFEST,
    MANIFEST_VERSION,
    Manifest,
    file_sha256,
    find_videos,
    output_names,
)
from sfxstudio.pipeline.batch_worker import (
    BatchSettings,
    BatchSummary,
    CancelFn,
    ResultFn,
    VideoJob,
    Worker,
    WorkerStartError,
    _one_line,
    cap_threads,
    params_key,
)

# --- the local process pool ----------------------------------------------------------------




_worker: Worker | None = None
_start_error: str | None = None
_cancel_event: Any = None
_events: Any = None


def _init_pool_worker(settings: BatchSettings, counter: Any, load_lock: Any, cancel_event: Any,
                      events: Any) -> None:
    """Pool initializer: own cores, no Ctrl+C (the coordinator stops us), the model loaded once."""
    global _worker, _cancel_event, _events, _start_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    cap_threads(index, settings.threads)
    _cancel_event, _events = cancel_event, events
    try:
        from sfxstudio.ml import lite

        if lite.cached_for_folder(settings.model):
            _worker = Worker(settings)
        else:
            # The first worker converts the model for the CPU runtime and caches it; the others
            # wait and load the cached conversion instead of converting it again at the same time.
            with load_lock:
                _worker = Worker(settings)
    except Exception as exc:  # reported by the first job this worker is given
        _start_error = _one_line(exc) if isinstance(exc, SfxError) else \
            f"{type(exc).__name__}: {_one_line(exc, 300)}"


def _pool_run(job: VideoJob) -> dict[str, Any]:
    if _worker is None:
        raise WorkerStartError(f"a worker could not load the model: {_start_error}")
    events = _events
    events.put(("start", job.index, 0))

    def progress(done: int) -> None:
        events.put(("frames", job.index, done))

    return _worker.run(job, cancel=_cancel_event.is_set, progress=progress)


def default_workers(threads: int = 1) -> int:
    from sfxstudio.ml.tf_setup import cpu_count

    return max(1, cpu_count() // max(1, threads))


def _run_pool(jobs: list[VideoJob], settings: BatchSettings, workers: int, on_result: ResultFn,
              on_frames: Callable[[int, int], None], cancel: CancelFn | None) -> bool:
    """Run jobs on a spawn-context process pool; False when interrupted."""
    import multiprocessing as mp
    import queue
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")
    counter, load_lock, cancel_event, events = ctx.Value("i", 0), ctx.Lock(), ctx.Event(), ctx.Queue()
    pending = list(jobs)
    started: set[int] = set()
    crashes: dict[int, int] = {}
    interrupted = False

    def drain() -> None:
        while True:
            try:
                kind, idx, done = events.get_nowait()
            except queue.Empty:
                return
            if kind == "start":
                started.add(idx)
            else:
                on_frames(idx, done)

    while pending and not interrupted:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=ctx,
                                   initializer=_init_pool_worker,
                                   initargs=(settings, counter, load_lock, cancel_event, events))
        futures: dict[Future[dict[str, Any]], VideoJob] = {pool.submit(_pool_run, j): j for j in pending}
        pending = []
        broken = False
        try:
            while futures:
                done, _ = wait(list(futures), timeout=0.25, return_when=FIRST_COMPLETED)
                drain()
                if cancel is not None and cancel():
                    raise KeyboardInterrupt
                for fut in done:
                    job = futures.pop(fut)
                    try:
                        on_result({**asdict(job), **fut.result()})
                    except BrokenProcessPool:
                        broken = True
                        if job.index in started:
                            crashes[job.index] = crashes.get(job.index, 0) + 1
                        if crashes.get(job.index, 0) >= 2:
                            on_result({**asdict(job), "status": "failed", "error": "the worker "
                                       "process died while analysing it (a crash or out of memory)"})
                        else:
                            pending.append(job)  # a worker died: the pool is redone for the rest
                    except Cancelled:
                        interrupted = True
            pool.shutdown(wait=True)
        except WorkerStartError:
            cancel_event.set()
            _stop_pool(pool, grace=0.0)
            raise
        except KeyboardInterrupt:
            interrupted = True
            cancel_event.set()  # running analyses stop at their next batch of frames
            for fut in futures:
                fut.cancel()
            _stop_pool(pool, grace=5.0)
        if broken:
            started.clear()
            pending.sort(key=lambda j: -j.frames)
    drain()
    return not interrupted


def _stop_pool(pool: Any, grace: float) -> None:
    """Stop a pool's workers: a grace period to leave cooperatively, then terminate them."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)  # idle workers leave at once
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(2.0)


# --- the coordinator -----------------------------------------------------------------------


class BatchProgress:
    """A batch progress line on stderr: videos done, frames, rate and the whole batch's ETA."""

    def __init__(self, total_frames: int, total_videos: int, stream: TextIO | None = None,
                 quiet: bool = False) -> None:
        from sfxstudio.pipeline.progress import ProgressBar

        self.bar = ProgressBar("Batch", unit="frames", stream=stream)
        self.quiet = quiet
        self.total_frames = max(1, total_frames)
        self.total_videos = total_videos
        self.videos_done = 0
        self.finished_frames = 0
        self.running: dict[int, int] = {}
        self.started = time.monotonic()

    @property
    def frames_done(self) -> int:
        return self.finished_frames + sum(self.running.values())

    def frames(self, index: int, done: int) -> None:
        self.running[index] = done
        self.show()

    def finished(self, index: int, frames: int) -> None:
        self.running.pop(index, None)
        self.finished_frames += frames
        self.videos_done += 1
        self.show(force=True)

    def eta(self) -> float | None:
        el = time.monotonic() - self.started
        done = self.frames_done
        if done <= 0 or el <= 0:
            return None
        return max(0.0, (self.total_frames - done) / (done / el))

    def show(self, force: bool = False) -> None:
        if self.quiet:
            return
        el = time.monotonic() - self.started
        done = min(self.frames_done, self.total_frames)
        self.bar.label = f"Batch {self.videos_done}/{self.total_videos} videos"
        self.bar.update(done, self.total_frames, done / el if el > 0 else 0.0, self.eta(), force=force)

    def close(self) -> None:
        self.bar.close()


def plan(inputs: Sequence[str | Path], out: Path, settings: BatchSettings, manifest: Manifest,
         fingerprint: dict[str, Any], on_job: Callable[[int], None] | None = None,
         ) -> tuple[list[VideoJob], list[dict[str, Any]], list[dict[str, Any]]]:
    """(jobs to run, records of videos skipped as done, records of inputs failed before any work).

    on_job(n): called as soon as a video is known to need work, before it is hashed and probed,
    with n = at most how many jobs there will be (so workers can start meanwhile)."""
    from sfxstudio.media.video import estimate_analysis_frames, probe

    key = params_key(fingerprint)
    videos, problems = find_videos(inputs, exclude=out)
    failed = [_record(str(p.absolute()), problem, fingerprint, key) for p, problem in problems]
    jobs: list[VideoJob] = []
    skipped: list[dict[str, Any]] = []
    for index, (video, name) in enumerate(zip(videos, output_names(videos), strict=True)):
        path = str(video)
        prev = manifest.latest.get(path)
        announced = prev is None or prev.get("status") != "ok" or prev.get("params_key") != key
        if on_job is not None and announced:
            on_job(len(videos) - index)
        try:
            st = os.stat(video)
            same_file = (prev is not None and prev.get("size") == st.st_size
                         and prev.get("mtime_ns") == st.st_mtime_ns and prev.get("sha256"))
            sha = str(prev["sha256"]) if same_file and prev is not None else file_sha256(video)
        except (BadInputError, OSError) as exc:
            failed.append(_record(path, _one_line(getattr(exc, "problem", None) or exc), fingerprint, key))
            continue
        if (prev is not None and prev.get("status") == "ok" and prev.get("sha256") == sha
                and prev.get("params_key") == key and Path(str(prev.get("out", ""))).is_dir()):
            skipped.append({**prev, "status": "skipped"})
            continue
        if on_job is not None and not announced:
            on_job(len(videos) - index)
        job_out = str(prev["out"]) if prev is not None and prev.get("out") else str(out / name)
        frames = 0
        with contextlib.suppress(SfxError, OSError, ValueError):
            frames = int(estimate_analysis_frames(probe(video), settings.params.analysis_fps))
        jobs.append(VideoJob(index, path, Path(job_out).name, job_out, sha, st.st_size, st.st_mtime_ns,
                             frames))
    return jobs, skipped, failed


def _plan_starting_ray(inputs: Sequence[str | Path], out: Path, settings: BatchSettings, manifest: Manifest,
                       fingerprint: dict[str, Any], address: str, workers: int) -> tuple[Any, ...]:
    """plan() on a thread while this (the main) thread starts Ray and its actors, from the moment
    the plan finds a first video to do: Ray's start (seconds) overlaps the hashing and probing,
    and a rerun with nothing to do starts no Ray at all. -> plan()'s three lists and the
    started RayWorkers (None when nothing needs doing)."""
    import threading

    from sfxstudio.pipeline.batch_ray import RayWorkers

    found = threading.Event()
    most_jobs = [0]
    box: dict[str, Any] = {}

    def on_job(n: int) -> None:
        if not found.is_set():
            most_jobs[0] = n
            found.set()

    def planner() -> None:
        try:
            box["plan"] = plan(inputs, out, settings, manifest, fingerprint, on_job=on_job)
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc
        finally:
            found.set()

    thread = threading.Thread(target=planner, name="sfx-batch-plan", daemon=True)
    thread.start()
    started: RayWorkers | None = None
    try:
        found.wait()
        if most_jobs[0] > 0:
            started = RayWorkers(settings, address)
            started.start(max(1, min(workers, most_jobs[0])))
        thread.join()
        if "error" in box:
            raise box["error"]
    except BaseException:
        thread.join()
        if started is not None:
            started.close()
        raise
    return (*box["plan"], started)


def _record(path: str, error: str, fingerprint: dict[str, Any], key: str) -> dict[str, Any]:
    return {"path": path, "status": "failed", "error": error, "sha256": None, "params": fingerprint,
            "params_key": key, "duration": None, "effects": 0, "seconds": 0.0}


def run_batch(
    inputs: Sequence[str | Path],
    out: str | Path,
    settings: BatchSettings,
    workers: int | None = None,
    ray: str | None = None,
    cancel: CancelFn | None = None,
    stream: TextIO | None = None,
    quiet: bool = False,
) -> BatchSummary:
    """Analyse and export every video of `inputs` into `out`; see the module's docstring.

    ray: None (a local process pool), "local" (a local Ray instance with `workers` CPUs) or a
    Ray cluster address. Per-video problems become failed records, never exceptions; a bad
    output folder, model or library is a BadInputError before any work starts."""
    started = time.monotonic()
    stream = stream or sys.stderr
    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise BadInputError(out, "the batch output is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out / MANIFEST)
    fingerprint = settings.fingerprint()
    key = params_key(fingerprint)
    ray_workers = None
    if ray is not None:
        jobs, skipped, failed, ray_workers = _plan_starting_ray(
            inputs, out, settings, manifest, fingerprint, ray, workers or default_workers(settings.threads))
    else:
        jobs, skipped, failed = plan(inputs, out, settings, manifest, fingerprint)
    summary = BatchSummary(manifest=manifest.path)
    by_index: dict[int, dict[str, Any]] = {}

    def note(line: str) -> None:
        if not quiet:
            print(line, file=stream, flush=True)

    try:
        for rec in failed:
            rec["finished"] = _now()
            manifest.append(rec)  # may fail (disk full): Ray started while planning must stop
            summary.records.append(rec)
            note(f"failed: {rec['path']}: {rec['error']}")
    except BaseException:
        if ray_workers is not None:
            ray_workers.close()
        raise
    for rec in skipped:
        summary.records.append(rec)
    if skipped:
        note(f"{len(skipped)} video(s) already done with the same content and parameters: skipped")
    workers = max(1, min(workers or default_workers(settings.threads), max(1, len(jobs))))
    bar = BatchProgress(sum(j.frames for j in jobs), len(jobs), stream=stream, quiet=quiet)
    jobs.sort(key=lambda j: -j.frames)  # longest first: the last video to finish is a short one

    def on_result(res: dict[str, Any]) -> None:
        rec = {"path": res["path"], "name": res.get("name"), "out": res.get("out"),
               "sha256": res["sha256"], "size": res.get("size"), "mtime_ns": res.get("mtime_ns"),
               "params": fingerprint, "params_key": key, "status": res["status"],
               "duration": res.get("duration"), "frames": res.get("frames", 0),
               "effects": res.get("effects", 0), "classes": res.get("classes", []),
               "seconds": res.get("seconds", 0.0), "error": res.get("error"),
               "outputs": res.get("outputs", []), "warnings": res.get("warnings", []),
               "worker": res.get("worker"), "finished": _now(), "version": MANIFEST_VERSION}
        manifest.append(rec)
        by_index[int(res["index"])] = rec
        bar.finished(int(res["index"]), int(res.get("frames") or 0))
        if rec["status"] != "ok":
            note(f"failed: {rec['path']}: {rec['error']}")

    completed = True
    try:
        if jobs:
            if ray is not None:
                from sfxstudio.pipeline.batch_ray import run_on_ray

                completed = run_on_ray(jobs, settings, workers, ray, on_result, bar.frames, cancel,
                                       started=ray_workers)
                ray_workers = None
            else:
                completed = _run_pool(jobs, settings, workers, on_result, bar.frames, cancel)
    except KeyboardInterrupt:
        completed = False
    finally:
        bar.close()
        if ray_workers is not None:  # started while planning, then nothing to run on it
            ray_workers.close()
    summary.records.extend(by_index[i] for i in sorted(by_index))
    summary.interrupted = not completed
    summary.seconds = time.monotonic() - started
    ok, bad = summary.count("ok"), summary.count("failed")
    note(f"batch: {ok} ok, {len(skipped)} skipped, {bad} failed"
         + (f", {len(jobs) - len(by_index)} not done (interrupted; run again to continue)"
            if summary.interrupted else "")
         + f" in {summary.seconds:.1f} s; manifest: {manifest.path}")
    return summary


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
