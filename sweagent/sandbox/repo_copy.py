"""Getting a repository into a sandbox without touching the user's tree.

A host repository is copied into a private temp dir as a new repository that holds the requested
commit and its history, nothing later: no branch, remote, stash, tag, reflog entry or object from
after that commit exists in the copy, reachable or not, so an agent cannot read a later fix from
`git log --all`, `git fsck --lost-found` or the pack files. Commit ids are the host's own.
The local sandbox works in that clone directly; the Docker sandbox ships it as a tar stream to
`/testbed` with root ownership (so git inside never complains about dubious ownership).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sweagent.errors import UserError
from sweagent.sandbox import cleanup

# Internal git commands get a fixed identity, trust any directory and never page or prompt.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "swe-ttc",
    "GIT_AUTHOR_EMAIL": "swe-ttc@localhost",
    "GIT_COMMITTER_NAME": "swe-ttc",
    "GIT_COMMITTER_EMAIL": "swe-ttc@localhost",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
}


def _git(cwd: str | Path | None, *args: str, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise UserError(
            "git is not installed on this machine: install it (e.g. `apt-get install git`)"
        ) from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


@dataclass
class PreparedRepo:
    """A private clone at `commit`; `root` is the temp dir to delete, `path` the work tree in it."""

    root: Path
    path: Path
    commit: str

    def cleanup(self, background: bool = False) -> None:
        """Delete the clone; `background` when nobody waits for it (see `remove_tree_later`)."""
        if background:
            remove_tree_later(self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def remove_tree_later(path: Path) -> None:
    """Delete a temp tree in a background thread (thousands of unlinks can take seconds).

    The thread is not a daemon, so a normal exit waits for it; an exit by signal deletes the tree
    synchronously through the cleanup registry."""
    if cleanup.shutting_down():
        shutil.rmtree(path, ignore_errors=True)
        return
    key = id(path)

    def remove() -> None:
        shutil.rmtree(path, ignore_errors=True)
        cleanup.unregister(key)

    cleanup.register(key, lambda: shutil.rmtree(path, ignore_errors=True))
    threading.Thread(target=remove, name="swe-ttc-rmtree", daemon=False).start()


def resolve_commit(repo_path: str | Path, commit: str | None = None) -> str:
    """Full sha of `commit` (default HEAD) in the host repository, or a one-line UserError."""
    path = Path(repo_path).expanduser()
    if not path.exists():
        raise UserError(f"repository path {path} does not exist: pass an existing git repository")
    if not path.is_dir():
        raise UserError(f"repository path {path} is not a directory: pass a git repository folder")
    top = _git(path, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UserError(f"{path} is not a git repository: run `git init` and commit, or pass another path")
    ref = commit or "HEAD"
    found = _git(path, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        if commit is None or not _git(path, "rev-list", "-n", "1", "--all").stdout.strip():
            raise UserError(f"{path} has no commits yet: commit your files first")
        raise UserError(f"unknown commit `{commit}` in {path}: pass a commit that exists there")
    return found.stdout.strip()


def prepare_clone(
    repo_path: str | Path, commit: str | None = None, *, prefix: str = "swe-ttc-repo-"
) -> PreparedRepo:
    """A new repository in a temp dir holding `commit` (default HEAD) and its history only.

    The copy is a fresh `git init` that fetches `commit` and the tags already in its history from
    the host repository. A fetch sends only the objects reachable from what it asks for, so no
    later commit, tree or blob ever arrives (unlike a clone whose future refs are deleted after the
    fact, which keeps their objects in its packs). Commit ids stay those of the host repository.
    The first copy of a (repository, commit) is kept for the life of the process, and later ones
    are file copies of it (a fetch hashes every object again; samples and search slots ask for the
    same commit many times).

    (Checking out inside the container instead was measured slower: git's per-file writes on the
    container's overlay file system cost more than writing here and extracting one archive.)"""
    src = Path(repo_path).expanduser().resolve()
    sha = resolve_commit(src, commit)
    top = _git(src, "rev-parse", "--show-toplevel").stdout.strip()
    branch = _git(src, "symbolic-ref", "--quiet", "--short", "HEAD").stdout.strip() or "main"
    root = Path(tempfile.mkdtemp(prefix=prefix))
    dest = root / "repo"
    try:
        for attempt in range(2):
            source = _history_copy(Path(top), sha, branch)
            try:
                _copy_tree(source, dest)
                break
            except OSError:
                if attempt or source.is_dir():
                    raise
                shutil.rmtree(dest, ignore_errors=True)  # evicted meanwhile by another thread: again
        return PreparedRepo(root=root, path=dest, commit=sha)
    except OSError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise UserError(f"could not copy repository {src}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _copy_tree(source: Path, dest: Path) -> None:
    """`cp -a` (faster than Python's copytree, and a reflink where the file system has them)."""
    try:
        proc = subprocess.run(
            ["cp", "-a", "--reflink=auto", str(source), str(dest)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        shutil.copytree(source, dest, symlinks=True)
        return
    if proc.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise OSError(proc.stderr.strip() or "cp failed")


_CACHE_SIZE = 2  # (repository, commit) copies kept per process (each is a whole repository)
_cache: dict[tuple[str, str, str], Path] = {}
_cache_lock = threading.Lock()
_key_locks: dict[tuple[str, str, str], threading.Lock] = {}


def _history_copy(src: Path, sha: str, branch: str) -> Path:
    """The process's copy of `src` at `sha` (history up to `sha` only), made on first use."""
    key = (str(src), sha, branch)
    with _cache_lock:
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _cache_lock:
            if key in _cache and _cache[key].is_dir():
                _cache[key] = _cache.pop(key)  # most recently used last
                return _cache[key]
        root = Path(tempfile.mkdtemp(prefix="swe-ttc-history-"))
        cleanup.register(_cleanup_key(root), lambda: shutil.rmtree(root, ignore_errors=True))
        try:
            _copy_history(src, root / "repo", sha, branch)
            _check(_git(root / "repo", "checkout", "--quiet", "--force", branch), src)
        except BaseException:
            _forget(root)
            raise
        with _cache_lock:
            _cache[key] = root / "repo"
            while len(_cache) > _CACHE_SIZE:
                _forget(_cache.pop(next(iter(_cache))).parent)
        return root / "repo"


def _cleanup_key(root: Path) -> int:
    return hash(("swe-ttc-history", str(root)))


def _forget(root: Path) -> None:
    cleanup.unregister(_cleanup_key(root))
    shutil.rmtree(root, ignore_errors=True)


@atexit.register
def _drop_cache() -> None:
    with _cache_lock:
        for path in _cache.values():
            _forget(path.parent)
        _cache.clear()


# The host repository answers a fetch of any commit it holds by id, whatever its own settings, and
# packs fast: no delta search and light compression for loose objects (what its packs hold is reused
# as it is). Measured on a loose 2,000-object history: 2.8 s against 5.5 s, 8.1 MB against 7.0 MB.
_UPLOAD_PACK = "git -c uploadpack.allowAnySHA1InWant=true -c pack.window=0 -c pack.compression=1 upload-pack"


def _copy_history(src: Path, dest: Path, sha: str, branch: str) -> None:
    """`git init` at `dest`, then fetch `sha` as `branch` and the tags reachable from it."""
    inited = _git(None, "init", "--quiet", f"--initial-branch={branch}", str(dest))
    if inited.returncode != 0:
        raise UserError(f"could not create a repository copy in {dest}: {_last_line(inited.stderr)}")
    tags = _git(src, "tag", "--merged", sha).stdout.split()
    refspecs = [f"{sha}:refs/heads/{branch}", *(f"refs/tags/{t}:refs/tags/{t}" for t in tags)]
    fetched = subprocess.run(
        ["git", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--update-head-ok"]
        + ["--update-shallow", f"--upload-pack={_UPLOAD_PACK}", "--stdin", str(src)],
        cwd=dest,
        input="".join(spec + "\n" for spec in refspecs),
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if fetched.returncode != 0:
        raise UserError(f"could not copy repository {src}: {_last_line(fetched.stderr)}")
    _git(dest, "reflog", "expire", "--expire=now", "--all")


def _check(proc: subprocess.CompletedProcess[str], src: Path) -> None:
    if proc.returncode != 0:
        raise UserError(f"could not check out repository {src}: {_last_line(proc.stderr)}")


def clone_url(url: str, dest: str | Path, timeout: float = 600.0) -> Path:
    """Clone a remote repository (e.g. a GitHub URL) to `dest`; one-line UserError on failure."""
    try:
        proc = _git(None, "clone", "--quiet", url, str(dest), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UserError(
            f"could not clone {url}: timed out after {timeout:g}s; offline? pass a local path"
        ) from None
    if proc.returncode != 0:
        raise UserError(f"could not clone {url}: {_last_line(proc.stderr)}; offline? pass a local path")
    return Path(dest)


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def tar_directory(path: str | Path, arcname: str) -> IO[bytes]:
    """A rewound temp file holding `path` as a tar archive rooted at `arcname`, owned by root."""
    spool: IO[bytes] = tempfile.TemporaryFile(prefix="swe-ttc-tar-")
    with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(str(path), arcname=arcname, filter=_as_root)
    spool.seek(0)
    return spool
