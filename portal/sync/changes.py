"""Orders that changed in the store after import: noticed and logged, never imported again.

A cancelled, refunded or edited order keeps its sales order; the run logs it as
``changed`` with what changed, and the sales order carries a warning until someone marks
it reviewed.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import LineType, OrderLink, Outcome, SalesLine, SalesOrder
from portal.sync.writer import LogLine
from portal.woo.orders import WooOrder


@dataclass
class Imported:
    """What the connector knows of an imported order."""

    sales_order_id: int
    number: str
    woo_status: str
    total: Decimal
    refunded: Decimal
    modified_at: datetime | None
    quantities: dict[int, Decimal]


def imported_orders(webstore_id: int, order_ids) -> dict[int, Imported]:
    """The imported state of these webstore orders, in two queries."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            OrderLink.woo_order_id,
            SalesOrder.id,
            SalesOrder.number,
            SalesOrder.woo_status,
            SalesOrder.amount_including_tax,
            SalesOrder.refunded_amount,
            OrderLink.woo_modified_at,
        )
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids))
    ).all()
    known = {row[0]: Imported(row[1], row[2], row[3], row[4], row[5], row[6], {}) for row in rows}
    by_sales_order = {imported.sales_order_id: imported for imported in known.values()}
    if by_sales_order:
        lines = db.session.execute(
            sa.select(SalesLine.sales_order_id, SalesLine.woo_line_id, SalesLine.quantity).where(
                SalesLine.sales_order_id.in_(by_sales_order),
                SalesLine.line_type == LineType.ITEM,
            )
        )
        for sales_order_id, line_id, quantity in lines:
            by_sales_order[sales_order_id].quantities[line_id] = quantity
    return known


def differences(order: WooOrder, imported: Imported) -> list[str]:
    """What changed in the store since the import, in words."""
    changes = []
    if order.status != imported.woo_status:
        changes.append(f"status {imported.woo_status} → {order.status}")
    if order.total != imported.total:
        changes.append(f"total {imported.total} → {order.total}")
    if order.refunded_total != imported.refunded:
        changes.append(f"refunded {imported.refunded} → {order.refunded_total}")
    now = {line.id: Decimal(line.quantity) for line in order.line_items}
    for line_id in sorted(now.keys() | imported.quantities.keys()):
        before, after = imported.quantities.get(line_id), now.get(line_id)
        if before != after:
            name = next((li.name for li in order.line_items if li.id == line_id), "a line")
            if after is None:
                changes.append(f"line {line_id} removed")
            elif before is None:
                changes.append(f"line '{name}' added (quantity {after})")
            else:
                changes.append(f"quantity of '{name}' {before.normalize()} → {after}")
    return changes


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
            lines.append(
                LogLine(
                    order.id,
                    order.number,
                    Outcome.SKIPPED,
                    f"already imported as {imported.number}",
                )
            )
        db.session.execute(
            sa.update(SalesOrder).where(SalesOrder.id == imported.sales_order_id).values(values)
        )
        db.session.execute(
            sa.update(OrderLink)
            .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id == order.id)
            .values(woo_modified_at=order.date_modified)
        )
    return lines
