"""Webhook deliveries received, kept for good so that a replay does nothing

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 05:10:00

A delivery was a duplicate for 600 seconds only (a Redis key); a replay days later queued
its order again. Each signed order delivery is now a row, written before it is answered
2xx, unique per webstore and SHA-256 of the body (the part the signature covers). Rows are
small (about 150 bytes): a busy store's year of deliveries is some tens of megabytes.
"""

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_webhook_deliveries_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "webstore_id", "body_sha256", name=op.f("uq_webhook_deliveries_webstore_id_body_sha256")
        ),
    )


def downgrade():
    op.drop_table("webhook_deliveries")
