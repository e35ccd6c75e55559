"""Prompt templates kept as data (YAML + Jinja2), so prompts change without touching code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from sweagent.errors import UserError

PROMPTS_DIR = Path(__file__).parent / "prompts"
REQUIRED = ("system", "instance", "observation", "format_error")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, trim_blocks=True)


class Templates:
    """A named set of templates; `render(name, **vars)`."""

    def __init__(self, sources: dict[str, str], origin: str) -> None:
        missing = [k for k in REQUIRED if k not in sources]
        if missing:
            raise UserError(f"prompt templates {origin} lack {', '.join(missing)}")
        self.origin = origin
        self._compiled = {k: _ENV.from_string(v) for k, v in sources.items()}

    def render(self, name: str, **variables: Any) -> str:
        return self._compiled[name].render(**variables).strip()


@lru_cache(maxsize=16)
def load_templates(name_or_path: str = "default") -> Templates:
    """Load a template set by name (sweagent/prompts/<name>.yaml) or by YAML path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROMPTS_DIR / f"{name_or_path}.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except OSError:
        raise UserError(f"prompt templates `{name_or_path}` not found (looked for {path})") from None
    except yaml.YAMLError:
        raise UserError(f"prompt templates {path} are not valid YAML") from None
    if not isinstance(data, dict):
        raise UserError(f"prompt templates {path} must be a mapping of template names to text")
    try:
        return Templates({k: str(v) for k, v in data.items()}, str(path))
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(f"prompt templates {path}: {exc.message} (line {exc.lineno})") from None
