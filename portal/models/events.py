"""What happened to a sales order after its import, besides the runs that met it.

A person reviewed a store change, the sales order was updated from the store or cancelled
with it, a write-back was sent, refused or put off: each is a row, so that the order's
trace can tell the whole story in time order. Append-only.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_type, utcnow
from portal.models.users import User


class EventKind(enum.StrEnum):
    REVIEWED = "reviewed"  # a person looked at the store's change
    UPDATED = "updated"  # rebuilt from the store's current order
    CANCELLED = "cancelled"  # cancelled with its store order
    WRITEBACK_SENT = "writeback_sent"
    WRITEBACK_REFUSED = "writeback_refused"  # the store's order differs from the reviewed one
    WRITEBACK_STORE_DOWN = "writeback_store_down"  # put off while the store did not answer
    WRITEBACK_FAILED = "writeback_failed"  # the store refused it
    WRITEBACK_ERROR = "writeback_error"  # put off after an unexpected error of ours
    WRITEBACK_REQUEUED = "writeback_requeued"  # a person asked to send it again


class OrderEvent(Base):
    __tablename__ = "order_events"
    __table_args__ = (sa.Index("ix_order_events_sales_order_id_id", "sales_order_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="CASCADE")
    )
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, 24))
    # The person who did it; None for the connector itself (a sync, a write-back job).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    writeback_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("store_writebacks.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
