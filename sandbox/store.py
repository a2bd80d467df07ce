"""The store's state in memory: catalog, people, orders and webhooks, and the ways they change.

Its orders are generated from the seed, or read from a file (``sandbox.replay``).
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from . import refunds, render, replay
from .catalog import Catalog, captured_products, generated_products, priced
from .currency import Money
from .generate import (
    DAY,
    FIRST_ORDER_ID,
    YEAR,
    Options,
    OrderMaker,
    edited_in_repeated_hour,
    make_people,
    seed_orders,
)
from .model import (
    ITEM_BLOCK,
    MAX_LINES,
    SHIPPING_METHODS,
    STATUSES,
    STOCK_REDUCED_STATUSES,
    Contact,
    Fee,
    Line,
    Note,
    Order,
    Refund,
    Trash,
    Webhook,
    WooError,
)
from .money import compute, to_millionths, to_units
from .replay import Replayed

# Where WooCommerce keeps orders: its own tables (HPOS, the default) or the posts table.
STORAGES = ("hpos", "posts")
ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
# The payment methods whose gateway gives money back by itself (``api_refund``).
REFUNDING_GATEWAYS = ("stripe", "ppcp-gateway")
# WooCommerce disables a webhook after this many failed deliveries in a row.
MAX_DELIVERY_FAILURES = 5
# Notes kept by the store (added, or written when an order changed) are numbered from here;
# those worked out from an order as it stands take ids below it (``render.note_records``).
FIRST_KEPT_NOTE_ID = 10_000_001
# What ``wc_order_fully_refunded`` says when an order is set to refunded by hand.
FULLY_REFUNDED = "Order fully refunded."
REFUNDED_BY_HAND = (
    "Order status set to refunded. To return funds to the customer you will need to issue a "
    "refund through your payment gateway."
)


@dataclass(frozen=True)
class OrderQuery:
    """The filters and order of an ``/orders`` listing, paging aside."""

    statuses: frozenset[str] | None = None  # None: any status
    after: float | None = None  # Unix times, compared with the GMT dates
    before: float | None = None
    modified_after: float | None = None
    modified_before: float | None = None
    include: tuple[int, ...] = ()
    exclude: frozenset[int] = frozenset()
    customer: int | None = None
    product: int | None = None
    parent: tuple[int, ...] = ()
    parent_exclude: tuple[int, ...] = ()
    created_via: frozenset[str] | None = None
    search: str = ""
    orderby: str = "date"
    descending: bool = True
    # On posts storage WordPress reads the posts table, whose post_date and post_modified
    # are the store's local times: listings sort by them, and date filters compare them
    # unless dates_are_gmt asks for the GMT columns (the bounds are then local times too).
    # None: HPOS, where every time is UTC.
    local_zone: tzinfo | None = None
    local_filters: bool = False

    def predicates(self, catalog: Catalog) -> list[Callable[[Order], bool]]:
        checks: list[Callable[[Order], bool]] = []
        created, modified = _times(self.local_zone if self.local_filters else None)
        if self.statuses is not None:
            checks.append(lambda o: o.status in self.statuses)
        if self.after is not None:
            checks.append(lambda o: created(o) > self.after)
        if self.before is not None:
            checks.append(lambda o: created(o) < self.before)
        if self.modified_after is not None:
            checks.append(lambda o: modified(o) > self.modified_after)
        if self.modified_before is not None:
            checks.append(lambda o: modified(o) < self.modified_before)
        if self.include:
            included = frozenset(self.include)
            checks.append(lambda o: o.id in included)
        if self.exclude:
            checks.append(lambda o: o.id not in self.exclude)
        if self.customer is not None:
            checks.append(lambda o: o.customer_id == self.customer)
        if self.product is not None:
            checks.append(lambda o: self.product in _product_ids(o, catalog))
        if self.parent:  # orders have no parent order: only parent=0 matches
            checks.append(lambda o: 0 in self.parent)
        if self.parent_exclude:
            checks.append(lambda o: 0 not in self.parent_exclude)
        if self.created_via is not None:
            checks.append(lambda o: o.created_via in self.created_via)
        if self.search:
            needle = self.search.casefold()
            checks.append(lambda o: needle in _searchable(o))
        return checks

    def sort_key(self) -> Callable[[Order], object]:
        created, modified = _times(self.local_zone)
        if self.orderby == "modified":
            return lambda o: (modified(o), o.id)
        if self.orderby == "include" and self.include:
            position = {order_id: i for i, order_id in enumerate(self.include)}
            return lambda o: position[o.id]
        if self.orderby in ("date", "title"):  # an order's title is its creation date
            return lambda o: (created(o), o.id)
        return lambda o: o.id

    def tie_key(self) -> Callable[[Order], int] | None:
        """The one column MySQL sorts by, where orders sharing its value come back in any
        order; None where the order is complete (the posts table sorts post_date, then ID).
        """
        created, modified = _times(self.local_zone)
        if self.orderby == "modified":
            return modified
        if self.orderby == "date" and self.local_zone is None:
            return created
        return None


def _times(zone: tzinfo | None) -> tuple[Callable[[Order], int], Callable[[Order], int]]:
    """How an order's creation and modification times read: UTC, or the wall clock of
    ``zone``."""
    if zone is None:
        return (lambda o: o.created), (lambda o: o.modified)
    return (lambda o: wall_clock(o.created, zone)), (lambda o: wall_clock(o.modified, zone))


@lru_cache(maxsize=1 << 18)
def wall_clock(moment: int, zone: tzinfo) -> int:
    """The local time of ``moment`` in ``zone``, as seconds since the epoch would give it in
    UTC: what a DATETIME column of local times holds. In the hour repeated when the clocks
    go back, a moment of its first pass may read later than one of its second."""
    offset = datetime.fromtimestamp(moment, zone).utcoffset()
    return moment + int(offset.total_seconds()) if offset else moment


def _product_ids(order: Order | Replayed, catalog: Catalog) -> set[int]:
    if isinstance(order, Replayed):
        return order.product_ids()
    ids = {line.product_id for line in order.lines if line.product_id}
    return ids | {catalog.products[i].parent_id for i in ids}


def _searchable(order: Order | Replayed) -> str:
    if isinstance(order, Replayed):
        return order.searchable()
    c = order.contact
    return f"{order.id} {c.first_name} {c.last_name} {c.email} {c.company}".casefold()


class Store:
    """Everything the sandbox store holds, generated from ``seed`` and kept in memory.

    Orders are immutable records; a change swaps in a new one under the lock, so readers
    never see half an update. ``version`` counts changes and keys the listing cache.
    ``storage`` is where the store keeps its orders (``STORAGES``), which decides how
    listings read their times.
    With ``orders_file`` the orders are those of the file, which cannot be changed, and
    ``zone`` defaults to the one their dates show.
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        orders: int = 60,
        until: int | None = None,
        webhook_url: str | None = None,
        webhook_secret: str = "",
        clock: Callable[[], float] = time.time,
        options: Options | None = None,
        zone: tzinfo | None = None,
        orders_file: Path | None = None,
        storage: str = "hpos",
    ) -> None:
        if storage not in STORAGES:
            raise ValueError(f"unknown order storage {storage!r}")
        self.seed = seed
        self.storage = storage
        self.options = options or Options()
        self._opening_options = self.options  # what a reset goes back to
        self._replayed = replay.load(orders_file) if orders_file else None
        if zone is None:
            zone = replay.zone_of(self._replayed) if self._replayed else ZoneInfo("UTC")
        self.zone = zone
        self.order_count = len(self._replayed) if self._replayed is not None else orders
        self.clock = clock
        # By default the seed orders end at the start of the current UTC day, so a seed
        # gives the same store all day long.
        self.until = until if until is not None else int(clock()) // DAY * DAY
        opened = self.until - YEAR - 30 * DAY
        # Priced in the money the store opened with: changing the currency or decimals later
        # leaves prices as they were entered, as in WooCommerce.
        money = self.options.money
        products = captured_products(opened) + generated_products(
            random.Random(f"catalog:{seed}"), FIRST_ORDER_ID + orders, opened
        )
        self.catalog = Catalog(priced(products, money), money)
        self.people = make_people(seed, orders, self.until)
        self.customers = {c.id: c for c in self.people.customers}
        self._webhook_target = (webhook_url, webhook_secret)
        self._lock = threading.RLock()
        self._listings: OrderedDict[tuple, list[Order]] = OrderedDict()
        self.version = 0
        self.reset()

    def reset(self) -> None:
        """Back to the seed state, as if the process had just started."""
        with self._lock:
            self.options = self._opening_options
            self._next_id = max(self.catalog.products) + 1
            self._maker = OrderMaker(self.seed, self.catalog, self.people, self.options)
            if self._replayed is None:
                self._orders = seed_orders(
                    self._maker, self.order_count, self.until, self._new_id, self.zone
                )
                if self.storage == "posts":  # where local times tell orders apart, or not
                    self._orders = edited_in_repeated_hour(
                        self._orders, self.seed, self.until, self.zone
                    )
            else:
                self._orders = list(self._replayed)
                self._next_id = max([self._next_id, *(o.id + 1 for o in self._orders)])
            self._slots = {o.id: o.slot for o in self._orders}
            self.webhooks: dict[int, Webhook] = {}
            self._last_webhook_id = 0
            # An order's notes, once it has notes of its own; before, they are worked out.
            self._notes: dict[int, list[Note]] = {}
            self._next_note_id = FIRST_KEPT_NOTE_ID
            self.set_webhook_target(*self._webhook_target)
            self._changed()

    def _new_id(self) -> int:
        """Orders, refunds and products share one id sequence, as WordPress posts do."""
        with self._lock:
            self._next_id += 1
            return self._next_id - 1

    def _changed(self) -> None:
        self.version += 1
        self._listings.clear()

    # Reading

    @property
    def money(self) -> Money:
        """The store's currency and decimals now."""
        return self.options.money

    @property
    def decimals(self) -> int:
        """``wc_get_price_decimals``: what ``dp`` defaults to, and what new orders round to."""
        return self.options.money.decimals

    def amount_of(self, order_id: int, amount: object) -> int | None:
        """An amount given for the order ("12.50", "1980"), in the units of its precision."""
        if amount is None:
            return None
        order = self.order(order_id)
        return to_units(amount, order.decimals if isinstance(order, Order) else self.decimals)

    def order(self, order_id: int) -> Order | None:
        slot = self._slots.get(order_id)
        return None if slot is None else self._orders[slot]

    def orders(self, query: OrderQuery) -> list[Order]:
        """Every order the query selects, sorted; cached, since clients page through them."""
        key = (query, self.version)
        with self._lock:
            if key in self._listings:
                self._listings.move_to_end(key)
                return self._listings[key]
            checks = query.predicates(self.catalog)
            found = [o for o in self._live() if all(check(o) for check in checks)]
            found.sort(key=query.sort_key(), reverse=query.descending)
            self._listings[key] = found
            if len(self._listings) > 8:
                self._listings.popitem(last=False)
            return found

    def notes(self, order_id: int) -> list[Note] | None:
        """The order's notes in the order they were written; None for an unknown order.
        Notes trashed with an order on posts storage are not among them."""
        with self._lock:
            order = self.order(order_id)
            if order is None:
                return None
            trashed = order.trashed.notes if isinstance(order, Order) and order.trashed else ()
            return [note for note in self._kept_notes(order) if note.id not in trashed]

    def status_totals(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for order in self._live():
            counts[order.status] = counts.get(order.status, 0) + 1
        return counts

    def is_paying_customer(self, customer_id: int) -> bool:
        return any(o.customer_id == customer_id and o.paid for o in self._live())

    def _live(self) -> Iterator[Order | Replayed]:
        """The orders the store holds: those deleted for good leave a gap in their slot."""
        return (o for o in self._orders if o is not None)

    # Changing

    def set_money(self, **changes: object) -> Money:
        """Change the store's ``currency``, ``decimals`` or separators, as a shop manager
        does in WooCommerce's general settings. Orders made from then on are in the new
        money; those made before keep the amounts they were worked out with, and are shown
        with the new number of decimals (``dp`` defaults to it), as WooCommerce shows them.
        Product prices stay as they were entered."""
        known = {"currency", "decimals", "thousand_separator", "decimal_separator"}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"Cannot change {', '.join(sorted(unknown))}.")
        with self._lock:
            current = dataclasses.asdict(self.options.money)
            if "currency" in changes and "decimals" not in changes:
                money = Money.of(str(changes["currency"]), None, **_separators(current))
            else:
                fields = {**current, **changes}
                fields["currency"] = str(fields["currency"]).upper()
                fields["decimals"] = int(fields["decimals"])
                money = Money(**fields)
            self.options = dataclasses.replace(self.options, money=money)
            self._maker.options = self.options
            self._changed()
            return money

    def create_order(self, body: dict) -> Order:
        """``POST /orders``: an order as the REST API builds one from its JSON body."""
        now = int(self.clock())
        lines = tuple(self._line(item, 1, i) for i, item in enumerate(body.get("line_items", [])))
        customer_id = body.get("customer_id", 0)
        if customer_id and customer_id not in self.customers:
            raise WooError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
        contact = self._contact(body.get("billing") or {}, customer_id)
        order = Order(
            id=0,
            slot=0,
            status="pending",
            created=now,
            modified=now,
            paid=None,
            completed=None,
            customer_id=customer_id,
            contact=contact,
            lines=lines,
            shipping=self._shipping(body.get("shipping_lines", [])),
            fee=_fee(body.get("fee_lines", []), self.decimals),
            coupon=self._coupon(body.get("coupon_lines", [])),
            prices_include_tax=self.options.prices_include_tax,
            payment_method=body.get("payment_method", ""),
            created_via=body.get("created_via") or "rest-api",
            customer_note=body.get("customer_note", ""),
            order_key=self._maker.order_key(),
            gift_message="",
            refunds=(),
            stock_reduced=False,
            version="10.0.2",
            transaction_id=body.get("transaction_id", ""),
            tax_rate=self.options.tax_rates.get(contact.country),
            at_subtotal=self.options.round_at_subtotal,
            currency=self.money.currency,
            decimals=self.decimals,
        )
        if body.get("set_paid"):
            order = _paid(order, now)
        elif body.get("status", "pending") != "pending":
            order = _with_status(order, body["status"], now)
        with self._lock:
            order = self._add(order)
            if order.status == "refunded":
                order = self._put(self._refund_the_rest(order))
            return order

    def update_order(self, order_id: int, body: dict) -> Order:
        """``PUT /orders/<id>``: the fields a connector or a shop manager changes."""
        now = int(self.clock())
        with self._lock:
            before = order = self._existing(order_id, status=400)
            changes: dict = {}
            for field in ("customer_note", "payment_method", "transaction_id"):
                if field in body:
                    changes[field] = body[field]
            if "billing" in body:
                changes["contact"] = dataclasses.replace(
                    order.contact, **_known(body["billing"], Contact)
                )
            if "shipping" in body:
                ship_to = order.ship_to or dataclasses.replace(order.contact, phone="")
                changes["ship_to"] = dataclasses.replace(
                    ship_to, **_known(body["shipping"], Contact)
                )
            if "customer_id" in body:
                if body["customer_id"] and body["customer_id"] not in self.customers:
                    raise WooError(
                        "woocommerce_rest_invalid_customer_id", "Customer ID is invalid."
                    )
                changes["customer_id"] = body["customer_id"]
            if "line_items" in body:
                changes["lines"] = self._updated_lines(order, body["line_items"])
            if body.get("coupon_lines"):
                changes["coupon"] = self._coupon(body["coupon_lines"])
            order = dataclasses.replace(order, **changes)
            if body.get("set_paid"):
                order = _paid(order, now)
            if "status" in body and body["status"] != order.status:
                order = _with_status(order, body["status"], now)
            if self._stamps(before, order):
                order = dataclasses.replace(order, modified=now)
            return self._put(order)

    def _stamps(self, before: Order, after: Order) -> bool:
        """Whether a REST update moves ``date_modified``. HPOS stamps every save. The posts
        table's data store rewrites the post, and its post_modified, only for a new status
        or customer note (the post's excerpt): an edited quantity, address or other meta
        leaves it as it was (captured)."""
        if self.storage == "hpos":
            return True
        return (before.status, before.customer_note) != (after.status, after.customer_note)

    def add_note(self, order_id: int, text: str, customer_note: bool = False) -> Note:
        """``POST /orders/<id>/notes``. A note leaves the order's ``date_modified`` as it
        was and sends no webhook (captured: order 27 of the real store)."""
        with self._lock:
            order = self.order(order_id)
            if order is None:
                raise WooError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
            return self._write_note(order, text, int(self.clock()), customer_note)

    def trash_order(self, order_id: int, moment: int | None = None) -> Order:
        """``DELETE /orders/<id>`` without ``force``: the order goes to the trash, out of
        every listing but ``status=trash`` and still read by id, modified ``moment`` (a Unix
        time, default now). Returns the order as it was, which is what the REST API answers.
        """
        with self._lock:
            order = self._existing(order_id)
            if order.status == "trash":
                raise WooError(
                    "woocommerce_rest_already_trashed",
                    "The shop_order has already been deleted.",
                    410,
                )
            moment = int(self.clock()) if moment is None else moment
            trash = Trash(order.status, moment)
            if self.storage == "posts":  # WordPress trashes the post and its comments
                notes = tuple(note.id for note in self._kept_notes(order))
                trash = trash._replace(slug=_post_slug(order, self.zone), notes=notes)
            self._put(dataclasses.replace(order, status="trash", modified=moment, trashed=trash))
            return order

    def restore_order(self, order_id: int, moment: int | None = None) -> Order:
        """The admin's Restore (``WC_Order::untrash``): the order leaves the trash for the
        status it had, modified ``moment`` (default now), its notes back, and the trash's
        meta gone."""
        with self._lock:
            order = self._existing(order_id)
            if order.trashed is None or order.status != "trash":
                raise WooError("sandbox_not_trashed", f"Order {order_id} is not in the trash.")
            moment = int(self.clock()) if moment is None else moment
            restored = dataclasses.replace(
                order, status=order.trashed.status, modified=moment, trashed=None
            )
            return self._put(restored)

    def fires_update_hook(self, was: str, now: str) -> bool:
        """Whether a change fires ``woocommerce_update_order``, and so ``order.updated``.
        On HPOS a change of status into or out of the trash does not (captured: a PUT that
        takes an order out of the trash sends nothing); the posts table's data store always
        does."""
        return self.storage == "posts" or was == now or "trash" not in (was, now)

    def delete_order(self, order_id: int) -> Order:
        """``DELETE /orders/<id>?force=true``: the order, its refunds and notes are gone for
        good, from the trash or not. Returns the order as it was."""
        with self._lock:
            order = self._existing(order_id)
            del self._slots[order_id]
            self._orders[order.slot] = None
            self._notes.pop(order_id, None)
            self._changed()
            return order

    def refund_order(
        self,
        order_id: int,
        amount: int | None,
        reason: str,
        lines: object = None,
        *,
        restock: bool = False,
        refund_payment: bool = False,
        fill: bool = False,
        moment: int | None = None,
    ) -> tuple[Order, Refund]:
        """A refund, as ``wc_create_refund`` makes it: of ``lines`` (the REST API's
        ``line_items``, see :func:`sandbox.refunds.requested_lines`; ``fill`` works out
        what a line given only a quantity refunds) or of ``amount`` alone (in the order's
        units: cents, yen, fils; None: what the lines add up to). Restocking puts the
        lines' goods back (and notes it); the order's ``date_modified`` is ``moment``
        (default now), and an order refunded in full is refunded.
        """
        with self._lock:
            order = self._existing(order_id)
            requested = refunds.requested_lines(order, self.catalog, lines, fill=fill)
            if amount is None:
                amount = refunds.lines_amount(requested)
            if amount <= 0:
                raise WooError(
                    "woocommerce_rest_invalid_order_refund",
                    "Refund amount must be greater than zero.",
                )
            if amount > refunds.remaining(order, self.catalog):
                raise refunds.invalid_amount()
            if restock:
                requested = refunds.with_restock(order, self.catalog, requested)
            now = int(self.clock()) if moment is None else moment
            paid_back = refund_payment and order.payment_method in REFUNDING_GATEWAYS
            refund = Refund(self._new_id(), amount, reason, now, tuple(requested), paid_back)
            self._kept_notes(order)
            before = order
            order = dataclasses.replace(order, refunds=(*order.refunds, refund), modified=now)
            for moment, text in refunds.restock_notes(order, refund):
                self._write_note(before, text, moment)
            if sum(r.amount for r in order.refunds) >= compute(order, self.catalog).total_units:
                order = _with_status(order, "refunded", now)
            return self._put(order), refund

    def generate_orders(self, count: int) -> list[Order]:
        """New orders drawn like the seed ones, created now (a shop's ordinary traffic)."""
        now = int(self.clock())
        with self._lock:
            return [self._add(self._maker.make(0, 0, now, now, self._new_id)) for _ in range(count)]

    def create_custom(self, overrides: dict) -> Order:
        """One generated order, then shaped by ``overrides``.

        Besides what ``modify_order`` takes: ``status`` and ``customer_id`` (0 for a guest)
        decide how the order is drawn, ``lines`` ([{product_id, variation_id, quantity}])
        replace its lines and ``date_created`` (a Unix time) backdates it.
        """
        now = int(self.clock())
        overrides = dict(overrides)
        created = int(overrides.pop("date_created", now))
        customer_id = overrides.pop("customer_id", None)
        status = overrides.pop("status", None)
        lines = overrides.pop("lines", None)
        _check_status(status)
        if customer_id and customer_id not in self.customers:
            raise WooError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
        with self._lock:
            order = self._maker.make(
                0,
                0,
                created,
                max(created, now),
                self._new_id,
                status=status,
                registered=bool(customer_id) if customer_id is not None else None,
            )
            changes: dict = {}
            if customer_id:
                changes["customer_id"] = customer_id
                changes["contact"] = self.customers[customer_id].contact
            if lines is not None:
                changes["lines"] = tuple(self._line(item, 1, i) for i, item in enumerate(lines))
            order = self._add(dataclasses.replace(order, **changes))
            return self.modify_order(order.id, {"date_modified": order.modified, **overrides})

    def modify_order(self, order_id: int, changes: dict) -> Order:
        """Change an order the way a shop manager would, keeping its amounts consistent.

        ``changes`` may hold ``status``, ``quantities`` ({item id: quantity}, 0 removes
        the line), ``add_lines`` ([{product_id, variation_id, quantity}]), ``coupon``
        (a code or None), ``shipping`` (a method id or None), ``customer_note``,
        ``email``, ``address`` (billing and shipping fields), ``replace_products`` ({item
        id: product id}: the line keeps its id, as an edit in the admin), ``refund``
        ({amount, reason, lines, restock}: see :meth:`refund_order`; without ``amount``
        what the lines add up to) and ``date_modified`` (a Unix time; default now).
        """
        unknown = set(changes) - _MODIFIABLE
        if unknown:
            raise WooError("sandbox_invalid_change", f"Cannot change {', '.join(sorted(unknown))}.")
        _check_status(changes.get("status"))
        with self._lock:
            order = self._existing(order_id)
            modified = int(changes.get("date_modified", self.clock()))
            lines = list(order.lines)
            for item_id, quantity in changes.get("quantities", {}).items():
                lines = _set_quantity(lines, int(item_id), int(quantity))
            for item in changes.get("add_lines", []):
                lines.append(self._line(item, order.first_item_id, _free_position(order, lines)))
            update: dict = {"lines": tuple(lines), "modified": modified}
            if "coupon" in changes:
                update["coupon"] = self._coupon(
                    [{"code": changes["coupon"]}] if changes["coupon"] else []
                )
            if "shipping" in changes:
                update["shipping"] = changes["shipping"]
                if changes["shipping"] not in (None, *SHIPPING_METHODS):
                    raise WooError(
                        "sandbox_invalid_change", f"Unknown shipping {changes['shipping']!r}."
                    )
            if "customer_note" in changes:
                update["customer_note"] = changes["customer_note"]
            if "email" in changes:
                update["contact"] = dataclasses.replace(order.contact, email=changes["email"])
            if "address" in changes:
                contact = update.get("contact", order.contact)
                update["contact"] = dataclasses.replace(contact, **changes["address"])
                if order.ship_to:
                    update["ship_to"] = dataclasses.replace(order.ship_to, **changes["address"])
            for item_id, product_id in changes.get("replace_products", {}).items():
                update["lines"] = _replace_product(update["lines"], int(item_id), int(product_id))
            order = dataclasses.replace(order, **update)
            if "refund" in changes:
                self._put(order)  # the refund is of the order as now changed
                refund = changes["refund"]
                amount = refund.get("amount")
                order, _ = self.refund_order(
                    order_id,
                    None if amount is None else to_units(amount, order.decimals),
                    refund.get("reason", ""),
                    refund.get("lines"),
                    restock=bool(refund.get("restock", False)),
                    fill=True,
                    moment=modified,
                )
            if changes.get("status", order.status) != order.status:
                order = _with_status(order, changes["status"], modified)
            return self._put(order)

    def set_webhook_target(self, url: str | None, secret: str = "") -> list[Webhook]:
        """Deliver ``order.created`` and ``order.updated`` to ``url`` (None stops it)."""
        with self._lock:
            for hook in [h for h in self.webhooks.values() if h.any_url]:
                del self.webhooks[hook.id]
            if url:
                for topic in ORDER_TOPICS:
                    self.add_webhook(f"Sandbox {topic}", topic, url, secret, any_url=True)
            return list(self.webhooks.values())

    def add_webhook(
        self,
        name: str,
        topic: str,
        url: str,
        secret: str,
        status: str = "active",
        *,
        any_url: bool = False,
    ) -> Webhook:
        with self._lock:
            # An id is never given twice, as MySQL's auto-increment.
            self._last_webhook_id += 1
            hook = Webhook(
                self._last_webhook_id,
                name,
                topic,
                url,
                secret,
                int(self.clock()),
                status=status,
                any_url=any_url,
            )
            self.webhooks[hook.id] = hook
            return hook

    def update_webhook(self, hook_id: int, **changes: object) -> Webhook:
        """Change ``name``, ``topic``, ``delivery_url``, ``secret`` or ``status``."""
        with self._lock:
            hook = self.webhook(hook_id)
            if changes.get("status", hook.status) != hook.status:
                changes["failures"] = 0  # a fresh start for a webhook switched on again
            hook = dataclasses.replace(hook, **changes, modified=int(self.clock()))
            self.webhooks[hook.id] = hook
            return hook

    def delete_webhook(self, hook_id: int) -> Webhook:
        with self._lock:
            return self.webhooks.pop(self.webhook(hook_id).id)

    def record_delivery(self, hook_id: int, delivered: bool) -> None:
        """Count a delivery: after MAX_DELIVERY_FAILURES failures in a row, as WooCommerce,
        the webhook is disabled; one that arrives resets the count."""
        with self._lock:
            hook = self.webhooks.get(hook_id)
            if hook is None:
                return
            failures = 0 if delivered else hook.failures + 1
            status = "disabled" if failures >= MAX_DELIVERY_FAILURES else hook.status
            self.webhooks[hook_id] = dataclasses.replace(hook, failures=failures, status=status)

    def webhooks_for(self, topic: str) -> list[Webhook]:
        return [h for h in self.webhooks.values() if h.topic == topic and h.status == "active"]

    def webhook(self, hook_id: int) -> Webhook:
        hook = self.webhooks.get(hook_id)
        if hook is None:
            raise WooError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        return hook

    # Helpers

    def _existing(self, order_id: int, status: int = 404) -> Order:
        """An order to change: one read from a file is served as it is, never changed."""
        order = self.order(order_id)
        if order is None:
            raise WooError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", status)
        if isinstance(order, Replayed):
            raise WooError("sandbox_replayed_order", "Orders read from a file cannot change.")
        return order

    def _add(self, order: Order) -> Order:
        with self._lock:
            slot = len(self._orders)
            order_id = order.id or self._new_id()
            shift = slot * ITEM_BLOCK + 1 - order.first_item_id
            lines = tuple(line._replace(item_id=line.item_id + shift) for line in order.lines)
            # A refund drawn with the order names its items by their ids in the new slot.
            refunds_made = tuple(
                refund._replace(
                    lines=tuple(
                        x._replace(refunded_item_id=x.refunded_item_id + shift)
                        for x in refund.lines
                    )
                )
                for refund in order.refunds
            )
            order = dataclasses.replace(
                order, id=order_id, slot=slot, lines=lines, refunds=refunds_made
            )
            self._orders.append(order)
            self._slots[order.id] = slot
            self._changed()
            return order

    def _put(self, order: Order) -> Order:
        """Keep the changed order. A new status writes WooCommerce's note of it (going to the
        trash writes none), one set to refunded by hand is refunded what is left, and one
        out of the trash takes its post's slug back."""
        before = self._orders[order.slot]
        if before.status == "trash" and order.status != "trash" and order.trashed:
            order = dataclasses.replace(order, trashed=order.trashed._replace(slug=""))
        if order.status != before.status and order.status != "trash":
            self._kept_notes(before)
            if order.status == "refunded":
                order = self._refund_the_rest(order)
            change = f"from {_status_name(before.status)} to {_status_name(order.status)}"
            self._write_note(order, f"Order status changed {change}.", order.modified)
        self._orders[order.slot] = order
        self._changed()
        return order

    def _refund_the_rest(self, order: Order) -> Order:
        """``wc_order_fully_refunded``: what is left to refund is refunded, by amount."""
        left = refunds.remaining(order, self.catalog)
        if left <= 0:
            return order
        refund = Refund(self._new_id(), left, FULLY_REFUNDED, order.modified)
        self._write_note(order, REFUNDED_BY_HAND, order.modified)
        return dataclasses.replace(order, refunds=(*order.refunds, refund))

    def _kept_notes(self, order: Order | Replayed) -> list[Note]:
        """The notes the store keeps for the order, worked out from it the first time."""
        if order.id not in self._notes:
            replayed = isinstance(order, Replayed)  # an export holds no notes
            self._notes[order.id] = [] if replayed else render.note_records(order, self.catalog)
        return self._notes[order.id]

    def _write_note(
        self, order: Order | Replayed, text: str, moment: int, customer_note: bool = False
    ) -> Note:
        note = Note(self._next_note_id, moment, text, customer_note)
        self._next_note_id += 1
        self._kept_notes(order).append(note)
        return note

    def _line(self, item: dict, first_item_id: int, position: int) -> Line:
        if item.get("sku"):
            product = self.catalog.by_sku(str(item["sku"]))
        elif item.get("variation_id") or item.get("product_id"):
            product = self.catalog.get(int(item.get("variation_id") or item["product_id"]))
        else:
            raise WooError(
                "woocommerce_rest_required_product_reference", "Product ID or SKU is required."
            )
        # WooCommerce would keep a line for a product that does not exist; refusing it
        # here keeps the sandbox's lines consistent with its catalog.
        if product is None or product.type == "variable":
            raise WooError("woocommerce_rest_invalid_product_id", "Invalid product ID.")
        if position >= MAX_LINES:
            raise WooError("sandbox_too_many_lines", f"An order holds at most {MAX_LINES} lines.")
        return Line(first_item_id + position, product.id, max(1, int(item.get("quantity", 1))))

    def _updated_lines(self, order: Order, items: list[dict]) -> tuple[Line, ...]:
        """The REST API's ``line_items``: new lines, lines removed (``quantity`` 0), and
        lines changed as WooCommerce changes them: a new ``quantity`` keeps the line's
        ``subtotal`` and ``total`` unless they are sent too."""
        lines = list(order.lines)
        for item in items:
            if not item.get("id"):
                lines.append(self._line(item, order.first_item_id, _free_position(order, lines)))
            elif item.get("quantity") == 0:
                lines = _set_quantity(lines, int(item["id"]), 0)
            else:
                lines = self._edited_line(order, lines, int(item["id"]), item)
        return tuple(lines)

    def _edited_line(self, order: Order, lines: list[Line], item_id: int, item: dict):
        position = _position(lines, item_id)
        line = lines[position]
        quantity = int(item.get("quantity", line.quantity))
        billed = line.billed_quantity
        amounts = line.amounts
        if "subtotal" in item or "total" in item:
            now = compute(dataclasses.replace(order, lines=tuple(lines)), self.catalog)
            subtotal, total = now.lines[position].subtotal.amount, now.lines[position].total.amount
            amounts = (
                to_millionths(item["subtotal"]) if "subtotal" in item else subtotal,
                to_millionths(item["total"]) if "total" in item else total,
            )
        edited = line._replace(
            quantity=quantity, billed=0 if billed == quantity else billed, amounts=amounts
        )
        return [edited if i == position else other for i, other in enumerate(lines)]

    def _contact(self, billing: dict, customer_id: int) -> Contact:
        base = self.customers[customer_id].contact if customer_id else _EMPTY_CONTACT
        return dataclasses.replace(base, **_known(billing, Contact))

    def _coupon(self, coupon_lines: list[dict]):
        if not coupon_lines:
            return None
        code = str(coupon_lines[0].get("code", "")).strip().lower()
        if code not in self.catalog.coupons:
            raise WooError("woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!')
        return self.catalog.coupons[code]

    @staticmethod
    def _shipping(shipping_lines: list[dict]) -> str | None:
        for line in shipping_lines:
            if line.get("method_id") in SHIPPING_METHODS:
                return line["method_id"]
        return None


_MODIFIABLE = {
    "status",
    "quantities",
    "add_lines",
    "coupon",
    "shipping",
    "customer_note",
    "email",
    "address",
    "replace_products",
    "refund",
    "date_modified",
}
_EMPTY_CONTACT = Contact("", "", "", "", "", "", "", "", "", "", "")


def _known(values: dict, record: type) -> dict:
    return {k: str(v) for k, v in values.items() if k in record.__slots__}


def _position(lines: list[Line], item_id: int) -> int:
    for position, line in enumerate(lines):
        if line.item_id == item_id:
            return position
    raise WooError(
        "woocommerce_rest_invalid_item_id",
        "Order item ID provided is not associated with order.",
    )


def _set_quantity(lines: list[Line], item_id: int, quantity: int) -> list[Line]:
    """A line's quantity as the admin's order screen sets it: its amounts follow."""
    position = _position(lines, item_id)
    if quantity <= 0:
        return lines[:position] + lines[position + 1 :]
    edited = lines[position]._replace(quantity=quantity, billed=0, amounts=None)
    return [*lines[:position], edited, *lines[position + 1 :]]


def _replace_product(lines, item_id: int, product_id: int) -> tuple[Line, ...]:
    position = _position(list(lines), item_id)
    edited = lines[position]._replace(product_id=product_id, billed=0, amounts=None)
    return (*lines[:position], edited, *lines[position + 1 :])


def _free_position(order: Order, lines: list[Line]) -> int:
    taken = {line.item_id - order.first_item_id for line in lines}
    return next((p for p in range(MAX_LINES) if p not in taken), MAX_LINES)


def _post_slug(order: Order, zone: tzinfo) -> str:
    """An order's post_name on posts storage, made from its title, the local time it was
    made: "order-october-10-2026-0350-pm"."""
    made = datetime.fromtimestamp(order.created, zone)
    return f"order-{made:%B-%d-%Y-%I%M-%p}".lower()


def _check_status(status: str | None) -> None:
    """The control API sets only WooCommerce's statuses: the trash has its own way in."""
    if status is not None and status not in STATUSES:
        raise WooError("sandbox_invalid_status", f"Unknown status {status!r}.")


def _status_name(status: str) -> str:
    """``wc_get_order_status_name``: the trash has no name but its slug."""
    return STATUSES.get(status, status)


def _with_status(order: Order, status: str, now: int) -> Order:
    """A status change with what WooCommerce does alongside it (captured on orders 23 and 41).

    Completing sets the paid and completed dates; stock is taken on processing, on-hold and
    completed, and given back on cancellation. Moving to processing through the API does
    not set a paid date: only ``set_paid`` (a payment) does.
    """
    changes: dict = {"status": status, "stock_reduced": status in STOCK_REDUCED_STATUSES}
    if status == "completed":
        changes["completed"] = now
        changes["paid"] = order.paid or now
    return dataclasses.replace(order, **changes)


def _paid(order: Order, now: int) -> Order:
    """``set_paid``: WooCommerce's ``payment_complete()``."""
    order = _with_status(order, "processing", now)
    return dataclasses.replace(order, paid=order.paid or now)


def _fee(fee_lines: list[dict], decimals: int) -> Fee | None:
    if not fee_lines:
        return None
    line = fee_lines[0]
    return Fee(str(line.get("name", "")), to_units(line.get("total"), decimals), "")


def _separators(money: dict) -> dict:
    return {k: v for k, v in money.items() if k.endswith("_separator")}
