"""The batch on Ray: one actor per worker, each loading the model once, writing its outputs itself.

`ray` is optional (pip install "sfxstudio[ray]"); it is imported only here, only when asked for.
address "local" starts a private local instance (num_cpus = workers x threads, no dashboard);
anything else is a cluster address handed to ray.init (e.g. "auto" on a cluster node, or
"ray://head:10001"). Inputs, the model, the sound library and the output folder must be at the
same paths on every node (shared storage); the driver alone writes the manifest.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sfxstudio.core.errors import Cancelled, SfxError
from sfxstudio.pipeline.batch_worker import (
    BatchSettings,
    CancelFn,
    ResultFn,
    VideoJob,
    Worker,
    WorkerStartError,
    cap_threads,
)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SfxError("--ray needs Ray, which is not installed: pip install 'sfxstudio[ray]' "
                       "(or pip install 'ray[default]')") from None
    return ray


class BatchActor:
    """The Ray actor: `load` pins it to its cores and loads the model; `run` does one video."""

    def __init__(self) -> None:
        self.worker: Worker | None = None

    def node(self) -> str:
        import ray

        return str(ray.get_runtime_context().get_node_id())

    def load(self, settings: BatchSettings, local_index: int) -> str | None:
        """None when ready, else why the model or library could not be loaded."""
        try:
            cap_threads(local_index, settings.threads)
            self.worker = Worker(settings)
        except Exception as exc:
            return str(exc) if isinstance(exc, SfxError) else f"{type(exc).__name__}: {exc}"
        return None

    def run(self, job: VideoJob) -> dict[str, Any]:
        assert self.worker is not None
        return self.worker.run(job)


# Ray's own metrics are not used by a batch: without them the raylet registers the node as
# soon as its dashboard agent answers, not after the agent has loaded its metrics modules
# (seconds of a local start on a small machine).
_LOCAL_SYSTEM_CONFIG = {"enable_metrics_collection": False}
# Results and jobs are a few kB (paths, not frames): the object store needs no gigabytes.
_LOCAL_OBJECT_STORE_BYTES = 100 * 1024 * 1024


class RayWorkers:
    """Ray (started here for "local") and one loading actor per worker.

    `start` returns once the actors are asked to load (not loaded), so the caller can plan the
    batch while the models load; `ready` waits for them. Must run on the main thread: Ray ties
    the processes it starts to the thread that started them.
    """

    def __init__(self, settings: BatchSettings, address: str) -> None:
        self.settings = settings
        self.address = address
        self.ray = import_ray()
        self.started_here = False
        self.actors: list[Any] = []
        self._loads: list[Any] = []

    def start(self, workers: int) -> None:
        ray = self.ray
        if not ray.is_initialized():
            self.started_here = True
            if self.address == "local":
                ray.init(num_cpus=workers * self.settings.threads, include_dashboard=False,
                         log_to_driver=False, configure_logging=False,
                         object_store_memory=_LOCAL_OBJECT_STORE_BYTES,
                         _system_config=_LOCAL_SYSTEM_CONFIG)
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        actor_cls = ray.remote(num_cpus=self.settings.threads, max_restarts=0)(BatchActor)
        self.actors = [actor_cls.remote() for _ in range(workers)]
        if self.started_here and self.address == "local":
            # One node: the i-th actor gets the i-th share of its cores, and its `load` is queued
            # at once instead of after a round trip asking every actor where it runs.
            indices = list(range(workers))
        else:
            indices = self._node_indices()
        from sfxstudio.ml import lite

        pairs = list(zip(self.actors, indices, strict=True))
        if not lite.cached_for_folder(self.settings.model) and len(pairs) > 1:
            # No CPU conversion yet: the first actor converts and caches it, the others then
            # load the cached one instead of all converting at once.
            first, index = pairs.pop(0)
            self._check(ray.get([first.load.remote(self.settings, index)]))
        self._loads = [a.load.remote(self.settings, i) for a, i in pairs]

    def _node_indices(self) -> list[int]:
        """Cores are shared out per node: the i-th actor on a node gets that node's i-th share."""
        nodes = self.ray.get([a.node.remote() for a in self.actors])
        seen: dict[str, int] = {}
        indices = []
        for node in nodes:
            indices.append(seen.get(node, 0))
            seen[node] = seen.get(node, 0) + 1
        return indices

    def ready(self, workers: int) -> list[Any]:
        """The loaded actors (the first `workers`); WorkerStartError when one could not load."""
        self._check(self.ray.get(self._loads))
        self._loads = []
        for extra in self.actors[workers:]:  # fewer videos to do than actors started
            with contextlib.suppress(Exception):
                self.ray.kill(extra)
        return self.actors[:workers]

    @staticmethod
    def _check(problems: list[str | None]) -> None:
        bad = [p for p in problems if p]
        if bad:
            raise WorkerStartError(f"a Ray worker could not load the model: {bad[0]}")

    def close(self) -> None:
        for a in self.actors:
            with contextlib.suppress(Exception):  # already gone with its node: nothing to stop
                self.ray.kill(a)
        self.actors = []
        if self.started_here:
            if self.address == "local":
                _stop_autoscaler_monitor(self.ray)
            self.ray.shutdown()


