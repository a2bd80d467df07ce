"""Accounting setup pages: payment and shipment methods, shipping agents, VAT codes, G/L
accounts (listed, searched, created, edited, deleted; a code in use is neither renamed nor
deleted, and the page says where it is used) and currency exchange rates (entered, filtered,
imported from CSV)."""

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest
import sqlalchemy as sa

from portal import db
from portal.accounting import queries
from portal.models import (
    AccountType,
    CreditMemoLine,
    CreditMemoLineType,
    CurrencyExchangeRate,
    Customer,
    GLAccount,
    LineType,
    PaymentMethod,
    PostedCreditMemo,
    PostedCreditMemoLine,
    PostedSalesInvoice,
    PostedSalesInvoiceLine,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    ShipmentMethod,
    ShippingAgent,
    VatCode,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.sync.vat import VatPart, parts_to_json

# What each setup table's form takes, and what its list then shows in a row.
TABLES = {
    "payment-methods": (
        PaymentMethod,
        {"code": " paypal ", "description": "PayPal Checkout"},
        ["PAYPAL", "PayPal Checkout"],
    ),
    "shipment-methods": (
        ShipmentMethod,
        {"code": "dap", "description": "Delivered at place"},
        ["DAP", "Delivered at place"],
    ),
    "shipping-agents": (
        ShippingAgent,
        {
            "code": "dhl ",
            "name": "DHL Paket",
            "tracking_url": "https://www.dhl.de/track?piececode=%s",
        },
        ["DHL", "DHL Paket", "https://www.dhl.de/track?piececode=%s"],
    ),
    "vat-codes": (
        VatCode,
        {"code": " de19", "rate": "19", "description": "Umsatzsteuer 19 %"},
        ["DE19", "19", "Umsatzsteuer 19 %"],
    ),
    "gl-accounts": (
        GLAccount,
        {"number": " 8400 ", "name": "Revenue shipping", "account_type": "income_statement"},
        ["8400", "Revenue shipping", "Income Statement"],
    ),
}


def rows_of(html: str, table_id: str) -> list[list[str]]:
    """The text of each cell of the table's body, row by row."""
    table = html[html.index(f'id="{table_id}"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")] if "<tbody>" in table else ""
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>|\s+(?= )", "", c).strip() for c in row] for row in cells]


def first_column(html: str, table_id: str = "records-table") -> list[str]:
    return [row[0] for row in rows_of(html, table_id)]


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">(.*?)</small>', html, re.S)
    assert match, f"no error beside {field}"
    return re.sub(r"\s+", " ", match[1]).replace("&#39;", "'").replace("&gt;", ">")


def flashed(html: str, category: str) -> str:
    match = re.search(rf'class="flash flash-{category}"[^>]*>(.*?)</p>', html, re.S)
    assert match, f"no {category} message on the page"
    return re.sub(r"\s+", " ", match[1]).replace("&#39;", "'").replace("&gt;", ">")


def add(model, **values):
    record = model(**values)
    db.session.add(record)
    db.session.commit()
    return record


def all_of(model, key: str = "code") -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model).order_by(getattr(model, key))))


def next_url(html: str, rel: str = "next") -> str:
    return re.search(rf'href="([^"]+)"[^>]*rel="{rel}"', html)[1].replace("&amp;", "&")


# Documents that name codes, written as imports and posting leave them


def make_order(webstore, number: str = "SO00001", **fields) -> SalesOrder:
    order = SalesOrder(
        number=number,
        webstore_id=webstore.id,
        customer=Customer(number="C" + number[2:], name="Ada Lovelace"),
        order_date=date(2026, 3, 1),
        ordered_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        currency="EUR",
        external_document_no=number[2:],
        woo_order_id=int(number[2:]),
        **fields,
    )
    db.session.add(order)
    db.session.commit()
    return order


def sales_line(**fields) -> SalesLine:
    values = {
        "line_no": 10000,
        "line_type": LineType.ITEM,
        "description": "Mug",
        "quantity": Decimal(1),
        "unit_price": Decimal("10.00"),
        "amount": Decimal("10.00"),
    }
    return SalesLine(**{**values, **fields})


def parts(*codes: str) -> list[dict]:
    return parts_to_json(
        VatPart(code, 1, Decimal(5), Decimal("10.00"), Decimal("0.50")) for code in codes
    )


def make_credit_memo(webstore, order: SalesOrder, number: str = "CM00001") -> SalesCreditMemo:
    memo = SalesCreditMemo(
        number=number,
        webstore_id=webstore.id,
        sales_order_id=order.id,
        woo_order_id=order.woo_order_id,
        woo_refund_id=int(number[2:]),
        memo_date=date(2026, 3, 2),
        refunded_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        currency="EUR",
    )
    db.session.add(memo)
    db.session.commit()
    return memo


def posted(document_class, webstore, order: SalesOrder, number: str, **fields):
    return document_class(
        number=number,
        webstore_id=webstore.id,
        customer_id=order.customer_id,
        customer_number=order.customer.number,
        order_number=order.number,
        woo_order_id=order.woo_order_id,
        posting_date=date(2026, 3, 3),
        document_date=order.order_date,
        currency="EUR",
        **fields,
    )


