"""Posting produces documents: a sales order posted becomes a Posted Sales Invoice, a credit
memo posted a Posted Credit Memo, once each, copied with their lines, VAT codes and a VAT
entry per code; listed, searched, shown, and linked from the order, the memo and the trace."""

import re
import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    CreditMemoStatus,
    GLAccount,
    LineType,
    PostedCreditMemo,
    PostedSalesInvoice,
    SalesCreditMemo,
    SalesOrder,
    SalesOrderStatus,
    User,
    VatEntry,
    Webstore,
)
from portal.orders import actions
from portal.sync import posting
from tests.posting_helpers import (
    Line,
    body_rows,
    booked_order,
    credit_memo,
    customer,
    item,
    vat_codes,
)
from tests.test_credit_memos import import_refunds
from tests.test_refund_vat import german_order

POST = actions.ACTIONS["post"]
# An order with a line at 19 %, shipping at 19 %, a line at 7 %, a compound line (GST with
# PST) and a fee without VAT parts (imported before VAT codes, or nothing mapped).
LINES = [
    Line("100.00", {"DE19": "19.00"}, description="Mug"),
    Line("4.90", {"DE19": "0.93"}, LineType.SHIPPING, "Flat rate"),
    Line("20.00", {"DE7": "1.40"}, description="Book"),
    Line("10.00", {"CA-GST": "0.50", "CA-PST": "0.70"}, description="Maple syrup"),
    Line("2.00", {}, LineType.FEE, "Gift wrap"),
]


@pytest.fixture
def order(webstore):
    vat_codes()
    return booked_order(
        webstore,
        LINES,
        buyer=customer("Grace Hopper"),
        line_item=item(),
        vat_number="DE123456789",
        payment_method_code="CARD",
        shipment_method_code="DAP",
        shipping_agent_code="DHL",
        shipping_carrier="DHL Express",
        tracking_number="JD0123",
    )


def invoices() -> list[PostedSalesInvoice]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PostedSalesInvoice).order_by(PostedSalesInvoice.id)))


def entries_of(document) -> list[tuple]:
    return [(e.vat_code, e.vat_rate, e.base, e.amount) for e in document.vat_entries]


# Posting a sales order


def test_posting_a_sales_order_makes_its_posted_invoice_numbered_from_its_own_series(
    order, staff_user
):
    actions.perform(order, POST, user=staff_user)

    [invoice] = invoices()
    assert invoice.number == "PSI00001"
    assert (invoice.sales_order_id, invoice.order_number) == (order.id, order.number)
    assert invoice.posted_by_id == staff_user.id
    assert db.session.get(SalesOrder, order.id).status == SalesOrderStatus.POSTED


def test_the_invoice_copies_the_header_with_codes_carrier_and_amounts(order, staff_user):
    actions.perform(order, POST, user=staff_user)

    [invoice] = invoices()
    assert (invoice.customer_number, invoice.customer_name) == (
        order.customer.number,
        "Ada Lovelace",
    )
    assert invoice.vat_number == "DE123456789"
    assert (invoice.external_document_no, invoice.woo_order_id) == (
        order.external_document_no,
        order.woo_order_id,
    )
    assert (
        invoice.payment_method_code,
        invoice.shipment_method_code,
        invoice.shipping_agent_code,
    ) == ("CARD", "DAP", "DHL")
    assert (invoice.shipping_carrier, invoice.tracking_number) == ("DHL Express", "JD0123")
    assert (invoice.currency, invoice.currency_decimals, invoice.exchange_rate) == ("EUR", 2, None)
    assert (invoice.amount, invoice.tax_amount, invoice.amount_including_tax) == (
        Decimal("136.90"),
        Decimal("22.53"),
        Decimal("159.43"),
    )
    assert invoice.document_date == order.order_date == date(2026, 3, 10)


