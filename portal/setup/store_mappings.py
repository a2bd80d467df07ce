"""Each webstore's payment gateways, shipping methods and tax rates, mapped to the ERP's
payment methods, shipment methods and shipping agents, and VAT codes.

A mapping page lists what there is to map:
- what the store lists now, read live once, without retries (a person waits);
- what the webstore's imported orders name (their payment gateways, the tax rates of their
  lines), so that a store out of reach can still be mapped; a sales order keeps no shipping
  method id to offer;
- the mappings made, those of entries the store no longer lists included: older orders may
  still name them, and they stay until someone removes them.
Anything else can be mapped by its id, as an order names it.

Saving a row with no ERP code chosen removes its mapping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from portal import db
from portal.crypto import SecretUnreadable
from portal.mappings import find
from portal.models import (
    PaymentMethod,
    SalesLine,
    SalesOrder,
    ShipmentMethod,
    ShippingAgent,
    VatCode,
    Webstore,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.setup.forms import optional_id, record_choices, strip
from portal.sync.runs import client_for
from portal.sync.vat import parts_from_json
from portal.woo.client import WooClient
from portal.woo.errors import WooError


@dataclass(frozen=True)
class Entry:
    """Something an order can name, as the store lists it or an order showed it."""

    key: tuple[str, ...]
    title: str
    #: What else the store says of it: the zone, the country and rate.
    detail: str = ""
    #: Offered at checkout, as the store says; None where it was not listed.
    enabled: bool | None = None


@dataclass
class Row:
    """A line of a mapping page: an entry to map and its mapping (None: not mapped)."""

    key: tuple[str, ...]
    title: str
    detail: str
    #: Where the entry stands, in words: in the store, on imported orders, no longer listed.
    standing: str
    mapping: object | None


def _title(text: str | None) -> str:
    return (text or "").strip()[:200]


class MappingForm(FlaskForm):
    """One entry's mapping: its key, its title as shown, and the ERP record(s) chosen."""

    title = StringField("Title", filters=[_title])
    # The fields of the entry's key, as the mapping's columns are named.
    key_fields: tuple[str, ...] = ()
    # The ERP fields of each kind, with the model each one's records come from.
    targets: dict[str, type] = {}

    def __init__(self, *args, records: dict[str, list] | None = None, **kw):
        super().__init__(*args, **kw)
        for name in self.targets:
            blank = f"No {in_sentence(self[name].label.text)}"
            self[name].choices = record_choices((records or {}).get(name, ()), blank)

    @property
    def key_data(self) -> dict:
        """The key's columns, as the mapping keeps them (valid forms only)."""
        return {name: self[name].data for name in self.key_fields}

    @property
    def shown_key(self) -> tuple[str, ...]:
        """The key as the page shows it, valid or not."""
        return tuple(str(self[name].data or "") for name in self.key_fields)

    @property
    def target_data(self) -> dict:
        return {name: self[name].data for name in self.targets}


class PaymentMappingForm(MappingForm):
    key_fields = ("gateway_id",)
    targets = {"payment_method_id": PaymentMethod}
    gateway_id = StringField(
        "Gateway ID",
        filters=[strip],
        validators=[
            DataRequired(message="Enter the gateway's id, as orders name it, e.g. bacs."),
            Length(max=100),
        ],
    )
    payment_method_id = SelectField("Payment method", coerce=optional_id)


class ShippingMappingForm(MappingForm):
    key_fields = ("method_id", "instance_id")
    targets = {"shipment_method_id": ShipmentMethod, "shipping_agent_id": ShippingAgent}
    method_id = StringField(
        "Method ID",
        filters=[strip],
        validators=[
            DataRequired(message="Enter the method's id, as orders name it, e.g. flat_rate."),
            Length(max=100),
        ],
    )
    instance_id = StringField(
        "Instance ID",
        filters=[lambda value: strip(value) or ""],
        validators=[
            Regexp(r"^[0-9]{0,20}$", message="The instance is a number, or blank for every zone.")
        ],
    )
    shipment_method_id = SelectField("Shipment method", coerce=optional_id)
    shipping_agent_id = SelectField("Shipping agent", coerce=optional_id)


class TaxMappingForm(MappingForm):
    key_fields = ("rate_id",)
    targets = {"vat_code_id": VatCode}
    rate_id = StringField(
        "Rate ID",
        filters=[strip],
        validators=[
            DataRequired(message="Enter the tax rate's id, as the order's tax lines name it."),
            Regexp(r"^[1-9][0-9]{0,17}$", message="A rate's id is a whole number, e.g. 5."),
        ],
    )
    vat_code_id = SelectField("VAT code", coerce=optional_id)

    @property
    def key_data(self) -> dict:
        return {"rate_id": int(self.rate_id.data)}


def payment_entries(client: WooClient) -> list[Entry]:
    return [Entry((g.id,), g.title, enabled=g.enabled) for g in client.payment_gateways()]


