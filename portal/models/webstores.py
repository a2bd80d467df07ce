"""Webstores: where orders come from, and how their import is set up."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import crypto
from portal.models.accounting import GLAccount, PaymentMethod, VatCode
from portal.models.base import Base, UTCDateTime, enum_type, utcnow
from portal.models.erp import Customer, CustomerTemplate, Item, ItemTemplate


class CustomerHandling(enum.StrEnum):
    # Guests get a customer of their own, found again by email.
    MAP_BY_EMAIL = "map_by_email"
    # All guest orders go to the webstore's one default guest customer.
    DEFAULT_GUEST = "default_guest"


DEFAULT_STATUS_FILTER = "processing,completed"


class Webstore(Base):
    __tablename__ = "webstores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    base_url: Mapped[str] = mapped_column(sa.String(300))
    consumer_key: Mapped[str] = mapped_column(sa.String(200))
    consumer_secret_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    api_version: Mapped[str] = mapped_column(sa.String(20), default="wc/v3")
    timeout_seconds: Mapped[int] = mapped_column(default=30)
    verify_tls: Mapped[bool] = mapped_column(default=True)

    auto_sync: Mapped[bool] = mapped_column(default=False)
    sync_interval_minutes: Mapped[int] = mapped_column(default=15)
    # Comma-separated WooCommerce statuses; empty means any status. Paid orders by default:
    # cancelled, failed and pending ones become sales orders only when someone asks.
    default_status_filter: Mapped[str] = mapped_column(
        sa.String(200), default=DEFAULT_STATUS_FILTER
    )
    order_start_date: Mapped[date | None] = mapped_column(sa.Date)
    # The last modified time of the orders automatic sync has settled.
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_handling: Mapped[CustomerHandling] = mapped_column(
        enum_type(CustomerHandling, 20),
        default=CustomerHandling.MAP_BY_EMAIL,
    )
    guest_customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"))
    default_customer_template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer_templates.id")
    )
    default_item_template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("item_templates.id"))
    auto_create_customers: Mapped[bool] = mapped_column(default=True)
    auto_create_items: Mapped[bool] = mapped_column(default=True)
    shipping_charge_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"))
    # Lines whose product was deleted, or that were added by hand, are booked on this item.
    no_product_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"))
    # Update the webstore order: the store status each sales order event sets ("" sets
    # nothing), with an order note to the customer or a private one. Off for webstores set
    # up before there was write-back; a new webstore's form turns it on.
    writeback_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status_on_post: Mapped[str] = mapped_column(
        sa.String(40), default="completed", server_default="completed"
    )
    status_on_release: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    status_on_archive: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    notes_to_customer: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Refunds become sales credit memos. Their pull start date and watermark are their own,
    # apart from the orders': a refund is found by its order's modified time.
    refunds_start_date: Mapped[date | None] = mapped_column(sa.Date)
    refunds_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A refund without lines is credited as one amount on this item.
    refund_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"))
    # Changes the store makes to an imported order are applied to its sales order at once,
    # while that is open (not released): rebuilt, or cancelled with a cancelled store order.
    apply_store_changes: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # How the store keeps its orders, as its system status last said: "hpos" (custom order
    # tables) or "posts" (legacy WordPress posts, which sort by local modified time).
    order_storage: Mapped[str | None] = mapped_column(sa.String(10))
    # When the store's system status was last read: its order storage and its money.
    order_storage_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many requests at once the store took best when a run last found out
    # (portal.woo.limit); the next run starts there. None: not yet known.
    store_concurrency: Mapped[int | None] = mapped_column(sa.SmallInteger)
    # The store's currency and how it writes amounts, as it last said (None: not yet
    # known): its number of decimals (0 for yen, 3 for dinar) and its separators.
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    price_decimals: Mapped[int | None] = mapped_column(sa.SmallInteger)
    thousand_separator: Mapped[str | None] = mapped_column(sa.String(8))
    decimal_separator: Mapped[str | None] = mapped_column(sa.String(8))
    # The store changed its number of decimals: from how many, and when it was noticed.
    previous_price_decimals: Mapped[int | None] = mapped_column(sa.SmallInteger)
    price_decimals_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who hears when the webstore turns failing (portal.alerts): e-mail addresses, one per
    # line or comma-separated, and a Slack/Teams-compatible webhook URL; "" for none.
    alert_emails: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    alert_webhook_url: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    # Failing after this many automatic runs failed in a row, or orders waiting this long.
    alert_failed_runs: Mapped[int] = mapped_column(default=3, server_default="3")
    alert_lag_minutes: Mapped[int] = mapped_column(default=120, server_default="120")
    # Accounting (portal.sync.accounting). Mappings of the store's payment gateways,
    # shipping methods and tax rates are rows of their own; with ``require_mappings`` an
    # order whose gateway (and no default), shipping method or tax rate is not mapped fails,
    # naming the page; without it those carry no code. Off for webstores set up before.
    require_mappings: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    default_payment_method_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment_methods.id")
    )
    # Lines without tax carry this code; an EU business order with a VAT number and no tax
    # carries the reverse-charge code on every line.
    untaxed_vat_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vat_codes.id"))
    reverse_charge_vat_code_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vat_codes.id"))
    # Where shipping, fees and negative fees are booked (models.accounting.ChargeBooking):
    # shipping on the shipping charge item or an account; fees on the fee item (none: on no
    # item, as before) or an account; negative fees as a discount or on an account.
    shipping_booking: Mapped[str] = mapped_column(
        sa.String(10), default="item", server_default="item"
    )
    shipping_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gl_accounts.id"))
    fee_booking: Mapped[str] = mapped_column(sa.String(10), default="item", server_default="item")
    fee_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("items.id"))
    fee_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gl_accounts.id"))
    negative_fee_booking: Mapped[str] = mapped_column(
        sa.String(10), default="discount", server_default="discount"
    )
    negative_fee_account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gl_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    guest_customer: Mapped[Customer | None] = relationship()
    default_customer_template: Mapped[CustomerTemplate | None] = relationship()
    default_item_template: Mapped[ItemTemplate | None] = relationship()
    shipping_charge_item: Mapped[Item | None] = relationship(foreign_keys=[shipping_charge_item_id])
    no_product_item: Mapped[Item | None] = relationship(foreign_keys=[no_product_item_id])
    refund_item: Mapped[Item | None] = relationship(foreign_keys=[refund_item_id])
    fee_item: Mapped[Item | None] = relationship(foreign_keys=[fee_item_id])
    default_payment_method: Mapped[PaymentMethod | None] = relationship()
    untaxed_vat_code: Mapped[VatCode | None] = relationship(foreign_keys=[untaxed_vat_code_id])
    reverse_charge_vat_code: Mapped[VatCode | None] = relationship(
        foreign_keys=[reverse_charge_vat_code_id]
    )
    shipping_account: Mapped[GLAccount | None] = relationship(foreign_keys=[shipping_account_id])
    fee_account: Mapped[GLAccount | None] = relationship(foreign_keys=[fee_account_id])
    negative_fee_account: Mapped[GLAccount | None] = relationship(
        foreign_keys=[negative_fee_account_id]
    )
    country_templates: Mapped[list["WebstoreCountryTemplate"]] = relationship(
        back_populates="webstore",
        cascade="all, delete-orphan",
        order_by="WebstoreCountryTemplate.country",
    )

    @property
    def consumer_secret(self) -> str:
        return crypto.decrypt(self.consumer_secret_encrypted)

    @consumer_secret.setter
    def consumer_secret(self, plain: str) -> None:
        self.consumer_secret_encrypted = crypto.encrypt(plain)

    @property
    def webhook_secret(self) -> str | None:
        if self.webhook_secret_encrypted is None:
            return None
        return crypto.decrypt(self.webhook_secret_encrypted)

    @webhook_secret.setter
    def webhook_secret(self, plain: str | None) -> None:
        self.webhook_secret_encrypted = crypto.encrypt(plain) if plain else None

    @property
    def status_filter(self) -> tuple[str, ...]:
        return tuple(s for s in self.default_status_filter.split(",") if s)

    def customer_template_for(self, country: str) -> CustomerTemplate | None:
        for row in self.country_templates:
            if row.country == country.upper():
                return row.customer_template
        return self.default_customer_template

    def __repr__(self) -> str:
        return f"<Webstore {self.code}>"


class WebstoreCountryTemplate(Base):
    """The customer template for new customers from one billing country."""

    __tablename__ = "webstore_country_templates"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(sa.String(2))
    customer_template_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_templates.id"))

    webstore: Mapped[Webstore] = relationship(back_populates="country_templates")
    customer_template: Mapped[CustomerTemplate] = relationship()
