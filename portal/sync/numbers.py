"""Number series: C00001, I00001, SO00001."""

import sqlalchemy as sa

from portal import db
from portal.models import NumberSeries

SERIES = {"CUST": ("C", 5), "ITEM": ("I", 5), "SO": ("SO", 5)}


def next_numbers(code: str, count: int = 1) -> list[str]:
    """Take ``count`` numbers from a series inside the caller's transaction.

    The UPDATE locks the series row until the transaction ends, so two importers never
    take the same number, and a rollback gives the numbers back.
    """
    last = db.session.execute(
        sa.update(NumberSeries)
        .where(NumberSeries.code == code)
        .values(last_no=NumberSeries.last_no + count)
        .returning(NumberSeries.last_no, NumberSeries.prefix, NumberSeries.digits)
    ).first()
    if last is None:
        raise LookupError(f"number series {code} does not exist; run 'flask db upgrade'")
    last_no, prefix, digits = last
    return [f"{prefix}{n:0{digits}d}" for n in range(last_no - count + 1, last_no + 1)]


def next_number(code: str) -> str:
    return next_numbers(code)[0]
