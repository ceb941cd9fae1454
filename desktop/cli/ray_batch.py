"""`callcoach analyze --ray ADDRESS`: a backlog spread over a Ray cluster's workers.

A pool of actors, each a `CallWorker` with the speech model loaded once, spread over the
nodes (one per `cpu_threads` CPUs); this process hands each actor two calls at a time (each
decoding on one of its cores) and collects the summary rows. Recordings are read
and reports written by the workers themselves, so both must be on a folder every node
sees at the same path (NFS, SMB, a cluster file system).

Exactly once: Ray retries nothing on its own here (no actor restarts, no task retries);
when a worker or its node dies, this process gives that worker's unfinished calls to the
others and starts a replacement if the cluster still has room. A call the dead worker had
already written is written again with the same content, atomically, so the files stay
whole, and its summary row is counted once. A call whose worker dies three times is
reported as failed rather than retried for ever.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections import deque
from pathlib import Path

from audio.analysis import AnalysisOptions
from desktop.cli.call_worker import CallJob, CallWorker
from desktop.cli.progress import BatchProgress
from desktop.cli.resume import BatchRow

__all__ = ["ClusterError", "run_on_ray", "RayWorker"]

MAX_ATTEMPTS = 3
IN_FLIGHT_PER_WORKER = 2
START_TIMEOUT_S = 600.0  # a worker's model load on a busy node; no worker by then is an error


class ClusterError(Exception):
    """The cluster cannot be used (not installed, unreachable, no room); one line for the user."""


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ClusterError("--ray needs Ray, which is not installed: pip install "
                           "'callcoach[cluster]' (on this machine and every node)") from None
    return ray


class RayWorker(CallWorker):
    """A `CallWorker` that names its Ray node in each call's done-marker."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        import ray

        self.worker_name = ray.get_runtime_context().get_node_id()


