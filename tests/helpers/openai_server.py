"""A small OpenAI-compatible HTTP server on 127.0.0.1 for tests.

It stands in for the language model endpoint that users reach with `--model.api_base` (vLLM, ollama, a
served reward model, an LLM judge), so tests go through litellm and the `openai` client for real.

Replies come from a queue (`server.enqueue(...)`) and, once the queue is empty, from an optional
callable (`OpenAIServer(handler=fn)`, where `fn(request) -> Reply | str | dict`). A `Reply` can carry
content, tool calls, logprobs, a failure status (429, 500, 401, ...), a delay (to trigger client
timeouts) or a raw JSON body (for endpoints other than chat completions). Every request received is
recorded in `server.requests`.

    with OpenAIServer() as server:
        server.enqueue(Reply.error(429), Reply(content="hello"))
        litellm.completion(model="openai/m", api_base=server.url, api_key="x", messages=[...])
        assert server.requests[-1].body["messages"][0]["content"] == ...

Paths served: POST `/v1/chat/completions` and `/chat/completions` (plus any other POST path, answered by
the queue or handler, whose `Reply.body` is then sent as-is), GET `/v1/models`. Streaming is not
supported: a request with `"stream": true` gets HTTP 400.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")


@dataclass
class RecordedRequest:
    """One request as the server saw it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class TokenLogprob:
    """Log-probability of one generated token and its top alternatives (token, logprob) pairs."""

    token: str
    logprob: float
    top: list[tuple[str, float]] = field(default_factory=list)

    def as_openai(self) -> dict[str, Any]:
        def entry(tok: str, lp: float) -> dict[str, Any]:
            return {"token": tok, "logprob": lp, "bytes": list(tok.encode())}

        return {**entry(self.token, self.logprob), "top_logprobs": [entry(t, lp) for t, lp in self.top]}


@dataclass
class Reply:
    """What the server answers to one request.

    `status` != 200 sends an OpenAI-style error body with `message`. `delay` sleeps before answering
    (use it with a short client timeout to test timeouts). `body`, when set, is sent verbatim instead of
    a chat completion. `usage` overrides the token counts (default: characters // 4 of prompt and reply).
    """

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    logprobs: list[TokenLogprob] | None = None
    status: int = 200
    message: str = ""
    delay: float = 0.0
    usage: dict[str, int] | None = None
    model: str | None = None
    finish_reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    @classmethod
    def error(cls, status: int, message: str = "", **kwargs: Any) -> Reply:
        """A failure reply, e.g. `Reply.error(429)` or `Reply.error(401, "bad key")`."""
        return cls(status=status, message=message or f"simulated HTTP {status}", **kwargs)

    @classmethod
    def tool_call(cls, name: str, arguments: dict[str, Any] | str, content: str | None = None) -> Reply:
        """A reply holding one native tool call; `arguments` may be a dict or a raw (possibly bad) JSON string."""
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call = {
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": name, "arguments": args},
        }
        return cls(content=content, tool_calls=[call])


def _as_reply(item: Reply | str | dict[str, Any]) -> Reply:
    if isinstance(item, Reply):
        return item
    if isinstance(item, str):
        return Reply(content=item)
    return Reply(body=item)


def _prompt_chars(body: dict[str, Any]) -> int:
    total = 0
    for msg in body.get("messages") or []:
        content = msg.get("content")
        total += len(content) if isinstance(content, str) else len(json.dumps(content or ""))
    return total + len(json.dumps(body.get("tools") or ""))


def chat_completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    """The JSON of a chat completion for `reply` answering request `body`."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = reply.tool_calls
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "finish_reason": reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop"),
        "logprobs": {"content": [lp.as_openai() for lp in reply.logprobs]} if reply.logprobs else None,
    }
    completion_chars = len(reply.content or "") + len(json.dumps(reply.tool_calls or ""))
    usage = reply.usage or {
        "prompt_tokens": _prompt_chars(body) // 4,
        "completion_tokens": completion_chars // 4,
    }
    usage = {**usage, "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or body.get("model", "loopback"),
        "choices": [choice],
        "usage": usage,
    }


class OpenAIServer:
    """OpenAI-compatible server on an ephemeral 127.0.0.1 port, running in a background thread."""

    def __init__(
        self, handler: Callable[[RecordedRequest], Reply | str | dict[str, Any]] | None = None
    ) -> None:
        self.handler = handler
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._make_handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL to pass as `api_base` (ends in /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def enqueue(self, *replies: Reply | str | dict[str, Any]) -> None:
        """Queue replies, answered in order (a str is a plain content reply, a dict a raw JSON body)."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)

    def start(self) -> OpenAIServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="openai-loopback",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return _as_reply(self.handler(request))
        return Reply.error(500, "loopback server: no reply queued and no handler set")

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") in ("/v1/models", "/models"):
                    self._send(200, {"object": "list", "data": [{"id": "loopback", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(
                        400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}}
                    )
                    return
                request = RecordedRequest(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with server._lock:
                    server.requests.append(request)
                if body.get("stream"):
                    self._send(
                        400,
                        {"error": {"message": "streaming is not supported", "type": "invalid_request_error"}},
                    )
                    return
                reply = server._next_reply(request)
                if reply.delay:
                    server._stopping.wait(reply.delay)
                if reply.status != 200:
                    err = {
                        "error": {
                            "message": reply.message,
                            "type": "loopback_error",
                            "code": str(reply.status),
                        }
                    }
                    self._send(reply.status, err, reply.headers)
                elif reply.body is not None:
                    self._send(200, reply.body, reply.headers)
                elif self.path.split("?")[0] in CHAT_PATHS:
                    self._send(200, chat_completion(reply, body), reply.headers)
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        return Handler
