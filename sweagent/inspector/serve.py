"""`swe-ttc inspect --serve`: the page of a run that may still be growing, on 127.0.0.1.

`/` is the page rendered from the run folder as it is now (rendered again only when a file changed);
`/version` is a fingerprint of the folder's files, which the page polls to reload itself when a
batch finishes another instance; `/files/<path>` serves the run's own files (trajectories, logs).
Only the loopback interface is bound: a run may hold code and logs its owner would not publish.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markupsafe import escape

from sweagent.errors import UserError
from sweagent.inspector.page import DEFAULT_NAME, render_html
from sweagent.inspector.run_reader import Options, read_run

HOST = "127.0.0.1"
POLL_MS = 2000
_ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>swe-ttc inspector</title></head>
<body style="font:14px system-ui;margin:2em"><h1 style="font-size:18px">swe-ttc inspector</h1>
<p id="error" style="color:#8e1b1b">{message}</p><p>This page reloads when the run folder changes.</p>
<script>setInterval(function(){{fetch('version',{{cache:'no-store'}}).then(function(r){{return r.text()}})
.then(function(v){{if(v.trim()!=={version!r})location.reload()}}).catch(function(){{}})}},{poll});</script>
</body></html>"""


def fingerprint(run_dir: Path) -> str:
    """Changes whenever a file in the run folder is added, removed or rewritten (the page itself aside)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(run_dir):
        dirs.sort()
        for name in sorted(files):
            if name == DEFAULT_NAME or name.startswith("."):
                continue  # our own page, and temp files of atomic writes in progress
            try:
                stat = os.stat(os.path.join(root, name))
            except OSError:
                continue
            digest.update(
                f"{root}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode("utf-8", "surrogateescape")
            )
    return digest.hexdigest()[:16]


class LiveRun:
    """The run folder's current page, rendered again only when its fingerprint changed."""

    def __init__(self, run_dir: Path, opts: Options, poll_ms: int = POLL_MS) -> None:
        self.run_dir = run_dir
        self.opts = Options(
            output_limit=opts.output_limit, node_trajectories=opts.node_trajectories, live=True
        )
        self.poll_ms = poll_ms
        self._lock = threading.Lock()
        self._page: tuple[str, int, bytes] | None = None  # (version, status, body)
        self._version: tuple[float, str] = (0.0, "")
        self._records: dict = {}  # instances read before, by the key of their files

    def version(self) -> str:
        """The fingerprint, recomputed at most every half second however many pages poll it."""
        with self._lock:
            at, value = self._version
            if time.monotonic() - at > 0.5:
                value = fingerprint(self.run_dir)
                self._version = (time.monotonic(), value)
            return value

    def page(self) -> tuple[int, bytes]:
        version = self.version()
        with self._lock:
            if self._page is None or self._page[0] != version:
                try:
                    html = render_html(
                        read_run(self.run_dir, self.opts, self._records),
                        {"version": version, "poll_ms": self.poll_ms},
                    )
                    self._page = (version, HTTPStatus.OK, html.encode("utf-8"))
                except UserError as err:
                    body = _ERROR_PAGE.format(message=escape(str(err)), version=version, poll=self.poll_ms)
                    self._page = (version, HTTPStatus.INTERNAL_SERVER_ERROR, body.encode("utf-8"))
            return self._page[1], self._page[2]

    def file(self, rel: str) -> Path | None:
        """A file inside the run folder (None for anything outside it or missing)."""
        root = self.run_dir.resolve()
        path = (root / rel).resolve()
        return path if path.is_file() and root in path.parents else None


def make_handler(live: LiveRun) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "swe-ttc-inspect"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = unquote(urlsplit(self.path).path)
            if path in ("/", "/index.html"):
                status, body = live.page()
                self._send(status, body, "text/html; charset=utf-8")
            elif path == "/version":
                self._send(HTTPStatus.OK, live.version().encode(), "text/plain; charset=utf-8")
            elif path.startswith("/files/") and (found := live.file(path[len("/files/") :])):
                kind = mimetypes.guess_type(found.name)[0] or "text/plain"
                if kind.startswith("text/") or kind == "application/json":
                    kind += "; charset=utf-8"
                self._send(HTTPStatus.OK, found.read_bytes(), kind)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: the terminal is the user's
            return

    return Handler


def serve_run(
    run_dir: str | Path, opts: Options, port: int = 0, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve `run_dir` until interrupted; `on_ready` gets the URL once the socket listens."""
    run_dir = Path(run_dir).expanduser()
    live = LiveRun(run_dir, opts)
    status, body = live.page()
    if status != HTTPStatus.OK:  # the folder is unreadable now: say so once, as the static page would
        read_run(run_dir, opts)
    try:
        server = ThreadingHTTPServer((HOST, port), make_handler(live))
    except OSError as exc:
        raise UserError(
            f"cannot listen on {HOST}:{port} ({exc.strerror or exc}): pick another --port"
        ) from None
    server.daemon_threads = True
    url = f"http://{HOST}:{server.server_address[1]}/"
    if on_ready:
        on_ready(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
