"""A run cut into slices: how many it has worked

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 05:00:00

``sync_runs.slices``: the slices of work a run has done. An automatic sync with more to
read than RUN_SLICE_SECONDS of work goes back to the queue, and the next slice goes on
from the watermark (``portal.sync.runs.pause``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("slices", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("slices")
