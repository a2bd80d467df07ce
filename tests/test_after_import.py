"""After import, one truth: an imported order's life goes on in both systems (issue 20).

Each kind of change the store makes to an imported order is seen on every path, warned
once, reviewed once by a named person, and not raised again by the same store state or by
our own write-back's echo; a new change after a review lists only itself. Posting waits for
the review and never overwrites a store order that changed since; Update from the store
rebuilds a sales order to the cent, or cancels it with its store order; a refund after
import shows on the order; carrier and tracking typed into the post dialog go with it; a
store order closed in the store is never updated.

Everything runs against the sandbox store over HTTP.
"""

import html
import json
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from redis import Redis

from app import create_app
from config import TestConfig
from portal import db
from portal.models import (
    EventKind,
    Item,
    LineType,
    OrderEvent,
    Outcome,
    SalesCreditMemo,
    SalesOrder,
    SalesOrderStatus,
    StoreWriteback,
    SyncRun,
    Trigger,
    WritebackState,
)
from portal.models.base import utcnow
from portal.orders.actions import ACTIONS, perform
from portal.setup.demo import seed_demo_webstore
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters
from portal.sync.states import SHIP_TO, ship_to
from tests.conftest import Portal, empty_database, make_user
from tests.sync_helpers import (
    entries,
    imported_order,
    run_import,
    sales_order_for,
    work_queued_jobs,
)
from tests.test_changes import order as order
from tests.test_changes import the_change
from tests.test_changes import webstore as webstore
from tests.test_credit_memos import import_refunds
from tests.test_webhooks import SECRET, deliver, sign
from tests.test_writeback import only_writeback, store_order
from tests.test_writeback import writing_webstore as writing_webstore

PATHS = ("automatic", "manual", "webhook", "order_id")
KINDS = ("cancel", "on-hold", "refund", "quantity", "product", "address", "note")
MUG, NOTEBOOK, GIFT_CARD = 11, 12, 13
# The change made after the review, the same for every kind.
NEW_NOTE = "Ring twice, please"


def change_of(kind: str, order: dict) -> dict:
    """The store's change of this kind to an order of two lines (a mug, two notebooks)."""
    mug = order["line_items"][0]["id"]
    return {
        "cancel": {"status": "cancelled"},
        "on-hold": {"status": "on-hold"},
        "refund": {"refund": {"amount": "2.00", "reason": "Chipped"}},
        "quantity": {"quantities": {mug: 3}},
        "product": {"replace_products": {mug: GIFT_CARD}},
        "address": {"address": {"address_1": "1 Rue de la Paix"}},
        "note": {"customer_note": "Leave at the door"},
    }[kind]


def said_of(kind: str, before: dict, after: dict) -> str:
    """What the warning must say of the change, worked out from the store's own orders."""
    was, now = before["line_items"][0], after["line_items"][0]
    total = f"total {before['total']} → {after['total']}"
    if kind in ("cancel", "on-hold"):
        return f"status processing → {after['status']}"
    if kind == "refund":
        return "refunded 0.00 → 2.00"
    if kind == "quantity":
        return f"quantity of '{was['name']}' 1 → 3; {total}"
    if kind == "product":
        return (
            f"line '{was['name']}' now holds '{now['name']}'; "
            f"price of '{now['name']}' {cents(was['price'])} → {cents(now['price'])}; {total}"
        )
    if kind == "address":
        ship = after["shipping"]
        name = f"{ship['first_name']} {ship['last_name']}"
        return (
            f"shipping address → {name}, 1 Rue de la Paix, {ship['postcode']}, "
            f"{ship['city']}, {ship['country']}"
        )
    return "customer note → 'Leave at the door'"


def cents(price) -> Decimal:
    """A unit price as the store's JSON gives it (a number, 12.5), in cents (12.50)."""
    return Decimal(str(price)).quantize(Decimal("0.01"))


WARNING = re.compile(
    r"Changed in the store after (?P<since>import|review) \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): "
    r"(?P<changes>.*)\. (?P<advice>Check it before shipping|Do not ship it|SO\d+ is)"
)


def listed_changes(warning: str | None) -> tuple[str, str] | None:
    """What a change warning lists, and since when: ("import", "status a → b")."""
    if warning is None:
        return None
    match = WARNING.match(warning)
    assert match, warning
    return match["since"], match["changes"]


# Meeting a store order again, by each path


