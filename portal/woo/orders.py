"""WooCommerce order JSON into plain, validated dataclasses with ``Decimal`` money.

Real stores mix strings and numbers for money (``"45.00"``, ``12.5``, ``"0"``, and ``""``
for a fee's ``amount``), send ``number`` as a string and dates without an offset. Moments are
read from the ``*_gmt`` fields as aware UTC; the order's day is its local ``date_created``,
the store's calendar. A line whose product was deleted, or that was added by hand, has
``product_id`` 0 and a null ``sku``: an ordinary line, read as "no product, no SKU".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .errors import OrderDataError

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)

# The store formats money with wc_format_decimal: plain digits, no exponent or separators,
# which Decimal() alone would let through ("1e3", "1_000", "NaN").
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class WooAddress:
    first_name: str
    last_name: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    email: str
    phone: str

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class WooLineTax:
    """A line's tax at one rate (an entry of its ``taxes``)."""

    rate_id: int
    total: Decimal


@dataclass(frozen=True)
class WooLineItem:
    id: int
    name: str
    #: 0 for a line whose product was deleted later, or that was added by hand.
    product_id: int
    variation_id: int
    quantity: int
    #: "" where the store sends none (null for lines without a product).
    sku: str
    #: The unit price after discounts (``total / quantity``), as the store sends it.
    price: Decimal
    subtotal: Decimal
    subtotal_tax: Decimal
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooLineTax, ...] = ()

    @property
    def has_product(self) -> bool:
        return self.product_id != 0


@dataclass(frozen=True)
class WooShippingLine:
    id: int
    method_id: str
    method_title: str
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooLineTax, ...] = ()
    #: The method's instance in its shipping zone ("3"); "" where the line names none (added
    #: by hand or through the REST API without one, which the store sends as "0" or "").
    instance_id: str = ""


@dataclass(frozen=True)
class WooFeeLine:
    id: int
    name: str
    #: The fee as entered; real stores send "" once the fee is saved, so ``total`` is the truth.
    amount: Decimal | None
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooLineTax, ...] = ()


@dataclass(frozen=True)
class WooTaxLine:
    """The order's tax at one rate: with the order's ``total``, the truth about its tax."""

    rate_id: int
    label: str
    compound: bool
    #: On the items and fees.
    tax_total: Decimal
    shipping_tax_total: Decimal
    #: The rate in percent when the order was taxed (10, 8.5), which the store keeps on the
    #: tax line; None where the store sends none (WooCommerce before 3.7).
    rate_percent: Decimal | None = None


@dataclass(frozen=True)
class WooCouponLine:
    id: int
    code: str
    discount: Decimal
    discount_tax: Decimal


@dataclass(frozen=True)
class WooRefund:
    id: int
    reason: str
    #: As the store sends it: negative.
    total: Decimal


@dataclass(frozen=True)
class WooOrder:
    id: int
    number: str
    status: str
    currency: str
    prices_include_tax: bool
    #: The moment, in UTC.
    date_created: datetime
    #: The same moment in the store's timezone, without offset: the store's calendar day.
    date_created_local: datetime
    date_modified: datetime
    customer_id: int
    customer_note: str
    billing: WooAddress
    shipping: WooAddress
    payment_method: str
    payment_method_title: str
    discount_total: Decimal
    discount_tax: Decimal
    shipping_total: Decimal
    shipping_tax: Decimal
    cart_tax: Decimal
    total_tax: Decimal
    total: Decimal
    line_items: tuple[WooLineItem, ...]
    shipping_lines: tuple[WooShippingLine, ...]
    fee_lines: tuple[WooFeeLine, ...]
    coupon_lines: tuple[WooCouponLine, ...]
    refunds: tuple[WooRefund, ...]
    tax_lines: tuple[WooTaxLine, ...] = ()
    #: A business customer's VAT number, where an EU VAT plugin keeps one in the order's meta.
    vat_number: str = ""

    @property
    def order_date(self) -> date:
        """The day the store shows for the order (its own timezone)."""
        return self.date_created_local.date()

    @property
    def is_guest(self) -> bool:
        return self.customer_id == 0

    @property
    def refunded_total(self) -> Decimal:
        """What has been refunded, as a positive amount."""
        return sum((-refund.total for refund in self.refunds), Decimal(0))


