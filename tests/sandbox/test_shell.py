"""The persistent shell as a user of either sandbox sees it (docker and local alike)."""

from __future__ import annotations

import resource
import time

import pytest

from tests.sandbox.conftest import SECRET_NAME


def test_cwd_and_exported_env_persist(sandbox):
    assert sandbox.run("pwd").output.strip() == sandbox.workdir
    assert sandbox.run("mkdir -p /tmp/swe_ttc_t && cd /tmp/swe_ttc_t && export GREETING='hi there'").ok
    result = sandbox.run('pwd; echo "$GREETING"')
    assert result.output.splitlines() == ["/tmp/swe_ttc_t", "hi there"]


def test_exit_codes_and_output(sandbox):
    assert sandbox.run("true").exit_code == 0
    assert sandbox.run("false").exit_code == 1
    result = sandbox.run("echo out; echo err >&2; (exit 7)")
    assert result.exit_code == 7 and not result.ok
    assert result.output == "out\nerr\n"
    assert sandbox.run("printf 'no newline'").output == "no newline"
    assert sandbox.run("printf 'h\\xc3\\xa9 \\xe2\\x9c\\x93\\n'").output == "hé ✓\n"


def test_syntax_error_keeps_shell_usable(sandbox):
    result = sandbox.run("if then fi'")
    assert result.exit_code == 2
    assert "syntax error" in result.output or "unexpected" in result.output
    assert not result.shell_restarted
    assert sandbox.run("echo still here").output == "still here\n"


def test_exit_restarts_shell_in_same_place(sandbox):
    sandbox.run("cd pkg && export KEEP=1")
    result = sandbox.run("exit 3")
    assert result.exit_code == 3 and result.shell_restarted
    assert any("exited" in note for note in result.notes)
    after = sandbox.run('pwd; echo "$KEEP"')
    assert after.output.splitlines() == [f"{sandbox.workdir}/pkg", "1"]


def test_stdin_readers_do_not_hang(sandbox):
    started = time.monotonic()
    assert sandbox.run("cat", timeout=10).output == ""
    assert sandbox.run('read line; echo "got:$line"', timeout=10).output == "got:\n"
    assert sandbox.run("python3 -c 'import sys; print(len(sys.stdin.read()))'", timeout=10).output == "0\n"
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", ["sleep 1000", "while true; do :; done"])
def test_timeout_stops_command_and_shell_recovers(sandbox, command):
    sandbox.run("cd docs && export AFTER_TIMEOUT=yes")
    started = time.monotonic()
    result = sandbox.run(command, timeout=0.5)
    assert time.monotonic() - started < 10
    assert result.timed_out and result.shell_restarted and result.exit_code is None
    assert any("timed out" in note for note in result.notes)
    after = sandbox.run('pwd; echo "$AFTER_TIMEOUT"; ps -eo args')
    lines = after.output.splitlines()
    assert lines[:2] == [f"{sandbox.workdir}/docs", "yes"]
    assert not any(line.startswith("sleep 1000") for line in lines), "the timed-out command is still running"


def test_huge_output_is_capped_in_bounded_memory(sandbox):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = sandbox.run("head -c 100000000 /dev/zero | tr '\\0' a; echo; echo THE-END", timeout=120)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert result.exit_code == 0
    assert result.output.startswith("a" * 500)
    assert result.output.rstrip().endswith("THE-END")
    assert len(result.output) < 2000 + 200  # output_limit is 2000 in these tests
    assert result.truncated_chars > 99_000_000
    assert f"[... {result.truncated_chars} characters of output cut here ...]" in result.output
    assert any("truncated" in note for note in result.notes)
    assert grown_mb < 40, f"peak RSS grew by {grown_mb:.0f} MB"


def test_multibyte_output_capped_by_characters(sandbox):
    result = sandbox.run("python3 -c \"print('é' * 5000)\"")
    assert result.truncated_chars == 5001 - 2000
    kept = result.output.replace(f"\n[... {result.truncated_chars} characters of output cut here ...]\n", "")
    assert kept == "é" * 1999 + "\n"


def test_host_secrets_are_not_passed(sandbox):
    assert sandbox.run(f'echo "[${SECRET_NAME}]"').output == "[]\n"
    assert "sk-do-not-leak" not in sandbox.run("env").output


CONTENTS = [
    "plain\n",
    "no trailing newline",
    "",
    "unicode: héllo wörld ✓ 日本語\n",
    "quotes ' \" `backticks` and $HOME $(echo no) \\ backslash \\n not a newline\n",
    "percent %s %d %% and dashes\n-n -e\n",
    "crlf\r\nlines\r\n",
    "tab\tand\x1b[31mescape\n",
    "\n\n\nleading and trailing blank lines\n\n\n",
    "x" * 100_000 + "\nbig file through the archive path\n",
    "nul \x00 byte\n",
]


@pytest.mark.parametrize("content", CONTENTS, ids=range(len(CONTENTS)))
def test_write_read_round_trip(sandbox, content):
    sandbox.write_file("new/dir/file.txt", content)
    assert sandbox.read_file("new/dir/file.txt") == content
    assert sandbox.read_file(f"{sandbox.workdir}/new/dir/file.txt") == content
    size = sandbox.run("wc -c < new/dir/file.txt").output.strip()
    assert int(size) == len(content.encode())


def test_write_keeps_mode_and_paths_are_workdir_relative(sandbox):
    sandbox.run("cd /tmp")
    sandbox.write_file("run.sh", "#!/bin/sh\necho changed\n")
    sandbox.write_file("pkg/core.py", "y" * 50_000)
    assert sandbox.run(f"cd {sandbox.workdir} && ./run.sh").output == "changed\n"
    assert sandbox.run("stat -c %a run.sh").output.strip() == "755"
    sandbox.write_file("run.sh", "#!/bin/sh\necho big\n" + "#" * 50_000 + "\n")
    assert sandbox.run("./run.sh").output == "big\n"


def test_read_missing_and_directory(sandbox):
    with pytest.raises(FileNotFoundError):
        sandbox.read_file("does/not/exist.txt")
    with pytest.raises(IsADirectoryError):
        sandbox.read_file("pkg")