def make_posted_invoice(webstore, number="PSI00001", lines=(), **fields) -> PostedSalesInvoice:
    order = make_order(webstore, "SO09" + number[-3:])
    invoice = posted(PostedSalesInvoice, webstore, order, number, sales_order_id=order.id, **fields)
    invoice.lines = [PostedSalesInvoiceLine(line_no=10000, line_type="item", **f) for f in lines]
    db.session.add(invoice)
    db.session.commit()
    return invoice


def make_posted_credit_memo(webstore, number="PCM00001", **line) -> PostedCreditMemo:
    order = make_order(webstore, "SO08" + number[-3:])
    memo = make_credit_memo(webstore, order, "CM08" + number[-3:])
    document = posted(
        PostedCreditMemo,
        webstore,
        order,
        number,
        credit_memo_id=memo.id,
        credit_memo_number=memo.number,
        woo_refund_id=memo.woo_refund_id,
    )
    document.lines = [PostedCreditMemoLine(line_no=10000, line_type="item", **line)]
    db.session.add(document)
    db.session.commit()
    return document


def store_parts_as_the_batch_writer_does(line: SalesLine, codes: list[str]) -> None:
    """The batch writer sends a line's VAT parts through orjson: no spaces, and letters
    beyond ASCII as they are (``"code":"MWST-ERMÄSSIGT"``)."""
    text = orjson.dumps(parts(*codes)).decode()
    cast = "CAST(:parts AS json)" if db.engine.dialect.name == "postgresql" else ":parts"
    db.session.execute(
        sa.text(f"UPDATE sales_lines SET vat_parts = {cast} WHERE id = :id"),
        {"parts": text, "id": line.id},
    )
    db.session.commit()


# The lists


@pytest.mark.parametrize("slug", TABLES)
def test_staff_create_a_record_with_its_code_trimmed_and_in_capitals(signed_in_staff, slug):
    model, form, row = TABLES[slug]
    page = signed_in_staff.get(f"/accounting/{slug}/new")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text

    response = signed_in_staff.post(f"/accounting/{slug}/new", form)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/accounting/{slug}"
    listed = signed_in_staff.get(response.headers["Location"])
    assert f"{row[0]} saved." in listed.text
    assert rows_of(listed.text, "records-table") == [row]
    assert len(all_of(model, "number" if model is GLAccount else "code")) == 1


def test_the_created_records_hold_what_was_typed(signed_in_staff):
    for slug, (_, form, _) in TABLES.items():
        signed_in_staff.post(f"/accounting/{slug}/new", form)

    [vat] = all_of(VatCode)
    [account] = all_of(GLAccount, "number")
    [agent] = all_of(ShippingAgent)
    assert (vat.code, vat.rate, vat.description) == ("DE19", Decimal(19), "Umsatzsteuer 19 %")
    assert (account.number, account.name, account.account_type) == (
        "8400",
        "Revenue shipping",
        AccountType.INCOME_STATEMENT,
    )
    assert agent.tracking_url == "https://www.dhl.de/track?piececode=%s"


def test_the_list_is_by_code_and_searches_code_and_text_by_part_with_or_without_accents(
    signed_in_viewer,
):
    add(VatCode, code="FR20", rate=Decimal(20), description="TVA normale")
    add(VatCode, code="FR5.5", rate=Decimal("5.5"), description="TVA réduite")
    add(VatCode, code="DE19", rate=Decimal(19), description="Umsatzsteuer")

    everything = signed_in_viewer.get("/accounting/vat-codes").text

    assert rows_of(everything, "records-table") == [
        ["DE19", "19", "Umsatzsteuer"],
        ["FR20", "20", "TVA normale"],
        ["FR5.5", "5.5", "TVA réduite"],
    ]
    assert "VAT Codes 1–3 of 3, page 1." in everything
    assert first_column(signed_in_viewer.get("/accounting/vat-codes?q=fr").text) == [
        "FR20",
        "FR5.5",
    ]
    assert first_column(signed_in_viewer.get("/accounting/vat-codes?q=REDUITE").text) == ["FR5.5"]
    assert first_column(signed_in_viewer.get("/accounting/vat-codes?q=5.5").text) == ["FR5.5"]
    nothing = signed_in_viewer.get("/accounting/vat-codes?q=IT22").text
    assert "No VAT codes match “IT22”." in nothing


def test_the_list_pages_forwards_and_back_by_code(signed_in_viewer, monkeypatch):
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    for n in range(1, 6):
        add(PaymentMethod, code=f"PM{n}")

    first = signed_in_viewer.get("/accounting/payment-methods").text
    second = signed_in_viewer.get(next_url(first)).text
    third = signed_in_viewer.get(next_url(second)).text

    assert first_column(first) == ["PM1", "PM2"]
    assert "Payment Methods 1–2 of 5, page 1." in first
    assert first_column(second) == ["PM3", "PM4"]
    assert "Payment Methods 3–4 of 5, page 2." in second
    assert first_column(third) == ["PM5"]
    assert 'rel="next"' not in third
    assert first_column(signed_in_viewer.get(next_url(third, "prev")).text) == ["PM3", "PM4"]


