"""The store hears back: write-backs of sales order events, their setup, tracking numbers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 05:10:00

``store_writebacks`` holds each update of a webstore order (its status, and an order note
with the sales order number and tracking) as a row of its own, sent by an RQ job and tried
again with backoff. Webstores set up before get write-back off: their stores have not been
written to so far, and a person turns it on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "store_writebacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("woo_order_id", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("status_to", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_to_customer", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "sending", "sent", "failed", name="writebackstate", native_enum=False,
                    length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_set", sa.Boolean(), nullable=False),
        sa.Column("woo_note_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["sales_order_id"], ["sales_orders.id"],
            name=op.f("fk_store_writebacks_sales_order_id_sales_orders"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webstore_id"], ["webstores.id"],
            name=op.f("fk_store_writebacks_webstore_id_webstores"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_writebacks")),
        sa.UniqueConstraint(
            "sales_order_id", "event", name=op.f("uq_store_writebacks_sales_order_id_event")
        ),
    )
    with op.batch_alter_table("store_writebacks", schema=None) as batch_op:
        batch_op.create_index("ix_store_writebacks_due", ["state", "next_attempt_at"])
        batch_op.create_index(
            batch_op.f("ix_store_writebacks_sales_order_id"), ["sales_order_id"]
        )
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("writeback_enabled", sa.Boolean(), server_default=sa.false(),
                      nullable=False)
        )
        batch_op.add_column(
            sa.Column("status_on_post", sa.String(length=40), server_default="completed",
                      nullable=False)
        )
        batch_op.add_column(
            sa.Column("status_on_release", sa.String(length=40), server_default="",
                      nullable=False)
        )
        batch_op.add_column(
            sa.Column("status_on_archive", sa.String(length=40), server_default="",
                      nullable=False)
        )
        batch_op.add_column(
            sa.Column("notes_to_customer", sa.Boolean(), server_default=sa.true(),
                      nullable=False)
        )
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shipping_carrier", sa.String(length=50), server_default="",
                      nullable=False)
        )
        batch_op.add_column(
            sa.Column("tracking_number", sa.String(length=100), server_default="",
                      nullable=False)
        )


def downgrade():
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_column("tracking_number")
        batch_op.drop_column("shipping_carrier")
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        for column in ("notes_to_customer", "status_on_archive", "status_on_release",
                       "status_on_post", "writeback_enabled"):
            batch_op.drop_column(column)
    op.drop_table("store_writebacks")
