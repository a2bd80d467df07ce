"""Deterministic store contents: the same seed gives the same people and orders.

Faker makes a pool of people once (registered customers and guests in nine locales);
orders are then drawn with a plain ``random.Random``, which is what keeps 100,000 of them
within seconds. Order ids start at 23 and grow with their creation date, spread over the
year before ``until``. The first orders follow the captured store's pattern, so captured
requests map onto the same ids: 23-52 cycle pending, processing, on-hold, completed,
cancelled and failed (the first two for registered customers), 32 is refunded in full
and 44 in part, all taxed at the captured store's rate; 53-60 then show every status once.
Later orders draw a status by weight, and some are made just after the store's midnight or
its change of clocks, where a local day and a UTC day part.

With ``Options.real_shapes`` later orders also take the shapes of a real store at a real
store's rates: lines whose product was deleted since or that were added by hand (no
product, no SKU), guests who gave no email (phone and POS orders), and euro orders from
the euro area (in a dollar store).

A store in another currency or precision (``Options.money``) sells the same things priced
in its money, and its orders are in that currency and rounded to its unit; its orders also
draw negative fees (a loyalty discount), which the default store, in US dollars to the
cent, never had and so still has not.
"""

from __future__ import annotations

import dataclasses
import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from faker import Faker

from . import refunds
from .catalog import Catalog
from .currency import Money
from .model import (
    ITEM_BLOCK,
    MAX_LINES,
    PAID_STATUSES,
    SHIPPING_ITEM,
    STATUSES,
    STOCK_REDUCED_STATUSES,
    Contact,
    Customer,
    Fee,
    Line,
    Order,
    Refund,
    RefundLine,
)
from .money import compute
from .php import trim_decimal
from .taxes import CAPTURED, REAL, TaxRate

FIRST_ORDER_ID = 23
FIRST_CUSTOMER_ID = 2  # user 1 is the shop's administrator
HOUR = 3600
DAY = 24 * HOUR
YEAR = 365 * DAY

_CAPTURED_CYCLE = ("pending", "processing", "on-hold", "completed", "cancelled", "failed")
_REFUNDED_IN_FULL, _REFUNDED_IN_PART = 32, 44
_STATUS_WEIGHTS = {
    "completed": 36,
    "processing": 18,
    "pending": 9,
    "on-hold": 8,
    "cancelled": 9,
    "failed": 9,
    "refunded": 3,
    "checkout-draft": 2,
}
_LOCALES = (  # Faker locale, country, weight
    ("en_US", "US", 40),
    ("en_GB", "GB", 8),
    ("de_DE", "DE", 10),
    ("fr_FR", "FR", 8),
    ("es_ES", "ES", 8),
    ("ja_JP", "JP", 8),
    ("sv_SE", "SE", 6),
    ("el_GR", "GR", 6),
    ("pl_PL", "PL", 6),
    ("nl_NL", "NL", 5),
)
_DOMAINS = {"US": "example.com", "GB": "example.co.uk", "JP": "example.jp"}
_PAYMENTS = {"stripe": 40, "ppcp-gateway": 20, "bacs": 20, "cod": 15, "cheque": 5}
_NOTES = (
    "Please leave at the door — merci!",
    "Bitte beim Nachbarn abgeben.",
    "配達前に電話してください。",
    "Gift for my sister; no invoice in the parcel please.",
    "Call before delivery: 555-0199",
)
_GIFT_MESSAGES = ("Happy birthday! 🎂", "Joyeux Noël ✨", "Congratulations!", "お誕生日おめでとう")
_REFUND_REASONS = ("Customer changed mind", "Damaged item (partial)", "Late delivery", "")
_EURO_AREA = ("DE", "NL", "FR", "ES", "GR")
# Lines without a product: (name, unit price in US cents), a product since deleted or a
# line added by hand in the order screen.
_DELETED_PRODUCTS = (
    ("Discontinued Sampler Box", 3200),
    ("Holiday Mug 2025", 1450),
    ("Tasting Set (old packaging)", 2290),
)
_CUSTOM_LINES = (
    ("Custom engraving (no product)", 1500),
    ("Hand gift wrapping", 450),
    ("Repair service", 3975),
)