def test_htmx_gets_only_the_table_and_a_tidy_url_to_push(signed_in_viewer):
    add(ShipmentMethod, code="EXW", description="Ex works")

    response = signed_in_viewer.get(
        "/accounting/shipment-methods?q=ex", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="records-table"')
    assert "<html" not in response.text and "<form" not in response.text
    assert first_column(response.text) == ["EXW"]
    assert response.headers["HX-Push-Url"] == "/accounting/shipment-methods?q=ex"


def test_each_accounting_page_links_to_the_others(signed_in_viewer):
    page = signed_in_viewer.get("/accounting/gl-accounts").text

    nav = page[page.index('aria-label="Accounting setup"') :]
    nav = nav[: nav.index("</nav>")]
    assert re.findall(r'href="([^"]+)"', nav) == [
        "/accounting/payment-methods",
        "/accounting/shipment-methods",
        "/accounting/shipping-agents",
        "/accounting/vat-codes",
        "/accounting/gl-accounts",
        "/accounting/exchange-rates",
    ]
    assert 'href="/accounting/gl-accounts" aria-current="page"' in nav


# Editing


def test_staff_edit_a_record_not_in_use_and_may_change_its_code(signed_in_staff):
    vat = add(VatCode, code="DE7", rate=Decimal(7), description="reduced")

    page = signed_in_staff.get(f"/accounting/vat-codes/{vat.id}/edit")
    response = signed_in_staff.post(
        f"/accounting/vat-codes/{vat.id}/edit",
        {"code": "de07", "rate": "7.5", "description": "Ermäßigt"},
    )

    assert 'value="7"' in page.text  # the rate as typed, not 7.0000
    assert "In use" not in page.text
    assert response.status_code == 303
    [changed] = all_of(VatCode)
    assert (changed.code, changed.rate, changed.description) == ("DE07", Decimal("7.5"), "Ermäßigt")


@pytest.mark.parametrize(
    ("slug", "model", "existing", "form", "field"),
    [
        ("payment-methods", PaymentMethod, {"code": "PAYPAL"}, {"code": "paypal"}, "code"),
        ("shipment-methods", ShipmentMethod, {"code": "DAP"}, {"code": " dap"}, "code"),
        ("shipping-agents", ShippingAgent, {"code": "DHL"}, {"code": "Dhl"}, "code"),
        (
            "vat-codes",
            VatCode,
            {"code": "DE19", "rate": Decimal(19)},
            {"code": "de19", "rate": "19"},
            "code",
        ),
        (
            "gl-accounts",
            GLAccount,
            {"number": "8400", "name": "Shipping"},
            {"number": "8400 ", "name": "Other", "account_type": "balance_sheet"},
            "number",
        ),
    ],
)
def test_a_duplicate_code_is_refused_beside_its_field(
    signed_in_staff, slug, model, existing, form, field
):
    add(model, **existing)

    response = signed_in_staff.post(f"/accounting/{slug}/new", form)

    assert response.status_code == 422
    assert "exists already: open it from the list to change it." in error_beside(
        response.text, field
    )
    assert len(all_of(model, field)) == 1


def test_renaming_onto_another_records_code_is_refused(signed_in_staff):
    add(PaymentMethod, code="CARD")
    paypal = add(PaymentMethod, code="PAYPAL")

    response = signed_in_staff.post(
        f"/accounting/payment-methods/{paypal.id}/edit", {"code": "card"}
    )

    assert response.status_code == 422
    assert error_beside(response.text, "code") == (
        "A payment method CARD exists already: open it from the list to change it."
    )
    assert [m.code for m in all_of(PaymentMethod)] == ["CARD", "PAYPAL"]


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        ({"code": "", "rate": "19"}, "code", "Give the VAT code's code."),
        ({"code": "X", "rate": ""}, "rate", "Give the rate in percent (0 for none)."),
        ({"code": "X", "rate": "101"}, "rate", "The VAT rate is a percentage from 0 to 100."),
        ({"code": "X", "rate": "-1"}, "rate", "The VAT rate is a percentage from 0 to 100."),
        ({"code": "X", "rate": "7.12345"}, "rate", "The VAT rate has more than 4 decimals"),
        ({"code": "X" * 21, "rate": "1"}, "code", "Field cannot be longer than 20 characters."),
    ],
)
def test_a_vat_code_needs_a_code_and_a_rate_it_can_keep(signed_in_staff, form, field, error):
    response = signed_in_staff.post("/accounting/vat-codes/new", form)

    assert response.status_code == 422
    assert error_beside(response.text, field).startswith(error)
    assert all_of(VatCode) == []


@pytest.mark.parametrize(
    "url",
    ["https://track.example/%s/%s", "https://track.example/", "javascript:alert(1)//%s"],
)
def test_a_tracking_url_starts_with_http_and_has_one_place_for_the_number(signed_in_staff, url):
    response = signed_in_staff.post(
        "/accounting/shipping-agents/new", {"code": "UPS", "tracking_url": url}
    )

    assert response.status_code == 422
    assert "tracking_url-error" in response.text
    assert all_of(ShippingAgent) == []


def test_a_gl_account_needs_a_name(signed_in_staff):
    response = signed_in_staff.post(
        "/accounting/gl-accounts/new", {"number": "8400", "account_type": "income_statement"}
    )

    assert response.status_code == 422
    assert error_beside(response.text, "name") == "Give the account's name."


def test_an_unknown_record_is_404(signed_in_staff):
    assert signed_in_staff.get("/accounting/vat-codes/999/edit").status_code == 404
    assert signed_in_staff.post("/accounting/vat-codes/999/delete").status_code == 404


# Deleting, and codes in use