def shipping_entries(client: WooClient) -> list[Entry]:
    return [
        Entry(
            (m.method_id, m.instance_id),
            m.title,
            f"Zone: {m.zone}" if m.instance_id else "The method in every zone",
            m.enabled,
        )
        for m in client.shipping_methods()
    ]


def tax_entries(client: WooClient) -> list[Entry]:
    return [Entry((str(r.id),), r.name or "(no name)", rate_detail(r)) for r in client.tax_rates()]


def rate_detail(rate) -> str:
    where = " ".join(filter(None, (rate.country, rate.state))) or "Every country"
    flags = [f"priority {rate.priority}", f"class {rate.tax_class}"]
    flags += ["compound"] if rate.compound else []
    flags += ["on shipping"] if rate.shipping else []
    return f"{where}, {rate.rate.normalize():f} % ({', '.join(flags)})"


def gateways_on_orders(webstore: Webstore) -> list[Entry]:
    """The payment gateways the webstore's imported orders name, with their latest title."""
    rows = db.session.execute(
        sa.select(SalesOrder.payment_method, sa.func.max(SalesOrder.payment_method_title))
        .where(SalesOrder.webstore_id == webstore.id, SalesOrder.payment_method != "")
        .group_by(SalesOrder.payment_method)
        .order_by(SalesOrder.payment_method)
    )
    return [Entry((gateway,), title or "") for gateway, title in rows]


# How many of the webstore's latest orders are read for the tax rates their lines name.
ORDERS_READ_FOR_RATES = 2000


def rates_on_orders(webstore: Webstore) -> list[Entry]:
    """The store tax rates the lines of the webstore's latest orders carry (their VAT
    parts), with the rate each was taxed at: reading every line of a large store's orders
    would take seconds, and a rate in use shows on recent orders."""
    latest = (
        sa.select(SalesOrder.id)
        .where(SalesOrder.webstore_id == webstore.id)
        .order_by(SalesOrder.order_date.desc(), SalesOrder.id.desc())
        .limit(ORDERS_READ_FOR_RATES)
        .subquery()
    )
    lines = db.session.scalars(
        sa.select(SalesLine.vat_parts).where(
            SalesLine.sales_order_id.in_(sa.select(latest.c.id)), SalesLine.vat_parts.is_not(None)
        )
    )
    rates = {}
    for part in (part for parts in lines for part in parts_from_json(parts)):
        if part.rate_id is not None:
            rates.setdefault(part.rate_id, part.rate)
    return [
        Entry((str(rate_id),), f"{rates[rate_id].normalize():f} %") for rate_id in sorted(rates)
    ]


@dataclass(frozen=True)
class Kind:
    """One mapping page: what it maps, to what, and where the entries come from."""

    name: str
    endpoint: str
    #: The page's name, as import failures name it: "Setup > Webstores > CODE > <title>".
    title: str
    #: What one entry is called, in the page's words.
    noun: str
    model: type
    form: type[MappingForm]
    #: The column headings of the entry's key.
    key_labels: tuple[str, ...]
    read_store: Callable[[WooClient], list[Entry]]
    on_orders: Callable[[Webstore], list[Entry]]
    #: Each ERP field's list, as (what its records are called, its Accounting page).
    erp_pages: dict[str, tuple[str, str]]
    #: The entry's key in words: "bacs", "flat_rate, instance 3", "rate 5".
    key_text: Callable[[tuple[str, ...]], str]
    #: The entry whose mapping an unmapped one takes (a zone's method: the method in every
    #: zone), or None.
    fallback: Callable[[tuple[str, ...]], tuple[str, ...] | None] = lambda key: None

    def records(self) -> dict[str, list]:
        return {
            name: list(db.session.scalars(sa.select(model).order_by(model.code)))
            for name, model in self.form.targets.items()
        }

    def key_of(self, mapping) -> tuple[str, ...]:
        return tuple(str(getattr(mapping, name)) for name in self.form.key_fields)

    def row_id(self, key: tuple[str, ...]) -> str:
        """A DOM id for the entry's row, the same on every answer."""
        digest = hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:12]
        return f"{self.name}-{digest}"


PAYMENTS = Kind(
    name="payments",
    endpoint="setup.payment_mappings",
    title="Payment methods",
    noun="payment gateway",
    model=WebstorePaymentMapping,
    form=PaymentMappingForm,
    key_labels=("Gateway ID",),
    read_store=payment_entries,
    on_orders=gateways_on_orders,
    erp_pages={"payment_method_id": ("payment methods", "accounting.payment_methods")},
    key_text=lambda key: key[0],
)
SHIPPING = Kind(
    name="shipping",
    endpoint="setup.shipping_mappings",
    title="Shipping methods",
    noun="shipping method",
    model=WebstoreShippingMapping,
    form=ShippingMappingForm,
    key_labels=("Method ID", "Instance"),
    read_store=shipping_entries,
    # An order keeps no shipping method of its own to offer.
    on_orders=lambda webstore: [],
    erp_pages={
        "shipment_method_id": ("shipment methods", "accounting.shipment_methods"),
        "shipping_agent_id": ("shipping agents", "accounting.shipping_agents"),
    },
    key_text=lambda key: f"{key[0]}, instance {key[1]}" if key[1] else f"{key[0]}, every zone",
    fallback=lambda key: (key[0], "") if key[1] else None,
)
TAXES = Kind(
    name="taxes",
    endpoint="setup.tax_mappings",
    title="Tax rates",
    noun="tax rate",
    model=WebstoreTaxMapping,
    form=TaxMappingForm,
    key_labels=("Rate ID",),
    read_store=tax_entries,
    on_orders=rates_on_orders,
    erp_pages={"vat_code_id": ("VAT codes", "accounting.vat_codes")},
    key_text=lambda key: f"rate {key[0]}",
)
KINDS = (PAYMENTS, SHIPPING, TAXES)


