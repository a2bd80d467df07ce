"""Orders that changed in the store after import: noticed and logged, never imported again.

The one place that decides what an imported order's new state means, whichever path met
it (automatic sync, a manual import, an Order ID import, a webhook, ``flask
sync-webstore``). Each sales order keeps three states of its store order
(``portal.sync.states``): what it was built from, the store's latest, and the last one a
person reviewed. The change warning lists every difference between the store's latest
state and the reviewed (else the imported) one; it stays until someone reviews it, and
the same store state never raises it again. A refund the connector has credited (a credit
memo) is known, not a change. Our own write-back moves the reviewed state with it, so its
echo raises nothing.

A run logs an order as ``changed`` only when the store's state differs from the one last
read and from the reviewed one; otherwise it is skipped with the reason every path gives
(``log.skip_reason``).
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    UNPOSTED,
    LineType,
    OrderLink,
    Outcome,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    SalesOrderStatus,
    Webstore,
)
from portal.models.base import utcnow
from portal.sync import rebuild
from portal.sync.log import LogLine, skip_reason, skipped
from portal.sync.lookups import LAST_READS, existing_links, links_params
from portal.sync.money import amount_text
from portal.sync.states import DELETED, SHIP_TO, LineState, OrderState, describe_address
from portal.woo.orders import WooOrder


@dataclass
class Known:
    """What the connector knows of an imported order."""

    sales_order_id: int
    number: str
    status: SalesOrderStatus
    # What the store's order is measured against: the reviewed state, else the imported.
    baseline: OrderState
    reviewed: bool
    # The store's state as last read; None before states were kept.
    latest: OrderState | None
    # What its credit memos have given back.
    credited: Decimal = Decimal(0)
    # The decimals of its currency, as the sales order keeps them.
    decimals: int = 2


@dataclass(frozen=True)
class Met:
    """A store order as a run met it: its state now, and the order itself where the store
    still has it (None for one deleted for good)."""

    id: int
    number: str
    state: OrderState
    order: WooOrder | None = None

    @classmethod
    def of(cls, order: WooOrder) -> "Met":
        return cls(order.id, order.number, OrderState.of(order), order)


# The rules


def differences(before: OrderState, now: OrderState, credited: Decimal, decimals: int) -> list[str]:
    """What differs in the store's order ``now`` from ``before``, in words, amounts in the
    currency's ``decimals``. A refund the connector credited is known: only refunds beyond
    ``credited`` count. Amounts compare as numbers: 43.246 is 43.2460."""
    if now.status == DELETED:
        return [] if before.status == DELETED else ["deleted in the store"]
    changes = []
    if now.status != before.status:
        changes.append(
            "moved to the trash in the store"
            if now.status == "trash"
            else f"status {before.status} → {now.status}"
        )
    changes += line_changes(before.lines, now.lines, decimals)
    if now.ship_to != before.ship_to:
        changes.append(f"shipping address → {describe_address(now.ship_to) or 'none'}")
    if now.customer_note != before.customer_note:
        changes.append(
            f"customer note → {now.customer_note!r}"
            if now.customer_note
            else "customer note removed"
        )
    known_refunded = max(before.refunded, credited)
    if now.refunded != known_refunded:
        changes.append(
            f"refunded {amount_text(known_refunded, decimals)} → "
            f"{amount_text(now.refunded, decimals)}"
        )
    if now.total != before.total:
        changes.append(
            f"total {amount_text(before.total, decimals)} → {amount_text(now.total, decimals)}"
        )
    return changes


def line_changes(
    before: tuple[LineState, ...], now: tuple[LineState, ...], decimals: int
) -> list[str]:
    changes = []
    was_lines, now_lines = {line.id: line for line in before}, {line.id: line for line in now}
    for line_id in sorted(was_lines.keys() | now_lines.keys()):
        was, line = was_lines.get(line_id), now_lines.get(line_id)
        if line is None:
            changes.append(f"line '{was.name}' removed")
        elif was is None:
            changes.append(f"line '{line.name}' added (quantity {line.quantity.normalize()})")
        else:
            if other_product(was, line):
                changes.append(f"line '{was.name}' now holds '{line.name}'")
            if line.quantity != was.quantity:
                changes.append(
                    f"quantity of '{line.name}' {was.quantity.normalize()} → "
                    f"{line.quantity.normalize()}"
                )
            if None not in (was.price, line.price) and was.price != line.price:
                changes.append(
                    f"price of '{line.name}' {amount_text(was.price, decimals)} → "
                    f"{amount_text(line.price, decimals)}"
                )
    return changes


def other_product(was: LineState, line: LineState) -> bool:
    """Whether a line now holds another product (or, without one, another name)."""
    if was.product is not None and line.product is not None:
        return was.product != line.product or (
            line.product == (0, 0) and (was.sku, was.name) != (line.sku, line.name)
        )
    # Known only by the sales line: SKU and description (a line without a product keeps
    # the store's name, which a product-less line may show differently).
    return (was.sku, was.name) != (line.sku, line.name) and (
        was.sku != line.sku or line.product not in (None, (0, 0))
    )


def warning_text(known: Known, now: OrderState, changes: list[str]) -> str:
    """The sales order's change warning: what differs, and what to do about it."""
    since = "review" if known.reviewed else "import"
    when = f" ({now.modified_at:%Y-%m-%d %H:%M} UTC)" if now.modified_at else ""
    return f"Changed in the store after {since}{when}: {'; '.join(changes)}. {advice(known, now)}"


