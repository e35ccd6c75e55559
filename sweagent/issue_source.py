"""Where the issue text and the repository come from: text, @file, GitHub URLs, local paths.

Network fetches (GitHub issues, clones) fail fast with one line that says what to pass instead,
because many users (and all our CI machines) work offline.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from sweagent.errors import UserError

GITHUB_ISSUE = re.compile(r"^https?://github\.com/([^/]+)/([^/]+)/issues/(\d+)/?$")
REMOTE_REPO = re.compile(r"^(https?://|git@|ssh://|git://)")
FETCH_TIMEOUT = 15


def read_issue(spec: str) -> str:
    """`spec` is the issue text itself, `@path/to/file`, or a GitHub issue URL."""
    if not spec or not spec.strip():
        raise UserError("the issue is empty: pass its text, @FILE, or a GitHub issue URL with --issue")
    if spec.startswith("@"):
        path = Path(spec[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise UserError(f"cannot read issue file {path}: {reason}") from None
        if not text.strip():
            raise UserError(f"issue file {path} is empty")
        return text
    match = GITHUB_ISSUE.match(spec.strip())
    if match:
        return _fetch_github_issue(*match.groups())
    return spec


def _fetch_github_issue(owner: str, name: str, number: str) -> str:
    url = f"https://api.github.com/repos/{owner}/{name}/issues/{number}"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            data = json.load(response)
    except (urllib.error.URLError, TimeoutError, OSError, json.JSONDecodeError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(
            f"cannot fetch GitHub issue {owner}/{name}#{number} ({reason}); offline? pass the text or @FILE"
        ) from None
    return f"{data.get('title', '')}\n\n{data.get('body') or ''}".strip()


def is_remote_repo(spec: str) -> bool:
    return bool(REMOTE_REPO.match(spec))


def clone_remote(url: str, cache_dir: Path) -> Path:
    """Clone (or reuse a clone of) a remote repository into the cache; return its path."""
    name = re.sub(r"\.git$", "", url.rstrip("/").split("/")[-1]) or "repo"
    dest = cache_dir / f"{name}-{hashlib.sha1(url.encode()).hexdigest()[:8]}"
    if (dest / ".git").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(
            ["git", "clone", "--quiet", url, str(dest)],
            capture_output=True,
            text=True,
            timeout=600,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/local/bin:/usr/bin:/bin"},
        )
    except subprocess.TimeoutExpired:
        raise UserError(f"cloning {url} timed out; clone it yourself and pass the local path") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["git clone failed"])[-1]
        raise UserError(f"could not clone {url}: {last}; offline? clone it elsewhere and pass a local path")
    return dest


def resolve_repo(spec: str, cache_dir: Path) -> Path:
    """A local git repository path for `spec` (cloning a remote URL)."""
    if is_remote_repo(spec):
        return clone_remote(spec, cache_dir)
    path = Path(spec).expanduser().resolve()
    if not path.exists():
        raise UserError(f"repository path {spec} does not exist")
    if not path.is_dir():
        raise UserError(f"repository path {spec} is not a directory")
    probe = subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise UserError(
            f"{spec} is not a git repository: run `git init && git add -A && git commit` there first"
        )
    return path


def resolve_commit(repo: Path, commit: str | None) -> str:
    """The full sha of `commit` (default HEAD) in `repo`."""
    ref = commit or "HEAD"
    proc = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        if commit is None:
            raise UserError(f"{repo} has no commits yet: commit something first")
        raise UserError(f"unknown commit {commit} in {repo}: check `git log` there")
    return proc.stdout.strip()