@dataclass(frozen=True)
class WooOrderRef:
    """The light reference a ``_fields=id,date_modified_gmt,status,date_created`` listing
    gives."""

    id: int
    status: str
    date_modified: datetime
    #: The store's own time of creation (its calendar), where the listing gave it.
    date_created_local: datetime | None = None
    #: The order's number, where the listing asked for it (``number`` among its fields).
    listed_number: str | None = None

    @property
    def order_date(self) -> date | None:
        return self.date_created_local.date() if self.date_created_local else None

    @property
    def number(self) -> str:
        """The order's number; where the listing did not give it, its id, which is the
        number WooCommerce gives unless a plugin numbers orders otherwise."""
        return self.listed_number or str(self.id)


def parse_order(data: Any) -> WooOrder:
    """Validate one order of ``/orders``; raise :exc:`OrderDataError` naming the bad field."""
    o = _reader(data)
    created = o.utc("date_created_gmt")
    return WooOrder(
        id=o.integer("id"),
        number=o.text("number"),
        status=o.text("status"),
        currency=o.text("currency"),
        prices_include_tax=o.flag("prices_include_tax"),
        date_created=created,
        date_created_local=o.local("date_created", default=created),
        date_modified=o.utc("date_modified_gmt"),
        customer_id=o.integer("customer_id"),
        customer_note=o.text("customer_note"),
        billing=_address(o.object("billing")),
        shipping=_address(o.object("shipping")),
        payment_method=o.text("payment_method"),
        payment_method_title=o.text("payment_method_title"),
        discount_total=o.money("discount_total"),
        discount_tax=o.money("discount_tax"),
        shipping_total=o.money("shipping_total"),
        shipping_tax=o.money("shipping_tax"),
        cart_tax=o.money("cart_tax"),
        total_tax=o.money("total_tax"),
        total=o.money("total"),
        line_items=tuple(_line_item(r) for r in o.objects("line_items")),
        shipping_lines=tuple(_shipping_line(r) for r in o.objects("shipping_lines")),
        fee_lines=tuple(_fee_line(r) for r in o.objects("fee_lines")),
        coupon_lines=tuple(_coupon_line(r) for r in o.objects("coupon_lines")),
        refunds=tuple(_refund(r) for r in o.objects("refunds")),
        tax_lines=tuple(_tax_line(r) for r in o.objects("tax_lines", optional=True)),
        vat_number=_vat_number(o),
    )


def parse_order_ref(data: Any) -> WooOrderRef:
    o = _reader(data)
    modified = o.utc("date_modified_gmt")
    created = o.local("date_created", default=modified) if "date_created" in data else None
    return WooOrderRef(
        id=o.integer("id"),
        status=o.text("status"),
        date_modified=modified,
        date_created_local=created,
        listed_number=o.text("number") if "number" in data else None,
    )


_ADDRESS_FIELDS = tuple(WooAddress.__dataclass_fields__)


def _address(a: _Reader) -> WooAddress:
    # The shipping address has no email, and stores before 5.6 send no shipping phone.
    return WooAddress(*(a.text(name, default="") for name in _ADDRESS_FIELDS))


def _line_item(r: _Reader) -> WooLineItem:
    return WooLineItem(
        id=r.integer("id"),
        name=r.text("name"),
        product_id=r.integer("product_id"),
        variation_id=r.integer("variation_id"),
        quantity=r.integer("quantity"),
        sku=r.text("sku", default=""),
        price=r.money("price"),
        subtotal=r.money("subtotal"),
        subtotal_tax=r.money("subtotal_tax"),
        total=r.money("total"),
        total_tax=r.money("total_tax"),
        taxes=_taxes(r),
    )


def _shipping_line(r: _Reader) -> WooShippingLine:
    return WooShippingLine(
        id=r.integer("id"),
        method_id=r.text("method_id"),
        method_title=r.text("method_title"),
        total=r.money("total"),
        total_tax=r.money("total_tax"),
        taxes=_taxes(r),
        instance_id=_instance_id(r),
    )


