"""What an issue text says about code: traceback frames, paths, dotted names, identifiers, test names.

Parsing is independent of any repository; `signals.py` matches the result against an index. Code is
found in fenced blocks, Trac `{{{ }}}` blocks, doctest lines, indented blocks and backticks; outside
code only words that look like code (snake_case, CamelCase, `name()`) count as identifiers.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections import Counter
from dataclasses import dataclass, field

_FRAME_RE = re.compile(r'File "(?P<path>[^"\n]+)", line (?P<line>\d+)(?:, in (?P<func>[\w<>.]+))?')
_PYTEST_FRAME_RE = re.compile(
    r"^\s*(?P<path>[\w./\\-]+\.pyx?):(?P<line>\d+):(?: in (?P<func>[\w<>.]+))?", re.M
)
_PATH_RE = re.compile(
    r"(?<![\w/.-])(?P<path>(?:[\w.-]+/)*[\w-]+\.(?:pyi?|pyx|pxd|c|h|cpp|js|ts|html|txt|rst|md|cfg|toml|ini|json|ya?ml|css))\b"
)
_DOTTED_RE = re.compile(r"(?<![\w./])(?:[A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)+")
_IDENT_RE = re.compile(r"(?a)\b[A-Za-z_]\w*\b")
_CALL_RE = re.compile(r"(?a)\b([A-Za-z_]\w*)\(")
_FENCED_RE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)|\{\{\{(.*?)(?:\}\}\}|\Z)", re.S)
_BACKTICK_RE = re.compile(r"`([^`\n]+)`")
_DOCTEST_RE = re.compile(r"^\s*(?:>>>|\.\.\.|\$|In \[\d+\]:) ?(.*)$", re.M)
_INDENTED_RE = re.compile(r"^(?: {4}|\t)(.+)$", re.M)
_TEST_RE = re.compile(r"(?a)\b(test_\w+|Test[A-Z]\w*|\w+Tests?\b(?=[.:)\s]))")
_URL_RE = re.compile(r"https?://\S+")
_WORD_RE = re.compile(r"\w+")

BLOCK_WEIGHT = 0.35
_NOT_NAMES = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "cls", "args", "kwargs"}
_FILE_SUFFIXES = (".py", ".pyi", ".pyx", ".txt", ".rst", ".html", ".js", ".json", ".cfg", ".toml", ".md")


@dataclass(frozen=True)
class Frame:
    """One traceback frame; `depth` 0 is the innermost frame (where the exception was raised)."""

    path: str
    line: int
    func: str | None
    depth: int


@dataclass
class IssueFacts:
    text: str
    frames: list[Frame] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    dotted: list[str] = field(default_factory=list)
    identifiers: dict[str, float] = field(default_factory=dict)  # name -> weight in (0, 1]
    test_names: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    has_code: bool = False


def code_regions(text: str) -> tuple[list[str], list[str]]:
    """(inline code: backticks; code blocks: fences, Trac blocks, doctest and indented lines)."""
    blocks = [a or b for a, b in _FENCED_RE.findall(text)]
    rest = _FENCED_RE.sub(" ", text)
    inline = _BACKTICK_RE.findall(rest)
    blocks += _DOCTEST_RE.findall(rest)
    blocks += _INDENTED_RE.findall(rest)
    return [r for r in inline if r.strip()], [r for r in blocks if r.strip()]


def _looks_like_code(word: str) -> bool:
    inner = word.strip("_")
    return "_" in inner or (any(c.isupper() for c in inner[1:]) and any(c.islower() for c in inner))


def parse_issue(text: str) -> IssueFacts:
    """Extract everything code-like from an issue (no repository needed)."""
    facts = IssueFacts(text=text, words=_WORD_RE.findall(text.lower()))
    clean = _URL_RE.sub(" ", text)

    frames: list[tuple[str, int, str | None]] = []
    for m in _FRAME_RE.finditer(clean):
        frames.append((m["path"], int(m["line"]), m["func"]))
    if not frames:
        for m in _PYTEST_FRAME_RE.finditer(clean):
            frames.append((m["path"], int(m["line"]), m["func"]))
    facts.frames = [
        Frame(p.replace("\\", "/"), ln, fn, len(frames) - 1 - i) for i, (p, ln, fn) in enumerate(frames)
    ]
    frame_paths = {f.path for f in facts.frames}

    seen: dict[str, None] = {}
    for m in _PATH_RE.finditer(clean):
        path = m["path"]
        while path.startswith("./"):
            path = path[2:]
        if path not in frame_paths:
            seen.setdefault(path, None)
    facts.paths = list(seen)

    inline, blocks = code_regions(clean)
    facts.has_code = bool(inline or blocks or facts.frames)
    dotted: dict[str, None] = {}
    for m in _DOTTED_RE.finditer(clean):
        name = m.group(0)
        head, _, tail = name.partition(".")
        if head in ("self", "cls"):
            name = tail
        if "." in name and not name.endswith(_FILE_SUFFIXES):
            dotted.setdefault(name, None)
    facts.dotted = list(dotted)

    # A name the issue talks about (prose, backticks, a traceback) counts fully; a name that only occurs
    # in an example's code is mostly the framework being used (models.CharField, TestCase), not the bug.
    idents: Counter[str] = Counter()
    for region in blocks:
        for word in _IDENT_RE.findall(region):
            if word not in _NOT_NAMES and len(word) > 1:
                idents[word] = min(idents[word] + BLOCK_WEIGHT, BLOCK_WEIGHT * 2)
    prose = _FENCED_RE.sub(" ", clean)
    prose = _INDENTED_RE.sub(" ", _DOCTEST_RE.sub(" ", prose))
    mentioned: set[str] = set()
    for region in inline:
        mentioned.update(w for w in _IDENT_RE.findall(region) if len(w) > 1)
    mentioned.update(w for w in _IDENT_RE.findall(prose) if _looks_like_code(w))
    mentioned.update(w for w in _CALL_RE.findall(prose) if len(w) > 1)
    mentioned.update(f.func.rsplit(".", 1)[-1] for f in facts.frames if f.func and not f.func.startswith("<"))
    for word in mentioned - _NOT_NAMES:
        idents[word] = 1.0
    facts.identifiers = idents

    tests: dict[str, None] = {}
    for m in _TEST_RE.finditer(clean):
        tests.setdefault(m.group(1), None)
    facts.test_names = list(tests)
    return facts