def test_staff_delete_a_record_not_in_use(signed_in_staff):
    card = add(PaymentMethod, code="CARD")
    add(PaymentMethod, code="PAYPAL")
    page = signed_in_staff.get(f"/accounting/payment-methods/{card.id}/edit").text
    assert f'action="/accounting/payment-methods/{card.id}/delete"' in page

    response = signed_in_staff.post(
        f"/accounting/payment-methods/{card.id}/delete", follow_redirects=True
    )

    assert response.request.path == "/accounting/payment-methods"
    assert flashed(response.text, "success") == "Payment method CARD deleted."
    assert [m.code for m in all_of(PaymentMethod)] == ["PAYPAL"]


def pm_mapped(webstore, method):
    db.session.add(
        WebstorePaymentMapping(
            webstore_id=webstore.id, gateway_id="ppcp", title="PayPal", payment_method_id=method.id
        )
    )


def pm_default(webstore, method):
    webstore.default_payment_method_id = method.id


def pm_on_order(webstore, method):
    make_order(webstore, "SO00001", payment_method_code=method.code)
    make_order(webstore, "SO00002", payment_method_code=method.code)


def pm_on_posted_invoice(webstore, method):
    make_posted_invoice(webstore, "PSI00001", payment_method_code=method.code)


def sm_mapped(webstore, method):
    db.session.add(
        WebstoreShippingMapping(
            webstore_id=webstore.id, method_id="flat_rate", shipment_method_id=method.id
        )
    )


def sm_on_order(webstore, method):
    make_order(webstore, shipment_method_code=method.code)


def sm_on_posted_invoice(webstore, method):
    make_posted_invoice(webstore, shipment_method_code=method.code)


def sa_mapped(webstore, agent):
    db.session.add(
        WebstoreShippingMapping(
            webstore_id=webstore.id,
            method_id="flat_rate",
            instance_id="3",
            shipping_agent_id=agent.id,
        )
    )


def sa_on_orders(webstore, agent):
    for n in range(1, 6):
        make_order(webstore, f"SO0000{n}", shipping_agent_code=agent.code)


def sa_on_posted_invoice(webstore, agent):
    make_posted_invoice(webstore, shipping_agent_code=agent.code)


def vat_mapped(webstore, vat):
    db.session.add(
        WebstoreTaxMapping(webstore_id=webstore.id, rate_id=1, title="DE", vat_code_id=vat.id)
    )


def vat_untaxed(webstore, vat):
    webstore.untaxed_vat_code_id = vat.id


def vat_reverse_charge(webstore, vat):
    webstore.reverse_charge_vat_code_id = vat.id


def vat_on_a_line(webstore, vat):
    make_order(webstore, lines=[sales_line(vat_code=vat.code, vat_parts=parts(vat.code))])


def vat_second_of_a_compound_line(webstore, vat):
    make_order(webstore, lines=[sales_line(vat_code="CA-GST", vat_parts=parts("CA-GST", vat.code))])


def vat_second_as_the_batch_writer_wrote_it(webstore, vat):
    order = make_order(webstore, lines=[sales_line(vat_code="CA-GST")])
    store_parts_as_the_batch_writer_does(order.lines[0], ["CA-GST", vat.code])


def vat_on_a_credit_memo(webstore, vat):
    memo = make_credit_memo(webstore, make_order(webstore, "SO00007"))
    memo.lines = [
        CreditMemoLine(line_no=10000, line_type=CreditMemoLineType.ITEM, vat_code=vat.code)
    ]


def vat_on_a_posted_invoice(webstore, vat):
    make_posted_invoice(webstore, lines=[{"vat_code": "", "vat_parts": parts(vat.code)}])


def vat_on_a_posted_credit_memo(webstore, vat):
    make_posted_credit_memo(webstore, vat_code=vat.code)


def gl_for_shipping(webstore, account):
    webstore.shipping_account_id = account.id


def gl_for_negative_fees(webstore, account):
    webstore.negative_fee_account_id = account.id


def gl_on_a_line(webstore, account):
    make_order(webstore, lines=[sales_line(line_type=LineType.SHIPPING, account_id=account.id)])


def gl_on_a_credit_memo(webstore, account):
    memo = make_credit_memo(webstore, make_order(webstore, "SO00003"), "CM00003")
    memo.lines = [
        CreditMemoLine(line_no=10000, line_type=CreditMemoLineType.SHIPPING, account_id=account.id)
    ]


def gl_on_a_posted_invoice(webstore, account):
    make_posted_invoice(webstore, lines=[{"account_number": account.number}])


