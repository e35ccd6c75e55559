"""The files of a repository at one commit, read from git without a checkout, or given as a mapping.

Reading from git uses one `git ls-tree -r -l -z` and `git cat-file --batch` for every blob we keep (two
of them sharing a large tree's blobs), which on a django-sized repository is a few hundred milliseconds.
Files that cannot help ranking (binary formats, translations, huge files) are skipped before their
contents are read.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sweagent.errors import UserError

# Suffixes never indexed: binary or generated formats whose contents do not name code.
SKIP_SUFFIXES = frozenset(
    """
    .png .jpg .jpeg .gif .ico .bmp .tif .tiff .webp .svg .pdf .eps .ps .psd .zip .gz .tgz .bz2 .xz .tar .7z
    .whl .egg .jar .so .dll .dylib .a .o .pyc .pyo .pyd .class .exe .bin .dat .db .sqlite .sqlite3 .npy .npz
    .pkl .pickle .h5 .hdf5 .fits .fit .nc .mo .po .pot .woff .woff2 .ttf .otf .eot .mp3 .mp4 .wav .ogg .avi
    .mov .shp .shx .dbf .prj .lock .map .min.js .min.css .ipynb
    """.split()
)
DEFAULT_MAX_BYTES = 512_000


def indexable(path: str, size: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> bool:
    """Whether a path is worth reading: not a known binary/generated format and not huge."""
    name = path.rsplit("/", 1)[-1].lower()
    if "." in name and (name[name.rfind(".") :] in SKIP_SUFFIXES or name.endswith((".min.js", ".min.css"))):
        return False
    return size is None or size <= max_bytes


@dataclass
class RepoSnapshot:
    """Path -> bytes of one repository state; `key` identifies it for the index cache."""

    files: Mapping[str, bytes]
    identity: str = ""
    commit: str | None = None
    _key: str | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """(identity, commit) when both are known, otherwise a hash of the contents."""
        if self._key is None:
            if self.identity and self.commit:
                self._key = f"{self.identity}@{self.commit}"
            else:
                self._key = "content:" + content_hash(self.files)
        return self._key

    @classmethod
    def from_mapping(
        cls, files: Mapping[str, bytes | str], identity: str = "", commit: str | None = None
    ) -> RepoSnapshot:
        """Take files handed over by a caller (e.g. read out of a container); str values are encoded."""
        norm = {
            _norm_path(p): (v.encode("utf-8", "surrogateescape") if isinstance(v, str) else bytes(v))
            for p, v in files.items()
        }
        return cls(files=norm, identity=identity, commit=commit)


def _norm_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def content_hash(files: Mapping[str, bytes]) -> str:
    """A stable hash of a path -> bytes mapping."""
    h = hashlib.sha1()
    for path in sorted(files):
        data = files[path]
        h.update(path.encode("utf-8", "surrogateescape") + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def _git(repo: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True, check=False)


def resolve_commit(repo: str | os.PathLike[str], commit: str | None) -> tuple[str, str]:
    """Return (repository identity, full commit sha); raise UserError for a missing repo or commit."""
    path = Path(repo).expanduser()
    if not path.exists():
        raise UserError(f"repository not found: {repo}: pass the path of a git repository")
    top = _git(path, "rev-parse", "--absolute-git-dir")
    if top.returncode != 0:
        raise UserError(
            f"not a git repository: {repo}: pass the path of a git repository (or run `git init`)"
        )
    identity = "git:" + top.stdout.decode().strip()
    rev = commit or "HEAD"
    res = _git(path, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if res.returncode != 0:
        if commit is None:
            raise UserError(f"repository {repo} has no commits: commit the files or pass --commit")
        raise UserError(f"commit {commit} not found in {repo}: pass a commit that exists (see `git log`)")
    return identity, res.stdout.decode().strip()


class GitFiles(dict):
    """path -> bytes of one commit, and the paths whose blobs could not be read (skipped, not fatal)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unreadable: list[str] = []


