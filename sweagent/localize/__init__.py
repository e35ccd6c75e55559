"""Model-free fault localisation: which files and functions an issue is about.

`localize(files, issue)` / `localize_repo(path, commit, issue)` rank a repository's files (source,
tests and other files separately) and functions by fusing lexical (BM25), structural (AST symbols) and
issue-text signals (tracebacks, names, quoted error messages, tests). See `fusion.py` for the fusion.
"""

from sweagent.localize.api import localize, localize_repo, query
from sweagent.localize.config import LocalizeConfig, SignalWeights
from sweagent.localize.result import FileHit, LocalizeResult, SignalHit, SymbolHit
from sweagent.localize.snapshot import RepoSnapshot

__all__ = [
    "FileHit",
    "LocalizeConfig",
    "LocalizeResult",
    "RepoSnapshot",
    "SignalHit",
    "SignalWeights",
    "SymbolHit",
    "localize",
    "localize_repo",
    "query",
]
