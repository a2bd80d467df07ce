"""What the import pages read: runs, their log entries, daily totals, a preview."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm

from portal import db
from portal.converters import day, page_number
from portal.models import (
    OrderLink,
    Outcome,
    RunKind,
    RunStatus,
    SalesCreditMemo,
    SalesOrder,
    StoreWriteback,
    SyncLogEntry,
    SyncRun,
    Trigger,
    Webstore,
)
from portal.sync.filters import ImportFilters
from portal.sync.log import SKIP_KINDS
from portal.sync.refunds import is_refund_entry

ENTRIES_PER_POLL = 200
RUNS_PER_PAGE = 25
ENTRIES_PER_PAGE = 100


def webstores() -> list[Webstore]:
    return list(db.session.scalars(sa.select(Webstore).order_by(Webstore.code)))


def within_run(run_id: int, after: int):
    """The conditions for a run's entries after entry ``after``.

    Bounding the id by the run's own first and last entry (two lookups in the (run_id, id)
    index) keeps PostgreSQL from walking the whole log's primary key for a run that holds
    most of it: the answer costs the same however long the log grows.
    """
    ids = sa.select(SyncLogEntry.id).where(SyncLogEntry.run_id == run_id)
    first = ids.order_by(SyncLogEntry.id).limit(1).scalar_subquery()
    last = ids.order_by(SyncLogEntry.id.desc()).limit(1).scalar_subquery()
    return (
        SyncLogEntry.run_id == run_id,
        SyncLogEntry.id > after,
        SyncLogEntry.id >= first,
        SyncLogEntry.id <= last,
    )


def new_entries(run_id: int, after: int, limit: int = ENTRIES_PER_POLL) -> list:
    """The run's entries after entry ``after``, each with its sales order's id and number
    (``with_named_sales_orders``): an index range scan, whatever the log's length."""
    return with_named_sales_orders(
        db.session.execute(
            with_sales_order_ids(sa.select(SyncLogEntry))
            .where(*within_run(run_id, after))
            .order_by(SyncLogEntry.id)
            .limit(limit)
        ).all()
    )


def busy_runs_beside(run: SyncRun) -> list[SyncRun]:
    """Other runs of the same webstore that are queued or running now."""
    return list(
        db.session.scalars(
            sa.select(SyncRun).where(
                SyncRun.webstore_id == run.webstore_id,
                SyncRun.id != run.id,
                SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]),
            )
        )
    )


@dataclass
class RunFilter:
    webstore: str = ""
    trigger: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args) -> "RunFilter":
        return cls(
            webstore=args.get("webstore", "").upper(),
            trigger=args.get("trigger", "") if args.get("trigger") in set(Trigger) else "",
            status=args.get("status", "") if args.get("status") in set(RunStatus) else "",
            date_from=day(args.get("from")),
            date_to=day(args.get("to")),
            page=page_number(args.get("page")),
        )

    def args(self, **changes) -> dict:
        values = {
            "webstore": self.webstore,
            "trigger": self.trigger,
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "page": self.page,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None, 1)}


def list_runs(wanted: RunFilter) -> tuple[list, bool]:
    """One page of runs, newest first, each with its webstore's code and the person who
    started it (loaded with it: the list says who), and whether there is a next page."""
    query = (
        sa.select(SyncRun, Webstore.code)
        .join(Webstore, Webstore.id == SyncRun.webstore_id)
        .outerjoin(SyncRun.requested_by)
        .options(orm.contains_eager(SyncRun.requested_by))
    )
    if wanted.webstore:
        query = query.where(Webstore.code == wanted.webstore)
    if wanted.trigger:
        query = query.where(SyncRun.trigger == wanted.trigger)
    if wanted.status:
        query = query.where(SyncRun.status == wanted.status)
    if wanted.date_from:
        query = query.where(SyncRun.created_at >= day_start(wanted.date_from))
    if wanted.date_to:
        query = query.where(SyncRun.created_at < day_start(wanted.date_to + timedelta(days=1)))
    rows = db.session.execute(
        query.order_by(SyncRun.created_at.desc(), SyncRun.id.desc())
        .offset((wanted.page - 1) * RUNS_PER_PAGE)
        .limit(RUNS_PER_PAGE + 1)
    ).all()
    return rows[:RUNS_PER_PAGE], len(rows) > RUNS_PER_PAGE


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def daily_totals(days: int = 30, today: date | None = None) -> list[dict]:
    """Sales orders imported and failed per UTC day for the last ``days`` days, each order
    counted once a day: an order is imported once ever, so the orders runs' counts are its
    imports; an order that fails in every run of a day is one failed order that day. Credit
    memos are not orders: refunds runs are left out, and so are the memos and refund
    failures a webhook's run logs beside its order."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    run_day = sa.func.date(SyncRun.created_at)
    orders_runs = (SyncRun.created_at >= day_start(first), SyncRun.kind == RunKind.ORDERS)
    imported = by_day(
        sa.select(run_day, sa.func.sum(SyncRun.imported)).where(*orders_runs).group_by(run_day)
    )
    memos = by_day(
        sa.select(run_day, sa.func.count())
        .select_from(SalesCreditMemo)
        .join(SyncRun, SyncRun.id == SalesCreditMemo.sync_run_id)
        .where(*orders_runs)
        .group_by(run_day)
    )
    entry_day = sa.func.date(SyncLogEntry.created_at)
    failed_orders = (
        sa.select(entry_day.label("day"), SyncLogEntry.webstore_id, SyncLogEntry.woo_order_id)
        .where(SyncLogEntry.outcome == Outcome.FAILED)
        .where(SyncLogEntry.created_at >= day_start(first))
        .where(~is_refund_entry(SyncLogEntry.message))
        .distinct()
        .subquery()
    )
    failed = by_day(sa.select(failed_orders.c.day, sa.func.count()).group_by(failed_orders.c.day))
    totals = []
    for offset in range(days):
        current = first + timedelta(days=offset)
        key = current.isoformat()
        totals.append(
            {
                "day": current,
                "imported": imported.get(key, 0) - memos.get(key, 0),
                "failed": failed.get(key, 0),
            }
        )
    return totals


def by_day(query: sa.Select) -> dict[str, int]:
    """(day, count) rows as {ISO day: count}: SQLite answers a day as text, PostgreSQL as
    a date."""
    return {
        day if isinstance(day, str) else day.isoformat(): int(value or 0)
        for day, value in db.session.execute(query).tuples()
    }


def recent_writebacks(limit: int = 20) -> list:
    """The latest updates of store orders (newest first), with their sales order's number."""
    return db.session.execute(
        sa.select(StoreWriteback, SalesOrder.number, SalesOrder.external_document_no, Webstore.code)
        .join(SalesOrder, SalesOrder.id == StoreWriteback.sales_order_id)
        .join(Webstore, Webstore.id == StoreWriteback.webstore_id)
        .order_by(StoreWriteback.id.desc())
        .limit(limit)
    ).all()


