"""The parts of a sandbox that only need a persistent shell: running commands and git state.

`record_baseline` notes the repository's state once, when the sandbox starts (see
`sweagent.sandbox.baseline`); `diff`, `snapshot` and `restore` are relative to it. They run git
inside the sandbox (the same git the agent uses), in a subshell so the agent's cwd and variables are
untouched, with a temporary index (`GIT_INDEX_FILE`) so the repository's own index is never changed
by looking at it, and with the baseline's excludes file (`core.excludesFile`) so what was untracked
at start is never read again. Binary files travel as ASCII
(`--binary`); patches are `str` decoded with `surrogateescape`, so text files in other encodings
keep their exact bytes (encode with `encode_patch` or `errors="surrogateescape"` to write one).
"""

from __future__ import annotations

import io
import posixpath
import secrets
import tarfile
from abc import abstractmethod

from sweagent.sandbox.base import CommandResult, RepoState, Sandbox
from sweagent.sandbox.baseline import Baseline, exclude_file_text, parse_raw_diff
from sweagent.sandbox.shell import SandboxError, ShellSession, quote

__all__ = ["SandboxError", "ShellSandbox", "decode_patch", "encode_patch"]

# Flags that make git's output independent of the user's or image's config.
_GIT = (
    "git -c safe.directory='*' -c user.name=swe-ttc -c user.email=swe-ttc@localhost "
    "-c core.pager=cat -c color.ui=never -c diff.noprefix=false -c diff.mnemonicPrefix=false"
)
_DIFF = "diff --cached --binary --no-color --no-ext-diff --no-renames --no-textconv"
INTERNAL_TIMEOUT = 600.0
INLINE_WRITE_LIMIT = 16 * 1024  # files up to this size are written by the git script itself (bash reads
# a script a byte at a time: larger content is cheaper as a separate write)
# In the repository's git dir, beside its own `info/exclude`: build noise and what was untracked at
# start (every `git add` skips these), and what was untracked at start alone (taken back out of the
# index where the agent staged it).
EXCLUDE_FILE = "swe-ttc-baseline-exclude"
UNTRACKED_FILE = "swe-ttc-baseline-untracked"
# Keeps the start tree reachable, so `git gc --prune=now` by the agent cannot delete it (a ref to a
# tree: `git log --all`, `git branch` and `git tag` do not show it).
BASELINE_REF = "refs/swe-ttc/baseline"
_MISSING = b"__swe_ttc_baseline_missing__"


