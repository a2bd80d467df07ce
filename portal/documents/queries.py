"""Reading posted documents for the pages: the lists (searched, filtered, keyset-paged by
number, newest first) and one document with its lines and VAT entries."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal import db
from portal.documents.forms import DocumentFilters
from portal.models import (
    PostedCreditMemo,
    PostedSalesInvoice,
    SalesCreditMemo,
    User,
    Webstore,
)
from portal.paging import Page, contains, contains_text, keyset_page
from portal.sync import vat
from portal.sync.exchange_rates import company_currency
from portal.sync.money import minor_unit
from portal.sync.posting import signed

PER_PAGE = 50


@dataclass(frozen=True)
class Kind:
    """A kind of posted document, as its pages show it."""

    model: type
    title: str  # "Posted Sales Invoices"
    name: str  # "posted invoice"
    list_endpoint: str
    show_endpoint: str
    id_arg: str  # the show endpoint's
    posted_from: str  # what posting makes one: "sales order"
    placeholder: str

    @property
    def invoices(self) -> bool:
        return self.model is PostedSalesInvoice


INVOICES = Kind(
    PostedSalesInvoice,
    "Posted Sales Invoices",
    "posted invoice",
    "documents.invoices",
    "documents.invoice",
    "invoice_id",
    "sales order",
    "PSI00012, SO00040, 1042 or a name",
)
CREDIT_MEMOS = Kind(
    PostedCreditMemo,
    "Posted Credit Memos",
    "posted credit memo",
    "documents.credit_memos",
    "documents.credit_memo",
    "memo_id",
    "credit memo",
    "PCM00003, CM00007, SO00040, 1042 or a name",
)


def conditions(model, filters: DocumentFilters) -> list:
    """The document's number, its order's (the sales order's or the store's, ``#1042`` as
    the store writes it), its customer's number or name; its credit memo's number; a
    webstore; document dates."""
    found = []
    if term := filters.search.removeprefix("#").strip():
        matches = [
            contains(model.number, term),
            contains(model.order_number, term),
            contains(model.external_document_no, term),
            contains(model.customer_number, term),
            contains_text(model.customer_name, term),
        ]
        if model is PostedCreditMemo:
            matches.append(contains(model.credit_memo_number, term))
        found.append(sa.or_(*matches))
    if filters.webstore_id:
        found.append(model.webstore_id == filters.webstore_id)
    if filters.date_from:
        found.append(model.document_date >= filters.date_from)
    if filters.date_to:
        found.append(model.document_date <= filters.date_to)
    return found


def list_documents(kind: Kind, filters: DocumentFilters, **position) -> Page:
    """Newest first, by number (unique, so indexed)."""
    where = conditions(kind.model, filters)
    return keyset_page(
        sa.select(kind.model).where(*where),
        kind.model,
        (kind.model.number,),
        where,
        descending=True,
        per_page=PER_PAGE,
        **position,
    )


@dataclass(frozen=True)
class CompanyCurrency:
    """The company's currency (``COMPANY_CURRENCY``) as pages show amounts in it."""

    code: str

    @property
    def name(self) -> str:
        return self.code or "the company's currency"

    @property
    def decimals(self) -> int:
        return minor_unit(self.code) if self.code else 2


def company() -> CompanyCurrency:
    return CompanyCurrency(company_currency() or "")


def webstores() -> list[Webstore]:
    return list(db.session.scalars(sa.select(Webstore).order_by(Webstore.code)))


def webstore_codes() -> dict[int, str]:
    return dict(db.session.execute(sa.select(Webstore.id, Webstore.code)).all())


@dataclass
class DocumentView:
    """A posted document with what its page shows beside it."""

    document: PostedSalesInvoice | PostedCreditMemo
    webstore: Webstore
    posted_by: User | None
    # The sales order it came from (an invoice's, a memo's through its credit memo), and
    # the credit memo (a memo's); None where deleted since (they never are once posted).
    sales_order_id: int | None
    credit_memo_id: int | None = None

    @property
    def converted(self) -> bool:
        return self.document.exchange_rate is not None

    @property
    def vat_summary(self) -> list[vat.SummaryRow]:
        """The summary as the VAT entries keep it, unsigned: the document's own view."""
        sign = -1 if isinstance(self.document, PostedCreditMemo) else 1
        return [
            vat.SummaryRow(e.vat_code, e.vat_rate, signed(e.base, sign), signed(e.amount, sign))
            for e in self.document.vat_entries
        ]


def get_invoice(invoice_id: int) -> DocumentView | None:
    invoice = load(PostedSalesInvoice, invoice_id)
    if invoice is None:
        return None
    return DocumentView(invoice, webstore_of(invoice), posted_by(invoice), invoice.sales_order_id)


def get_credit_memo(memo_id: int) -> DocumentView | None:
    memo = load(PostedCreditMemo, memo_id)
    if memo is None:
        return None
    sales_order_id = db.session.scalar(
        sa.select(SalesCreditMemo.sales_order_id).where(SalesCreditMemo.id == memo.credit_memo_id)
    )
    return DocumentView(
        memo, webstore_of(memo), posted_by(memo), sales_order_id, memo.credit_memo_id
    )


def load(model, document_id: int):
    return db.session.scalar(
        sa.select(model)
        .where(model.id == document_id)
        .options(selectinload(model.lines), selectinload(model.vat_entries))
    )


def webstore_of(document) -> Webstore:
    return db.session.get(Webstore, document.webstore_id)


def posted_by(document) -> User | None:
    return db.session.get(User, document.posted_by_id) if document.posted_by_id else None


# What the sales order and credit memo pages link to


def invoice_of(sales_order_id: int) -> PostedSalesInvoice | None:
    return db.session.scalar(
        sa.select(PostedSalesInvoice).where(PostedSalesInvoice.sales_order_id == sales_order_id)
    )


def posted_memo_of(credit_memo_id: int) -> PostedCreditMemo | None:
    return db.session.scalar(
        sa.select(PostedCreditMemo).where(PostedCreditMemo.credit_memo_id == credit_memo_id)
    )


def posted_memos_of(sales_order_id: int) -> list[PostedCreditMemo]:
    return list(
        db.session.scalars(
            sa.select(PostedCreditMemo)
            .join(SalesCreditMemo, SalesCreditMemo.id == PostedCreditMemo.credit_memo_id)
            .where(SalesCreditMemo.sales_order_id == sales_order_id)
            .order_by(PostedCreditMemo.number)
        )
    )
