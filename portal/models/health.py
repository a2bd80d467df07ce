"""What proves the connector healthy: every store order it has seen, the completeness audits
that account for each one, and the alerts sent while a webstore is failing."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_type, utcnow
from portal.models.erp import SalesOrder
from portal.models.sync import Trigger
from portal.models.users import User
from portal.models.webstores import Webstore


class StoreOrderState(enum.StrEnum):
    """Where a store order stands with the connector, as last met."""

    IMPORTED = "imported"  # it has a sales order
    SKIPPED = "skipped"  # met and left, for the reason given (a filter, posted, ...)
    FAILED = "failed"  # met and could not be imported: a person must act
    CHANGED = "changed"  # imported, then changed in the store
    MISSING = "missing"  # the store has it, the connector never met it (found by an audit)


class SeenVia(enum.StrEnum):
    LISTING = "listing"  # a run's listing or read by id
    WEBHOOK = "webhook"
    AUDIT = "audit"


class StoreOrder(Base):
    """A store order the connector has seen (the staging view, as Shopify's connector has its
    "Shopify Orders"): one row per webstore order, kept as it was last met."""

    __tablename__ = "store_orders"
    __table_args__ = (
        sa.UniqueConstraint("webstore_id", "woo_order_id"),
        # The page's filter by state, newest order first, a page at a time.
        sa.Index("ix_store_orders_webstore_state_order", "webstore_id", "state", "woo_order_id"),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    number: Mapped[str] = mapped_column(sa.String(40), default="")
    # The store's status and times as last seen (None where the way it was seen lacks them).
    status: Mapped[str] = mapped_column(sa.String(20), default="")
    order_date: Mapped[date | None] = mapped_column(sa.Date)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[StoreOrderState] = mapped_column(enum_type(StoreOrderState, 16))
    # Why it was skipped or failed, in the log's words.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    sales_order_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="SET NULL")
    )
    seen_via: Mapped[SeenVia] = mapped_column(enum_type(SeenVia, 10))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webstore: Mapped[Webstore] = relationship()
    sales_order: Mapped[SalesOrder | None] = relationship()


class AuditStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the store could not be asked: ``error`` says why


class Audit(Base):
    """A completeness audit: the store's orders of a window of days, each accounted for."""

    __tablename__ = "audits"
    __table_args__ = (sa.Index("ix_audits_webstore_started", "webstore_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    trigger: Mapped[Trigger] = mapped_column(enum_type(Trigger, 16))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # Days of the store's calendar, both included.
    window_from: Mapped[date] = mapped_column(sa.Date)
    window_to: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[AuditStatus] = mapped_column(
        enum_type(AuditStatus, 16), default=AuditStatus.RUNNING
    )
    error: Mapped[str | None] = mapped_column(sa.Text)
    # The store's orders in the window, and how each is accounted for.
    store_total: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    missing: Mapped[int] = mapped_column(default=0)
    # The store's counts per day and status: {"2026-12-01": {"processing": 12, ...}, ...}.
    by_day: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webstore: Mapped[Webstore] = relationship()
    requested_by: Mapped[User | None] = relationship()


class Alert(Base):
    """A condition that made a webstore failing, from when it was noticed until resolved:
    one message when it opens and one when it is resolved, never more."""

    __tablename__ = "alerts"
    __table_args__ = (
        # At most one open alert per webstore and condition.
        sa.Index(
            "ix_alerts_open_condition",
            "webstore_id",
            "condition",
            unique=True,
            postgresql_where=sa.text("resolved_at IS NULL"),
            sqlite_where=sa.text("resolved_at IS NULL"),
        ),
        sa.Index("ix_alerts_webstore_opened", "webstore_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    # What is wrong, by a key of the health rules ("sync_failing", "lag", ...).
    condition: Mapped[str] = mapped_column(sa.String(40))
    message: Mapped[str] = mapped_column(sa.Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the opening and the resolving message went out (None: not yet, or it failed:
    # ``delivery_error`` says why, and the next check tries again).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_error: Mapped[str | None] = mapped_column(sa.Text)

    webstore: Mapped[Webstore] = relationship()
