"""`swe-ttc select` across instances: judge every instance's candidate pool in its own image, choose one.

Per instance: one container from the instance image (the repository at its base commit, nothing of
the answer in it), the execution checks with the run's shared result cache (`cache.jsonl`, so an
interrupted run restarts warm), the static reward and, when configured, the LLM judge and a
generated reproduction script; then `verifiers.pipeline.choose`. Only `task.public()` is used.

Files (every write atomic): `select/<instance_id>.json` (every candidate's sources, verdicts, scores,
clusters, rank and reason; the source of truth), `preds.json` (one chosen patch per instance),
`exit_statuses.yaml`, `config.yaml`. A record counts as done when it is final (`chosen` or
`no_choice`) and was made from the same candidates with the same judging settings; so a run killed
at any moment resumes with every finished instance kept, and re-judges an instance whose candidates
or settings changed. An instance that cannot be judged (not in the dataset, no image) is recorded as
an error and retried on the next run; the others go on.

Instances run on an executor (`sweagent.executors`): threads here by default, or Ray tasks on a
cluster, where each node judges in its own Docker engine with a result cache of its own for that
instance; the entries it made come back with the record and join the run's `cache.jsonl`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sweagent.config import ModelConfig, SandboxConfig
from sweagent.errors import UserError
from sweagent.executors.base import Executor, Job, JobContext, Outcome, RunHooks
from sweagent.io import atomic_write_json, atomic_write_text
from sweagent.swebench.dashboard import Dashboard, PlainDashboard
from sweagent.swebench.images import instance_image
from sweagent.swebench.predictions import is_safe_id, make_prediction, write_exit_statuses, write_predictions
from verifiers.cache import ResultCache
from verifiers.candidates import CandidatePool
from verifiers.pipeline import RewardModel, choose
from verifiers.select_config import SelectConfig
from verifiers.selection import Selection
from verifiers.types import Candidate, Judged, Score, Verdict

DEFAULT_REPRODUCTION_ATTEMPTS = 3
"""Scripts `--reproduction.model` may write per instance when `execution.generate_reproduction` is 0."""

NODE_CACHE_DIR = "node-cache"
"""Where a remote job leaves the cache entries it made (`<run>/node-cache/<id>.jsonl`) for the driver."""

if TYPE_CHECKING:
    from sweagent.sandbox.base import Sandbox
    from sweagent.task import Task

RECORD_FORMAT = "swe-ttc/select@1"
MODEL_NAME = "swe-ttc-select"
FINAL_STATUSES = ("chosen", "no_choice")

SandboxOpener = Callable[[SandboxConfig, str, "str | None", str], "Sandbox"]
"""(sandbox config, image, base commit, run label) -> a started sandbox."""


def open_instance_sandbox(config: SandboxConfig, image: str, commit: str | None, run_label: str) -> Sandbox:
    from sweagent.sandbox.factory import open_sandbox

    return open_sandbox(
        config.model_copy(update={"image": image}), commit=commit, image=image, run_label=run_label
    )


def record_path(run_dir: Path, instance_id: str) -> Path:
    return Path(run_dir) / "select" / f"{instance_id}.json"


def read_record(run_dir: Path, instance_id: str) -> dict[str, Any] | None:
    try:
        data = json.loads(record_path(run_dir, instance_id).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return None
    return data


def chosen_patch(record: dict[str, Any]) -> str:
    chosen = record.get("chosen")
    for cand in record.get("candidates", []):
        if cand["id"] == chosen:
            return cand["patch"]
    return ""


class _BudgetedJudge:
    """An LLM judge whose spent per-instance budget is a failed score, not a failed instance."""

    def __init__(self, judge: RewardModel) -> None:
        self.judge = judge

    def score(self, task: Task, candidate: Candidate, evidence: Sequence[Verdict] | None = None) -> Score:
        from sweagent.model.base import LimitExceeded

        try:
            return self.judge.score(task, candidate, evidence)
        except LimitExceeded as exc:
            return Score.failure("llm_judge", f"the judge's budget for this instance is spent ({exc})")

    def score_partial(self, task: Task, trajectory_prefix: Any, stage: str) -> Score:
        return self.judge.score_partial(task, trajectory_prefix, stage)


def _model(settings: Any) -> Any:
    from sweagent.model.litellm_model import Model

    return Model(ModelConfig(name=settings.model, api_base=settings.api_base, cost_limit=settings.cost_limit))


def _outcome(cid: str, selection: Selection, ranked: set[str]) -> str:
    """chosen, lost (ranked below the winner) or excluded (by a filter, or nothing was chosen)."""
    if cid == selection.chosen:
        return "chosen"
    return "lost" if cid in ranked and selection.chosen is not None else "excluded"


def candidate_rows(
    pool: CandidatePool, selection: Selection | None, judged: list[Judged] | None
) -> list[dict[str, Any]]:
    """One entry per distinct candidate: sources, patch, and (when judged) verdicts, scores, rank, reason."""
    rows = {r.id: r for r in selection.rows()} if selection else {}
    ranked = {r.id for r in selection.ranking} if selection else set()
    by_id = {j.candidate.id: j for j in judged or []}
    out = []
    for cand in pool.candidates:
        entry: dict[str, Any] = {
            "id": cand.id,
            "identity": cand.metadata["identity"],
            "sources": cand.metadata["sources"],
            "votes": len(cand.metadata["sources"]),
            "patch": cand.patch,
        }
        row = rows.get(cand.id)
        if row is not None and selection is not None:
            entry.update(
                outcome=_outcome(row.id, selection, ranked),
                rank=row.rank or None,
                score=row.score,
                cluster=row.cluster,
                behaviour_cluster=row.behaviour_cluster,
                cluster_votes=row.votes,
                reward=row.reward,
                reproduction_passed=row.reproduction_passed,
                patch_lines=row.patch_lines,
                excluded_by=row.excluded_by,
                reason=row.reason,
            )
        item = by_id.get(cand.id)
        if item is not None:
            entry["verdicts"] = [v.model_dump(mode="json") for v in item.verdicts]
            entry["scores"] = {k: s.model_dump(mode="json") for k, s in item.scores.items()}
        out.append(entry)
    return out


@dataclass
class SelectSummary:
    """What a select run did; `statuses` covers every selected instance."""

    run_dir: Path
    statuses: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    resumed: list[str] = field(default_factory=list)
    cost: float = 0.0


class SelectRunner:
    """Judge and choose for each pool in `pools` (instance id -> candidates) into `run_dir`."""

    def __init__(
        self,
        tasks: dict[str, Task],
        pools: dict[str, CandidatePool],
        config: SelectConfig,
        run_dir: Path,
        *,
        missing: dict[str, str] | None = None,
        dataset_source: str = "the dataset",
        dashboard: Dashboard | None = None,
        opener: SandboxOpener | None = None,
        redo: bool = False,
        executor: Executor | None = None,
        cache: ResultCache | None = None,
    ) -> None:
        # public views only: nothing below may see a gold patch, test patch or test list
        self.tasks = {iid: t.public() for iid, t in tasks.items()}
        self.pools = pools
        self.config = config
        self.run_dir = Path(run_dir)
        self.missing = missing or {}
        self.dataset_source = dataset_source
        self.dashboard = dashboard or PlainDashboard()
        self.opener = opener or open_instance_sandbox
        self.redo = redo
        self.cache = cache if cache is not None else ResultCache(self.run_dir / "cache.jsonl")
        if executor is None:
            from sweagent.executors.local import LocalExecutor

            executor = LocalExecutor(config.workers)
        self.executor = executor
        self.fingerprint_salt = config.judging_fingerprint()
        self._lock = threading.Lock()
        self._interrupted = threading.Event()
        self.preds: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.costs: dict[str, float] = {}

    def fingerprint(self, instance_id: str) -> str:
        return f"{self.pools[instance_id].fingerprint()}-{self.fingerprint_salt}"

    # -- files ----------------------------------------------------------------------------------------

    def _write_files(self) -> None:
        """preds.json and exit_statuses.yaml (caller holds the lock)."""
        write_predictions(self.run_dir / "preds.json", self.preds)
        write_exit_statuses(self.run_dir, self.statuses, self.costs, self.errors)

    def _take(self, record: dict[str, Any]) -> None:
        """Account for one record (caller holds the lock)."""
        iid = record["instance_id"]
        self.statuses[iid] = record["status"]
        self.costs[iid] = float(record.get("cost", 0.0) or 0.0)
        if record["status"] in FINAL_STATUSES:
            self.preds[iid] = make_prediction(iid, MODEL_NAME, chosen_patch(record))
            self.errors.pop(iid, None)
        else:
            self.preds.pop(iid, None)
            self.errors[iid] = record.get("detail", "")

    def _restore(self) -> list[str]:
        """Take every final record on disk; returns the selected instances that need no new judging."""
        done = []
        folder = self.run_dir / "select"
        on_disk = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        for iid in on_disk:
            record = read_record(self.run_dir, iid)
            if (
                record is None
                or record.get("instance_id") != iid
                or record.get("status") not in FINAL_STATUSES
            ):
                continue
            if iid in self.pools:
                if self.redo or record.get("fingerprint") != self.fingerprint(iid):
                    continue
                done.append(iid)
            self._take(record)
        return done

    # -- one instance -----------------------------------------------------------------------------------

    def _record(self, iid: str, status: str, detail: str, **extra: Any) -> dict[str, Any]:
        pool = self.pools[iid]
        return {
            "format": RECORD_FORMAT,
            "instance_id": iid,
            "status": status,
            "detail": detail,
            "chosen": None,
            "reason": "",
            "fingerprint": self.fingerprint(iid),
            "systems": [
                {"file": f, "system": s} for f, s in sorted({(s.file, s.system) for s in pool.submissions})
            ],
            "candidates": candidate_rows(pool, None, None),
            **extra,
        }

    def judge_instance(self, iid: str) -> dict[str, Any]:
        """The record of one instance; never raises for bad input or sandbox trouble (an error record)."""
        task = self.tasks.get(iid)
        if task is None:
            detail = self.missing.get(iid) or (
                f"not in {self.dataset_source}: check --dataset/--split, or the candidates file's instance ids"
            )
            return self._record(iid, "error", detail)
        if not is_safe_id(iid):
            return self._record(iid, "error", "instance id is not a plain name (letters, digits, _.+- only)")
        started = time.perf_counter()
        models: list[Any] = []
        try:
            record = self._judge_in_sandbox(iid, task, models)
        except UserError as exc:
            record = self._record(iid, "error", str(exc))
        except Exception as exc:  # sandbox or Docker trouble, or a bug: this instance only
            record = self._record(iid, "error", f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300])
        record["cost"] = round(sum(m.stats.cost for m in models), 6)
        record["seconds"] = round(time.perf_counter() - started, 3)
        return record

    def _judge_in_sandbox(self, iid: str, task: Task, models: list[Any]) -> dict[str, Any]:
        from verifiers.execution import ExecutionVerifier

        pool = self.pools[iid]
        cfg = self.config
        image = instance_image(task, cfg.inputs.image_namespace or None)
        self.dashboard.event({"instance_id": iid, "step": 0, "stage": "starting sandbox"})
        with self.opener(cfg.sandbox, image, task.base_commit, self.run_dir.name) as sandbox:
            verifier = ExecutionVerifier(sandbox, cfg.execution, self.cache)
            reward_models: dict[str, RewardModel] = {}
            if cfg.static:
                from verifiers.patch_static import StaticPatchReward

                reward_models["static"] = StaticPatchReward(sandbox, self.cache)
            if cfg.judge.model:
                from verifiers.judge import JudgeConfig, LLMJudge

                models.append(_model(cfg.judge))
                reward_models["judge"] = _BudgetedJudge(
                    LLMJudge(models[-1], JudgeConfig(k=cfg.judge.samples))
                )
            script, reproduction = None, None
            if cfg.reproduction.model and any(c.patch.strip() for c in pool.candidates):
                # a written script is evidence only once it reproduces the issue on the base commit
                self.dashboard.event({"instance_id": iid, "step": 0, "stage": "writing a reproduction"})
                models.append(_model(cfg.reproduction))
                attempts = cfg.execution.generate_reproduction or DEFAULT_REPRODUCTION_ATTEMPTS
                writer = ExecutionVerifier(
                    sandbox, cfg.execution.model_copy(update={"generate_reproduction": attempts}), self.cache
                )
                shared = writer.shared_reproduction(task, pool.candidates, models[-1])
                script, reproduction = shared.script, shared.model_dump(mode="json")

            def progress(done: int, total: int, cid: str) -> None:
                stage = f"judging {done + 1}/{total}" if done < total else "choosing"
                self.dashboard.event({"instance_id": iid, "step": done, "stage": stage})

            selection, judged = choose(
                task, pool.candidates, verifier, reward_models, cfg.selection, script, on_progress=progress
            )
        status = "chosen" if selection.chosen else "no_choice"
        return {
            **self._record(iid, status, selection.reason),
            "chosen": selection.chosen,
            "reason": selection.reason,
            "image": image,
            "reproduction_script": script,
            "reproduction": reproduction,
            "clusters": selection.clusters,
            "behaviour_clusters": selection.behaviour_clusters,
            "candidates": candidate_rows(pool, selection, judged),
        }

    def _job(self, iid: str) -> Job:
        if self.executor.remote:  # judged on a node, in its engine; only picklable inputs travel
            args = (iid, self.tasks.get(iid), self.pools[iid], self.config, self.missing.get(iid, ""))
            return Job(iid, judge_on_node, (*args, self.dataset_source))
        return Job(iid, self._judge_here, (iid,))

    def _judge_here(self, ctx: JobContext, iid: str) -> dict[str, Any]:
        return self.judge_instance(iid)

    def _done(self, outcome: Outcome) -> None:
        """Write one instance's record (in the thread that called `run`)."""
        iid = outcome.key
        if not outcome.started or self._interrupted.is_set():
            return  # never started, or cut short: not a result
        self._take_node_cache(iid)
        record = outcome.value
        if outcome.error or not isinstance(record, dict):  # lost with its node, or a bug
            record = self._record(iid, "error", outcome.error or "not judged")
        with self._lock:
            atomic_write_json(record_path(self.run_dir, iid), record)
            self._take(record)
            self._write_files()
        if record["status"] == "error":
            self.dashboard.note(f"{iid}: {record['detail']}")
        self.dashboard.finished(iid, record["status"], record.get("cost", 0.0))

    def _take_node_cache(self, iid: str) -> None:
        """Join the cache entries a remote job made into the run's cache."""
        path = self.run_dir / NODE_CACHE_DIR / f"{iid}.jsonl"
        if not path.is_file():
            return
        self.cache.merge(ResultCache(path))
        path.unlink(missing_ok=True)

    # -- the run ------------------------------------------------------------------------------------------

    def _remove_leftovers(self) -> None:
        """Containers of a killed earlier attempt of this run, on every node the executor runs on."""
        removed = self.executor.sweep(self.run_dir.name)
        if removed:
            self.dashboard.note(
                f"removed {removed} container(s) left by an earlier, killed attempt of this run"
            )

    def run(self) -> SelectSummary:
        """Judge every selected instance not done before; Ctrl-C leaves no container and no false record."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.run_dir / "config.yaml", self.config.snapshot_yaml())
        if self.redo:
            self.cache.clear()
            (self.run_dir / "cache.jsonl").unlink(missing_ok=True)
        self._remove_leftovers()
        done = set(self._restore())
        with self._lock:
            self._write_files()
        todo = [iid for iid in self.pools if iid not in done]
        selected = set(self.pools)
        self.dashboard.begin(
            len(self.pools),
            len(done),
            {i: s for i, s in self.statuses.items() if i in done},
            sum(self.costs.get(i, 0.0) for i in done),
        )
        hooks = RunHooks(
            on_done=self._done,
            on_start=self.dashboard.started,
            on_event=self.dashboard.event,
            stop=self._interrupted,
        )
        try:
            with self.dashboard:
                jobs = [self._job(iid) for iid in todo]
                self.executor.run(jobs, self.run_dir, hooks, run_label=self.run_dir.name)
        except BaseException:
            self._interrupted.set()
            raise
        return SelectSummary(
            run_dir=self.run_dir,
            statuses={i: s for i, s in self.statuses.items() if i in selected},
            errors={i: e for i, e in self.errors.items() if i in selected},
            resumed=sorted(done),
            cost=sum(self.costs.get(i, 0.0) for i in selected),
        )


class _EventRelay(PlainDashboard):
    """A node's view of the dashboard: progress events go back to the driver's live view."""

    def __init__(self, emit: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self._emit = emit

    def event(self, event: dict[str, Any]) -> None:
        self._emit(event)


def judge_on_node(
    ctx: JobContext,
    iid: str,
    task: Task | None,
    candidates: CandidatePool,
    config: SelectConfig,
    missing: str,
    dataset_source: str,
) -> dict[str, Any]:
    """One instance on whichever node a remote executor picked, in that node's Docker engine. Its
    cache entries are left in `node-cache/<id>.jsonl`, which travels back with the record."""
    runner = SelectRunner(
        {iid: task} if task is not None else {},
        {iid: candidates},
        config,
        ctx.out_dir,
        missing={iid: missing} if missing else None,
        dataset_source=dataset_source,
        dashboard=_EventRelay(ctx.emit),
        cache=ResultCache(ctx.out_dir / NODE_CACHE_DIR / f"{iid}.jsonl"),
    )
    record = runner.judge_instance(iid)
    if ctx.node and record.get("status") == "error":
        record["detail"] = f"on node {ctx.node}: {record['detail']}"
    return record
