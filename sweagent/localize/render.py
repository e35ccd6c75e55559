"""Pretty output of a `LocalizeResult` with rich tables (the CLI's default view)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sweagent.localize.result import FileHit, LocalizeResult


def _signals(hit: FileHit) -> str:
    return "\n".join(f"{s.signal}: {s.detail}" for s in sorted(hit.signals, key=lambda s: s.rank)[:4])


def _table(title: str, hits: list[FileHit], with_symbols: bool) -> Table:
    table = Table(title=title, title_justify="left", show_lines=True, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("score", justify="right")
    table.add_column("file / functions (lines)" if with_symbols else "file", overflow="fold", ratio=3)
    table.add_column("signals", overflow="fold", min_width=24, ratio=2)
    for i, hit in enumerate(hits, 1):
        where = f"[bold cyan]{escape(hit.path)}[/]"
        if with_symbols:
            where += "".join(f"\n  {escape(s.qualname)} [dim]{s.span}[/]" for s in hit.symbols)
        table.add_row(str(i), f"{hit.score:.3f}", where, escape(_signals(hit)))
    return table


def render(result: LocalizeResult, console: Console, top: int) -> None:
    """Source files (with their functions), then tests, then other files, then a one-line summary."""
    if result.files:
        console.print(_table("Source files most likely to need a change", result.files[:top], True))
    if result.tests:
        console.print(_table("Related tests", result.tests[: max(3, top // 2)], True))
    if result.other:
        console.print(_table("Other files (docs, configs, data)", result.other[: max(3, top // 3)], False))
    stats = result.stats
    summary = (
        f"indexed {stats.get('files_indexed', 0)} files ({stats.get('python_files', 0)} Python, "
        f"{stats.get('symbols', 0)} symbols); index {stats.get('index_source', '?')} in "
        f"{stats.get('index_seconds', 0):.2f}s, query {1000 * stats.get('query_seconds', 0):.0f} ms"
    )
    console.print(summary, style="dim")