def advice(known: Known, now: OrderState) -> str:
    if known.status not in UNPOSTED:
        return (
            f"{known.number} is {known.status} and is not changed: put the order right in "
            "the store (a refund, a note to the customer), then mark the change reviewed."
        )
    if now.cancelled:
        return (
            f"Do not ship it: cancel {known.number} with Update from the store, or reopen "
            "the order in the store."
        )
    return (
        f"Check it before shipping: update {known.number} from the store, or mark the change "
        "reviewed to keep the sales order as it is."
    )


# What the connector knows


def known_orders(webstore_id: int, order_ids) -> dict[int, Known]:
    """The states of these webstore orders' sales orders, in a few queries."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            OrderLink.woo_order_id,
            SalesOrder.id,
            SalesOrder.number,
            SalesOrder.status,
            SalesOrder.imported_state,
            SalesOrder.reviewed_state,
            SalesOrder.store_state,
            SalesOrder.currency_decimals,
        )
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids))
    ).all()
    legacy = states_from_sales_orders([row[1] for row in rows if row.imported_state is None])
    credited = credited_amounts([row[1] for row in rows])
    known = {}
    for order_id, so_id, number, status, imported, reviewed, latest, decimals in rows:
        baseline = reviewed or imported
        known[order_id] = Known(
            sales_order_id=so_id,
            number=number,
            status=status,
            baseline=OrderState.from_json(baseline) if baseline else legacy[so_id],
            reviewed=reviewed is not None,
            latest=OrderState.from_json(latest) if latest else None,
            credited=credited.get(so_id, Decimal(0)),
            decimals=decimals,
        )
    return known


def credited_amounts(sales_order_ids) -> dict[int, Decimal]:
    if not sales_order_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(
                SalesCreditMemo.sales_order_id, sa.func.sum(SalesCreditMemo.amount_including_tax)
            )
            .where(SalesCreditMemo.sales_order_id.in_(sales_order_ids))
            .group_by(SalesCreditMemo.sales_order_id)
        ).all()
    )


def states_from_sales_orders(sales_order_ids) -> dict[int, OrderState]:
    """The imported state of sales orders made before states were kept, from what they say."""
    if not sales_order_ids:
        return {}
    orders = db.session.execute(
        sa.select(
            SalesOrder.id,
            SalesOrder.woo_status,
            SalesOrder.amount_including_tax,
            SalesOrder.refunded_amount,
            SalesOrder.customer_note,
            *(getattr(SalesOrder, name) for name in SHIP_TO),
        ).where(SalesOrder.id.in_(sales_order_ids))
    ).all()
    lines: dict[int, list[LineState]] = {so_id: [] for so_id in sales_order_ids}
    for so_id, line_id, quantity, sku, description in db.session.execute(
        sa.select(
            SalesLine.sales_order_id,
            SalesLine.woo_line_id,
            SalesLine.quantity,
            SalesLine.sku,
            SalesLine.description,
        )
        .where(SalesLine.sales_order_id.in_(sales_order_ids), SalesLine.line_type == LineType.ITEM)
        .order_by(SalesLine.line_no)
    ):
        lines[so_id].append(LineState(line_id, description, sku, quantity))
    return {
        so_id: OrderState(status, total, refunded, tuple(ship), note, tuple(lines[so_id]))
        for so_id, status, total, refunded, note, *ship in orders
    }


# Settling what a run met


def settle_changed(webstore_id: int, met: list[Met], known: dict[int, Known]) -> list[LogLine]:
    """Log each imported order as changed or skipped; keep the store's latest state, the
    warning, and, where the webstore says so, apply the change to an open sales order.

    The caller commits, together with the log lines.
    """
    apply = db.session.scalar(
        sa.select(Webstore.apply_store_changes).where(Webstore.id == webstore_id)
    )
    lines = []
    for store_order in met:
        was = known[store_order.id]
        now = store_order.state
        changes = differences(was.baseline, now, was.credited, was.decimals)
        new = was.latest is None or now != was.latest
        if not new:
            # The state last read (its modified time aside): its warning stands as it was.
            lines.append(skipped(store_order, skip_reason(was.number, was.status)))
        elif changes and apply and was.status == SalesOrderStatus.OPEN:
            lines.append(rebuild.apply_store_change(was, store_order, changes))
        else:
            record_latest(
                was.sales_order_id, now, warning_text(was, now, changes) if changes else None
            )
            if changes and now != (was.latest or was.baseline):
                lines.append(changed_line(store_order, was, changes))
            else:
                lines.append(skipped(store_order, skip_reason(was.number, was.status)))
        db.session.execute(
            sa.update(OrderLink)
            .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id == store_order.id)
            .values(woo_modified_at=now.modified_at, read_at=utcnow())
        )
    return lines


def changed_line(store_order: Met, known: Known, changes: list[str]) -> LogLine:
    return LogLine(
        store_order.id,
        store_order.number,
        Outcome.CHANGED,
        f"Changed since imported as {known.number}: {'; '.join(changes)}",
        sales_order_number=known.number,
    )


def record_latest(sales_order_id: int, now: OrderState, warning: str | None) -> None:
    values = {"store_state": now.as_json(), "change_warning": warning, "woo_status": now.status}
    if now.status != DELETED:
        values["woo_modified_at"] = now.modified_at
        values["refunded_amount"] = now.refunded
    db.session.execute(sa.update(SalesOrder).where(SalesOrder.id == sales_order_id).values(values))


def refresh_warning(sales_order_id: int) -> None:
    """Work the warning out again from the states kept (a refund was credited meanwhile)."""
    order = db.session.get(SalesOrder, sales_order_id)
    if order.store_state is None:
        return
    (was,) = known_orders(order.webstore_id, [order.woo_order_id]).values()
    now = OrderState.from_json(order.store_state)
    if was.credited > now.refunded:
        # The store refunded what was credited, whatever its state last read says.
        now = replace(now, refunded=was.credited)
        order.store_state = now.as_json()
    changes = differences(was.baseline, now, was.credited, was.decimals)
    order.change_warning = warning_text(was, now, changes) if changes else None


def mark_reviewed(order: SalesOrder, user_id: int | None) -> bool:
    """The store's latest state becomes the reviewed one: the same state never warns again.
    False where there was nothing to review."""
    if order.change_warning is None:
        return False
    latest = order.store_state or order.imported_state
    result = db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.change_warning == order.change_warning)
        .values(
            reviewed_state=latest,
            reviewed_at=utcnow(),
            reviewed_by_id=user_id,
            change_warning=None,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# Settling what a run read, on every path

# A read this close after the second a modified time names may have missed a change
# later in that second (stores stamp whole seconds; their clock and ours may differ a little).
SAME_SECOND = timedelta(seconds=5)


@dataclass(frozen=True)
class LastRead:
    """An imported order's modified time as the connector last read it, and when."""

    modified_at: datetime | None
    read_at: datetime | None
    imported_at: datetime

    def may_have_changed(self, modified: datetime | None, since: datetime | None) -> bool:
        """Whether the store's modified time now says the order may have changed since it
        was read; never for an order another run imported after this one (``since``)
        started: that one is "imported meanwhile"."""
        if since and self.imported_at >= since:
            return False
        if self.modified_at is None or modified is None:
            return True
        if modified != self.modified_at:
            return modified > self.modified_at
        return self.read_at is None or self.read_at - self.modified_at < SAME_SECOND


