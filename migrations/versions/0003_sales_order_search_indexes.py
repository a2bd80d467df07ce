"""Indexes for the sales order list: sort by amount, search by part of a name or number

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:50:00

On PostgreSQL, trigram (pg_trgm) GIN indexes let a search for any part of an order
number, a name or an email use an index at 100,000 orders. They are PostgreSQL's own and
not in the models; migrations/env.py leaves indexes named ix_trgm_* out of comparisons.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = [
    ("sales_orders", "number"),
    ("sales_orders", "external_document_no"),
    ("sales_orders", "sell_to_name"),
    ("sales_orders", "sell_to_email"),
    ("customers", "name"),
    ("customers", "email"),
]


def upgrade():
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_orders_amount_including_tax"), ["amount_including_tax"]
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, column in TRIGRAM_COLUMNS:
            op.execute(
                f"CREATE INDEX ix_trgm_{table}_{column} ON {table} "
                f"USING gin ({column} gin_trgm_ops)"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_trgm_{table}_{column}")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_orders_amount_including_tax"))
