"""What a run learnt of the store's capacity: the next starts there

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 02:00:00

``webstores.store_concurrency``: how many requests at once the store took best when a run
last found out (``portal.woo.limit.AdaptiveLimit``); None until one did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webstores") as batch:
        batch.add_column(sa.Column("store_concurrency", sa.SmallInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table("webstores") as batch:
        batch.drop_column("store_concurrency")
