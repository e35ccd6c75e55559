"""Real projects' test environments, built from their PyPI source distributions (no GitHub needed).

    python -m sweagent.swebench.real_projects build [--project django] [--layout base] [--no-instances]
    swe-ttc image build-real                       (the same, from the CLI)

For each project (Django, SymPy: their sdists ship their test suites) this builds, on top of the base
image:

- an environment image per layout, holding the project's dependencies and a local wheelhouse;
- a project image per layout: the release at /testbed as a git repository (the sdist's files in one
  commit with a fixed identity and date, so its sha is the same on every machine), installed editable;
- instance images for real SWE-bench Verified rows whose gold patch and test patch reverse-apply
  cleanly to the release: /testbed holds the release with both reversed, as its only commit (the fix
  is in no git object), so the row's real FAIL_TO_PASS / PASS_TO_PASS tests grade real patches.

Layouts. `base`: the project lives in the image's system Python (our own images). `conda`: the
official SWE-bench layout, `source /opt/miniconda3/bin/activate && conda activate testbed` then
/testbed; conda itself cannot be installed offline, so /opt/miniconda3 holds a venv as env `testbed`,
an `activate` script and a `conda` shell function covering `activate`/`deactivate`; the system Python
has no project installed, so anything that forgets the activation fails loudly.

Everything downloaded comes from PyPI on the host (`pip download`, cached under
~/.cache/swe-ttc/real-projects), so image builds need no network and no CA bundle in the container.
Images are rebuilt only when their inputs change (a content-hash label), so `build` is cheap to repeat.
Instance rows are written to a dataset file (`--out`) that `swe-ttc eval`, `select` and `synth` read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import docker

from sweagent.config import DEFAULT_IMAGE
from sweagent.errors import ImageNotFound, UserError
from sweagent.io import atomic_write_text
from sweagent.swebench.fixtures import GIT_ENV, HASH_LABEL
from sweagent.swebench.images import official_image_name

NAMESPACE = "swe-ttc-real"
LAYOUTS = ("base", "conda")
CONDA_ROOT = "/opt/miniconda3"
CONDA_ENV = f"{CONDA_ROOT}/envs/testbed"
WHEELHOUSE = "/opt/wheels"
SOURCE_ROWS = Path(__file__).with_name("real_instances.jsonl")
DEFAULT_OUT = Path("tests/fixtures/swebench/real.jsonl")  # relative to the project root, where CI runs
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "swe-ttc" / "real-projects"
# Files a build leaves in /testbed that are not the project's (sdists carry no .gitignore).
EXCLUDES = "__pycache__/\n*.pyc\n*.egg-info/\nbuild/\n.eggs/\n"

# SymPy's sdist lacks bin/test; SWE-bench's command is `bin/test -C --verbose <files>`. This is a thin
# stand-in with the options SWE-bench and developers use, over the runner bin/test wraps.
SYMPY_BIN_TEST = '''#!/usr/bin/env python
"""Run SymPy's tests: a thin wrapper over sympy.testing.runtests (the options of SymPy's bin/test)."""
import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("paths", nargs="*")
parser.add_argument("-v", "--verbose", action="store_true")
parser.add_argument("-C", "--no-cache", dest="cache", action="store_false")
parser.add_argument("-k", dest="kw", action="append")
parser.add_argument("--tb", default="short")
parser.add_argument("--pdb", action="store_true")
parser.add_argument("--no-colors", dest="colors", action="store_false")
parser.add_argument("--force-colors", action="store_true")
parser.add_argument("--random", dest="sort", action="store_false")
parser.add_argument("--seed", type=int)
parser.add_argument("--timeout", type=int, default=False)
parser.add_argument("--slow", action="store_true")
parser.add_argument("--no-subprocess", dest="subprocess", action="store_false")
parser.add_argument("-E", "--enhance-asserts", action="store_true")
parser.add_argument("--split")
parser.add_argument("--rerun", type=int, default=0)
options = parser.parse_args()
if not options.cache:
    os.environ["SYMPY_USE_CACHE"] = "no"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sympy  # noqa: E402

ok = sympy.test(
    *options.paths, verbose=options.verbose, kw=options.kw, tb=options.tb, pdb=options.pdb,
    colors=options.colors, force_colors=options.force_colors, sort=options.sort, seed=options.seed,
    timeout=options.timeout, slow=options.slow, subprocess=options.subprocess,
    enhance_asserts=options.enhance_asserts, split=options.split, rerun=options.rerun,
)
sys.exit(not ok)
'''

# The conda stand-in: `conda activate NAME` sources /opt/miniconda3/envs/NAME/bin/activate.
CONDA_SH = f"""# conda stand-in (conda cannot be installed offline): `conda activate|deactivate` over the venvs
# in {CONDA_ROOT}/envs, enough for SWE-bench eval scripts and the images' ~/.bashrc.
conda() {{
  case "$1" in
    activate)
      local name="${{2:-base}}"
      [ "$name" = base ] && return 0
      if [ ! -f "{CONDA_ROOT}/envs/$name/bin/activate" ]; then
        echo "EnvironmentNameNotFound: Could not find conda environment: $name" >&2
        return 1
      fi
      . "{CONDA_ROOT}/envs/$name/bin/activate"
      export CONDA_DEFAULT_ENV="$name" CONDA_PREFIX="{CONDA_ROOT}/envs/$name"
      ;;
    deactivate)
      command -v deactivate >/dev/null 2>&1 && deactivate
      unset CONDA_DEFAULT_ENV CONDA_PREFIX
      ;;
    *)
      echo "conda $1: this image's conda stand-in knows only activate and deactivate" >&2
      return 1
      ;;
  esac
}}
"""
CONDA_ACTIVATE = f""". {CONDA_ROOT}/etc/profile.d/conda.sh
if [ -n "${{1:-}}" ]; then conda activate "$1"; fi
"""
PIP_CONF = f"[global]\nno-index = true\nfind-links = {WHEELHOUSE}\n"
# Our own layout installs into Debian's system Python, which pip otherwise refuses (PEP 668).
SYSTEM_PIP_CONF = PIP_CONF + "break-system-packages = true\n"

ENV_DOCKERFILE = {
    "base": """FROM {base}
