"""Where a payment method, shipment method, shipping agent, VAT code or G/L account is used.

Documents keep these codes as text (a sales order's ``payment_method_code``, a line's
``vat_code``), so renaming or deleting a code in use would leave them naming nothing: the
pages refuse, and say where it is used, so that a person can find it. Each place is a
sentence: a webstore's mapping or setting names its page; documents are named by number,
the first few of them.
"""

import json

import sqlalchemy as sa

from portal import db
from portal.models import (
    CreditMemoLine,
    GLAccount,
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
    Webstore,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.paging import escape_like

# Documents named in a message; more are "and more".
NAMED = 3

# (singular, plural) of each kind of document.
SALES_ORDERS = ("sales order", "sales orders")
CREDIT_MEMOS = ("sales credit memo", "sales credit memos")
POSTED_INVOICES = ("posted sales invoice", "posted sales invoices")
POSTED_CREDIT_MEMOS = ("posted credit memo", "posted credit memos")


def mappings(column, record_id: int, page: str) -> list[str]:
    """The webstores whose mappings (rows of ``column``'s table) name the record."""
    mapping = column.class_
    codes = db.session.scalars(
        sa.select(Webstore.code)
        .join(mapping, mapping.webstore_id == Webstore.id)
        .where(column == record_id)
        .distinct()
        .order_by(Webstore.code)
    )
    return [f"webstore {code}'s mappings (Setup > Webstores > {code} > {page})" for code in codes]


def webstore_setting(column, record_id: int, setting: str) -> list[str]:
    codes = db.session.scalars(
        sa.select(Webstore.code).where(column == record_id).order_by(Webstore.code)
    )
    return [f"webstore {code}'s {setting} (Setup > Webstores > {code})" for code in codes]


def documents(kind: tuple[str, str], numbers) -> list[str]:
    """The first few document numbers that ``numbers`` (a select of one column) finds, in
    a phrase: "sales orders SO00001, SO00002, SO00003 and more"."""
    column = numbers.selected_columns[0]
    found = list(db.session.scalars(numbers.distinct().order_by(column).limit(NAMED + 1)))
    if not found:
        return []
    if len(found) == 1:
        return [f"{kind[0]} {found[0]}"]
    more = " and more" if len(found) > NAMED else ""
    return [f"{kind[1]} {', '.join(found[:NAMED])}{more}"]


def numbers(document, *conditions):
    return sa.select(document.number).where(*conditions)


def numbers_by_line(document, line_parent, *conditions):
    """The numbers of the documents with a line (whose column ``line_parent`` holds its
    document's id) that meets ``conditions``."""
    return (
        sa.select(document.number)
        .join(line_parent.class_, line_parent == document.id)
        .where(*conditions)
    )


# Each kind of document with lines, and its lines' column that holds the document's id.
LINES = (
    (SALES_ORDERS, SalesOrder, SalesLine.sales_order_id),
    (CREDIT_MEMOS, SalesCreditMemo, CreditMemoLine.credit_memo_id),
    (POSTED_INVOICES, PostedSalesInvoice, PostedSalesInvoiceLine.invoice_id),
    (POSTED_CREDIT_MEMOS, PostedCreditMemo, PostedCreditMemoLine.credit_memo_id),
)


def documents_with_lines(condition) -> list[str]:
    """Documents of every kind with a line that meets ``condition(line model)``."""
    return [
        use
        for kind, document, parent in LINES
        for use in documents(kind, numbers_by_line(document, parent, condition(parent.class_)))
    ]


def lines_with_code(line, code: str):
    """A line whose VAT code is ``code``, as its first code or as a compound rate's second
    (only in ``vat_parts``: JSON as text, written by SQLAlchemy (``"code": "X"``) or by the
    batch writer's orjson (``"code":"X"``, non-ASCII as is))."""
    written = {json.dumps(code), json.dumps(code, ensure_ascii=False)}
    patterns = [f'%"code":{space}{escape_like(text)}%' for text in written for space in ("", " ")]
    as_text = sa.cast(line.vat_parts, sa.Text)
    return sa.or_(line.vat_code == code, *(as_text.like(p, escape="/") for p in patterns))


def orders_and_invoices(column: str, code: str) -> list[str]:
    """Sales orders and posted invoices that carry ``code`` in their text ``column``."""
    return [
        use
        for kind, document in ((SALES_ORDERS, SalesOrder), (POSTED_INVOICES, PostedSalesInvoice))
        for use in documents(kind, numbers(document, getattr(document, column) == code))
    ]


def payment_method_uses(method: PaymentMethod) -> list[str]:
    return [
        *mappings(WebstorePaymentMapping.payment_method_id, method.id, "Payment methods"),
        *webstore_setting(Webstore.default_payment_method_id, method.id, "default payment method"),
        *orders_and_invoices("payment_method_code", method.code),
    ]


def shipment_method_uses(method: ShipmentMethod) -> list[str]:
    return [
        *mappings(WebstoreShippingMapping.shipment_method_id, method.id, "Shipping methods"),
        *orders_and_invoices("shipment_method_code", method.code),
    ]


def shipping_agent_uses(agent: ShippingAgent) -> list[str]:
    return [
        *mappings(WebstoreShippingMapping.shipping_agent_id, agent.id, "Shipping methods"),
        *orders_and_invoices("shipping_agent_code", agent.code),
    ]


def vat_code_uses(vat_code: VatCode) -> list[str]:
    code = vat_code.code
    return [
        *mappings(WebstoreTaxMapping.vat_code_id, vat_code.id, "Tax rates"),
        *webstore_setting(Webstore.untaxed_vat_code_id, vat_code.id, "VAT code for untaxed lines"),
        *webstore_setting(
            Webstore.reverse_charge_vat_code_id, vat_code.id, "reverse-charge VAT code"
        ),
        *documents_with_lines(lambda line: lines_with_code(line, code)),
    ]


def gl_account_uses(account: GLAccount) -> list[str]:
    def booked_on_it(line):
        # Posted lines keep the account's number; the others its id.
        if hasattr(line, "account_id"):
            return line.account_id == account.id
        return line.account_number == account.number

    return [
        *webstore_setting(Webstore.shipping_account_id, account.id, "account for shipping"),
        *webstore_setting(Webstore.fee_account_id, account.id, "account for fees"),
        *webstore_setting(
            Webstore.negative_fee_account_id, account.id, "account for negative fees"
        ),
        *documents_with_lines(booked_on_it),
    ]
