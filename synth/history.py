"""Reading a repository's history for task mining: candidate commits, their files, and their diffs.

Only git is consulted here (no tests run): a commit is a candidate when it changes source and tests
together and touches few files. Each commit that is not a candidate gets one reason, so the summary
can say why nothing was mined. A merge commit (with `merges`) stands for its pull request: it is
diffed against its first parent and its message (the PR title and body) is the problem statement.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sweagent.errors import UserError
from sweagent.sandbox.repo_copy import GIT_ENV, resolve_commit
from sweagent.stages import is_test_path
from synth.config import MineConfig

_TRAILER = re.compile(r"^[A-Za-z-]+-by:\s", re.IGNORECASE)
_MERGE_PR = re.compile(r"^Merge pull request #(\d+) from (\S+)")
_MERGE_BRANCH = re.compile(r"^Merge (remote-tracking )?branch '([^']+)'")
_SEP = "\x1e"  # record separator between commits in `git log` output


def git(repo: str | Path, *args: str, check: bool = True) -> str:
    """Run git in `repo`; a failure is a UserError naming the command."""
    proc = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"git {args[0]} failed in {repo}: {last}")
    return proc.stdout


@dataclass(frozen=True)
class ChangedFile:
    path: str
    binary: bool = False

    @property
    def is_test(self) -> bool:
        return is_test_path(self.path) or posixpath.basename(self.path) == "conftest.py"


@dataclass
class Commit:
    """One commit of the history, with the files it changes against its (first) parent."""

    sha: str
    parents: list[str]
    date: str
    subject: str
    body: str
    files: list[ChangedFile] = field(default_factory=list)

    @property
    def parent(self) -> str | None:
        return self.parents[0] if self.parents else None

    @property
    def test_files(self) -> list[str]:
        return [f.path for f in self.files if f.is_test]

    @property
    def other_files(self) -> list[str]:
        return [f.path for f in self.files if not f.is_test]

    def problem_statement(self) -> str:
        """The commit (or pull request) message as an issue: title, blank line, body; trailers dropped."""
        subject, body = self.subject.strip(), self.body
        pr = _MERGE_PR.match(subject)
        branch = _MERGE_BRANCH.match(subject)
        if pr or branch:
            lines = body.strip().splitlines()
            subject = (
                lines[0].strip() if lines else (branch.group(2) if branch else f"pull request #{pr.group(1)}")
            )
            body = "\n".join(lines[1:])
        kept = [line for line in body.splitlines() if not _TRAILER.match(line)]
        text = "\n".join(kept).strip()
        return f"{subject}\n\n{text}\n" if text else f"{subject}\n"


def list_commits(
    repo: str | Path, *, rev: str = "HEAD", since: str | None = None, merges: bool = False
) -> list[Commit]:
    """Commits reachable from `rev`, newest first: non-merge commits, or first-parent merges with `merges`."""
    path = Path(repo)
    resolve_commit(path, rev)
    args = ["log", "--date-order", "--format=" + _SEP + "%H%x00%P%x00%cI%x00%s%x00%b", rev]
    args[1:1] = ["--merges", "--first-parent"] if merges else ["--no-merges"]
    if since:
        args.insert(1, f"--since={since}")
    out = git(path, *args)
    commits = []
    for record in out.split(_SEP)[1:]:
        sha, parents, date, subject, body = (record.split("\x00") + [""] * 5)[:5]
        commits.append(
            Commit(sha=sha, parents=parents.split(), date=date, subject=subject, body=body.strip("\n"))
        )
    for commit in commits:
        commit.files = changed_files(path, commit)
    return commits


def changed_files(repo: Path, commit: Commit) -> list[ChangedFile]:
    """Files `commit` changes against its first parent (renames as delete + add)."""
    if commit.parent is None:
        return []
    out = git(repo, "diff", "--numstat", "-z", "--no-renames", commit.parent, commit.sha)
    files = []
    for entry in out.split("\x00"):
        parts = entry.split("\t")
        if len(parts) == 3 and parts[2]:
            files.append(ChangedFile(path=parts[2], binary=parts[0] == "-"))
    return files


def skip_reason(commit: Commit, config: MineConfig) -> str | None:
    """Why `commit` cannot be a task before any test runs (None: it is a candidate)."""
    if commit.parent is None:
        return "root_commit"
    if not commit.files:
        return "no_changes"
    tests = commit.test_files
    sources = [p for p in commit.other_files if p.endswith(tuple(config.source_suffixes))]
    if not tests and not sources:
        return "docs_only"
    if not sources:
        return "tests_only"
    if not tests:
        return "code_only"
    if any(f.binary for f in commit.files):
        return "binary_files"
    if len(commit.files) > config.max_files or len(commit.other_files) > config.max_source_files:
        return "too_many_files"
    return None


def diff(repo: str | Path, base: str, sha: str, paths: list[str]) -> str:
    """`git diff base sha -- paths` in the form SWE-bench rows carry (a/ b/ prefixes, no renames)."""
    if not paths:
        return ""
    return git(repo, "diff", "--no-color", "--no-ext-diff", "--no-renames", base, sha, "--", *paths)
