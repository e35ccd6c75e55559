"""`swe-ttc bench repo-copy`: preparing a sandbox's repository at an older commit, two ways, same run.

- `history_copy` is what a sandbox's first copy of a commit costs (`repo_copy.prepare_clone`): a new
  repository that fetches the base commit and its history only; `history_copy_again` what every
  later copy of the same commit in the process costs (a file copy of the first);
- `clone_and_hide` is the way it was done before: a full `git clone --no-hardlinks`, then every ref
  after the base deleted and the reflog expired (its packs still hold every later object).

For each: the median seconds to prepare a copy, the objects in it, and how many of them are not in
the base commit's history (the "future" an agent could read with `git fsck --lost-found`).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import click

from sweagent.sandbox import repo_copy
from sweagent.sandbox.repo_copy import GIT_ENV, prepare_clone, resolve_commit


def _git(cwd: Path | None, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def clone_and_hide(src: Path, sha: str, dest: Path) -> None:
    """The earlier preparation: clone everything, check out `sha`, delete the later refs."""
    _git(None, "clone", "--quiet", "--no-hardlinks", "--no-checkout", str(src), str(dest))
    _git(dest, "checkout", "--quiet", "--force", "-B", "main", sha)
    _git(dest, "remote", "remove", "origin")
    keep = {"refs/heads/main"} | {f"refs/tags/{t}" for t in _git(dest, "tag", "--merged", sha).split()}
    doomed = [r for r in _git(dest, "for-each-ref", "--format=%(refname)").split() if r not in keep]
    if doomed:
        _git(dest, "update-ref", "--no-deref", "--stdin", stdin="".join(f"delete {r}\n" for r in doomed))
    _git(dest, "reflog", "expire", "--expire=now", "--all")


def object_counts(repo: Path, sha: str) -> dict[str, int]:
    """Objects in `repo`, and how many of them are not reachable from `sha`."""
    every = set(_git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split())
    history = {line.split()[0] for line in _git(repo, "rev-list", "--objects", sha).splitlines() if line}
    return {"objects": len(every), "future_objects": len(every - history)}


def generated_history(dest: Path, sdist: Path | None, commits: int) -> Path:
    """A packed repository of `commits` commits: the files of `sdist` (or 2,000 generated modules),
    then commits that each change a few files."""
    dest.mkdir(parents=True)
    _git(dest, "init", "--quiet", "--initial-branch=main")
    if sdist is not None:
        with tarfile.open(sdist) as tar:
            tar.extractall(dest, filter="data")
        (top,) = [p for p in dest.iterdir() if p.name != ".git"]
        for item in top.iterdir():
            item.rename(dest / item.name)
        top.rmdir()
    else:
        for n in range(2000):
            path = dest / f"pkg{n % 40}" / f"mod{n}.py"
            path.parent.mkdir(exist_ok=True)
            path.write_text("".join(f"def f{k}(x):\n    return x + {k * n}\n\n" for k in range(30)))
    _git(dest, "add", "-A")
    _git(dest, "commit", "--quiet", "-m", "import")
    files = sorted(p for p in dest.rglob("*.py") if ".git" not in p.parts)
    for n in range(1, commits):
        for path in files[n * 7 % len(files) :: max(1, len(files) // 3)][:3]:
            with path.open("a") as handle:
                handle.write(f"\n# change {n}\n")
        _git(dest, "commit", "--quiet", "-am", f"change {n}")
    _git(dest, "gc", "--quiet")  # packed, as a cloned repository is
    return dest


def _timed(ways: dict[str, object], rounds: int) -> dict[str, tuple[float, Path]]:
    """Median seconds of each way, rounds interleaved (a busy machine slows every way alike)."""
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    kept: dict[str, Path] = {}
    for _ in range(rounds):
        for name, prepare in ways.items():
            root = Path(tempfile.mkdtemp(prefix="swe-ttc-copy-bench-"))
            started = time.perf_counter()
            path = prepare(root)  # type: ignore[operator]
            seconds[name].append(time.perf_counter() - started)
            if name not in kept:
                kept[name] = path
            else:
                shutil.rmtree(path.parent, ignore_errors=True)
                shutil.rmtree(root, ignore_errors=True)
    return {name: (statistics.median(seconds[name]), kept[name]) for name in ways}


@click.command("repo-copy")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), help="a git repository to copy")
@click.option("--base", help="commit to prepare the copy at (default: the middle of --repo's history)")
@click.option(
    "--sdist", type=click.Path(dir_okay=False, path_type=Path), help="build the history over this sdist"
)
@click.option("--commits", type=click.IntRange(min=2), default=200, show_default=True)
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
def bench_repo_copy(
    repo: Path | None, base: str | None, sdist: Path | None, commits: int, rounds: int
) -> None:
    """Time to prepare a sandbox's copy, and later objects left in it: history copy vs clone-and-hide."""
    with tempfile.TemporaryDirectory(prefix="swe-ttc-copy-bench-src-") as tmp:
        src = repo.resolve() if repo else generated_history(Path(tmp) / "repo", sdist, commits)
        total = int(_git(src, "rev-list", "--count", "HEAD"))
        sha = resolve_commit(src, base or f"HEAD~{total // 2}")
        roots: list[Path] = []

        def new_way(root: Path) -> Path:
            repo_copy._drop_cache()  # each round is a first copy
            prepared = prepare_clone(src, sha, prefix="swe-ttc-copy-bench-")
            roots.append(prepared.root)
            return prepared.path

        def again(root: Path) -> Path:
            prepared = prepare_clone(src, sha, prefix="swe-ttc-copy-bench-")
            roots.append(prepared.root)
            return prepared.path

        def old_way(root: Path) -> Path:
            clone_and_hide(src, sha, root / "repo")
            return root / "repo"

        results = {}
        try:
            ways = {"history_copy": new_way, "history_copy_again": again, "clone_and_hide": old_way}
            for name, (median, path) in _timed(ways, rounds).items():
                results[name] = {"median_seconds": round(median, 4), **object_counts(path, sha)}
                shutil.rmtree(path.parent, ignore_errors=True)
        finally:
            for root in roots:
                shutil.rmtree(root, ignore_errors=True)
        new, old = results["history_copy"], results["clone_and_hide"]
        print(
            json.dumps(
                {
                    "bench": "repo-copy",
                    "repo": str(repo) if repo else f"generated ({sdist.name if sdist else 'modules'})",
                    "commits": total,
                    "base_history_commits": int(_git(src, "rev-list", "--count", sha)),
                    "rounds": rounds,
                    **results,
                    "time_ratio_new_over_old": round(new["median_seconds"] / old["median_seconds"], 3),
                    "time_ratio_again_over_old": round(
                        results["history_copy_again"]["median_seconds"] / old["median_seconds"], 3
                    ),
                }
            )
        )
