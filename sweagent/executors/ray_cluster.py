"""The `ray` executor: every job is a Ray task, placed by Ray on a node with room for it.

Each node runs its containers on its own Docker engine, with the images present there (or pulled
there). Only the driver (this process) writes the run folder: a task runs its job in a scratch
folder on its node and returns the files the job wrote along with its result; the driver writes
them atomically, then reports the outcome. So a task that dies half-way leaves nothing behind, and a
retried task is written once.

- Room: each task reserves `cpus_per_instance` CPUs and `memory_per_instance` bytes. The driver keeps
  as many tasks submitted as the cluster can run at once (recomputed as nodes come and go), so a spent
  run budget stops new work at once (nothing is queued that would start later) and Ray reuses its
  warm worker processes instead of starting one per queued task.
- Lost work: a task whose worker process or node died is retried by Ray (`max_retries`; on another
  node when its node is gone), and after that comes back as `Outcome(lost=True)`.
- Shared state: the run's cost cap and the progress events go through small actors on the head node
  (they outlive any worker node), so caps hold across nodes and the dashboard sees every node.
- Ctrl-C: every task is cancelled (a KeyboardInterrupt in the worker; its sandbox removes its
  container), tasks that do not stop in time are killed, and then every node removes any container of
  the run whose process is gone or was one of the run's workers.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sweagent.errors import UserError
from sweagent.executors import carry
from sweagent.executors.base import Budget, Executor, Job, JobContext, Outcome, RunHooks
from sweagent.swebench.interrupts import flag_on_interrupt

RAY_MISSING = "Ray is not installed: run `pip install 'swe-ttc[ray]'`, or use --executor local"
LOCAL_OBJECT_STORE = 256 * 1024 * 1024  # a local instance moves trajectories only: keep shared memory small
CANCEL_GRACE = 20.0  # seconds cancelled tasks get to remove their containers before they are killed
REFRESH = 2.0  # seconds between looks at the cluster's size
CONNECT_TIMEOUT = 5.0


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(RAY_MISSING) from None
    return ray


def _unreachable(address: str, why: str) -> UserError:
    return UserError(
        f"no Ray cluster answers at {address} ({why}): start one with `ray start --head` "
        "(and `ray start --address=HEAD_IP:6379` on each other machine), or drop --ray-address "
        "to run on a local Ray instance"
    )


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Fail in seconds, in one line, when nothing listens at `address` (Ray itself retries for minutes)."""
    target = address
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address  # reads RAY_ADDRESS too

        try:
            target = canonicalize_bootstrap_address("auto") or ""
        except (ConnectionError, ValueError) as exc:
            raise _unreachable(address, " ".join(str(exc).split())[:120]) from None
    client = target.startswith("ray://")
    hostport = target.removeprefix("ray://").rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host:
        host, port = hostport, "10001" if client else "6379"
    if not port.isdigit():
        raise UserError(f"--ray-address {address} is not auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise _unreachable(address, exc.strerror or type(exc).__name__) from None


# -- what runs on the nodes --------------------------------------------------------------------------

_node_names: dict[str, str] = {}


def this_node() -> tuple[str, str]:
    """(node id, name) of the node this worker runs on; the name is Ray's node name (the host's
    address unless `ray start --node-name` set one), with the id's start when names repeat."""
    ray = import_ray()
    node_id = ray.get_runtime_context().get_node_id()
    if node_id not in _node_names:
        alive = [n for n in ray.nodes() if n.get("Alive")]
        mine = next((n for n in alive if n["NodeID"] == node_id), {})
        base = mine.get("NodeName") or socket.gethostname()
        twins = sum(1 for n in alive if n.get("NodeName") == base)
        _node_names[node_id] = base if twins <= 1 else f"{base}:{node_id[:6]}"
    return node_id, _node_names[node_id]


def _collect(root: Path) -> list[tuple[str, bytes]]:
    """Every file under `root` as (relative path, bytes), in the order they were last written."""
    files = [p for p in root.rglob("*") if p.is_file()]
    files.sort(key=lambda p: (p.stat().st_mtime_ns, str(p)))
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in files]


def attempt_number() -> int:
    """Which attempt of its task this is (0 the first; Ray counts retries after a lost worker or node)."""
    try:
        from ray._private.worker import global_worker

        return int(global_worker.core_worker.get_current_task_attempt_number())
    except Exception:  # not in a task, or an older Ray
        return 0


