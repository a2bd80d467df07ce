"""At most one queued or running automatic run per webstore

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE_AUTOMATIC = sa.text("trigger = 'automatic' AND status IN ('queued', 'running')")


def upgrade():
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            "uq_sync_runs_one_active_automatic",
            ["webstore_id"],
            unique=True,
            postgresql_where=ACTIVE_AUTOMATIC,
            sqlite_where=ACTIVE_AUTOMATIC,
        )


def downgrade():
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index("uq_sync_runs_one_active_automatic")
