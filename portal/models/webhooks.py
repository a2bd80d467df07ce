"""Webhook deliveries received, kept for good so that a replay of one does nothing."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, utcnow


class WebhookDelivery(Base):
    """A signed order delivery, recorded before it is answered 2xx.

    Keyed by webstore and the SHA-256 of the body: the body is all the signature covers.
    WooCommerce's delivery id (``X-WC-Webhook-Delivery-ID``) is kept to be named in the log,
    but it is no key: it is unsigned (a replay can carry any), and it is a hash of the
    webhook's id and the current second, shared by every delivery of that second.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("webstore_id", "body_sha256"),
        # A webstore's last delivery, for its sync health, without reading them all.
        sa.Index("ix_webhook_deliveries_webstore_received", "webstore_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    delivery_id: Mapped[str] = mapped_column(sa.String(64))
    order_id: Mapped[int] = mapped_column(sa.BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
