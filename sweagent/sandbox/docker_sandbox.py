"""The isolated sandbox: one container, one long-lived bash inside it, the repository at /testbed.

The container runs `sleep infinity` under docker's init (which reaps orphans); commands go to one
bash started by a single `docker exec` whose raw socket we keep open, so a command costs one
socket round trip instead of a new exec (about 60 ms each). Docker multiplexes stdout and stderr
over that socket in frames with an 8-byte header, which `DockerTransport` strips.

Nothing from the host environment is passed in (API keys stay on the host): the container gets
`SandboxConfig.env`, a few pager settings, and the CA variables when a bundle is mounted.
Every container is labelled (`swe-ttc=1`, `swe-ttc.run=<label>`, `swe-ttc.pid=<pid>`) and
registered with `sandbox.cleanup`, so it is removed on close, on exit, and on Ctrl-C or SIGTERM;
`swe-ttc image clean` removes leftovers of processes that were killed outright.
"""

from __future__ import annotations

import io
import os
import posixpath
import socket
import struct
import tarfile
import threading
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from sweagent.config import DEFAULT_IMAGE, SandboxConfig
from sweagent.errors import DockerUnavailable, ImageNotFound, UserError
from sweagent.sandbox import cleanup
from sweagent.sandbox.repo_copy import prepare_clone, tar_directory
from sweagent.sandbox.shell import SandboxError, ShellSession, Transport, quote
from sweagent.sandbox.shell_sandbox import ShellSandbox

LABEL = "swe-ttc"
RUN_LABEL = "swe-ttc.run"
PID_LABEL = "swe-ttc.pid"
# A small tmpfs for the shell's per-command state files: rewriting them there costs ~20 us per
# command, on the container's overlay file system ~300 us.
STATE_DIR = "/run/swe-ttc"
CA_PATH = "/usr/local/share/swe-ttc/host-ca.crt"
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "GIT_SSL_CAINFO", "CURL_CA_BUNDLE")
# Writes up to this size go through the shell (`printf %s '<text>' > file`, ~0.6 ms for 100 bytes,
# ~40 ms at 32 KB because bash reads its input a byte at a time); larger ones through put_archive,
# which costs ~50 ms whatever the size (both measured with the base image).
SHELL_WRITE_LIMIT = 32 * 1024
DEFAULT_ENV = {
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "MANPAGER": "cat",
    "LANG": "C.UTF-8",
    "PIP_PROGRESS_BAR": "off",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    # git refuses repositories owned by another user unless told; trust all, for every git call.
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
}


