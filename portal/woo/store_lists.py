"""What a store offers to be mapped to the ERP's codes: its payment gateways, its shipping
methods and its tax rates, as WooCommerce's REST API lists them.

``GET /payment_gateways`` lists every gateway WooCommerce knows, enabled or not (``bacs``,
``cheque``, ``cod`` and whatever plugins add). Shipping methods come two ways: each zone
(``GET /shipping/zones``, zone 0 being "Locations not covered by your other zones") has its
own instances of the method types (``GET /shipping/zones/<id>/methods``), and an order's
shipping line names the type (``method_id``) and the instance (``instance_id``); the types
themselves (``GET /shipping_methods``) are listed too, with no instance, so a mapping can
cover a type in every zone and lines added by hand that carry no instance. ``GET /taxes``
lists the tax rates (paged), whose ids are the ``rate_id`` of an order's ``tax_lines``.

The parsers raise :exc:`ValueError` naming the entry and field; the client turns that into
:exc:`~portal.woo.errors.WooInvalidResponse`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .orders import _DECIMAL, _INTEGER  # numbers as the store writes them


@dataclass(frozen=True)
class PaymentGateway:
    """A payment gateway: an order's ``payment_method`` is its id."""

    id: str
    title: str
    #: Offered at checkout; a disabled gateway may still be on older orders.
    enabled: bool


@dataclass(frozen=True)
class ShippingZone:
    id: int
    name: str


@dataclass(frozen=True)
class ShippingMethodOption:
    """A shipping method an order's shipping line can name."""

    #: The method type ("flat_rate", "free_shipping", "local_pickup", a plugin's).
    method_id: str
    #: The instance in its zone, as an order's shipping line carries it ("3"); "" for the
    #: method type itself, which stands for it in any zone.
    instance_id: str
    #: The instance's title as the store set it ("International flat rate"), or the type's.
    title: str
    #: The zone's name; "" for the method type.
    zone: str
    #: Offered at checkout in its zone; a type is enabled where any zone offers it.
    enabled: bool


@dataclass(frozen=True)
class TaxRateOption:
    """A tax rate of the store (WooCommerce > Settings > Tax): the ``rate_id`` of tax lines."""

    id: int
    #: ISO country code, "" for every country.
    country: str
    #: State code, "" for every state.
    state: str
    #: The rate in percent, as the store keeps it ("19.0000").
    rate: Decimal
    name: str
    #: Rates of one priority apply together; one rate per priority matches an address.
    priority: int
    #: Applied on top of the price and the taxes of lower priorities.
    compound: bool
    #: Applied to shipping too.
    shipping: bool
    #: The tax class's slug, "standard" for the standard rates.
    tax_class: str


def parse_payment_gateways(data: Any) -> list[PaymentGateway]:
    return [
        PaymentGateway(id=e.text("id"), title=e.text("title", ""), enabled=e.flag("enabled"))
        for e in _entries(data)
    ]


def parse_shipping_zones(data: Any) -> list[ShippingZone]:
    return [ShippingZone(id=e.integer("id"), name=e.text("name", "")) for e in _entries(data)]


def parse_zone_methods(data: Any, zone: ShippingZone) -> list[ShippingMethodOption]:
    """A zone's methods; each instance by its ``instance_id``, in the zone's order."""
    return [
        ShippingMethodOption(
            method_id=e.text("method_id"),
            instance_id=str(e.integer("instance_id")),
            title=e.text("title", "") or e.text("method_title", ""),
            zone=zone.name,
            enabled=e.flag("enabled"),
        )
        for e in _entries(data)
    ]


def parse_method_types(
    data: Any, instances: list[ShippingMethodOption]
) -> list[ShippingMethodOption]:
    """The method types of ``GET /shipping_methods``, each without an instance."""
    offered = {m.method_id for m in instances if m.enabled}
    types = []
    for e in _entries(data):
        method_id = e.text("id")
        title = e.text("title", "")
        types.append(ShippingMethodOption(method_id, "", title, "", method_id in offered))
    return types


def parse_tax_rates(data: Any) -> list[TaxRateOption]:
    return [
        TaxRateOption(
            id=e.integer("id"),
            country=e.text("country", ""),
            state=e.text("state", ""),
            rate=e.decimal("rate"),
            name=e.text("name", ""),
            priority=e.integer("priority"),
            compound=e.flag("compound"),
            shipping=e.flag("shipping"),
            tax_class=e.text("class", "standard"),
        )
        for e in _entries(data)
    ]


def _entries(data: Any) -> list[_Entry]:
    if not isinstance(data, list):
        raise ValueError("the answer is not a list")
    entries = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"entry {index} is not an object")
        entries.append(_Entry(item, index))
    return entries


class _Entry:
    """One object of a list, read field by field; a bad field is named with its entry."""

    __slots__ = ("_data", "_index")

    def __init__(self, data: dict[str, Any], index: int):
        self._data = data
        self._index = index

    def text(self, key: str, default: str | None = None) -> str:
        value = self._data.get(key)
        if isinstance(value, str):
            return value
        if value is None and default is not None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self._error(key, value, "text")

    def integer(self, key: str) -> int:
        value = self._data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return int(value)
        raise self._error(key, value, "a whole number")

    def decimal(self, key: str) -> Decimal:
        value = self._data.get(key)
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            return Decimal(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        raise self._error(key, value, "a number")

    def flag(self, key: str) -> bool:
        value = self._data.get(key)
        if isinstance(value, bool):
            return value
        raise self._error(key, value, "true or false")

    def _error(self, key: str, value: Any, expected: str) -> ValueError:
        shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
        found = "is missing" if key not in self._data else f"is {shown}"
        return ValueError(f"entry {self._index}: {key} {found}, not {expected}")