@dataclass(frozen=True)
class Options:
    """How the store is set up, and whether its orders take the real store's shapes."""

    tax_rates: dict[str, TaxRate] = field(default_factory=lambda: REAL)
    round_at_subtotal: bool = False
    real_shapes: bool = False
    #: The store's "Prices entered with tax" now: what its settings say and what orders
    #: made through the REST API take. Generated orders mix both, a fifth with tax.
    prices_include_tax: bool = False
    #: The store's currency and number of decimals: what its settings say and what its
    #: orders are made in.
    money: Money = field(default_factory=Money)
    #: Rates the store lists (``GET /taxes``) besides those its orders are taxed at.
    listed_only_tax_rates: tuple[TaxRate, ...] = ()

    @property
    def listed_tax_rates(self) -> tuple[TaxRate, ...]:
        return (*self.tax_rates.values(), *self.listed_only_tax_rates)


@dataclass(frozen=True, slots=True)
class People:
    customers: list[Customer]
    guests: list[Contact]


def make_people(seed: int, orders: int, until: int) -> People:
    """Registered customers and guest buyers, about one for every two to six orders.

    Some guests reuse a customer's or another guest's email in different case and with
    stray spaces ("  Alice@Example.com "), as real shoppers do.
    """
    rng = random.Random(f"people:{seed}")
    fakers = {}
    for locale, _, _ in _LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(f"{seed}:{locale}")
    emails: set[str] = set()

    def contact() -> Contact:
        locale, country, _ = rng.choices(_LOCALES, weights=[w for *_, w in _LOCALES])[0]
        fake = fakers[locale]
        first, last = fake.first_name(), fake.last_name()
        return Contact(
            first_name=first,
            last_name=last,
            company=fake.company() if rng.random() < 0.12 else "",
            address_1=fake.street_address().replace("\n", ", "),
            address_2=f"Apt {rng.randint(1, 99)}" if rng.random() < 0.1 else "",
            city=fake.city(),
            state=fake.state_abbr() if country == "US" else "",
            postcode=fake.postcode(),
            country=country,
            email=_unique_email(first, last, country, emails),
            phone=fake.phone_number(),
        )

    customers = []
    for i in range(max(8, min(1500, orders // 6))):
        person = contact()
        joined = until - YEAR - rng.randrange(200 * DAY)
        username = _unique_email(person.first_name, person.last_name, "", emails).split("@")[0]
        customers.append(Customer(FIRST_CUSTOMER_ID + i, username, joined, person))
    guests: list[Contact] = []
    for i in range(max(16, min(4000, orders // 3))):
        if i % 12 == 5:
            guests.append(_restyled(rng.choice(customers).contact, i))
        elif i % 12 == 9:
            guests.append(_restyled(rng.choice(guests), i))
        else:
            guests.append(contact())
    return People(customers, guests)


def _unique_email(first: str, last: str, country: str, taken: set[str]) -> str:
    local = ".".join(part for part in (_ascii(first), _ascii(last)) if part) or "buyer"
    domain = _DOMAINS.get(country, f"example.{country.lower()}")
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{domain}"
    taken.add(email)
    return email


def _ascii(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _restyled(contact: Contact, i: int) -> Contact:
    """The same person typing their email differently."""
    local, _, domain = contact.email.partition("@")
    email = (
        f"  {local.capitalize()}@{domain.capitalize()} ",
        contact.email.upper(),
        f"{contact.email} ",
    )[i % 3]
    return dataclasses.replace(contact, email=email)


class OrderMaker:
    """Draws orders from a seed: what was bought, by whom, and what became of it."""

    def __init__(
        self, seed: int, catalog: Catalog, people: People, options: Options | None = None
    ) -> None:
        self.rng = random.Random(f"orders:{seed}")
        self.seed = seed
        self._refunds_made = {True: 0, False: 0}  # full, partial
        self.catalog = catalog
        self.people = people
        self.options = options or Options()

    def make(
        self,
        order_id: int,
        slot: int,
        created: int,
        until: int,
        new_id: Callable[[], int],
        *,
        status: str | None = None,
        registered: bool | None = None,
        captured: bool = False,
    ) -> Order:
        """One order; ``captured`` ones are as the captured store made them: its rate, prices
        without tax, tax rounded per line, none of the real shapes."""
        rng = self.rng
        status = status or _weighted(rng, _STATUS_WEIGHTS)
        if registered is None:
            registered = rng.random() < 0.35
        customer_id, contact = self._buyer(registered)
        lines = self._lines(slot)
        real = self.options.real_shapes and not captured
        if real:
            contact, lines = self._real_shapes(customer_id, contact, lines)
        rates = CAPTURED if captured else self.options.tax_rates
        paid = None
        if status in PAID_STATUSES:
            paid = _not_after(created + rng.randrange(60, 1200), until, created)
        completed = None
        if status in ("completed", "refunded"):
            completed = _not_after(paid + rng.randrange(HOUR, 5 * DAY), until, paid)
        payment = "" if status == "checkout-draft" else _weighted(rng, _PAYMENTS)
        order = Order(
            id=order_id,
            slot=slot,
            status=status,
            created=created,
            modified=created,
            paid=paid,
            completed=completed,
            customer_id=customer_id,
            contact=contact,
            lines=lines,
            shipping=self._shipping(lines),
            fee=self._fee(),
            coupon=rng.choice(list(self.catalog.coupons.values())) if rng.random() < 0.12 else None,
            prices_include_tax=rng.random() < 0.2 and not captured,
            payment_method=payment,
            created_via=_created_via(rng, status),
            customer_note=rng.choice(_NOTES) if rng.random() < 0.15 else "",
            order_key=self.order_key(),
            gift_message=rng.choice(_GIFT_MESSAGES) if rng.random() < 0.08 else "",
            refunds=(),
            stock_reduced=status in STOCK_REDUCED_STATUSES,
            version="10.0.2" if created > until - 90 * DAY else "9.8.5",
            transaction_id=_transaction_id(rng, payment) if paid else "",
            currency=self._currency(contact) if real else self.options.money.currency,
            tax_rate=rates.get(contact.country),
            at_subtotal=self.options.round_at_subtotal and not captured,
            decimals=self.options.money.decimals,
        )
        refunds = self._refunds(order, until, new_id)
        last_change = max([created, paid or 0, completed or 0, *(r.created for r in refunds)])
        modified = _not_after(last_change + rng.randrange(HOUR), until, last_change)
        return dataclasses.replace(order, refunds=refunds, modified=modified)

    def order_key(self) -> str:
        return "wc_order_" + "".join(self.rng.choices(_KEY_CHARS, k=13))

    def _buyer(self, registered: bool) -> tuple[int, Contact]:
        if registered:
            # Skewed towards the first customers, so that some have many orders.
            customers = self.people.customers
            customer = customers[int(len(customers) * self.rng.random() ** 2)]
            return customer.id, customer.contact
        return 0, self.rng.choice(self.people.guests)

    def _lines(self, slot: int) -> tuple[Line, ...]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4, 5), weights=(45, 30, 15, 7, 3))[0]
        products = rng.sample(self.catalog.sellable, min(count, MAX_LINES))
        first = slot * ITEM_BLOCK + 1
        return tuple(
            Line(first + i, p.id, rng.choices((1, 2, 3, 4, 10), weights=(70, 18, 7, 4, 1))[0])
            for i, p in enumerate(products)
        )

    def _real_shapes(self, customer_id: int, contact: Contact, lines: tuple[Line, ...]):
        """A few percent of each: a guest without email, a line without a product."""
        rng = self.rng
        if customer_id == 0 and rng.random() < 0.04:
            contact = dataclasses.replace(contact, email="")
        roll = rng.random()
        if roll < 0.04:
            name, price = rng.choice(_DELETED_PRODUCTS if roll < 0.025 else _CUSTOM_LINES)
            price = self.catalog.money.price(price)
            position = min(len(lines), MAX_LINES - 1)
            item_id = (lines[0].item_id if lines else 1) + position
            lines = (*lines[:position], Line(item_id, 0, rng.choice((1, 1, 2)), name, price))
        return contact, lines

    def _currency(self, contact: Contact) -> str:
        """A dollar store takes euros from the euro area (a currency plugin); others keep
        their own currency."""
        store = self.options.money.currency
        if store != "USD" or contact.country not in _EURO_AREA:
            return store
        return "EUR" if self.rng.random() < 0.6 else store

    def _shipping(self, lines: tuple[Line, ...]) -> str | None:
        products = self.catalog.products
        if all(line.product_id in products and products[line.product_id].virtual for line in lines):
            return None
        return _weighted(
            self.rng, {"flat_rate": 55, "free_shipping": 30, "local_pickup": 10, None: 5}
        )

    def _fee(self) -> Fee | None:
        """Gift wrap (its "amount" meta set where the admin added it), express handling, and
        in a store of another money a loyalty discount: a negative fee."""
        money = self.options.money
        roll = self.rng.random()
        if roll < 0.07:
            wrap = money.price(250)
            return Fee("Gift wrap", wrap, "" if roll < 0.05 else trim_decimal(wrap, money.decimals))
        if roll < 0.1:
            return Fee("Express handling", money.price(395), "")
        if roll > 0.94 and not money.is_default:
            return Fee("Loyalty discount", money.price(-700), "")
        return None

    def _refunds(self, order: Order, until: int, new_id: Callable[[], int]) -> tuple:
        """A refunded order's refund of everything, and now and then a completed order's
        refund of a part, of every kind WooCommerce makes: by amount alone; of its lines,
        shipping and fee, restocked or not; of one unit of a line, with its tax, restocked
        or not, with the shipping or without. Orders 32 and 44 are refunded by amount, as
        the captured store's were. The kind is drawn apart, so the orders stay as they were
        drawn before refunds had kinds."""
        if order.status == "refunded":
            amount = compute(order, self.catalog).total_units
        elif order.status == "completed" and (
            order.id == _REFUNDED_IN_PART or self.rng.random() < 0.05
        ):
            amount = max(100, compute(order, self.catalog).total_units // 4 // 50 * 50)
        else:
            return ()
        left = refunds.remaining(order, self.catalog)
        possible = 0 < amount <= left if order.status == "refunded" else 0 < amount < left
        if not possible and not self.options.money.is_default:
            return ()  # nothing to refund, or no more than the part (a discount took it)
        later = order.completed + self.rng.randrange(DAY, 10 * DAY)
        created = _not_after(later, until, order.completed)
        refund = Refund(new_id(), amount, self.rng.choice(_REFUND_REASONS), created)
        if order.id in (_REFUNDED_IN_FULL, _REFUNDED_IN_PART):
            return (refund,)
        return (self._refund_kind(order, refund),)

    def _refund_kind(self, order: Order, refund: Refund) -> Refund:
        """The refund made one of the kinds: the first refunds of a store take each kind in
        turn, so that even a small store shows them all; later ones draw theirs."""
        rng = random.Random(f"refund:{self.seed}:{refund.id}")
        full = order.status == "refunded"
        turn = self._refunds_made[full]
        self._refunds_made[full] += 1
        kinds = _FULL_REFUNDS if full else _PARTIAL_REFUNDS
        kind = kinds[turn] if turn < len(kinds) else rng.choice(kinds)
        known = refunds.items(order, self.catalog)
        if kind == "amount" or not order.lines or full and order.at_subtotal:
            return refund  # by amount, as WooCommerce's "Refunded" status change makes it
        if full:
            lines = [RefundLine(i, q, total, tax) for i, (q, total, tax) in known.items()]
        else:
            # One unit of the dearest line, with its share of the tax.
            line = max(order.lines, key=lambda x: known[x.item_id][1] / x.quantity)
            quantity, total, tax = known[line.item_id]
            lines = [
                RefundLine(line.item_id, 1, *(refunds.share(a, 1, quantity) for a in (total, tax)))
            ]
            shipping_id = order.first_item_id - 1 + SHIPPING_ITEM
            if "shipping" in kind and shipping_id in known and sum(known[shipping_id][1:]):
                lines.append(RefundLine(shipping_id, 0, *known[shipping_id][1:]))
        amount = refunds.lines_amount(lines)
        whole = compute(order, self.catalog).total_units
        if amount <= 0 or (amount != refund.amount if full else amount >= whole):
            return refund  # the lines would not add up to the total, or would refund it all
        if "restock" in kind:
            lines = refunds.with_restock(order, self.catalog, lines)
        return refund._replace(amount=amount, lines=tuple(lines))


# The kinds of refund drawn, in the turn the first ones take.
_FULL_REFUNDS = ("lines, restock", "amount", "lines")
_PARTIAL_REFUNDS = ("line, restock", "line and shipping", "amount", "line, restock, shipping")
_KEY_CHARS = string.ascii_letters + string.digits


def _captured_status(order_id: int) -> str | None:
    index = order_id - FIRST_ORDER_ID
    if order_id == _REFUNDED_IN_FULL:
        return "refunded"
    if 0 <= index < 30:
        return _CAPTURED_CYCLE[index % len(_CAPTURED_CYCLE)]
    if 30 <= index < 30 + len(STATUSES):
        return list(STATUSES)[index - 30]
    return None


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _created_via(rng: random.Random, status: str) -> str:
    if status == "checkout-draft":
        return "store-api"
    return _weighted(rng, {"checkout": 80, "rest-api": 10, "admin": 10})


def _transaction_id(rng: random.Random, payment: str) -> str:
    if payment == "stripe":
        return "pi_" + "".join(rng.choices(_KEY_CHARS, k=24))
    if payment == "ppcp-gateway":
        return "".join(rng.choices(string.ascii_uppercase + string.digits, k=17))
    return ""


def _not_after(moment: int, until: int, floor: int) -> int:
    return max(min(moment, until), floor)


def seed_orders(
    maker: OrderMaker,
    count: int,
    until: int,
    new_id: Callable[[], int],
    zone: tzinfo,
) -> list[Order]:
    """``count`` orders with ids from 23, created one after another over the past year.

    Each order is drawn within its own stretch of time. Where a stretch holds the store's
    midnight, one order in ten is made in the three quarters of an hour after it, and
    always on the days its clocks change.
    """
    start, step = until - YEAR, (YEAR - HOUR) / max(count, 1)
    midnights = _Midnights(start, until, zone)
    orders = []
    for slot in range(count):
        created = int(start + (slot + maker.rng.random()) * step)
        status = _captured_status(FIRST_ORDER_ID + slot)
        captured = slot < 30
        if not captured:
            begin, end = int(start + slot * step), int(start + (slot + 1) * step)
            created = midnights.pick(maker.rng, begin, end) or created
        orders.append(
            maker.make(
                FIRST_ORDER_ID + slot,
                slot,
                created,
                until,
                new_id,
                status=status,
                registered=status in ("pending", "processing") if captured else None,
                captured=captured,
            )
        )
    return orders


# Orders a shop manager edits in the hour the clocks repeat: more than a page of 100.
REPEATED_HOUR_EDITS = 150
# Of those, pairs edited at the same local second of both passes of the hour.
SAME_WALL_CLOCK_PAIRS = 5


def edited_in_repeated_hour(
    orders: list[Order], seed: int, until: int, zone: tzinfo
) -> list[Order]:
    """The orders, some of them last modified in the hour the store's clocks last went back
    before ``until``: in both passes of it, a few at the same local second of each. A store
    on the posts table sorts and filters them by that local time, which the hour repeats.
    """
    span = repeated_hour(zone, until - YEAR, until)
    if span is None:
        return orders
    first, end = span
    second = (first + end) // 2  # where the second pass of the hour starts
    rng = random.Random(f"repeated-hour:{seed}")
    # Captured orders keep their dates; the others must have been made before the hour.
    candidates = [o for o in orders if o.slot >= 30 and o.modified < first]
    edited = rng.sample(candidates, min(REPEATED_HOUR_EDITS, len(candidates) // 2))
    moments = []
    for _ in range(min(SAME_WALL_CLOCK_PAIRS, len(edited) // 2)):
        offset = rng.randrange(second - first)
        moments += [first + offset, second + offset]
    moments += [rng.randrange(first, end) for _ in range(len(edited) - len(moments))]
    modified = dict(zip((o.id for o in edited), moments, strict=True))
    return [
        dataclasses.replace(o, modified=modified[o.id]) if o.id in modified else o for o in orders
    ]


def repeated_hour(zone: tzinfo, start: int, until: int) -> tuple[int, int] | None:
    """The last stretch of local time the clocks showed twice in [start, until), as UTC
    Unix times from its first pass to the end of its second; None if they never went back.
    """
    moment = until - HOUR
    while moment > start:
        before, after = _offset(moment, zone), _offset(moment + HOUR, zone)
        if before > after:
            change = _offset_change(moment, moment + HOUR, zone)
            repeated = int((before - after).total_seconds())
            if change + repeated <= until:
                return change - repeated, change + repeated
        moment -= HOUR
    return None


def _offset_change(low: int, high: int, zone: tzinfo) -> int:
    """The first second of the new offset, in (low, high]."""
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(middle, zone) == _offset(low, zone):
            low = middle
        else:
            high = middle
    return high


class _Midnights:
    """The store's midnights over a stretch of time, and whether the clocks change that day."""

    def __init__(self, start: int, until: int, zone: tzinfo) -> None:
        day = datetime.fromtimestamp(start, zone).replace(hour=0, minute=0, second=0, tzinfo=None)
        self.moments: list[tuple[int, bool]] = []
        while (midnight := _at(day, zone)) < until:
            next_day = day + timedelta(days=1)
            changing = _offset(midnight, zone) != _offset(_at(next_day, zone), zone)
            self.moments.append((midnight, changing))
            day = next_day
        self.moments.reverse()  # popped from the end, earliest first

    def pick(self, rng: random.Random, begin: int, end: int) -> int | None:
        """A moment just after a midnight in [begin, end), or None."""
        while self.moments and self.moments[-1][0] < begin:
            self.moments.pop()
        if not self.moments or self.moments[-1][0] >= end:
            return None
        midnight, changing = self.moments[-1]
        if changing or rng.random() < 0.1:
            return midnight + rng.randrange(min(end - midnight, 45 * 60))
        return None


def _at(local: datetime, zone: tzinfo) -> int:
    return int(local.replace(tzinfo=zone).timestamp())


def _offset(moment: int, zone: tzinfo) -> timedelta | None:
    return datetime.fromtimestamp(moment, zone).utcoffset()
