"""Booked as an accountant would: payment and shipment methods, shipping agents, VAT codes,
a chart of accounts, exchange rates, the webstores' mappings, and posted documents

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 03:18:01

The ERP setup tables (``payment_methods``, ``shipment_methods``, ``shipping_agents``,
``vat_codes``, ``gl_accounts``, ``currency_exchange_rates``) and each webstore's mappings of
its gateways, shipping methods and tax rates to them. Sales orders carry the codes, the
exchange rate and amounts in the company's currency; sales and credit memo lines carry their
VAT codes (``vat_parts``) and, for charges, an account. Posting makes posted invoices and
credit memos (number series PSI and PCM) with their lines and VAT entries.

On SQLite the altered tables are copied (batch mode) with foreign keys off, as 0019 does:
copying ``webstores`` with them on would cascade its deletion to every row that names it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "currency_exchange_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starting_date", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_currency_exchange_rates")),
        sa.UniqueConstraint(
            "currency",
            "starting_date",
            name=op.f("uq_currency_exchange_rates_currency_starting_date"),
        ),
    )
    op.create_table(
        "gl_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "account_type",
            sa.Enum(
                "income_statement",
                "balance_sheet",
                name="accounttype",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gl_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_gl_accounts_number")),
    )
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
        sa.UniqueConstraint("code", name=op.f("uq_payment_methods_code")),
    )
    op.create_table(
        "shipment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_methods")),
        sa.UniqueConstraint("code", name=op.f("uq_shipment_methods_code")),
    )
    op.create_table(
        "shipping_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("tracking_url", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_agents")),
        sa.UniqueConstraint("code", name=op.f("uq_shipping_agents_code")),
    )
    op.create_table(
        "vat_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("description", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_vat_codes_code")),
    )
    op.create_table(
        "webstore_payment_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("payment_method_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_webstore_payment_mappings_payment_method_id_payment_methods"),
        ),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_webstore_payment_mappings_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webstore_payment_mappings")),
        sa.UniqueConstraint(
            "webstore_id",
            "gateway_id",
            name=op.f("uq_webstore_payment_mappings_webstore_id_gateway_id"),
        ),
    )
    with op.batch_alter_table("webstore_payment_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webstore_payment_mappings_payment_method_id"),
            ["payment_method_id"],
            unique=False,
        )

    op.create_table(
        "webstore_shipping_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("method_id", sa.String(length=100), nullable=False),
        sa.Column("instance_id", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("shipment_method_id", sa.Integer(), nullable=True),
        sa.Column("shipping_agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shipment_method_id"],
            ["shipment_methods.id"],
            name=op.f("fk_webstore_shipping_mappings_shipment_method_id_shipment_methods"),
        ),
        sa.ForeignKeyConstraint(
            ["shipping_agent_id"],
            ["shipping_agents.id"],
            name=op.f("fk_webstore_shipping_mappings_shipping_agent_id_shipping_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_webstore_shipping_mappings_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webstore_shipping_mappings")),
        sa.UniqueConstraint(
            "webstore_id",
            "method_id",
            "instance_id",
            name=op.f("uq_webstore_shipping_mappings_webstore_id_method_id_instance_id"),
        ),
    )
    with op.batch_alter_table("webstore_shipping_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webstore_shipping_mappings_shipment_method_id"),
            ["shipment_method_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_webstore_shipping_mappings_shipping_agent_id"),
            ["shipping_agent_id"],
            unique=False,
        )

    op.create_table(
        "webstore_tax_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("rate_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("vat_code_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vat_code_id"],
            ["vat_codes.id"],
            name=op.f("fk_webstore_tax_mappings_vat_code_id_vat_codes"),
        ),
        sa.ForeignKeyConstraint(
            ["webstore_id"],
            ["webstores.id"],
            name=op.f("fk_webstore_tax_mappings_webstore_id_webstores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webstore_tax_mappings")),
        sa.UniqueConstraint(
            "webstore_id", "rate_id", name=op.f("uq_webstore_tax_mappings_webstore_id_rate_id")
        ),
    )
    with op.batch_alter_table("webstore_tax_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webstore_tax_mappings_vat_code_id"), ["vat_code_id"], unique=False
        )

    create_posted_document(
        "posted_sales_invoices",
        [
            sa.Column("sales_order_id", sa.Integer(), nullable=False),
            sa.Column("payment_method_code", sa.String(length=10), nullable=False),
            sa.Column("shipment_method_code", sa.String(length=10), nullable=False),
            sa.Column("shipping_agent_code", sa.String(length=10), nullable=False),
            sa.Column("shipping_carrier", sa.String(length=50), nullable=False),
            sa.Column("tracking_number", sa.String(length=100), nullable=False),
        ],
        posts=("sales_order_id", "sales_orders"),
    )
    create_posted_document(
        "posted_credit_memos",
        [
            sa.Column("credit_memo_id", sa.Integer(), nullable=False),
            sa.Column("credit_memo_number", sa.String(length=20), nullable=False),
            sa.Column("woo_refund_id", sa.BigInteger(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
        ],
        posts=("credit_memo_id", "sales_credit_memos"),
        indexes=("credit_memo_number",),
    )
    create_posted_lines("posted_sales_invoice_lines", ("invoice_id", "posted_sales_invoices"))
    create_posted_lines("posted_credit_memo_lines", ("credit_memo_id", "posted_credit_memos"))

    op.create_table(
        "vat_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=16), nullable=False),
        sa.Column("document_no", sa.String(length=20), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("credit_memo_id", sa.Integer(), nullable=True),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("vat_date", sa.Date(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("vat_code", sa.String(length=20), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("currency_decimals", sa.SmallInteger(), nullable=False),
        sa.Column("base", sa.Numeric(precision=19, scale=4), nullable=False),
        sa.Column("amount", sa.Numeric(precision=19, scale=4), nullable=False),
        sa.Column("base_lcy", sa.Numeric(precision=19, scale=4), nullable=True),
        sa.Column("amount_lcy", sa.Numeric(precision=19, scale=4), nullable=True),
        sa.ForeignKeyConstraint(
            ["credit_memo_id"],
            ["posted_credit_memos.id"],
            name=op.f("fk_vat_entries_credit_memo_id_posted_credit_memos"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["posted_sales_invoices.id"],
            name=op.f("fk_vat_entries_invoice_id_posted_sales_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["webstore_id"], ["webstores.id"], name=op.f("fk_vat_entries_webstore_id_webstores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_entries")),
    )
    with op.batch_alter_table("vat_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vat_entries_credit_memo_id"), ["credit_memo_id"], unique=False
        )
        batch_op.create_index("ix_vat_entries_date_code", ["vat_date", "vat_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vat_entries_document_no"), ["document_no"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vat_entries_invoice_id"), ["invoice_id"], unique=False)

    with foreign_keys_off():
        with op.batch_alter_table("credit_memo_lines", schema=None) as batch_op:
            batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column("vat_code", sa.String(length=20), server_default="", nullable=False)
            )
            batch_op.add_column(sa.Column("vat_parts", sa.JSON(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f("fk_credit_memo_lines_account_id_gl_accounts"),
                "gl_accounts",
                ["account_id"],
                ["id"],
            )

        with op.batch_alter_table("sales_credit_memos", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=True)
            )
            batch_op.add_column(
                sa.Column("amount_lcy", sa.Numeric(precision=19, scale=4), nullable=True)
            )
            batch_op.add_column(
                sa.Column("tax_amount_lcy", sa.Numeric(precision=19, scale=4), nullable=True)
            )
            batch_op.add_column(
                sa.Column(
                    "amount_including_tax_lcy", sa.Numeric(precision=19, scale=4), nullable=True
                )
            )

        with op.batch_alter_table("sales_lines", schema=None) as batch_op:
            batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column("vat_code", sa.String(length=20), server_default="", nullable=False)
            )
            batch_op.add_column(sa.Column("vat_parts", sa.JSON(), nullable=True))
            batch_op.create_index(
                batch_op.f("ix_sales_lines_account_id"), ["account_id"], unique=False
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_sales_lines_account_id_gl_accounts"),
                "gl_accounts",
                ["account_id"],
                ["id"],
            )

        with op.batch_alter_table("sales_orders", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "payment_method_code", sa.String(length=10), server_default="", nullable=False
                )
            )
            batch_op.add_column(
                sa.Column(
                    "shipment_method_code", sa.String(length=10), server_default="", nullable=False
                )
            )
            batch_op.add_column(
                sa.Column(
                    "shipping_agent_code", sa.String(length=10), server_default="", nullable=False
                )
            )
            batch_op.add_column(
                sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=True)
            )
            batch_op.add_column(
                sa.Column("amount_lcy", sa.Numeric(precision=19, scale=4), nullable=True)
            )
            batch_op.add_column(
                sa.Column("tax_amount_lcy", sa.Numeric(precision=19, scale=4), nullable=True)
            )
            batch_op.add_column(
                sa.Column(
                    "amount_including_tax_lcy", sa.Numeric(precision=19, scale=4), nullable=True
                )
            )

        with op.batch_alter_table("webstores", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "require_mappings", sa.Boolean(), server_default=sa.false(), nullable=False
                )
            )
            batch_op.add_column(sa.Column("default_payment_method_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("untaxed_vat_code_id", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column("reverse_charge_vat_code_id", sa.Integer(), nullable=True)
            )
            batch_op.add_column(
                sa.Column(
                    "shipping_booking", sa.String(length=10), server_default="item", nullable=False
                )
            )
            batch_op.add_column(sa.Column("shipping_account_id", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column(
                    "fee_booking", sa.String(length=10), server_default="item", nullable=False
                )
            )
            batch_op.add_column(sa.Column("fee_item_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("fee_account_id", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column(
                    "negative_fee_booking",
                    sa.String(length=10),
                    server_default="discount",
                    nullable=False,
                )
            )
            batch_op.add_column(sa.Column("negative_fee_account_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_shipping_account_id_gl_accounts"),
                "gl_accounts",
                ["shipping_account_id"],
                ["id"],
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_default_payment_method_id_payment_methods"),
                "payment_methods",
                ["default_payment_method_id"],
                ["id"],
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_fee_item_id_items"), "items", ["fee_item_id"], ["id"]
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_negative_fee_account_id_gl_accounts"),
                "gl_accounts",
                ["negative_fee_account_id"],
                ["id"],
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_reverse_charge_vat_code_id_vat_codes"),
                "vat_codes",
                ["reverse_charge_vat_code_id"],
                ["id"],
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_fee_account_id_gl_accounts"),
                "gl_accounts",
                ["fee_account_id"],
                ["id"],
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_webstores_untaxed_vat_code_id_vat_codes"),
                "vat_codes",
                ["untaxed_vat_code_id"],
                ["id"],
            )
    op.bulk_insert(
        NUMBER_SERIES_TABLE,
        [
            {"code": "PSI", "prefix": "PSI", "digits": 5, "last_no": 0},
            {"code": "PCM", "prefix": "PCM", "digits": 5, "last_no": 0},
        ],
    )


def downgrade():
    op.execute("DELETE FROM number_series WHERE code IN ('PSI', 'PCM')")
    with foreign_keys_off():
        with op.batch_alter_table("webstores", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_untaxed_vat_code_id_vat_codes"), type_="foreignkey"
            )
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_fee_account_id_gl_accounts"), type_="foreignkey"
            )
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_reverse_charge_vat_code_id_vat_codes"), type_="foreignkey"
            )
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_negative_fee_account_id_gl_accounts"), type_="foreignkey"
            )
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_fee_item_id_items"), type_="foreignkey"
            )
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_default_payment_method_id_payment_methods"),
                type_="foreignkey",
            )
            batch_op.drop_constraint(
                batch_op.f("fk_webstores_shipping_account_id_gl_accounts"), type_="foreignkey"
            )
            batch_op.drop_column("negative_fee_account_id")
            batch_op.drop_column("negative_fee_booking")
            batch_op.drop_column("fee_account_id")
            batch_op.drop_column("fee_item_id")
            batch_op.drop_column("fee_booking")
            batch_op.drop_column("shipping_account_id")
            batch_op.drop_column("shipping_booking")
            batch_op.drop_column("reverse_charge_vat_code_id")
            batch_op.drop_column("untaxed_vat_code_id")
            batch_op.drop_column("default_payment_method_id")
            batch_op.drop_column("require_mappings")

        with op.batch_alter_table("sales_orders", schema=None) as batch_op:
            batch_op.drop_column("amount_including_tax_lcy")
            batch_op.drop_column("tax_amount_lcy")
            batch_op.drop_column("amount_lcy")
            batch_op.drop_column("exchange_rate")
            batch_op.drop_column("shipping_agent_code")
            batch_op.drop_column("shipment_method_code")
            batch_op.drop_column("payment_method_code")

        with op.batch_alter_table("sales_lines", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_sales_lines_account_id_gl_accounts"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f("ix_sales_lines_account_id"))
            batch_op.drop_column("vat_parts")
            batch_op.drop_column("vat_code")
            batch_op.drop_column("account_id")

        with op.batch_alter_table("sales_credit_memos", schema=None) as batch_op:
            batch_op.drop_column("amount_including_tax_lcy")
            batch_op.drop_column("tax_amount_lcy")
            batch_op.drop_column("amount_lcy")
            batch_op.drop_column("exchange_rate")

        with op.batch_alter_table("credit_memo_lines", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_credit_memo_lines_account_id_gl_accounts"), type_="foreignkey"
            )
            batch_op.drop_column("vat_parts")
            batch_op.drop_column("vat_code")
            batch_op.drop_column("account_id")

    with op.batch_alter_table("vat_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vat_entries_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_vat_entries_document_no"))
        batch_op.drop_index("ix_vat_entries_date_code")
        batch_op.drop_index(batch_op.f("ix_vat_entries_credit_memo_id"))

    op.drop_table("vat_entries")
    # Their indexes go with them.
    for table in (
        "posted_credit_memo_lines",
        "posted_sales_invoice_lines",
        "posted_credit_memos",
        "posted_sales_invoices",
    ):
        op.drop_table(table)
    with op.batch_alter_table("webstore_tax_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webstore_tax_mappings_vat_code_id"))

    op.drop_table("webstore_tax_mappings")
    with op.batch_alter_table("webstore_shipping_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webstore_shipping_mappings_shipping_agent_id"))
        batch_op.drop_index(batch_op.f("ix_webstore_shipping_mappings_shipment_method_id"))

    op.drop_table("webstore_shipping_mappings")
    with op.batch_alter_table("webstore_payment_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webstore_payment_mappings_payment_method_id"))

    op.drop_table("webstore_payment_mappings")
    op.drop_table("vat_codes")
    op.drop_table("shipping_agents")
    op.drop_table("shipment_methods")
    op.drop_table("payment_methods")
    op.drop_table("gl_accounts")
    op.drop_table("currency_exchange_rates")


# The columns of every posted document that are indexed, as its model says.
DOCUMENT_INDEXES = (
    "customer_id",
    "document_date",
    "external_document_no",
    "order_number",
    "webstore_id",
)


def create_posted_document(table: str, own: list, posts: tuple[str, str], indexes=()) -> None:
    """A posted document's table: its own columns, the ones every posted document has
    (``models.posted.PostedDocument``), and the document it posts, unique."""
    posted, posted_table = posts
    money = sa.Numeric(precision=19, scale=4)
    op.create_table(
        table,
        *own,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("webstore_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("customer_number", sa.String(length=20), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("vat_number", sa.String(length=50), nullable=False),
        sa.Column("order_number", sa.String(length=20), nullable=False),
        sa.Column("external_document_no", sa.String(length=35), nullable=False),
        sa.Column("woo_order_id", sa.BigInteger(), nullable=False),
        sa.Column("posting_date", sa.Date(), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("currency_decimals", sa.SmallInteger(), nullable=False),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("amount", money, nullable=False),
        sa.Column("tax_amount", money, nullable=False),
        sa.Column("amount_including_tax", money, nullable=False),
        sa.Column("amount_lcy", money, nullable=True),
        sa.Column("tax_amount_lcy", money, nullable=True),
        sa.Column("amount_including_tax_lcy", money, nullable=True),
        sa.Column("posted_by_id", sa.Integer(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        foreign_key(table, posted, posted_table),
        foreign_key(table, "customer_id", "customers"),
        foreign_key(table, "posted_by_id", "users", ondelete="SET NULL"),
        foreign_key(table, "webstore_id", "webstores"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(posted, name=op.f(f"uq_{table}_{posted}")),
        sa.UniqueConstraint("number", name=op.f(f"uq_{table}_number")),
    )
    for column in (*indexes, *DOCUMENT_INDEXES):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def create_posted_lines(table: str, document: tuple[str, str]) -> None:
    """A posted document's lines (``models.posted.PostedLine``)."""
    document_id, document_table = document
    money = sa.Numeric(precision=19, scale=4)
    op.create_table(
        table,
        sa.Column(document_id, sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("line_type", sa.String(length=16), nullable=False),
        sa.Column("item_number", sa.String(length=20), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=21, scale=6), nullable=False),
        sa.Column("line_discount", money, nullable=False),
        sa.Column("amount", money, nullable=False),
        sa.Column("tax_amount", money, nullable=False),
        sa.Column("vat_code", sa.String(length=20), nullable=False),
        sa.Column("vat_parts", sa.JSON(), nullable=True),
        foreign_key(table, document_id, document_table, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_{document_id}"), table, [document_id])


def foreign_key(table: str, column: str, referred: str, **options) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{referred}")
    return sa.ForeignKeyConstraint([column], [f"{referred}.id"], name=name, **options)


NUMBER_SERIES_TABLE = sa.table(
    "number_series",
    sa.column("code", sa.String),
    sa.column("prefix", sa.String),
    sa.column("digits", sa.Integer),
    sa.column("last_no", sa.BigInteger),
)


class foreign_keys_off:
    """SQLite's foreign keys off while tables are copied; nothing to do elsewhere (0019's)."""

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
