"""Every store order the connector has met, as it last met it: the staging view.

Runs record what their log says of each order, in the transaction of the log entries
(``BatchWriter`` hands its lines here); a webhook delivery records the order the setup
leaves out; an audit records the orders nobody met (missing) and those the filters leave
out. One row per webstore order (``StoreOrder``), and the latest meeting wins: a failed
order imported later is imported, a missing one met later takes its real state.

A meeting that does not know the store's status or times (a log line of a listing) keeps
those last recorded; an order's sales order is always its link's.
"""

import functools
from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal import db
from portal.models import OrderLink, Outcome, Webstore
from portal.models.base import utcnow
from portal.models.health import SeenVia, StoreOrder, StoreOrderState
from portal.sync.log import SKIP_KINDS, LogLine

# Skips that say the order has a sales order: met again, it is imported.
SKIPS_OF_IMPORTED = tuple(
    SKIP_KINDS[kind][0]
    for kind in ("already imported", "posted", "archived", "cancelled", "imported meanwhile")
)
KEY = ("webstore_id", "woo_order_id")
# What a row says of the store order, besides its key and its sales order (the link's).
COLUMNS = (
    *KEY,
    "number",
    "status",
    "order_date",
    "modified_at",
    "state",
    "reason",
    "seen_via",
    "first_seen_at",
    "last_seen_at",
)
# An order met again with nothing new is written again for its time alone this often.
SEEN_EVERY = timedelta(hours=1)
# The same and the empty text, inline: the writer's statement takes no parameter but its rows.
SEEN_EVERY_SQL = sa.literal_column("INTERVAL '1 hour'")
NOTHING = sa.literal_column("''")


def left_out_by_setup(webstore: Webstore, status: str, order_date: date | None) -> str | None:
    """Why the webstore's setup leaves out a store order that is not imported yet, as
    automatic sync would; None when it is one to import."""
    statuses = webstore.status_filter
    if statuses and status not in statuses:
        return f"status {status} is not in the webstore's status filter ({', '.join(statuses)})."
    start = webstore.order_start_date
    if start and order_date and order_date < start:
        return (
            f"created {order_date.isoformat()}, before the webstore's order start date "
            f"{start.isoformat()}."
        )
    return None


def row(
    webstore_id: int,
    order_id: int,
    *,
    state: StoreOrderState,
    via: SeenVia,
    now: datetime,
    number: str = "",
    reason: str = "",
    status: str = "",
    order_date: date | None = None,
    modified_at: datetime | None = None,
) -> dict:
    """One store order as met; a status of "" and times of None keep those recorded."""
    return {
        "webstore_id": webstore_id,
        "woo_order_id": order_id,
        # Where only the id is known it stands for the number (see ``updates``).
        "number": (number or str(order_id))[:40],
        "status": status[:20],
        "order_date": order_date,
        "modified_at": modified_at,
        "state": state,
        "reason": reason,
        "seen_via": via,
        "first_seen_at": now,
        "last_seen_at": now,
    }


def rows_from_log(
    webstore_id: int, lines: list[LogLine], via: SeenVia, now: datetime, orders=()
) -> list[dict]:
    """The store orders a run's log lines met, with the store's status and times where
    ``orders`` (as read from the store) has them; the last line of an order wins."""
    known = {order.id: order for order in orders}
    rows = {}
    for line in lines:
        if line.order_id <= 0:
            continue  # an order the store sent unreadably, without an id
        state, reason = state_of(line)
        order = known.get(line.order_id)
        rows[line.order_id] = row(
            webstore_id,
            line.order_id,
            state=state,
            via=via,
            now=now,
            number=line.order_number,
            reason=reason,
            status=order.status if order else "",
            order_date=order.order_date if order else None,
            modified_at=order.date_modified if order else None,
        )
    return sorted(rows.values(), key=lambda r: r["woo_order_id"])


def state_of(line: LogLine) -> tuple[StoreOrderState, str]:
    """Where a log line leaves its store order, and why."""
    if line.outcome == Outcome.IMPORTED:
        return StoreOrderState.IMPORTED, ""
    if line.outcome == Outcome.CHANGED:
        return StoreOrderState.CHANGED, line.message
    if line.outcome == Outcome.FAILED:
        return StoreOrderState.FAILED, line.message
    if line.message.startswith(SKIPS_OF_IMPORTED):
        return StoreOrderState.IMPORTED, ""
    return StoreOrderState.SKIPPED, line.message


