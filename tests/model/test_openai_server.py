"""The loopback OpenAI-compatible server itself (other suites reuse it for judges and reward models)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.helpers.openai_server import OpenAIServer, Reply


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_queue_then_handler_then_error():
    seen = []

    def judge(request):
        seen.append(request.body["messages"][-1]["content"])
        return Reply(content="score: 7")

    with OpenAIServer(handler=judge) as server:
        server.enqueue("queued first")
        body = {"model": "m", "messages": [{"role": "user", "content": "rate this"}]}
        assert (
            _post(f"{server.url}/chat/completions", body)[1]["choices"][0]["message"]["content"]
            == "queued first"
        )
        status, data = _post(f"http://127.0.0.1:{server.port}/chat/completions", body)
        assert status == 200 and data["choices"][0]["message"]["content"] == "score: 7"
        assert seen == ["rate this"]
        assert (
            data["usage"]["total_tokens"]
            == data["usage"]["prompt_tokens"] + data["usage"]["completion_tokens"]
        )
        assert [r.path for r in server.requests] == ["/v1/chat/completions", "/chat/completions"]

    with OpenAIServer() as server:
        status, data = _post(f"{server.url}/chat/completions", body)
        assert status == 500 and "no reply queued" in data["error"]["message"]


def test_raw_body_for_other_endpoints_and_stream_refused():
    with OpenAIServer() as server:
        server.enqueue({"data": [{"index": 0, "data": [0.93]}]})
        assert _post(f"{server.url}/pooling", {"input": "patch"}) == (
            200,
            {"data": [{"index": 0, "data": [0.93]}]},
        )
        status, _ = _post(f"{server.url}/chat/completions", {"model": "m", "messages": [], "stream": True})
        assert status == 400
        with urllib.request.urlopen(f"{server.url}/models", timeout=5) as resp:
            assert json.loads(resp.read())["data"][0]["id"] == "loopback"


@pytest.mark.parametrize("status", [401, 429, 500])
def test_error_replies(status):
    with OpenAIServer() as server:
        server.enqueue(Reply.error(status, headers={"retry-after": "0"}))
        code, data = _post(f"{server.url}/chat/completions", {"model": "m", "messages": []})
        assert code == status and data["error"]["message"] == f"simulated HTTP {status}"