def run_job(
    key: str, fn: Any, args: tuple, folder: str, state: Any, budget: Budget | None, carried: list
) -> dict:
    """One job in a Ray worker: run it in a scratch folder named like the run folder (`folder`: what
    the sandbox labels its containers with), return its value and the files it wrote."""
    node_id, node = this_node()
    carry.restore_all(carried)
    if budget is not None and budget.exhausted:
        return {"started": False, "node": node}
    started = time.time()
    attempt = attempt_number()
    state.post.remote(("start", key, node, node_id, os.getpid()))

    def emit(event: dict[str, Any]) -> None:
        state.post.remote(("event", event))

    with tempfile.TemporaryDirectory(prefix="swe-ttc-job-") as scratch:
        out_dir = Path(scratch) / folder
        out_dir.mkdir()
        ctx = JobContext(out_dir=out_dir, node=node, emit=emit, budget=budget, remote=True)
        try:
            value = fn(ctx, *args)
        except KeyboardInterrupt:  # ray.cancel: the run was interrupted; no container may outlive it
            from sweagent.sandbox import cleanup

            cleanup.release_all()
            raise
        except Exception as exc:  # a bug in one job must not stop the others
            detail = f"internal error on node {node}: {type(exc).__name__}: {exc}"
            return {"started": True, "node": node, "error": detail[:300], "attempt": attempt}
        files = _collect(out_dir)
    return {
        "started": True,
        "node": node,
        "value": value,
        "attempt": attempt,
        "files": files,
        "timing": {"started": started, "finished": time.time()},
    }


def sweep_node(run_label: str, pids_by_node: dict[str, list[int]]) -> int:
    """On this node: remove the run's containers whose process is gone or was one of its stopped workers."""
    from sweagent.swebench.containers import remove_run_leftovers

    node_id, _ = this_node()
    try:
        return remove_run_leftovers(run_label, pids_by_node.get(node_id, ()))
    except UserError:  # no Docker on this node: nothing of the run can be left on it
        return 0


