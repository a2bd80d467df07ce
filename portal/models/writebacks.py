"""What the ERP tells the store back: a sales order's event sets its webstore order's status."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_type, utcnow
from portal.models.erp import SalesOrder
from portal.models.webstores import Webstore


class WritebackState(enum.StrEnum):
    PENDING = "pending"  # to send, now or at ``next_attempt_at``
    SENDING = "sending"  # a worker has it until ``next_attempt_at`` (its lease)
    SENT = "sent"
    FAILED = "failed"  # the store refused, or it stopped answering too long: ``reason`` says


class StoreWriteback(Base):
    """One update of a webstore order, made when its sales order was posted (or released,
    archived, as the webstore's setup says). The row is the truth about it: an RQ job sends
    it, and sending it again never adds a second note (the note's id is kept once made)."""

    __tablename__ = "store_writebacks"
    __table_args__ = (
        # One write-back per sales order and event: posting twice cannot queue two.
        sa.UniqueConstraint("sales_order_id", "event"),
        sa.Index("ix_store_writebacks_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="CASCADE"), index=True
    )
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    event: Mapped[str] = mapped_column(sa.String(20))  # "post", "release", "archive"
    # The store status to set, and the order note to add (to the customer, or private).
    status_to: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text)
    note_to_customer: Mapped[bool] = mapped_column(default=True)
    state: Mapped[WritebackState] = mapped_column(
        enum_type(WritebackState, 16), default=WritebackState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # What the store has of it: set as each part is done, so a second try does only the rest.
    status_set: Mapped[bool] = mapped_column(default=False)
    woo_note_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sales_order: Mapped[SalesOrder] = relationship()
    webstore: Mapped[Webstore] = relationship()