def _instance_id(r: _Reader) -> str:
    instance = r.text("instance_id", default="")
    return "" if instance == "0" else instance


def _fee_line(r: _Reader) -> WooFeeLine:
    return WooFeeLine(
        id=r.integer("id"),
        name=r.text("name"),
        amount=r.money_or_none("amount"),
        total=r.money("total"),
        total_tax=r.money("total_tax"),
        taxes=_taxes(r),
    )


def _taxes(r: _Reader) -> tuple[WooLineTax, ...]:
    # A tax entry's ``total`` is "" where the rate does not apply to the line.
    return tuple(
        WooLineTax(rate_id=t.integer("id"), total=t.money_or_none("total") or Decimal(0))
        for t in r.objects("taxes", optional=True)
    )


def _tax_line(r: _Reader) -> WooTaxLine:
    return WooTaxLine(
        rate_id=r.integer("rate_id"),
        label=r.text("label", default=""),
        compound=r.flag("compound", default=False),
        tax_total=r.money_or_none("tax_total") or Decimal(0),
        shipping_tax_total=r.money_or_none("shipping_tax_total") or Decimal(0),
        rate_percent=r.money_or_none("rate_percent") if "rate_percent" in r else None,
    )


def _coupon_line(r: _Reader) -> WooCouponLine:
    return WooCouponLine(
        id=r.integer("id"),
        code=r.text("code"),
        discount=r.money("discount"),
        discount_tax=r.money("discount_tax"),
    )


def _refund(r: _Reader) -> WooRefund:
    return WooRefund(id=r.integer("id"), reason=r.text("reason"), total=r.money("total"))


# Refunds, as ``GET /orders/<id>/refunds`` sends them. The store keeps a refund as an order of
# its own whose lines and taxes are negative (quantity -1, total "-4.99", tax "-0.50") and
# whose ``amount`` is positive. Here every amount and quantity is what the refund gives back:
# the store's negative numbers turned positive (a refunded negative fee comes out negative),
# except ``quantity``, kept as the store sends it.


@dataclass(frozen=True)
class WooRefundLine:
    """A refunded order line (an entry of the refund's ``line_items``)."""

    id: int
    name: str
    #: 0 where the product was deleted, or the line had none.
    product_id: int
    variation_id: int
    #: "" where the store sends none (null for lines without a product).
    sku: str
    #: As the store sends it: negative (-2 for two returned), 0 for an amount-only refund.
    quantity: Decimal
    #: Positive: what the refund gives back, before discounts and after, without tax.
    subtotal: Decimal
    subtotal_tax: Decimal
    total: Decimal
    total_tax: Decimal
    #: Positive: the refunded tax at each rate.
    taxes: tuple[WooLineTax, ...]
    #: The order line it refunds (its ``_refunded_item_id``); None where the store sends none.
    refunded_item_id: int | None
    #: Whether the store put the goods back in stock. The refund's answer never says
    #: (captured on WooCommerce 10.0.2); :meth:`WooClient.list_refunds` tells it from the
    #: order's lines (:func:`with_restocked`). None: not known.
    restocked: bool | None = None

    @property
    def quantity_refunded(self) -> Decimal:
        """How many were refunded, positive."""
        return -self.quantity

    @property
    def amount(self) -> Decimal:
        """The line's refund with its tax, positive."""
        return self.total + self.total_tax


@dataclass(frozen=True)
class WooRefundShippingLine:
    id: int
    method_id: str
    method_title: str
    #: Positive, as the refund's other amounts.
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooLineTax, ...]
    refunded_item_id: int | None
    #: The refunded line's instance in its shipping zone, "" where it names none.
    instance_id: str = ""

    @property
    def amount(self) -> Decimal:
        return self.total + self.total_tax


@dataclass(frozen=True)
class WooRefundFeeLine:
    id: int
    name: str
    #: Positive, as the refund's other amounts (negative for a refunded discount fee).
    total: Decimal
    total_tax: Decimal
    taxes: tuple[WooLineTax, ...]
    refunded_item_id: int | None

    @property
    def amount(self) -> Decimal:
        return self.total + self.total_tax


