"""Orders that changed in the store after import: noticed and logged, never imported again.

The one place that decides what an imported order's new state means, whichever path met
it (automatic sync, a manual import, an ``order.updated`` webhook): unchanged, it is
skipped with the reason every path gives (``log.skip_reason``); changed, the run logs it
as ``changed`` with what changed (status, total, refunds, quantities, a product replaced
on a line, lines added or removed, the shipping address, the customer note), and the sales
order carries a warning until someone marks it reviewed.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    LineType,
    OrderLink,
    Outcome,
    SalesLine,
    SalesOrder,
    SalesOrderStatus,
)
from portal.models.base import utcnow
from portal.sync.log import LogLine, skip_reason, skipped
from portal.sync.writer import existing_links
from portal.woo.orders import WooAddress, WooOrder

SHIP_TO = (
    "ship_to_name",
    "ship_to_company",
    "ship_to_address",
    "ship_to_address_2",
    "ship_to_city",
    "ship_to_county",
    "ship_to_post_code",
    "ship_to_country",
)


@dataclass(frozen=True)
class LineState:
    quantity: Decimal
    sku: str
    description: str


@dataclass
class Imported:
    """What the connector knows of an imported order."""

    sales_order_id: int
    number: str
    status: SalesOrderStatus
    woo_status: str
    total: Decimal
    refunded: Decimal
    modified_at: datetime | None
    ship_to: tuple[str, ...]
    customer_note: str
    lines: dict[int, LineState] = field(default_factory=dict)


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
    rows = db.session.execute(
        sa.select(
            OrderLink.woo_order_id,
            OrderLink.woo_modified_at,
            OrderLink.read_at,
            OrderLink.imported_at,
        ).where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids))
    )
    return {order_id: LastRead(*times) for order_id, *times in rows}


def imported_orders(webstore_id: int, order_ids) -> dict[int, Imported]:
    """The imported state of these webstore orders, in two queries."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            OrderLink.woo_order_id,
            SalesOrder.id,
            SalesOrder.number,
            SalesOrder.status,
            SalesOrder.woo_status,
            SalesOrder.amount_including_tax,
            SalesOrder.refunded_amount,
            OrderLink.woo_modified_at,
            SalesOrder.customer_note,
            *(getattr(SalesOrder, name) for name in SHIP_TO),
        )
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids))
    ).all()
    known = {
        row[0]: Imported(*row[1:8], ship_to=tuple(row[9:]), customer_note=row[8]) for row in rows
    }
    by_sales_order = {imported.sales_order_id: imported for imported in known.values()}
    if by_sales_order:
        lines = db.session.execute(
            sa.select(
                SalesLine.sales_order_id,
                SalesLine.woo_line_id,
                SalesLine.quantity,
                SalesLine.sku,
                SalesLine.description,
            ).where(
                SalesLine.sales_order_id.in_(by_sales_order),
                SalesLine.line_type == LineType.ITEM,
            )
        )
        for sales_order_id, line_id, quantity, sku, description in lines:
            by_sales_order[sales_order_id].lines[line_id] = LineState(quantity, sku, description)
    return known


def differences(order: WooOrder, imported: Imported) -> list[str]:
    """What changed in the store since the import, in words."""
    changes = []
    if order.status != imported.woo_status:
        changes.append(f"status {imported.woo_status} → {order.status}")
    changes += line_changes(order, imported.lines)
    if ship_to(order.shipping) != imported.ship_to:
        changes.append(f"shipping address → {describe_address(order.shipping)}")
    if order.customer_note != imported.customer_note:
        changes.append(
            f"customer note → {order.customer_note!r}"
            if order.customer_note
            else "customer note removed"
        )
    if order.refunded_total != imported.refunded:
        changes.append(f"refunded {imported.refunded} → {order.refunded_total}")
    if order.total != imported.total:
        changes.append(f"total {imported.total} → {order.total}")
    return changes


