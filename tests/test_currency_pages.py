"""Amounts as people read them: every page, download and store setting in the record's own
currency decimals: 15,258 JPY, 1,234.50 USD, 43.246 KWD."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count as counter

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    CreditMemoLine,
    CreditMemoLineType,
    Customer,
    Item,
    LineType,
    OrderLink,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    Webstore,
)

_numbers = counter(1)


def make_order(webstore, currency: str, decimals: int, total: str, **fields) -> SalesOrder:
    """A sales order and its link, as an import in that currency leaves them."""
    n = next(_numbers)
    customer = fields.pop("customer", None) or Customer(number=f"C{n:05d}", name="Ada Lovelace")
    order = SalesOrder(
        number=f"SO{n:05d}",
        webstore_id=webstore.id,
        customer=customer,
        order_date=date(2026, 3, 1),
        ordered_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        currency=currency,
        currency_decimals=decimals,
        external_document_no=str(7000 + n),
        woo_order_id=7000 + n,
        sell_to_name="Ada Lovelace",
        amount=Decimal(total),
        amount_including_tax=Decimal(total),
        **fields,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(
        OrderLink(
            webstore_id=webstore.id,
            woo_order_id=order.woo_order_id,
            woo_order_number=order.external_document_no,
            sales_order_id=order.id,
        )
    )
    db.session.commit()
    return order


def add_line(order, line_type, quantity: str, unit_price: str, amount: str, item=None):
    line = SalesLine(
        sales_order_id=order.id,
        line_no=10 * (len(order.lines) + 1),
        line_type=line_type,
        item=item,
        description=f"{line_type} line",
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        amount=Decimal(amount),
    )
    db.session.add(line)
    db.session.commit()
    db.session.refresh(order)
    return line


def yen_order(webstore, **fields) -> SalesOrder:
    """15,258 yen: three mugs of 1,979.667 yen (5,939 yen), and 9,319 yen of shipping."""
    order = make_order(webstore, "JPY", 0, "15258", **fields)
    add_line(order, LineType.ITEM, "3", "1979.667", "5939")
    add_line(order, LineType.SHIPPING, "1", "9319", "9319")
    return order


def make_memo(order, amount: str, number: str = "CM00001") -> SalesCreditMemo:
    memo = SalesCreditMemo(
        number=number,
        webstore_id=order.webstore_id,
        sales_order_id=order.id,
        woo_order_id=order.woo_order_id,
        woo_refund_id=500 + order.id,
        memo_date=date(2026, 3, 2),
        refunded_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        currency=order.currency,
        currency_decimals=order.currency_decimals,
        amount=Decimal(amount),
        amount_including_tax=Decimal(amount),
        lines=[
            CreditMemoLine(
                line_no=10,
                line_type=CreditMemoLineType.AMOUNT,
                description="Refund",
                amount=Decimal(amount),
            )
        ],
    )
    db.session.add(memo)
    db.session.commit()
    return memo


def cells(html: str) -> list[str]:
    """The text of every table cell, in order."""
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", html, re.S)
    ]


def read_csv(response) -> list[dict]:
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
def dinar_store():
    """A store in Kuwaiti dinar, 3 decimals, whose money a shop manager may change."""
    from sandbox.process import SandboxProcess

    with SandboxProcess(orders=1, currency="KWD") as store:
        yield store


@pytest.fixture
def dinar_webstore(webstore, dinar_store):
    """The webstore, pointed at the dinar store; its money as the store starts with it."""
    dinar_store.set_money(currency="KWD", decimals=3, thousand_separator=",", decimal_separator=".")
    webstore.base_url = dinar_store.base_url
    webstore.consumer_key = dinar_store.consumer_key
    webstore.consumer_secret = dinar_store.consumer_secret
    db.session.commit()
    return webstore


# Sales orders


def test_the_order_list_shows_each_total_in_its_currencys_decimals(signed_in_viewer, webstore):
    make_order(webstore, "JPY", 0, "15258")
    make_order(webstore, "USD", 2, "1234.5")
    make_order(webstore, "KWD", 3, "43.246")

    html = signed_in_viewer.get("/?sort=-amount").text

    assert [c for c in cells(html) if c[-3:] in ("JPY", "USD", "KWD")] == [
        "15,258 JPY",
        "1,234.50 USD",
        "43.246 KWD",
    ]


def test_a_yen_order_shows_its_lines_and_totals_in_whole_yen_and_its_unit_price_as_kept(
    signed_in_viewer, webstore
):
    order = yen_order(webstore)

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    lines = html[html.index('id="lines-title"') : html.index('id="charges-title"')]
    assert cells(lines)[2:] == ["3", "1,979.667", "0", "5,939", "0"]
    charges = html[html.index('id="charges-title"') : html.index('id="totals-title"')]
    assert cells(charges)[3:] == ["9,319", "0"]
    totals = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html[html.index('id="totals-title"') :])
    assert totals[:5] == [
        ("Items", "5,939 JPY"),
        ("Charges", "9,319 JPY"),
        ("Amount excl. tax", "15,258 JPY"),
        ("Tax", "0 JPY"),
        ("<strong>Total incl. tax</strong>", "<strong>15,258 JPY</strong>"),
    ]
    assert "15,258.00" not in html


def test_a_dinar_order_shows_three_decimals(signed_in_viewer, webstore):
    order = make_order(webstore, "KWD", 3, "43.246")
    add_line(order, LineType.ITEM, "2", "21.623", "43.246")

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    lines = html[html.index('id="lines-title"') : html.index('id="charges-title"')]
    assert cells(lines)[2:] == ["2", "21.623", "0.000", "43.246", "0.000"]
    assert "<dd><strong>43.246 KWD</strong></dd>" in html


def test_a_dollar_order_keeps_its_cents(signed_in_viewer, webstore):
    order = make_order(webstore, "USD", 2, "1234.5")

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert "<dd><strong>1,234.50 USD</strong></dd>" in html


def test_the_order_page_shows_the_business_customers_vat_number(signed_in_viewer, webstore):
    order = make_order(webstore, "EUR", 2, "10", vat_number="DE<123456789>")

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert '<dt>VAT number</dt><dd id="vat-number">DE&lt;123456789&gt;</dd>' in html


def test_an_order_without_a_vat_number_shows_none(signed_in_viewer, webstore):
    order = make_order(webstore, "EUR", 2, "10")

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert "VAT number" not in html


def test_the_order_pages_credit_memos_are_in_its_decimals(signed_in_viewer, webstore):
    order = yen_order(webstore)
    make_memo(order, "1000")

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    memos = html[html.index('id="credit-memos"') :]
    assert '<td data-label="Incl. tax" class="num">1,000</td>' in memos


# Credit memos


def test_a_credit_memo_shows_its_amounts_in_its_currencys_decimals(signed_in_viewer, webstore):
    memo = make_memo(make_order(webstore, "KWD", 3, "43.246"), "43.246")

    html = signed_in_viewer.get(f"/credit-memos/{memo.id}").text

    assert '<td data-label="Amount" class="num">43.246</td>' in html
    assert "<strong>43.246 KWD</strong>" in html


def test_the_credit_memo_list_shows_each_memo_in_its_decimals(signed_in_viewer, webstore):
    make_memo(make_order(webstore, "JPY", 0, "15258"), "15258", "CM00001")
    make_memo(make_order(webstore, "KWD", 3, "43.246"), "43.246", "CM00002")

    html = signed_in_viewer.get("/credit-memos").text

    assert [c for c in cells(html) if c[-3:] in ("JPY", "KWD")] == ["43.246 KWD", "15,258 JPY"]


def test_the_credit_memos_download_has_plain_amounts_in_their_decimals(signed_in_viewer, webstore):
    make_memo(make_order(webstore, "JPY", 0, "15258"), "15258", "CM00001")
    make_memo(make_order(webstore, "KWD", 3, "43.246"), "43.246", "CM00002")
    make_memo(make_order(webstore, "USD", 2, "1234.5"), "1234.5", "CM00003")

    rows = read_csv(signed_in_viewer.get("/credit-memos/export.csv"))

    assert [
        (r["credit_memo"], r["currency"], r["amount"], r["tax_amount"], r["amount_including_tax"])
        for r in rows
    ] == [
        ("CM00003", "USD", "1234.50", "0.00", "1234.50"),
        ("CM00002", "KWD", "43.246", "0.000", "43.246"),
        ("CM00001", "JPY", "15258", "0", "15258"),
    ]


# Customers, search and trace


def test_the_customer_page_shows_orders_in_their_decimals_and_the_vat_number(
    signed_in_viewer, webstore
):
    customer = Customer(number="C09001", name="Nakamura KK", vat_number="JP1234567890123")
    make_order(webstore, "JPY", 0, "15258", customer=customer)
    make_order(webstore, "KWD", 3, "43.246", customer=customer)

    html = signed_in_viewer.get(f"/customers/{customer.id}").text

    assert '<dt>VAT number</dt><dd id="vat-number">JP1234567890123</dd>' in html
    orders = html[html.index('id="customer-orders"') :]
    assert sorted(c for c in cells(orders) if c[-3:] in ("JPY", "KWD")) == [
        "15,258 JPY",
        "43.246 KWD",
    ]


def test_the_header_search_shows_each_order_in_its_decimals(signed_in_viewer, webstore):
    make_order(webstore, "JPY", 0, "15258", sell_to_company="Kamome")
    make_order(webstore, "KWD", 3, "43.246", sell_to_company="Kamome")

    html = signed_in_viewer.get("/search?q=kamome").text

    assert '<span class="nowrap">15,258 JPY</span>' in html
    assert '<span class="nowrap">43.246 KWD</span>' in html


def test_the_trace_shows_the_order_and_its_credit_memo_in_their_decimals(
    signed_in_viewer, webstore
):
    order = yen_order(webstore)
    make_memo(order, "1000")

    html = signed_in_viewer.get(f"/orders/trace/{webstore.code}/{order.woo_order_id}").text

    assert '<small class="muted">15,258 JPY</small>' in html
    assert ", 15,258 JPY" in html
    assert f"For store refund {500 + order.id} of 1,000 JPY, refunded" in html


# Items


def test_an_items_price_shows_cents_and_any_further_decimal_it_keeps(signed_in_viewer):
    db.session.add_all(
        [
            Item(number="I00001", description="Mug", unit_price=Decimal("1980")),
            Item(number="I00002", description="Cup", unit_price=Decimal("1979.667")),
        ]
    )
    db.session.commit()

    html = signed_in_viewer.get("/items").text

    assert [c for c in cells(html) if re.fullmatch(r"[\d,]+\.\d+", c)] == [
        "1,980.00",
        "1,979.667",
    ]


def test_an_items_sales_lines_are_in_their_orders_currency(signed_in_viewer, webstore):
    mug = Item(number="I00001", description="Mug")
    order = make_order(webstore, "JPY", 0, "5939")
    add_line(order, LineType.ITEM, "3", "1979.667", "5939", item=mug)

    html = signed_in_viewer.get(f"/items/{mug.id}").text

    assert '<td class="num">1,979.667 JPY</td>' in html
    assert '<td class="num">5,939 JPY</td>' in html


def item_form(unit_price: str) -> dict:
    return {
        "description": "Mug",
        "sku": "",
        "item_type": "inventory",
        "base_unit_of_measure": "PCS",
        "unit_price": unit_price,
    }


def test_an_item_price_is_kept_to_four_decimals_as_typed(signed_in_staff):
    signed_in_staff.post("/items/new", item_form("12.3456"))

    assert db.session.scalar(sa.select(Item.unit_price)) == Decimal("12.3456")


def test_an_item_price_with_more_decimals_is_refused_not_rounded(signed_in_staff):
    response = signed_in_staff.post("/items/new", item_form("12.34567"))

    assert response.status_code == 422
    assert (
        '<small class="field-error" id="unit_price-error">The unit price has more decimals '
        "than the ERP keeps (4): give it with 4 at most, so that nothing is rounded.</small>"
    ) in response.text
    assert db.session.scalar(sa.select(sa.func.count(Item.id))) == 0


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "1e20"])
def test_an_item_price_that_is_no_amount_is_refused_inline(signed_in_staff, typed):
    response = signed_in_staff.post("/items/new", item_form(typed))

    assert response.status_code == 422
    assert 'id="unit_price-error"' in response.text


def test_the_item_form_shows_the_price_as_kept(signed_in_staff):
    item = Item(number="I00001", description="Mug", unit_price=Decimal("1979.667"))
    db.session.add(item)
    db.session.commit()

    html = signed_in_staff.get(f"/items/{item.id}/edit").text

    assert re.search(r'name="unit_price"[^>]*value="1979.667"', html)


# The store's money, on the webstore pages


def test_test_connection_shows_the_stores_decimals_and_separators(signed_in_admin, dinar_webstore):
    response = signed_in_admin.post(
        f"/setup/webstores/{dinar_webstore.id}/test-connection", {}, htmx=True
    )

    assert '<dt>Currency</dt><dd>KWD, 3 decimals (thousands ",", decimals ".")</dd>' in (
        response.text
    )


def test_test_connection_escapes_what_the_store_says_of_its_money(
    signed_in_admin, dinar_webstore, dinar_store
):
    dinar_store.set_money(thousand_separator="<i>", decimal_separator="")

    response = signed_in_admin.post(
        f"/setup/webstores/{dinar_webstore.id}/test-connection", {}, htmx=True
    )

    assert (
        "<dt>Currency</dt><dd>KWD, 3 decimals (thousands "
        '"&lt;i&gt;", decimals none)</dd>' in response.text
    )


def test_the_webstore_pages_show_the_stores_money_once_tested(signed_in_admin, dinar_webstore):
    webstore = dinar_webstore
    signed_in_admin.post(f"/setup/webstores/{webstore.id}/test-connection", {}, htmx=True)

    listed = signed_in_admin.get("/setup/").text
    edit = signed_in_admin.get(f"/setup/webstores/{webstore.id}").text

    assert '<small class="muted store-money">KWD, 3 decimals</small>' in listed
    assert '<p id="store-money">Currency: KWD, 3 decimals (thousands ",", decimals ".")' in edit
    assert "number of decimals changed" not in listed + edit


def test_a_webstore_not_yet_tested_shows_no_money(signed_in_admin, webstore):
    listed = signed_in_admin.get("/setup/").text
    edit = signed_in_admin.get(f"/setup/webstores/{webstore.id}").text

    assert "store-money" not in listed + edit


def test_a_change_of_the_stores_decimals_is_told_on_the_webstore_pages(
    signed_in_admin, dinar_webstore, dinar_store
):
    webstore = dinar_webstore
    dinar_store.set_money(decimals=2)
    signed_in_admin.post(f"/setup/webstores/{webstore.id}/test-connection", {}, htmx=True)
    dinar_store.set_money(decimals=3)  # the shop manager changes it in the store
    signed_in_admin.post(f"/setup/webstores/{webstore.id}/test-connection", {}, htmx=True)
    db.session.expire_all()
    noticed = db.session.get(Webstore, webstore.id).price_decimals_changed_at
    notice = (
        f"The store's number of decimals changed from 2 to 3 (noticed "
        f"{noticed.strftime('%Y-%m-%d %H:%M')} UTC): sales orders imported before keep 2, "
        "those imported from now on have 3."
    )

    listed = signed_in_admin.get("/setup/").text
    edit = signed_in_admin.get(f"/setup/webstores/{webstore.id}").text

    assert f"<strong>MAIN:</strong> {notice}</p>" in listed
    assert f'<p class="notice decimals-changed" role="status">{notice}</p>' in edit
