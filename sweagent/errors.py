"""Errors a user can act on.

`UserError` carries one line that says what was wrong and what to do; the CLI prints it
without a traceback and exits non-zero. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or environment the user can fix; `str(err)` is the one line shown."""

    exit_code = 2


class DockerUnavailable(UserError):
    """No Docker daemon reachable."""

    def __init__(self, detail: str = "", local_hint: bool = True) -> None:
        """`local_hint`: the command can run without Docker (`--sandbox local`); instance images cannot."""
        msg = (
            "cannot reach the Docker daemon"
            + (f" ({detail})" if detail else "")
            + ": start it (`sudo systemctl start docker` or `sudo dockerd &`)"
            + (" or pass `--sandbox local`" if local_hint else "")
        )
        super().__init__(msg)


class ImageNotFound(UserError):
    """Image neither present locally nor pullable."""
