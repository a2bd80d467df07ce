"""Migration 0019 widens the money columns of a database holding two-decimal data: every
value stays as it was, nothing that refers to a copied table is lost (SQLite copies them),
and existing sales orders and memos learn their currency's decimals."""

from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import upgrade

from portal import db
from tests.conftest import MIGRATIONS, insert_row


def test_widening_keeps_every_two_decimal_value_and_every_row(database_at_0018):
    with db.engine.begin() as connection:
        customer = insert_row(connection, "customers", number="C1", name="Aiko")
        webstore = insert_row(connection, "webstores", code="JP", name="JP", base_url="http://x")
        item = insert_row(connection, "items", number="I1", description="Cup", unit_price="1979.67")
        orders = {
            currency: insert_row(
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
        insert_row(
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
        insert_row(
            connection,
            "sales_order_coupons",
            sales_order_id=orders["USD"],
            code="X",
            discount="2.99",
        )
        insert_row(
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
        customer = insert_row(connection, "customers", number="C1", name="Aiko")
        webstore = insert_row(connection, "webstores", code="KW", name="KW", base_url="http://x")
        order = insert_row(
            connection,
            "sales_orders",
            number="SO1",
            webstore_id=webstore,
            customer_id=customer,
            currency="KWD",
            status="open",
            amount_including_tax=Decimal("43.246"),
        )
        insert_row(
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
