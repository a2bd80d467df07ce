"""What an imported order is booked on besides its amounts: its payment method, shipment
method and shipping agent, each line's VAT codes, where its charges go, and its exchange
rate. The webstore's mappings and charge setup are read once per run (``AccountingSetup``);
deciding is pure, so the plan stays without a database.

The rules, in one place:
- Payment: the order's gateway (``payment_method``) maps to a payment method; an unmapped one
  takes the webstore's default. An order without a gateway takes the default, or none.
- Shipping: the order's first shipping line decides. Its (method, instance) mapping wins,
  then the method's mapping for every instance (``instance_id`` ""). A line without a method
  (added by hand) carries none.
- VAT: each tax rate of a line maps to a VAT code (a line taxed by two rates carries both).
  A line without tax carries the webstore's untaxed code, or none. An EU business order
  (a VAT number, an EU billing country) without any tax carries the reverse-charge code on
  every line, where one is set.
- With ``require_mappings`` a gateway (without a default), shipping method or tax rate that
  is not mapped fails the order, naming the page to map it on; without it, it carries no
  code (a taxed part keeps its amount under the code "").
- Charges: shipping on the shipping charge item or a G/L account; fees on the fee item (or no
  item) or an account; negative fees as a discount or on an account. A charge on an
  account whose account is not chosen fails the order, naming the setup page.
- Currency: an order in another currency than the company's takes the exchange rate of its
  order date (``portal.sync.exchange_rates``); without one it fails, naming the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    ChargeBooking,
    LineType,
    PaymentMethod,
    ShipmentMethod,
    ShippingAgent,
    VatCode,
    Webstore,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.sync import exchange_rates
from portal.sync.failures import OrderFailure
from portal.sync.vat import VatPart
from portal.woo.orders import WooOrder

# The member states of the EU by ISO 3166 code, as WooCommerce's billing country gives them
# (Greece is "GR", though its VAT numbers start "EL").
EU_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES"),
        *("FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU"),
        *("LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
    }
)


@dataclass(frozen=True)
class Account:
    """A G/L account as a run read it."""

    id: int
    number: str
    name: str

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


@dataclass(frozen=True)
class Booking:
    """Where a charge line is booked: its item (and SKU) or account, and its line type."""

    line_type: LineType
    item_id: int | None = None
    sku: str = ""
    account_id: int | None = None
    #: What the run's log says of it; "" where it goes where charges always went.
    note: str = ""


@dataclass(frozen=True)
class AccountingSetup:
    """A webstore's mappings and charge setup, and the company's currency, as a run read
    them: plain values, which no commit expires."""

    code: str
    require_mappings: bool = False
    payment_methods: Mapping[str, str] = field(default_factory=dict)
    default_payment_method: str = ""
    #: (method id, instance id) to (shipment method code, shipping agent code).
    shipping_methods: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: Store rate id to (VAT code, rate).
    tax_codes: Mapping[int, tuple[str, Decimal]] = field(default_factory=dict)
    untaxed: tuple[str, Decimal] | None = None
    reverse_charge: tuple[str, Decimal] | None = None
    shipping_booking: str = ChargeBooking.ITEM
    shipping_account: Account | None = None
    fee_booking: str = ChargeBooking.ITEM
    #: (id, sku) of the fee item; None: fees on no item.
    fee_item: tuple[int, str] | None = None
    fee_account: Account | None = None
    negative_fee_booking: str = ChargeBooking.DISCOUNT
    negative_fee_account: Account | None = None
    company_currency: str | None = None

    @classmethod
    def of(cls, webstore: Webstore) -> AccountingSetup:
        return cls(
            code=webstore.code,
            require_mappings=webstore.require_mappings,
            payment_methods=payment_mappings(webstore.id),
            default_payment_method=(
                webstore.default_payment_method.code if webstore.default_payment_method else ""
            ),
            shipping_methods=shipping_mappings(webstore.id),
            tax_codes=tax_mappings(webstore.id),
            untaxed=code_and_rate(webstore.untaxed_vat_code),
            reverse_charge=code_and_rate(webstore.reverse_charge_vat_code),
            shipping_booking=webstore.shipping_booking,
            shipping_account=account_of(webstore.shipping_account),
            fee_booking=webstore.fee_booking,
            fee_item=(webstore.fee_item.id, webstore.fee_item.sku or "")
            if webstore.fee_item
            else None,
            fee_account=account_of(webstore.fee_account),
            negative_fee_booking=webstore.negative_fee_booking,
            negative_fee_account=account_of(webstore.negative_fee_account),
            company_currency=exchange_rates.company_currency(),
        )

    # Payment and shipping

    def payment_method_code(self, order: WooOrder) -> str:
        gateway = order.payment_method
        if gateway in self.payment_methods:
            return self.payment_methods[gateway]
        if self.default_payment_method or not gateway or not self.require_mappings:
            return self.default_payment_method
        title = f" ({order.payment_method_title})" if order.payment_method_title else ""
        raise OrderFailure(
            f"Payment gateway '{gateway}'{title} of order {order.number} is not mapped: map it "
            f"under Setup > Webstores > {self.code} > Payment methods, or choose a default "
            "payment method there, then retry."
        )

    def shipment(self, order: WooOrder) -> tuple[str, str]:
        """The (shipment method code, shipping agent code) of the order's first shipping
        line; ("", "") where it has none or it is not mapped (and mappings are optional)."""
        if not order.shipping_lines or not order.shipping_lines[0].method_id:
            return "", ""
        line = order.shipping_lines[0]
        instance = line.instance_id
        for key in ((line.method_id, instance), (line.method_id, "")):
            if key in self.shipping_methods:
                return self.shipping_methods[key]
        if not self.require_mappings:
            return "", ""
        which = f"'{line.method_id}'" + (f" instance {instance}" if instance else "")
        title = f" ({line.method_title})" if line.method_title else ""
        raise OrderFailure(
            f"Shipping method {which}{title} of order {order.number} is not mapped: map it "
            f"under Setup > Webstores > {self.code} > Shipping methods, then retry."
        )

    # VAT

    def reverse_charge_note(self, order: WooOrder) -> str:
        """Where the order is booked under reverse charge, what the log says; else ""."""
        if self.reverse_charge is None or not is_reverse_charge(order):
            return ""
        return f"reverse charge: booked on VAT code {self.reverse_charge[0]}"

    def vat_parts(
        self, order: WooOrder, rate_amounts: Mapping[int, Decimal], net: Decimal
    ) -> list[VatPart]:
        """A line's VAT parts from its tax per store rate (``rate_amounts``, in the line's
        order) and its net amount."""
        if self.reverse_charge is not None and is_reverse_charge(order):
            code, rate = self.reverse_charge
            return [VatPart(code, None, rate, net, Decimal(0))]
        if not rate_amounts:
            if self.untaxed is None:
                return []
            code, rate = self.untaxed
            return [VatPart(code, None, rate, net, Decimal(0))]
        parts = []
        for rate_id, amount in rate_amounts.items():
            code, rate = self.tax_code(order, rate_id)
            parts.append(VatPart(code, rate_id, rate, net, amount))
        return parts

    def tax_code(self, order: WooOrder, rate_id: int) -> tuple[str, Decimal]:
        if rate_id in self.tax_codes:
            return self.tax_codes[rate_id]
        tax_line = next((t for t in order.tax_lines if t.rate_id == rate_id), None)
        percent = tax_line.rate_percent if tax_line else None
        if not self.require_mappings:
            return "", percent if percent is not None else Decimal(0)
        label = f" '{tax_line.label}'" if tax_line and tax_line.label else ""
        rate = f" ({percent.normalize():f} %)" if percent is not None else ""
        raise OrderFailure(
            f"Tax rate {rate_id}{label}{rate} of order {order.number} is not mapped: map it "
            f"under Setup > Webstores > {self.code} > Tax rates, then retry."
        )

    # Charges

    def shipping_booking_of(self, name: str) -> Booking | None:
        """Where shipping goes; None: on the shipping charge item, as always."""
        if self.shipping_booking != ChargeBooking.ACCOUNT:
            return None
        account = self._account(self.shipping_account, "shipping", "shipping account")
        return Booking(
            LineType.SHIPPING,
            account_id=account.id,
            note=f"shipping '{name}' booked on G/L account {account}",
        )

    def fee_booking_of(self, name: str, total: Decimal) -> Booking:
        if total < 0:
            if self.negative_fee_booking == ChargeBooking.ACCOUNT:
                account = self._account(
                    self.negative_fee_account, "negative fees", "negative-fee account"
                )
                return Booking(
                    LineType.FEE,
                    account_id=account.id,
                    note=f"negative fee '{name}' booked on G/L account {account}",
                )
            return Booking(LineType.DISCOUNT, note=f"negative fee '{name}' booked as a discount")
        if self.fee_booking == ChargeBooking.ACCOUNT:
            account = self._account(self.fee_account, "fees", "fee account")
            return Booking(
                LineType.FEE,
                account_id=account.id,
                note=f"fee '{name}' booked on G/L account {account}",
            )
        if self.fee_item is not None:
            item_id, sku = self.fee_item
            return Booking(LineType.FEE, item_id=item_id, sku=sku)
        return Booking(LineType.FEE)

    def _account(self, account: Account | None, what: str, setting: str) -> Account:
        if account is None:
            raise OrderFailure(
                f"Webstore {self.code} books {what} on a G/L account but has none chosen: "
                f"choose its {setting} in its setup (Setup > Webstores > {self.code}), then "
                "retry."
            )
        return account

    # Currency

    def needs_rate(self, currency: str) -> bool:
        """As ``exchange_rates.needs_rate``, for the company currency the run started with."""
        return self.company_currency is not None and currency.upper() != self.company_currency

    def exchange_rate(
        self, order: WooOrder, rates: Mapping[tuple[str, date], Decimal | None]
    ) -> Decimal | None:
        """The order's exchange rate from the rates looked up for its batch; None where it
        is in the company's currency. Fails the order where it has none."""
        if not self.needs_rate(order.currency):
            return None
        key = (order.currency.upper(), order.order_date)
        rate = rates.get(key)
        if rate is None:
            raise OrderFailure(
                f"No exchange rate for {key[0]} on {key[1].isoformat()}: enter one under "
                "Accounting > Currency Exchange Rates, then retry."
            )
        return rate

    def rate_keys(self, orders: Iterable[WooOrder]) -> set[tuple[str, date]]:
        """The (currency, day) pairs whose exchange rate these orders need."""
        return {
            (order.currency.upper(), order.order_date)
            for order in orders
            if self.needs_rate(order.currency)
        }