@dataclass(frozen=True)
class WooRefundDetail:
    """One refund of ``/orders/<id>/refunds``, with what a credit memo needs."""

    id: int
    #: The refunded order (not in the answer: the order asked for).
    order_id: int
    #: The moment, in UTC.
    date_created_gmt: datetime
    #: The same moment in the store's timezone, without offset: the store's calendar day.
    date_created: datetime
    #: What was refunded, positive, with tax: the truth about the refund's total.
    amount: Decimal
    #: "" where none was given.
    reason: str
    #: The WordPress user who refunded (0: not known, e.g. made by a plugin).
    refunded_by: int
    #: Whether the money went back through the payment gateway (else by hand).
    refunded_payment: bool
    line_items: tuple[WooRefundLine, ...]
    shipping_lines: tuple[WooRefundShippingLine, ...]
    fee_lines: tuple[WooRefundFeeLine, ...]
    #: Positive: the refunded tax at each rate (items and fees, and shipping).
    tax_lines: tuple[WooTaxLine, ...]

    @property
    def refund_date(self) -> date:
        """The day the store shows for the refund (its own timezone)."""
        return self.date_created.date()

    @property
    def has_lines(self) -> bool:
        """Whether the refund names lines; a refund "by amount" names none."""
        return bool(self.line_items or self.shipping_lines or self.fee_lines)

    @property
    def total_tax(self) -> Decimal:
        """The refunded tax, positive: from the tax lines, else from the lines."""
        if self.tax_lines:
            return sum((t.tax_total + t.shipping_tax_total for t in self.tax_lines), Decimal(0))
        lines = (*self.line_items, *self.shipping_lines, *self.fee_lines)
        return sum((line.total_tax for line in lines), Decimal(0))

    @property
    def lines_amount(self) -> Decimal:
        """What the lines refund, with tax, positive."""
        lines = (*self.line_items, *self.shipping_lines, *self.fee_lines)
        return sum((line.amount for line in lines), Decimal(0))

    @property
    def unassigned_amount(self) -> Decimal:
        """The part of ``amount`` no line accounts for: all of it for a refund by amount."""
        return self.amount - self.lines_amount


def parse_refund(data: Any, order_id: int) -> WooRefundDetail:
    """Validate one refund of ``/orders/<order_id>/refunds``; raise :exc:`OrderDataError`
    naming the order and the bad field (``refunds[<id>].line_items[0].total``)."""
    if not isinstance(data, dict):
        raise OrderDataError(order_id, "refund", f"is not an object: {_show(data)}")
    refund_id = data.get("id")
    label = f"refunds[{refund_id}]." if isinstance(refund_id, int | str) else "refunds[?]."
    r = _Reader(data, order_id, label)
    created = r.utc("date_created_gmt")
    return WooRefundDetail(
        id=r.integer("id"),
        order_id=order_id,
        date_created_gmt=created,
        date_created=r.local("date_created", default=created),
        amount=r.money("amount"),
        reason=r.text("reason", default=""),
        refunded_by=r.integer_or_zero("refunded_by"),
        refunded_payment=r.flag("refunded_payment", default=False),
        line_items=tuple(_refund_line(x) for x in r.objects("line_items", optional=True)),
        shipping_lines=tuple(
            _refund_shipping_line(x) for x in r.objects("shipping_lines", optional=True)
        ),
        fee_lines=tuple(_refund_fee_line(x) for x in r.objects("fee_lines", optional=True)),
        tax_lines=tuple(_negated_tax_line(x) for x in r.objects("tax_lines", optional=True)),
    )


def parse_restocked(data: Any) -> dict[int, Decimal]:
    """How many of each order line went back into stock over all its refunds: the
    ``_restock_refunded_items`` WooCommerce keeps in the line's ``meta_data`` when a refund
    restocks it (``wc_restock_refunded_items``); lines never restocked are left out."""
    o = _reader(data)
    restocked = {}
    for line in o.objects("line_items"):
        for meta in line.objects("meta_data", optional=True):
            if meta.text("key", default="") == "_restock_refunded_items":
                restocked[line.integer("id")] = meta.money("value")
    return restocked


