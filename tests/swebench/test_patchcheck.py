"""Patches refused before they reach a container: one line each."""

from __future__ import annotations

from sweagent.swebench.patchcheck import check_patch

GOOD = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"


def test_good_patch_passes():
    assert check_patch(GOOD) is None


def test_empty():
    assert check_patch("").startswith("empty patch") and check_patch(None).startswith("empty patch")


def test_binary_without_content():
    patch = (
        GOOD
        + "diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\n"
    )
    assert "binary diff without content" in check_patch(patch)


def test_paths_outside_the_repository():
    for path in ("../etc/passwd", "a/../../x", "/etc/passwd"):
        patch = GOOD.replace("a/x.py", f"a/{path}").replace("b/x.py", f"b/{path}")
        msg = check_patch(patch)
        assert msg and "outside the repository" in msg, path


def test_not_a_diff():
    assert "no file changes" in check_patch("hello\nworld\n")
