"""Posting makes documents: a sales order becomes a Posted Sales Invoice, a credit memo a
Posted Credit Memo, each an immutable copy (header, lines with their VAT codes) with one VAT
entry per VAT code, as Business Central posts them.

Both are called inside the transaction that changes the document's status, after the
conditional UPDATE that changed it: a rollback takes the posted document (and its number)
back with the status. The unique ``sales_order_id`` / ``credit_memo_id`` backs that up, so
a document posts once; asked a second time, these return the one already made.

VAT entries are the document's VAT summary signed as the books read it: an invoice's base
and VAT positive, a credit memo's negative, dated on the document's own day (the order's or
the refund's, as the store's tax report dates them). A line without VAT parts (imported
before VAT codes, or nothing mapped) adds its net and tax to the code "" ("No VAT code").
Nothing here updates or deletes a posted document: there is no such function.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    CreditMemoLine,
    GLAccount,
    Item,
    PostedCreditMemo,
    PostedCreditMemoLine,
    PostedSalesInvoice,
    PostedSalesInvoiceLine,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    User,
    VatDocumentType,
    VatEntry,
)
from portal.sync import vat
from portal.sync.exchange_rates import company_currency
from portal.sync.money import in_company_currency, unit_price
from portal.sync.numbers import next_number

# The summary row of lines without VAT parts.
NO_VAT_CODE = ""


def line_parts(line: SalesLine | CreditMemoLine) -> list[vat.VatPart]:
    """The line's VAT parts; a line without any counts under "No VAT code"."""
    parts = vat.parts_from_json(line.vat_parts)
    if parts:
        return parts
    return [vat.VatPart(NO_VAT_CODE, None, Decimal(0), line.amount, line.tax_amount)]


def vat_summary(lines: Iterable[SalesLine | CreditMemoLine]) -> list[vat.SummaryRow]:
    """A document's VAT summary per code, lines without parts under "No VAT code"."""
    return vat.summary(line_parts(line) for line in lines)


def carries_vat_codes(lines: Iterable[SalesLine | CreditMemoLine]) -> bool:
    """Whether any line carries VAT parts: a document imported before VAT codes carries
    none, and its pages show no VAT codes."""
    return any(line.vat_parts for line in lines)


def post_sales_invoice(order: SalesOrder, user: User | None) -> PostedSalesInvoice:
    """The Posted Sales Invoice of ``order``, made now (or the one made already)."""

    def invoice() -> PostedSalesInvoice:
        return PostedSalesInvoice(
            number=next_number("PSI"),
            sales_order_id=order.id,
            order_number=order.number,
            document_date=order.order_date,
            payment_method_code=order.payment_method_code,
            shipment_method_code=order.shipment_method_code,
            shipping_agent_code=order.shipping_agent_code,
            shipping_carrier=order.shipping_carrier,
            tracking_number=order.tracking_number,
            **header(order, order, user),
            lines=posted_lines(PostedSalesInvoiceLine, order.lines, order),
        )

    found = PostedSalesInvoice.sales_order_id == order.id
    return post_once(PostedSalesInvoice, found, invoice, order.lines, VatDocumentType.INVOICE)


def post_credit_memo(memo: SalesCreditMemo, user: User | None) -> PostedCreditMemo:
    """The Posted Credit Memo of ``memo``, made now (or the one made already)."""

    def posted_memo() -> PostedCreditMemo:
        return PostedCreditMemo(
            number=next_number("PCM"),
            credit_memo_id=memo.id,
            credit_memo_number=memo.number,
            order_number=memo.sales_order.number,
            woo_refund_id=memo.woo_refund_id,
            reason=memo.reason,
            document_date=memo.memo_date,
            **header(memo, memo.sales_order, user),
            lines=posted_lines(PostedCreditMemoLine, memo.lines, memo),
        )

    found = PostedCreditMemo.credit_memo_id == memo.id
    return post_once(PostedCreditMemo, found, posted_memo, memo.lines, VatDocumentType.CREDIT_MEMO)


