"""Order amounts, worked out the way WooCommerce works them out, in integer millionths.

WooCommerce keeps line amounts and taxes unrounded to six decimals
(``wc_get_rounding_precision``) and rounds where the store's settings say. This follows
what an order goes through when it is created or edited in the admin or the REST API
(``WC_Abstract_Order::recalculate_coupons``, then ``calculate_totals``):

- Coupons follow ``WC_Discounts`` on the price as entered: a percentage is floored per
  line and the cents missing from the whole (rounded half down) go one per unit to the
  dearest units; a fixed cart amount is split per unit.
- A line's tax is its rate on its net amount. With prices entered with tax the net is the
  price less the tax it includes (``WC_Tax::calc_inclusive_tax``, six decimals), and a
  discount comes off with its own included tax. Every customer pays the price as entered.
- By default each line's, fee's and shipping's tax is rounded to the store's unit and the
  tax line adds the rounded taxes. With "round tax at subtotal level" items keep their unrounded
  taxes and the tax line is their sum, rounded only when shown: it may then differ by a
  unit or more from the lines' rounded taxes (real order 162).
- Taxes round half up, or half down in a store whose prices include tax
  (``WC_TAX_ROUNDING_MODE``); totals round half up. The total is the rounded sum of the
  unrounded parts.
- A negative fee (a discount given as a fee) is taxed at the order's rate on its share of
  what is taxable, and takes no more than the items and shipping come to
  (``WC_Order_Item_Fee::calculate_taxes``, ``calculate_totals``).

Every rounding goes to the unit of the precision the order was made in (``Order.decimals``,
the store's ``wc_get_price_decimals`` then): 1 yen, a cent, a fils; ``WC_Discounts`` splits a
coupon in those units (``wc_add_number_precision``). Catalog prices are in the units of the
catalog's money, shipping costs too; a fee's total and refunds in the order's units.

The captured orders (25, 43, 45, 51) and the real ones (43, 162, 175, 185, 357) come out to
the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from .catalog import Catalog, Coupon
from .currency import unit_of
from .model import SHIPPING_METHODS, Line, Order
from .taxes import TaxRate

CENT = unit_of(2)  # millionths in a cent


class Taxed(NamedTuple):
    """An amount and its tax at the order's rate, as an order item stores them."""

    amount: int  # millionths
    raw_tax: int  # unrounded: the item's ``taxes`` entry
    tax: int  # the item's ``total_tax``: rounded to the unit unless rounding at subtotal


@dataclass(frozen=True, slots=True)
class LineTotals:
    subtotal: Taxed  # before discounts
    total: Taxed
    taxed: bool  # carries a tax at the order's rate (an entry in ``taxes``)


@dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[LineTotals, ...]
    shipping: Taxed
    fee: Taxed
    rate: TaxRate | None  # the rate of the order's tax line; None: no tax line
    tax_total: int  # the tax line's: items and fees
    shipping_tax_total: int
    discount: int
    discount_tax: int
    coupon_discount: int  # as the coupon line stores them
    coupon_discount_tax: int
    total_tax: int
    total: int
    unit: int = CENT  # millionths in the unit of the order's precision

    @property
    def cart_tax(self) -> int:
        return self.tax_total

    @property
    def total_units(self) -> int:
        """The total in the order's units: yen, cents, fils."""
        return self.total // self.unit

    @property
    def total_cents(self) -> int:  # the name from when every store counted in cents
        return self.total_units


def to_cents(amount: object) -> int:
    """An amount as the REST API takes it ("12.50", 12.5, "") in cents; junk is 0, as in PHP."""
    return to_units(amount, 2)


def to_units(amount: object, decimals: int) -> int:
    """An amount as the REST API takes it in units of a store with ``decimals`` ("1980" yen,
    "12.345" dinars), rounded to the unit as WooCommerce rounds amounts it is given."""
    return round_to(to_millionths(amount), unit_of(decimals)) // unit_of(decimals)


def to_millionths(amount: object) -> int:
    """An amount as the REST API takes it, to the six decimals order items keep."""
    return _scaled(amount, 1_000_000)


def _scaled(amount: object, scale: int) -> int:
    try:
        return int((Decimal(str(amount or 0)) * scale).to_integral_value())
    except InvalidOperation:
        return 0


def round_to(amount: int, step: int, half_down: bool = False) -> int:
    """PHP ``round`` to a multiple of ``step``: half away from zero, or half towards it."""
    whole, rest = divmod(abs(amount), step)
    if 2 * rest > step or (2 * rest == step and not half_down):
        whole += 1
    return whole * step if amount >= 0 else -whole * step