PM = ("payment-methods", PaymentMethod, {"code": "PAYPAL"})
SM = ("shipment-methods", ShipmentMethod, {"code": "DAP"})
SA = ("shipping-agents", ShippingAgent, {"code": "DHL"})
VAT = ("vat-codes", VatCode, {"code": "MWST-ERMÄSSIGT", "rate": Decimal(7)})
GL = ("gl-accounts", GLAccount, {"number": "8400", "name": "Shipping revenue"})
IN_USE = [
    (*PM, pm_mapped, "webstore MAIN's mappings (Setup > Webstores > MAIN > Payment methods)"),
    (*PM, pm_default, "webstore MAIN's default payment method (Setup > Webstores > MAIN)"),
    (*PM, pm_on_order, "sales orders SO00001, SO00002"),
    (*PM, pm_on_posted_invoice, "posted sales invoice PSI00001"),
    (*SM, sm_mapped, "webstore MAIN's mappings (Setup > Webstores > MAIN > Shipping methods)"),
    (*SM, sm_on_order, "sales order SO00001"),
    (*SM, sm_on_posted_invoice, "posted sales invoice PSI00001"),
    (*SA, sa_mapped, "webstore MAIN's mappings (Setup > Webstores > MAIN > Shipping methods)"),
    (*SA, sa_on_orders, "sales orders SO00001, SO00002, SO00003 and more"),
    (*SA, sa_on_posted_invoice, "posted sales invoice PSI00001"),
    (*VAT, vat_mapped, "webstore MAIN's mappings (Setup > Webstores > MAIN > Tax rates)"),
    (*VAT, vat_untaxed, "webstore MAIN's VAT code for untaxed lines (Setup > Webstores > MAIN)"),
    (
        *VAT,
        vat_reverse_charge,
        "webstore MAIN's reverse-charge VAT code (Setup > Webstores > MAIN)",
    ),
    (*VAT, vat_on_a_line, "sales order SO00001"),
    (*VAT, vat_second_of_a_compound_line, "sales order SO00001"),
    (*VAT, vat_second_as_the_batch_writer_wrote_it, "sales order SO00001"),
    (*VAT, vat_on_a_credit_memo, "sales credit memo CM00001"),
    (*VAT, vat_on_a_posted_invoice, "posted sales invoice PSI00001"),
    (*VAT, vat_on_a_posted_credit_memo, "posted credit memo PCM00001"),
    (*GL, gl_for_shipping, "webstore MAIN's account for shipping (Setup > Webstores > MAIN)"),
    (
        *GL,
        gl_for_negative_fees,
        "webstore MAIN's account for negative fees (Setup > Webstores > MAIN)",
    ),
    (*GL, gl_on_a_line, "sales order SO00001"),
    (*GL, gl_on_a_credit_memo, "sales credit memo CM00003"),
    (*GL, gl_on_a_posted_invoice, "posted sales invoice PSI00001"),
]


@pytest.mark.parametrize(
    ("slug", "model", "values", "put_to_use", "where"),
    IN_USE,
    ids=[case[3].__name__ for case in IN_USE],
)
def test_a_record_in_use_is_not_deleted_and_the_page_says_where_it_is_used(
    signed_in_staff, webstore, slug, model, values, put_to_use, where
):
    record = add(model, **values)
    put_to_use(webstore, record)
    db.session.commit()

    response = signed_in_staff.post(f"/accounting/{slug}/{record.id}/delete", follow_redirects=True)

    assert response.request.path == f"/accounting/{slug}/{record.id}/edit"
    message = flashed(response.text, "error")
    assert message.endswith(f"is in use, so it cannot be deleted: by {where}.")
    assert where in response.text.replace("&#39;", "'").replace("&gt;", ">")
    assert f"/{record.id}/delete" not in response.text  # no delete button for it
    assert len(all_of(model, "number" if model is GLAccount else "code")) == 1


@pytest.mark.parametrize(
    ("slug", "model", "values", "put_to_use", "where"),
    [IN_USE[2], IN_USE[15], IN_USE[22]],
    ids=["payment_method_on_orders", "vat_code_in_vat_parts", "gl_account_on_a_line"],
)
def test_a_record_in_use_keeps_its_code_but_its_other_fields_change(
    signed_in_staff, webstore, slug, model, values, put_to_use, where
):
    record = add(model, **values)
    put_to_use(webstore, record)
    db.session.commit()
    key = "number" if model is GLAccount else "code"
    edit = f"/accounting/{slug}/{record.id}/edit"
    form = signed_in_staff.get(edit).text
    text = {"payment-methods": "description", "vat-codes": "description", "gl-accounts": "name"}
    values = {**{k: str(v) for k, v in values.items()}, text[slug]: "Changed"}

    renamed = signed_in_staff.post(edit, {**values, key: "NEW"})
    changed = signed_in_staff.post(edit, values)

    assert re.search(rf'name="{key}" readonly', form)
    assert renamed.status_code == 422
    assert f"so its {key} cannot be changed: by {where}. Create a new " in error_beside(
        renamed.text, key
    )
    assert changed.status_code == 303
    [kept] = all_of(model, key)
    assert (getattr(kept, key), getattr(kept, text[slug])) == (values[key], "Changed")


def test_an_unused_compound_code_is_not_mistaken_for_one_in_use(signed_in_staff, webstore):
    """A code that is part of another ("DE7" of "DE77") is not in use for it."""
    make_order(webstore, lines=[sales_line(vat_code="DE77", vat_parts=parts("DE77", "CA-PST"))])
    de7 = add(VatCode, code="DE7", rate=Decimal(7))

    response = signed_in_staff.post(f"/accounting/vat-codes/{de7.id}/delete")

    assert response.status_code == 303
    assert all_of(VatCode) == []


# Currency exchange rates


def rate_rows() -> list[tuple[str, date, Decimal]]:
    db.session.expire_all()
    return [
        (r.currency, r.starting_date, r.rate)
        for r in db.session.scalars(
            sa.select(CurrencyExchangeRate).order_by(
                CurrencyExchangeRate.currency, CurrencyExchangeRate.starting_date
            )
        )
    ]


