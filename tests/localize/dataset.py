"""A SWE-bench-format fixture dataset built from real git repositories and real fix commits.

Each instance is an issue written against the "shop" repository (plus one small second repository),
and its gold patch is `git diff base fix` of a commit that really fixes it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.repos import git, make_repo
from tests.localize.shop import (
    MESSAGE_ISSUE,
    METHOD_ISSUE,
    PROSE_ISSUE,
    SHOP_FILES,
    distractor_files,
    traceback_issue,
)

# (instance suffix, issue, file, old text, new text, further (file, old, new) edits...)
SHOP_FIXES = [
    (
        "traceback",
        traceback_issue(),
        "shop/pricing.py",
        "rate = TAX_RATES[self.region]",
        "rate = TAX_RATES.get(self.region, 0.0)",
    ),
    (
        "method",
        METHOD_ISSUE,
        "shop/inventory.py",
        "        self.stock[sku] = self.stock.get(sku, 0) + quantity\n        self.stock[sku]",
        "        self.stock[sku]",
    ),
    (
        "message",
        MESSAGE_ISSUE,
        "shop/inventory.py",
        "if quantity > available:",
        "if quantity > max(available, 0):",
    ),
    (
        "prose",
        PROSE_ISSUE,
        "shop/pricing.py",
        "apply_discount(price, coupon_percent + seasonal_sale_percent)",
        "apply_discount(price, seasonal_sale_percent)",
    ),
    (
        "dotted",
        "Cart.add_item accepts `True` as a quantity\n\nbool is an int, so cart.add_item('A', 1.0, True) adds one item.",
        "shop/cart.py",
        "if not isinstance(quantity, int) or quantity <= 0:",
        "if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:",
    ),
    (
        "currency",
        "Swiss francs are rejected\n\nconvert_currency(10, 'CHF') raises\n"
        "ValueError: unknown currency code 'CHF', expected one of EUR, USD, GBP\n",
        "shop/pricing.py",
        'if code not in ("EUR", "USD", "GBP"):',
        'if code not in ("EUR", "USD", "GBP", "CHF"):',
    ),
    (
        "slug",
        "slugify() keeps trailing dashes\n\n`slugify('Red shirt -')` returns 'red-shirt-' instead of 'red-shirt'.",
        "shop/utils/text.py",
        'return re.sub(r"[-\\s]+", "-", value)',
        'return re.sub(r"[-\\s]+", "-", value).strip("-")',
    ),
    (
        "export",
        "CSV export has no total row\n\nExporting an order as CSV lists each item with its price and quantity "
        "but the order total is missing; the JSON export has it.",
        "shop/orders/export.py",
        "        return out.getvalue()",
        '        writer.writerow(["total", order["total"], ""])\n        return out.getvalue()',
    ),
    (
        "two-files",
        "Changing a cart's region has no effect on tax\n\n"
        "    cart = Cart('EU')\n    cart.region = 'US'\n    cart.checkout()  # still charged EU tax\n\n"
        "The calculator keeps the region it was created with; compute_tax should be told the region.",
        "shop/cart.py",
        "total = self.calculator.compute_tax(self.subtotal())",
        "total = self.calculator.compute_tax(self.subtotal(), self.region)",
        (
            "shop/pricing.py",
            "    def compute_tax(self, amount):\n        rate = TAX_RATES[self.region]",
            "    def compute_tax(self, amount, region=None):\n        rate = TAX_RATES[region or self.region]",
        ),
    ),
    (
        "named-test",
        "tests/test_inventory.py::TestInventory::test_reserve_more_than_available fails on the release "
        "branch: reserving 2 of 1 units succeeds when units were reserved and released before.",
        "shop/inventory.py",
        "        available = self.stock.get(sku, 0) - self.reserved.get(sku, 0)",
        "        available = max(self.stock.get(sku, 0) - self.reserved.get(sku, 0), 0)",
    ),
]

TOOLS_FILES = {
    "textkit/__init__.py": "",
    "textkit/wrap.py": '''"""Line wrapping."""


def wrap_paragraph(text, width=72):
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = (line + " " + word).strip()
    lines.append(line)
    return lines
''',
    "textkit/table.py": '''"""Plain-text tables."""


def render_table(rows, padding=1):
    widths = [max(len(str(c)) for c in col) for col in zip(*rows)]
    if padding < 0:
        raise ValueError("padding must not be negative")
    return ["|".join(str(c).ljust(w + padding) for c, w in zip(row, widths)) for row in rows]
''',
    **distractor_files("textkit", use_shop=False),
}

TOOLS_FIXES = [
    (
        "wrap",
        "wrap_paragraph returns an empty first line when the first word is longer than the width",
        "textkit/wrap.py",
        "            lines.append(line)\n            line = word",
        "            if line:\n                lines.append(line)\n            line = word",
    ),
    (
        "table",
        "render_table crashes on an empty list of rows:\n\n"
        'Traceback (most recent call last):\n  File "textkit/table.py", line 6, in render_table\n'
        "ValueError: max() arg is an empty sequence\n",
        "textkit/table.py",
        "    widths = [",
        "    if not rows:\n        return []\n    widths = [",
    ),
]


def _edits(flat: list) -> list[tuple[str, str, str]]:
    first, rest = tuple(flat[:3]), flat[3:]
    return [first, *rest]


def _instances(repo: Path, name: str, fixes: list) -> list[dict]:
    base = git(repo, "rev-parse", "HEAD").strip()
    rows = []
    for suffix, issue, *edits in fixes:
        git(repo, "checkout", "-q", "-b", f"fix-{suffix}", base)
        for path, old, new in _edits(edits):
            text = (repo / path).read_text()
            assert old in text, (suffix, old)
            (repo / path).write_text(text.replace(old, new, 1))
        git(repo, "commit", "-q", "-am", f"fix {suffix}")
        patch = git(repo, "diff", base, "HEAD")
        git(repo, "checkout", "-q", "main")
        rows.append(
            {
                "instance_id": f"{name.replace('/', '__')}-{suffix}",
                "repo": name,
                "base_commit": base,
                "problem_statement": issue,
                "patch": patch,
                "test_patch": "",
                "FAIL_TO_PASS": "[]",
                "PASS_TO_PASS": "[]",
                "version": "1.0",
            }
        )
    return rows


def make_fixture_dataset(root: Path) -> tuple[Path, Path]:
    """Write root/dataset.jsonl and root/repos/{acme__shop.git (bare), acme__textkit}; return both."""
    repos = root / "repos"
    work = make_repo(root / "work" / "shop", {**SHOP_FILES, **distractor_files("shop")})
    rows = _instances(work, "acme/shop", SHOP_FIXES)
    repos.mkdir(parents=True)
    git(root, "clone", "-q", "--bare", str(work), str(repos / "acme__shop.git"))
    tools = make_repo(repos / "acme__textkit", TOOLS_FILES)
    rows += _instances(tools, "acme/textkit", TOOLS_FIXES)
    dataset = root / "dataset.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dataset, repos
