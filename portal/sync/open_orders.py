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
from portal.models import UNPOSTED, OrderLink, SalesOrder
from portal.models.base import utcnow
from portal.sync.changes import Met, known_orders, last_reads, settle_met
from portal.sync.log import LogLine, failed, invalid_line, skipped
from portal.sync.lookups import BY_LINK_KEY, links_params
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
        found, unreadable = read_by_id(client, writer, chunk, full=read_in_full)
        if read_in_full:
            settle_orders(writer, webstore_id, not_as_last_read(webstore_id, found.values()))
        else:
            read = last_reads(webstore_id, list(found))
            changed = [
                ref.id
                for ref in found.values()
                if read[ref.id].may_have_changed(ref.date_modified, writer.started_at)
            ]
            orders, _ = read_by_id(client, writer, changed, full=True)
            settle_orders(writer, webstore_id, list(orders.values()))
        gone = [i for i in chunk if i not in found and i not in unreadable]
        if gone:
            orders, deleted = read_missing(client, gone)
            settle_orders(writer, webstore_id, orders)
            settle_deleted(writer, webstore_id, {i: numbers[i] for i in deleted})


def not_as_last_read(webstore_id: int, orders) -> list[WooOrder]:
    """Those of these orders whose state is not the one the connector last read."""
    orders = list(orders)
    known = known_orders(webstore_id, [o.id for o in orders])
    return [
        order
        for order in orders
        if order.id in known
        and OrderState.of(order) != (known[order.id].latest or known[order.id].baseline)
    ]


def open_orders(webstore_id: int) -> dict[int, str]:
    """The store order ids (and numbers) of the webstore's open and released sales orders
    whose store order the connector does not know to be deleted."""
    # Each link by its unique key, whatever the planner thinks of a join of tables that a
    # first import has just grown: with their statistics not yet taken, it joins them in a
    # nested loop, reading every sales order for each link (4 million rows at 2,000 orders).
    number = (
        sa.select(OrderLink.woo_order_number)
        .where(
            OrderLink.webstore_id == SalesOrder.webstore_id,
            OrderLink.woo_order_id == SalesOrder.woo_order_id,
            OrderLink.sales_order_id == SalesOrder.id,
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(SalesOrder.woo_order_id, number).where(
            SalesOrder.webstore_id == webstore_id,
            SalesOrder.status.in_(UNPOSTED),
            SalesOrder.woo_status != DELETED,
        )
    )
    return {order_id: number for order_id, number in rows if number is not None}


def read_by_id(client: WooClient, writer, ids, full: bool) -> tuple[dict, set[int]]:
    """These orders by id, from the listing and then from the trash (which the listing
    leaves out): in full, or their ids and modified times only. Orders the store sent but
    that cannot be read are logged as failed; their ids come back apart."""
    found, unreadable = {}, set()
    for status in ((), (TRASH,)):
        wanted = tuple(i for i in ids if i not in found and i not in unreadable)
        if not wanted:
            break
        page = client.order_page(
            OrderQuery(include=wanted, status=status, orderby="id"),
            1,
            per_page=len(wanted),
            fields=None if full else REF_FIELDS,
        )
        found.update({order.id: order for order in page.orders})
        if page.invalid:
            writer.log([invalid_line(e) for e in page.invalid], fetched=len(page.invalid))
            unreadable.update(int(e.order_id) for e in page.invalid if str(e.order_id).isdigit())
    return found, unreadable


def settle_orders(writer, webstore_id: int, orders: list[WooOrder], counted=False) -> None:
    met = [Met.of(order) for order in orders]
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
        sa.select(OrderLink.woo_order_id, OrderLink.woo_order_number).where(*BY_LINK_KEY),
        links_params(webstore_id, ids),
    ).all()
