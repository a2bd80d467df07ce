"""What a batch looks up before it plans its orders, as SQLAlchemy statements that run
alike on PostgreSQL and SQLite.

A list of values is one parameter (``values``), not one per value, so that each statement
has one text per database: SQLAlchemy compiles it once, and on PostgreSQL the batch sends
that text in a pipeline of its own (``portal.sync.bulk.run_all``) without SQLAlchemy in
between. On PostgreSQL the list is an array (``= ANY``), on SQLite a JSON array
(``IN (SELECT value FROM json_each(...))``).
"""

import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal import db
from portal.models import (
    CurrencyExchangeRate,
    Customer,
    CustomerMapping,
    Item,
    ItemMapping,
    NumberSeries,
    OrderLink,
    SalesOrder,
    SyncLogEntry,
)
from portal.sync.log import link_reasons


class ValueList(sa.TypeDecorator):
    """A Python list bound as one parameter: as it is for PostgreSQL (an array), as JSON
    for SQLite."""

    impl = sa.types.NullType
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return list(value) if dialect.name == "postgresql" else json.dumps(list(value))


class one_of(FunctionElement):
    """``one_of(column, values("name"))``: the column's value is in the list given as the
    parameter ``name``."""

    type = sa.Boolean()
    inherit_cache = True
    name = "one_of"


@compiles(one_of, "postgresql")
def _one_of_array(element, compiler, **kw):
    column, given = element.clauses
    return f"{compiler.process(column, **kw)} = ANY({compiler.process(given, **kw)})"


@compiles(one_of)
def _one_of_json(element, compiler, **kw):
    column, given = element.clauses
    return (
        f"{compiler.process(column, **kw)} IN "
        f"(SELECT value FROM json_each({compiler.process(given, **kw)}))"
    )


def values(name: str) -> sa.BindParameter:
    """A list given as one parameter, for ``one_of``."""
    return sa.bindparam(name, type_=ValueList())


# Serializes the writing of batches across runs and workers until the transaction ends:
# whoever holds it sees every link, customer and item that batches before it committed.
IMPORT_LOCK = (
    sa.update(NumberSeries).where(NumberSeries.code == "SO").values(last_no=NumberSeries.last_no)
)

# The links of orders, by ``webstore``, ``ids`` (and ``low`` and ``high``, their range:
# ``links_params``). The range lets the (webstore, order id) index find the ids by both
# columns even where the planner's statistics lag behind a table that grew fast (a first big
# import); without it, PostgreSQL may read every link of the webstore for each batch.
BY_LINK_KEY = (
    OrderLink.webstore_id == sa.bindparam("webstore"),
    OrderLink.woo_order_id.between(sa.bindparam("low"), sa.bindparam("high")),
    one_of(OrderLink.woo_order_id, values("ids")),
)

# The links, with how each order was last read (its modified time then, and when).
LINKS = (
    sa.select(
        OrderLink.woo_order_id,
        OrderLink.imported_at,
        SalesOrder.number,
        SalesOrder.status,
        OrderLink.woo_modified_at,
        OrderLink.read_at,
    )
    .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
    .where(*BY_LINK_KEY)
)

# How the connector last read each of these orders (``changes.last_reads``).
LAST_READS = sa.select(
    OrderLink.woo_order_id, OrderLink.woo_modified_at, OrderLink.read_at, OrderLink.imported_at
).where(*BY_LINK_KEY)


def links_params(webstore_id: int, order_ids) -> dict:
    """The parameters of ``BY_LINK_KEY`` for these orders (some)."""
    order_ids = sorted(order_ids)
    return {"webstore": webstore_id, "ids": order_ids, "low": order_ids[0], "high": order_ids[-1]}


def existing_links(webstore_id: int, order_ids, since) -> dict[int, str]:
    """Why each of these orders that has a link is skipped, for a run started ``since``."""
    if not order_ids:
        return {}
    rows = db.session.execute(LINKS, links_params(webstore_id, order_ids))
    return link_reasons((row[:4] for row in rows), since)


CUSTOMER_MAPPINGS = sa.select(CustomerMapping.woo_customer_id, CustomerMapping.customer_id).where(
    CustomerMapping.webstore_id == sa.bindparam("webstore"),
    one_of(CustomerMapping.woo_customer_id, values("ids")),
)
CUSTOMERS_BY_EMAIL = sa.select(Customer.email, Customer.id).where(
    one_of(Customer.email, values("emails"))
)
ITEMS_BY_SKU = sa.select(Item.sku, Item.id).where(one_of(Item.sku, values("skus")))
ITEM_MAPPINGS = sa.select(
    ItemMapping.woo_product_id, ItemMapping.woo_variation_id, ItemMapping.item_id
).where(
    ItemMapping.webstore_id == sa.bindparam("webstore"),
    one_of(ItemMapping.woo_product_id, values("ids")),
)

# The exchange rates of ``currencies`` that orders from ``first`` to ``last`` may take: for
# each currency, the one in force on ``first`` and every one starting after it up to
# ``last`` (``rates_by_day`` picks each day's).
_rate = CurrencyExchangeRate.__table__
FIRST = sa.bindparam("first", type_=sa.Date)
_earlier = _rate.alias("earlier")
_in_force_on_first = (
    sa.select(sa.func.max(_earlier.c.starting_date))
    .where(_earlier.c.currency == _rate.c.currency, _earlier.c.starting_date <= FIRST)
    .scalar_subquery()
)
EXCHANGE_RATES = (
    sa.select(_rate.c.currency, _rate.c.starting_date, _rate.c.rate)
    .where(
        one_of(_rate.c.currency, values("currencies")),
        _rate.c.starting_date <= sa.bindparam("last", type_=sa.Date),
        _rate.c.starting_date >= sa.func.coalesce(_in_force_on_first, FIRST),
    )
    .order_by(_rate.c.currency, _rate.c.starting_date)
)


def rates_params(keys) -> dict:
    """The parameters of ``EXCHANGE_RATES`` for these (currency, day) pairs."""
    days = [day for _, day in keys]
    return {"currencies": sorted({c for c, _ in keys}), "first": min(days), "last": max(days)}


def rates_by_day(keys, rows) -> dict[tuple[str, date], Decimal | None]:
    """The rate of each (currency, day) from ``EXCHANGE_RATES``'s rows: the latest starting
    on or before the day (None where none does)."""
    by_currency: dict[str, list] = {}
    for currency, starting, rate in rows:
        by_currency.setdefault(currency, []).append((starting, rate))
    rates = {}
    for currency, day in keys:
        rates[currency, day] = None
        for starting, rate in by_currency.get(currency, ()):
            if starting > day:
                break
            rates[currency, day] = Decimal(rate)
    return rates


def logged_orders(run_id: int) -> set[int]:
    """The store orders a run has written a log line for: what its earlier slices met."""
    return set(
        db.session.scalars(
            sa.select(SyncLogEntry.woo_order_id)
            .where(SyncLogEntry.run_id == run_id, SyncLogEntry.woo_order_id > 0)
            .distinct()
        )
    )
