"""Money in the currency's own unit: a yen, a cent, a fils.

WooCommerce keeps and sends amounts in the store's number of decimals
(``woocommerce_price_num_decimals``): 0 in a yen store, 2 in most, 3 in a dinar store. An
order in a currency other than the store's (a multi-currency plugin) is in that currency's
minor unit (ISO 4217). The rules, in one place:

- Every rounding goes through :func:`round_to_unit`, as PHP's ``round()``: half away from
  zero. Differences are spread one unit of the currency at a time (1 yen, 1 cent, 1 fils).
- The ERP keeps amounts to ``AMOUNT_PLACES`` decimals and unit prices to
  ``UNIT_PRICE_PLACES``: a store value that would not fit exactly fails its order, naming
  the field and the value (:func:`kept_exactly`); nothing is rounded on the way in.
- A unit price multiplies back to its line: in the currency's unit where the line divides
  evenly, else with three more decimals, as an ERP's unit-amount precision keeps it.
"""

import functools
from decimal import ROUND_HALF_UP, Decimal

from portal.sync.failures import OrderFailure

#: Decimals of the ERP's amount columns, and of its unit prices (models.base).
AMOUNT_PLACES = 4
UNIT_PRICE_PLACES = 6
#: Digits of an amount column in all: amounts below 10**15 fit.
AMOUNT_DIGITS = 19

#: ISO 4217 minor units other than 2 (the rest, and unknown codes, have 2).
MINOR_UNITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"),
        0,
    ),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    # Units of account.
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_unit(currency: str) -> int:
    """The currency's decimals by ISO 4217; 2 for a code it does not list."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def decimals_for(currency: str, store_currency: str | None, store_decimals: int | None) -> int:
    """The decimals of an order in ``currency``: the store's own where the order is in the
    store's currency (or the store's currency is not known), else the currency's by ISO."""
    if store_decimals is not None and (not store_currency or currency == store_currency):
        return store_decimals
    return minor_unit(currency)


@functools.cache
def unit_of(decimals: int) -> Decimal:
    """The smallest amount with this many decimals: ``Decimal("0.001")`` for 3."""
    return Decimal(1).scaleb(-decimals)


@functools.cache
def largest_kept(places: int) -> Decimal:
    """The first amount too large for the ERP's columns with ``places`` decimals."""
    return Decimal(10) ** (AMOUNT_DIGITS - places)


def round_to_unit(amount: Decimal, unit: Decimal) -> Decimal:
    """``amount`` to a multiple of ``unit``, as PHP's round(): half away from zero."""
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


def unit_price(amount: Decimal, quantity: Decimal, decimals: int) -> Decimal:
    """The price of one unit of a line worth ``amount``.

    In the currency's unit where it multiplies back exactly (3 × 1,980 = 5,940 yen); else
    with three more decimals (5,939 yen / 3 = 1,979.667), so that the quantity times the
    unit price, rounded to the currency's unit, is the line's amount again.
    """
    price = round_to_unit(amount / quantity, unit_of(decimals))
    if price * quantity == amount:
        return price
    return round_to_unit(amount / quantity, unit_of(min(decimals + 3, UNIT_PRICE_PLACES)))


def is_kept(value: Decimal, places: int = AMOUNT_PLACES) -> bool:
    """Whether the ERP keeps ``value`` as it is, in a column of ``places`` decimals."""
    return value == value.quantize(unit_of(places), rounding=ROUND_HALF_UP) and abs(
        value
    ) < largest_kept(places)


def kept_exactly(value: Decimal, what: str, places: int = AMOUNT_PLACES) -> Decimal:
    """``value``, if the ERP keeps it as it is; else the order fails saying which and why."""
    if is_kept(value, places):
        return value
    if value != value.quantize(unit_of(places), rounding=ROUND_HALF_UP):
        raise OrderFailure(
            f"{what} is {value}, with more decimals than the ERP keeps ({places}): it "
            "would be rounded, so the order was not imported. Check the store's number of "
            "decimals (WooCommerce > Settings > General > Number of decimals) and this "
            "amount in the store, then retry."
        )
    if abs(value) >= largest_kept(places):
        raise OrderFailure(
            f"{what} is {value}, more than the ERP can keep: check this amount in the "
            "store, then retry."
        )
    return value


def amount_text(value: Decimal, decimals: int, currency: str = "") -> str:
    """An amount as people read it, in its currency's decimals: "15,258 JPY", "43.246 KWD".

    Never rounded: a value with more decimals than its currency (a unit price of 1,979.667
    yen) shows them.
    """
    exponent = value.normalize().as_tuple().exponent
    places = max(decimals, -exponent if isinstance(exponent, int) else 0)
    text = f"{value:,.{places}f}"
    return f"{text} {currency}" if currency else text


def plain_amount(value: Decimal, decimals: int) -> Decimal:
    """An amount as a spreadsheet or a form reads it: in its currency's decimals (15258,
    43.246, 12.50), ungrouped, never rounded. A number, so that a CSV cell of a negative one
    is no formula."""
    return Decimal(amount_text(value, decimals).replace(",", ""))


def unit_written(amount: Decimal) -> Decimal:
    """The unit a store amount is written in: WooCommerce writes an order's amounts with the
    store's decimals ("15258", "43.246"), so its total tells them."""
    exponent = amount.as_tuple().exponent
    return unit_of(-exponent if isinstance(exponent, int) and exponent < 0 else 0)


def in_company_currency(amount: Decimal, exchange_rate: Decimal, company_currency: str) -> Decimal:
    """``amount`` of another currency in the company's, at ``exchange_rate`` (company
    currency per unit), rounded to the company currency's unit as any amount is."""
    return round_to_unit(amount * exchange_rate, unit_of(minor_unit(company_currency)))