def test_the_invoice_copies_each_line_with_what_it_was_booked_on_and_its_vat_codes(
    order, staff_user
):
    account = GLAccount(number="6100", name="Freight")
    db.session.add(account)
    db.session.flush()
    order.lines[1].account_id = account.id
    db.session.commit()

    actions.perform(order, POST, user=staff_user)

    [invoice] = invoices()
    copied = [
        (
            line.line_no,
            line.line_type,
            line.item_number,
            line.account_number,
            line.description,
            line.sku,
            line.quantity,
            line.unit_price,
            line.amount,
            line.tax_amount,
            line.vat_code,
        )
        for line in invoice.lines
    ]
    assert copied == [
        (10000, "item", "I00001", "", "Mug", "MUG-1", 1, 100, Decimal("100.00"), 19, "DE19"),
        (20000, "shipping", "", "6100", "Flat rate", "", 1, Decimal("4.9"), Decimal("4.9"),
         Decimal("0.93"), "DE19"),
        (30000, "item", "I00001", "", "Book", "MUG-1", 1, 20, 20, Decimal("1.40"), "DE7"),
        (40000, "item", "I00001", "", "Maple syrup", "MUG-1", 1, 10, 10, Decimal("1.20"),
         "CA-GST"),
        (50000, "fee", "", "", "Gift wrap", "", 1, 2, 2, 0, ""),
    ]  # fmt: skip
    assert invoice.lines[3].vat_parts == order.lines[3].vat_parts
    assert [p["code"] for p in invoice.lines[3].vat_parts] == ["CA-GST", "CA-PST"]


def test_the_invoice_has_a_vat_entry_per_code_and_lines_without_parts_under_no_code(
    order, staff_user
):
    actions.perform(order, POST, user=staff_user)

    [invoice] = invoices()
    assert entries_of(invoice) == [
        ("", 0, Decimal("2.00"), 0),
        ("CA-GST", 5, Decimal("10.00"), Decimal("0.50")),
        ("CA-PST", 7, Decimal("10.00"), Decimal("0.70")),
        ("DE19", 19, Decimal("104.90"), Decimal("19.93")),
        ("DE7", 7, Decimal("20.00"), Decimal("1.40")),
    ]
    assert sum(e.amount for e in invoice.vat_entries) == invoice.tax_amount
    for entry in invoice.vat_entries:
        assert (entry.document_type, entry.document_no) == ("invoice", "PSI00001")
        assert (entry.vat_date, entry.webstore_id, entry.currency) == (
            order.order_date,
            order.webstore_id,
            "EUR",
        )
        # No company currency set: the company's amounts are the document's own.
        assert (entry.base_lcy, entry.amount_lcy) == (entry.base, entry.amount)


def test_posting_asked_again_of_the_same_order_returns_the_invoice_it_made(order, staff_user):
    first = posting.post_sales_invoice(order, staff_user)
    again = posting.post_sales_invoice(order, staff_user)
    db.session.commit()

    assert again is first and len(invoices()) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VatEntry)) == 5


def test_two_clicks_on_post_make_one_invoice(signed_in_staff, order):
    first = signed_in_staff.post(f"/orders/{order.id}/post", follow_redirects=True)
    second = signed_in_staff.post(f"/orders/{order.id}/post", follow_redirects=True)

    assert f"Sales order {order.number} posted." in first.text
    assert f"{order.number} is posted already." in second.text
    assert [i.number for i in invoices()] == ["PSI00001"]


