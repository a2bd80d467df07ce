"""What a run writes in its activity log, and the one authority on why an order is skipped.

Manual imports, automatic sync and webhooks all settle an order through these words, so a
posted order reads "posted: SO00012 is posted" whichever path met it.
"""

from dataclasses import dataclass

import sqlalchemy as sa

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

    def row(self, run_id: int, webstore_id: int, now) -> dict:
        """The line as a ``SyncLogEntry``'s columns."""
        return {
            "run_id": run_id,
            "webstore_id": webstore_id,
            "woo_order_id": self.order_id,
            "woo_order_number": self.order_number[:40],
            "outcome": self.outcome,
            "message": self.message,
            "sales_order_number": self.sales_order_number,
            "customers_created": self.customers_created,
            "items_created": self.items_created,
            "created_at": now,
        }


# Each kind of skip reason: how its message starts, and how a run's summary names it.
SKIP_KINDS = {
    "already imported": ("already imported as ", "Imported before, not changed since"),
    "posted": ("posted: ", "Sales order posted"),
    "archived": ("archived: ", "Sales order archived"),
    "cancelled": ("cancelled: ", "Sales order cancelled with the store order"),
    "imported meanwhile": ("imported meanwhile as ", "Imported meanwhile by another run"),
    "deleted": ("no longer in the store", "Deleted in the store while listed"),
}
OTHER_SKIP = "other"


def skip_reason(number: str, status: SalesOrderStatus) -> str:
    """Why an order that has a sales order is not imported again."""
    if status == SalesOrderStatus.POSTED:
        return f"{SKIP_KINDS['posted'][0]}{number} is posted"
    if status == SalesOrderStatus.ARCHIVED:
        return f"{SKIP_KINDS['archived'][0]}{number} is archived"
    if status == SalesOrderStatus.CANCELLED:
        return f"{SKIP_KINDS['cancelled'][0]}{number} is cancelled"
    return f"{SKIP_KINDS['already imported'][0]}{number}"


def link_reasons(rows, since) -> dict[int, str]:
    """Skip reasons from (order id, imported at, sales order number, status) rows, for a run
    started ``since``: a link made after that was made by another run meanwhile."""
    reasons = {}
    for order_id, imported_at, number, status in rows:
        if since and imported_at >= since:
            reasons[order_id] = f"{SKIP_KINDS['imported meanwhile'][0]}{number}"
        else:
            reasons[order_id] = skip_reason(number, status)
    return reasons


def deleted_while_listing() -> str:
    return f"{SKIP_KINDS['deleted'][0]} (deleted while listing)"


def skip_kind(message_column):
    """SQL: the kind of skip reason of a log entry's message, one of SKIP_KINDS or OTHER_SKIP."""
    return sa.case(
        *(
            (message_column.startswith(start, autoescape=True), kind)
            for kind, (start, _) in SKIP_KINDS.items()
        ),
        else_=OTHER_SKIP,
    )


def skip_kind_label(kind: str) -> str:
    return SKIP_KINDS[kind][1] if kind in SKIP_KINDS else "Other reasons"


def failed(order, message: str) -> LogLine:
    return LogLine(order.id, getattr(order, "number", str(order.id)), Outcome.FAILED, message)


def imported(order, number: str, notes, customers: list[str], items: list[str]) -> LogLine:
    """An order imported as sales order ``number``, the customers and items its import
    created, and what else its entry says (``Plan.notes``)."""
    return LogLine(
        order_id=order.id,
        order_number=order.number,
        outcome=Outcome.IMPORTED,
        message="; ".join([f"Imported as {number}", *notes]),
        sales_order_number=number,
        customers_created=", ".join(customers),
        items_created=", ".join(items),
    )


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
