"""Reading the accounting tables for their pages.

The lists page by keyset on their unique key (a code, an account number; exchange rates on
their starting date and currency, newest first), so a late page costs what the first does.
"""

import sqlalchemy as sa

from portal import db
from portal.accounting.tables import SetupTable
from portal.models import CurrencyExchangeRate
from portal.paging import Page, contains, contains_text, keyset_page

PER_PAGE = 50


def search_conditions(table: SetupTable, term: str) -> list:
    if not term:
        return []
    model = table.model
    return [
        sa.or_(
            contains(getattr(model, table.key), term),
            *(contains_text(getattr(model, name), term) for name in table.search_text),
        )
    ]


def list_records(
    table: SetupTable, term: str = "", *, after=None, before=None, page=1, per_page=PER_PAGE
) -> Page:
    """One page of the table's records whose key or text holds ``term``, by key."""
    conditions = search_conditions(table, term)
    model = table.model
    return keyset_page(
        sa.select(model).where(*conditions),
        model,
        (getattr(model, table.key),),
        conditions,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )


def rate_currencies() -> list[str]:
    """The currencies that have rates, for the filter."""
    return list(
        db.session.scalars(
            sa.select(CurrencyExchangeRate.currency)
            .distinct()
            .order_by(CurrencyExchangeRate.currency)
        )
    )


def list_rates(currency: str = "", *, after=None, before=None, page=1, per_page=PER_PAGE) -> Page:
    """One page of the exchange rates (of one currency, or all), newest first."""
    conditions = [CurrencyExchangeRate.currency == currency] if currency else []
    return keyset_page(
        sa.select(CurrencyExchangeRate).where(*conditions),
        CurrencyExchangeRate,
        (CurrencyExchangeRate.starting_date, CurrencyExchangeRate.currency),
        conditions,
        descending=True,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )
