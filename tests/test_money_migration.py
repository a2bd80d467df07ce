"""Migration 0019 widens the money columns of a database holding two-decimal data: every
value stays as it was, nothing that refers to a copied table is lost (SQLite copies them),
and existing sales orders and memos learn their currency's decimals."""

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from config import TestConfig
from portal import db
from tests.conftest import database_beside, make_database

MIGRATIONS = str(Path(__file__).parents[1] / "migrations")


def database_urls(tmp_path) -> list[str]:
    """SQLite always; PostgreSQL too where the suite runs on it (a database of its own)."""
    urls = [f"sqlite:///{tmp_path / 'migrate.db'}"]
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if test_url.startswith("postgresql"):
        urls.append(database_beside(test_url, "_migration"))
    return urls


def insert(connection, table_name: str, **values) -> int:
    """A row of the table as it is at this revision; required columns not given get a
    plain value of their type."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    plain = {
        sa.String: "",
        sa.Integer: 0,
        sa.Boolean: False,
        sa.Numeric: Decimal(0),
        sa.DateTime: datetime(2026, 1, 2, tzinfo=UTC),
        sa.Date: date(2026, 1, 2),
        sa.LargeBinary: b"x",
    }
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        if column.server_default is None:
            values[column.name] = next(v for t, v in plain.items() if isinstance(column.type, t))
    return connection.execute(table.insert().values(values).returning(table.c.id)).scalar_one()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0018(request, tmp_path):
    urls = {url.split(":")[0]: url for url in database_urls(tmp_path)}
    if request.param not in urls:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL to one")
    url = urls[request.param]
    if url.startswith("postgresql"):
        make_database(url, fresh=True)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0018")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_widening_keeps_every_two_decimal_value_and_every_row(database_at_0018):
    with db.engine.begin() as connection:
        customer = insert(connection, "customers", number="C1", name="Aiko")
        webstore = insert(connection, "webstores", code="JP", name="JP", base_url="http://x")
        item = insert(connection, "items", number="I1", description="Cup", unit_price="1979.67")
        orders = {
            currency: insert(
                connection,
                "sales_orders",
                number=f"SO-{currency}",
                webstore_id=webstore,
                customer_id=customer,
                status="open",
                currency=currency,
                amount="12345.67",
                amount_including_tax=total,
            )
            for currency, total in (("JPY", "15258.00"), ("USD", "43.25"), ("KWD", "44.33"))
        }
        insert(
            connection,
            "sales_lines",
            sales_order_id=orders["JPY"],
            line_no=1,
            line_type="item",
            item_id=item,
            description="Cup",
            quantity=3,
            unit_price="1979.67",
            line_discount="0.01",
            amount="5939.00",
        )
        insert(
            connection,
            "sales_order_coupons",
            sales_order_id=orders["USD"],
            code="X",
            discount="2.99",
        )
        insert(
            connection,
            "sales_credit_memos",
            number="CM1",
            webstore_id=webstore,
            sales_order_id=orders["KWD"],
            woo_order_id=1,
            woo_refund_id=2,
            currency="KWD",
            amount_including_tax="5.77",
        )

    upgrade(directory=MIGRATIONS)

    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT currency, amount, amount_including_tax, currency_decimals, vat_number "
                "FROM sales_orders ORDER BY currency"
            )
        ).all()
        line = connection.execute(
            sa.text("SELECT unit_price, amount, line_discount FROM sales_lines")
        ).one()
        coupon = connection.execute(
            sa.text("SELECT discount FROM sales_order_coupons")
        ).scalar_one()
        memo = connection.execute(
            sa.text("SELECT amount_including_tax, currency_decimals FROM sales_credit_memos")
        ).one()
        price = connection.execute(sa.text("SELECT unit_price FROM items")).scalar_one()
    assert [(c, Decimal(str(a)), Decimal(str(t)), d, v) for c, a, t, d, v in rows] == [
        ("JPY", Decimal("12345.67"), Decimal("15258.00"), 0, ""),
        ("KWD", Decimal("12345.67"), Decimal("44.33"), 3, ""),
        ("USD", Decimal("12345.67"), Decimal("43.25"), 2, ""),
    ]
    assert [Decimal(str(v)) for v in line] == [Decimal("1979.67"), Decimal("5939"), Decimal("0.01")]
    assert Decimal(str(coupon)) == Decimal("2.99")
    assert (Decimal(str(memo[0])), memo[1]) == (Decimal("5.77"), 3)
    assert Decimal(str(price)) == Decimal("1979.67")


def test_widened_columns_keep_a_dinar_amount_and_a_yen_unit_price_exactly(database_at_0018):
    upgrade(directory=MIGRATIONS)
    with db.engine.begin() as connection:
        customer = insert(connection, "customers", number="C1", name="Aiko")
        webstore = insert(connection, "webstores", code="KW", name="KW", base_url="http://x")
        order = insert(
            connection,
            "sales_orders",
            number="SO1",
            webstore_id=webstore,
            customer_id=customer,
            currency="KWD",
            status="open",
            amount_including_tax=Decimal("43.246"),
        )
        insert(
            connection,
            "sales_lines",
            sales_order_id=order,
            line_no=1,
            line_type="item",
            description="Cup",
            quantity=3,
            unit_price=Decimal("1979.667"),
            amount=Decimal("0.075"),
        )
    from portal.models import SalesLine, SalesOrder

    sales_order = db.session.get(SalesOrder, order)
    assert sales_order.amount_including_tax == Decimal("43.246")
    (line,) = db.session.scalars(sa.select(SalesLine))
    assert (line.unit_price, line.amount) == (Decimal("1979.667"), Decimal("0.075"))
