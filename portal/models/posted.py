"""Posted documents: what posting a sales order or a credit memo produced. Immutable copies
(nothing updates or deletes them), each with its lines and VAT entries, in the manner of
Business Central's Posted Sales Invoices, Posted Sales Credit Memos and VAT Entries."""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounting import ExchangeRate, VatRate
from portal.models.base import Base, Money, Quantity, UnitPrice, UTCDateTime, utcnow


class PostedDocument:
    """The columns a posted invoice and a posted credit memo share."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    # Copies, as they were when posted.
    customer_number: Mapped[str] = mapped_column(sa.String(20))
    customer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    vat_number: Mapped[str] = mapped_column(sa.String(50), default="")
    order_number: Mapped[str] = mapped_column(sa.String(20), index=True)
    external_document_no: Mapped[str] = mapped_column(sa.String(35), default="", index=True)
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    # The day it was posted; the document's own day (the store's order or refund day), which
    # is also its VAT date: the VAT report reads it, so it agrees with the store's reports.
    posting_date: Mapped[date] = mapped_column(sa.Date)
    document_date: Mapped[date] = mapped_column(sa.Date, index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    currency_decimals: Mapped[int] = mapped_column(sa.SmallInteger, default=2)
    # Company currency per unit of ``currency``; None where they are the same (or no company
    # currency is set).
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExchangeRate)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount_including_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
    tax_amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
    amount_including_tax_lcy: Mapped[Decimal | None] = mapped_column(Money)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostedSalesInvoice(PostedDocument, Base):
    __tablename__ = "posted_sales_invoices"

    # Unique: posting a sales order twice (two clicks, two workers) makes one invoice.
    sales_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_orders.id"), unique=True)
    payment_method_code: Mapped[str] = mapped_column(sa.String(10), default="")
    shipment_method_code: Mapped[str] = mapped_column(sa.String(10), default="")
    shipping_agent_code: Mapped[str] = mapped_column(sa.String(10), default="")
    shipping_carrier: Mapped[str] = mapped_column(sa.String(50), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(100), default="")

    lines: Mapped[list["PostedSalesInvoiceLine"]] = relationship(
        order_by="PostedSalesInvoiceLine.line_no", cascade="all, delete-orphan"
    )
    vat_entries: Mapped[list["VatEntry"]] = relationship(order_by="VatEntry.vat_code")


class PostedCreditMemo(PostedDocument, Base):
    __tablename__ = "posted_credit_memos"

    # Unique: a credit memo posts once.
    credit_memo_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_credit_memos.id"), unique=True)
    credit_memo_number: Mapped[str] = mapped_column(sa.String(20), index=True)
    woo_refund_id: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    lines: Mapped[list["PostedCreditMemoLine"]] = relationship(
        order_by="PostedCreditMemoLine.line_no", cascade="all, delete-orphan"
    )
    vat_entries: Mapped[list["VatEntry"]] = relationship(order_by="VatEntry.vat_code")


class PostedLine:
    """The columns of a posted line, copied from the document's line."""

    id: Mapped[int] = mapped_column(primary_key=True)
    line_no: Mapped[int]
    line_type: Mapped[str] = mapped_column(sa.String(16))
    # What it was booked on: an item (number), or a G/L account (number), or neither.
    item_number: Mapped[str] = mapped_column(sa.String(20), default="")
    account_number: Mapped[str] = mapped_column(sa.String(20), default="")
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    sku: Mapped[str] = mapped_column(sa.String(100), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice, default=Decimal("0"))
    line_discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    vat_code: Mapped[str] = mapped_column(sa.String(20), default="")
    # Each VAT code the line carries (portal.sync.vat.VatPart as JSON).
    vat_parts: Mapped[list | None] = mapped_column(sa.JSON)


class PostedSalesInvoiceLine(PostedLine, Base):
    __tablename__ = "posted_sales_invoice_lines"

    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("posted_sales_invoices.id", ondelete="CASCADE"), index=True
    )


class PostedCreditMemoLine(PostedLine, Base):
    __tablename__ = "posted_credit_memo_lines"

    credit_memo_id: Mapped[int] = mapped_column(
        sa.ForeignKey("posted_credit_memos.id", ondelete="CASCADE"), index=True
    )


class VatDocumentType(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit_memo"


class VatEntry(Base):
    """A posted document's VAT for one VAT code: its summary row, and what the VAT report
    adds up. Signed as the books read it: an invoice's base and VAT positive, a credit
    memo's negative, so a period's VAT is their sum."""

    __tablename__ = "vat_entries"
    __table_args__ = (sa.Index("ix_vat_entries_date_code", "vat_date", "vat_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(sa.String(16))
    document_no: Mapped[str] = mapped_column(sa.String(20), index=True)
    invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("posted_sales_invoices.id"), index=True
    )
    credit_memo_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("posted_credit_memos.id"), index=True
    )
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id"))
    vat_date: Mapped[date] = mapped_column(sa.Date)
    posting_date: Mapped[date] = mapped_column(sa.Date)
    vat_code: Mapped[str] = mapped_column(sa.String(20))
    vat_rate: Mapped[Decimal] = mapped_column(VatRate, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    currency_decimals: Mapped[int] = mapped_column(sa.SmallInteger, default=2)
    base: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    # In the company's currency (equal to base and amount where the document is in it).
    base_lcy: Mapped[Decimal | None] = mapped_column(Money)
    amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
