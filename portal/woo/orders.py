"""WooCommerce order JSON into plain, validated dataclasses with ``Decimal`` money.

Real stores mix strings and numbers for money (``"45.00"``, ``12.5``, ``"0"``, and ``""``
for a fee's ``amount``), send ``number`` as a string and dates without an offset. Moments are
read from the ``*_gmt`` fields as aware UTC; the order's day is its local ``date_created``,
the store's calendar. A line whose product was deleted, or that was added by hand, has
``product_id`` 0 and a null ``sku``: an ordinary line, read as "no product, no SKU".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    """The light reference a ``_fields=id,date_modified_gmt,status`` listing gives."""

    id: int
    status: str
    date_modified: datetime


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
    )


def parse_order_ref(data: Any) -> WooOrderRef:
    o = _reader(data)
    return WooOrderRef(
        id=o.integer("id"), status=o.text("status"), date_modified=o.utc("date_modified_gmt")
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
    )


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
