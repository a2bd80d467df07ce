"""Indexes to search by company: the orders list, the customers list, the header search

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 05:00:00

The searches now match the company as well (a business customer is known by it). Each is
an OR over several columns, which PostgreSQL answers from trigram (pg_trgm) GIN indexes
only when every column has one: sales_orders.sell_to_company and customers.company get
theirs, as the other searched columns did in 0003 and 0007.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = [("sales_orders", "sell_to_company"), ("customers", "company")]


def upgrade():
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