def post_once(model, found, make, lines, kind: VatDocumentType):
    """The posted document of ``model`` that ``found`` finds; else the one ``make`` makes
    now (taking its number), with a VAT entry per code of ``lines``: an invoice's positive,
    a memo's negative."""
    existing = db.session.scalar(sa.select(model).where(found))
    if existing is not None:
        return existing
    document = make()
    db.session.add(document)
    db.session.flush()
    sign = 1 if kind == VatDocumentType.INVOICE else -1
    db.session.add_all(vat_entries(document, vat_summary(lines), kind, sign))
    db.session.flush()
    return document


def header(document: SalesOrder | SalesCreditMemo, order: SalesOrder, user: User | None) -> dict:
    """What a posted document copies of the document posted and of its sales order."""
    return {
        "webstore_id": document.webstore_id,
        "customer_id": order.customer_id,
        "customer_number": order.customer.number,
        "customer_name": order.sell_to_name or order.customer.name,
        "vat_number": order.vat_number,
        "external_document_no": order.external_document_no,
        "woo_order_id": document.woo_order_id,
        "posting_date": datetime.now(UTC).date(),
        "currency": document.currency,
        "currency_decimals": document.currency_decimals,
        "exchange_rate": document.exchange_rate,
        "amount": document.amount,
        "tax_amount": document.tax_amount,
        "amount_including_tax": document.amount_including_tax,
        "amount_lcy": document.amount_lcy,
        "tax_amount_lcy": document.tax_amount_lcy,
        "amount_including_tax_lcy": document.amount_including_tax_lcy,
        "posted_by_id": user.id if user is not None else None,
    }


def posted_lines(model, lines: list, document) -> list:
    """The posted lines of ``model`` copied from a document's ``lines``: what each was
    booked on by number (items and accounts may be renumbered later), read in a query each."""
    items = numbers_of(Item, {line.item_id for line in lines})
    accounts = numbers_of(GLAccount, {line.account_id for line in lines})
    return [model(**line_copy(line, document, items, accounts)) for line in lines]


def numbers_of(model, ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    return dict(
        db.session.execute(sa.select(model.id, model.number).where(model.id.in_(ids))).all()
    )


def line_copy(line: SalesLine | CreditMemoLine, document, items: dict, accounts: dict) -> dict:
    """A posted line's columns, copied from a sales line or a credit memo line."""
    price = getattr(line, "unit_price", None)
    if price is None:  # a credit memo line keeps its amount and quantity only
        price = (
            unit_price(line.amount, line.quantity, document.currency_decimals)
            if line.quantity
            else line.amount
        )
    return {
        "line_no": line.line_no,
        "line_type": str(line.line_type),
        "item_number": items.get(line.item_id, ""),
        "account_number": accounts.get(line.account_id, ""),
        "description": line.description,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": price,
        "line_discount": getattr(line, "line_discount", Decimal(0)),
        "amount": line.amount,
        "tax_amount": line.tax_amount,
        "vat_code": line.vat_code,
        "vat_parts": line.vat_parts,
    }


def vat_entries(document, rows: list[vat.SummaryRow], kind: VatDocumentType, sign: int):
    """One VAT entry per summary row, signed, and in the company's currency beside."""
    company = company_currency()
    rate = document.exchange_rate

    def in_lcy(amount: Decimal) -> Decimal:
        return in_company_currency(amount, rate, company) if rate and company else amount

    invoice_id = document.id if kind == VatDocumentType.INVOICE else None
    memo_id = document.id if kind == VatDocumentType.CREDIT_MEMO else None
    return [
        VatEntry(
            document_type=kind.value,
            document_no=document.number,
            invoice_id=invoice_id,
            credit_memo_id=memo_id,
            webstore_id=document.webstore_id,
            vat_date=document.document_date,
            posting_date=document.posting_date,
            vat_code=row.code,
            vat_rate=row.rate,
            currency=document.currency,
            currency_decimals=document.currency_decimals,
            base=signed(row.base, sign),
            amount=signed(row.amount, sign),
            base_lcy=in_lcy(signed(row.base, sign)),
            amount_lcy=in_lcy(signed(row.amount, sign)),
        )
        for row in rows
    ]


def signed(amount: Decimal, sign: int) -> Decimal:
    """``amount`` with ``sign``; a zero stays 0.00, never -0.00."""
    return sign * amount if amount else abs(amount)
