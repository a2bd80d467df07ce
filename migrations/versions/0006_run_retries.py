"""A run the store stopped is tried again: its attempt, when the next is due, its progress;
and when an imported order's state was last read

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:20:00

``retry_at`` is set on a failed run whose store stopped answering, and cleared when the
scheduler starts the next attempt; ``pages_settled`` lets that attempt continue from the
listing page the failed one reached. The scheduler looks for due retries every minute:
an index on the few rows that have one.

``order_links.read_at``: a store stamps modified times to the second, so an order read
within the second its modified time names may change again in that second unseen; such an
order is read again in full next time and compared.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("pages_settled", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("order_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_sync_runs_retry_at",
        "sync_runs",
        ["retry_at"],
        postgresql_where=sa.text("retry_at IS NOT NULL"),
        sqlite_where=sa.text("retry_at IS NOT NULL"),
    )


def downgrade():
    with op.batch_alter_table("order_links", schema=None) as batch_op:
        batch_op.drop_column("read_at")
    op.drop_index("ix_sync_runs_retry_at", table_name="sync_runs")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("pages_settled")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("attempt")