def with_restocked(
    refunds: list[WooRefundDetail], restocked: dict[int, Decimal]
) -> list[WooRefundDetail]:
    """The refunds with each line's ``restocked`` told by the order (:func:`parse_restocked`).

    The store counts per order line, not per refund: a line none of whose refunds was
    restocked is False, one restocked as often as refunded True; where only some of its
    refunds were, which ones is not known (None). A line refunded without a quantity
    restocks nothing (False).
    """
    refunded: dict[int, Decimal] = {}
    for refund in refunds:
        for line in refund.line_items:
            if line.refunded_item_id is not None:
                key = line.refunded_item_id
                refunded[key] = refunded.get(key, Decimal(0)) + line.quantity_refunded

    def told(line: WooRefundLine) -> bool | None:
        if line.refunded_item_id is None:
            return None
        if not line.quantity_refunded:
            return False
        back = restocked.get(line.refunded_item_id, Decimal(0))
        if not back:
            return False
        return True if back >= refunded[line.refunded_item_id] else None

    return [
        replace(refund, line_items=tuple(replace(x, restocked=told(x)) for x in refund.line_items))
        for refund in refunds
    ]


def _refund_line(r: _Reader) -> WooRefundLine:
    return WooRefundLine(
        id=r.integer("id"),
        name=r.text("name", default=""),
        product_id=r.integer_or_zero("product_id"),
        variation_id=r.integer_or_zero("variation_id"),
        sku=r.text("sku", default=""),
        quantity=r.money("quantity"),
        subtotal=-r.money("subtotal"),
        subtotal_tax=-(r.money_or_none("subtotal_tax") or Decimal(0)),
        total=-r.money("total"),
        total_tax=-(r.money_or_none("total_tax") or Decimal(0)),
        taxes=_negated_taxes(r),
        refunded_item_id=_refunded_item_id(r),
    )


def _refund_shipping_line(r: _Reader) -> WooRefundShippingLine:
    return WooRefundShippingLine(
        id=r.integer("id"),
        method_id=r.text("method_id", default=""),
        method_title=r.text("method_title", default=""),
        total=-r.money("total"),
        total_tax=-(r.money_or_none("total_tax") or Decimal(0)),
        taxes=_negated_taxes(r),
        refunded_item_id=_refunded_item_id(r),
        instance_id=_instance_id(r),
    )


def _refund_fee_line(r: _Reader) -> WooRefundFeeLine:
    return WooRefundFeeLine(
        id=r.integer("id"),
        name=r.text("name", default=""),
        total=-r.money("total"),
        total_tax=-(r.money_or_none("total_tax") or Decimal(0)),
        taxes=_negated_taxes(r),
        refunded_item_id=_refunded_item_id(r),
    )


def _negated_taxes(r: _Reader) -> tuple[WooLineTax, ...]:
    return tuple(WooLineTax(rate_id=t.rate_id, total=-t.total) for t in _taxes(r))


def _negated_tax_line(r: _Reader) -> WooTaxLine:
    line = _tax_line(r)
    return WooTaxLine(
        rate_id=line.rate_id,
        label=line.label,
        compound=line.compound,
        tax_total=-line.tax_total,
        shipping_tax_total=-line.shipping_tax_total,
        rate_percent=line.rate_percent,
    )


# Where the common EU VAT plugins keep the customer's VAT number, most common first:
# WooCommerce EU VAT Number, then others (Aelia, WPFactory, German Market and the like).
VAT_NUMBER_KEYS = ("_billing_vat_number", "_vat_number", "billing_vat", "vat_number")


def _vat_number(o: _Reader) -> str:
    """The order's VAT number from its meta; "" where none is kept (or one is not text)."""
    found = {}
    for meta in o.objects("meta_data", optional=True):
        key, value = meta.text("key", default=""), meta.text_or_none("value")
        if key in VAT_NUMBER_KEYS and value and value.strip():
            found.setdefault(key, value.strip()[:50])
    return next((found[key] for key in VAT_NUMBER_KEYS if key in found), "")


