"""Open the sandbox a run's config asks for."""

from __future__ import annotations

from sweagent.config import SandboxConfig
from sweagent.errors import UserError
from sweagent.sandbox.base import Sandbox


def open_sandbox(
    config: SandboxConfig,
    *,
    repo_path: str | None = None,
    commit: str | None = None,
    image: str | None = None,
    run_label: str | None = None,
) -> Sandbox:
    """A started sandbox holding the repository at its base commit.

    docker: `repo_path` (a host git repository) is copied in at `commit` (default HEAD); without it
    the image must already hold a repository at `config.workdir` (SWE-bench images do), and the
    base commit is `commit` or that repository's HEAD. local: `repo_path` is required; the sandbox
    works in a private clone and is NOT isolated.
    """
    if config.kind == "local":
        if not repo_path:
            raise UserError(
                "the local sandbox needs a repository: pass a local repository path (--repo PATH)"
            )
        from sweagent.sandbox.local_sandbox import LocalSandbox

        return LocalSandbox(config, repo_path, commit)
    from sweagent.sandbox.docker_sandbox import DockerSandbox

    return DockerSandbox(config, image=image, repo_path=repo_path, commit=commit, run_label=run_label)
