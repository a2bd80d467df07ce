"""Which exchange rate a document takes: the Currency Exchange Rates page's rate of the
latest starting date on or before the document's date, as Business Central reads it."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from flask import current_app

from portal import db
from portal.sync.lookups import EXCHANGE_RATES, rates_by_day, rates_params


def company_currency() -> str | None:
    """The company's currency (``COMPANY_CURRENCY``), or None where none is set."""
    return current_app.config.get("COMPANY_CURRENCY") or None


def needs_rate(currency: str) -> bool:
    """Whether a document in ``currency`` is converted: a company currency is set and it is
    another one."""
    company = company_currency()
    return company is not None and currency.upper() != company


def rate_on(currency: str, day: date) -> Decimal | None:
    """The company currency per unit of ``currency`` on ``day``; None where no rate starts
    on or before it."""
    key = (currency.upper(), day)
    return rates_on([key])[key]


def rates_on(keys: Iterable[tuple[str, date]]) -> dict[tuple[str, date], Decimal | None]:
    """The exchange rate of each (currency, day), in one query."""
    keys = list(keys)
    if not keys:
        return {}
    return rates_by_day(keys, db.session.execute(EXCHANGE_RATES, rates_params(keys)))