def is_reverse_charge(order: WooOrder) -> bool:
    """An EU business order (a VAT number, an EU billing country) without any tax."""
    return bool(
        order.vat_number
        and order.billing.country.upper() in EU_COUNTRIES
        and order.total_tax == 0
        and not order.tax_lines
    )


# Reading the webstore's mappings


def payment_mappings(webstore_id: int) -> dict[str, str]:
    return dict(
        db.session.execute(
            sa.select(WebstorePaymentMapping.gateway_id, PaymentMethod.code)
            .join(PaymentMethod, PaymentMethod.id == WebstorePaymentMapping.payment_method_id)
            .where(WebstorePaymentMapping.webstore_id == webstore_id)
        ).all()
    )


def shipping_mappings(webstore_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    rows = db.session.execute(
        sa.select(
            WebstoreShippingMapping.method_id,
            WebstoreShippingMapping.instance_id,
            ShipmentMethod.code,
            ShippingAgent.code,
        )
        .outerjoin(ShipmentMethod, ShipmentMethod.id == WebstoreShippingMapping.shipment_method_id)
        .outerjoin(ShippingAgent, ShippingAgent.id == WebstoreShippingMapping.shipping_agent_id)
        .where(WebstoreShippingMapping.webstore_id == webstore_id)
    )
    return {
        (method, instance or ""): (shipment or "", agent or "")
        for method, instance, shipment, agent in rows
    }


def tax_mappings(webstore_id: int) -> dict[int, tuple[str, Decimal]]:
    rows = db.session.execute(
        sa.select(WebstoreTaxMapping.rate_id, VatCode.code, VatCode.rate)
        .join(VatCode, VatCode.id == WebstoreTaxMapping.vat_code_id)
        .where(WebstoreTaxMapping.webstore_id == webstore_id)
    )
    return {rate_id: (code, rate) for rate_id, code, rate in rows}


def code_and_rate(vat_code: VatCode | None) -> tuple[str, Decimal] | None:
    return (vat_code.code, vat_code.rate) if vat_code is not None else None


def account_of(account) -> Account | None:
    return Account(account.id, account.number, account.name) if account is not None else None