COPY wheels {wheelhouse}
COPY pip.conf /etc/pip.conf
RUN python3 -m pip install -q {requirements} \\
 && ln -sf /usr/bin/python3 /usr/local/bin/python
""",
    "conda": """FROM {base}
COPY wheels {wheelhouse}
COPY conda {conda_root}
RUN python3 -m venv {conda_env} \\
 && cp {conda_root}/pip.conf {conda_env}/pip.conf \\
 && {conda_env}/bin/python -m pip install -q setuptools wheel {requirements} \\
 && echo "source {conda_root}/etc/profile.d/conda.sh && conda activate testbed" > /root/.bashrc
""",
}
REPO_DOCKERFILE = """FROM {env}
COPY testbed.git /testbed/.git
WORKDIR /testbed
RUN git reset -q --hard {sha} \\
 && git config --global --add safe.directory /testbed \\
 && git config --global user.email agent@swe-ttc.invalid \\
 && git config --global user.name swe-ttc \\
 && {pip} install -q --no-deps --no-build-isolation -e /testbed \\
 && git status --porcelain | (! grep -q .)
"""


@dataclass(frozen=True)
class Project:
    """One real project: which release, which SWE-bench spec version it matches, its dependencies."""

    name: str
    repo: str
    package: str
    release: str
    spec_version: str
    requirements: tuple[str, ...]
    extra_files: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (text, mode)

    @property
    def sdist_name(self) -> str:
        return f"{self.package}-{self.release}.tar.gz"

    def env_image(self, layout: str) -> str:
        return f"{NAMESPACE}/{self.name}-env:{self.release}" + ("" if layout == "base" else f"-{layout}")

    def image(self, layout: str) -> str:
        """The project image: the release at /testbed, installed editable."""
        return f"{NAMESPACE}/{self.name}:{self.release}" + ("" if layout == "base" else f"-{layout}")


PROJECTS: dict[str, Project] = {
    "django": Project(
        name="django",
        repo="django/django",
        package="Django",
        release="5.0.14",
        spec_version="5.0",
        requirements=("asgiref==3.8.1", "sqlparse==0.5.3"),
    ),
    "sympy": Project(
        name="sympy",
        repo="sympy/sympy",
        package="sympy",
        release="1.12.1",
        spec_version="1.12",
        requirements=("mpmath==1.3.0",),
        extra_files={"bin/test": (SYMPY_BIN_TEST, 0o755)},
    ),
}
# The wheelhouse also holds what `pip install -e .` needs to build (eval scripts run it).
BUILD_REQUIREMENTS = ("setuptools==75.8.0", "wheel==0.45.1")


def project(name: str) -> Project:
    try:
        return PROJECTS[name]
    except KeyError:
        raise UserError(f"unknown project `{name}`: use one of {', '.join(PROJECTS)}") from None


# ---- downloads (host side, cached) -----------------------------------------------------------------


def _pip_download(args: list[str], dest: Path, what: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(dest), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("WARNING")]
        last = lines[-1] if lines else f"exit code {proc.returncode}"
        raise UserError(f"could not download {what} from PyPI ({last}): check access to the package index")


def fetch_sdist(proj: Project, cache: Path = CACHE_DIR) -> Path:
    """The release's source distribution, downloaded once."""
    path = cache / "sdists" / proj.sdist_name
    if not path.exists():
        _pip_download(
            ["--no-binary", ":all:", f"{proj.package}=={proj.release}"], path.parent, proj.sdist_name
        )
    if not path.exists():
        raise UserError(f"pip did not produce {proj.sdist_name}: check the release exists on PyPI")
    return path