def test_two_tabs_posting_at_once_make_one_invoice(app, order, staff_user):
    """Both tabs read the order open; both post at the same moment: the database lets one
    UPDATE change it, and only that one makes the invoice."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("two connections posting at once: PostgreSQL's row lock")
    order_id, user_id = order.id, staff_user.id
    both_read = threading.Barrier(2)
    said = []

    def tab():
        with app.app_context():
            mine = db.session.get(SalesOrder, order_id)
            user = db.session.get(User, user_id)
            both_read.wait(timeout=10)
            try:
                said.append(actions.perform(mine, POST, user=user))
            except actions.ActionRefused as refused:
                said.append(str(refused))
            finally:
                db.session.remove()

    tabs = [threading.Thread(target=tab) for _ in range(2)]
    for started in tabs:
        started.start()
    for started in tabs:
        started.join(timeout=30)

    assert sorted(said) == sorted(
        [f"Sales order {order.number} posted.", f"{order.number} is posted already."]
    )
    assert [i.number for i in invoices()] == ["PSI00001"]


def test_a_post_refused_makes_no_invoice_and_takes_no_number(order, staff_user):
    order.change_warning = "Changed in the store after import: quantity 1 → 2."
    db.session.commit()

    with pytest.raises(actions.ActionRefused):
        actions.perform(order, POST, user=staff_user)
    order.change_warning = None
    db.session.commit()
    actions.perform(order, POST, user=staff_user)

    assert [i.number for i in invoices()] == ["PSI00001"]


def test_an_order_posted_cannot_be_deleted_and_its_invoice_stays(signed_in_staff, order):
    signed_in_staff.post(f"/orders/{order.id}/post")

    refused = signed_in_staff.post(f"/orders/{order.id}/delete", follow_redirects=True)

    assert f"{order.number} cannot be deleted: it is posted" in refused.text
    assert [i.sales_order_id for i in invoices()] == [order.id]


# Posting a credit memo


@pytest.fixture
def memo(order):
    """A refund by amount of the order, split over its VAT codes as a refunds run splits it."""
    return credit_memo(
        order,
        [
            Line("50.00", {"DE19": "9.50"}, description="Refund"),
            Line("5.00", {"CA-GST": "0.25", "CA-PST": "0.35"}, description="Refund"),
            Line("1.00", {}, description="Refund"),
        ],
    )


def posted_memos() -> list[PostedCreditMemo]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PostedCreditMemo).order_by(PostedCreditMemo.id)))


def test_posting_a_credit_memo_makes_its_posted_credit_memo_with_negative_vat_entries(
    signed_in_staff, memo
):
    answer = signed_in_staff.post(f"/credit-memos/{memo.id}/post", follow_redirects=True)

    [posted] = posted_memos()
    assert f"Credit memo {memo.number} posted. Its Posted Credit Memo is PCM00001." in answer.text
    assert (posted.number, posted.credit_memo_id, posted.credit_memo_number) == (
        "PCM00001",
        memo.id,
        memo.number,
    )
    assert (posted.order_number, posted.woo_refund_id, posted.reason) == (
        memo.sales_order.number,
        memo.woo_refund_id,
        "Chipped",
    )
    assert (posted.amount, posted.tax_amount, posted.amount_including_tax) == (
        Decimal("56.00"),
        Decimal("10.10"),
        Decimal("66.10"),
    )
    assert [(line.line_type, line.amount, line.vat_code) for line in posted.lines] == [
        ("amount", Decimal("50.00"), "DE19"),
        ("amount", Decimal("5.00"), "CA-GST"),
        ("amount", Decimal("1.00"), ""),
    ]
    assert entries_of(posted) == [
        ("", 0, Decimal("-1.00"), 0),
        ("CA-GST", 5, Decimal("-5.00"), Decimal("-0.25")),
        ("CA-PST", 7, Decimal("-5.00"), Decimal("-0.35")),
        ("DE19", 19, Decimal("-50.00"), Decimal("-9.50")),
    ]
    assert {(e.document_type, e.vat_date) for e in posted.vat_entries} == {
        ("credit_memo", date(2026, 3, 20))
    }


def test_two_clicks_on_post_make_one_posted_credit_memo(signed_in_staff, memo):
    signed_in_staff.post(f"/credit-memos/{memo.id}/post")
    second = signed_in_staff.post(f"/credit-memos/{memo.id}/post", follow_redirects=True)

    assert f"Credit memo {memo.number} is posted already." in second.text
    assert [m.number for m in posted_memos()] == ["PCM00001"]


def test_in_another_currency_the_entries_carry_the_company_currency_at_the_documents_rate(
    app, webstore, staff_user
):
    app.config["COMPANY_CURRENCY"] = "EUR"
    vat_codes()
    rate = Decimal("0.92150000")
    order = booked_order(
        webstore,
        [Line("99.99", {"DE19": "19.00"})],
        currency="USD",
        exchange_rate=rate,
        company="EUR",
    )
    memo = credit_memo(order, [Line("10.00", {"DE19": "1.90"})], company="EUR")

    actions.perform(order, POST, user=staff_user)
    posting.post_credit_memo(memo, staff_user)
    db.session.commit()

    [invoice], [posted] = invoices(), posted_memos()
    assert (invoice.exchange_rate, posted.exchange_rate) == (rate, rate)
    assert (invoice.amount_lcy, invoice.tax_amount_lcy) == (Decimal("92.14"), Decimal("17.51"))
    assert [(e.base, e.amount, e.base_lcy, e.amount_lcy) for e in invoice.vat_entries] == [
        (Decimal("99.99"), Decimal("19.00"), Decimal("92.14"), Decimal("17.51"))
    ]
    assert [(e.base, e.amount, e.base_lcy, e.amount_lcy) for e in posted.vat_entries] == [
        (Decimal("-10.00"), Decimal("-1.90"), Decimal("-9.22"), Decimal("-1.75"))
    ]


# The pages


@pytest.fixture
def posted(order, memo, staff_user):
    """The order and its memo, both posted by staff-user."""
    actions.perform(order, POST, user=staff_user)
    memo.status = CreditMemoStatus.POSTED
    posting.post_credit_memo(memo, staff_user)
    db.session.commit()
    [invoice], [posted_memo] = invoices(), posted_memos()
    return invoice, posted_memo


def listed(html: str, prefix: str) -> list[str]:
    return re.findall(rf">({prefix}\d{{5}})</a>", html[html.index('id="documents-table"') :])


def test_the_invoices_list_finds_by_number_order_store_number_and_customer(
    signed_in_viewer, webstore, posted, staff_user
):
    invoice, _ = posted
    other = booked_order(webstore, [Line("5.00", {"DE19": "0.95"})], buyer=customer("Alan Turing"))
    actions.perform(other, POST, user=staff_user)

    for term, found in [
        ("", ["PSI00002", "PSI00001"]),
        ("PSI00001", ["PSI00001"]),
        (invoice.order_number, ["PSI00001"]),
        (f"#{other.external_document_no}", ["PSI00002"]),
        (other.customer.number, ["PSI00002"]),
        ("ada lovelace", ["PSI00002", "PSI00001"]),
    ]:
        html = signed_in_viewer.get("/posted-invoices", query_string={"q": term}).text
        assert listed(html, "PSI") == found, term


def test_the_lists_filter_by_webstore_and_document_date(signed_in_viewer, webstore, staff_user):
    vat_codes()
    second = Webstore(
        code="SECOND", name="Second", base_url="http://127.0.0.1:9", consumer_key="ck"
    )
    second.consumer_secret = "cs_second"
    db.session.add(second)
    db.session.commit()
    for store, day in ((webstore, date(2026, 3, 1)), (second, date(2026, 4, 1))):
        actions.perform(
            booked_order(store, [Line("1.00", {})], order_date=day), POST, user=staff_user
        )

    by_store = signed_in_viewer.get(f"/posted-invoices?webstore={second.id}").text
    by_date = signed_in_viewer.get("/posted-invoices?date_from=2026-03-01&date_to=2026-03-31").text

    assert listed(by_store, "PSI") == ["PSI00002"]
    assert listed(by_date, "PSI") == ["PSI00001"]


def test_htmx_gets_the_table_alone_with_a_tidy_url(signed_in_viewer, posted):
    response = signed_in_viewer.get(
        "/posted-credit-memos?q=PCM&webstore=&date_from=", headers={"HX-Request": "true"}
    )

    assert response.text.lstrip().startswith('<div id="documents-table"')
    assert response.headers["HX-Push-Url"] == "/posted-credit-memos?q=PCM"
    assert listed(response.text, "PCM") == ["PCM00001"]


def test_the_lists_page_by_keyset(signed_in_viewer, webstore, staff_user, monkeypatch):
    from portal.documents import queries

    monkeypatch.setattr(queries, "PER_PAGE", 2)
    vat_codes()
    for _ in range(5):
        actions.perform(booked_order(webstore, [Line("1.00", {})]), POST, user=staff_user)

    pages, url = [], "/posted-invoices"
    while url:
        html = signed_in_viewer.get(url).text
        pages.append(listed(html, "PSI"))
        following = re.search(r'href="([^"]+)"[^>]*rel="next"', html)
        url = following[1].replace("&amp;", "&") if following else None

    assert pages == [["PSI00005", "PSI00004"], ["PSI00003", "PSI00002"], ["PSI00001"]]


def test_an_invoice_page_shows_header_codes_lines_with_vat_codes_and_the_vat_summary(
    signed_in_viewer, order, posted
):
    invoice, _ = posted

    html = signed_in_viewer.get(f"/posted-invoices/{invoice.id}").text

    assert "Posted Sales Invoice PSI00001" in html
    assert f'<a href="/orders/{order.id}">{order.number}</a>' in html
    assert '<dd id="vat-number">DE123456789</dd>' in html
    codes = html[html.index('id="codes"') :]
    for shown in ("CARD", "DAP", "DHL", "DHL Express", "JD0123"):
        assert f"<dd>{shown}</dd>" in codes
    assert re.findall(r'class="vat-code">([^<]*)</td>', html) == [
        "DE19",
        "DE19",
        "DE7",
        "CA-GST + CA-PST",
        "",
    ]
    summary = html[html.index('id="vat-summary"') :]
    assert body_rows(summary) == [
        ["No VAT code", "", "2.00", "0.00"],
        ["CA-GST", "5 %", "10.00", "0.50"],
        ["CA-PST", "7 %", "10.00", "0.70"],
        ["DE19", "19 %", "104.90", "19.93"],
        ["DE7", "7 %", "20.00", "1.40"],
    ]
    assert "22.53 EUR" in summary
    assert f'href="/orders/trace/{order.webstore.code}/{order.woo_order_id}"' in html


def test_a_posted_credit_memo_page_shows_its_memo_order_lines_and_vat_as_credited(
    signed_in_viewer, order, memo, posted
):
    _, posted_memo = posted

    html = signed_in_viewer.get(f"/posted-credit-memos/{posted_memo.id}").text

    assert "Posted Credit Memo PCM00001" in html
    assert f'<a href="/credit-memos/{memo.id}">{memo.number}</a>' in html
    assert f'<a href="/orders/{order.id}">{order.number}</a>' in html
    summary = html[html.index('id="vat-summary"') :]
    assert body_rows(summary) == [
        ["No VAT code", "", "1.00", "0.00"],
        ["CA-GST", "5 %", "5.00", "0.25"],
        ["CA-PST", "7 %", "5.00", "0.35"],
        ["DE19", "19 %", "50.00", "9.50"],
    ]


def test_a_document_in_another_currency_shows_its_rate_and_the_company_amounts(
    app, signed_in_viewer, webstore, staff_user
):
    app.config["COMPANY_CURRENCY"] = "EUR"
    vat_codes()
    order = booked_order(
        webstore,
        [Line("100.00", {"DE19": "19.00"})],
        currency="USD",
        exchange_rate=Decimal("0.92"),
        company="EUR",
    )
    actions.perform(order, POST, user=staff_user)
    [invoice] = invoices()

    html = signed_in_viewer.get(f"/posted-invoices/{invoice.id}").text

    assert "1 USD = 0.92 EUR" in html
    company = html[html.index("In EUR") :]
    assert "92.00 EUR" in company and "17.48 EUR" in company and "109.48 EUR" in company


def test_posted_documents_cannot_be_changed_or_deleted_through_any_page(signed_in_admin, posted):
    invoice, posted_memo = posted

    for url in (f"/posted-invoices/{invoice.id}", f"/posted-credit-memos/{posted_memo.id}"):
        for method in ("post", "put", "delete", "patch"):
            response = getattr(signed_in_admin.client, method)(
                url, headers={"X-CSRFToken": signed_in_admin.token}
            )
            assert response.status_code == 405, (method, url)


def test_an_unknown_document_is_404(signed_in_viewer):
    assert signed_in_viewer.get("/posted-invoices/999").status_code == 404
    assert signed_in_viewer.get("/posted-credit-memos/999").status_code == 404


def test_the_signed_out_are_sent_to_sign_in(client):
    for url in ("/posted-invoices", "/posted-credit-memos/1", "/vat-report", "/vat-report.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_what_the_store_sent_is_escaped_on_the_document_pages(
    signed_in_viewer, webstore, staff_user
):
    vat_codes()
    order = booked_order(
        webstore,
        [Line("1.00", {}, description="<script>window.__xss=1</script>")],
        sell_to_name="<b>Eve</b>",
    )
    actions.perform(order, POST, user=staff_user)
    [invoice] = invoices()

    for url in ("/posted-invoices", f"/posted-invoices/{invoice.id}"):
        html = signed_in_viewer.get(url).text
        assert "<script>window" not in html and "<b>Eve</b>" not in html
        assert "&lt;b&gt;Eve&lt;/b&gt;" in html


# Links


def test_the_order_page_links_its_posted_invoice_and_each_posted_memo(
    signed_in_viewer, order, memo, posted
):
    invoice, posted_memo = posted

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert f'<a href="/posted-invoices/{invoice.id}" id="posted-invoice">PSI00001</a>' in html
    assert f'<a href="/posted-credit-memos/{posted_memo.id}">PCM00001</a>' in html


def test_the_credit_memo_page_links_its_posted_memo_and_shows_vat_codes_and_summary(
    signed_in_viewer, memo, posted
):
    _, posted_memo = posted

    html = signed_in_viewer.get(f"/credit-memos/{memo.id}").text

    assert (
        f'<a href="/posted-credit-memos/{posted_memo.id}" id="posted-credit-memo">PCM00001</a>'
        in html
    )
    assert re.findall(r'class="vat-code[^"]*">([^<]*)</td>', html) == [
        "DE19",
        "CA-GST + CA-PST",
        "",
    ]
    assert body_rows(html, "vat-summary")[-1] == ["DE19", "19 %", "50.00", "9.50"]


def test_the_trace_tells_of_the_posted_invoice_and_memo_and_who_posted_them(
    signed_in_viewer, order, memo, posted
):
    invoice, posted_memo = posted

    html = signed_in_viewer.get(f"/orders/trace/{order.webstore.code}/{order.woo_order_id}").text

    rows = re.findall(r'<tr class="trace-event trace-(posted_\w+)">(.*?)</tr>', html, re.S)
    told = {kind: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for kind, text in rows}
    assert told["posted_invoice"].endswith(
        f"Posted Sales Invoice PSI00001 made Sales order {order.number} posted by staff-user: "
        "159.43 EUR, VAT 22.53 EUR"
    )
    assert told["posted_credit_memo"].endswith(
        f"Posted Credit Memo PCM00001 made Credit memo {memo.number} posted by staff-user: "
        "66.10 EUR, VAT 10.10 EUR"
    )
    assert f'href="/posted-invoices/{invoice.id}"' in html
    assert f'href="/posted-credit-memos/{posted_memo.id}"' in html


# Through the real import, refunds run and pages


def test_an_imported_order_and_its_refund_post_as_the_store_booked_them(
    demo_webstore, store, signed_in_staff
):
    """A German order of the sandbox, imported with the DEMO webstore's tax mappings: two
    mugs and shipping at 19 % (30.00, VAT 5.70) and pencils untaxed (18.50); refunded 20.00
    by amount. Posted through the pages, the invoice's VAT entries are the store's tax lines
    and the memo's reverse its split."""
    order, created = german_order(demo_webstore, store)
    store.refund_order(created["id"], amount="20.00")
    import_refunds(demo_webstore, order_ids=(created["id"],))
    [memo] = db.session.scalars(sa.select(SalesCreditMemo))

    signed_in_staff.post(f"/orders/{order.id}/post")
    signed_in_staff.post(f"/orders/{order.id}/post")
    signed_in_staff.post(f"/credit-memos/{memo.id}/post")

    [invoice], [posted_memo] = invoices(), posted_memos()
    store_vat = {
        tax["rate_id"]: Decimal(tax["tax_total"]) + Decimal(tax["shipping_tax_total"])
        for tax in created["tax_lines"]
    }
    assert store_vat == {2: Decimal("5.70")}  # MwSt, mapped to DE19
    assert entries_of(invoice) == [
        ("DE19", 19, Decimal("30.00"), Decimal("5.70")),
        ("NOVAT", 0, Decimal("18.50"), 0),
    ]
    assert [line.vat_code for line in invoice.lines] == [line.vat_code for line in order.lines]
    assert entries_of(posted_memo) == [
        ("DE19", 19, Decimal("-11.07"), Decimal("-2.10")),
        ("NOVAT", 0, Decimal("-6.83"), 0),
    ]
    # Flat rate: the DEMO webstore's DELIVERY by DHL.
    assert (invoice.shipment_method_code, invoice.shipping_agent_code) == ("DELIVERY", "DHL")


def test_the_header_search_finds_the_document_pages_by_name(signed_in_viewer):
    invoices_found = signed_in_viewer.get("/search?q=invoices").text
    vat = signed_in_viewer.get("/search?q=vat").text
    posted = signed_in_viewer.get("/search?q=posted").text

    assert '<a href="/posted-invoices">Posted Sales Invoices</a>' in invoices_found
    assert '<a href="/vat-report">VAT report</a>' in vat
    assert '<a href="/posted-credit-memos">Posted Credit Memos</a>' in posted
