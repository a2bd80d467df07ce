"""After import, one truth: the store order's three states, order events, cancelled orders

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:40:00

A sales order keeps what it was built from, the store's latest state and the last state a
person reviewed (JSON); reviews, updates from the store, cancellations and write-back
attempts are order events. Webstores may apply store changes to open orders at once, and
remember how the store keeps its orders (HPOS or legacy posts).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

EVENT_KINDS = (
    "reviewed",
    "updated",
    "cancelled",
    "writeback_sent",
    "writeback_refused",
    "writeback_store_down",
    "writeback_failed",
    "writeback_error",
    "writeback_requeued",
)


def upgrade():
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*EVENT_KINDS, name="eventkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("writeback_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sales_order_id"],
            ["sales_orders.id"],
            name=op.f("fk_order_events_sales_order_id_sales_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_order_events_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["writeback_id"],
            ["store_writebacks.id"],
            name=op.f("fk_order_events_writeback_id_store_writebacks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_sales_order_id_id", ["sales_order_id", "id"])
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported_state", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("store_state", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_state", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sales_orders_reviewed_by_id_users"),
            "users",
            ["reviewed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "apply_store_changes", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("order_storage", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("order_storage_checked_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        for column in ("order_storage_checked_at", "order_storage", "apply_store_changes"):
            batch_op.drop_column(column)
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sales_orders_reviewed_by_id_users"), type_="foreignkey"
        )
        for column in (
            "reviewed_by_id",
            "reviewed_at",
            "reviewed_state",
            "store_state",
            "imported_state",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_sales_order_id_id")
    op.drop_table("order_events")