def fetch_wheels(proj: Project, cache: Path = CACHE_DIR) -> Path:
    """A wheelhouse with the project's runtime and build requirements (pure-Python wheels)."""
    wheels = cache / "wheels" / proj.name
    stamp = wheels / ".requirements"
    wanted = "\n".join((*proj.requirements, *BUILD_REQUIREMENTS))
    if stamp.exists() and stamp.read_text() == wanted:
        return wheels
    shutil.rmtree(wheels, ignore_errors=True)
    _pip_download(
        ["--only-binary", ":all:", "--python-version", "3.11", *proj.requirements, *BUILD_REQUIREMENTS],
        wheels,
        "wheels for " + proj.name,
    )
    stamp.write_text(wanted)
    return wheels


# ---- repositories (host side) ---------------------------------------------------------------------


def _git(
    repo: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["git", "-c", "gc.auto=0", *args],
        cwd=repo,
        env={**GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        input=input,
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise UserError(f"git {args[0]} failed in {repo}: {detail}")
    return proc


def release_repo(proj: Project, sdist: Path, dest: Path) -> str:
    """The sdist's files (build artefacts dropped, the project's extra files added) as the one commit
    of a git repository at `dest`, with a fixed identity and date; returns the commit sha.

    An existing repository at `dest` is reused when its commit is complete (a build cache)."""
    if (dest / ".git").is_dir():
        done = _git(dest, "rev-parse", "--verify", "-q", "HEAD", check=False)
        if done.returncode == 0:
            return _on_top(dest, "HEAD", f"{proj.package} {proj.release}")
    if dest.exists():
        shutil.rmtree(dest)  # what an interrupted build left
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(sdist) as tar:
        tar.extractall(tmp, filter="data")
        (top,) = Path(tmp).iterdir()
        shutil.move(str(top), dest)
    for egg in dest.glob("*.egg-info"):
        shutil.rmtree(egg)
    for rel, (text, mode) in proj.extra_files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", f"{proj.package} {proj.release} (from its PyPI sdist)")
    return _on_top(dest, "HEAD", f"{proj.package} {proj.release}")


def _on_top(repo: Path, parent: str, message: str) -> str:
    """An empty commit on `parent`: the commit images name, so `git show` (eval scripts run it) prints
    a header rather than every file of a root commit."""
    return _git(repo, "commit-tree", f"{parent}^{{tree}}", "-p", parent, input=message + "\n").stdout.strip()


def _files_key(proj: Project) -> str:
    """Identifies what `release_repo` adds to the sdist (so a cached repository is reused only if equal)."""
    return hashlib.sha256(json.dumps(sorted(proj.extra_files.items())).encode()).hexdigest()[:8]


def instance_commit(release: Path, row: dict[str, Any]) -> str | None:
    """A parentless commit in `release` holding its tree with the row's gold and test patches reversed.

    None when either patch does not reverse-apply cleanly. Made on a scratch index (no checkout), with
    the fixed identity and date, so the sha is the same on every machine.
    """
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(release, "read-tree", "HEAD", env=env)
        for patch in (row["patch"], row["test_patch"]):
            if _git(release, "apply", "--cached", "-R", "-", input=patch, env=env, check=False).returncode:
                return None
        tree = _git(release, "write-tree", env=env).stdout.strip()
    message = f"{row['instance_id']} base: the release without the fix and its tests\n"
    root = _git(release, "commit-tree", tree, input=message).stdout.strip()
    return _on_top(release, root, f"{row['instance_id']} base")


def export_commit(source: Path, sha: str, git_dir: Path) -> None:
    """A new repository's .git at `git_dir` holding `sha` (as `main`) and nothing else of `source`."""
    git_dir.parent.mkdir(parents=True, exist_ok=True)
    _git(git_dir.parent, "init", "-q", "--bare", str(git_dir))
    _git(git_dir, "fetch", "-q", "--no-tags", str(source.resolve()), sha)
    _git(git_dir, "update-ref", "refs/heads/main", sha)
    _git(git_dir, "symbolic-ref", "HEAD", "refs/heads/main")
    _git(git_dir, "config", "core.bare", "false")
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "exclude").write_text(EXCLUDES)


# ---- images ------------------------------------------------------------------------------------------


def _content_key(context: Path, parent_id: str, extra: Iterable[str] = ()) -> str:
    digest = hashlib.sha256(parent_id.encode())
    digest.update((context / "Dockerfile").read_bytes())
    for part in extra:
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def _is_current(client: docker.DockerClient, tag: str, key: str) -> bool:
    try:
        return client.images.get(tag).labels.get(HASH_LABEL) == key
    except docker.errors.ImageNotFound:
        return False


def _build(client: docker.DockerClient, context: Path, tag: str, key: str, log: Callable[[str], None]) -> str:
    if _is_current(client, tag, key):
        return tag
    log(f"building {tag}")
    try:
        client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, labels={HASH_LABEL: key})
    except docker.errors.BuildError as exc:
        lines = [str(c.get("stream", c.get("error", ""))).strip() for c in exc.build_log]
        detail = next((ln for ln in reversed(lines) if ln), str(exc))
        raise UserError(f"building {tag} failed: {detail[:300]}") from None
    return tag


