"""Which exchange rate a document takes: the Currency Exchange Rates page's rate of the
latest starting date on or before the document's date, as Business Central reads it."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from portal import db
from portal.models import CurrencyExchangeRate


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
    return db.session.execute(
        sa.select(CurrencyExchangeRate.rate)
        .where(
            CurrencyExchangeRate.currency == currency.upper(),
            CurrencyExchangeRate.starting_date <= day,
        )
        .order_by(CurrencyExchangeRate.starting_date.desc())
        .limit(1)
    ).scalar()
