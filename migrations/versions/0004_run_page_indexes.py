"""Indexes for a run's page: its log by outcome in id order, sales orders by number to id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 17:30:00

Found by bench/pages.py (100,000 orders, 1,000,000 log entries, PostgreSQL 15):

- The run page filtered to one outcome (``run_id = ? AND outcome = ? AND id > ? ORDER BY
  id LIMIT 101``) walked the primary key and filtered with (run_id, outcome): 70 ms for a
  rare outcome of a big run. (run_id, outcome, id) is one range scan in id order, and serves
  whatever (run_id, outcome) served, so it replaces that index.
- The run page links each entry to its sales order by joining on the order's number. For
  that nested-loop lookup PostgreSQL chose the trigram GIN index on ``number`` (pg_trgm 1.6
  serves ``=`` too, and its cost for an unknown value is underestimated), about 0.85 ms a
  row since every number shares the trigrams of "SO000": 85 ms for 101 rows. (number, id)
  answers the join by an index-only scan, 0.3 ms for the page.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sync_log_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_log_entries_run_outcome_id", ["run_id", "outcome", "id"], unique=False
        )
        batch_op.drop_index("ix_sync_log_entries_run_outcome")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index("ix_sales_orders_number_id", ["number", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_orders_number_id")
    with op.batch_alter_table("sync_log_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_log_entries_run_outcome", ["run_id", "outcome"], unique=False
        )
        batch_op.drop_index("ix_sync_log_entries_run_outcome_id")