def _image_id(client: docker.DockerClient, name: str, hint: str) -> str:
    try:
        return client.images.get(name).id
    except docker.errors.ImageNotFound:
        raise ImageNotFound(f"image {name} is missing: {hint}") from None


def build_env_image(
    client: docker.DockerClient, proj: Project, layout: str, base_image: str, work: Path, log=print
) -> str:
    """The layout's Python with the project's dependencies and a wheelhouse (no project code)."""
    base_id = _image_id(client, base_image, "build it with `swe-ttc image build-base`")
    context = work / f"env-{proj.name}-{layout}"
    context.mkdir(parents=True)
    wheels = fetch_wheels(proj)
    shutil.copytree(wheels, context / "wheels", ignore=shutil.ignore_patterns(".requirements"))
    if layout == "conda":
        (context / "conda" / "bin").mkdir(parents=True)
        (context / "conda" / "etc" / "profile.d").mkdir(parents=True)
        (context / "conda" / "etc" / "profile.d" / "conda.sh").write_text(CONDA_SH)
        (context / "conda" / "bin" / "activate").write_text(CONDA_ACTIVATE)
        (context / "conda" / "pip.conf").write_text(PIP_CONF)
    else:
        (context / "pip.conf").write_text(SYSTEM_PIP_CONF)
    (context / "Dockerfile").write_text(
        ENV_DOCKERFILE[layout].format(
            base=base_image,
            wheelhouse=WHEELHOUSE,
            conda_root=CONDA_ROOT,
            conda_env=CONDA_ENV,
            requirements=" ".join(proj.requirements),
        )
    )
    names = sorted(p.name for p in (context / "wheels").iterdir())
    key = _content_key(context, base_id, [*names, CONDA_SH, CONDA_ACTIVATE, SYSTEM_PIP_CONF])
    return _build(client, context, proj.env_image(layout), key, log)


def build_repo_image(
    client: docker.DockerClient,
    env_image: str,
    layout: str,
    source: Path,
    sha: str,
    tag: str,
    work: Path,
    log: Callable[[str], None] = print,
) -> str:
    """`env_image` plus commit `sha` of `source` checked out at /testbed (its only commit), installed editable."""
    env_id = _image_id(client, env_image, "build the environment image first")
    context = work / f"repo-{tag.replace('/', '_').replace(':', '_')}"
    context.mkdir(parents=True)
    pip = f"{CONDA_ENV}/bin/python -m pip" if layout == "conda" else "python3 -m pip"
    (context / "Dockerfile").write_text(REPO_DOCKERFILE.format(env=env_image, pip=pip, sha=sha))
    key = _content_key(context, env_id, [sha])
    if not _is_current(client, tag, key):  # the commit pins every file: export it only when building
        export_commit(source, sha, context / "testbed.git")
    return _build(client, context, tag, key, log)


