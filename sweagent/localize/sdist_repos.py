"""Real SWE-bench issues on machines that cannot clone GitHub: repositories rebuilt from release sdists.

Each release tarball (e.g. `pip download --no-deps --no-binary :all: django==4.1.13`) becomes one commit
of DIR/<owner>__<name>. An instance is kept when its gold patch applies cleanly to a release no newer
than its version (checked with `git apply --cached --check` on a scratch index, no checkout), and its
base commit is rewritten to that release's commit. The issue text and gold patch are the real ones, so
`swe-ttc bench localize` on the result measures localisation on real bugs.

    python -m sweagent.localize.sdist_repos --dataset verified.jsonl --repo django/django \\
        --out DIR --sdist Django-4.1.13.tar.gz --sdist Django-4.0.10.tar.gz ...
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import click

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "sdist",
    "GIT_AUTHOR_EMAIL": "sdist@localhost",
    "GIT_COMMITTER_NAME": "sdist",
    "GIT_COMMITTER_EMAIL": "sdist@localhost",
}


def _git(
    repo: Path, *args: str, env: dict | None = None, input: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **_GIT_ENV, **(env or {})},
    )


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def sdist_version(path: Path) -> str:
    match = re.search(r"-(\d+(?:\.\d+)*)\.(?:tar\.gz|zip)$", path.name)
    if not match:
        raise click.BadParameter(f"cannot read a version from {path.name}")
    return match.group(1)


def commit_releases(repo: Path, sdists: list[Path]) -> dict[str, str]:
    """One commit per release, oldest first; returns version -> commit sha."""
    repo.mkdir(parents=True, exist_ok=True)
    if not (repo / ".git").exists():
        _git(repo, "init", "-q", "-b", "main")
    shas: dict[str, str] = {}
    for sdist in sorted(sdists, key=lambda p: version_key(sdist_version(p))):
        version = sdist_version(sdist)
        for child in repo.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        with tempfile.TemporaryDirectory() as tmp, tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
            (top,) = Path(tmp).iterdir()
            for child in top.iterdir():
                shutil.move(str(child), repo / child.name)
        # tarballs carry their own mtimes: a fresh index makes git hash every file instead of trusting stat
        (repo / ".git" / "index").unlink(missing_ok=True)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", f"release {version}")
        shas[version] = _git(repo, "rev-parse", "HEAD").stdout.strip()
    return shas


def applies(repo: Path, sha: str, patch: str) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if _git(repo, "read-tree", sha, env=env).returncode != 0:
            return False
        return _git(repo, "apply", "--cached", "--check", "-", env=env, input=patch).returncode == 0


@click.command()
@click.option("--dataset", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--repo", "repo_name", required=True, help="owner/name as in the dataset")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="DIR for repos and dataset")
@click.option("--sdist", "sdists", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False))
def main(dataset: str, repo_name: str, out: str, sdists: tuple[str, ...]) -> None:
    """Build DIR/repos/<owner>__<name> from sdists and DIR/<owner>__<name>.jsonl of the instances that apply."""
    out_dir = Path(out)
    repo = out_dir / "repos" / repo_name.replace("/", "__")
    shas = commit_releases(repo, [Path(s) for s in sdists])
    rows = [json.loads(line) for line in Path(dataset).read_text().splitlines() if line.strip()]
    kept = []
    for row in rows:
        if row["repo"] != repo_name:
            continue
        older = [v for v in shas if version_key(v)[:2] <= version_key(str(row.get("version", "999")))[:2]]
        for version in sorted(older, key=version_key, reverse=True):
            if applies(repo, shas[version], row["patch"]):
                kept.append({**row, "base_commit": shas[version], "sdist_version": version})
                break
    target = out_dir / f"{repo_name.replace('/', '__')}.jsonl"
    target.write_text("".join(json.dumps(r) + "\n" for r in kept))
    click.echo(
        json.dumps({"repo": repo_name, "releases": shas, "instances": len(kept), "dataset": str(target)})
    )


if __name__ == "__main__":
    main()