def _one_line(exc: BaseException, limit: int = 160) -> str:
    """The useful part of a Docker error (its explanation, not the HTTP status line) on one line."""
    text = " ".join(str(getattr(exc, "explanation", None) or exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def docker_client(timeout: float = 120.0) -> docker.DockerClient:
    """A client for the local engine, or DockerUnavailable."""
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(_one_line(exc)) from None
    except Exception as exc:  # requests/urllib3 connection errors
        raise DockerUnavailable(_one_line(exc)) from None
    return client


def how_to_get(image: str) -> str:
    """What the user should run to get `image`."""
    if image == DEFAULT_IMAGE:
        return "build it with `swe-ttc image build-base`"
    return f"pull it (`docker pull {image}`) or build it (`docker build -t {image} .`)"


def ensure_image(client: docker.DockerClient, image: str, pull_timeout: float) -> None:
    """Make sure `image` exists locally, pulling it if needed; ImageNotFound (one line) otherwise."""
    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.APIError as exc:
        raise DockerUnavailable(_one_line(exc)) from None
    try:
        puller = docker.from_env(timeout=int(max(pull_timeout, 1)))
        repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
        puller.api.pull(repo, tag=tag or "latest")
        client.images.get(image)
    except Exception as exc:  # noqa: BLE001 - any pull failure means the same thing to the user
        raise ImageNotFound(
            f"image {image} is not available locally and could not be pulled ({_one_line(exc, 80)}): "
            + how_to_get(image)
        ) from None


class DockerTransport(Transport):
    """One bash started by `docker exec` with an attached raw socket (frames demultiplexed here)."""

    def __init__(self, api: docker.APIClient, container_id: str) -> None:
        self.api = api
        self.container_id = container_id
        try:
            exec_id = api.exec_create(
                container_id,
                ["bash", "--noprofile", "--norc"],
                stdin=True,
                stdout=True,
                stderr=True,
                tty=False,
            )["Id"]
            self._wrapper = api.exec_start(exec_id, socket=True)
        except docker.errors.DockerException as exc:
            raise SandboxError(
                f"cannot start a shell in the container (stopped? out of memory?): {_one_line(exc)}"
            ) from None
        self._sock = getattr(self._wrapper, "_sock", self._wrapper)
        self._raw = b""
        self._left = 0  # payload bytes still due in the current frame
        self._eof = False
        self.pid = self._handshake()

    def _handshake(self) -> int:
        """Ask the new bash for its pid (its process group, as `docker exec` starts a session)."""
        self.send(b"builtin echo __swe_ttc_pid $$\n")
        line = b""
        while b"\n" not in line:
            chunk = self.recv(60.0)
            if not chunk:
                raise SandboxError("the container has no working bash (exec ended at once)")
            line += chunk
        try:
            return int(line.split(b"__swe_ttc_pid", 1)[1].split()[0])
        except (IndexError, ValueError):
            raise SandboxError(f"unexpected reply from the container shell: {line[:200]!r}") from None

    def send(self, data: bytes) -> None:
        self._sock.settimeout(None)
        self._sock.sendall(data)

    def _take(self) -> bytes:
        """Strip frame headers from the buffered bytes; return the payload available so far."""
        raw, out, pos, left = self._raw, [], 0, self._left
        while pos < len(raw):
            if left == 0:
                if len(raw) - pos < 8:
                    break
                left = struct.unpack_from(">I", raw, pos + 4)[0]
                pos += 8
                continue
            piece = raw[pos : pos + left]
            out.append(piece)
            pos += len(piece)
            left -= len(piece)
        self._raw, self._left = raw[pos:], left
        return b"".join(out)

    def recv(self, timeout: float | None) -> bytes:
        while True:
            if self._raw:
                data = self._take()
                if data:
                    return data
            if self._eof:
                return b""
            self._sock.settimeout(timeout)
            chunk = self._sock.recv(1 << 16)  # raises TimeoutError (socket.timeout) at the deadline
            if not chunk:
                self._eof = True
                continue
            if self._raw:
                self._raw += chunk
            else:
                self._raw = chunk

    def kill(self) -> None:
        script = f"kill -9 -- -{self.pid} 2>/dev/null || kill -9 {self.pid} 2>/dev/null; true"
        try:
            exec_id = self.api.exec_create(self.container_id, ["bash", "-c", script])["Id"]
            self.api.exec_start(exec_id)
        except docker.errors.DockerException:
            pass  # container already gone

    def close(self) -> None:
        try:  # wake a thread blocked in recv() on this socket: close() alone does not
            self._sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass
        for obj in (self._sock, self._wrapper, getattr(self._wrapper, "_response", None)):
            try:
                if obj is not None:
                    obj.close()
            except Exception:  # noqa: BLE001
                pass


class DockerSandbox(ShellSandbox):
    """A container holding the repository at `config.workdir`, driven through one persistent bash."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        image: str | None = None,
        repo_path: str | None = None,
        commit: str | None = None,
        run_label: str | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        self.config = config
        self.image = image or config.image
        self.workdir = config.workdir
        self.scratch = "/tmp"  # temp files of git operations and verifiers (may be large: not the tmpfs)
        self.run_label = run_label or ""
        self._closed = False
        self._close_lock = threading.RLock()  # a signal handler may close while close() runs
        self.container: Container | None = None
        self.shell = None  # type: ignore[assignment]
        self._own_client = client is None
        self.client = client or docker_client()
        ensure_image(self.client, self.image, config.pull_timeout)
        prepared = prepare_clone(repo_path, commit, prefix="swe-ttc-copy-") if repo_path else None
        try:
            self._start_container()
            if prepared is not None:
                self._copy_in(prepared.path)
            self.shell = self._start_shell()
            self.base_commit = prepared.commit if prepared else self._existing_commit(commit)
            # What the image (or the copy) holds now is what every diff is measured against; this
            # also refreshes the index, whose stat data describe the host's files after a copy.
            self.record_baseline()
        except BaseException:
            self.close()
            raise
        finally:
            if prepared is not None:
                prepared.cleanup(background=True)

    # -- setup ------------------------------------------------------------------------------------

    def _environment(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        image_env = {
            item.split("=", 1)[0]
            for item in (self.client.images.get(self.image).attrs["Config"] or {}).get("Env") or []
        }
        env = {k: v for k, v in DEFAULT_ENV.items() if k not in image_env or k.startswith("GIT_CONFIG")}
        volumes: dict[str, dict[str, str]] = {}
        if self.config.ca_bundle:
            bundle = Path(self.config.ca_bundle).expanduser()
            if not bundle.is_file():
                raise UserError(
                    f"CA bundle {bundle} does not exist: pass the host's bundle file or leave it unset"
                )
            volumes[str(bundle.resolve())] = {"bind": CA_PATH, "mode": "ro"}
            env.update({name: CA_PATH for name in CA_VARIABLES})
        env.update(self.config.env)
        return env, volumes

    def _start_container(self) -> None:
        env, volumes = self._environment()
        labels = {LABEL: "1", PID_LABEL: str(os.getpid())}
        if self.run_label:
            labels[RUN_LABEL] = self.run_label
        try:
            self.container = self.client.containers.create(
                self.image,
                command=["sleep", "infinity"],
                init=True,
                labels=labels,
                environment=env,
                volumes=volumes,
                tmpfs={STATE_DIR: "size=16m,mode=700"},
                mem_limit=self.config.memory,
                pids_limit=self.config.pids_limit,
                network_mode=self.config.network,
                detach=True,
            )
            cleanup.register(id(self), self.close)
            self.container.start()
        except docker.errors.APIError as exc:
            raise UserError(f"could not start a container from {self.image}: {_one_line(exc)}") from None

    def _copy_in(self, source: Path) -> None:
        """Replace whatever the image has at `workdir` with the prepared clone."""
        assert self.container is not None
        workdir = posixpath.normpath(self.workdir)
        if workdir == "/":
            raise UserError("sandbox.workdir cannot be `/`: use a directory such as /testbed")
        parent, name = posixpath.split(workdir)
        prepared = self.container.exec_run(
            ["sh", "-c", 'rm -rf -- "$1" && mkdir -p -- "$2"', "sh", workdir, parent]
        )
        if prepared.exit_code != 0:
            raise SandboxError(
                f"could not prepare {workdir}: {prepared.output.decode(errors='replace').strip()}"
            )
        with tar_directory(source, name) as archive:
            if not self.container.put_archive(parent, archive):
                raise SandboxError(f"could not copy the repository into {workdir}")

    def _start_shell(self) -> ShellSession:
        try:
            return ShellSession(
                lambda: DockerTransport(self.client.api, self.container.id),
                workdir=self.workdir,
                state_dir=STATE_DIR,
                output_limit=self.config.output_limit,
                command_timeout=self.config.command_timeout,
                init_lines=["[ -r ~/.bashrc ] && builtin . ~/.bashrc"],  # e.g. SWE-bench's conda activation
            )
        except SandboxError as exc:
            raise UserError(
                f"cannot start bash in a container of {self.image} ({exc}): the image needs bash"
            ) from None

    def _existing_commit(self, commit: str | None) -> str:
        """Base commit of a repository the image already holds at `workdir`."""
        ref = quote(f"{commit or 'HEAD'}^{{commit}}")
        result = self.shell.run(f"git -C {quote(self.workdir)} rev-parse --verify --quiet {ref}", timeout=60)
        sha = result.output.strip()
        if result.exit_code == 0 and len(sha) >= 40:
            return sha
        if commit:
            raise UserError(
                f"unknown commit `{commit}` in {self.workdir} of image {self.image}: pass a commit it has"
            )
        raise UserError(f"image {self.image} has no git repository at {self.workdir}: pass a repository path")

    # -- files ------------------------------------------------------------------------------------

    def read_bytes(self, path: str) -> bytes:
        target = quote(self.resolve(path))
        code, raw, _ = self.shell.run_raw(
            f"if [ -d {target} ]; then builtin printf D; elif [ -e {target} ]; then builtin printf F; "
            f"cat -- {target}; else builtin printf N; fi"
        )
        kind, body = raw[:1], raw[1:]
        if kind == b"N":
            raise FileNotFoundError(f"{path}: no such file in the sandbox")
        if kind == b"D":
            raise IsADirectoryError(f"{path} is a directory")
        if code != 0 or kind != b"F":
            raise OSError(
                f"cannot read {path} in the sandbox: {body[-200:].decode('utf-8', 'replace').strip()}"
            )
        return body

    def write_bytes(self, path: str, data: bytes) -> None:
        full = self.resolve(path)
        target, parent = quote(full), quote(posixpath.dirname(full))
        if len(data) > SHELL_WRITE_LIMIT or b"\0" in data:
            self._write_archive(full, data)
            return
        text = data.decode("utf-8", "surrogateescape")
        code, raw, _ = self.shell.run_raw(
            f"{{ [ -d {parent} ] || mkdir -p -- {parent}; }} && builtin printf %s {quote(text)} > {target}"
        )
        if code != 0:
            raise OSError(
                f"cannot write {path} in the sandbox: {raw[-200:].decode('utf-8', 'replace').strip()}"
            )

    def _write_archive(self, full: str, data: bytes) -> None:
        """Large or NUL-containing content: a one-file tar through the API (see SHELL_WRITE_LIMIT).

        The target's symlinks are resolved and its mode kept, as a shell redirection would."""
        assert self.container is not None
        code, raw, _ = self.shell.run_raw(
            f"mkdir -p -- {quote(posixpath.dirname(full))} && __t=$(readlink -f -- {quote(full)}) && "
            f'builtin printf "%s\\n%s" "$(stat -c %a -- "$__t" 2>/dev/null || echo 644)" "$__t"'
        )
        mode, _, resolved = raw.decode("utf-8", "surrogateescape").partition("\n")
        if code != 0 or not resolved.startswith("/"):
            raise OSError(
                f"cannot write {full} in the sandbox: {raw[-200:].decode('utf-8', 'replace').strip()}"
            )
        parent, name = posixpath.split(resolved)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), int(mode.strip() or "644", 8)
            tar.addfile(info, io.BytesIO(data))
        if not self.container.put_archive(parent or "/", buffer.getvalue()):
            raise OSError(f"cannot write {full} in the sandbox")

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        cleanup.unregister(id(self))
        shell = self.shell
        if shell is not None:
            try:
                shell.close(kill=False)  # removing the container stops the shell anyway
            except Exception:  # noqa: BLE001
                pass
        if self.container is not None:
            try:
                self.container.remove(force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if "already in progress" not in str(exc):
                    raise
        if self._own_client:
            self.client.close()

    @property
    def alive(self) -> bool:
        return not self._closed and super().alive