class RunState:
    """An actor: the run's spend and the progress events workers post for the driver."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.calls = 0
        self.items: list[Any] = []

    def add(self, cost: float) -> float:
        self.spent += cost
        self.calls += 1
        return self.spent

    def totals(self) -> tuple[float, int]:
        return self.spent, self.calls

    def post(self, item: Any) -> None:
        self.items.append(item)

    def take(self) -> list[Any]:
        items, self.items = self.items, []
        return items


class RayBudget:
    """The run-wide cost cap kept in a `RunState` actor; picklable, so every task shares it."""

    def __init__(self, state: Any, cost_limit: float) -> None:
        if cost_limit < 0:
            raise ValueError("cost_limit must be >= 0")
        self.state = state
        self.cost_limit = cost_limit

    def add(self, cost: float) -> float:
        return import_ray().get(self.state.add.remote(cost))

    @property
    def spent(self) -> float:
        return import_ray().get(self.state.totals.remote())[0]

    @property
    def calls(self) -> int:
        return import_ray().get(self.state.totals.remote())[1]

    @property
    def exhausted(self) -> bool:
        return self.cost_limit > 0 and self.spent >= self.cost_limit


# -- the driver --------------------------------------------------------------------------------------


class RayExecutor(Executor):
    """Runs jobs as Ray tasks on the cluster at `address` (None: a Ray instance started here)."""

    name = "ray"
    remote = True

    def __init__(
        self,
        address: str | None = None,
        cpus_per_instance: float = 1.0,
        memory_per_instance: int | None = None,
        max_retries: int = 3,
        local_cpus: int | None = None,
    ) -> None:
        self.ray = import_ray()
        self.address = address
        self.cpus = cpus_per_instance
        self.memory = memory_per_instance or None
        self.max_retries = max_retries
        self._owns = False
        self._remote: dict[str, Any] = {}
        self._actors: list[Any] = []
        self._state: Any = None
        self._connect(local_cpus)
        self._check_room()

    # -- connection ---------------------------------------------------------------------------------

    def _connect(self, local_cpus: int | None) -> None:
        ray = self.ray
        if ray.is_initialized():  # a caller (a test, the bench) already holds a connection: use it
            return
        quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "namespace": "swe-ttc"}
        if self.address:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                line = " ".join(str(exc).split())[:200]
                raise UserError(
                    f"cannot join the Ray cluster at {self.address} ({line}): "
                    "run the same Ray and Python versions on every machine, or drop --ray-address"
                ) from None
        else:  # a private instance: Ray's notice that it protects it with a token is noise here
            logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(
                logging.ERROR
            )
            ray.init(
                address="local",
                num_cpus=local_cpus or os.cpu_count() or 1,
                object_store_memory=LOCAL_OBJECT_STORE,
                include_dashboard=False,
                **quiet,
            )
        self._owns = True

    def close(self) -> None:
        for actor in self._actors:
            _quietly(self.ray.kill, actor)
        self._actors.clear()
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()
        self._owns = False

    def _fn(self, name: str) -> Any:
        """The Ray-wrapped helpers, made once the connection exists."""
        if not self._remote:
            self._remote = {
                "job": self.ray.remote(run_job),
                "sweep": self.ray.remote(sweep_node),
                "state": self.ray.remote(RunState),
            }
        return self._remote[name]

    # -- the cluster --------------------------------------------------------------------------------

    def _nodes(self) -> list[dict[str, Any]]:
        return [n for n in self.ray.nodes() if n.get("Alive")]

    def _room(self, node: dict[str, Any]) -> int:
        """How many instances fit on `node` at once."""
        resources = node.get("Resources", {})
        fit = resources.get("CPU", 0.0) / self.cpus if self.cpus else float("inf")
        if self.memory:
            fit = min(fit, resources.get("memory", 0.0) / self.memory)
        return int(fit + 1e-9) if fit != float("inf") else 64

    def _window(self) -> int:
        """Tasks to keep submitted: what runs at once. No more: a task queued behind a busy worker
        makes Ray start another worker process for it, and starting one (importing the project) costs
        more than the moment a freed slot waits for the next submission."""
        return max(1, sum(self._room(n) for n in self._nodes()))

    def _check_room(self) -> None:
        nodes = self._nodes()
        if not any(self._room(n) for n in nodes):
            memory = f" and {self.memory / 2**30:.1f} GiB" if self.memory else ""
            raise UserError(
                f"no node of the Ray cluster has {self.cpus:g} CPU(s){memory} for one instance "
                f"({len(nodes)} node(s)): lower --ray-cpus-per-instance/--ray-memory-per-instance "
                "or add a node (`ray start --address=HEAD_IP:6379`)"
            )

    def describe(self) -> str:
        nodes = self._nodes()
        cpus = sum(n.get("Resources", {}).get("CPU", 0.0) for n in nodes)
        where = self.address or "a local instance"
        return f"ray ({where}): {len(nodes)} node(s), {cpus:g} CPUs, {sum(map(self._room, nodes))} at once"

    def _pinned_to_head(self) -> dict[str, Any]:
        """Scheduling options that keep an actor on the head node: it must outlive any worker node."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        heads = [n["NodeID"] for n in self._nodes() if "node:__internal_head__" in n.get("Resources", {})]
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(heads[0], soft=False)} if heads else {}

    def _on_every_node(self, name: str, *args: Any, timeout: float = 60.0) -> list[Any]:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        refs = [
            self._fn(name)
            .options(
                num_cpus=0,
                max_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
            )
            .remote(*args)
            for node in self._nodes()
        ]
        out = []
        for ref in refs:
            try:
                out.append(self.ray.get(ref, timeout=timeout))
            except Exception:  # a node that went away meanwhile
                out.append(None)
        return out

    def sweep(self, run_label: str, pids_by_node: dict[str, list[int]] | None = None) -> int:
        return sum(n or 0 for n in self._on_every_node("sweep", run_label, pids_by_node or {}))

    # -- a run --------------------------------------------------------------------------------------

    def run_state(self) -> Any:
        """The actor workers post starts and events to; one per executor, emptied at each run."""
        if self._state is None:
            self._state = self._fn("state").options(num_cpus=0, **self._pinned_to_head()).remote()
            self._actors.append(self._state)
        else:
            self.ray.get(self._state.take.remote())
        return self._state

    def budget(self, cost_limit: float) -> Budget:
        state = self._fn("state").options(num_cpus=0, **self._pinned_to_head()).remote()
        self._actors.append(state)
        return RayBudget(state, cost_limit)

    def run(
        self,
        jobs: Iterable[Job],
        out_dir: Path,
        hooks: RunHooks,
        *,
        budget: Budget | None = None,
        run_label: str | None = None,
    ) -> None:
        _Run(self, Path(out_dir), hooks, budget, run_label).run(list(jobs))


