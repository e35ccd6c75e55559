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
_HTML_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.S)  # issue-template guidance, never shown
_WORD_RE = re.compile(r"\w+")

# Messages the Python interpreter itself produces: quoted in an issue they say what went wrong, never
# where (a repository that happens to contain the same words is not the place). Left out of the words
# the message signal matches; `\S+` stands for the names and numbers the interpreter fills in.
_INTERPRETER_MESSAGES = re.compile(
    r"(?i)\b(?:"
    + "|".join(
        p.replace(" ", r"\W+")
        for p in (
            r"(?:object )?has no attribute",
            r"object is not (?:subscriptable|iterable|callable|an iterator)",
            r"object does not support (?:item assignment|item deletion|indexing)",
            r"object cannot be interpreted as an integer",
            r"object of type \S+ has no len",
            r"unsupported operand type\W*s\W* for",
            r"not supported between instances of",
            r"takes (?:from )?\S+ (?:to \S+ )?positional arguments? but \S+ (?:was|were) given",
            r"got an unexpected keyword argument",
            r"got multiple values for (?:keyword )?argument",
            r"missing \S+ required (?:positional|keyword-only) arguments?",
            r"(?:list|tuple|string) index out of range",
            r"is not defined",
            r"referenced before assignment",
            r"maximum recursion depth exceeded",
            r"can only concatenate \S+ \W*not \S+\W* to \S+",
            r"invalid literal for int\W*\W* with base",
            r"cannot import name",
            r"no module named",
            r"division by zero",
            r"(?:too many|not enough) values to unpack",
            r"unhashable type",
            r"argument of type \S+ is not iterable",
            r"must be (?:str|int|a number|real number), not",
        )
    )
    + r")"
)

# Lines of an environment report pasted into an issue (`show_versions()`, `pip freeze`, `conda list`):
# `name: value` / `name==version` with a short value, a short line with a version number in it, or a
# header. A run of them says which dependencies are installed, never where the bug is.
_ENV_PAIR_RE = re.compile(
    r"^\s*[-*]?\s*[\w.\-\[\]/() ]{1,40}?\s*(?::|==|>=|<=)\s*\S.{0,80}$|^\s*[\w.\-]{1,40}\s*:\s*$"
)
_ENV_VERSION_RE = re.compile(r"\d+\.\d+")
_ENV_UNSET_RE = re.compile(r":\s*(?:None|not installed|N/A)\s*$")  # a dependency that is not there
_ENV_HEADER_RE = re.compile(
    r"(?i)^\s*(?:#+\s*)?(?:installed versions|versions?|system|dependencies|-{3,}|={3,})\s*:?\s*$"
)
ENV_MIN_LINES = 4


def _env_like(line: str) -> bool:
    if not line.strip() or _ENV_HEADER_RE.match(line) or _ENV_PAIR_RE.match(line):
        return True
    return bool(_ENV_VERSION_RE.search(line)) and len(line.split()) <= 6


def strip_environment(text: str) -> str:
    """The text without pasted environment reports: runs of at least ENV_MIN_LINES environment-like
    lines, half of them carrying a version number or naming a dependency that is not installed. Their
    words name every dependency and match the module that prints them, and say nothing about the bug."""
    lines = text.split("\n")
    keep = [True] * len(lines)
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _env_like(lines[j]):
            j += 1
        filled = [line for line in lines[i:j] if line.strip() and not _ENV_HEADER_RE.match(line)]
        versions = sum(1 for line in filled if _ENV_VERSION_RE.search(line))
        unset = sum(1 for line in filled if _ENV_UNSET_RE.search(line))
        if len(filled) >= ENV_MIN_LINES and versions >= 2 and (versions + unset) * 2 >= len(filled):
            for k in range(i, j):
                keep[k] = False
        i = max(j, i + 1)
    return "\n".join(line for line, kept in zip(lines, keep, strict=True) if kept)


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
    code: str | None = None  # the source line a Python traceback prints under the frame


@dataclass
class IssueFacts:
    text: str
    frames: list[Frame] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    dotted: list[str] = field(default_factory=list)
    identifiers: dict[str, float] = field(default_factory=dict)  # name -> weight in (0, 1]
    test_names: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    message_words: list[str] = field(default_factory=list)  # words, less the interpreter's own messages
    has_code: bool = False


def code_regions(text: str) -> tuple[list[str], list[str]]:
    """(inline code: backticks; code blocks: fences, Trac blocks, doctest and indented lines)."""
    blocks = [a or b for a, b in _FENCED_RE.findall(text)]
    rest = _FENCED_RE.sub(" ", text)
    inline = _BACKTICK_RE.findall(rest)
    blocks += _DOCTEST_RE.findall(rest)
    blocks += _INDENTED_RE.findall(rest)
    return [r for r in inline if r.strip()], [r for r in blocks if r.strip()]


def _code_after(text: str, end: int) -> str | None:
    """The source line printed under a traceback frame: the next line, when it is indented code."""
    start = text.find("\n", end)
    if start < 0:
        return None
    stop = text.find("\n", start + 1)
    line = text[start + 1 : stop if stop >= 0 else len(text)]
    code = line.strip()
    if not code or not line[:1].isspace() or code.startswith(("File ", "Traceback", "^", "~")):
        return None
    return code


def _looks_like_code(word: str) -> bool:
    inner = word.strip("_")
    return "_" in inner or (any(c.isupper() for c in inner[1:]) and any(c.islower() for c in inner))


def parse_issue(text: str) -> IssueFacts:
    """Extract everything code-like from an issue (no repository needed)."""
    text = strip_environment(_HTML_COMMENT_RE.sub(" ", text))
    facts = IssueFacts(text=text, words=_WORD_RE.findall(text.lower()))
    facts.message_words = _WORD_RE.findall(_INTERPRETER_MESSAGES.sub(" | ", text).lower().replace("|", " _ "))
    clean = _URL_RE.sub(" ", text)

    frames: list[tuple[str, int, str | None, str | None]] = []
    for m in _FRAME_RE.finditer(clean):
        frames.append((m["path"], int(m["line"]), m["func"], _code_after(clean, m.end())))
    if not frames:
        for m in _PYTEST_FRAME_RE.finditer(clean):
            frames.append((m["path"], int(m["line"]), m["func"], None))
    facts.frames = [
        Frame(p.replace("\\", "/"), ln, fn, len(frames) - 1 - i, code)
        for i, (p, ln, fn, code) in enumerate(frames)
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
    for word in sorted(mentioned - _NOT_NAMES):  # sorted: a set's order changes with the hash seed
        idents[word] = 1.0
    facts.identifiers = idents

    tests: dict[str, None] = {}
    for m in _TEST_RE.finditer(clean):
        tests.setdefault(m.group(1), None)
    facts.test_names = list(tests)
    return facts