def last_reads(webstore_id: int, order_ids) -> dict[int, LastRead]:
    """How the connector last read each of these orders that it imported."""
    if not order_ids:
        return {}
    rows = db.session.execute(LAST_READS, links_params(webstore_id, order_ids))
    return {order_id: LastRead(*times) for order_id, *times in rows}


def split_listed(webstore_id: int, refs, since, importable=None) -> tuple[list[LogLine], list[int]]:
    """Of listed orders (id, status, modified time): skip lines for the imported ones that
    did not change since, with the reason every path gives, and the ids to read in full,
    new or changed. With ``importable``, a listing wider than the filters (every status):
    an order not imported yet is wanted only where it says so; one imported already is
    read whatever its status now."""
    read = last_reads(webstore_id, [r.id for r in refs])
    if importable is not None:
        refs = [r for r in refs if r.id in read or importable(r)]
    unchanged = [
        r.id
        for r in refs
        if r.id in read and not read[r.id].may_have_changed(r.date_modified, since)
    ]
    reasons = existing_links(webstore_id, unchanged, since)
    lines = [skipped(r, reasons[r.id]) for r in refs if r.id in reasons]
    return lines, [r.id for r in refs if r.id not in reasons]


def write_or_settle(
    writer, webstore_id: int, orders: list[WooOrder], fetched: int, settled=None
) -> None:
    """Import the new orders of a page; settle the imported ones that may have changed
    since they were read (found with the batch's links, ``BatchWriter.write``). With
    ``settled``, the listing page a retry of the run starts after, once all are."""
    since = writer.started_at

    def may_have_changed(order: WooOrder, link: tuple) -> bool:
        imported_at, _, _, modified_at, read_at = link
        return LastRead(modified_at, read_at, imported_at).may_have_changed(
            order.date_modified, since
        )

    aside = writer.write(orders, fetched, settled, set_aside=may_have_changed)
    if aside.orders:
        settle_met(
            writer, webstore_id, [Met.of(o) for o in aside.orders], aside.fetched, aside.settled
        )


def settle_met(writer, webstore_id: int, met: list[Met], fetched: int, settled=None) -> None:
    """Settle imported orders met again, as one transaction with their log lines."""
    known = known_orders(webstore_id, [m.id for m in met])
    met = [m for m in met if m.id in known]
    lines = settle_changed(webstore_id, met, known) if met else []
    if lines or fetched or settled:
        # The orders as read tell the staging view their status and times (portal.sync.seen).
        read = [m.order for m in met if m.order is not None]
        writer.log(lines, fetched=min(fetched, len(met)), orders=read, settled=settled)


def writeback_differences(before: OrderState, now: OrderState, decimals: int) -> list[str]:
    """What keeps a write-back from overwriting the store's order: its status, lines,
    quantities, prices or total differ from ``before`` (the address, the customer note and
    refunds are the store's to change and do not)."""
    return differences(
        before,
        replace(
            now,
            ship_to=before.ship_to,
            customer_note=before.customer_note,
            refunded=before.refunded,
        ),
        credited=Decimal(0),
        decimals=decimals,
    )