def _refunded_item_id(r: _Reader) -> int | None:
    """The ``_refunded_item_id`` of the line's ``meta_data`` (a string: "1457")."""
    for meta in r.objects("meta_data", optional=True):
        if meta.text("key", default="") == "_refunded_item_id":
            return meta.integer("value")
    return None


def _reader(data: Any) -> _Reader:
    if not isinstance(data, dict):
        raise OrderDataError(None, "the order", f"is not an object: {_show(data)}")
    order_id = data.get("id")
    if isinstance(order_id, str) and _INTEGER.fullmatch(order_id):
        order_id = int(order_id)
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        order_id = None
    return _Reader(data, order_id, "")


class _Reader:
    """Reads fields of one JSON object, naming the order and the field path on failure."""

    __slots__ = ("_data", "_order", "_path")

    def __init__(self, data: dict[str, Any], order: int | None, path: str):
        self._data = data
        self._order = order
        self._path = path

    # The first test of each reader is what a store sends nearly always: a page of orders
    # has a few thousand fields, read on the threads that share the GIL with the writer.

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def text_or_none(self, key: str) -> str | None:
        """Text where the value is text; None for anything else (a meta value may be a list)."""
        value = self._data.get(key)
        return value if isinstance(value, str) else None

    def text(self, key: str, default: str | None = None) -> str:
        value = self._data.get(key)
        if type(value) is str:
            return value
        if value is None:
            if default is None:
                raise self._error(key, "is missing")
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self._error(key, f"is not text: {_show(value)}")

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
        raise self._error(key, f"is not a whole number: {_show(value)}")

    def integer_or_zero(self, key: str) -> int:
        """A whole number where real stores may send null (or leave it out) for none."""
        return 0 if self._data.get(key) in (None, "") else self.integer(key)

    def money(self, key: str) -> Decimal:
        value = self._data.get(key)
        if type(value) is str and _DECIMAL.fullmatch(value):
            return Decimal(value)
        value = self._get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            # str() is the shortest repr: 12.5 becomes Decimal("12.5"), not its binary noise.
            number = Decimal(str(value))
            if number.is_finite():
                return number
        elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            return Decimal(value.strip())
        raise self._error(key, f"is not a number: {_show(value)}")

    def money_or_none(self, key: str) -> Decimal | None:
        """Money where the store may send "" (or null) for "not given"."""
        return None if self._get(key) in ("", None) else self.money(key)

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self._data.get(key) if default is not None else self._get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, bool):
            return value
        raise self._error(key, f"is not true or false: {_show(value)}")

    def utc(self, key: str) -> datetime:
        moment = self._date(key)
        # The *_gmt fields carry no offset but are UTC; honour one should a store send it.
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def local(self, key: str, default: datetime) -> datetime:
        """A store-time field as a naive datetime; ``default`` (UTC) where it is absent."""
        if self._data.get(key) is None:
            return default.replace(tzinfo=None)
        return self._date(key).replace(tzinfo=None)

    def _date(self, key: str) -> datetime:
        value = self._get(key)
        try:
            return datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise self._error(key, f"is not a date: {_show(value)}") from None

    def object(self, key: str) -> _Reader:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self._error(key, f"is not an object: {_show(value)}")
        return _Reader(value, self._order, f"{self._path}{key}.")

    def objects(self, key: str, optional: bool = False) -> list[_Reader]:
        """The objects of a list; with ``optional``, none where the list is absent."""
        value = (self._data.get(key) or []) if optional else self._get(key)
        if not isinstance(value, list):
            raise self._error(key, f"is not a list: {_show(value)}")
        readers = []
        for index, item in enumerate(value):
            name = f"{key}[{index}]"
            if not isinstance(item, dict):
                raise self._error(name, f"is not an object: {_show(item)}")
            readers.append(_Reader(item, self._order, f"{self._path}{name}."))
        return readers

    def _get(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise self._error(key, "is missing") from None

    def _error(self, key: str, problem: str) -> OrderDataError:
        return OrderDataError(self._order, f"{self._path}{key}", problem)


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else f"{shown[:57]}..."