class _Run:
    """The driver's side of one `RayExecutor.run`."""

    def __init__(
        self, executor: RayExecutor, out_dir: Path, hooks: RunHooks, budget: Budget | None, label: str | None
    ) -> None:
        self.ex = executor
        self.ray = executor.ray
        self.out_dir = out_dir
        self.hooks = hooks
        self.budget = budget
        self.label = label
        self.stop = hooks.stop or threading.Event()
        self.attempts: Counter[str] = Counter()
        self.last_node: dict[str, str] = {}
        self.pids: dict[str, set[int]] = {}
        self.announced: set[str] = set()
        self.lost_any = False

    def run(self, jobs: list[Job]) -> None:
        ray = self.ray
        self.state = self.ex.run_state()
        task = self.ex._fn("job")
        options: dict[str, Any] = {"num_cpus": self.ex.cpus, "max_retries": self.ex.max_retries}
        options["retry_exceptions"] = False
        if self.ex.memory:
            options["memory"] = self.ex.memory
        carried = ray.put(carry.export_all())
        queue = deque(jobs)
        inflight: dict[Any, tuple[Job, float]] = {}
        window, looked = self.ex._window(), time.monotonic()
        try:
            with flag_on_interrupt(self.stop):
                while queue or inflight:
                    if time.monotonic() - looked > REFRESH:
                        window, looked = self.ex._window(), time.monotonic()
                    while queue and len(inflight) < window:
                        job = queue.popleft()
                        if self.stop.is_set() or (self.budget is not None and self.budget.exhausted):
                            self.hooks.on_done(Outcome(job.key, started=False))
                            continue
                        ref = task.options(name=f"swe-ttc:{job.key}"[:100], **options).remote(
                            job.key, job.fn, job.args, self.out_dir.name, self.state, self.budget, carried
                        )
                        inflight[ref] = (job, time.time())
                    if not inflight:
                        continue
                    ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.2)
                    if ready:  # and whatever else finished meanwhile
                        ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=0)
                    self._pump()
                    for ref in ready:
                        job, submitted = inflight.pop(ref)
                        self.hooks.on_done(self._outcome(ref, job, submitted))
        except BaseException:
            self.stop.set()
            self._cancel(list(inflight))
            raise
        if self.lost_any and self.label:  # a killed worker leaves its container behind: remove it
            self.ex.sweep(self.label)

    def _pump(self) -> None:
        """Hand on what the workers posted: starts (with their node) and progress events."""
        try:
            items = self.ray.get(self.state.take.remote(), timeout=30)
        except Exception:
            return
        for item in items:
            if item[0] == "start":
                _, key, node, node_id, pid = item
                self.attempts[key] += 1
                self.last_node[key] = node
                self.pids.setdefault(node_id, set()).add(pid)
                if self.hooks.on_start and key not in self.announced:
                    self.hooks.on_start(key, node)
                self.announced.add(key)
            elif item[0] == "event" and self.hooks.on_event:
                self.hooks.on_event(item[1])

    def _outcome(self, ref: Any, job: Job, submitted: float) -> Outcome:
        from ray import exceptions

        attempts = max(1, self.attempts[job.key])
        try:
            result = self.ray.get(ref)
        except exceptions.RayTaskError as exc:  # the wrapper itself failed: a bug, reported as one line
            return Outcome(job.key, error=f"internal error: {_first_line(exc)}", attempts=attempts)
        except exceptions.RayError as exc:  # its worker or node died, and Ray's retries ran out
            self.lost_any = True
            attempts = max(attempts, self.ex.max_retries + 1)
            where = f" (last on node {self.last_node[job.key]})" if job.key in self.last_node else ""
            error = f"lost with its worker or node after {attempts} attempt(s){where}: {type(exc).__name__}"
            return Outcome(
                job.key, error=error, lost=True, attempts=attempts, node=self.last_node.get(job.key, "")
            )
        node = result.get("node", "")
        if not result.get("started"):
            return Outcome(job.key, started=False, node=node)
        attempts = max(attempts, result.get("attempt", 0) + 1)  # a lost attempt may not have said it started
        if attempts > 1:
            self.lost_any = True
        if self.hooks.on_start and job.key not in self.announced:
            self.hooks.on_start(job.key, node)  # its start notice is still on the way
            self.announced.add(job.key)
        if result.get("error"):
            return Outcome(job.key, error=result["error"], node=node, attempts=attempts)
        self._write(result.get("files", []))
        timing = {"submitted": submitted, **result.get("timing", {}), "delivered": time.time()}
        return Outcome(job.key, value=result.get("value"), node=node, attempts=attempts, timing=timing)

    def _write(self, files: list[tuple[str, bytes]]) -> None:
        from sweagent.io import atomic_write_bytes

        root = self.out_dir.resolve()
        for rel, data in files:
            target = (root / rel).resolve()
            if not target.is_relative_to(root):
                raise ValueError(f"a job wrote outside its folder: {rel}")
            atomic_write_bytes(target, data)

    def _cancel(self, refs: list[Any]) -> None:
        """Stop every task, give them time to remove their containers, kill the rest, then sweep."""
        ray = self.ray
        for ref in refs:
            _quietly(ray.cancel, ref, force=False)
        if refs:
            _, rest = ray.wait(refs, num_returns=len(refs), timeout=CANCEL_GRACE)
            for ref in rest:
                _quietly(ray.cancel, ref, force=True)
            if rest:
                ray.wait(rest, num_returns=len(rest), timeout=10)
        self._pump()
        if self.label:
            self.ex.sweep(self.label, {node: sorted(pids) for node, pids in self.pids.items()})


def _quietly(fn: Any, *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:  # best effort while stopping
        pass


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join((lines[-1] if lines else type(exc).__name__).split())[:240]