def tax_added(net: int, rate: TaxRate) -> int:
    """``WC_Tax::calc_exclusive_tax``, kept to six decimals as items store it."""
    return round_to(net * rate.per_mille, 1000) // 1000


def tax_included(gross: int, rate: TaxRate) -> int:
    """``WC_Tax::calc_inclusive_tax``, rounded to six decimals."""
    return round_to(gross * rate.per_mille, 1000 + rate.per_mille) // (1000 + rate.per_mille)


def unit_price(line: Line, catalog: Catalog) -> int:
    """The price of one unit as entered, in millionths (a line without a product keeps its
    own)."""
    product = catalog.products.get(line.product_id)
    return (product.price if product else line.price) * catalog.unit


def shipping_cost(method: str | None, catalog: Catalog) -> int:
    """A shipping method's cost in millionths, in the catalog's money ($5.00 flat: ¥750)."""
    return catalog.money.price(SHIPPING_METHODS[method][1]) * catalog.unit if method else 0


def taxable(line: Line, catalog: Catalog) -> bool:
    """A line without a product is taxable, as ``WC_Order_Item_Product::get_tax_status`` says."""
    product = catalog.products.get(line.product_id)
    return product.taxable if product else True


def compute(order: Order, catalog: Catalog) -> Totals:
    rate = order.tax_rate
    inclusive = order.prices_include_tax and rate is not None
    half_down = order.prices_include_tax
    unit = unit_of(order.decimals)

    def stored(raw: int) -> int:
        return raw if order.at_subtotal else round_to(raw, unit, half_down)

    def item_total(amount: int) -> int:  # WC_Item_Totals::round_item_subtotal
        return amount if order.at_subtotal else round_to(amount, unit)

    # A line's amounts are those of the quantity they were worked out for, and its coupon
    # share too: the REST API changes a quantity without working them out again.
    gross = [unit_price(line, catalog) * line.billed_quantity for line in order.lines]
    rates = [rate if rate and taxable(line, catalog) else None for line in order.lines]
    quantities = [line.billed_quantity for line in order.lines]
    discounts = discount(order.coupon, catalog, gross, quantities, unit)
    lines = tuple(
        _line(g, d, r, inclusive, stored)
        if line.amounts is None
        else _set_line(*line.amounts, r, stored)
        for line, g, d, r in zip(order.lines, gross, discounts, rates, strict=True)
    )
    shipping = _extra(shipping_cost(order.shipping, catalog), rate, stored)
    shipping_total = round_to(shipping.amount, unit)  # calculate_totals rounds each method
    cart_subtotal = sum(item_total(line.subtotal.amount) for line in lines)
    cart_total = sum(item_total(line.total.amount) for line in lines)
    fee_amount = order.fee.total * unit if order.fee else 0
    if fee_amount < 0:
        fee_amount, fee = _negative_fee(fee_amount, lines, shipping, cart_total, unit, rate)
        fee = fee._replace(tax=stored(fee.raw_tax))
    else:
        fee = _extra(fee_amount, rate, stored)
    tax_total = sum(line.total.tax for line in lines) + fee.tax
    coupon_discount, coupon_tax = _coupon(discounts, rates, inclusive, stored)
    untaxed_discount = sum(line.subtotal.raw_tax - line.total.raw_tax for line in lines)
    has_tax_line = rate is not None and (any(rates) or order.shipping or order.fee)
    return Totals(
        lines=lines,
        shipping=shipping,
        fee=fee,
        rate=rate if has_tax_line else None,
        tax_total=tax_total,
        shipping_tax_total=shipping.tax,
        discount=round_to(cart_subtotal - cart_total, unit),
        discount_tax=round_to(untaxed_discount, unit, half_down),
        coupon_discount=coupon_discount,
        coupon_discount_tax=coupon_tax,
        total_tax=round_to(tax_total + shipping.tax, unit),
        total=round_to(cart_total + fee.amount + shipping_total + tax_total + shipping.tax, unit),
        unit=unit,
    )


def _negative_fee(amount: int, lines, shipping: Taxed, cart_total: int, unit: int, rate):
    """A negative fee as ``calculate_totals`` keeps it: no more than the items and shipping
    come to; its tax is the rate's on its share of what is taxable among the items, fees
    and shipping that are not negative (``WC_Order_Item_Fee::get_tax_class_costs``)."""
    most = -round_to(cart_total + round_to(shipping.amount, unit), unit)
    if amount < most < 0:
        amount = most
    if rate is None:
        return amount, Taxed(amount, 0, 0)
    taxed = sum(line.total.amount for line in lines if line.taxed and line.total.amount >= 0)
    taxed += max(shipping.amount, 0)
    untaxed = sum(x.total.amount for x in lines if not x.taxed and x.total.amount >= 0)
    costs = taxed + untaxed
    raw = 0
    if taxed and costs:
        scale = costs * 1000
        raw = round_to(amount * taxed * rate.per_mille, scale) // scale
    return amount, Taxed(amount, raw, raw)


