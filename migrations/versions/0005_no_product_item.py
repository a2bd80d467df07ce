"""The webstore's item for lines without a product, and non-inventory items

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 00:45:00

A real store keeps lines whose product was deleted, and lines added by hand in the order
screen, with ``product_id`` 0 and no SKU. They are booked on an item chosen in the
webstore's setup. The item type is a plain string column, so ``non_inventory`` needs no
change of its own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("no_product_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_webstores_no_product_item_id_items"),
            "items",
            ["no_product_item_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_webstores_no_product_item_id_items"), type_="foreignkey"
        )
        batch_op.drop_column("no_product_item_id")
