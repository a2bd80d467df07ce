"""What the sandbox store sells: products, variations, coupons and its one tax rate.

Products 11 to 20 and coupons 21 and 22 repeat the captured store, so that captured
requests (``/products/14/variations/15``) find the same things here. Further products,
generated from the seed, follow the seed orders in the id sequence, as if the shop had
grown: simple and variable ones, some without SKU, some untaxed, unicode and long names.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from .currency import Money

TAX_RATE = 85  # per mille: the captured store's single rate, "US Sales Tax" 8.5 %
TAX_COUNTRY = "US"

CATEGORIES = {
    15: ("Uncategorized", "uncategorized"),
    16: ("Apparel", "apparel"),
    17: ("Stationery", "stationery"),
    18: ("Kitchen", "kitchen"),
    19: ("Gifts", "gifts"),
}


@dataclass(frozen=True, slots=True)
class Product:
    """A simple product, a variable product or one of its variations (prices in the units of
    the catalog's money: cents in the default store)."""

    id: int
    name: str
    type: str  # "simple", "variable" or "variation"
    sku: str
    regular: int = 0  # 0 on a variable product: its variations carry the prices
    sale: int | None = None
    taxable: bool = True
    virtual: bool = False
    category: int = 15
    parent_id: int = 0
    attributes: tuple[tuple[str, str], ...] = ()  # a variation's (attribute, option) pairs
    variation_ids: tuple[int, ...] = ()
    stock: int | None = None
    weight: str = ""
    created: int = 0

    @property
    def price(self) -> int:
        return self.regular if self.sale is None else self.sale


@dataclass(frozen=True, slots=True)
class Coupon:
    id: int
    code: str
    discount_type: str  # "percent" (amount in %) or "fixed_cart" (amount in the units
    amount: int  # of the catalog's money: cents in the default store)


COUPONS = {
    "save10": Coupon(21, "save10", "percent", 10),
    "flat5": Coupon(22, "flat5", "fixed_cart", 500),
}


class Catalog:
    """What the store sells, priced in ``money``: the currency and decimals its prices were
    entered with (its coupons' and shipping's amounts too)."""

    def __init__(self, products: list[Product], money: Money | None = None) -> None:
        self.products = {p.id: p for p in products}
        # What an order line can hold: simple products and variations, never a parent.
        self.sellable = [p for p in products if p.type != "variable"]
        self.money = money or Money()
        self.unit = self.money.unit  # millionths in a unit of its prices
        self.coupons = {
            code: coupon
            if coupon.discount_type == "percent"
            else dataclasses.replace(coupon, amount=self.money.price(coupon.amount))
            for code, coupon in COUPONS.items()
        }

    def get(self, product_id: int) -> Product | None:
        return self.products.get(product_id)

    def by_sku(self, sku: str) -> Product | None:
        return next((p for p in self.sellable if p.sku == sku), None)

    def parent(self, product: Product) -> Product | None:
        return self.products.get(product.parent_id)

    def variations(self, product: Product) -> list[Product]:
        return [self.products[v] for v in product.variation_ids]

    def price(self, product: Product) -> int:
        if product.type == "variable":
            return min(v.price for v in self.variations(product))
        return product.price

    def line_name(self, product: Product) -> str:
        """An order line's name: a variation shows as "Logo T-Shirt - S, Red"."""
        parent = self.parent(product)
        if parent is None:
            return product.name
        return f"{parent.name} - {', '.join(option for _, option in product.attributes)}"

    def sku(self, product: Product) -> str:
        """A variation without a SKU of its own shows its parent's, as WooCommerce does."""
        parent = self.parent(product)
        return product.sku or (parent.sku if parent else "")


def priced(products: list[Product], money: Money) -> list[Product]:
    """The products with their prices (cents) in the store's money."""
    if money.is_default:
        return products
    return [
        dataclasses.replace(
            p,
            regular=money.price(p.regular),
            sale=None if p.sale is None else money.price(p.sale),
        )
        for p in products
    ]


def captured_products(opened: int) -> list[Product]:
    """Products 11-20 of the captured store, with the same names, SKUs and prices."""
    shirts = [
        Product(
            15 + i,
            f"{size}, {color}",
            "variation",
            f"TSHIRT-{size}-{color[0]}",
            regular=2100 if size == "L" else 1900,
            category=16,
            parent_id=14,
            attributes=(("Size", size), ("Color", color)),
            stock=15 if i == 2 else 20,
            created=opened,
        )
        for i, (size, color) in enumerate((s, c) for s in ("S", "M", "L") for c in ("Red", "Blue"))
    ]
    return [
        Product(
            11,
            "Classic Mug",
            "simple",
            "MUG-001",
            1250,
            category=16,
            stock=70,
            weight="0.4",
            created=opened,
        ),
        Product(12, "Notebook A5 — Dotted", "simple", "NB-A5-DOT", 799, sale=649, created=opened),
        Product(
            13,
            "Gift Card",
            "simple",
            "GIFT-25",
            2500,
            taxable=False,
            virtual=True,
            category=19,
            created=opened,
        ),
        Product(
            14,
            "Logo T-Shirt",
            "variable",
            "TSHIRT",
            category=16,
            variation_ids=tuple(p.id for p in shirts),
            created=opened,
        ),
        *shirts,
    ]


_ADJECTIVES = (
    "Classic",
    "Organic",
    "Recycled",
    "Nordic",
    "Vintage",
    "Café",
    "Große",
    "Żółty",
    "Été",
    "Smörgås",
    "Hand-thrown",
    "Señorita",
)
_NOUNS = (
    ("Tote Bag", 16),
    ("Teapot", 18),
    ("Candle", 19),
    ("Poster", 19),
    ("Scarf", 16),
    ("Pencil Set", 17),
    ("Apron", 18),
    ("Water Bottle", 18),
    ("Planner", 17),
    ("Coaster Set", 18),
)
# Names that break naive code: CJK, emoji, guillemets, and one far longer than a column.
_ODD_NAMES = (
    ("緑茶 セット (Matcha)", 18),
    ("Party Pack 🎉", 19),
    ("Carafe «Ἀθηνᾶ»", 18),
    (
        "Limited Edition Hand-Thrown Stoneware Pour-Over Coffee Dripper with Walnut Stand, "
        "Reusable Stainless Steel Filter and Gift Box — Glacier Blue",
        18,
    ),
)
_VARIABLE = (
    ("Hoodie", ("S", "M", "L", "XL"), ("Black", "Grey")),
    ("Sneakers", ("40", "41", "42", "43", "44"), ()),
    ("Beanie", (), ("Red", "Navy", "Mustard")),
)


def generated_products(rng: random.Random, first_id: int, opened: int) -> list[Product]:
    """Twenty simple and three variable products, drawn from the seed."""
    products: list[Product] = []
    next_id = first_id
    for i in range(20):
        if i < len(_ODD_NAMES):
            name, category = _ODD_NAMES[i]
        else:
            noun, category = rng.choice(_NOUNS)
            name = f"{rng.choice(_ADJECTIVES)} {noun}"
        regular = rng.randrange(3, 90) * 100 + rng.choice((0, 50, 99))
        products.append(
            Product(
                next_id,
                name,
                "simple",
                "" if i % 5 == 3 else f"SB-{next_id}",  # some products carry no SKU
                regular,
                sale=regular * 4 // 5 if i % 6 == 1 else None,
                taxable=i % 7 != 4,
                virtual=i % 7 == 4,
                category=category,
                created=opened + 3600 * i,
            )
        )
        next_id += 1
    for name, sizes, colors in _VARIABLE:
        parent_id, next_id = next_id, next_id + 1
        base = rng.randrange(15, 60) * 100
        options = [(s, c) for s in sizes or ("",) for c in colors or ("",)]
        variations = []
        for size, color in options:
            attributes = tuple(
                (attribute, option)
                for attribute, option in (("Size", size), ("Color", color))
                if option
            )
            variations.append(
                Product(
                    next_id,
                    ", ".join(option for _, option in attributes),
                    "variation",
                    "" if name == "Beanie" else f"SB-{parent_id}-{size}{color[:1]}",
                    base + 200 * sizes.index(size) if size else base,
                    category=16,
                    parent_id=parent_id,
                    attributes=attributes,
                    created=opened,
                )
            )
            next_id += 1
        products.append(
            Product(
                parent_id,
                name,
                "variable",
                "" if name == "Beanie" else f"SB-{parent_id}",
                category=16,
                variation_ids=tuple(v.id for v in variations),
                created=opened,
            )
        )
        products.extend(variations)
    return products
