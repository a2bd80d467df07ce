"""Every currency to its last unit: amounts to 4 decimals, unit prices to 6, VAT numbers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:30:00

Money columns were numeric(14, 2): a dinar store's 43.246 was kept as 43.25. They become
numeric(19, 4) (unit prices numeric(21, 6)); widening keeps every value as it is. A sales
order and a credit memo say how many decimals their currency has (the store's: 0 for yen,
3 for dinar; existing ones take their currency's by ISO 4217). A webstore keeps the store's
currency, decimals and separators as its system status says them, and when its decimals
changed; a sales order and a customer keep a business customer's VAT number.

On SQLite the tables are copied (Alembic's batch mode) with foreign keys off, as its
ALTER TABLE cannot change a type and dropping a referenced table would otherwise delete
the rows that refer to it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OLD = sa.Numeric(14, 2)
AMOUNT = sa.Numeric(19, 4)
UNIT_PRICE = sa.Numeric(21, 6)

MONEY_COLUMNS = {
    "items": {"unit_price": AMOUNT},
    "sales_orders": dict.fromkeys(
        ("amount", "tax_amount", "amount_including_tax", "discount_amount", "refunded_amount"),
        AMOUNT,
    ),
    "sales_lines": {
        "unit_price": UNIT_PRICE,
        "line_discount": AMOUNT,
        "amount": AMOUNT,
        "tax_amount": AMOUNT,
    },
    "sales_order_coupons": {"discount": AMOUNT, "discount_tax": AMOUNT},
    "sales_order_refunds": {"amount": AMOUNT},
    "sales_credit_memos": dict.fromkeys(("amount", "tax_amount", "amount_including_tax"), AMOUNT),
    "credit_memo_lines": {"amount": AMOUNT, "tax_amount": AMOUNT},
}

# ISO 4217 minor units other than 2 (as portal.sync.money.MINOR_UNITS, when this was written).
NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND".split()


def upgrade():
    with foreign_keys_off():
        for table, columns in MONEY_COLUMNS.items():
            with op.batch_alter_table(table) as batch_op:
                for name, type_ in columns.items():
                    batch_op.alter_column(name, type_=type_, existing_type=OLD)
    for table in ("sales_orders", "sales_credit_memos"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("currency_decimals", sa.SmallInteger(), nullable=False, server_default="2")
            )
        for codes, places in ((NO_DECIMALS, 0), (THREE_DECIMALS, 3)):
            op.execute(
                sa.text(
                    f"UPDATE {table} SET currency_decimals = :places WHERE currency IN :codes"
                ).bindparams(sa.bindparam("codes", expanding=True), places=places, codes=codes)
            )
    for table in ("sales_orders", "customers"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("vat_number", sa.String(50), nullable=False, server_default="")
            )
    with op.batch_alter_table("webstores") as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(3), nullable=True))
        batch_op.add_column(sa.Column("price_decimals", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("thousand_separator", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("decimal_separator", sa.String(8), nullable=True))
        batch_op.add_column(sa.Column("previous_price_decimals", sa.SmallInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("price_decimals_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("webstores") as batch_op:
        for name in (
            "price_decimals_changed_at",
            "previous_price_decimals",
            "decimal_separator",
            "thousand_separator",
            "price_decimals",
            "currency",
        ):
            batch_op.drop_column(name)
    for table in ("customers", "sales_orders"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("vat_number")
    for table in ("sales_credit_memos", "sales_orders"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("currency_decimals")
    # Back to two decimals: a third or fourth one is rounded away.
    with foreign_keys_off():
        for table, columns in MONEY_COLUMNS.items():
            with op.batch_alter_table(table) as batch_op:
                for name, type_ in columns.items():
                    batch_op.alter_column(name, type_=OLD, existing_type=type_)


class foreign_keys_off:
    """SQLite's foreign keys off while tables are copied; nothing to do elsewhere."""

    def __enter__(self):
        self.sqlite = op.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            self.commit_pending()
            op.execute("PRAGMA foreign_keys = OFF")

    def __exit__(self, *exc):
        if self.sqlite:
            self.commit_pending()
            op.execute("PRAGMA foreign_keys = ON")

    @staticmethod
    def commit_pending():
        # The pragma is ignored inside a transaction: end the one the migrations opened.
        connection = op.get_bind().connection.dbapi_connection
        if connection.in_transaction:
            connection.commit()
