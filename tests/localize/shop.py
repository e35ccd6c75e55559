"""A small but realistic repository ("shop") and issues written against it, for localisation tests.

The modules share vocabulary on purpose (price, order, item, stock appear everywhere), so a ranking
must use names, tracebacks and messages to be right, not just word overlap.
"""

from __future__ import annotations

SHOP_FILES: dict[str, str] = {
    "README.md": """# shop

A tiny order-processing library: carts, pricing, discounts, inventory and order export.
Every order has items; every item has a price and a quantity. See docs/usage.rst.
""",
    "setup.cfg": """[metadata]
name = shop
version = 1.0

[options]
packages = find:
""",
    "docs/usage.rst": """Usage
=====

Create a cart, add items with a price and a quantity, then check out the order. Discounts, coupons
and seasonal sales are applied by the pricing module; stock is reserved in the inventory when the
order is placed. Orders can be exported to JSON or CSV.
""",
    "shop/__init__.py": '''"""shop: carts, pricing, inventory and orders."""

from shop.cart import Cart
from shop.inventory import Inventory
from shop.pricing import PriceCalculator

__all__ = ["Cart", "Inventory", "PriceCalculator"]
''',
    "shop/cart.py": '''"""A shopping cart: items, quantities and the order total."""

from shop.pricing import PriceCalculator


class Cart:
    """Items a customer is about to order."""

    def __init__(self, region="EU"):
        self.items = {}
        self.region = region
        self.calculator = PriceCalculator(region)

    def add_item(self, sku, price, quantity=1):
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValueError("quantity must be a positive integer, got %r" % (quantity,))
        item = self.items.setdefault(sku, {"price": price, "quantity": 0})
        item["quantity"] += quantity

    def remove_item(self, sku):
        self.items.pop(sku, None)

    def subtotal(self):
        return sum(item["price"] * item["quantity"] for item in self.items.values())

    def checkout(self):
        total = self.calculator.compute_tax(self.subtotal())
        return {"items": dict(self.items), "total": total}
''',
    "shop/pricing.py": '''"""Prices: tax by region, discounts, coupons and seasonal sales."""

TAX_RATES = {"EU": 0.2, "US": 0.07, "UK": 0.2}


def apply_discount(price, percent):
    """Reduce a price by a percentage."""
    return price * (1 - percent / 100)


class PriceCalculator:
    def __init__(self, region):
        self.region = region

    def compute_tax(self, amount):
        rate = TAX_RATES[self.region]
        return round(amount * (1 + rate), 2)

    def price_with_promotions(self, price, coupon_percent=0, seasonal_sale_percent=0):
        """Apply the coupon and the seasonal sale to a price."""
        price = apply_discount(price, coupon_percent)
        if seasonal_sale_percent:
            price = apply_discount(price, coupon_percent + seasonal_sale_percent)
        return price

    def convert_currency(self, amount, code):
        if code not in ("EUR", "USD", "GBP"):
            raise ValueError(f"unknown currency code {code!r}, expected one of EUR, USD, GBP")
        return amount
''',
    "shop/inventory.py": '''"""Stock levels and reservations for orders."""


class OutOfStock(Exception):
    pass


class Inventory:
    def __init__(self):
        self.stock = {}
        self.reserved = {}

    def restock_from_supplier(self, sku, quantity):
        self.stock[sku] = self.stock.get(sku, 0) + quantity
        self.stock[sku] = self.stock.get(sku, 0) + quantity

    def reserve(self, sku, quantity):
        available = self.stock.get(sku, 0) - self.reserved.get(sku, 0)
        if quantity > available:
            raise OutOfStock(
                "not enough stock for %s: requested %d, available %d" % (sku, quantity, available)
            )
        self.reserved[sku] = self.reserved.get(sku, 0) + quantity

    def release(self, sku, quantity):
        self.reserved[sku] = max(self.reserved.get(sku, 0) - quantity, 0)
''',
    "shop/orders/__init__.py": "",
    "shop/orders/export.py": '''"""Order export: every order, its items, prices, quantities and totals, to JSON or CSV."""

import csv
import io
import json


class OrderExporter:
    """Writes orders (items with price and quantity, order total, discount, stock notes) out."""

    def to_json(self, order):
        return json.dumps({"items": order["items"], "total": order["total"]}, sort_keys=True)

    def to_csv(self, order):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["sku", "price", "quantity"])
        for sku, item in order["items"].items():
            writer.writerow([sku, item["price"], item["quantity"]])
        return out.getvalue()

    def describe(self, order):
        """Order summary: items, price, quantity, total, discount, coupon, stock and tax notes."""
        lines = [f"order with {len(order['items'])} items"]
        for sku, item in order["items"].items():
            lines.append(f"{sku}: price {item['price']} quantity {item['quantity']} stock reserved")
        lines.append(f"total {order['total']} after discount, coupon and tax")
        return "\\n".join(lines)
''',
    "shop/utils/__init__.py": "",
    "shop/utils/text.py": '''"""Text helpers for product names."""

import re


def slugify(value):
    value = re.sub(r"[^\\w\\s-]", "", value).strip().lower()
    return re.sub(r"[-\\s]+", "-", value)


def normalize_whitespace(value):
    return " ".join(value.split())
''',
    "tests/__init__.py": "",
    "tests/test_cart.py": """from shop.cart import Cart


def test_add_item_rejects_zero_quantity():
    cart = Cart()
    try:
        cart.add_item("A", 10.0, 0)
    except ValueError:
        return
    raise AssertionError("expected ValueError")


def test_checkout_total():
    cart = Cart("US")
    cart.add_item("A", 10.0, 2)
    assert cart.checkout()["total"] == 21.4
""",
    "tests/test_inventory.py": """from shop.inventory import Inventory, OutOfStock


class TestInventory:
    def test_restock_adds_quantity_once(self):
        inv = Inventory()
        inv.restock_from_supplier("A", 5)
        assert inv.stock["A"] == 5

    def test_reserve_more_than_available(self):
        inv = Inventory()
        inv.restock_from_supplier("A", 1)
        try:
            inv.reserve("A", 2)
        except OutOfStock:
            return
        raise AssertionError("expected OutOfStock")
""",
}


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing `needle`."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise ValueError(needle)