class Paths:
    """The runs of every path, over one webstore and the sandbox store."""

    def __init__(self, webstore, store, client):
        self.webstore, self.store, self.client = webstore, store, client
        self.stamps: dict[int, int] = {}
        self.deliveries = 0

    def stamp(self, order_id: int) -> int:
        """A modified time for the order's next save: now, and always later than its last
        (a store's clock moves on; two saves in one second would send the same body)."""
        self.stamps[order_id] = max(int(time.time()), self.stamps.get(order_id, 0) + 1)
        return self.stamps[order_id]

    def modify(self, order_id: int, **change) -> dict:
        return self.store.modify_order(order_id, date_modified=self.stamp(order_id), **change)

    def import_orders(self, path: str, ids: list[int]) -> None:
        if path in ("automatic", "manual"):
            run_import(self.webstore)
        else:
            for order_id in ids:
                run_import(self.webstore, order_id=order_id)
        if path == "automatic":
            self.automatic_sync()  # the watermark is past the import
        for order_id in ids:
            assert sales_order_for(self.webstore, order_id) is not None

    def automatic_sync(self) -> SyncRun:
        return execute_run(
            create_run(self.webstore, incremental_filters(self.webstore), Trigger.AUTOMATIC).id
        )

    def meet(self, path: str, ids: list[int], echo: bool = False) -> dict[int, list]:
        """Meet these orders by ``path``: each one's log entries (outcome, message). A
        webhook delivers each order as a save sends it (``echo``: as the store sent it
        on its last change, our own among them)."""
        if path == "automatic":
            runs = [self.automatic_sync()]
        elif path == "manual":
            runs = [run_import(self.webstore)]
        elif path == "order_id":
            runs = [run_import(self.webstore, order_id=order_id) for order_id in ids]
        else:
            # The deliveries come in (joining the run the first one queued), then a worker
            # runs what they queued.
            run_ids = dict.fromkeys(self.webhook(order_id, echo) for order_id in ids)
            work_queued_jobs()
            runs = [db.session.get(SyncRun, run_id) for run_id in run_ids]
        db.session.expire_all()
        met = {order_id: [] for order_id in ids}
        for run in runs:
            for entry in entries(run):
                if entry.woo_order_id in met:
                    met[entry.woo_order_id].append((entry.outcome, entry.message))
        return met

    def webhook(self, order_id: int, echo: bool = False) -> int:
        """``order.updated``, signed, with the order as the store has it: the run it
        queued."""
        if echo:
            modified = self.store_order(order_id).date_modified
            order = self.store.modify_order(order_id, date_modified=int(modified.timestamp()))
        else:
            order = self.modify(order_id)  # saved again, unchanged
        self.deliveries += 1
        body = json.dumps(order).encode()
        headers = {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": sign(body),
            "X-WC-Webhook-Delivery-ID": f"{self.deliveries:032x}",
        }
        answer = deliver(self.client, body, headers, code=self.webstore.code)
        assert answer.status_code == 202, answer.json
        return answer.json["run_id"]

    def store_order(self, order_id: int):
        return store_order(self.webstore, order_id)[0]


# Each kind of change on each path: one store, one order per kind, played once per path


@dataclass
class Seen:
    """What the connector did with one order of one kind of change, step by step."""

    said: str  # what the change is, worked out from the store's orders
    number: str
    first: list  # the run that met the change: its log entries of the order
    first_warning: str | None
    again: list  # a run over the same store state
    again_warning: str | None
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    review_line: str  # the page's line about the last review
    review_events: list  # the order's events of kind "reviewed": (message, user id)
    after_review: list
    after_review_warning: str | None
    new_change: list  # after a new change in the store
    new_warning: str | None


def play(path: str, webstore, store, portal: Portal) -> tuple[dict[str, Seen], tuple]:
    paths = Paths(webstore, store, portal.client)
    created = {
        kind: store.create_order(
            status="processing",
            lines=[{"product_id": MUG, "quantity": 1}, {"product_id": NOTEBOOK, "quantity": 2}],
        )
        for kind in KINDS
    }
    ids = [made["id"] for made in created.values()]
    paths.import_orders(path, ids)
    changed = {
        kind: paths.modify(made["id"], **change_of(kind, made)) for kind, made in created.items()
    }

    first = paths.meet(path, ids)
    first_warnings = warnings(webstore, ids)
    again = paths.meet(path, ids)
    again_warnings = warnings(webstore, ids)
    before_review = utcnow()
    review_lines = {}
    for order_id in ids:
        sales_order = sales_order_for(webstore, order_id)
        answer = portal.post(f"/orders/{sales_order.id}/review")
        assert answer.status_code == 303
        page = portal.get(f"/orders/{sales_order.id}").text
        found = re.search(r'<p class="muted" id="last-review"><small>(.*?)</small></p>', page)
        review_lines[order_id] = found[1] if found else ""
    after_review_time = utcnow()
    db.session.expire_all()
    reviewed = {
        order_id: (so.reviewed_by_id, so.reviewed_at, so.number, events(so, EventKind.REVIEWED))
        for order_id in ids
        if (so := sales_order_for(webstore, order_id))
    }
    after_review = paths.meet(path, ids)
    after_review_warnings = warnings(webstore, ids)
    for order_id in ids:
        paths.modify(order_id, customer_note=NEW_NOTE)
    new_change = paths.meet(path, ids)
    new_warnings = warnings(webstore, ids)

    seen = {}
    for kind, made in created.items():
        i = made["id"]
        seen[kind] = Seen(
            said=said_of(kind, made, changed[kind]),
            number=reviewed[i][2],
            first=first[i],
            first_warning=first_warnings[i],
            again=again[i],
            again_warning=again_warnings[i],
            reviewed_by_id=reviewed[i][0],
            reviewed_at=reviewed[i][1],
            review_line=review_lines[i],
            review_events=reviewed[i][3],
            after_review=after_review[i],
            after_review_warning=after_review_warnings[i],
            new_change=new_change[i],
            new_warning=new_warnings[i],
        )
    return seen, (before_review, after_review_time)