def _list_tree(path: Path, sha: str, repo: object) -> list[tuple[str, bytes, int | None]]:
    """(path, blob id, size or None when unknown) of every blob of `sha`; size -1 for a missing blob.

    `git ls-tree -l` reports a missing blob's size as `BAD`; in a partial clone whose promisor remote
    is gone it fails outright, and then the tree is listed without sizes and the blobs present locally
    are told apart with `rev-list --missing=print` (which never fetches).
    """
    listing = _git(path, "ls-tree", "-r", "-l", "-z", sha)
    sized = listing.returncode == 0
    missing: set[bytes] = set()
    if not sized:
        listing = _git(path, "ls-tree", "-r", "-z", sha)
        if listing.returncode != 0:
            raise UserError(f"cannot list {sha} in {repo}: {listing.stderr.decode().strip()[:200]}")
        objects = _git(path, "rev-list", "--objects", "--missing=print", "--no-walk", sha)
        missing = {line[1:41] for line in objects.stdout.split(b"\n") if line.startswith(b"?")}
    out: list[tuple[str, bytes, int | None]] = []
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        fields = meta.split()
        mode, kind, obj = fields[:3]
        if kind != b"blob" or mode == b"120000":
            continue
        rel = name.decode("utf-8", "surrogateescape")
        if sized:
            size = int(fields[3]) if fields[3].isdigit() else -1
        else:
            size = -1 if obj in missing else None
        out.append((rel, obj, size))
    return out


# Reading a large tree's blobs is split between two `git cat-file` processes (two cores: half the time).
PARALLEL_READ_MIN_BYTES = 2_000_000


def read_git_files(repo: str | os.PathLike[str], sha: str, max_bytes: int = DEFAULT_MAX_BYTES) -> GitFiles:
    """Contents of every indexable blob of `sha`, without touching a working tree.

    Blobs git cannot read (missing objects, partial clones without their remote) are skipped and
    listed in `.unreadable`.
    """
    path = Path(repo).expanduser()
    files = GitFiles()
    wanted: list[tuple[str, bytes, int]] = []
    for rel, obj, size in _list_tree(path, sha, repo):
        if not indexable(rel, None if size is None or size < 0 else size, max_bytes):
            continue
        if size == -1:
            files.unreadable.append(rel)
        else:
            wanted.append((rel, obj, size or 0))
    if not wanted:
        return files
    parts = _halves(wanted) if sum(size for *_, size in wanted) >= PARALLEL_READ_MIN_BYTES else [wanted]
    with ThreadPoolExecutor(len(parts)) as pool:
        batches = list(pool.map(partial(_cat_blobs, path), parts))
    for part, batch in zip(parts, batches, strict=True):
        _take_blobs(batch.stdout, part, files, max_bytes)
    failed = [batch for batch in batches if batch.returncode != 0]
    if failed and not files:
        raise UserError(f"cannot read blobs of {sha} in {repo}: {failed[0].stderr.decode().strip()[:200]}")
    return files


def _halves(wanted: list[tuple[str, bytes, int]]) -> list[list[tuple[str, bytes, int]]]:
    """`wanted` in two runs of about the same size (in bytes; in blobs when sizes are unknown)."""
    weights = [size or 1 for *_, size in wanted]
    half, total = sum(weights) / 2, 0
    for i, weight in enumerate(weights):
        total += weight
        if total >= half:
            return [wanted[: i + 1], wanted[i + 1 :]] if i + 1 < len(wanted) else [wanted]
    return [wanted]


def _cat_blobs(path: Path, wanted: list[tuple[str, bytes, int]]) -> subprocess.CompletedProcess[bytes]:
    return _git(path, "cat-file", "--batch", input=b"".join(obj + b"\n" for _, obj, _ in wanted))


def _take_blobs(out: bytes, wanted: list[tuple[str, bytes, int]], files: GitFiles, max_bytes: int) -> None:
    """Put the blobs of one `git cat-file --batch` output into `files` (the unreadable into `.unreadable`)."""
    pos = 0
    for rel, _obj, _size in wanted:
        nl = out.find(b"\n", pos)
        header = out[pos:nl].split() if nl >= 0 else []
        if len(header) != 3 or not header[2].isdigit():
            files.unreadable.append(rel)  # "<id> missing", or the output ended early
            if nl >= 0 and header:
                pos = nl + 1
            continue
        size = int(header[2])
        start = nl + 1
        if start + size > len(out):
            files.unreadable.append(rel)
            pos = len(out)
            continue
        if size <= max_bytes:
            files[rel] = out[start : start + size]
        pos = start + size + 1


def read_directory(root: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, bytes]:
    """Indexable files below a plain directory (hidden directories and virtualenvs are skipped)."""
    base = Path(root)
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [
            d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__", "venv")
        ]
        for name in filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(base).as_posix()
            try:
                if full.is_symlink() or not indexable(rel, full.stat().st_size, max_bytes):
                    continue
                files[rel] = full.read_bytes()
            except OSError:
                continue
    return files


def snapshot_from_git(repo: str | os.PathLike[str], commit: str | None) -> RepoSnapshot:
    """Resolve and read a git repository at a commit (HEAD when None)."""
    identity, sha = resolve_commit(repo, commit)
    return RepoSnapshot(files=read_git_files(repo, sha), identity=identity, commit=sha)
