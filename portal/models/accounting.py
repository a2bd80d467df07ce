"""What the books need besides amounts: payment and shipment methods, shipping agents, VAT
codes, a chart of accounts and exchange rates (ERP setup tables, in the manner of Business
Central), and how each webstore's gateways, shipping methods and tax rates map to them."""

import enum
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base

# Amount in the company's currency of one unit of another currency: 1 EUR = 1.08450000 USD.
ExchangeRate = sa.Numeric(18, 8)
# A VAT percentage: 19, 8.5, 7.25.
VatRate = sa.Numeric(7, 4)


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    description: Mapped[str] = mapped_column(sa.String(100), default="")

    def __str__(self) -> str:
        return f"{self.code} ({self.description})" if self.description else self.code


class ShipmentMethod(Base):
    """How goods travel on terms (BC's Shipment Method: delivery terms such as EXW, DAP)."""

    __tablename__ = "shipment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    description: Mapped[str] = mapped_column(sa.String(100), default="")

    def __str__(self) -> str:
        return f"{self.code} ({self.description})" if self.description else self.code


class ShippingAgent(Base):
    """Who carries them: the carrier offered when posting defaults from the agent's name."""

    __tablename__ = "shipping_agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    name: Mapped[str] = mapped_column(sa.String(50), default="")
    # With "%s" where the tracking number goes, for the order page's link.
    tracking_url: Mapped[str] = mapped_column(sa.String(300), default="")

    def __str__(self) -> str:
        return f"{self.code} ({self.name})" if self.name else self.code


class VatCode(Base):
    """A VAT code and its rate. Codes are copied as text onto documents, so a code in use is
    never renamed or deleted (the page refuses)."""

    __tablename__ = "vat_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    rate: Mapped[Decimal] = mapped_column(VatRate, default=Decimal("0"))
    description: Mapped[str] = mapped_column(sa.String(100), default="")

    def __str__(self) -> str:
        return f"{self.code} ({self.rate.normalize():f} %)"


class AccountType(enum.StrEnum):
    INCOME_STATEMENT = "income_statement"
    BALANCE_SHEET = "balance_sheet"


class GLAccount(Base):
    """An account of the chart of accounts that charges may be booked on."""

    __tablename__ = "gl_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    account_type: Mapped[AccountType] = mapped_column(
        sa.Enum(
            AccountType,
            native_enum=False,
            length=20,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
        default=AccountType.INCOME_STATEMENT,
    )

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class CurrencyExchangeRate(Base):
    """From ``starting_date`` on, one unit of ``currency`` is ``rate`` of the company's
    currency (``COMPANY_CURRENCY``); an order takes the rate of the latest starting date on
    or before its order date."""

    __tablename__ = "currency_exchange_rates"
    __table_args__ = (sa.UniqueConstraint("currency", "starting_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    starting_date: Mapped[date] = mapped_column(sa.Date)
    rate: Mapped[Decimal] = mapped_column(ExchangeRate)


class WebstorePaymentMapping(Base):
    """A store payment gateway (the order's ``payment_method``) of one webstore, mapped."""

    __tablename__ = "webstore_payment_mappings"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "gateway_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    gateway_id: Mapped[str] = mapped_column(sa.String(100))
    # The gateway's title as the store listed it, for people.
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    payment_method_id: Mapped[int] = mapped_column(sa.ForeignKey("payment_methods.id"), index=True)

    payment_method: Mapped[PaymentMethod] = relationship()


class WebstoreShippingMapping(Base):
    """A store shipping method of one webstore, mapped to a shipment method and an agent.

    ``instance_id`` is the method's instance in a shipping zone ("3"), or "" for the method
    in every zone: an order's shipping line finds its own instance first, then "".
    """

    __tablename__ = "webstore_shipping_mappings"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "method_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    method_id: Mapped[str] = mapped_column(sa.String(100))
    instance_id: Mapped[str] = mapped_column(sa.String(20), default="")
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    shipment_method_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shipment_methods.id"), index=True
    )
    shipping_agent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shipping_agents.id"), index=True
    )

    shipment_method: Mapped[ShipmentMethod | None] = relationship()
    shipping_agent: Mapped[ShippingAgent | None] = relationship()


class WebstoreTaxMapping(Base):
    """A store tax rate (``rate_id`` of the order's ``tax_lines``) of one webstore, mapped to
    a VAT code."""

    __tablename__ = "webstore_tax_mappings"
    __table_args__ = (sa.UniqueConstraint("webstore_id", "rate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webstore_id: Mapped[int] = mapped_column(sa.ForeignKey("webstores.id", ondelete="CASCADE"))
    rate_id: Mapped[int] = mapped_column(sa.BigInteger)
    # The rate as the store listed it ("DE 19 % MwSt"), for people.
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    vat_code_id: Mapped[int] = mapped_column(sa.ForeignKey("vat_codes.id"), index=True)

    vat_code: Mapped[VatCode] = relationship()


class ChargeBooking(enum.StrEnum):
    """Where a webstore books shipping, fees, and negative fees."""

    ITEM = "item"  # on an item (the shipping charge item; a fee item, or none)
    ACCOUNT = "account"  # on a G/L account
    DISCOUNT = "discount"  # negative fees only: a discount line, on no item or account