def line_changes(order: WooOrder, before: dict[int, LineState]) -> list[str]:
    changes = []
    now = {line.id: line for line in order.line_items}
    for line_id in sorted(now.keys() | before.keys()):
        was, line = before.get(line_id), now.get(line_id)
        if line is None:
            changes.append(f"line '{was.description}' removed")
        elif was is None:
            changes.append(f"line '{line.name}' added (quantity {line.quantity})")
        else:
            if (line.sku[:100], line.name[:200]) != (was.sku, was.description) and (
                line.sku[:100] != was.sku or line.has_product
            ):
                changes.append(f"line '{was.description}' now holds '{line.name}'")
            if Decimal(line.quantity) != was.quantity:
                changes.append(
                    f"quantity of '{line.name}' {was.quantity.normalize()} → {line.quantity}"
                )
    return changes


def ship_to(address: WooAddress) -> tuple[str, ...]:
    """An address as the sales order keeps it (writer: ship_to_* columns)."""
    return (
        (address.full_name or address.company)[:200],
        address.company[:200],
        address.address_1[:200],
        address.address_2[:200],
        address.city[:100],
        address.state[:100],
        address.postcode[:20],
        address.country[:2],
    )


def describe_address(address: WooAddress) -> str:
    parts = (address.full_name, address.address_1, address.postcode, address.city, address.country)
    return ", ".join(part for part in parts if part)


def settle_changed(
    webstore_id: int, orders: list[WooOrder], known: dict[int, Imported]
) -> list[LogLine]:
    """Log each imported order as changed or skipped, and record what the store now says.

    The caller commits, together with the log lines.
    """
    lines = []
    for order in orders:
        imported = known[order.id]
        changes = differences(order, imported)
        values = {"woo_status": order.status[:20], "woo_modified_at": order.date_modified}
        if changes:
            text = "; ".join(changes)
            values["change_warning"] = (
                f"Changed in the store after import ({order.date_modified:%Y-%m-%d %H:%M} UTC): "
                f"{text}. Check the sales order, then mark it reviewed."
            )
            lines.append(
                LogLine(
                    order.id,
                    order.number,
                    Outcome.CHANGED,
                    f"Changed since imported as {imported.number}: {text}",
                    sales_order_number=imported.number,
                )
            )
        else:
            reason = skip_reason(imported.number, imported.status)
            lines.append(LogLine(order.id, order.number, Outcome.SKIPPED, reason))
        db.session.execute(
            sa.update(SalesOrder).where(SalesOrder.id == imported.sales_order_id).values(values)
        )
        db.session.execute(
            sa.update(OrderLink)
            .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id == order.id)
            .values(woo_modified_at=order.date_modified, read_at=utcnow())
        )
    return lines


# Settling what a run read, on every path


def split_listed(webstore_id: int, refs, since) -> tuple[list[LogLine], list[int]]:
    """Of listed orders (id, status, modified time): skip lines for the imported ones that
    did not change since, with the reason every path gives, and the ids to read in full,
    new or changed."""
    read = last_reads(webstore_id, [r.id for r in refs])
    unchanged = [
        r.id
        for r in refs
        if r.id in read and not read[r.id].may_have_changed(r.date_modified, since)
    ]
    reasons = existing_links(webstore_id, unchanged, since)
    lines = [skipped(r, reasons[r.id]) for r in refs if r.id in reasons]
    return lines, [r.id for r in refs if r.id not in reasons]


def write_or_settle(writer, webstore_id: int, orders: list[WooOrder], fetched: int) -> None:
    """Import the new orders of a page; log the imported ones that changed since."""
    read = last_reads(webstore_id, [o.id for o in orders])
    since = writer.started_at
    changed = [
        o for o in orders if o.id in read and read[o.id].may_have_changed(o.date_modified, since)
    ]
    if changed:
        known = imported_orders(webstore_id, [o.id for o in changed])
        counted = min(fetched, len(changed))
        writer.log(settle_changed(webstore_id, changed, known), fetched=counted)  # commits
        fetched -= counted
    writer.write([o for o in orders if o not in changed], fetched=fetched)
