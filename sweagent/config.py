"""Run configuration: pydantic models loaded from YAML, with dotted command-line overrides.

A run is fully described by one `RunConfig`; its snapshot (`config.yaml`) is saved in every run
directory so the run can be replayed with `--config runs/<id>/config.yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sweagent.errors import UserError

DEFAULT_IMAGE = "swe-ttc/base:bookworm"
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelConfig(_Strict):
    """Which model to call and the limits on calling it."""

    name: str = Field("replay/demo", description="litellm model name, e.g. anthropic/claude-sonnet-4-5")
    api_base: str | None = Field(None, description="base URL of an OpenAI-compatible server (vLLM, ollama)")
    temperature: float = 0.0
    top_p: float | None = None
    max_output_tokens: int | None = None
    action_format: Literal["auto", "tool_calls", "text"] = Field(
        "auto", description="tool_calls: native function calling; text: parse actions from the reply"
    )
    per_call_cost_limit: float = Field(0.0, description="USD; 0 means no limit")
    cost_limit: float = Field(3.0, description="USD per task; 0 means no limit")
    token_limit: int = Field(0, description="total tokens per task; 0 means no limit")
    retries: int = 5
    retry_min_wait: float = 1.0
    retry_max_wait: float = 30.0
    timeout: float = Field(300.0, description="seconds per call")
    completion_kwargs: dict[str, Any] = Field(default_factory=dict)


class SandboxConfig(_Strict):
    """Where commands run."""

    kind: Literal["docker", "local"] = "docker"
    image: str = DEFAULT_IMAGE
    workdir: str = "/testbed"
    command_timeout: float = Field(120.0, description="seconds per command before it is stopped")
    output_limit: int = Field(20_000, description="characters of command output kept (head and tail)")
    memory: str = "4g"
    pids_limit: int = 1024
    network: str = Field("bridge", description="docker network mode: bridge, none, host, or a network name")
    ca_bundle: str | None = Field(
        None, description=f"host CA bundle to mount and trust inside the sandbox, e.g. {HOST_CA_BUNDLE}"
    )
    env: dict[str, str] = Field(default_factory=dict)
    pull_timeout: float = 600.0


class AgentConfig(_Strict):
    """The agent loop."""

    step_limit: int = 75
    wall_time_limit: float = Field(3600.0, description="seconds per task; 0 means no limit")
    max_format_errors: int = Field(3, description="malformed replies in a row before the run ends")
    templates: str = Field(
        "default", description="prompt template set: a name in sweagent/prompts or a YAML path"
    )
    exclude_new_files: list[str] = Field(
        default_factory=lambda: [
            "reproduce*.py",
            "repro_*.py",
            "*_repro.py",
            "scratch*",
            "debug_*.py",
        ],
        description=(
            "the agent's scratch files, left out of the final patch: a new file at the repository root, "
            "or a new top-level folder, whose name matches one of these globs (deeper files are kept, so "
            "pkg/debug_utils.py stays; build output and files untracked at start never enter a patch)"
        ),
    )
    localize_hint: bool = Field(
        True, description="put the top files of `swe-ttc localize` in the first message"
    )
    localize_top: int = 5


SECTIONS: dict[str, type[BaseModel]] = {}
"""Config sections other packages own, by name. `sweagent` itself knows none of them: the package
that owns a section registers its model (`search.config` registers `search`), and the command layer
imports those packages before it reads a config (`sweagent.commands.register_config_sections`)."""


def register_section(name: str, model: type[BaseModel]) -> None:
    """Validate the run config's `name:` section with `model` from now on."""
    SECTIONS[name] = model


class RunConfig(_Strict):
    """Everything one run needs; saved as config.yaml beside its outputs."""

    model: ModelConfig = Field(default_factory=ModelConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    search: Any = Field(
        None,
        description="search over the development process (solve --search); validated by the model the "
        "search package registers for it",
    )
    output_dir: str = "runs"

    @field_validator("search", mode="before")
    @classmethod
    def _registered_section(cls, value: Any, info: Any) -> Any:
        """A section owned by another package, validated by the model that package registered."""
        if value is None:
            return None
        model = SECTIONS.get(info.field_name)
        if model is None:
            raise ValueError(f"the `{info.field_name}:` section needs its package (none registered it)")
        return value if isinstance(value, model) else model.model_validate(value)

    def snapshot_yaml(self) -> str:
        """YAML that reloads to this config (no secrets are ever stored in it)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


M = TypeVar("M", bound=BaseModel)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise UserError(f"config override `--{dotted}`: `{key}` is not a section")
    node[keys[-1]] = value


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """Turn ['--agent.step_limit', '40', '--model.name=x'] into a nested dict (values parsed as YAML)."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg.split("=", 1)[0]:
            raise UserError(
                f"unexpected argument `{arg}`: config overrides look like `--agent.step_limit 40`"
            )
        key = arg[2:]
        if "=" in key:
            key, raw = key.split("=", 1)
        elif i + 1 < len(args):
            i += 1
            raw = args[i]
        else:
            raise UserError(f"config override `{arg}` needs a value")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        _set_dotted(out, key, value if value is not None or raw.strip() in ("null", "~") else raw)
        i += 1
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"unknown config key `{where}`"
    return f"config key `{where}`: {first['msg']}"


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, schema: type[M] = RunConfig
) -> M:
    """Load YAML (optional), apply overrides, validate as `schema`; every problem is one UserError line."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise UserError(f"cannot read config file {p}: {exc.strerror or exc}") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark else ""
            raise UserError(f"config file {p} is not valid YAML{at}: fix the syntax") from None
        if not isinstance(loaded, dict):
            raise UserError(f"config file {p} must hold a mapping of sections (e.g. sandbox:)")
        data = loaded
    _merge(data, overrides or {})
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise UserError(_describe(exc) + (f" (in {path})" if path else "")) from None


def cli_overrides(extra_args: list[str], explicit: dict[str, Any]) -> dict[str, Any]:
    """Dotted overrides (`--agent.step_limit 40`), then the command's own options (`{"model.name": ...}`;
    None = not given), as one nested dict."""
    overrides = parse_overrides(extra_args)
    for dotted, value in explicit.items():
        if value is not None:
            _set_dotted(overrides, dotted, value)
    return overrides


def config_from_cli(config_file: str | None, extra_args: list[str], explicit: dict[str, Any]) -> RunConfig:
    """The config a command line describes: the YAML file, then `cli_overrides`."""
    return load_config(config_file, cli_overrides(extra_args, explicit))
