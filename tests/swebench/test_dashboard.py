"""The batch dashboard: the live view on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from sweagent.swebench.dashboard import LiveDashboard, PlainDashboard, make_dashboard


def test_live_view_shows_bar_running_lines_and_statuses():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    board = make_dashboard(console)
    assert isinstance(board, LiveDashboard)
    board.begin(total=4, done=1, statuses={"a__b-0": "submitted"}, cost=0.5)
    board.started("a__b-1")
    board.started("a__b-2")
    board.event({"instance_id": "a__b-1", "step": 7, "stage": "reproduce", "cost": 0.02})
    board.finished("a__b-2", "error: setup", 0.25)
    console.print(board)
    text = buf.getvalue()
    assert "2/4" in text and "cost $0.7500" in text and "ETA" in text
    assert (
        "a__b-1" in text
        and "reproduce" in text
        and "7" in text
        and "a__b-2" not in text.split("exit statuses")[0]
    )
    assert "submitted" in text and "error: setup" in text


def test_plain_lines_when_not_a_terminal():
    buf = io.StringIO()
    board = make_dashboard(Console(file=buf, width=200))
    assert isinstance(board, PlainDashboard)
    board.begin(total=2, done=0, statuses={}, cost=0.0)
    board.started("x__y-[1]")
    board.event({"instance_id": "x__y-[1]", "step": 2, "stage": "edit"})
    board.finished("x__y-[1]", "submitted", 0.1)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "start  x__y-[1]" and lines[1] == "stage  x__y-[1]: edit (step 2)"
    assert lines[2].startswith("done   [1/2] x__y-[1]: submitted (cost $0.1000")