def traceback_issue() -> str:
    """A user's traceback through cart.py into pricing.py (absolute site-packages paths)."""
    cart_line = line_of(SHOP_FILES["shop/cart.py"], "total = self.calculator.compute_tax")
    tax_line = line_of(SHOP_FILES["shop/pricing.py"], "rate = TAX_RATES[self.region]")
    return f"""Checkout crashes for customers in Switzerland

Traceback (most recent call last):
  File "/srv/app/views.py", line 41, in place_order
    receipt = cart.checkout()
  File "/srv/venv/lib/python3.11/site-packages/shop/cart.py", line {cart_line}, in checkout
    total = self.calculator.compute_tax(self.subtotal())
  File "/srv/venv/lib/python3.11/site-packages/shop/pricing.py", line {tax_line}, in compute_tax
    rate = TAX_RATES[self.region]
KeyError: 'CH'

I expected a clear error or a default rate.
"""


METHOD_ISSUE = """Restocking counts every delivery twice

After `restock_from_supplier` runs for a delivery of 5 units, the stock level goes up by 10.
"""

MESSAGE_ISSUE = """Reserving fails right after a delivery arrived

Our warehouse screen shows:

    OutOfStock: not enough stock for KB-101: requested 3, available 0

even though the delivery of 20 units was booked a minute earlier.
"""

PROSE_ISSUE = """Seasonal sale and coupon together give far too much off

When a customer uses a coupon during the seasonal sale, the coupon percent is taken off twice:
a 10 percent coupon and a 20 percent seasonal sale give 37 percent off instead of 28 percent.
"""