def run_entries(
    run_id: int, outcome: str = "", after: int = 0, limit: int = ENTRIES_PER_PAGE
) -> tuple[list, bool]:
    """One page of a run's entries (keyset by id), with each sales order's id for a link."""
    query = with_sales_order_ids(sa.select(SyncLogEntry)).where(*within_run(run_id, after))
    if outcome in set(Outcome):
        query = query.where(SyncLogEntry.outcome == outcome)
    rows = db.session.execute(query.order_by(SyncLogEntry.id).limit(limit + 1)).all()
    return with_named_sales_orders(rows[:limit]), len(rows) > limit


def with_sales_order_ids(query: sa.Select) -> sa.Select:
    """Entries with the id of the sales order each names (by its unique number), or None."""
    return query.add_columns(SalesOrder.id).outerjoin(
        SalesOrder, SalesOrder.number == SyncLogEntry.sales_order_number
    )


# The skip reasons that name the order's sales order: "already imported as SO00012",
# "posted: SO00012 is posted" (portal.sync.log). Their entries carry no sales order number.
NAMING_KINDS = ("already imported", "posted", "archived", "cancelled", "imported meanwhile")
NAMES_SALES_ORDER = re.compile(
    "^(?:" + "|".join(re.escape(SKIP_KINDS[k][0]) for k in NAMING_KINDS) + r")(\S{1,20})(?:\s|$)"
)


def with_named_sales_orders(rows) -> list[tuple]:
    """(entry, sales order id) rows as (entry, sales order id, sales order number): the
    entry's own number, or the one its skip reason names, with that order's id where it
    still exists (one lookup by number for the page)."""
    named = {}
    for entry, _ in rows:
        found = not entry.sales_order_number and NAMES_SALES_ORDER.match(entry.message or "")
        if entry.outcome == Outcome.SKIPPED and found:
            named[entry.id] = found[1]
    ids = {}
    if named:
        ids = dict(
            db.session.execute(
                sa.select(SalesOrder.number, SalesOrder.id).where(
                    SalesOrder.number.in_(set(named.values()))
                )
            )
            .tuples()
            .all()
        )
    return [
        (entry, ids.get(named[entry.id]), named[entry.id])
        if entry.id in named
        else (entry, order_id, entry.sales_order_number)
        for entry, order_id in rows
    ]


def imported_since(run: SyncRun, rows) -> dict[int, int]:
    """Of the failed orders among a page's ``rows``, those imported since, by a later run:
    {store order id: that run's id}. One lookup in the (webstore, order) index."""
    failed = [e for e, *_ in rows if e.outcome == Outcome.FAILED and e.woo_order_id > 0]
    if not failed:
        return {}
    found = db.session.execute(
        sa.select(SyncLogEntry.woo_order_id, sa.func.min(SyncLogEntry.run_id))
        .where(
            SyncLogEntry.webstore_id == run.webstore_id,
            SyncLogEntry.woo_order_id.in_({e.woo_order_id for e in failed}),
            SyncLogEntry.outcome == Outcome.IMPORTED,
            SyncLogEntry.id > min(e.id for e in failed),
        )
        .group_by(SyncLogEntry.woo_order_id)
    )
    return dict(found.tuples().all())


def all_entries(run_id: int):
    """Every entry of a run, streamed in id order (for CSV export)."""
    return db.session.scalars(
        sa.select(SyncLogEntry)
        .where(SyncLogEntry.run_id == run_id)
        .order_by(SyncLogEntry.id)
        .execution_options(yield_per=1000)
    )


def already_imported(webstore: Webstore, filters: ImportFilters) -> int:
    """How many of the orders these filters match have a sales order already.

    Read from the sales orders' copy of each order's status and date when imported, so a
    status changed since in the store may make this a little off.
    """
    query = (
        sa.select(sa.func.count())
        .select_from(OrderLink)
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(OrderLink.webstore_id == webstore.id)
    )
    if filters.order_ids:
        query = query.where(OrderLink.woo_order_id.in_(filters.order_ids))
    if filters.statuses:
        query = query.where(SalesOrder.woo_status.in_(filters.statuses))
    if filters.start_date:
        query = query.where(SalesOrder.order_date >= filters.start_date)
    return db.session.scalar(query)