def add_rate(currency: str, day: str, rate: str) -> CurrencyExchangeRate:
    return add(
        CurrencyExchangeRate,
        currency=currency,
        starting_date=date.fromisoformat(day),
        rate=Decimal(rate),
    )


def upload(portal, text: str | bytes, name: str = "rates.csv", **kw):
    data = text.encode() if isinstance(text, str) else text
    return portal.post(
        "/accounting/exchange-rates/import",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kw,
    )


def test_the_page_names_the_companys_currency_and_shows_each_rate_in_it(app, signed_in_viewer):
    app.config["COMPANY_CURRENCY"] = "EUR"
    add_rate("USD", "2026-03-01", "0.92140000")
    add_rate("USD", "2026-02-01", "0.9300")
    add_rate("GBP", "2026-03-01", "1.17")

    page = signed_in_viewer.get("/accounting/exchange-rates").text

    assert re.search(r"The company's currency is <strong>EUR</strong>", page)
    assert 'role="alert"' not in page and "field-error" not in page
    assert rows_of(page, "rates-table") == [
        ["USD", "2026-03-01", "0.9214", "1 USD = 0.9214 EUR"],
        ["GBP", "2026-03-01", "1.17", "1 GBP = 1.17 EUR"],
        ["USD", "2026-02-01", "0.93", "1 USD = 0.93 EUR"],
    ]


def test_without_a_company_currency_the_page_says_orders_are_not_converted(signed_in_viewer):
    page = signed_in_viewer.get("/accounting/exchange-rates").text

    assert "No company currency is set (<code>COMPANY_CURRENCY</code>), so orders are not " in page
    assert "No exchange rates yet" in page


def test_rates_are_filtered_by_currency_newest_first(signed_in_viewer):
    add_rate("USD", "2026-01-01", "0.95")
    add_rate("USD", "2026-03-01", "0.92")
    add_rate("CHF", "2026-02-01", "1.05")

    page = signed_in_viewer.get("/accounting/exchange-rates?currency=USD").text
    fragment = signed_in_viewer.get(
        "/accounting/exchange-rates?currency=CHF", headers={"HX-Request": "true"}
    )

    assert [row[:2] for row in rows_of(page, "rates-table")] == [
        ["USD", "2026-03-01"],
        ["USD", "2026-01-01"],
    ]
    assert "Rates 1–2 of 2 of USD, newest first, page 1." in page
    assert '<option selected value="USD">USD</option>' in page
    assert fragment.text.lstrip().startswith('<div id="rates-table"')
    assert fragment.headers["HX-Push-Url"] == "/accounting/exchange-rates?currency=CHF"
    assert [row[:2] for row in rows_of(fragment.text, "rates-table")] == [["CHF", "2026-02-01"]]


def test_a_currency_without_rates_shows_all_saying_so(signed_in_viewer):
    add_rate("USD", "2026-03-01", "0.92")

    page = signed_in_viewer.get("/accounting/exchange-rates?currency=xyz").text

    assert "There are no rates of XYZ: all currencies are shown." in page
    assert [row[0] for row in rows_of(page, "rates-table")] == ["USD"]


def test_the_rates_page_by_page_newest_first(signed_in_viewer, monkeypatch):
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    for month in range(1, 6):
        add_rate("USD", f"2026-0{month}-01", "0.9")

    first = signed_in_viewer.get("/accounting/exchange-rates").text
    second = signed_in_viewer.get(next_url(first)).text
    third = signed_in_viewer.get(next_url(second)).text

    dates = [[row[1] for row in rows_of(page, "rates-table")] for page in (first, second, third)]
    assert dates == [["2026-05-01", "2026-04-01"], ["2026-03-01", "2026-02-01"], ["2026-01-01"]]


def test_staff_add_edit_and_delete_a_rate(signed_in_staff):
    form = signed_in_staff.get("/accounting/exchange-rates/new?currency=USD").text
    added = signed_in_staff.post(
        "/accounting/exchange-rates/new",
        {"currency": " usd", "starting_date": "2026-03-01", "rate": "0.92145"},
    )
    shown = signed_in_staff.get(added.headers["Location"]).text
    [rate] = all_of(CurrencyExchangeRate, "id")
    edited = signed_in_staff.post(
        f"/accounting/exchange-rates/{rate.id}/edit",
        {"currency": "USD", "starting_date": "2026-03-02", "rate": "0.93"},
    )
    after_edit = rate_rows()
    deleted = signed_in_staff.post(
        f"/accounting/exchange-rates/{rate.id}/delete", follow_redirects=True
    )

    assert 'name="csrf_token"' in form and 'value="USD"' in form
    assert added.status_code == 303
    assert added.headers["Location"] == "/accounting/exchange-rates?currency=USD"
    assert flashed(shown, "success") == "The rate of USD from 2026-03-01 saved."
    assert rows_of(shown, "rates-table")[0][:3] == ["USD", "2026-03-01", "0.92145"]
    assert edited.status_code == 303
    assert after_edit == [("USD", date(2026, 3, 2), Decimal("0.93"))]
    assert "The rate of USD from 2026-03-02 saved." in deleted.text
    assert "The rate of USD from 2026-03-02 was deleted; documents keep" in deleted.text
    assert rate_rows() == []


