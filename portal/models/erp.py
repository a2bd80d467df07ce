"""The ERP records that imports create, in the manner of Business Central."""

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.accounting import ExchangeRate, GLAccount
from portal.models.base import (
    Base,
    Money,
    Quantity,
    UnitPrice,
    UTCDateTime,
    enum_type,
    utcnow,
)


class NumberSeries(Base):
    """The last number handed out in a series (C00001, I00001, SO00001...).

    A number is taken by an UPDATE in the same transaction as the record it numbers,
    so a rolled-back import gives its number back and numbers never repeat.
    """

    __tablename__ = "number_series"

    code: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(10))
    digits: Mapped[int] = mapped_column(default=5)
    last_no: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def format(self, value: int) -> str:
        return f"{self.prefix}{value:0{self.digits}d}"


class CustomerTemplate(Base):
    """The defaults a new customer takes."""

    __tablename__ = "customer_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    description: Mapped[str] = mapped_column(sa.String(100), default="")
    payment_terms: Mapped[str] = mapped_column(sa.String(20), default="")
    customer_posting_group: Mapped[str] = mapped_column(sa.String(20), default="")
    tax_area: Mapped[str] = mapped_column(sa.String(20), default="")
    currency: Mapped[str] = mapped_column(sa.String(3), default="")

    def __str__(self) -> str:
        return f"{self.code} ({self.description})" if self.description else self.code


class ItemType(enum.StrEnum):
    INVENTORY = "inventory"
    SERVICE = "service"
    # Bought and sold but not kept in stock: charges, and lines without a store product.
    NON_INVENTORY = "non_inventory"


class ItemTemplate(Base):
    """The defaults a new item takes."""

    __tablename__ = "item_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    description: Mapped[str] = mapped_column(sa.String(100), default="")
    item_type: Mapped[ItemType] = mapped_column(enum_type(ItemType, 16), default=ItemType.INVENTORY)
    base_unit_of_measure: Mapped[str] = mapped_column(sa.String(10), default="PCS")
    item_category: Mapped[str] = mapped_column(sa.String(20), default="")
    tax_group: Mapped[str] = mapped_column(sa.String(20), default="")

    def __str__(self) -> str:
        return f"{self.code} ({self.description})" if self.description else self.code


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    # The trimmed, lower-cased email; unique, so that two imports racing to create
    # the customer for one address end with one customer.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    company: Mapped[str] = mapped_column(sa.String(200), default="")
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    address_2: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    county: Mapped[str] = mapped_column(sa.String(100), default="")
    post_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="")
    template_code: Mapped[str] = mapped_column(sa.String(20), default="")
    payment_terms: Mapped[str] = mapped_column(sa.String(20), default="")
    customer_posting_group: Mapped[str] = mapped_column(sa.String(20), default="")
    tax_area: Mapped[str] = mapped_column(sa.String(20), default="")
    currency: Mapped[str] = mapped_column(sa.String(3), default="")
    vat_number: Mapped[str] = mapped_column(sa.String(50), default="", server_default="")
    created_by_sync: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Customer {self.number} {self.name}>"


class CustomerMapping(Base):
    """Ties an ERP customer to a registered customer of one webstore."""

    __tablename__ = "customer_mappings"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "woo_customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    woo_customer_id: Mapped[int] = mapped_column(sa.BigInteger)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )

    customer: Mapped[Customer] = relationship()


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    description: Mapped[str] = mapped_column(sa.String(200), index=True)
    # Unique where given: the SKU is how an order line finds its item.
    sku: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    unit_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    item_type: Mapped[ItemType] = mapped_column(enum_type(ItemType, 16), default=ItemType.INVENTORY)
    base_unit_of_measure: Mapped[str] = mapped_column(sa.String(10), default="PCS")
    item_category: Mapped[str] = mapped_column(sa.String(20), default="")
    tax_group: Mapped[str] = mapped_column(sa.String(20), default="")
    template_code: Mapped[str] = mapped_column(sa.String(20), default="")
    created_by_sync: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Item {self.number} {self.sku}>"