def warnings(webstore, ids) -> dict[int, str | None]:
    db.session.expire_all()
    return {i: sales_order_for(webstore, i).change_warning for i in ids}


@dataclass
class Matrix:
    path: str
    seen: dict[str, Seen]
    staff_id: int
    staff_name: str
    review_window: tuple[datetime, datetime]


@pytest.fixture(scope="module", params=PATHS)
def matrix(request, database_url, sandbox_store) -> Matrix:
    """Every kind of change played through one path, once for all the tests that read it:
    its own app over the session's database and sandbox store, emptied first."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        empty_database()
        Redis.from_url(app.config["REDIS_URL"]).flushdb()
        sandbox_store.reset()
        try:
            webstore = seed_demo_webstore(
                sandbox_store.base_url, sandbox_store.consumer_key, sandbox_store.consumer_secret
            )
            webstore.default_status_filter = ""
            webstore.webhook_secret = SECRET
            webstore.auto_sync = True
            db.session.commit()
            staff = make_user("staff")
            portal = Portal(app.test_client())
            portal.sign_in(staff.username)
            seen, window = play(request.param, webstore, sandbox_store, portal)
            return Matrix(request.param, seen, staff.id, staff.username, window)
        finally:
            Redis.from_url(app.config["REDIS_URL"]).flushdb()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=KINDS)
def seen(request, matrix) -> Seen:
    """One kind of change, as the path of ``matrix`` met it."""
    return matrix.seen[request.param]


def test_each_change_is_seen_and_logged_as_changed(seen):
    assert seen.first == [
        (Outcome.CHANGED, f"Changed since imported as {seen.number}: {seen.said}")
    ]


def test_the_warning_lists_the_change_since_import(seen):
    assert listed_changes(seen.first_warning) == ("import", seen.said)


def test_the_same_store_state_read_again_is_skipped_not_changed_again(seen):
    assert seen.again == [(Outcome.SKIPPED, f"already imported as {seen.number}")]


def test_the_same_store_state_read_again_leaves_the_warning_as_it_was(seen):
    assert seen.again_warning == seen.first_warning


def test_mark_reviewed_records_who_and_when(seen, matrix):
    assert seen.reviewed_by_id == matrix.staff_id
    assert matrix.review_window[0] <= seen.reviewed_at <= matrix.review_window[1]
    assert seen.review_line == (
        f"Store change reviewed {seen.reviewed_at:%Y-%m-%d %H:%M} UTC by {matrix.staff_name}."
    )


def test_a_review_is_an_order_event_with_what_was_reviewed_and_who(seen, matrix):
    assert seen.review_events == [(seen.first_warning, matrix.staff_id)]


def test_a_review_sticks_the_same_store_state_raises_nothing(seen):
    assert seen.after_review_warning is None
    assert seen.after_review == [(Outcome.SKIPPED, f"already imported as {seen.number}")]


def test_a_new_change_after_review_is_logged_as_changed(seen):
    assert seen.new_change == [
        (Outcome.CHANGED, f"Changed since imported as {seen.number}: customer note → '{NEW_NOTE}'")
    ]


def test_a_new_change_after_review_warns_of_that_difference_only(seen):
    assert listed_changes(seen.new_warning) == ("review", f"customer note → '{NEW_NOTE}'")


# One order at a time


@pytest.fixture
def shop(webstore, writing_webstore):
    """DEMO on the sandbox store: signed webhooks, automatic sync, and posting completes
    the store's order (write-back on)."""
    return writing_webstore


