"""Order events: what happened to a sales order after import, for its trace."""

from portal import db
from portal.models import EventKind, OrderEvent


def record(
    sales_order_id: int,
    kind: EventKind,
    message: str,
    user_id: int | None = None,
    writeback_id: int | None = None,
) -> None:
    """Add the event to the session; the caller commits it with what it tells of."""
    db.session.add(
        OrderEvent(
            sales_order_id=sales_order_id,
            kind=kind,
            message=message,
            user_id=user_id,
            writeback_id=writeback_id,
        )
    )