def decode_patch(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def encode_patch(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class ShellSandbox(Sandbox):
    """A sandbox whose commands and git operations go through one `ShellSession`."""

    shell: ShellSession
    scratch: str  # a directory for temp files, outside the repository, as the shell sees it

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        return self.shell.run(command, timeout)

    @property
    def alive(self) -> bool:
        return getattr(self, "shell", None) is not None and self.shell.alive

    # -- file helpers subclasses implement ----------------------------------------------------------

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """Raw bytes of a file; FileNotFoundError when missing."""

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Write raw bytes, creating parent directories."""

    def read_file(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8", "replace")

    def write_file(self, path: str, content: str) -> None:
        self.write_bytes(path, content.encode("utf-8", "surrogateescape"))

    def resolve(self, path: str) -> str:
        """Absolute path inside the sandbox (relative paths are relative to `workdir`)."""
        return posixpath.normpath(posixpath.join(self.workdir, path))

    # -- git --------------------------------------------------------------------------------------

    baseline: Baseline | None = None
    _git_dir: str = ""

    @property
    def _git(self) -> str:
        """git with fixed output flags and, once the baseline is recorded, its excludes file."""
        if not self._git_dir:
            return _GIT
        return f"{_GIT} -c core.excludesFile={quote(self._in_git_dir(EXCLUDE_FILE))}"

    def _in_git_dir(self, name: str) -> str:
        return posixpath.join(self._git_dir, name)

    def _write_baseline_files(self, untracked: tuple[str, ...]) -> str:
        """Write the two excludes files; a shell fragment that writes them when they are small
        (saving round trips), else they are written now and the fragment is empty."""
        files = {
            self._in_git_dir(EXCLUDE_FILE): exclude_file_text(untracked),
            self._in_git_dir(UNTRACKED_FILE): exclude_file_text(untracked, noise=False),
        }
        if sum(len(data) for data in files.values()) > INLINE_WRITE_LIMIT or any(
            b"\0" in d for d in files.values()
        ):
            for path, data in files.items():
                self.write_bytes(path, data)
            return ""
        return "".join(
            f"builtin printf %s {quote(data.decode('utf-8', 'surrogateescape'))} > {quote(path)} || exit 90; "
            for path, data in files.items()
        )

    def _internal(self, script: str) -> bytes:
        """Run `script` in a subshell at the repository root; return all its output or raise."""
        if not self.base_commit:
            raise SandboxError("this sandbox holds no git repository")
        errors = quote(posixpath.join(self.scratch, ".swe_ttc_git_errors"))
        wrapped = (
            "( unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY; "
            f"cd {quote(self.workdir)} || exit 97; {script} ) 2>{errors}; __swe_ttc_r=$?; "
            f"[ $__swe_ttc_r = 0 ] || builtin printf '\\n[exit %d] %s\\n' $__swe_ttc_r \"$(< {errors})\"; "
            "[ $__swe_ttc_r = 0 ]"
        )
        code, raw, result = self.shell.run_raw(
            wrapped, timeout=max(INTERNAL_TIMEOUT, self.shell.command_timeout)
        )
        if code != 0:
            tail = raw.decode("utf-8", "replace").strip().splitlines()[-3:]
            why = "timed out" if result.timed_out else "failed"
            raise SandboxError(f"git operation {why} in the sandbox: {' | '.join(tail)}")
        return raw

    def _git_state(self, script: str) -> bytes:
        """`_internal` for scripts that rely on the baseline: when its excludes files have gone (the
        agent deleted them), write them again from memory and run the script once more."""
        baseline = self._require_baseline()
        files = " && ".join(f"[ -f {quote(self._in_git_dir(n))} ]" for n in (EXCLUDE_FILE, UNTRACKED_FILE))
        raw = self._internal(f"{{ {files}; }} || {{ builtin echo {_MISSING.decode()}; exit 0; }}; " + script)
        if raw.strip() != _MISSING:
            return raw
        return self._internal(self._write_baseline_files(baseline.untracked) + script)

    def _require_baseline(self) -> Baseline:
        if self.baseline is None:
            raise SandboxError("this sandbox recorded no starting state (no git repository at start)")
        return self.baseline

    def _temp_file(self, kind: str) -> str:
        return posixpath.join(self.scratch, f".swe_ttc_{kind}_{secrets.token_hex(6)}")

    def _fill_index(self, index: str, *also_remove: str) -> str:
        """Shell fragment: a temp index equal to the work tree (seeded from the real one for speed),
        untracked-at-start (even if the agent staged it) and ignored files left out; the temp files
        are removed on exit."""
        doomed = " ".join(quote(path) for path in (index, *also_remove))
        script = (
            f"cp -fp {quote(self._in_git_dir('index'))} {quote(index)} 2>/dev/null || rm -f {quote(index)}; "
            f'export GIT_INDEX_FILE={quote(index)}; trap "rm -f {doomed}" EXIT; '
            f"{self._git} add -A . || exit 91; "
        )
        if self.baseline is not None and self.baseline.untracked:
            untracked = quote(self._in_git_dir(UNTRACKED_FILE))
            script += (
                f"{self._git} ls-files -z --cached --ignored --exclude-from={untracked} "
                f"| {self._git} update-index -z --force-remove --stdin || exit 91; "
            )
        return script

    def record_baseline(self) -> Baseline:
        """Record the repository's state as the sandbox found it (call once, when it starts).

        Two round trips: list what is untracked; write the excludes files and the start tree."""
        git = _GIT
        raw = self._internal(
            f"{git} update-index -q --refresh >/dev/null 2>&1; "
            f"{git} rev-parse --absolute-git-dir HEAD^{{commit}} || exit 90; "
            f"{git} ls-files -z --others --directory --no-empty-directory"
        )
        git_dir, head, listing = raw.split(b"\n", 2)
        untracked = tuple(name.decode("utf-8", "surrogateescape") for name in listing.split(b"\0") if name)
        self.baseline = None  # (when recording again) the index fill below must not use the old one
        self._git_dir = git_dir.decode("utf-8", "surrogateescape")
        index = self._temp_file("index")
        out = self._internal(
            self._write_baseline_files(untracked)
            + self._fill_index(index)
            + f"__tree=$({self._git} write-tree) || exit 93; builtin echo $__tree; "
            f"{self._git} update-ref {BASELINE_REF} $__tree || exit 93; "
            f"{self._git} diff-tree -r -z --no-renames {quote(head.decode())} $__tree || exit 93; "
            f"builtin printf '\\0'; {self._git} ls-tree -z --name-only $__tree"
        )
        tree, _, rest = out.partition(b"\n")
        fields = rest.split(b"\0")
        split = fields.index(b"")  # the empty field the printf above put between the two listings
        self.baseline = Baseline(
            tree=tree.decode().strip(),
            head=head.decode().strip(),
            untracked=untracked,
            top_level=frozenset(f.decode("utf-8", "surrogateescape") for f in fields[split + 1 :] if f),
            changes=parse_raw_diff(b"\0".join(fields[:split])),
        )
        return self.baseline

    def diff(self, exclude_new: list[str] | None = None) -> str:
        baseline = self._require_baseline()
        index = self._temp_file("index")
        start = quote(baseline.tree)
        listing = self._git_state(
            self._fill_index(index)
            + f"{self._git} diff --cached --no-renames --name-only --diff-filter=A -z {start} -- && trap - EXIT"
        )
        names = [name.decode("utf-8", "surrogateescape") for name in listing.split(b"\0") if name]
        dropped = [name for name in names if baseline.left_out(name, exclude_new or ())]
        script = f'export GIT_INDEX_FILE={quote(index)}; trap "rm -f {quote(index)}" EXIT; '
        if dropped:
            paths = " ".join(quote(name) for name in dropped)
            script += (
                f"builtin printf '%s\\0' {paths} | {self._git} update-index -z --force-remove --stdin "
                "|| exit 92; "
            )
        return decode_patch(self._internal(script + f"{self._git} {_DIFF} {start} --"))

    def export_files(self, pattern: str = "*.py", limit: int = 20_000) -> dict[str, bytes]:
        """Tracked files matching `pattern` at the base commit, read in one `git archive` (used to
        index a repository that lives only inside the sandbox, e.g. for the localisation hint)."""
        raw = self._internal(f"{_GIT} archive --format=tar {quote(self.base_commit)} -- {quote(pattern)}")
        files: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
            for member in archive:
                if member.isfile() and len(files) < limit:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        files[member.name] = handle.read()
        return files

    def snapshot(self) -> RepoState:
        baseline = self._require_baseline()
        index = self._temp_file("index")
        raw = self._git_state(
            self._fill_index(index)
            + f"{self._git} write-tree || exit 93; {self._git} {_DIFF} {quote(baseline.tree)} --"
        )
        tree, _, patch = raw.partition(b"\n")
        return RepoState(
            base_commit=self.base_commit,
            patch=decode_patch(patch),
            tree=tree.decode().strip(),
            baseline=baseline.tree,
        )

    def restore(self, state: RepoState) -> None:
        """Put the work tree into `state`: its own tree when this sandbox still holds it (a warm
        fork), else the start tree plus the state's patch. HEAD goes back to the start commit and
        the repository's index to HEAD; untracked-at-start and ignored files are left alone."""
        baseline = self._require_baseline()
        self._check_restorable(state, baseline)
        git = self._git
        reset_head = (
            f'[ "$({git} rev-parse HEAD)" = {quote(baseline.head)} ] '
            f"|| {git} reset -q --soft {quote(baseline.head)} || exit 94; "
        )
        settle = f"unset GIT_INDEX_FILE; {git} reset -q >/dev/null; "
        if state.tree:
            tree = quote(state.tree)
            answer = self._git_state(
                f"{git} cat-file -e {tree}^{{tree}} 2>/dev/null || {{ echo absent; exit 0; }}; "
                + reset_head
                + self._fill_index(self._temp_file("index"))
                + f"{git} read-tree --reset -u {tree} || {{ echo absent; exit 0; }}; "
                + settle
                + "echo restored"
            )
            if answer.strip().endswith(b"restored"):
                return
        patch_file = self._temp_file("patch")
        if state.patch:
            self.write_bytes(patch_file, encode_patch(state.patch))
        start = quote(baseline.tree)
        self._git_state(
            f"{git} cat-file -e {start}^{{tree}} 2>/dev/null || {{ rm -f {quote(patch_file)}; "
            f"echo 'the start tree is gone (was {BASELINE_REF} deleted?)' >&2; exit 96; }}; "
            + reset_head
            + self._fill_index(self._temp_file("index"), patch_file)
            + f"{git} read-tree --reset -u {start} || exit 95; "
            + settle
            + f"[ ! -s {quote(patch_file)} ] || {git} apply --binary --whitespace=nowarn {quote(patch_file)}"
        )

    def _check_restorable(self, state: RepoState, baseline: Baseline) -> None:
        """A state restores only where it was taken relative to the same start (see `RepoState`)."""
        if state.base_commit != self.base_commit:
            raise SandboxError(
                f"cannot restore a state of commit {state.base_commit[:12]} in a sandbox at commit "
                f"{self.base_commit[:12]}: open a sandbox at that commit"
            )
        if state.baseline and state.baseline != baseline.tree:
            raise SandboxError(
                f"cannot restore a state taken from start tree {state.baseline[:12]} in a sandbox that "
                f"started from {baseline.tree[:12]}: restore it in a sandbox of the same image and commit"
            )
