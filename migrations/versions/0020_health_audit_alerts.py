"""A manager knows it is healthy: store orders seen, completeness audits, alerts

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:55:00

``store_orders`` keeps every store order the connector has seen (a run, a webhook, an
audit) as last met: imported, skipped, failed, changed, or missing (an audit found it in the
store and nowhere here). ``audits`` keeps each completeness audit's counts. ``alerts`` keeps
each condition that made a webstore failing, from opened to resolved, so that one message
goes out each way. Webstores say who hears of it and when. Orders that failed before this and
were never imported since are taken into store_orders, so that they wait for a person too;
a webstore's last webhook delivery is found by an index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

STATES = ("imported", "skipped", "failed", "changed", "missing")
SEEN_VIA = ("listing", "webhook", "audit")
TRIGGERS = ("manual", "automatic", "webhook", "retry", "command")
AUDIT_STATUSES = ("running", "succeeded", "failed")


def upgrade():
    op.create_table(
        "store_orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("woo_order_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=True),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "state",
            sa.Enum(*STATES, name="storeorderstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=True),
        sa.Column(
            "seen_via",
            sa.Enum(*SEEN_VIA, name="seenvia", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_store_orders_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_orders.id"],
            name=op.f("fk_store_orders_sales_order_id_sales_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_orders")),
        sa.UniqueConstraint(
            "webstore_id", "woo_order_id", name=op.f("uq_store_orders_webstore_id_woo_order_id")
        ),
    )
    op.create_index(
        "ix_store_orders_webstore_state_order",
        "store_orders",
        ["webstore_id", "state", "woo_order_id"],
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(*TRIGGERS, name="trigger", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("window_from", sa.Date(), nullable=False),
        sa.Column("window_to", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*AUDIT_STATUSES, name="auditstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("store_total", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("by_day", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_audits_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_audits_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
    )
    op.create_index("ix_audits_webstore_started", "audits", ["webstore_id", "started_at"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_alerts_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "ix_alerts_open_condition",
        "alerts",
        ["webstore_id", "condition"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
        sqlite_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index("ix_alerts_webstore_opened", "alerts", ["webstore_id", "opened_at"])
    op.create_index(
        "ix_webhook_deliveries_webstore_received",
        "webhook_deliveries",
        ["webstore_id", "received_at"],
    )
    op.execute(FAILED_ORDERS_WAITING)
    with op.batch_alter_table("webstores") as batch_op:
        batch_op.add_column(sa.Column("alert_emails", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("alert_webhook_url", sa.String(500), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("alert_failed_runs", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.add_column(
            sa.Column("alert_lag_minutes", sa.Integer(), nullable=False, server_default="120")
        )


# Orders whose last run failed them and that no run imported since wait for a person: the
# health counts them from store_orders, which runs keep from now on (portal/sync/seen.py).
FAILED_ORDERS_WAITING = """
INSERT INTO store_orders (webstore_id, woo_order_id, number, status, state, reason, seen_via,
                          first_seen_at, last_seen_at)
SELECT e.webstore_id, e.woo_order_id, e.woo_order_number, '', 'failed', e.message, 'listing',
       met.first_at, e.created_at
FROM sync_log_entries e
JOIN (SELECT webstore_id, woo_order_id, max(id) AS last_id, min(created_at) AS first_at
      FROM sync_log_entries WHERE woo_order_id > 0 AND message NOT LIKE 'refund %'
      GROUP BY webstore_id, woo_order_id) met ON met.last_id = e.id
WHERE e.outcome = 'failed'
  AND NOT EXISTS (SELECT 1 FROM order_links l
                  WHERE l.webstore_id = e.webstore_id AND l.woo_order_id = e.woo_order_id)
"""


def downgrade():
    with op.batch_alter_table("webstores") as batch_op:
        for name in ("alert_lag_minutes", "alert_failed_runs", "alert_webhook_url", "alert_emails"):
            batch_op.drop_column(name)
    op.drop_index("ix_webhook_deliveries_webstore_received", "webhook_deliveries")
    op.drop_table("alerts")
    op.drop_table("audits")
    op.drop_table("store_orders")