def on_conflict(insert, stale_before):
    """The upsert ``insert`` with what a meeting changes of a store order recorded before,
    written only where it changes something, or where the order was last seen before
    ``stale_before`` (an SQL expression): a re-run meets thousands of orders again with
    nothing new, and "last seen" is good to SEEN_EVERY."""
    table, excluded = insert.table, insert.excluded
    changes = {
        # A number that is only the id says nothing new: a store that numbers its orders
        # otherwise keeps the number it gave.
        "number": sa.case(
            (excluded.number == sa.cast(excluded.woo_order_id, sa.String), table.c.number),
            else_=excluded.number,
        ),
        "status": sa.case((excluded.status == NOTHING, table.c.status), else_=excluded.status),
        "order_date": sa.func.coalesce(excluded.order_date, table.c.order_date),
        "modified_at": sa.func.coalesce(excluded.modified_at, table.c.modified_at),
        "state": excluded.state,
        "reason": excluded.reason,
        "sales_order_id": excluded.sales_order_id,
        "seen_via": excluded.seen_via,
    }
    news = [table.c[name].is_distinct_from(value) for name, value in changes.items()]
    return insert.on_conflict_do_update(
        index_elements=KEY,
        set_={**changes, "last_seen_at": excluded.last_seen_at},
        where=sa.or_(*news, table.c.last_seen_at < stale_before),
    )


def record(rows: list[dict]) -> None:
    """Record store orders as met, in the session's transaction (on PostgreSQL and SQLite).

    Each gets its link's sales order, read here: one found missing that another run has
    imported meanwhile is imported.
    """
    if not rows:
        return
    by_webstore = defaultdict(list)
    for r in rows:
        by_webstore[r["webstore_id"]].append(r["woo_order_id"])
    links = {
        (webstore_id, order_id): sales_order_id
        for webstore_id, ids in by_webstore.items()
        for order_id, sales_order_id in linked(webstore_id, ids).items()
    }
    rows = [with_link(r, links.get((r["webstore_id"], r["woo_order_id"]))) for r in rows]
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        db.session.get_bind().dialect.name
    ](StoreOrder)
    stale_before = sa.bindparam(
        "stale_before", utcnow() - SEEN_EVERY, type_=StoreOrder.__table__.c.last_seen_at.type
    )
    statement = on_conflict(insert, stale_before)
    # In key order, so that two transactions recording the same orders wait, not deadlock.
    db.session.execute(statement, sorted(rows, key=lambda r: (r["webstore_id"], r["woo_order_id"])))


def with_link(row: dict, sales_order_id: int | None) -> dict:
    if sales_order_id is not None and row["state"] == StoreOrderState.MISSING:
        row = {**row, "state": StoreOrderState.IMPORTED, "reason": ""}
    return {**row, "sales_order_id": sales_order_id}


def linked(webstore_id: int, order_ids) -> dict[int, int]:
    """The sales order of each of these store orders that has a link."""
    if not order_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(OrderLink.woo_order_id, OrderLink.sales_order_id).where(
                OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids)
            )
        ).all()
    )


@functools.cache
def upsert_from_json(dialect) -> str:
    """PostgreSQL: the statement that records the rows of the JSON array ``%(seen)s``
    (``bulk.json_rows``), each with its link's sales order, for ``bulk.Inserts`` to
    send beside its own rows."""
    table = StoreOrder.__table__
    given = sa.func.json_populate_recordset(
        sa.literal_column(f"NULL::{table.name}"),
        sa.bindparam("seen", type_=postgresql.JSON),
    ).table_valued(*(table.c[name] for name in COLUMNS), name="seen")
    link = OrderLink.__table__
    # A lookup by the link's unique key for each row, whatever the planner thinks of a join
    # with every link of a store.
    sales_order = (
        sa.select(link.c.sales_order_id)
        .where(
            link.c.webstore_id == given.c.webstore_id,
            link.c.woo_order_id == given.c.woo_order_id,
        )
        .scalar_subquery()
    )
    rows = (
        sa.select(*(given.c[name] for name in COLUMNS), sales_order)
        # In key order, as ``record``'s.
        .order_by(given.c.webstore_id, given.c.woo_order_id)
    )
    insert = postgresql.insert(table).from_select([*COLUMNS, "sales_order_id"], rows)
    statement = on_conflict(insert, insert.excluded.last_seen_at - SEEN_EVERY_SQL)
    compiled = statement.compile(dialect=dialect)
    assert set(compiled.params) == {"seen"}, compiled.params
    return str(compiled)
