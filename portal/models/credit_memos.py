"""Sales credit memos: the ERP's document of a store refund of an imported order."""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounting import ExchangeRate
from portal.models.base import Base, Money, Quantity, UTCDateTime, enum_type, utcnow
from portal.models.erp import Item, SalesOrder
from portal.models.webstores import Webstore


class CreditMemoStatus(enum.StrEnum):
    OPEN = "open"
    POSTED = "posted"


class CreditMemoLineType(enum.StrEnum):
    ITEM = "item"  # a refunded order line, on its item
    SHIPPING = "shipping"
    FEE = "fee"
    AMOUNT = "amount"  # a refund without lines: its amount on the webstore's refund item


class SalesCreditMemo(Base):
    """One store refund, credited once: (webstore, refund id) is unique, so a refund met by
    two runs, or by a run and a webhook, makes one memo."""

    __tablename__ = "sales_credit_memos"
    __table_args__ = (
        sa.UniqueConstraint("webstore_id", "woo_refund_id"),
        sa.Index("ix_sales_credit_memos_status_date", "status", "memo_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id"))
    sales_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_orders.id"), index=True)
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    woo_refund_id: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[CreditMemoStatus] = mapped_column(
        enum_type(CreditMemoStatus, 16), default=CreditMemoStatus.OPEN
    )
    # The refund's day in the store's calendar, and its moment.
    memo_date: Mapped[date] = mapped_column(sa.Date)
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    currency: Mapped[str] = mapped_column(sa.String(3))
    # Its sales order's: the decimals its amounts are in.
    currency_decimals: Mapped[int] = mapped_column(sa.SmallInteger, default=2, server_default="2")
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # Equal to the refund's amount, to its last unit.
    amount_including_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # As its sales order's: company currency per unit, and the amounts in it (None: same).
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExchangeRate)
    amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
    tax_amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
    amount_including_tax_lcy: Mapped[Decimal | None] = mapped_column(Money)
    sync_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sync_runs.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sales_order: Mapped[SalesOrder] = relationship()
    webstore: Mapped[Webstore] = relationship()
    lines: Mapped[list["CreditMemoLine"]] = relationship(
        back_populates="credit_memo",
        order_by="CreditMemoLine.line_no",
        cascade="all, delete-orphan",
    )


class CreditMemoLine(Base):
    __tablename__ = "credit_memo_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_memo_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_credit_memos.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int]
    line_type: Mapped[CreditMemoLineType] = mapped_column(enum_type(CreditMemoLineType, 16))
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    sku: Mapped[str] = mapped_column(sa.String(100), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # Whether the store put the refunded goods back into stock, where it says.
    restocked: Mapped[bool | None] = mapped_column()
    # The store's order line this line refunds.
    woo_line_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # As a sales line's: what it was booked on besides an item, and its VAT.
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gl_accounts.id"))
    vat_code: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    vat_parts: Mapped[list | None] = mapped_column(sa.JSON)

    credit_memo: Mapped[SalesCreditMemo] = relationship(back_populates="lines")
    item: Mapped[Item | None] = relationship()