@pytest.fixture
def paths(shop, store, client) -> Paths:
    return Paths(shop, store, client)


def seen_change(shop, store, client, order, **change) -> SalesOrder:
    """The order imported by its ID, changed in the store, the change met by a webhook."""
    the_change("webhook", shop, store, client, order, **change)
    return sales_order_for(shop, order["id"])


def act(portal, sales_order, name, **form):
    """A person's POST on the order, and the page it leads to."""
    return portal.post(f"/orders/{sales_order.id}/{name}", form, follow_redirects=True)


def flashes(page) -> list[str]:
    found = re.findall(r'<p class="flash flash-\w+" role="\w+">(.*?)</p>', page.text, re.S)
    return [html.unescape(message) for message in found]


def reloaded(sales_order) -> SalesOrder:
    db.session.expire_all()
    return db.session.get(SalesOrder, sales_order.id)


def writebacks() -> list[StoreWriteback]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(StoreWriteback)))


def events(sales_order, kind: EventKind) -> list[tuple[str, int | None]]:
    return [
        (e.message, e.user_id)
        for e in db.session.scalars(
            sa.select(OrderEvent)
            .where(OrderEvent.sales_order_id == sales_order.id, OrderEvent.kind == kind)
            .order_by(OrderEvent.id)
        )
    ]


def our_notes(shop, sales_order) -> list[str]:
    _, notes = store_order(shop, sales_order.woo_order_id)
    return [note["note"] for note in notes if sales_order.number in note["note"]]


def item_lines(sales_order) -> list[tuple]:
    """The sales order's item lines as (store line, SKU, quantity, price, discount, amount)."""
    return [
        (
            line.woo_line_id,
            line.sku,
            line.quantity,
            line.unit_price,
            line.line_discount,
            line.amount,
        )
        for line in reloaded(sales_order).lines
        if line.line_type == LineType.ITEM
    ]


def store_lines(woo) -> list[tuple]:
    """The store order's lines as the import books them: the price before discounts, to
    the cent, and the line's total after them."""
    return [
        (
            line.id,
            line.sku,
            Decimal(line.quantity),
            (line.subtotal / line.quantity).quantize(Decimal("0.01"), ROUND_HALF_UP),
            line.subtotal - line.total,
            line.total,
        )
        for line in woo.line_items
    ]


# Our own echo


def post_and_send(sales_order) -> None:
    perform(sales_order, ACTIONS["post"])
    work_queued_jobs()


@pytest.mark.parametrize("path", ["automatic", "webhook"])
def test_the_echo_of_our_post_raises_no_change_warning(path, paths, shop, order):
    paths.import_orders(path, [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    post_and_send(sales_order)
    assert paths.store_order(order["id"]).status == "completed"

    met = paths.meet(path, [order["id"]], echo=True)

    assert met[order["id"]] == [(Outcome.SKIPPED, f"posted: {sales_order.number} is posted")]
    assert reloaded(sales_order).change_warning is None


@pytest.mark.parametrize("path", ["automatic", "webhook"])
def test_the_echo_of_our_post_after_a_reviewed_change_raises_no_change_warning(
    path, paths, shop, order, signed_in_staff
):
    mug = order["line_items"][0]
    paths.import_orders(path, [order["id"]])
    paths.modify(order["id"], quantities={mug["id"]: 3})
    paths.meet(path, [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    signed_in_staff.post(f"/orders/{sales_order.id}/review")
    post_and_send(reloaded(sales_order))
    assert paths.store_order(order["id"]).status == "completed"

    met = paths.meet(path, [order["id"]], echo=True)

    assert met[order["id"]] == [(Outcome.SKIPPED, f"posted: {sales_order.number} is posted")]
    assert reloaded(sales_order).change_warning is None


# Posting a changed order


def test_posting_a_changed_order_before_its_review_is_refused_saying_review_first(
    shop, store, client, order, signed_in_staff
):
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})

    page = act(signed_in_staff, sales_order, "post")

    assert flashes(page) == [
        f"{sales_order.number} changed in the store and nobody has reviewed the change: "
        "review it first (Mark reviewed, or Update from the store), then post."
    ]
    assert reloaded(sales_order).status == SalesOrderStatus.OPEN
    assert writebacks() == []


def test_the_post_confirmation_of_a_changed_order_shows_the_change_and_no_post_button(
    shop, store, client, order, signed_in_staff
):
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})

    page = html.unescape(signed_in_staff.get(f"/orders/{sales_order.id}/post").text)

    assert f"<small>{sales_order.change_warning}</small>" in page
    assert f'action="/orders/{sales_order.id}/post"' not in page
    assert f"Post {sales_order.number}</button>" not in page


