"""The parts of a sandbox that only need a persistent shell: running commands and git state.

`diff`, `snapshot` and `restore` run git inside the sandbox (the same git the agent uses), in a
subshell so the agent's cwd and variables are untouched, with a temporary index (`GIT_INDEX_FILE`)
so the repository's own index is never changed by looking at it. Binary files travel as ASCII
(`--binary`); patches are `str` decoded with `surrogateescape`, so text files in other encodings
keep their exact bytes (encode with `encode_patch` or `errors="surrogateescape"` to write one).
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
import secrets
import tarfile
from abc import abstractmethod

from sweagent.sandbox.base import CommandResult, RepoState, Sandbox
from sweagent.sandbox.shell import SandboxError, ShellSession, quote

__all__ = ["SandboxError", "ShellSandbox", "decode_patch", "encode_patch"]

# Flags that make git's output independent of the user's or image's config.
_GIT = (
    "git -c safe.directory='*' -c user.name=swe-ttc -c user.email=swe-ttc@localhost "
    "-c core.pager=cat -c color.ui=never -c diff.noprefix=false -c diff.mnemonicPrefix=false"
)
_DIFF = "diff --cached --binary --no-color --no-ext-diff --no-renames --no-textconv"
INTERNAL_TIMEOUT = 600.0


def decode_patch(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def encode_patch(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _excluded(path: str, globs: list[str]) -> bool:
    """True when the file name, or any folder on its path, matches one of `globs`."""
    return any(fnmatch.fnmatchcase(part, g) for part in path.split("/") for g in globs)


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

    def _temp_index(self) -> str:
        return quote(posixpath.join(self.scratch, f".swe_ttc_index_{secrets.token_hex(6)}"))

    def _fill_index(self, index: str) -> str:
        """Shell fragment: a temp index equal to the work tree (seeded from the real one for speed)."""
        return (
            f'__real="$({_GIT} rev-parse --git-path index)"; '
            f'cp -fp "$__real" {index} 2>/dev/null || rm -f {index}; '
            f'export GIT_INDEX_FILE={index}; trap "rm -f {index}" EXIT; '
            f"{_GIT} add -A . || exit 91; "
        )

    def diff(self, exclude_new: list[str] | None = None) -> str:
        index = self._temp_index()
        base = quote(self.base_commit)
        if not exclude_new:
            return decode_patch(self._internal(self._fill_index(index) + f"{_GIT} {_DIFF} {base} --"))
        listing = self._internal(
            self._fill_index(index)
            + f"{_GIT} diff --cached --name-only --diff-filter=A -z {base} -- && trap - EXIT"
        )
        names = [name.decode("utf-8", "surrogateescape") for name in listing.split(b"\0") if name]
        dropped = [name for name in names if _excluded(name, exclude_new)]
        script = f'export GIT_INDEX_FILE={index}; trap "rm -f {index}" EXIT; '
        if dropped:
            files = " ".join(quote(name) for name in dropped)
            script += f"{_GIT} rm -q --cached --ignore-unmatch -- {files} >/dev/null || exit 92; "
        return decode_patch(self._internal(script + f"{_GIT} {_DIFF} {base} --"))

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
        index = self._temp_index()
        raw = self._internal(
            self._fill_index(index)
            + f"{_GIT} write-tree || exit 93; {_GIT} {_DIFF} {quote(self.base_commit)} --"
        )
        tree, _, patch = raw.partition(b"\n")
        return RepoState(base_commit=self.base_commit, patch=decode_patch(patch), tree=tree.decode().strip())

    def restore(self, state: RepoState) -> None:
        base = quote(state.base_commit)
        reset_head = f'[ "$({_GIT} rev-parse HEAD)" = {base} ] || {_GIT} reset -q --soft {base} || exit 94; '
        if state.tree:
            index = self._temp_index()
            tree = quote(state.tree)
            answer = self._internal(
                f"{_GIT} cat-file -e {tree}^{{tree}} 2>/dev/null || {{ echo absent; exit 0; }}; "
                f"{_GIT} cat-file -e {base}^{{commit}} 2>/dev/null || {{ echo absent; exit 0; }}; "
                + self._fill_index(index)
                + f"{_GIT} read-tree --reset -u {tree} || {{ echo absent; exit 0; }}; unset GIT_INDEX_FILE; "
                + reset_head
                + f"{_GIT} reset -q >/dev/null; echo restored"
            )
            if answer.strip().endswith(b"restored"):
                self.base_commit = state.base_commit
                return
        patch_path = posixpath.join(self.scratch, f".swe_ttc_patch_{secrets.token_hex(6)}")
        self.write_bytes(patch_path, encode_patch(state.patch))
        patch_file = quote(patch_path)
        self._internal(
            f'trap "rm -f {patch_file}" EXIT; '
            f"{_GIT} cat-file -e {base}^{{commit}} || exit 96; "
            + reset_head
            + f"{_GIT} reset -q --hard {base} && {_GIT} clean -fdq && "
            f"{{ [ ! -s {patch_file} ] || {_GIT} apply --binary --whitespace=nowarn {patch_file}; }}"
        )
        self.base_commit = state.base_commit
