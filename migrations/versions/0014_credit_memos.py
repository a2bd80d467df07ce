"""Refunds become sales credit memos: memos, their lines, the CM series, refund runs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 05:40:00

A store refund of an imported order becomes a sales credit memo, once: (webstore, refund
id) is unique. Runs get a kind (orders or refunds); webstores a pull start date and a
watermark for refunds of their own, and the item a refund without lines is credited on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def upgrade():
    op.create_table(
        "sales_credit_memos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("sales_order_id", sa.Integer(), nullable=False),
        sa.Column("woo_order_id", sa.BigInteger(), nullable=False),
        sa.Column("woo_refund_id", sa.BigInteger(), nullable=False),
        sa.Column("status", enum("open", "posted", name="creditmemostatus"), nullable=False),
        sa.Column("memo_date", sa.Date(), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("amount_including_tax", sa.Numeric(14, 2), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sales_order_id"], ["sales_orders.id"],
            name=op.f("fk_sales_credit_memos_sales_order_id_sales_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_runs.id"],
            name=op.f("fk_sales_credit_memos_sync_run_id_sync_runs"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["webstore_id"], ["webstores.id"],
            name=op.f("fk_sales_credit_memos_webstore_id_webstores"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_credit_memos")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_credit_memos_number")),
        sa.UniqueConstraint(
            "webstore_id", "woo_refund_id",
            name=op.f("uq_sales_credit_memos_webstore_id_woo_refund_id"),
        ),
    )
    with op.batch_alter_table("sales_credit_memos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_credit_memos_sales_order_id"), ["sales_order_id"]
        )
        batch_op.create_index(batch_op.f("ix_sales_credit_memos_sync_run_id"), ["sync_run_id"])
        batch_op.create_index("ix_sales_credit_memos_status_date", ["status", "memo_date"])
    op.create_table(
        "credit_memo_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_memo_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column(
            "line_type", enum("item", "shipping", "fee", "amount", name="creditmemolinetype"),
            nullable=False,
        ),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 4), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("restocked", sa.Boolean(), nullable=True),
        sa.Column("woo_line_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["credit_memo_id"], ["sales_credit_memos.id"],
            name=op.f("fk_credit_memo_lines_credit_memo_id_sales_credit_memos"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_credit_memo_lines_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_memo_lines")),
    )
    with op.batch_alter_table("credit_memo_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_memo_lines_credit_memo_id"), ["credit_memo_id"]
        )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", enum("orders", "refunds", name="runkind"),
                      server_default="orders", nullable=False)
        )
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refunds_start_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("refunds_watermark", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("refund_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_webstores_refund_item_id_items"), "items", ["refund_item_id"], ["id"]
        )
    number_series = sa.table(
        "number_series",
        sa.column("code", sa.String),
        sa.column("prefix", sa.String),
        sa.column("digits", sa.Integer),
        sa.column("last_no", sa.BigInteger),
    )
    op.bulk_insert(number_series, [{"code": "CM", "prefix": "CM", "digits": 5, "last_no": 0}])


def downgrade():
    op.execute("DELETE FROM number_series WHERE code = 'CM'")
    with op.batch_alter_table("webstores", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_webstores_refund_item_id_items"), type_="foreignkey")
        batch_op.drop_column("refund_item_id")
        batch_op.drop_column("refunds_watermark")
        batch_op.drop_column("refunds_start_date")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("kind")
    op.drop_table("credit_memo_lines")
    op.drop_table("sales_credit_memos")