def test_a_reviewed_change_lets_the_order_post_and_complete_in_the_store(
    shop, store, client, order, signed_in_staff
):
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})
    signed_in_staff.post(f"/orders/{sales_order.id}/review")

    act(signed_in_staff, sales_order, "post")
    work_queued_jobs()

    assert reloaded(sales_order).status == SalesOrderStatus.POSTED
    assert only_writeback().state == WritebackState.SENT
    assert store_order(shop, order["id"])[0].status == "completed"


def edited_after_review(shop, store, client, order, portal) -> tuple[SalesOrder, dict, dict]:
    """The mug's quantity 1 → 3 seen and reviewed; then 3 → 4 in the store, unseen, and
    the order posted: the store's order as reviewed, and as edited."""
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})
    reviewed = store.modify_order(order["id"])
    portal.post(f"/orders/{sales_order.id}/review")
    edited = store.modify_order(order["id"], quantities={mug["id"]: 4})
    act(portal, sales_order, "post")
    work_queued_jobs()
    return sales_order, reviewed, edited


def test_a_store_order_edited_after_the_review_refuses_the_write_back_saying_what_differs(
    shop, store, client, order, signed_in_staff
):
    sales_order, reviewed, edited = edited_after_review(shop, store, client, order, signed_in_staff)

    refused = only_writeback()
    mug = order["line_items"][0]["name"]
    assert refused.state == WritebackState.FAILED
    assert refused.reason == (
        f"The store's order {order['number']} differs from what was reviewed: quantity of "
        f"'{mug}' 3 → 4; total {reviewed['total']} → {edited['total']}. Nothing was written "
        f"to the store. Review the change on sales order {sales_order.number}, then send again."
    )
    assert events(sales_order, EventKind.WRITEBACK_REFUSED) == [(refused.reason, None)]


def test_a_store_order_edited_after_the_review_is_left_untouched(
    shop, store, client, order, signed_in_staff
):
    sales_order, _, _ = edited_after_review(shop, store, client, order, signed_in_staff)

    woo, _ = store_order(shop, order["id"])
    assert (woo.status, [line.quantity for line in woo.line_items]) == ("processing", [4, 2])
    assert our_notes(shop, sales_order) == []


def test_a_store_order_edited_after_the_review_warns_on_its_sales_order(
    shop, store, client, order, signed_in_staff
):
    sales_order, _, edited = edited_after_review(shop, store, client, order, signed_in_staff)

    mug = order["line_items"][0]["name"]
    assert listed_changes(reloaded(sales_order).change_warning)[1].startswith(
        f"quantity of '{mug}' 3 → 4; total "
    )


# Update from the store


UPDATES = {
    "quantity": lambda mug: {"quantities": {mug: 3}},
    "added line": lambda mug: {"add_lines": [{"product_id": 15, "quantity": 2}]},
    "replaced product": lambda mug: {"replace_products": {mug: GIFT_CARD}},
    "address": lambda mug: {
        "address": {"address_1": "1 Rue de la Paix", "city": "Paris", "postcode": "75002"}
    },
}


def updated(shop, store, client, order, portal, change: str):
    """The order imported, changed in the store as ``change`` says, seen, and updated from
    the store by a person: the page that follows, and the store's order read back."""
    mug = order["line_items"][0]["id"]
    sales_order = seen_change(shop, store, client, order, **UPDATES[change](mug))
    page = act(portal, sales_order, "update-from-store")
    return sales_order, page, store_order(shop, order["id"])[0]


@pytest.mark.parametrize("change", UPDATES)
def test_update_from_the_store_makes_the_sales_order_the_stores_to_the_cent(
    change, shop, store, client, order, signed_in_staff
):
    sales_order, _, woo = updated(shop, store, client, order, signed_in_staff, change)

    now = reloaded(sales_order)
    assert item_lines(now) == store_lines(woo)
    assert (now.amount_including_tax, now.tax_amount) == (woo.total, woo.total_tax)
    assert sum(line.amount + line.tax_amount for line in now.lines) == woo.total
    assert tuple(getattr(now, column) for column in SHIP_TO) == ship_to(woo.shipping)


def test_update_from_the_store_clears_the_warning_and_records_who_updated(
    shop, store, client, order, signed_in_staff, staff_user
):
    sales_order, page, woo = updated(shop, store, client, order, signed_in_staff, "quantity")

    message = (
        f"{sales_order.number} updated from the store: total {woo.total} {woo.currency}, "
        "2 item line(s)"
    )
    assert flashes(page) == [message]
    assert reloaded(sales_order).change_warning is None
    assert events(sales_order, EventKind.UPDATED) == [(message, staff_user.id)]


