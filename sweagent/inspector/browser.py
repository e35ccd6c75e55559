"""Headless Chromium driven by Playwright, for measuring inspector pages (`swe-ttc bench inspect`).

Uses the system's Chromium (Debian: `apt-get install chromium`) rather than a browser Playwright
downloads, so it works offline; the profile is a fresh temporary folder for every launch.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sweagent.errors import UserError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium(path: str | None = None) -> str:
    found = path or next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if not found:
        raise UserError("no Chromium found: install it (`apt-get install chromium`) or pass --chromium PATH")
    return found


@contextmanager
def chromium_context(executable: str | None = None, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Playwright browser context on a fresh profile (closed, with its browser, on exit)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UserError("measuring pages needs Playwright: pip install 'swe-ttc[browser]'") from None
    binary = find_chromium(executable)
    with tempfile.TemporaryDirectory(prefix="swe-ttc-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=binary,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context
        finally:
            context.close()