_PLAIN_SERVICE = '''"""{title}: {noun} handling for orders, items, prices and quantities."""


class {cls}:
    """Keeps {noun} records for every order and item (price, quantity, total)."""

    def __init__(self):
        self.records = {{}}

    def {verb}_{noun}(self, order, item, quantity=1):
        price = item["price"] * quantity
        self.records.setdefault(order["id"], []).append(("{noun}", item["sku"], price))
        return price

    def total_{noun}(self, order):
        """Total {noun} price of an order: every item, price and quantity counted once."""
        return sum(price for _, _, price in self.records.get(order["id"], []))

    def validate_{noun}(self, order):
        if not order.get("items"):
            raise ValueError("order has no items to {verb}")
        return True
'''

# Services built on the shop's core API, as real code is: they use Cart, PriceCalculator and Inventory
# far more often than the modules that define them mention those names.
_SHOP_SERVICE = '''"""{title}: {noun} handling on top of carts, prices, tax and stock."""

from shop.cart import Cart
from shop.inventory import Inventory, OutOfStock
from shop.pricing import PriceCalculator, apply_discount


class {cls}:
    """{title} for orders: prices with discount and tax, reserved stock, currency conversion."""

    def __init__(self, region="EU"):
        self.records = {{}}
        self.calculator = PriceCalculator(region)
        self.inventory = Inventory()

    def {verb}_{noun}(self, order, item, quantity=1):
        """Price an item with the order's coupon and tax, and reserve its stock."""
        price = apply_discount(item["price"], order.get("coupon_percent", 0)) * quantity
        taxed = self.calculator.compute_tax(price)
        try:
            self.inventory.reserve(item["sku"], quantity)
        except OutOfStock:
            self.inventory.restock_from_supplier(item["sku"], quantity)
            self.inventory.reserve(item["sku"], quantity)
        self.records.setdefault(order["id"], []).append(("{noun}", item["sku"], taxed))
        return taxed

    def total_{noun}(self, order):
        """Total {noun} price of an order after discount and tax."""
        return sum(price for _, _, price in self.records.get(order["id"], []))

    def convert_{noun}(self, order, code):
        """The {noun} total in another currency (code such as EUR, USD, GBP)."""
        return self.calculator.convert_currency(self.total_{noun}(order), code)

    def cart_for_{noun}(self, order):
        """Rebuild the order's cart (each item's price and quantity) and check it out with tax."""
        cart = Cart(order.get("region", "EU"))
        for sku, item in order["items"].items():
            cart.add_item(sku, item["price"], item["quantity"])
        return cart.checkout()

    def release_{noun}(self, order):
        """Release reserved stock of every item and quantity when the {noun} is cancelled."""
        for sku, item in order["items"].items():
            self.inventory.release(sku, item["quantity"])
'''

DISTRACTOR_NOUNS = {
    "shipping": "ship",
    "payment": "charge",
    "invoice": "bill",
    "refund": "refund",
    "loyalty": "reward",
    "subscription": "renew",
    "giftcard": "redeem",
    "returns": "accept",
    "review": "publish",
    "audit": "record",
    "report": "summarize",
    "notification": "notify",
    "catalog": "list",
    "warehouse": "move",
    "customs": "declare",
    "bundle": "pack",
    "wishlist": "save",
    "preorder": "hold",
    "marketplace": "sell",
    "dropship": "forward",
}


def distractor_files(package: str, use_shop: bool = True) -> dict[str, str]:
    """Service modules that share the repository's vocabulary (and, in "shop", use its core API)."""
    template = _SHOP_SERVICE if use_shop else _PLAIN_SERVICE
    files = {}
    for noun, verb in DISTRACTOR_NOUNS.items():
        text = template.format(
            title=noun.capitalize(), noun=noun, verb=verb, cls=noun.capitalize() + "Service"
        )
        files[f"{package}/services/{noun}.py"] = text
    files[f"{package}/services/__init__.py"] = ""
    return files