def _line(gross: int, discount: int, rate: TaxRate | None, inclusive: bool, stored) -> LineTotals:
    if rate is None:
        return LineTotals(Taxed(gross, 0, 0), Taxed(gross - discount, 0, 0), False)
    if inclusive:
        subtotal = gross - tax_included(gross, rate)
        total = max(0, subtotal - (discount - tax_included(discount, rate)))
    else:
        subtotal, total = gross, gross - discount
    subtotal_tax, total_tax = tax_added(subtotal, rate), tax_added(total, rate)
    return LineTotals(
        Taxed(subtotal, subtotal_tax, stored(subtotal_tax)),
        Taxed(total, total_tax, stored(total_tax)),
        True,
    )


def _set_line(subtotal: int, total: int, rate: TaxRate | None, stored) -> LineTotals:
    """A line whose amounts without tax were set through the REST API: its tax is worked out
    on them (``WC_Order_Item_Product::calculate_taxes``)."""
    if rate is None:
        return LineTotals(Taxed(subtotal, 0, 0), Taxed(total, 0, 0), False)
    subtotal_tax, total_tax = tax_added(subtotal, rate), tax_added(total, rate)
    return LineTotals(
        Taxed(subtotal, subtotal_tax, stored(subtotal_tax)),
        Taxed(total, total_tax, stored(total_tax)),
        True,
    )


def _extra(amount: int, rate: TaxRate | None, stored) -> Taxed:
    """Shipping or a fee (millionths): entered without tax, taxed at the order's rate."""
    raw = tax_added(amount, rate) if rate else 0
    return Taxed(amount, raw, stored(raw))


def _coupon(discounts: list[int], rates: list, inclusive: bool, stored) -> tuple[int, int]:
    """The coupon line's discount and tax (``set_coupon_discount_amounts``): its tax is
    rounded per line, unless rounding at subtotal, when it may keep three decimals."""
    amount, tax = sum(discounts), 0
    for off, rate in zip(discounts, rates, strict=True):
        if rate is None:
            continue
        line_tax = stored(tax_included(off, rate) if inclusive else tax_added(off, rate))
        tax += line_tax
        if inclusive:
            amount -= line_tax
    return amount, tax


def discount(
    coupon: Coupon | None, catalog: Catalog, gross: list[int], quantities: list[int], unit: int
) -> list[int]:
    """Each line's share of the coupon in millionths, as ``WC_Discounts`` splits it: in whole
    units of the store's precision (``wc_add_number_precision``), yen, cents or fils."""
    if coupon is None or not gross:
        return [0] * len(gross)
    prices = [round_to(amount, unit) // unit for amount in gross]
    amount = coupon.amount
    if coupon.discount_type != "percent":  # the coupon's amount, in whole units
        amount = -(-coupon.amount * catalog.unit // unit)
    return [units * unit for units in _split(coupon.discount_type, amount, prices, quantities)]


def _split(kind: str, amount: int, prices: list[int], quantities: list[int]) -> list[int]:
    discounts = [0] * len(prices)
    if kind == "percent":
        for i, price in enumerate(prices):
            discounts[i] = price * amount // 100
        # The whole cart's discount rounds half down (WC_DISCOUNT_ROUNDING_MODE).
        wanted = round_to(sum(prices) * amount, 100, half_down=True) // 100
        _spread_remainder(discounts, prices, quantities, wanted - sum(discounts))
    else:
        _split_fixed_cart(discounts, prices, quantities, min(amount, sum(prices)))
    return discounts


def _split_fixed_cart(discounts: list[int], prices: list[int], quantities: list[int], amount):
    while (left := amount - sum(discounts)) > 0:
        per_unit = left // sum(quantities)
        if per_unit == 0:
            _spread_remainder(discounts, prices, quantities, left)
            return
        for i, (price, quantity) in enumerate(zip(prices, quantities, strict=True)):
            discounts[i] += min(per_unit * quantity, price - discounts[i])


def _spread_remainder(discounts, prices, quantities, units: int) -> None:
    """One unit of money (a yen, a cent, a fils) per item, dearest unit price first, until
    they are given."""
    by_unit_price = sorted(range(len(prices)), key=lambda i: -prices[i] / quantities[i])
    for i in by_unit_price:
        for _ in range(quantities[i]):
            if units <= 0:
                return
            if discounts[i] < prices[i]:
                discounts[i] += 1
                units -= 1