def _stop_autoscaler_monitor(ray: Any) -> None:
    """Stop the autoscaler monitor of the local instance started here, before ray.shutdown.

    A fixed local instance has nothing to autoscale, and the monitor leaves about a second after
    SIGTERM (it first reports its end to the GCS): ray.shutdown stops Ray's processes one at a
    time, waiting up to a second for each, so this one was 1.0 s of its 1.4 s (Ray 2.60). The
    handle on the processes ray.init started is Ray's private one; where it differs, nothing is
    stopped here and ray.shutdown waits as it always did."""
    with contextlib.suppress(Exception):
        node = ray._private.worker._global_node
        for info in node.all_processes.get(ray._private.ray_constants.PROCESS_TYPE_MONITOR, []):
            info.process.kill()
            info.process.wait(1.0)


def run_on_ray(jobs: list[VideoJob], settings: BatchSettings, workers: int, address: str,
               on_result: ResultFn, on_frames: Callable[[int, int], None],
               cancel: CancelFn | None, started: RayWorkers | None = None) -> bool:
    """Run the jobs on `workers` Ray actors; False when interrupted (Ctrl+C or cancel()).

    started: Ray and its actors already started (RayWorkers.start, at least `workers` of them);
    closed here either way."""
    pool = started or RayWorkers(settings, address)
    try:
        if started is None:
            pool.start(workers)
        actors = pool.ready(workers)
        return _dispatch(pool.ray, actors, jobs, on_result, on_frames, cancel)
    finally:
        pool.close()


def _dispatch(ray: Any, actors: list[Any], jobs: list[VideoJob], on_result: ResultFn,
              on_frames: Callable[[int, int], None], cancel: CancelFn | None) -> bool:
    pending = list(jobs)
    running: dict[Any, tuple[VideoJob, Any]] = {}
    idle = list(actors)
    try:
        while pending or running:
            while idle and pending:
                actor, job = idle.pop(), pending.pop(0)
                running[actor.run.remote(job)] = (job, actor)
            done, _ = ray.wait(list(running), num_returns=1, timeout=0.25)
            if cancel is not None and cancel():
                raise KeyboardInterrupt
            for ref in done:
                job, actor = running.pop(ref)
                try:
                    res = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    res = {"status": "failed", "error": f"the Ray worker died while analysing it ({exc})"}
                    actor = None  # not handed work again
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.as_instanceof_cause()
                    if isinstance(cause, Cancelled):
                        raise KeyboardInterrupt from None
                    why = " ".join(str(cause).split())[:300]
                    res = {"status": "failed", "error": f"internal error ({why})"}
                on_result({**asdict(job), **res})
                if actor is not None:
                    idle.append(actor)
            if not idle and not running and pending:
                for job in pending:
                    on_result({**asdict(job), "status": "failed", "error": "no Ray worker left to run it"})
                pending = []
    except KeyboardInterrupt:
        for ref in running:
            with contextlib.suppress(Exception):  # finished meanwhile
                ray.cancel(ref, force=True)
        time.sleep(0.1)
        return False
    return True