def test_a_second_rate_of_the_same_currency_and_day_is_refused_beside_the_date(signed_in_staff):
    add_rate("USD", "2026-03-01", "0.92")

    response = signed_in_staff.post(
        "/accounting/exchange-rates/new",
        {"currency": "USD", "starting_date": "2026-03-01", "rate": "0.95"},
    )

    assert response.status_code == 422
    assert error_beside(response.text, "starting_date") == (
        "USD has a rate from 2026-03-01 already: change that one."
    )
    assert rate_rows() == [("USD", date(2026, 3, 1), Decimal("0.92"))]


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        ({"currency": "EUR"}, "currency", "EUR is the company's currency"),
        ({"currency": "US"}, "currency", "“US” is not a currency code"),
        ({"rate": "0"}, "rate", "The rate must be a number above 0."),
        ({"rate": "1.123456789"}, "rate", "The rate has more than 8 decimals"),
        ({"rate": "1,5"}, "rate", "Not a valid decimal value."),
        ({"starting_date": "01.03.2026"}, "starting_date", "Not a valid date value."),
    ],
)
def test_a_rate_by_hand_is_refused_beside_its_field(app, signed_in_staff, form, field, error):
    app.config["COMPANY_CURRENCY"] = "EUR"
    good = {"currency": "USD", "starting_date": "2026-03-01", "rate": "0.92"}

    response = signed_in_staff.post("/accounting/exchange-rates/new", {**good, **form})

    assert response.status_code == 422
    assert error_beside(response.text, field).startswith(error)
    assert rate_rows() == []


def test_a_csv_file_adds_rates_and_replaces_those_of_the_same_currency_and_day(signed_in_staff):
    add_rate("USD", "2026-03-01", "0.90")
    add_rate("GBP", "2026-03-01", "1.17")
    csv_text = (
        "\ufeffCurrency,Starting_Date,Rate\r\n"
        "usd,2026-03-01,0.9214\r\n"
        "GBP,2026-03-01,1.17\r\n"
        "\r\n"
        '"CHF",2026-02-15,"1.0512345"\r\n'
    )

    response = upload(signed_in_staff, csv_text, follow_redirects=True)

    assert response.request.path == "/accounting/exchange-rates"
    assert flashed(response.text, "success") == (
        "Imported rates.csv: 1 rates added, 1 changed, 1 already as in the file."
    )
    assert rate_rows() == [
        ("CHF", date(2026, 2, 15), Decimal("1.0512345")),
        ("GBP", date(2026, 3, 1), Decimal("1.17")),
        ("USD", date(2026, 3, 1), Decimal("0.9214")),
    ]


def test_columns_may_come_in_any_order(signed_in_staff):
    response = upload(signed_in_staff, "rate,currency,starting_date\n0.5,PLN,2026-01-01\n")

    assert response.status_code == 303
    assert rate_rows() == [("PLN", date(2026, 1, 1), Decimal("0.5"))]


def test_a_file_with_bad_rows_imports_nothing_and_names_each_row_and_its_fault(
    app, signed_in_staff
):
    app.config["COMPANY_CURRENCY"] = "EUR"
    add_rate("USD", "2026-03-01", "0.90")
    csv_text = (
        "currency,starting_date,rate\n"
        "USD,2026-03-01,0.9214\n"
        "GBP,03/01/2026,1.17\n"
        "CHF,2026-02-30,1.05\n"
        "EUR,2026-03-01,1\n"
        "JPY,2026-03-01,0.0061234567\n"
        "SEK,2026-03-01,\n"
        "NOK,2026-03-01,-0.08\n"
        "DKK,2026-03-01,0,134\n"
        "USD,2026-03-01,0.93\n"
        "PLN\n"
    )

    response = upload(signed_in_staff, csv_text)

    assert response.status_code == 422
    problems = re.findall(r"<li>Row (\d+): (.*?)</li>", response.text, re.S)
    assert [(int(row), text.replace("&#39;", "'")) for row, text in problems] == [
        (3, "“03/01/2026” is not a date written YYYY-MM-DD (2026-03-01)."),
        (4, "“2026-02-30” is not a date written YYYY-MM-DD (2026-03-01)."),
        (
            5,
            "EUR is the company's currency: one EUR is always 1 EUR. Enter the rates of the "
            "other currencies.",
        ),
        (
            6,
            "The rate has more than 8 decimals, which the ERP does not keep: give it with "
            "fewer, so that nothing is rounded.",
        ),
        (7, "The rate “” is not a number with a decimal point (1.0845)."),
        (8, "The rate “-0.08” is not a number with a decimal point (1.0845)."),
        (
            9,
            "It has 4 values where the header names 3 columns. Write rates with a decimal "
            "point (1.0845), without thousands separators.",
        ),
        (10, "USD from 2026-03-01 is on row 2 already."),
        (
            11,
            "It has 1 values where the header names 3 columns. Write rates with a decimal "
            "point (1.0845), without thousands separators.",
        ),
    ]
    assert "Nothing was imported: 9 rows are not right." in response.text
    assert rate_rows() == [("USD", date(2026, 3, 1), Decimal("0.90"))]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "The file is empty: it needs a header row and a rate a row."),
        (b"currency,starting_date,rate\n", "The file has a header row but no rates."),
        (
            b"Currency;Starting date;Rate\nUSD;2026-03-01;0,92\n",
            "The columns are separated by semicolons: save the file with commas between them",
        ),
        (
            b"code,day,rate\nUSD,2026-03-01,0.92\n",
            "The first row must name the columns currency, starting_date and rate; this "
            "file's names 'code', 'day', 'rate'.",
        ),
        ("currency,starting_date,rate\nUSD,2026-03-01,0.92\n".encode("utf-16"), "not UTF-8"),
    ],
    ids=["empty", "header-only", "semicolons", "other-columns", "utf-16"],
)
def test_a_file_that_is_not_a_rates_csv_is_refused_saying_why(signed_in_staff, content, error):
    response = upload(signed_in_staff, content)

    assert response.status_code == 422
    assert error in error_beside(response.text, "file")
    assert rate_rows() == []