def _connect(ray, address: str) -> bool:
    """Join (or start, for `local`) the cluster; True if this call started the connection."""
    if ray.is_initialized():
        return False
    kwargs = {"logging_level": logging.WARNING}
    # Ray's client warns on stderr before it raises; the one-line error below says it.
    warnings.filterwarnings("ignore", message="Ray Client connection timed out")
    try:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        elif address.startswith("ray://"):
            ray.init(address=address, **kwargs)
        else:
            ray.init(address=address, log_to_driver=False, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        hint = ""
        if address.startswith("ray://"):
            hint = ("; the head node needs ray[default] for its client port, and a cluster "
                    "with token authentication needs RAY_AUTH_MODE=token and its token "
                    "(RAY_AUTH_TOKEN) here")
        raise ClusterError(f"cannot reach the Ray cluster at {address}: "
                           f"{str(exc).splitlines()[0] if str(exc) else exc}{hint}") from None
    return True


def _node_cpus(ray) -> list[float]:
    return [n.get("Resources", {}).get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")]


class _Pool:
    """The actors: starting (model loading), ready, and how many calls each holds."""

    def __init__(self, ray, options: AnalysisOptions, args: tuple) -> None:
        self.ray = ray
        self.options = options
        self.args = args
        self.starting: dict = {}  # ready-ref -> actor
        self.load: dict = {}  # ready actor -> calls in flight
        self.last_error = ""
        self.failed_starts = 0  # since a worker last started: three in a row is an error
        self.cpus = 1.0

    def grow(self, wanted: int) -> None:
        if self.failed_starts >= MAX_ATTEMPTS:
            raise ClusterError(f"the Ray workers cannot start: {self.last_error}")
        nodes = _node_cpus(self.ray)
        biggest = max(nodes, default=0.0)
        if biggest <= 0:
            return
        self.cpus = float(min(self.options.cpu_threads, biggest))
        room = int(sum(n // self.cpus for n in nodes))
        target = min(wanted, max(1, room))
        cls = self.ray.remote(num_cpus=self.cpus, max_concurrency=IN_FLIGHT_PER_WORKER,
                              max_restarts=0, max_task_retries=0,
                              scheduling_strategy="SPREAD")(RayWorker)
        while len(self.starting) + len(self.load) < target:
            actor = cls.remote(*self.args)
            self.starting[actor.ready.remote()] = actor

    def started(self, ref) -> None:
        actor = self.starting.pop(ref)
        try:
            self.ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - a model that cannot load, a lost node
            self.last_error = str(exc).strip().splitlines()[-1] if str(exc) else repr(exc)
            self.failed_starts += 1
            self.ray.kill(actor, no_restart=True)
            return
        self.failed_starts = 0
        self.load[actor] = 0

    def drop(self, actor) -> None:
        if self.load.pop(actor, None) is not None:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone with its node
                pass

    def free(self):
        return [a for a, n in self.load.items() if n < IN_FLIGHT_PER_WORKER]

    def close(self) -> None:
        for actor in [*self.starting.values(), *self.load]:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001
                pass


def run_on_ray(jobs: list[CallJob], options: AnalysisOptions, out_dir: Path, settings: str,
               address: str, on_row, progress: BatchProgress) -> None:
    """Analyse `jobs` on the cluster at `address`; `on_row(job, row)` once per call."""
    ray = _import_ray()
    from ray.exceptions import RayError, RayTaskError

    started_here = _connect(ray, address)
    pool = _Pool(ray, options, (options, os.path.abspath(out_dir), str(out_dir), settings,
                                IN_FLIGHT_PER_WORKER))
    queue: deque[tuple[CallJob, int]] = deque((job, 1) for job in jobs)
    in_flight: dict = {}  # task-ref -> (job, attempt, actor)
    since_ready = time.monotonic()
    try:
        pool.grow(len(queue))
        progress.note(f"{len(pool.starting)} workers starting on "
                      f"{sum(n > 0 for n in _node_cpus(ray))} nodes "
                      f"({pool.cpus:g} CPUs each)")
        while queue or in_flight:
            for actor in pool.free():
                while queue and pool.load[actor] < IN_FLIGHT_PER_WORKER:
                    job, attempt = queue.popleft()
                    in_flight[actor.run.remote(job)] = (job, attempt, actor)
                    pool.load[actor] += 1
            waiting = list(in_flight) + list(pool.starting)
            if not waiting:
                pool.grow(len(queue))
                if not pool.starting:
                    raise ClusterError("the cluster has no CPU left for a worker")
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=2.0)
            for ref in ready:
                if ref in pool.starting:
                    pool.started(ref)
                    since_ready = time.monotonic()
                    continue
                job, attempt, actor = in_flight.pop(ref)
                pool.load[actor] = pool.load.get(actor, 1) - 1
                try:
                    on_row(job, ray.get(ref))
                except RayTaskError as exc:  # our code raised: this call failed, not the worker
                    cause = exc.cause if getattr(exc, "cause", None) else exc
                    on_row(job, BatchRow(recording=job.given, status=f"internal error: "
                                         f"{cause.__class__.__name__}: {cause}"))
                except RayError as exc:  # the worker or its node died under it
                    pool.drop(actor)
                    why = f"{exc.__class__.__name__}: its worker was lost"
                    if attempt >= MAX_ATTEMPTS:
                        on_row(job, BatchRow(recording=job.given, status=f"{why} "
                                             f"{attempt} times; not retried"))
                    else:
                        progress.retry(job.given, why)
                        queue.append((job, attempt + 1))
            if queue and len(pool.load) + len(pool.starting) < len(queue):
                pool.grow(len(queue))
            if not pool.load and queue and time.monotonic() - since_ready > START_TIMEOUT_S:
                raise ClusterError("no Ray worker could start"
                                   + (f": {pool.last_error}" if pool.last_error else
                                      f" within {START_TIMEOUT_S:.0f} s"))
    finally:
        pool.close()
        if started_here:
            ray.shutdown()
