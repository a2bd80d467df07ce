"""What a run writes in its activity log, and the one authority on why an order is skipped.

Manual imports, automatic sync and webhooks all settle an order through these words, so a
posted order reads "posted: SO00012 is posted" whichever path met it.
"""

from dataclasses import dataclass

from portal.models import Outcome, SalesOrderStatus


@dataclass
class LogLine:
    order_id: int
    order_number: str
    outcome: Outcome
    message: str = ""
    sales_order_number: str | None = None
    customers_created: str = ""
    items_created: str = ""


def skip_reason(number: str, status: SalesOrderStatus) -> str:
    """Why an order that has a sales order is not imported again."""
    if status == SalesOrderStatus.POSTED:
        return f"posted: {number} is posted"
    if status == SalesOrderStatus.ARCHIVED:
        return f"archived: {number} is archived"
    return f"already imported as {number}"


def link_reasons(rows, since) -> dict[int, str]:
    """Skip reasons from (order id, imported at, sales order number, status) rows, for a run
    started ``since``: a link made after that was made by another run meanwhile."""
    reasons = {}
    for order_id, imported_at, number, status in rows:
        if since and imported_at >= since:
            reasons[order_id] = f"imported meanwhile as {number}"
        else:
            reasons[order_id] = skip_reason(number, status)
    return reasons


def failed(order, message: str) -> LogLine:
    return LogLine(order.id, getattr(order, "number", str(order.id)), Outcome.FAILED, message)


def skipped(order, message: str) -> LogLine:
    return LogLine(order.id, getattr(order, "number", str(order.id)), Outcome.SKIPPED, message)


def invalid_line(error) -> LogLine:
    """An order the store sent that cannot be read (OrderDataError names field and value)."""
    return LogLine(
        order_id=int(error.order_id) if str(error.order_id).isdigit() else 0,
        order_number=str(error.order_id),
        outcome=Outcome.FAILED,
        message=f"This order cannot be read: {error}. Correct that value of the order in the "
        "store, then retry.",
    )
