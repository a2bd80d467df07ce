"""Imported orders not posted yet, checked against the store by every run that lists.

A listing shows what its filters match, and a store order may have left them since its
import: cancelled outside the status filter, moved to the trash (which listings leave
out), deleted for good (which nothing lists). So every listing run also asks the store for
the store orders of its open and released sales orders by id, ids and modified times
only, 100 to a request: one that changed is read in full and settled as every path
settles it (``changes``), one in the trash is found by asking for the trash, and one the
store answers 404 for is settled as deleted.
"""

import sqlalchemy as sa

from portal import db
from portal.models import OrderLink, SalesOrder
from portal.models.base import utcnow
from portal.sync.changes import UNPOSTED, Met, known_orders, last_reads, settle_met
from portal.sync.log import LogLine, failed, invalid_line, skipped
from portal.sync.states import DELETED, OrderState
from portal.woo.client import MAX_PER_PAGE, REF_FIELDS, OrderQuery, WooClient
from portal.woo.errors import WooNotFound
from portal.woo.orders import WooOrder, WooOrderRef

TRASH = "trash"


def follow_open_orders(
    client: WooClient, writer, webstore_id: int, met: set[int], read_in_full: bool = False
) -> None:
    """Settle what changed in the store orders of the webstore's unposted sales orders
    that this run did not meet (``met``). ``read_in_full`` where the store's modified time
    cannot be trusted: a store on legacy posts storage leaves it as it was when the REST
    API edits a quantity or an address (measured on WooCommerce 10.0.2)."""
    numbers = open_orders(webstore_id)
    ids = sorted(set(numbers) - met)
    for start in range(0, len(ids), MAX_PER_PAGE):
        chunk = ids[start : start + MAX_PER_PAGE]
        if read_in_full:
            follow_in_full(client, writer, webstore_id, chunk, numbers)
            continue
        listed = list_by_id(client, chunk)
        read = last_reads(webstore_id, list(listed))
        changed = [
            ref
            for ref in listed.values()
            if read[ref.id].may_have_changed(ref.date_modified, writer.started_at)
        ]
        settle_full(client, writer, webstore_id, changed)
        gone = [order_id for order_id in chunk if order_id not in listed]
        if gone:
            orders, deleted = read_missing(client, gone)
            settle_orders(writer, webstore_id, orders)
            settle_deleted(writer, webstore_id, {i: numbers[i] for i in deleted})


def follow_in_full(client: WooClient, writer, webstore_id: int, ids, numbers) -> None:
    """Read these orders in full, and settle those whose state is not the one last read."""
    orders = {}
    for status in ((), (TRASH,)):
        wanted = tuple(i for i in ids if i not in orders)
        if wanted:
            page = client.order_page(
                OrderQuery(include=wanted, status=status, orderby="id"), 1, per_page=len(wanted)
            )
            orders.update({order.id: order for order in page.orders})
    known = known_orders(webstore_id, list(orders))
    changed = [
        order
        for order in orders.values()
        if order.id in known
        and OrderState.of(order) != (known[order.id].latest or known[order.id].baseline)
    ]
    settle_orders(writer, webstore_id, changed)
    gone = [i for i in ids if i not in orders]
    if gone:
        found, deleted = read_missing(client, gone)
        settle_orders(writer, webstore_id, found)
        settle_deleted(writer, webstore_id, {i: numbers[i] for i in deleted})


def open_orders(webstore_id: int) -> dict[int, str]:
    """The store order ids (and numbers) of the webstore's open and released sales orders
    whose store order the connector does not know to be deleted."""
    rows = db.session.execute(
        sa.select(OrderLink.woo_order_id, OrderLink.woo_order_number)
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(
            OrderLink.webstore_id == webstore_id,
            SalesOrder.status.in_(UNPOSTED),
            SalesOrder.woo_status != DELETED,
        )
    )
    return dict(rows.all())


def list_by_id(client: WooClient, ids: list[int]) -> dict[int, WooOrderRef]:
    """These orders' ids and modified times, from the listing and then from the trash."""
    found = {}
    for status in ((), (TRASH,)):
        wanted = [i for i in ids if i not in found]
        if not wanted:
            break
        page = client.order_page(
            OrderQuery(include=tuple(wanted), status=status),
            1,
            per_page=len(wanted),
            fields=REF_FIELDS,
        )
        found.update({ref.id: ref for ref in page.orders})
    return found


def settle_full(client: WooClient, writer, webstore_id: int, refs: list[WooOrderRef]) -> None:
    """Read the changed ones in full (those in the trash by their own query) and settle."""
    for status in ((), (TRASH,)):
        ids = [r.id for r in refs if (r.status == TRASH) == bool(status)]
        if not ids:
            continue
        page = client.order_page(
            OrderQuery(include=tuple(ids), status=status, orderby="id"), 1, per_page=len(ids)
        )
        if page.invalid:
            writer.log([invalid_line(e) for e in page.invalid], fetched=len(page.invalid))
        settle_orders(writer, webstore_id, list(page.orders))


def settle_orders(writer, webstore_id: int, orders: list[WooOrder], counted=False) -> None:
    met = [Met(order.id, order.number, OrderState.of(order), order) for order in orders]
    if met:
        settle_met(writer, webstore_id, met, fetched=0 if counted else len(met))


def read_missing(client: WooClient, ids: list[int]) -> tuple[list[WooOrder], list[int]]:
    """Orders a listing left out, asked for one by one: those the store still has (in its
    trash), and the ids it has none of (deleted for good)."""
    orders, deleted = [], []
    for order_id in ids:
        try:
            orders.append(client.get_order(order_id))
        except WooNotFound:
            deleted.append(order_id)
    return orders, deleted


def settle_deleted(writer, webstore_id: int, numbers: dict[int, str], counted=False) -> None:
    """Orders the store deleted for good: their sales orders learn it."""
    if not numbers:
        return
    known = known_orders(webstore_id, list(numbers))
    now = utcnow()
    met = [
        Met(
            order_id,
            numbers[order_id],
            (known[order_id].latest or known[order_id].baseline).gone(now),
        )
        for order_id in numbers
        if order_id in known
    ]
    if met:
        settle_met(writer, webstore_id, met, fetched=0 if counted else len(met))


def settle_missing(
    client: WooClient, writer, webstore_id: int, ids: list[int], counted: bool
) -> None:
    """Orders asked for by id that a listing did not return (an Order ID import, a
    webhook): those in the trash and those deleted for good. Imported ones are settled as
    changed; of the others, one in the trash is skipped and one the store lacks fails."""
    orders, deleted = read_missing(client, ids)
    linked = set(last_reads(webstore_id, ids))
    settle_orders(writer, webstore_id, [o for o in orders if o.id in linked], counted)
    settle_deleted(writer, webstore_id, dict(linked_numbers(webstore_id, deleted)), counted)
    lines: list[LogLine] = [
        skipped(
            order,
            f"in the store's trash: order {order.number} is not imported unless it is "
            "restored in the store",
        )
        for order in orders
        if order.id not in linked
    ]
    lines += [
        failed(
            WooOrderRef(id=order_id, status="", date_modified=None),
            f"Order {order_id} is not in the store (deleted, or never there): nothing to import.",
        )
        for order_id in deleted
        if order_id not in linked
    ]
    if lines:
        writer.log(lines, fetched=0 if counted else len(lines))


def linked_numbers(webstore_id: int, ids: list[int]):
    if not ids:
        return []
    return db.session.execute(
        sa.select(OrderLink.woo_order_id, OrderLink.woo_order_number).where(
            OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(ids)
        )
    ).all()