def test_an_updated_order_raises_no_warning_on_the_next_read(
    shop, store, client, order, signed_in_staff, paths
):
    sales_order, _, _ = updated(shop, store, client, order, signed_in_staff, "quantity")

    met = paths.meet("order_id", [order["id"]])

    assert met[order["id"]] == [(Outcome.SKIPPED, f"already imported as {sales_order.number}")]
    assert reloaded(sales_order).change_warning is None


def test_update_from_the_store_creates_an_item_for_a_product_the_erp_lacks(
    shop, store, client, order, signed_in_staff
):
    assert db.session.scalar(sa.select(Item).where(Item.sku == "GIFT-25")) is None

    sales_order, _, _ = updated(shop, store, client, order, signed_in_staff, "replaced product")

    gift_card = db.session.scalar(sa.select(Item).where(Item.sku == "GIFT-25"))
    assert gift_card is not None and gift_card.description == "Gift Card"
    assert [line.item_id for line in reloaded(sales_order).lines][:1] == [gift_card.id]


def test_a_posted_order_is_never_updated_from_the_store(
    shop, store, client, order, signed_in_staff
):
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})
    sales_order.status = SalesOrderStatus.POSTED  # posted before the change came in
    db.session.commit()
    before = item_lines(sales_order)

    page = act(signed_in_staff, sales_order, "update-from-store")

    assert flashes(page) == [
        f"{sales_order.number} was not updated: {sales_order.number} is posted: a sales order "
        "that is not open or released is never changed. Put the order right in the store "
        "instead."
    ]
    assert item_lines(sales_order) == before


# A store order cancelled


def test_update_from_the_store_cancels_an_open_order_cancelled_in_the_store(
    shop, store, client, order, signed_in_staff, staff_user
):
    sales_order = seen_change(shop, store, client, order, status="cancelled")
    lines = item_lines(sales_order)

    page = act(signed_in_staff, sales_order, "update-from-store")

    message = (
        f"{sales_order.number} cancelled: webstore order {order['number']} was cancelled in "
        "the store"
    )
    assert flashes(page) == [message]
    now = reloaded(sales_order)
    assert (now.status, now.change_warning) == (SalesOrderStatus.CANCELLED, None)
    assert item_lines(now) == lines  # kept for reference
    assert events(now, EventKind.CANCELLED) == [(message, staff_user.id)]


def test_a_sales_order_cancelled_with_its_store_order_is_never_posted(
    shop, store, client, order, signed_in_staff
):
    sales_order = seen_change(shop, store, client, order, status="cancelled")
    act(signed_in_staff, sales_order, "update-from-store")

    page = act(signed_in_staff, sales_order, "post")

    assert flashes(page) == [
        f"{sales_order.number} cannot be posted: it is cancelled, and only an open or "
        "released order can be posted."
    ]
    assert reloaded(sales_order).status == SalesOrderStatus.CANCELLED
    assert writebacks() == []


def applying(shop) -> None:
    shop.apply_store_changes = True
    db.session.commit()


