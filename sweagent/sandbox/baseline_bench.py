"""`swe-ttc bench baseline`: what recording a sandbox's start state costs, and what it saves.

On set-up fixture images (`sweagent.swebench.setup_fixtures`) with a large package, so that
`pip install .` leaves a large untracked build/: the agent's work (the fix, a new module, a
reproduction script it ran) is made in one sandbox, then measured in the same run
- the patch, as files and bytes: relative to the start state (ours) and as it was made before start
  states existed (`git add -A` of the whole work tree diffed against the base commit, new files
  dropped when any name on their path matched the old default globs: `legacy_diff` below);
- time: recording the start state (median of repeats in the started sandbox), the whole sandbox
  start, what a start did before (one index refresh), and one `diff()` ours vs legacy.
"""

from __future__ import annotations

import fnmatch
import json
import statistics
import time
from collections.abc import Callable

import click
import unidiff

from sweagent.config import DEFAULT_IMAGE, SandboxConfig
from sweagent.sandbox.shell import quote
from sweagent.sandbox.shell_sandbox import _DIFF, _GIT, ShellSandbox, decode_patch

# The default scratch globs before start states existed, matched against every name on the path.
LEGACY_GLOBS = [
    "reproduce*.py", "repro_*.py", "*_repro.py", "scratch*", "debug_*.py",
    "__pycache__", "*.pyc", ".pytest_cache", "*.egg-info",
]  # fmt: skip
SCRATCH = ["reproduce*.py", "repro_*.py", "*_repro.py", "scratch*", "debug_*.py"]


def legacy_diff(sandbox: ShellSandbox) -> str:
    """The patch as it was made before start states: everything in the work tree against the base
    commit, minus new files with any name on their path matching `LEGACY_GLOBS`."""
    index = quote(f"{sandbox.scratch}/.swe_ttc_bench_index")
    fill = (
        f'cp -fp "$({_GIT} rev-parse --git-path index)" {index}; export GIT_INDEX_FILE={index}; '
        f'trap "rm -f {index}" EXIT; {_GIT} add -A . || exit 91; '
    )
    base = quote(sandbox.base_commit)
    names = sandbox._internal(fill + f"{_GIT} diff --cached --name-only --diff-filter=A -z {base} --")
    dropped = [
        name.decode()
        for name in names.split(b"\0")
        if name and any(fnmatch.fnmatchcase(p, g) for p in name.decode().split("/") for g in LEGACY_GLOBS)
    ]
    remove = f"{_GIT} rm -q --cached -- {' '.join(quote(n) for n in dropped)} >/dev/null; " if dropped else ""
    return decode_patch(sandbox._internal(fill + remove + f"{_GIT} {_DIFF} {base} --"))


def patch_size(patch: str) -> dict[str, int]:
    files = unidiff.PatchSet(patch) if patch.strip() else []
    return {"files": len(files), "bytes": len(patch.encode("utf-8", "surrogateescape"))}


def _median_ms(call: Callable[[], object], n: int) -> dict[str, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 2), "max_ms": round(max(samples), 2), "n": n}


def _agent_work(sandbox: ShellSandbox) -> None:
    """The fix, a new module, and a reproduction script the agent ran (bytecode appears)."""
    ops = sandbox.read_file("calc/ops.py")
    sandbox.write_file("calc/ops.py", ops.replace("return a // b", "return a / b"))
    sandbox.write_file("calc/debug_utils.py", "def explain(a, b):\n    return f'{a}/{b}'\n")
    sandbox.write_file("reproduce_issue.py", "from calc import divide\n\nprint(divide(7, 2))\n")
    result = sandbox.run("python3 reproduce_issue.py", timeout=60)
    if not result.ok:
        raise click.ClickException(f"the reproduction script failed in the sandbox: {result.output[-300:]}")


def measure(image: str, repeats: int) -> dict:
    """Patch sizes and timings for one image (see the module docstring)."""
    from sweagent.sandbox.docker_sandbox import DockerSandbox

    config = SandboxConfig(image=image, network="none")
    opened: list[float] = []
    for _ in range(max(1, repeats // 4)):
        started = time.perf_counter()
        with DockerSandbox(config, run_label="bench-baseline"):
            opened.append((time.perf_counter() - started) * 1000)
    with DockerSandbox(config, run_label="bench-baseline") as box:
        start = box.baseline
        assert start is not None
        record = _median_ms(box.record_baseline, repeats)
        refresh = _median_ms(
            lambda: box._internal(f"{_GIT} update-index -q --refresh >/dev/null 2>&1; true"), repeats
        )
        _agent_work(box)
        ours, legacy = box.diff(exclude_new=SCRATCH), legacy_diff(box)
        diff_ours = _median_ms(lambda: box.diff(exclude_new=SCRATCH), repeats)
        diff_legacy = _median_ms(lambda: legacy_diff(box), repeats)
    return {
        "image": image,
        "start_state": {key: value for key, value in start.summary(limit=5).items() if key != "tree"},
        "patch_ours": patch_size(ours),
        "patch_legacy": patch_size(legacy),
        "legacy_over_ours_bytes": round(patch_size(legacy)["bytes"] / max(1, patch_size(ours)["bytes"]), 1),
        "record_start_state": record,
        "index_refresh_only_legacy_start": refresh,
        "sandbox_start_total": {"median_ms": round(statistics.median(opened), 1), "n": len(opened)},
        "record_share_of_start": round(record["median_ms"] / statistics.median(opened), 3),
        "diff_ours": diff_ours,
        "diff_legacy": diff_legacy,
    }


@click.command("baseline")
@click.option("--modules", default=64, show_default=True, help="generated modules (size of build/)")
@click.option("--repeats", default=12, show_default=True, help="timed repeats per figure")
@click.option("--kind", "kinds", multiple=True, default=("build", "all"), show_default=True)
@click.option("--base-image", default=DEFAULT_IMAGE, show_default=True)
def bench_baseline(modules: int, repeats: int, kinds: tuple[str, ...], base_image: str) -> None:
    """Patch size with and without the start state, and the cost of recording it; prints JSON."""
    from sweagent.swebench.setup_fixtures import build

    rows = build(list(kinds), base_image=base_image, modules=modules)
    report = {
        "bench": "baseline",
        "modules": modules,
        "cases": {kind: measure(row["image"], repeats) for kind, row in zip(kinds, rows, strict=True)},
    }
    click.echo(json.dumps(report, indent=2))
