"""Real SWE-bench issues on machines that cannot clone GitHub: repositories rebuilt from release sdists.

Each release tarball (e.g. `pip download --no-deps --no-binary :all: django==4.1.13`) becomes one commit
of DIR/<owner>__<name>. An instance is kept when its gold patch applies cleanly to a release no newer
than its version (checked with `git apply --cached --check` on a scratch index, no checkout), and its
base commit is rewritten to that release's commit. The issue text and gold patch are the real ones, so
`swe-ttc bench localize` on the result measures localisation on real bugs.

    python -m sweagent.localize.sdist_repos --dataset verified.jsonl --repo django/django \\
        --out DIR --sdist Django-4.1.13.tar.gz --sdist Django-4.0.10.tar.gz ...

`--fetch PACKAGE` instead of `--sdist` downloads the releases the dataset's instances need (see
`plan_releases`) into DIR/sdists with `pip download`, or, when pip cannot prepare an old release's metadata
(old numpy-era build scripts), straight from the index's simple API, the same files pip would fetch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections import defaultdict
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
    release = version.split(".post")[0]
    return tuple(int(p) for p in re.findall(r"\d+", release)[:3])


def sdist_version(path: Path) -> str:
    match = re.search(r"-(\d+(?:\.\d+)*(?:\.post\d+)?)\.(?:tar\.gz|zip)$", path.name)
    if not match:
        raise click.BadParameter(f"cannot read a version from {path.name}")
    return match.group(1)


_RELEASE_RE = re.compile(r"\d+(?:\.\d+)*(?:\.post\d+)?")


def available_versions(package: str) -> list[str]:
    """Final releases of `package` on the package index (`pip index versions`), oldest first."""
    res = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", package], capture_output=True, text=True
    )
    match = re.search(r"Available versions: (.*)", res.stdout)
    if res.returncode != 0 or not match:
        raise click.ClickException(f"cannot list the releases of {package}: {res.stderr.strip()[:200]}")
    found = [v for v in match.group(1).split(", ") if _RELEASE_RE.fullmatch(v)]
    return sorted(found, key=version_key)


def plan_releases(instance_versions: list[str], available: list[str]) -> list[str]:
    """Releases worth rebuilding for instances developed towards `instance_versions` (e.g. "3.1").

    An instance's base commit lies between the previous minor release and its own: the newest patch
    release of the previous minor predates it, and the first and newest releases of its own minor may
    predate its fix (bug-fix branches). `commit_releases`/`applies` then keep, per instance, the newest
    of these the gold patch applies to.
    """
    minors: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for version in sorted(available, key=version_key):
        minors[version_key(version)[:2]].append(version)
    wanted: set[str] = set()
    for version in set(instance_versions):
        target = version_key(version)[:2]
        older = sorted(m for m in minors if m <= target)
        if not older:
            continue
        if older[-1] == target:
            wanted.update((minors[target][0], minors[target][-1]))
            older = older[:-1]
        if older:
            wanted.add(minors[older[-1]][-1])
    return sorted(wanted, key=version_key)


def fetch_sdist(package: str, version: str, dest: Path) -> Path:
    """The source distribution of `package==version` in `dest` (downloaded unless already there)."""
    dest.mkdir(parents=True, exist_ok=True)
    for existing in dest.iterdir():
        if _is_release_of(existing.name, package, version):
            return existing
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation"]
        + ["--quiet", "-d", str(dest), f"{package}=={version}"],
        capture_output=True,
        text=True,
    )
    for existing in dest.iterdir():
        if _is_release_of(existing.name, package, version):
            return existing
    return _fetch_from_simple_index(package, version, dest)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_release_of(filename: str, package: str, version: str) -> bool:
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            name, _, got = stem.rpartition("-")
            return _normalise(name) == _normalise(package) and got == version
    return False


INDEX_URL = "https://pypi.org/simple"


def _fetch_from_simple_index(package: str, version: str, dest: Path) -> Path:
    """The sdist file as the index lists it (PEP 691 JSON), without building anything."""
    request = urllib.request.Request(
        f"{INDEX_URL}/{_normalise(package)}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        listing = json.load(response)
    for entry in listing.get("files", []):
        if _is_release_of(entry["filename"], package, version):
            target = dest / entry["filename"]
            with (
                urllib.request.urlopen(entry["url"], timeout=300) as response,
                tempfile.NamedTemporaryFile(dir=dest, delete=False) as tmp,
            ):
                shutil.copyfileobj(response, tmp)
            Path(tmp.name).replace(target)
            return target
    raise click.ClickException(f"no source distribution of {package}=={version} on {INDEX_URL}")


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
@click.option("--sdist", "sdists", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--fetch", "package", default=None, help="package name: download the releases the instances need"
)
def main(dataset: str, repo_name: str, out: str, sdists: tuple[str, ...], package: str | None) -> None:
    """Build DIR/repos/<owner>__<name> from sdists and DIR/<owner>__<name>.jsonl of the instances that apply."""
    out_dir = Path(out)
    repo = out_dir / "repos" / repo_name.replace("/", "__")
    rows = [json.loads(line) for line in Path(dataset).read_text().splitlines() if line.strip()]
    paths = [Path(s) for s in sdists]
    if package:
        wanted = plan_releases(
            [str(r["version"]) for r in rows if r["repo"] == repo_name], available_versions(package)
        )
        for version in wanted:
            paths.append(fetch_sdist(package, version, out_dir / "sdists"))
            click.echo(f"fetched {paths[-1].name}", err=True)
    if not paths:
        raise click.UsageError("pass --sdist FILE (repeatable) or --fetch PACKAGE")
    shas = commit_releases(repo, paths)
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
