"""Failed log entries by day, for the Import Results chart

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:30:00

The chart counts each failed order once a day, from the log. Failures are a small part of a
log of millions of entries: a partial index on their time finds a month of them directly.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FAILED = sa.text("outcome = 'failed'")


def upgrade():
    op.create_index(
        "ix_sync_log_entries_failed_created",
        "sync_log_entries",
        ["created_at"],
        postgresql_where=FAILED,
        sqlite_where=FAILED,
    )


def downgrade():
    op.drop_index("ix_sync_log_entries_failed_created", table_name="sync_log_entries")