class ItemMapping(Base):
    """Ties an ERP item to a product (and variation, 0 for none) of one webstore."""

    __tablename__ = "item_mappings"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "woo_product_id", "woo_variation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    woo_product_id: Mapped[int] = mapped_column(sa.BigInteger)
    woo_variation_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id", ondelete="CASCADE"), index=True)

    item: Mapped[Item] = relationship()


class SalesOrderStatus(enum.StrEnum):
    OPEN = "open"
    RELEASED = "released"
    POSTED = "posted"
    ARCHIVED = "archived"
    # Its store order was cancelled (or deleted): kept for reference, never posted.
    CANCELLED = "cancelled"


# A sales order in these may still follow its store order (updated from it, cancelled).
UNPOSTED = (SalesOrderStatus.OPEN, SalesOrderStatus.RELEASED)


class SalesOrder(Base):
    __tablename__ = "sales_orders"
    __table_args__ = (
        sa.Index("ix_sales_orders_status_date", "status", "order_date"),
        sa.Index("ix_sales_orders_webstore_date", "webstore_id", "order_date"),
        # A log entry's sales order by its number, to the id alone (an index-only scan):
        # without it PostgreSQL may look the number up in the trigram index, slowly.
        sa.Index("ix_sales_orders_number_id", "number", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    status: Mapped[SalesOrderStatus] = mapped_column(
        enum_type(SalesOrderStatus, 16), default=SalesOrderStatus.OPEN
    )
    order_date: Mapped[date] = mapped_column(sa.Date, index=True)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # The decimals its amounts are in: the store's (0 for yen, 3 for dinar).
    currency_decimals: Mapped[int] = mapped_column(sa.SmallInteger, default=2, server_default="2")
    external_document_no: Mapped[str] = mapped_column(sa.String(35), index=True)
    woo_order_id: Mapped[int] = mapped_column(sa.BigInteger)
    woo_status: Mapped[str] = mapped_column(sa.String(20), default="")
    woo_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sell_to_name: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    sell_to_email: Mapped[str] = mapped_column(sa.String(254), default="", index=True)
    sell_to_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    sell_to_company: Mapped[str] = mapped_column(sa.String(200), default="")
    sell_to_address: Mapped[str] = mapped_column(sa.String(200), default="")
    sell_to_address_2: Mapped[str] = mapped_column(sa.String(200), default="")
    sell_to_city: Mapped[str] = mapped_column(sa.String(100), default="")
    sell_to_county: Mapped[str] = mapped_column(sa.String(100), default="")
    sell_to_post_code: Mapped[str] = mapped_column(sa.String(20), default="")
    sell_to_country: Mapped[str] = mapped_column(sa.String(2), default="")
    ship_to_name: Mapped[str] = mapped_column(sa.String(200), default="")
    ship_to_company: Mapped[str] = mapped_column(sa.String(200), default="")
    ship_to_address: Mapped[str] = mapped_column(sa.String(200), default="")
    ship_to_address_2: Mapped[str] = mapped_column(sa.String(200), default="")
    ship_to_city: Mapped[str] = mapped_column(sa.String(100), default="")
    ship_to_county: Mapped[str] = mapped_column(sa.String(100), default="")
    ship_to_post_code: Mapped[str] = mapped_column(sa.String(20), default="")
    ship_to_country: Mapped[str] = mapped_column(sa.String(2), default="")
    ship_to_phone: Mapped[str] = mapped_column(sa.String(50), default="")
    # A business customer's VAT number, as the store's EU VAT plugin keeps it.
    vat_number: Mapped[str] = mapped_column(sa.String(50), default="", server_default="")
    payment_method: Mapped[str] = mapped_column(sa.String(100), default="")
    payment_method_title: Mapped[str] = mapped_column(sa.String(200), default="")
    # The ERP's codes the webstore's mappings gave (portal.sync.accounting); "" for none.
    payment_method_code: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    shipment_method_code: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    shipping_agent_code: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    customer_note: Mapped[str] = mapped_column(sa.Text, default="")
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount_including_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), index=True)
    discount_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # In another currency than the company's: the company currency per unit on the order
    # date (Currency Exchange Rates), and the amounts in the company's currency. None where
    # the order is in the company's currency or none is set.
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExchangeRate)
    amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
    tax_amount_lcy: Mapped[Decimal | None] = mapped_column(Money)
    amount_including_tax_lcy: Mapped[Decimal | None] = mapped_column(Money)
    sync_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sync_runs.id", ondelete="SET NULL"), index=True
    )
    # The store's order in three states (portal.sync.changes.OrderState, as JSON): what
    # this sales order was built from, the store's latest as read, and the last one a
    # person reviewed (None: none yet). A change warning is the difference between the
    # latest and the reviewed (or imported) state; it is kept here as text for the lists.
    imported_state: Mapped[dict | None] = mapped_column(sa.JSON)
    store_state: Mapped[dict | None] = mapped_column(sa.JSON)
    reviewed_state: Mapped[dict | None] = mapped_column(sa.JSON)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    change_warning: Mapped[str | None] = mapped_column(sa.Text)
    # Entered by staff before posting; the store hears them with the sales order number.
    shipping_carrier: Mapped[str] = mapped_column(sa.String(50), default="", server_default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    webstore: Mapped["Webstore"] = relationship()  # noqa: F821
    lines: Mapped[list["SalesLine"]] = relationship(
        back_populates="sales_order", order_by="SalesLine.line_no", cascade="all, delete-orphan"
    )
    coupons: Mapped[list["SalesOrderCoupon"]] = relationship(cascade="all, delete-orphan")
    refunds: Mapped[list["SalesOrderRefund"]] = relationship(cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<SalesOrder {self.number} {self.external_document_no}>"


class LineType(enum.StrEnum):
    ITEM = "item"
    SHIPPING = "shipping"
    FEE = "fee"
    # A negative fee the webstore books as a discount: on no item and no account.
    DISCOUNT = "discount"


class SalesLine(Base):
    __tablename__ = "sales_lines"
    __table_args__ = (sa.UniqueConstraint("sales_order_id", "line_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="CASCADE")
    )
    line_no: Mapped[int]
    line_type: Mapped[LineType] = mapped_column(enum_type(LineType, 16))
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"), index=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    sku: Mapped[str] = mapped_column(sa.String(100), default="")
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    # To the ERP's unit-price precision: 3 × 1,979.667 is a line of 5,939 yen.
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)
    line_discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Money)
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    woo_line_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # A charge booked on a G/L account instead of an item (the webstore's charge setup).
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gl_accounts.id"), index=True)
    # The line's VAT code (its first, where a compound rate adds a second), and each code
    # it carries with its base and VAT (portal.sync.vat.VatPart as JSON); their VAT adds up
    # to ``tax_amount``.
    vat_code: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    vat_parts: Mapped[list | None] = mapped_column(sa.JSON)

    sales_order: Mapped[SalesOrder] = relationship(back_populates="lines")
    item: Mapped[Item | None] = relationship()
    account: Mapped[GLAccount | None] = relationship()


class SalesOrderCoupon(Base):
    __tablename__ = "sales_order_coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(100))
    discount: Mapped[Decimal] = mapped_column(Money)
    discount_tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))


class SalesOrderRefund(Base):
    __tablename__ = "sales_order_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    sales_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sales_orders.id", ondelete="CASCADE"), index=True
    )
    woo_refund_id: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    # Positive: the amount given back.
    amount: Mapped[Decimal] = mapped_column(Money)
