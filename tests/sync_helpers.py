"""Small helpers for reading what imports did, shared by the import tests."""

import time

import sqlalchemy as sa
from rq import SimpleWorker

from portal import db
from portal.models import (
    Customer,
    Item,
    ItemMapping,
    OrderLink,
    Outcome,
    RunStatus,
    SalesOrder,
    SyncLogEntry,
    Trigger,
)
from portal.queue import redis_connection, worker_queues
from portal.sync.filters import merge_filters
from portal.sync.runs import create_run, execute_run


def run_import(webstore, trigger=Trigger.MANUAL, **given):
    """Run an import in the foreground, through the same function the RQ job calls."""
    run = create_run(webstore, merge_filters(webstore, **given), trigger)
    return execute_run(run.id)


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def entries(run, outcome=None) -> list[SyncLogEntry]:
    query = sa.select(SyncLogEntry).where(SyncLogEntry.run_id == run.id)
    if outcome:
        query = query.where(SyncLogEntry.outcome == outcome)
    return list(db.session.scalars(query.order_by(SyncLogEntry.id)))


def sales_order_for(webstore, woo_order_id) -> SalesOrder | None:
    return db.session.scalar(
        sa.select(SalesOrder)
        .join(OrderLink, OrderLink.sales_order_id == SalesOrder.id)
        .where(OrderLink.webstore_id == webstore.id, OrderLink.woo_order_id == woo_order_id)
    )


def duplicates() -> dict:
    """Rows that would mean something was imported or created twice."""
    db.session.expire_all()

    def dupes(*columns):
        return db.session.execute(
            sa.select(*columns, sa.func.count())
            .where(*(c.is_not(None) for c in columns))
            .group_by(*columns)
            .having(sa.func.count() > 1)
        ).all()

    return {
        "sales orders": dupes(SalesOrder.webstore_id, SalesOrder.woo_order_id),
        "customers": dupes(Customer.email),
        "items": dupes(Item.sku),
        "item mappings": dupes(
            ItemMapping.webstore_id, ItemMapping.woo_product_id, ItemMapping.woo_variation_id
        ),
    }


def work_queued_jobs() -> None:
    """Run what is queued, in this process, as a worker would."""
    SimpleWorker(worker_queues(), connection=redis_connection()).work(burst=True)


def logged_run(webstore, *, failed=0, skipped=0, imported=0, trigger=Trigger.MANUAL, **values):
    """A finished run with a log of the given outcomes, written as a run writes them."""
    run = create_run(webstore, merge_filters(webstore), trigger)
    rows = []
    for n in range(skipped):
        number = f"SO{n:05d}"
        message = f"posted: {number} is posted" if n % 5 == 0 else f"already imported as {number}"
        rows.append((1000 + n, Outcome.SKIPPED, message))
    for n in range(failed):
        rows.append((5000 + n, Outcome.FAILED, f"Order {5000 + n} failed: fix the item, retry."))
    for n in range(imported):
        rows.append((7000 + n, Outcome.IMPORTED, ""))
    db.session.add_all(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=webstore.id,
            woo_order_id=order_id,
            woo_order_number=str(order_id),
            outcome=outcome,
            message=message,
        )
        for order_id, outcome, message in rows
    )
    for name, value in {
        "status": RunStatus.FAILED if failed and not imported else RunStatus.SUCCEEDED,
        "failed": failed,
        "skipped": skipped,
        "imported": imported,
        "store_total": failed + skipped + imported,
        **values,
    }.items():
        setattr(run, name, value)
    db.session.commit()
    return run


def imported_order(webstore, store, **given) -> SalesOrder:
    """A processing order of the store, imported."""
    created = store.create_order(status="processing", **given)
    run_import(webstore, order_id=created["id"])
    return db.session.scalar(sa.select(SalesOrder).where(SalesOrder.woo_order_id == created["id"]))


def wait_for(condition, timeout: float = 15.0):
    """``condition()``'s first true answer, asked every 50 ms: for a state that another
    process (a worker, a store's webhook) brings about."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"not true within {timeout} s: {condition}"
        time.sleep(0.05)
    return result