# ---- instances --------------------------------------------------------------------------------------


def instance_image(instance_id: str) -> str:
    return official_image_name(instance_id, NAMESPACE)


def read_rows(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc.strerror}): pass a SWE-bench .jsonl file") from None
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def instance_row(proj: Project, row: dict[str, Any], base_commit: str) -> dict[str, Any]:
    """The Verified row re-based on the release: new base commit and image; everything else as is."""
    return {
        **row,
        "base_commit": base_commit,
        "environment_setup_commit": base_commit,
        "image": instance_image(row["instance_id"]),
        "sdist_release": f"{proj.package}-{proj.release}",
    }


@dataclass
class BuildResult:
    images: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def build(
    projects: Iterable[str] = tuple(PROJECTS),
    layouts: Iterable[str] = LAYOUTS,
    instances: bool = True,
    source_rows: Path = SOURCE_ROWS,
    out: Path | None = DEFAULT_OUT,
    client: docker.DockerClient | None = None,
    base_image: str = DEFAULT_IMAGE,
    log: Callable[[str], None] = print,
) -> BuildResult:
    """Build the project images (and instance images, in the official layout); write the rows to `out`."""
    from sweagent.swebench.images import docker_client

    rows = read_rows(source_rows) if instances else []
    client = client or docker_client()
    result = BuildResult()
    with tempfile.TemporaryDirectory(prefix="swe-ttc-real-") as tmp:
        work = Path(tmp)
        for name in projects:
            proj = project(name)
            release = CACHE_DIR / "repos" / f"{proj.name}-{proj.release}-{_files_key(proj)}"
            release_sha = release_repo(proj, fetch_sdist(proj), release)
            used = [layout for layout in LAYOUTS if layout in layouts or (instances and layout == "conda")]
            envs = {layout: build_env_image(client, proj, layout, base_image, work, log) for layout in used}
            for layout in layouts:
                tag = proj.image(layout)
                result.images.append(
                    build_repo_image(client, envs[layout], layout, release, release_sha, tag, work, log)
                )
            for row in rows:
                if row["repo"] != proj.repo:
                    continue
                sha = instance_commit(release, row)
                if sha is None:
                    result.skipped[row["instance_id"]] = (
                        f"its patches do not reverse-apply to {proj.sdist_name}"
                    )
                    continue
                tag = instance_image(row["instance_id"])
                result.images.append(
                    build_repo_image(client, envs["conda"], "conda", release, sha, tag, work, log)
                )
                result.rows.append(instance_row(proj, row, sha))
    if out is not None and instances:
        atomic_write_text(out, "".join(json.dumps(r) + "\n" for r in result.rows))
    return result


@click.group()
def cli() -> None:
    """Real projects' environments (Django, SymPy) built from PyPI sdists."""


@cli.command("build")
@click.option("--project", "projects", multiple=True, type=click.Choice(list(PROJECTS)), help="default: all")
@click.option("--layout", "layouts", multiple=True, type=click.Choice(LAYOUTS), help="default: both")
@click.option(
    "--instances/--no-instances", default=True, show_default=True, help="also build instance images"
)
@click.option(
    "--rows", type=click.Path(path_type=Path), default=SOURCE_ROWS, help="SWE-bench rows to re-base"
)
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True)
@click.option("--base-image", default=DEFAULT_IMAGE, show_default=True)
def build_cmd(projects, layouts, instances, rows, out, base_image) -> None:
    """Build real projects' test environments (Django, SymPy) from their PyPI sdists, and images of real
    SWE-bench Verified instances re-based on those releases (rebuilt only when their inputs change)."""
    try:
        result = build(
            projects or tuple(PROJECTS),
            layouts or LAYOUTS,
            instances,
            rows,
            out,
            base_image=base_image,
            log=lambda line: click.echo(line, err=True),
        )
    except UserError as err:
        raise click.ClickException(str(err)) from None
    for image in result.images:
        click.echo(image)
    for instance_id, why in result.skipped.items():
        click.echo(f"skipped {instance_id}: {why}", err=True)
    if instances:
        click.echo(f"dataset: {out} ({len(result.rows)} instances)")


if __name__ == "__main__":
    cli()
