"""What the accounting tables accept, said once for the forms and the CSV import alike.

Every problem is a sentence a person can act on; None means the value is good. Values are
kept as typed: a rate with more decimals than its column holds is refused, never rounded.
"""

import re
from decimal import Decimal, InvalidOperation

from portal.sync.exchange_rates import company_currency

CURRENCY = re.compile(r"[A-Z]{3}")
# The exchange rate column: numeric(18, 8).
RATE_PLACES = 8
MAX_RATE = Decimal(10) ** (18 - RATE_PLACES)
# The VAT rate column: numeric(7, 4), a percentage.
VAT_RATE_PLACES = 4
# An amount written with a decimal point: 1.0845, 0.92, 130.
PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


def decimals_of(value: Decimal) -> int:
    """How many decimals ``value`` needs: 1.50 needs one, 130 none."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent)


def plain(value: Decimal) -> str:
    """A rate as people write it: 1.0845, not 1.08450000 or 1.0845E+0."""
    return f"{value.normalize():f}"


def currency_problem(code: str) -> str | None:
    if not CURRENCY.fullmatch(code):
        return f"“{code}” is not a currency code: use the three letters (USD, GBP, CHF…)."
    if code == company_currency():
        return (
            f"{code} is the company's currency: one {code} is always 1 {code}. Enter the "
            "rates of the other currencies."
        )
    return None


def exchange_rate_problem(rate: Decimal) -> str | None:
    if not rate.is_finite() or rate <= 0:
        return "The rate must be a number above 0."
    if rate >= MAX_RATE:
        return f"The rate must be below {MAX_RATE:,}."
    if decimals_of(rate) > RATE_PLACES:
        return (
            f"The rate has more than {RATE_PLACES} decimals, which the ERP does not keep: "
            "give it with fewer, so that nothing is rounded."
        )
    return None


def vat_rate_problem(rate: Decimal) -> str | None:
    if not rate.is_finite() or not 0 <= rate <= 100:
        return "The VAT rate is a percentage from 0 to 100."
    if decimals_of(rate) > VAT_RATE_PLACES:
        return f"The VAT rate has more than {VAT_RATE_PLACES} decimals: give it with fewer."
    return None


def written_rate(text: str) -> Decimal | None:
    """A rate written with a decimal point and digits only, as the CSV import takes it;
    None for anything else (a decimal comma, a thousands separator, an exponent)."""
    if not PLAIN_NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
