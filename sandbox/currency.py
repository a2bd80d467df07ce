"""The store's currency and its number of decimals, as WooCommerce's general settings keep them.

``woocommerce_price_num_decimals`` (``wc_get_price_decimals``) is the store's precision:
every amount WooCommerce rounds (line, fee and shipping taxes, totals, a coupon's split in
``WC_Discounts``, refunds) goes to the store's unit, 1 yen with 0 decimals, a cent with 2,
a fils with 3, and the REST API formats money with that many decimals unless ``dp`` says
otherwise. WooCommerce keeps its unrounded amounts to six decimals either way
(``wc_get_rounding_precision``: the decimals plus two, six at least), so the sandbox's
millionths serve every precision.

The sandbox's catalog was written in US cents; a store in another currency gets the same
catalog priced in its own money at a rough rate (``Money.price``), entered with the store's
decimals: a $12.50 mug is ¥1,875 or 3.838 KWD.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from fractions import Fraction

DECIMALS = (0, 2, 3)  # the precisions the sandbox takes


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    name: str  # as WooCommerce names it in its currency list
    symbol: str  # ``get_woocommerce_currency_symbol``: an HTML entity
    decimals: int  # what a store in it usually sets
    per_dollar: Fraction  # roughly what a US dollar buys, to price the catalog


CURRENCIES = {
    c.code: c
    for c in (
        Currency("USD", "United States (US) dollar", "&#36;", 2, Fraction(1)),
        Currency("EUR", "Euro", "&euro;", 2, Fraction(92, 100)),
        Currency("GBP", "Pound sterling", "&pound;", 2, Fraction(79, 100)),
        Currency("JPY", "Japanese yen", "&yen;", 0, Fraction(150)),
        Currency("KRW", "South Korean won", "&#8361;", 0, Fraction(1380)),
        Currency("KWD", "Kuwaiti dinar", "&#x62f;.&#x643;", 3, Fraction(307, 1000)),
        Currency("BHD", "Bahraini dinar", ".&#x62f;.&#x628;", 3, Fraction(377, 1000)),
        Currency("OMR", "Omani rial", "&#x631;.&#x639;.", 3, Fraction(385, 1000)),
        Currency("JOD", "Jordanian dinar", "&#x62f;.&#x627;", 3, Fraction(709, 1000)),
        Currency("TND", "Tunisian dinar", "&#x62f;.&#x62a;", 3, Fraction(31, 10)),
    )
}


def unit_of(decimals: int) -> int:
    """Millionths in one unit of a store with ``decimals``: 1 yen, a cent, a fils."""
    return 10 ** (6 - decimals)


@dataclass(frozen=True, slots=True)
class Money:
    """The store's currency settings: code, decimals and the separators of shown prices."""

    currency: str = "USD"
    decimals: int = 2
    thousand_separator: str = ","
    decimal_separator: str = "."

    def __post_init__(self) -> None:
        if self.currency not in CURRENCIES:
            known = ", ".join(sorted(CURRENCIES))
            raise ValueError(f"unknown currency {self.currency!r} (the sandbox knows {known})")
        if self.decimals not in DECIMALS:
            raise ValueError(f"decimals must be one of {DECIMALS}, not {self.decimals!r}")

    @classmethod
    def of(cls, currency: str = "USD", decimals: int | None = None, **separators: str) -> Money:
        """The currency's usual decimals unless ``decimals`` says otherwise."""
        code = str(currency).upper()
        usual = CURRENCIES[code].decimals if code in CURRENCIES else 2
        return cls(code, usual if decimals is None else int(decimals), **separators)

    @property
    def unit(self) -> int:
        return unit_of(self.decimals)

    @property
    def symbol(self) -> str:
        """As ``/system_status`` and the admin show it: an HTML entity ("&yen;")."""
        return CURRENCIES[self.currency].symbol

    @property
    def plain_symbol(self) -> str:
        """As an order's ``currency_symbol`` shows it (``html_entity_decode``): "¥"."""
        return html.unescape(self.symbol)

    @property
    def is_default(self) -> bool:
        """The store the sandbox always was: US dollars to the cent."""
        return (self.currency, self.decimals) == ("USD", 2)

    def price(self, cents: int) -> int:
        """A price of the US catalog (cents) in this store's units, rounded half up: $12.50
        is 1875 (yen), 3838 (fils of a dinar), 1250 (cents) as it was."""
        scaled = Fraction(cents, 100) * CURRENCIES[self.currency].per_dollar * 10**self.decimals
        whole, rest = divmod(abs(scaled), 1)
        rounded = int(whole) + (rest >= Fraction(1, 2))
        return rounded if scaled >= 0 else -rounded

    def number(self, units: int) -> int | float:
        """An amount of this store's units as a JSON number: 5, 1.5."""
        whole, rest = divmod(units, 10**self.decimals)
        return whole if not rest else units / 10**self.decimals

    def shown(self, millionths: int) -> str:
        """``number_format`` as ``wc_price`` writes an amount: "1,875", "12.50", "3.838"."""
        whole, rest = divmod(abs(millionths), self.unit)
        whole += 2 * rest >= self.unit
        digits, fraction = divmod(whole, 10**self.decimals)
        text = f"{digits:,}".replace(",", self.thousand_separator)
        if self.decimals:
            text += self.decimal_separator + str(fraction).rjust(self.decimals, "0")
        return ("-" if millionths < 0 and whole else "") + text