def test_a_sync_cancels_an_open_order_cancelled_in_the_store_when_the_webstore_applies_changes(
    shop, paths, order
):
    applying(shop)
    paths.import_orders("automatic", [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    paths.modify(order["id"], status="cancelled")

    met = paths.meet("automatic", [order["id"]])

    now = reloaded(sales_order)
    assert (now.status, now.change_warning) == (SalesOrderStatus.CANCELLED, None)
    assert met[order["id"]] == [
        (
            Outcome.CHANGED,
            f"Changed since imported as {now.number}: status processing → cancelled; "
            f"{now.number} cancelled: webstore order {order['number']} was cancelled in the "
            "store",
        )
    ]


def test_a_sync_updates_an_open_order_changed_in_the_store_when_the_webstore_applies_changes(
    shop, paths, order
):
    applying(shop)
    paths.import_orders("automatic", [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    paths.modify(order["id"], quantities={order["line_items"][0]["id"]: 3})

    paths.meet("automatic", [order["id"]])

    woo = paths.store_order(order["id"])
    now = reloaded(sales_order)
    assert (now.status, now.change_warning) == (SalesOrderStatus.OPEN, None)
    assert item_lines(now) == store_lines(woo)
    assert now.amount_including_tax == woo.total


def test_a_sync_leaves_a_released_order_with_a_warning_though_the_webstore_applies_changes(
    shop, paths, order
):
    applying(shop)
    paths.import_orders("automatic", [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    perform(sales_order, ACTIONS["release"])
    lines = item_lines(sales_order)
    paths.modify(order["id"], status="cancelled")

    paths.meet("automatic", [order["id"]])

    now = reloaded(sales_order)
    assert now.status == SalesOrderStatus.RELEASED
    assert listed_changes(now.change_warning) == ("import", "status processing → cancelled")
    assert item_lines(now) == lines


# A refund after import


def refunded_after_import(shop, store, client, order) -> SalesOrder:
    return seen_change(shop, store, client, order, refund={"amount": "2.00", "reason": "Chipped"})


def test_a_refund_after_import_shows_on_the_order_page_once_a_sync_read_it(
    shop, store, client, order, signed_in_staff
):
    sales_order = refunded_after_import(shop, store, client, order)

    page = signed_in_staff.get(f"/orders/{sales_order.id}").text

    net = Decimal(order["total"]) - Decimal("2.00")
    currency = sales_order.currency
    assert f"<dt>Refunded</dt><dd>2.00 {currency}</dd>" in page
    assert f"<dt>Net after refunds</dt><dd>{net:,.2f} {currency}</dd>" in page


def credit_refunds(shop, order_id):
    shop.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    run = import_refunds(shop, order_ids=(order_id,))
    assert run.imported == 1, [e.message for e in entries(run)]


def test_a_refund_credited_before_any_read_raises_no_warning(shop, store, order, paths):
    paths.import_orders("order_id", [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    paths.modify(order["id"], refund={"amount": "2.00", "reason": "Chipped"})
    credit_refunds(shop, order["id"])
    # Credited before any orders run read the refund: the memo makes it known.
    assert reloaded(sales_order).change_warning is None

    met = paths.meet("order_id", [order["id"]])

    assert met[order["id"]] == [(Outcome.SKIPPED, f"already imported as {sales_order.number}")]
    assert reloaded(sales_order).change_warning is None


def test_a_refund_warned_of_and_then_credited_raises_no_warning_on_the_next_read(
    shop, store, client, order, paths
):
    sales_order = refunded_after_import(shop, store, client, order)
    assert sales_order.change_warning is not None
    credit_refunds(shop, order["id"])

    paths.meet("order_id", [order["id"]])

    assert reloaded(sales_order).change_warning is None


def test_a_credited_refund_shows_on_the_order_page_with_its_memo(
    shop, store, order, paths, signed_in_staff
):
    paths.import_orders("order_id", [order["id"]])
    sales_order = sales_order_for(shop, order["id"])
    paths.modify(order["id"], refund={"amount": "2.00", "reason": "Chipped"})
    credit_refunds(shop, order["id"])

    page = signed_in_staff.get(f"/orders/{sales_order.id}").text

    net = Decimal(order["total"]) - Decimal("2.00")
    currency = sales_order.currency
    assert f"<dt>Refunded</dt><dd>2.00 {currency}</dd>" in page
    assert f"<dt>Net after refunds</dt><dd>{net:,.2f} {currency}</dd>" in page
    memo = db.session.scalar(sa.select(SalesCreditMemo))
    assert f'>{memo.number}</a></td><td data-label="Status">{memo.status}</td>' in page


# Carrier and tracking typed into the post dialog


def test_carrier_and_tracking_typed_into_the_post_dialog_go_with_the_post(
    shop, store, signed_in_staff
):
    sales_order = imported_order(shop, store)

    act(signed_in_staff, sales_order, "post", shipping_carrier="DHL", tracking_number="JD0123")
    work_queued_jobs()

    now = reloaded(sales_order)
    assert (now.status, now.shipping_carrier, now.tracking_number) == (
        SalesOrderStatus.POSTED,
        "DHL",
        "JD0123",
    )
    assert our_notes(shop, now) == [
        f"Sales order {now.number} is posted. Shipped with DHL, tracking number JD0123."
    ]


def test_a_tracking_number_with_markup_is_refused_and_nothing_is_posted(
    shop, store, signed_in_staff
):
    sales_order = imported_order(shop, store)

    page = act(
        signed_in_staff, sales_order, "post", shipping_carrier="UPS", tracking_number="<b>1Z</b>"
    )

    assert flashes(page) == [
        f"{sales_order.number} was not posted: Tracking number may hold letters, digits, "
        "spaces and . , : ; / # ( ) + - only: it goes into a note the customer reads."
    ]
    now = reloaded(sales_order)
    assert (now.status, now.shipping_carrier, now.tracking_number) == (
        SalesOrderStatus.OPEN,
        "",
        "",
    )
    assert writebacks() == []


# A store order closed in the store


def imported_as(shop, store, status: str) -> SalesOrder:
    created = store.create_order(status=status)
    run_import(shop, order_id=created["id"])
    return sales_order_for(shop, created["id"])


@pytest.mark.parametrize("status", ["refunded", "cancelled", "failed"])
def test_the_page_of_an_order_closed_in_the_store_says_no_store_update_will_be_made(
    status, shop, store, signed_in_staff
):
    sales_order = imported_as(shop, store, status)

    page = html.unescape(signed_in_staff.get(f"/orders/{sales_order.id}").text)

    assert (
        f"Webstore order {sales_order.external_document_no} is {status} in the store: no "
        "store update will be made for it."
    ) in page
    assert "is set to completed in the store" not in page


@pytest.mark.parametrize("status", ["refunded", "failed"])
def test_posting_an_order_closed_in_the_store_queues_no_store_update(
    status, shop, store, signed_in_staff
):
    sales_order = imported_as(shop, store, status)

    page = act(signed_in_staff, sales_order, "post")

    assert flashes(page) == [
        f"Sales order {sales_order.number} posted. Webstore order "
        f"{sales_order.external_document_no} is {status} in the store: no store update is made."
    ]
    assert reloaded(sales_order).status == SalesOrderStatus.POSTED
    assert writebacks() == []


def test_an_order_cancelled_in_the_store_is_not_posted_and_queues_no_store_update(
    shop, store, signed_in_staff
):
    sales_order = imported_as(shop, store, "cancelled")

    page = act(signed_in_staff, sales_order, "post")

    assert flashes(page) == [
        f"Webstore order {sales_order.external_document_no} is cancelled in the store: do not "
        f"post {sales_order.number}; cancel it with Update from the store."
    ]
    assert reloaded(sales_order).status == SalesOrderStatus.OPEN
    assert writebacks() == []


def test_an_order_refunded_in_the_store_after_import_posts_without_a_store_update(
    shop, store, client, order, signed_in_staff
):
    sales_order = seen_change(shop, store, client, order, status="refunded")
    act(signed_in_staff, sales_order, "review")

    page = act(signed_in_staff, sales_order, "post")

    assert flashes(page) == [
        f"Sales order {sales_order.number} posted. Webstore order {order['number']} is "
        "refunded in the store: no store update is made."
    ]
    assert writebacks() == []


def test_a_write_back_refused_for_an_edit_after_review_completes_once_that_edit_is_reviewed(
    shop, store, client, order, signed_in_staff
):
    sales_order, _, _ = edited_after_review(shop, store, client, order, signed_in_staff)
    refused = only_writeback()
    act(signed_in_staff, sales_order, "review")

    signed_in_staff.post(f"/orders/{sales_order.id}/writebacks/{refused.id}/send")
    work_queued_jobs()

    woo, _ = store_order(shop, order["id"])
    assert (only_writeback().state, woo.status) == (WritebackState.SENT, "completed")
    assert our_notes(shop, sales_order) == [f"Sales order {sales_order.number} is posted."]


def test_carrier_and_tracking_typed_into_a_post_that_is_refused_are_said_not_saved(
    shop, store, client, order, signed_in_staff
):
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})

    page = act(signed_in_staff, sales_order, "post", shipping_carrier="DHL", tracking_number="1Z9")

    assert flashes(page) == [
        f"{sales_order.number} changed in the store and nobody has reviewed the change: "
        "review it first (Mark reviewed, or Update from the store), then post. The carrier "
        "and tracking number typed were not saved: enter them again when you post."
    ]
    now = reloaded(sales_order)
    assert (now.status, now.shipping_carrier, now.tracking_number) == (
        SalesOrderStatus.OPEN,
        "",
        "",
    )


def test_mark_reviewed_refuses_a_change_that_came_in_after_the_page_was_read(
    shop, store, client, order, signed_in_staff, paths
):
    mug = order["line_items"][0]
    sales_order = seen_change(shop, store, client, order, quantities={mug["id"]: 3})
    page = signed_in_staff.get(f"/orders/{sales_order.id}").text
    form = re.search(r'action="/orders/\d+/review">(.*?)</form>', page, re.S)[1]
    shown = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    paths.modify(order["id"], status="on-hold")
    paths.meet("order_id", [order["id"]])  # a sync meanwhile: a change nobody has read
    unread = reloaded(sales_order).change_warning

    answer = signed_in_staff.post(f"/orders/{sales_order.id}/review", shown, follow_redirects=True)

    assert flashes(answer) == [
        f"The change to {sales_order.number} changed again since the page was read: read "
        "it again, then mark it reviewed."
    ]
    now = reloaded(sales_order)
    assert (now.change_warning, now.reviewed_state, now.reviewed_by_id) == (unread, None, None)
