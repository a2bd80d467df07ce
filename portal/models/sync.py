"""What imports did: which webstore orders became which sales orders, and every run's log."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, UTCDateTime, enum_type, utcnow
from portal.models.erp import SalesOrder
from portal.models.users import User
from portal.models.webstores import Webstore


class OrderLink(Base):
    """The single truth of "already imported".

    The unique (webstore, woo order id) key decides which of two racing imports of one
    order wins. Deleting the sales order deletes the link, so the order can come again.
    """

    __tablename__ = "order_links"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "woo_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    woo_order_number: Mapped[str] = mapped_column(sa.String(40))
    sales_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="CASCADE"), unique=True
    )
    # The store's modified time when last read, to notice an order changed since; and when
    # that was (a store stamps whole seconds: a read within the second it names may have
    # missed a change later in that second).
    woo_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sales_order: Mapped[SalesOrder] = relationship()


class Trigger(enum.StrEnum):
    """What started a run. Stored as a plain string (no CHECK): a new value needs no migration."""

    MANUAL = "manual"  # a person, on Import Webstore Orders or Refunds
    AUTOMATIC = "automatic"  # the scheduler, or a person's Sync now
    WEBHOOK = "webhook"
    RETRY = "retry"  # a person retrying a run's failed orders
    # ``flask import-orders``, or ``flask sync-webstore`` (its filters are incremental): a
    # sync from the command line advances the watermark as an automatic run does, and holds
    # the webstore as one does (portal.sync.schedule.active_sync_run).
    COMMAND = "command"


class RunKind(enum.StrEnum):
    ORDERS = "orders"  # webstore orders become sales orders
    REFUNDS = "refunds"  # their refunds become sales credit memos


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (RunStatus.SUCCEEDED, RunStatus.PARTIAL, RunStatus.FAILED)


class SyncRun(Base):
    """One import, manual or automatic: the row is the truth about its progress."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        sa.Index("ix_sync_runs_webstore_created", "webstore_id", "created_at"),
        sa.Index("ix_sync_runs_status_trigger", "status", "trigger"),
        sa.Index(
            "ix_sync_runs_retry_at",
            "retry_at",
            postgresql_where=sa.text("retry_at IS NOT NULL"),
            sqlite_where=sa.text("retry_at IS NOT NULL"),
        ),
        # At most one automatic run per webstore is queued or running: two schedulers (or
        # a slow minute) racing to start one get a unique-key error, not a second run. A
        # command-line sync is checked for in code instead (schedule.active_sync_run).
        sa.Index(
            "uq_sync_runs_one_active_automatic",
            "webstore_id",
            unique=True,
            postgresql_where=sa.text("trigger = 'automatic' AND status IN ('queued', 'running')"),
            sqlite_where=sa.text("trigger = 'automatic' AND status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    trigger: Mapped[Trigger] = mapped_column(enum_type(Trigger, 16))
    kind: Mapped[RunKind] = mapped_column(
        enum_type(RunKind, 16), default=RunKind.ORDERS, server_default=RunKind.ORDERS.value
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    retry_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sync_runs.id", ondelete="SET NULL")
    )
    # The effective filters, after the manual ones were merged over the setup.
    filters: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[RunStatus] = mapped_column(enum_type(RunStatus, 16), default=RunStatus.QUEUED)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    store_total: Mapped[int | None]
    fetched: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched as the run goes, so that a run whose worker died can be told apart.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A run that stopped because the store stopped answering is tried again: which attempt
    # this is, when the next is due, and how many pages of its listing it settled.
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pages_settled: Mapped[int] = mapped_column(default=0, server_default="0")
    # Slices of work done: a run with more to read goes back to the queue between them
    # (RUN_SLICE_SECONDS), as "queued" again, and the next slice goes on from its watermark.
    slices: Mapped[int] = mapped_column(default=0, server_default="0")
    # How many orders were skipped for each kind of reason ({"posted": 12, ...}), counted
    # once when the run ended; None before then.
    skip_reasons: Mapped[dict | None] = mapped_column(sa.JSON)

    webstore: Mapped[Webstore] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def settled(self) -> int:
        return self.imported + self.skipped + self.failed + self.changed

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    SKIPPED = "skipped"
    FAILED = "failed"
    CHANGED = "changed"


class SyncLogEntry(Base):
    """What happened to one webstore order in one run. Append-only."""

    __tablename__ = "sync_log_entries"
    __table_args__ = (
        sa.Index("ix_sync_log_entries_run_id_id", "run_id", "id"),
        # A run's entries of one outcome, in id order (the run page's outcome filter).
        sa.Index("ix_sync_log_entries_run_outcome_id", "run_id", "outcome", "id"),
        sa.Index("ix_sync_log_entries_webstore_order", "webstore_id", "woo_order_id"),
        # The Import Results chart counts failed orders per day: failures are few.
        sa.Index(
            "ix_sync_log_entries_failed_created",
            "created_at",
            postgresql_where=sa.text("outcome = 'failed'"),
            sqlite_where=sa.text("outcome = 'failed'"),
        ),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("sync_runs.id", ondelete="CASCADE"))
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    woo_order_number: Mapped[str] = mapped_column(sa.String(40), default="")
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome, 16))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    sales_order_number: Mapped[str | None] = mapped_column(sa.String(20))
    # Numbers of the customer and items this order created, comma-separated.
    customers_created: Mapped[str] = mapped_column(sa.String(200), default="")
    items_created: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