@dataclass
class Listing:
    rows: list[Row]
    #: Why the store could not be read, in words; None where it was.
    store_error: str | None


def listing(kind: Kind, webstore: Webstore) -> Listing:
    """The page's rows: the store's entries in its order, then those only imported orders
    name, then mappings of entries neither shows."""
    store, error = read_store(kind, webstore)
    seen = {entry.key: entry for entry in kind.on_orders(webstore)}
    mappings = {kind.key_of(m): m for m in webstore_mappings(kind, webstore)}
    entries = {entry.key: (entry, True) for entry in store}
    for entry in seen.values():
        entries.setdefault(entry.key, (entry, False))
    for key, mapping in mappings.items():
        entries.setdefault(key, (Entry(key, mapping.title), False))
    rows = []
    for key, (entry, listed) in entries.items():
        words = standing(entry, listed, key in seen, store_read=error is None)
        taken = kind.fallback(key)
        if key not in mappings and taken in mappings:
            words += f"; not mapped itself, so orders take the mapping of {kind.key_text(taken)}"
        rows.append(Row(key, entry.title, entry.detail, words, mappings.get(key)))
    return Listing(rows, error)


def standing(entry: Entry, listed: bool, on_orders: bool, store_read: bool) -> str:
    if listed:
        state = {True: "In the store, enabled", False: "In the store, disabled"}
        words = [state.get(entry.enabled, "In the store")]
    elif store_read:
        words = ["No longer listed by the store"]
    else:
        words = []
    if on_orders:
        words.append("on imported orders")
    elif not listed and store_read:
        words.append("older orders may still name it")
    if not words:
        return "Mapped before (the store could not be asked)"
    text = "; ".join(words)
    return text[0].upper() + text[1:]


def read_store(kind: Kind, webstore: Webstore) -> tuple[list[Entry], str | None]:
    """The store's entries, or none and why they could not be read."""
    try:
        with client_for(webstore, max_retries=0) as client:
            return kind.read_store(client), None
    except (WooError, SecretUnreadable) as error:
        return [], str(error)


def webstore_mappings(kind: Kind, webstore: Webstore) -> list:
    model = kind.model
    order = [getattr(model, name) for name in kind.form.key_fields]
    return list(
        db.session.scalars(
            sa.select(model).where(model.webstore_id == webstore.id).order_by(*order)
        )
    )


def form_for(kind: Kind, row: Row, records: dict[str, list]) -> MappingForm:
    """The row's form as shown: its key and title, and what it is mapped to."""
    data = dict(zip(kind.form.key_fields, row.key, strict=True), title=row.title)
    for name in kind.form.targets:
        data[name] = getattr(row.mapping, name) if row.mapping is not None else None
    return kind.form(formdata=None, data=data, records=records)


def save(kind: Kind, webstore: Webstore, form: MappingForm):
    """Map the form's entry to the ERP records chosen; with none chosen, remove its mapping.
    Returns the mapping, or None where there is none now."""
    key, targets = form.key_data, form.target_data
    for attempt in (1, 2):
        mapping = find(kind.model, webstore, key)
        if not any(value is not None for value in targets.values()):
            if mapping is not None:
                db.session.delete(mapping)
                db.session.commit()
            return None
        if mapping is None:
            mapping = kind.model(webstore_id=webstore.id, **key)
            db.session.add(mapping)
        mapping.title = form.title.data or mapping.title or ""
        for name, value in targets.items():
            setattr(mapping, name, value)
        try:
            db.session.commit()
        except IntegrityError:
            # Someone mapped the same entry meanwhile: change their mapping instead.
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        return mapping
    raise AssertionError("unreachable")


def saved_message(kind: Kind, form: MappingForm, mapping) -> str:
    what = kind.key_text(form.shown_key)
    if mapping is None:
        return f"Saved: {what} is not mapped now."
    chosen = [
        f"{in_sentence(form[name].label.text)} {getattr(mapping, name.removesuffix('_id'))}"
        for name in kind.form.targets
        if getattr(mapping, name) is not None
    ]
    return f"Saved: {what} maps to {' and '.join(chosen)}."


def in_sentence(label: str) -> str:
    """A label inside a sentence: "payment method", but "VAT code"."""
    return label if label[:2].isupper() else label[0].lower() + label[1:]
