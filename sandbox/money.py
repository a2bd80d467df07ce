"""Order amounts, worked out the way WooCommerce does, in integer cents.

Taxes are rounded per line, half up; coupons follow ``WC_Discounts``: a percentage is
floored per line and the missing cents of the rounded cart discount go one per unit to
the dearest units, a fixed cart amount is split per unit. The captured orders (25, 43,
45, 51) come out to the cent. The totals always add up:
``total == Σ line total + line tax + shipping + shipping tax + fee + fee tax``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .catalog import TAX_COUNTRY, TAX_RATE, Catalog, Coupon
from .model import SHIPPING_METHODS, Order


@dataclass(frozen=True, slots=True)
class LineTotals:
    subtotal: int
    subtotal_tax: int
    total: int
    total_tax: int
    taxed: bool


@dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[LineTotals, ...]
    shipping: int
    shipping_tax: int
    fee: int
    fee_tax: int
    discount: int
    discount_tax: int
    taxed: bool  # whether the order's address is where the store's tax rate applies

    @property
    def cart_tax(self) -> int:
        return sum(line.total_tax for line in self.lines) + self.fee_tax

    @property
    def total_tax(self) -> int:
        return self.cart_tax + self.shipping_tax

    @property
    def total(self) -> int:
        items = sum(line.total for line in self.lines)
        return items + self.fee + self.shipping + self.total_tax


def to_cents(amount: object) -> int:
    """An amount as the REST API takes it ("12.50", 12.5, "") in cents; junk is 0, as in PHP."""
    try:
        return int((Decimal(str(amount or 0)) * 100).to_integral_value())
    except InvalidOperation:
        return 0


def tax_on(net: int) -> int:
    return _div_half_up(net * TAX_RATE, 1000)


def tax_within(gross: int) -> int:
    return _div_half_up(gross * TAX_RATE, 1000 + TAX_RATE)


def _div_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def compute(order: Order, catalog: Catalog) -> Totals:
    taxed = order.contact.country == TAX_COUNTRY
    products = [catalog.products[line.product_id] for line in order.lines]
    quantities = [line.quantity for line in order.lines]
    inclusive = [order.prices_include_tax and taxed and p.taxable for p in products]
    gross = [p.price * q for p, q in zip(products, quantities, strict=True)]
    # Coupons discount the price as entered: with tax when prices include it.
    discounts = discount(order.coupon, gross, quantities)
    lines = tuple(
        _line(g, d, taxed and p.taxable, inc)
        for g, d, p, inc in zip(gross, discounts, products, inclusive, strict=True)
    )
    shipping = SHIPPING_METHODS[order.shipping][1] if order.shipping else 0
    fee = order.fee.total if order.fee else 0
    taxable_discount = sum(d for d, line in zip(discounts, lines, strict=True) if line.taxed)
    prices_gross = order.prices_include_tax and taxed
    return Totals(
        lines=lines,
        shipping=shipping,
        shipping_tax=tax_on(shipping) if taxed else 0,
        fee=fee,
        fee_tax=tax_on(fee) if taxed else 0,
        discount=sum(line.subtotal - line.total for line in lines),
        discount_tax=tax_within(taxable_discount) if prices_gross else tax_on(taxable_discount),
        taxed=taxed,
    )


def _line(gross: int, discount: int, taxed: bool, inclusive: bool) -> LineTotals:
    if inclusive:
        subtotal_tax = tax_within(gross)
        total_tax = tax_within(gross - discount)
        return LineTotals(
            gross - subtotal_tax, subtotal_tax, gross - discount - total_tax, total_tax, True
        )
    total = gross - discount
    if not taxed:
        return LineTotals(gross, 0, total, 0, False)
    return LineTotals(gross, tax_on(gross), total, tax_on(total), True)


def discount(coupon: Coupon | None, prices: list[int], quantities: list[int]) -> list[int]:
    """Each line's share of the coupon, as ``WC_Discounts`` splits it."""
    discounts = [0] * len(prices)
    if coupon is None or not prices:
        return discounts
    if coupon.discount_type == "percent":
        for i, price in enumerate(prices):
            discounts[i] = price * coupon.amount // 100
        wanted = _div_half_up(sum(prices) * coupon.amount, 100)
        _spread_remainder(discounts, prices, quantities, wanted - sum(discounts))
    else:
        _split_fixed_cart(discounts, prices, quantities, min(coupon.amount, sum(prices)))
    return discounts


def _split_fixed_cart(discounts: list[int], prices: list[int], quantities: list[int], amount):
    while (left := amount - sum(discounts)) > 0:
        per_unit = left // sum(quantities)
        if per_unit == 0:
            _spread_remainder(discounts, prices, quantities, left)
            return
        for i, (price, quantity) in enumerate(zip(prices, quantities, strict=True)):
            discounts[i] += min(per_unit * quantity, price - discounts[i])


def _spread_remainder(discounts, prices, quantities, cents: int) -> None:
    """One cent per unit, dearest unit price first, until the cents are given."""
    by_unit_price = sorted(range(len(prices)), key=lambda i: -prices[i] / quantities[i])
    for i in by_unit_price:
        for _ in range(quantities[i]):
            if cents <= 0:
                return
            if discounts[i] < prices[i]:
                discounts[i] += 1
                cents -= 1