def test_an_upload_without_a_file_is_refused_beside_the_field(signed_in_staff):
    response = signed_in_staff.post(
        "/accounting/exchange-rates/import", {}, content_type="multipart/form-data"
    )

    assert response.status_code == 422
    assert error_beside(response.text, "file") == "Choose the CSV file to import."


def test_a_file_larger_than_the_portal_takes_is_refused_whole(app, signed_in_staff):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    lines = "".join(f"USD,2026-01-{day:02d},0.9\n" for day in range(1, 29)) * 4

    response = upload(signed_in_staff, "currency,starting_date,rate\n" + lines)

    assert response.status_code == 413
    assert rate_rows() == []


# Who may do what, and CSRF


def test_viewers_read_every_page_but_get_403_on_every_change(signed_in_viewer, webstore):
    vat = add(VatCode, code="DE19", rate=Decimal(19))
    rate = add_rate("USD", "2026-03-01", "0.92")

    pages = [f"/accounting/{slug}" for slug in TABLES] + ["/accounting/exchange-rates"]
    writes = [
        f"/accounting/vat-codes/{vat.id}/edit",
        f"/accounting/vat-codes/{vat.id}/delete",
        "/accounting/payment-methods/new",
        f"/accounting/exchange-rates/{rate.id}/edit",
        f"/accounting/exchange-rates/{rate.id}/delete",
        "/accounting/exchange-rates/new",
    ]

    for url in pages:
        page = signed_in_viewer.get(url)
        assert page.status_code == 200, url
        assert "/new" not in page.text and "/delete" not in page.text and "/edit" not in page.text
    assert "Import rates from a CSV file" not in signed_in_viewer.get(pages[-1]).text
    assert signed_in_viewer.get(f"/accounting/vat-codes/{vat.id}/edit").status_code == 403
    for url in writes:
        assert signed_in_viewer.post(url, {"code": "X", "rate": "1"}).status_code == 403, url
    assert (
        upload(signed_in_viewer, "currency,starting_date,rate\nGBP,2026-01-01,1.1\n").status_code
        == 403
    )
    assert [v.code for v in all_of(VatCode)] == ["DE19"]
    assert rate_rows() == [("USD", date(2026, 3, 1), Decimal("0.92"))]


def test_admins_edit_as_staff_do(signed_in_admin):
    response = signed_in_admin.post("/accounting/payment-methods/new", {"code": "cash"})

    assert response.status_code == 303
    assert [m.code for m in all_of(PaymentMethod)] == ["CASH"]


def test_the_pages_need_a_sign_in(client):
    for url in ("/accounting/vat-codes", "/accounting/exchange-rates"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_every_form_carries_a_csrf_token(signed_in_staff):
    vat = add(VatCode, code="DE19", rate=Decimal(19))
    rate = add_rate("USD", "2026-03-01", "0.92")
    forms = [f"/accounting/{slug}/new" for slug in TABLES]
    forms += [f"/accounting/vat-codes/{vat.id}/edit", "/accounting/exchange-rates/new"]

    for url in forms:
        assert 'name="csrf_token" type="hidden"' in signed_in_staff.get(url).text, url
    edit = signed_in_staff.get(f"/accounting/vat-codes/{vat.id}/edit").text
    rates_page = signed_in_staff.get("/accounting/exchange-rates").text
    delete_form = re.search(r'<form method="post" action="[^"]+/delete".*?</form>', edit, re.S)[0]
    assert 'name="csrf_token"' in delete_form
    import_form = rates_page[rates_page.index('action="/accounting/exchange-rates/import"') :]
    assert 'name="csrf_token"' in import_form[: import_form.index("</form>")]
    rate_delete = rates_page[rates_page.index(f'/exchange-rates/{rate.id}/delete"') :]
    assert 'name="csrf_token"' in rate_delete[: rate_delete.index("</form>")]


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(signed_in_staff):
    vat = add(VatCode, code="DE19", rate=Decimal(19))
    raw = signed_in_staff.client

    created = raw.post("/accounting/payment-methods/new", data={"code": "CASH"})
    deleted = raw.post(f"/accounting/vat-codes/{vat.id}/delete")
    imported = raw.post(
        "/accounting/exchange-rates/import",
        data={"file": (io.BytesIO(b"currency,starting_date,rate\nUSD,2026-01-01,1\n"), "r.csv")},
        content_type="multipart/form-data",
    )

    assert (created.status_code, deleted.status_code, imported.status_code) == (400, 400, 400)
    assert "Reload the page and try again." in created.text
    assert all_of(PaymentMethod) == [] and len(all_of(VatCode)) == 1 and rate_rows() == []
