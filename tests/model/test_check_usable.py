"""`check_model_usable`: one clear line before any work starts when a model cannot be called."""

from __future__ import annotations

import pytest

from sweagent.config import ModelConfig
from sweagent.errors import UserError
from sweagent.model.litellm_model import check_model_usable


def _error(config: ModelConfig) -> str:
    with pytest.raises(UserError) as err:
        check_model_usable(config)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_unknown_model():
    message = _error(ModelConfig(name="gpt-nonexistent-9000"))
    assert "unknown model `gpt-nonexistent-9000`" in message and "provider/model" in message


def test_unknown_provider():
    assert "unknown model `nosuchprovider/model-x`" in _error(ModelConfig(name="nosuchprovider/model-x"))


def test_missing_api_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    message = _error(ModelConfig(name="anthropic/claude-sonnet-4-5"))
    assert "ANTHROPIC_API_KEY" in message and "export" in message
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    check_model_usable(ModelConfig(name="anthropic/claude-sonnet-4-5"))


def test_api_base_and_scripted_models_skip_the_key_check(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    check_model_usable(ModelConfig(name="openai/my-local-model", api_base="http://127.0.0.1:8000/v1"))
    check_model_usable(ModelConfig(name="replay/anything"))
    check_model_usable(ModelConfig(name="oracle/anything"))


def test_missing_replay_file(tmp_path):
    assert "not found" in _error(ModelConfig(name=f"replay/{tmp_path}/missing.yaml"))


def test_api_key_in_config_is_refused():
    message = _error(ModelConfig(name="replay/x", completion_kwargs={"api_key": "sk-123"}))
    assert "api_key" in message and "sk-123" not in message
