"""The sandbox store: its data, its rules and its knobs.

In-process tests check the generated data; the rest talk to a running store over HTTP,
as a connector would. (The speed of generating 100,000 orders is printed by
``python -m sandbox.bench_generate``, not tested here.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

from sandbox import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    DEMO_READ_ONLY_KEY,
    DEMO_READ_ONLY_SECRET,
    render,
)
from sandbox.catalog import COUPONS, Catalog, captured_products
from sandbox.faults import Faults, Knobs
from sandbox.generate import Options
from sandbox.model import Contact, Fee, Line, Order
from sandbox.money import compute
from sandbox.php import format_decimal
from sandbox.process import SandboxProcess
from sandbox.store import OrderQuery, Store
from sandbox.taxes import CAPTURED
from tests.sync_helpers import wait_for

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"
UNTIL = 1795719924  # 2026-11-26T19:05:24Z, where the captured store stood
SITE = "http://127.0.0.1:8081"


@pytest.fixture(scope="module")
def generated() -> Store:
    return Store(seed=7, orders=1500, until=UNTIL)


def rendered(store: Store) -> list[dict]:
    return [render.order(store.order(i), store.catalog, SITE) for i in _ids(store)]


def _ids(store: Store) -> list[int]:
    return [o.id for o in store.orders(OrderQuery(orderby="id", descending=False))]


# The generated data


def test_the_same_seed_gives_the_same_store() -> None:
    first, again = Store(seed=3, orders=80, until=UNTIL), Store(seed=3, orders=80, until=UNTIL)
    other = Store(seed=4, orders=80, until=UNTIL)
    assert rendered(first) == rendered(again)
    assert rendered(first) != rendered(other)


def test_orders_start_at_23_and_grow_with_their_date(generated: Store) -> None:
    orders = [generated.order(i) for i in _ids(generated)]
    assert orders[0].id == 23
    assert [o.id for o in orders] == list(range(23, 23 + 1500))
    assert all(a.created <= b.created for a, b in zip(orders, orders[1:], strict=False))
    assert orders[0].created > UNTIL - 366 * 86400
    assert orders[-1].modified <= UNTIL


def test_every_order_adds_up(generated: Store) -> None:
    for order in rendered(generated):
        lines = order["line_items"]
        fees, shipping = order["fee_lines"], order["shipping_lines"]
        line_tax = sum(_d(line["total_tax"]) for line in lines)
        fee_tax = sum(_d(fee["total_tax"]) for fee in fees)
        expected = (
            sum(_d(line["total"]) for line in lines)
            + line_tax
            + sum(_d(s["total"]) + _d(s["total_tax"]) for s in shipping)
            + sum(_d(f["total"]) for f in fees)
            + fee_tax
        )
        assert _d(order["total"]) == expected, order["id"]
        assert _d(order["cart_tax"]) == line_tax + fee_tax
        assert _d(order["total_tax"]) == _d(order["cart_tax"]) + _d(order["shipping_tax"])
        discounts = [_d(line["subtotal"]) - _d(line["total"]) for line in lines]
        assert all(d >= 0 for d in discounts)
        assert _d(order["discount_total"]) == sum(discounts)
        for tax_line in order["tax_lines"]:
            assert _d(tax_line["tax_total"]) == _d(order["cart_tax"])


def _d(amount: str) -> Decimal:
    return Decimal(amount)


def test_captured_orders_come_out_to_the_cent() -> None:
    """The amounts WooCommerce computed for the 30 captured orders, coupons included."""
    catalog = Catalog(captured_products(0))
    captured = json.loads((CAPTURES / "orders_per_page100.json").read_text())["body"]
    for order in captured:
        same = _as_sandbox_order(order)
        totals = compute(same, catalog)
        assert _money(totals.total) == order["total"], order["id"]
        assert _money(totals.discount) == order["discount_total"]
        assert _money(totals.discount_tax) == order["discount_tax"]
        assert _money(totals.cart_tax) == order["cart_tax"]
        assert [_money(line.total.amount) for line in totals.lines] == [
            line["total"] for line in order["line_items"]
        ]


def _money(millionths: int) -> str:
    return format_decimal(millionths, 2, 6)


def _as_sandbox_order(order: dict) -> Order:
    lines = tuple(
        Line(i, line["variation_id"] or line["product_id"], line["quantity"])
        for i, line in enumerate(order["line_items"])
    )
    fee = order["fee_lines"][0] if order["fee_lines"] else None
    contact = Contact(*[""] * 8, order["billing"]["country"], "", "")
    return Order(
        id=order["id"],
        slot=0,
        status=order["status"],
        created=0,
        modified=0,
        paid=None,
        completed=None,
        customer_id=0,
        contact=contact,
        lines=lines,
        shipping=order["shipping_lines"][0]["method_id"] if order["shipping_lines"] else None,
        fee=Fee(fee["name"], int(Decimal(fee["total"]) * 100), "") if fee else None,
        coupon=COUPONS[order["coupon_lines"][0]["code"]] if order["coupon_lines"] else None,
        prices_include_tax=False,
        payment_method="",
        created_via="rest-api",
        customer_note="",
        order_key="",
        gift_message="",
        refunds=(),
        stock_reduced=False,
        version="10.0.2",
        tax_rate=CAPTURED.get(order["billing"]["country"]),
    )


def test_the_store_holds_every_case_a_connector_meets(generated: Store) -> None:
    orders = rendered(generated)
    assert set(generated.status_totals()) == {o["status"] for o in orders}
    guests = [o for o in orders if o["customer_id"] == 0]
    assert guests and all(o["billing"]["email"] for o in guests)
    per_customer = Counter(o["customer_id"] for o in orders if o["customer_id"])
    assert per_customer.most_common(1)[0][1] >= 5
    emails = [o["billing"]["email"] for o in orders]
    assert any(e != e.strip() for e in emails) and any(e != e.lower() for e in emails)
    assert len({e.strip().lower() for e in emails}) < len(set(emails))
    assert {o["prices_include_tax"] for o in orders} == {True, False}
    fees = [f for o in orders for f in o["fee_lines"]]
    assert {f["amount"] for f in fees} >= {"", "2.5"}
    refunds = [r for o in orders for r in o["refunds"]]
    assert refunds and all(r["total"].startswith("-") for r in refunds)
    assert any(o["coupon_lines"] for o in orders)
    names = {line["name"] for o in orders for line in o["line_items"]}
    assert any(len(name) > 100 for name in names)
    assert any(not name.isascii() for name in names)
    assert any(line["sku"] == "" for o in orders for line in o["line_items"])


def test_order_lines_match_the_products_served(generated: Store) -> None:
    catalog = generated.catalog
    for order in rendered(generated)[:300]:
        for line in order["line_items"]:
            product = catalog.get(line["variation_id"] or line["product_id"])
            assert line["name"] == catalog.line_name(product)
            assert line["sku"] == catalog.sku(product)
            if not order["prices_include_tax"]:
                assert _d(line["subtotal"]) == _d(format_decimal(product.price)) * line["quantity"]
            if line["variation_id"]:
                assert product.parent_id == line["product_id"]


def test_the_captured_store_shows_through_its_first_orders(generated: Store) -> None:
    statuses = [generated.order(i).status for i in range(23, 53)]
    assert statuses[:6] == ["pending", "processing", "on-hold", "completed", "cancelled", "failed"]
    assert generated.order(32).status == "refunded"
    assert generated.order(44).refunds
    assert [generated.order(i).status for i in range(53, 61)] == list(
        ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
        + ("checkout-draft",)
    )
    product = render.product(generated.catalog.get(14), generated.catalog, SITE)
    assert (product["name"], product["variations"]) == ("Logo T-Shirt", [15, 16, 17, 18, 19, 20])


def test_faults_are_drawn_at_their_rates() -> None:
    faults = Faults(Knobs(fail_rate=0.2, rate_limit_rate=0.1, truncate_rate=0.05), seed=5)
    drawn = Counter(faults.draw() for _ in range(10_000))
    assert abs(drawn["error"] / 10_000 - 0.2) < 0.02
    assert abs(drawn["rate_limit"] / 10_000 - 0.1) < 0.02
    assert abs(drawn["truncate"] / 10_000 - 0.05) < 0.01
    assert drawn["timeout"] == drawn["html"] == 0


def test_a_light_listing_costs_a_fraction_of_a_full_one() -> None:
    faults = Faults(Knobs(latency_ms=75, latency_per_order_ms=11))
    full, light = faults.delay(100, 0), faults.delay(0, 100)
    assert full == pytest.approx(1.175)
    assert light < full / 4


# Over HTTP


@pytest.fixture
def store(new_york_store: SandboxProcess) -> SandboxProcess:
    new_york_store.reset()
    return new_york_store


def get(store, path, method="GET", json=None, *, signer=None, timeout=10) -> requests.Response:
    """A request signed as a connector signs it: OAuth 1.0a, HMAC-SHA256, in the query."""
    signer = signer or Client(
        store.consumer_key,
        client_secret=store.consumer_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    url, headers, _ = signer.sign(f"{store.api_url}{path}", http_method=method)
    return requests.request(method, url, json=json, headers=headers, timeout=timeout)


def test_paging_reaches_every_order_once_and_stops_past_the_end(store: SandboxProcess) -> None:
    seen, page = [], 1
    while orders := (response := get(store, f"/orders?orderby=id&per_page=7&page={page}")).json():
        assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("60", "9")
        assert ('rel="next"' in response.headers["Link"]) == (page < 9)
        seen += [o["id"] for o in orders]
        page += 1
    assert sorted(seen) == list(range(23, 83)) and page == 10
    # Past the end HPOS counts nothing, and the "prev" link says page 0.
    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("0", "0")
    assert "&page=0&" in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]


def test_filters_select_as_woocommerce_does(store: SandboxProcess) -> None:
    statuses = {o["status"] for o in get(store, "/orders?status=processing,on-hold").json()}
    assert statuses == {"processing", "on-hold"}
    included = get(store, "/orders?include=30,23,44&orderby=include&order=asc").json()
    assert [o["id"] for o in included] == [30, 23, 44]
    customer = included[1]["customer_id"]
    mine = get(store, f"/orders?customer={customer}&per_page=100").json()
    assert mine and {o["customer_id"] for o in mine} == {customer}

    store.modify_order(23, status="completed", date_modified="2026-11-26T20:00:00Z")
    recent = "/orders?modified_after=2026-11-26T19:30:00"
    assert [o["id"] for o in get(store, recent + "&dates_are_gmt=true").json()] == [23]
    # Without the flag the time is the site's (New York): 19:30 there is 00:30 UTC.
    assert get(store, recent).json() == []


def test_light_listings_carry_only_the_fields_asked_for(store: SandboxProcess) -> None:
    listed = get(store, "/orders?per_page=3&_fields=id,status,billing.email").json()
    assert [list(o) for o in listed] == [["id", "status", "billing"]] * 3
    assert all(list(o["billing"]) == ["email"] for o in listed)
    assert store.stats()["orders_rendered"] == {"full": 0, "light": 3}


def test_oauth_refuses_old_timestamps_replayed_nonces_and_arrays(store: SandboxProcess) -> None:
    def signer(**kwargs):
        return Client(
            store.consumer_key,
            client_secret=store.consumer_secret,
            signature_method=SIGNATURE_HMAC_SHA1,
            signature_type=SIGNATURE_TYPE_QUERY,
            **kwargs,
        )

    stale = get(store, "/orders", signer=signer(timestamp=str(int(time.time()) - 16 * 60)))
    assert (stale.status_code, stale.json()["message"]) == (401, "Invalid timestamp.")

    once = signer(nonce="abc123", timestamp=str(int(time.time())))
    assert get(store, "/orders", signer=once).status_code == 200
    again = get(store, "/orders", signer=once)
    assert again.json()["message"] == "Invalid nonce - nonce has already been used."

    arrays = get(store, "/orders?status%5B%5D=processing")
    assert arrays.json()["message"] == "Invalid signature - provided signature does not match."
    header = Client(store.consumer_key, client_secret=store.consumer_secret)
    assert get(store, "/orders", signer=header).status_code == 200  # OAuth header, HMAC-SHA1


def test_basic_auth_counts_only_over_https(https_store: SandboxProcess) -> None:
    secure = https_store
    url = f"{secure.api_url}/orders"
    basic = requests.get(
        url,
        auth=(secure.consumer_key, secure.consumer_secret),
        verify=secure.cert_path,
        timeout=10,
    )
    assert basic.status_code == 200 and len(basic.json()) == 5
    keys = {"consumer_key": secure.consumer_key, "consumer_secret": secure.consumer_secret}
    assert requests.get(url, params=keys, verify=secure.cert_path, timeout=10).ok
    wrong = requests.get(
        url, auth=(secure.consumer_key, "cs_wrong"), verify=secure.cert_path, timeout=10
    )
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Consumer secret is invalid.")


def test_orders_are_created_updated_and_refunded_through_the_api(store: SandboxProcess) -> None:
    line_items = [{"product_id": 14, "variation_id": 19, "quantity": 2}, {"product_id": 11}]
    body = {
        "customer_id": 2,
        "line_items": line_items,
        "shipping_lines": [{"method_id": "flat_rate"}],
    }
    created = get(store, "/orders", "POST", json=body)
    assert created.status_code == 201
    order = created.json()
    assert created.headers["Location"].endswith(f"/orders/{order['id']}")
    assert [line["name"] for line in order["line_items"]] == [
        "Logo T-Shirt - L, Red",
        "Classic Mug",
    ]
    assert order["status"] == "pending" and order["customer_id"] == 2

    updated = get(store, f"/orders/{order['id']}", "PUT", json={"status": "completed"}).json()
    assert updated["status"] == "completed" and updated["date_paid"] and updated["date_completed"]
    assert updated["date_modified_gmt"] >= order["date_modified_gmt"]

    refund = get(store, f"/orders/{order['id']}/refunds", "POST", json={"amount": order["total"]})
    assert refund.status_code == 201
    after = get(store, f"/orders/{order['id']}").json()
    assert after["status"] == "refunded"
    assert after["refunds"][0]["total"] == "-" + order["total"]

    bad = get(store, "/orders", "POST", json={"line_items": [{"product_id": 999}]})
    assert (bad.status_code, bad.json()["code"]) == (400, "woocommerce_rest_invalid_product_id")


@pytest.mark.parametrize(
    ("prices_include_tax", "total", "tax"), [(False, "14.88", "2.38"), (True, "12.50", "2.00")]
)
def test_orders_made_through_the_api_take_the_stores_prices_with_or_without_tax(
    prices_include_tax: bool, total: str, tax: str
) -> None:
    options = Options(prices_include_tax=prices_include_tax)
    store = Store(seed=1, orders=0, until=UNTIL, options=options)
    body = {"line_items": [{"product_id": 11}], "billing": {"country": "DE"}}  # 12.50, 19 %

    order = render.order(store.create_order(body), store.catalog, SITE)

    assert order["prices_include_tax"] is prices_include_tax
    assert (order["total"], order["total_tax"]) == (total, tax)


def test_control_changes_keep_amounts_consistent(store: SandboxProcess) -> None:
    order = store.create_order(
        status="processing",
        customer_id=0,
        lines=[{"product_id": 11, "quantity": 1}],
        email="  Alice@Example.com ",
    )
    assert order["billing"]["email"] == "  Alice@Example.com " and order["customer_id"] == 0
    item = order["line_items"][0]["id"]
    changed = store.modify_order(order["id"], quantities={item: 3}, status="completed")
    assert changed["line_items"][0]["quantity"] == 3
    assert _d(changed["line_items"][0]["subtotal"]) == 3 * _d(order["line_items"][0]["subtotal"])
    assert _d(changed["total"]) > _d(order["total"])
    assert changed["date_modified_gmt"] >= order["date_modified_gmt"]
    assert changed["status"] == "completed"
    assert len(store.create_orders(5)) == 5
    assert get(store, "/orders").headers["X-WP-Total"] == "66"


def test_faults_come_as_configured_and_never_on_the_control_api(store: SandboxProcess) -> None:
    store.set_faults(rate_limit_rate=1, retry_after=2)
    limited = get(store, "/orders")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    store.set_faults(rate_limit_rate=0, fail_rate=1)
    failed = get(store, "/orders")
    assert failed.status_code == 500 and failed.json()["code"] == "internal_server_error"
    assert store.stats()["faults"]["error"] == 1  # the control API itself answers

    store.set_faults(fail_rate=0, html_error_rate=1)
    page = get(store, "/orders")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")

    store.set_faults(html_error_rate=0, truncate_rate=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(store, "/orders")

    store.set_faults(truncate_rate=0, timeout_rate=1, hang_seconds=3)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(store, "/orders", timeout=0.5)
    assert time.monotonic() - started < 2


def test_requests_are_served_concurrently(store: SandboxProcess) -> None:
    store.set_faults(latency_ms=400)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: get(store, "/orders/23").status_code, range(4)))
    assert answers == [200] * 4
    assert time.monotonic() - started < 1.2
    assert store.stats()["max_in_flight"] >= 2


@pytest.fixture
def receiver():
    """A tiny HTTP server recording what is posted to it: (url, [(headers, body), ...])."""
    received: list[tuple[dict, bytes]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            received.append(
                (dict(self.headers), self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def delivered_before_a_new_order(store: SandboxProcess, received: list) -> list:
    """The webhook deliveries that came before an order created now: one thread of the store
    sends them in turn, so once the new order's comes, every earlier one has come."""
    marker = store.create_order(status="pending")

    def created_at() -> int | None:
        for at, (headers, body) in enumerate(received):
            delivered = (headers.get("X-WC-Webhook-Topic"), json.loads(body).get("id"))
            if delivered == ("order.created", marker["id"]):
                return at
        return None

    deadline = time.monotonic() + 5
    while (at := created_at()) is None:
        assert time.monotonic() < deadline, "the new order's webhook did not come within 5 s"
        time.sleep(0.05)
    return received[:at]


def test_webhooks_are_signed_like_woocommerce(store: SandboxProcess, receiver) -> None:
    url, received = receiver
    store.set_webhook(url, "whsec-test")
    order = store.create_order(status="pending")
    get(store, f"/orders/{order['id']}", "PUT", json={"status": "processing"})
    deadline = time.monotonic() + 5
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    (created_headers, created), (updated_headers, updated) = received
    assert created_headers["X-WC-Webhook-Topic"] == "order.created"
    assert json.loads(created)["id"] == order["id"]
    assert updated_headers["X-WC-Webhook-Topic"] == "order.updated"
    assert json.loads(updated)["status"] == "processing"
    for headers, body in received:
        digest = hmac.new(b"whsec-test", body, hashlib.sha256).digest()
        assert headers["X-WC-Webhook-Signature"] == base64.b64encode(digest).decode()
        assert headers["X-WC-Webhook-Resource"] == "order"
        assert headers["User-Agent"].startswith("WooCommerce/10.0.2 Hookshot")
        assert headers["X-WC-Webhook-Source"] == store.base_url + "/"


def test_demo_keys_look_like_real_ones() -> None:
    for key, prefix in ((DEMO_CONSUMER_KEY, "ck_"), (DEMO_CONSUMER_SECRET, "cs_")):
        assert key.startswith(prefix) and len(key) == 43
        int(key[3:], 16)


# Writing back: order status, notes, the read-only key


def read_only(store: SandboxProcess) -> Client:
    return Client(
        store.read_only_key,
        client_secret=store.read_only_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_QUERY,
    )


def captured_body(name: str) -> dict:
    return json.loads((CAPTURES / f"{name}.json").read_text())["body"]


def an_order_modified_long_ago(store: SandboxProcess, status: str = "processing") -> dict:
    """An order made and last changed on 2 January, its notes as old."""
    order = store.create_order(status=status, date_created="2026-01-02T03:04:05Z")
    return store.modify_order(order["id"], date_modified="2026-01-02T03:04:05Z")


def test_a_status_put_bumps_date_modified_and_writes_the_stores_note(store) -> None:
    order = an_order_modified_long_ago(store)
    before = store.notes(order["id"])

    answer = get(store, f"/orders/{order['id']}", "PUT", json={"status": "completed"}).json()

    assert answer["status"] == "completed"
    assert answer["date_modified_gmt"] > "2026-01-02T03:04:05"
    assert answer["date_completed_gmt"] == answer["date_modified_gmt"]
    notes = get(store, f"/orders/{order['id']}/notes").json()
    assert notes[0]["note"] == "Order status changed from Processing to Completed."
    assert notes[0]["date_created_gmt"] == answer["date_modified_gmt"]
    assert notes[1:] == before  # the earlier notes are kept as they were


def test_a_put_of_the_status_the_order_has_bumps_date_modified_without_a_note(store) -> None:
    order = an_order_modified_long_ago(store, "completed")
    notes = store.notes(order["id"])

    answer = get(store, f"/orders/{order['id']}", "PUT", json={"status": "completed"}).json()

    assert answer["date_modified_gmt"] > "2026-01-02T03:04:05"
    assert answer["date_completed_gmt"] == order["date_completed_gmt"]
    assert store.notes(order["id"]) == notes


def test_a_status_woocommerce_does_not_have_is_refused_as_it_refuses_it(store) -> None:
    order = store.create_order(status="processing")

    response = get(store, f"/orders/{order['id']}", "PUT", json={"status": "shipped"})

    assert response.status_code == 400
    assert response.json() == captured_body("order_update_invalid_status_400")
    assert get(store, f"/orders/{order['id']}").json()["status"] == "processing"


def test_an_unknown_order_is_a_400_to_put_and_a_404_to_its_notes(store) -> None:
    put = get(store, "/orders/999999", "PUT", json={"status": "completed"})
    note = get(store, "/orders/999999/notes", "POST", json={"note": "x"})
    notes = get(store, "/orders/999999/notes")

    assert (put.status_code, put.json()) == (400, captured_body("order_update_unknown_id_400"))
    assert (note.status_code, note.json()) == (
        404,
        captured_body("order_note_create_unknown_order_404"),
    )
    assert (notes.status_code, notes.json()) == (
        404,
        captured_body("order_notes_unknown_order_404"),
    )


def test_notes_are_added_and_listed_newest_first_leaving_the_order_as_it_was(store) -> None:
    order = an_order_modified_long_ago(store)
    path = f"/orders/{order['id']}/notes"

    customer = get(store, path, "POST", json={"note": "SO-1 shipped", "customer_note": True})
    private = get(store, path, "POST", json={"note": "SO-1 posted"})

    assert customer.status_code == 201
    assert customer.headers["Location"] == f"{store.api_url}{path}/{customer.json()['id']}"
    assert (customer.json()["note"], customer.json()["customer_note"]) == ("SO-1 shipped", True)
    assert (private.json()["note"], private.json()["customer_note"]) == ("SO-1 posted", False)
    listed = get(store, path).json()
    assert [n["id"] for n in listed[:2]] == [customer.json()["id"], private.json()["id"]]
    assert [n["note"] for n in get(store, f"{path}?type=customer").json()] == ["SO-1 shipped"]
    assert "SO-1 shipped" not in [n["note"] for n in get(store, f"{path}?type=internal").json()]
    after = get(store, f"/orders/{order['id']}").json()
    assert after["date_modified_gmt"] == "2026-01-02T03:04:05"


def test_a_note_without_text_is_refused(store) -> None:
    response = get(store, "/orders/30/notes", "POST", json={})

    assert response.status_code == 400
    assert response.json() == captured_body("order_note_create_empty_400")


def test_a_status_put_sends_order_updated_and_a_note_sends_nothing(store, receiver) -> None:
    url, received = receiver
    order = store.create_order(status="processing")
    store.set_webhook(url, "whsec-test")

    get(store, f"/orders/{order['id']}/notes", "POST", json={"note": "quiet"})
    get(store, f"/orders/{order['id']}", "PUT", json={"status": "completed"})

    [(headers, body)] = delivered_before_a_new_order(store, received)
    assert headers["X-WC-Webhook-Topic"] == "order.updated"
    assert (json.loads(body)["id"], json.loads(body)["status"]) == (order["id"], "completed")


def test_the_read_only_key_reads_but_every_write_is_refused(store) -> None:
    order = store.create_order(status="processing")
    path = f"/orders/{order['id']}"
    notes = store.notes(order["id"])
    refused = captured_body("order_update_read_only_401")

    listing = get(store, "/orders?per_page=1", signer=read_only(store))
    writes = [
        get(store, path, "PUT", {"status": "completed"}, signer=read_only(store)),
        get(store, f"{path}/notes", "POST", {"note": "x"}, signer=read_only(store)),
        get(store, "/orders/batch", "POST", {}, signer=read_only(store)),
        get(store, "/orders", "POST", {}, signer=read_only(store)),
    ]

    assert listing.status_code == 200
    assert [(w.status_code, w.json()) for w in writes] == [(401, refused)] * 4
    assert all("Allow" not in w.headers for w in writes)  # refused before any route
    assert get(store, path).json()["status"] == "processing"
    assert store.notes(order["id"]) == notes


def test_an_empty_batch_changes_nothing_and_says_so_with_an_empty_list(store) -> None:
    before = store.stats()["orders_rendered"]

    response = get(store, "/orders/batch", "POST", {})

    assert (response.status_code, response.json()) == (200, [])
    assert response.headers["Allow"] == "POST, PUT, PATCH"
    assert store.stats()["orders_rendered"] == before


def test_a_batch_updates_orders_each_answered_in_its_place(store) -> None:
    order = store.create_order(status="processing")
    body = {"update": [{"id": order["id"], "status": "completed"}, {"id": 999999, "status": "x"}]}

    answer = get(store, "/orders/batch", "POST", body).json()

    done, failed = answer["update"]
    assert list(answer) == ["update"]
    assert (done["id"], done["status"]) == (order["id"], "completed")
    assert failed["id"] == 999999
    assert failed["error"]["code"] == "rest_invalid_param"


def test_writes_fail_on_demand_before_the_change_or_after_it(store) -> None:
    first, second = store.create_order(status="processing"), store.create_order(status="processing")

    store.set_faults(write_fail_rate=1)
    failed = get(store, f"/orders/{first['id']}", "PUT", {"status": "completed"})
    still_read = get(store, f"/orders/{first['id']}")
    store.set_faults(write_fail_rate=0, write_lost_rate=1)
    lost = get(store, f"/orders/{second['id']}", "PUT", {"status": "completed"})
    store.set_faults(write_lost_rate=0)

    assert (failed.status_code, lost.status_code) == (500, 500)
    assert still_read.json()["status"] == "processing"
    assert get(store, f"/orders/{second['id']}").json()["status"] == "completed"
    assert store.stats()["faults"]["write_error"] == 1
    assert store.stats()["faults"]["write_lost"] == 1


def test_reset_forgets_added_notes(store) -> None:
    notes = store.notes(30)
    store.add_note(30, "gone after reset")

    store.reset()

    assert store.notes(30) == notes


def test_the_read_only_demo_key_looks_like_a_real_one() -> None:
    for key, prefix in ((DEMO_READ_ONLY_KEY, "ck_"), (DEMO_READ_ONLY_SECRET, "cs_")):
        assert key.startswith(prefix) and len(key) == 43
        int(key[3:], 16)
    assert DEMO_READ_ONLY_KEY != DEMO_CONSUMER_KEY


def test_a_store_of_limited_capacity_serves_so_many_at_once_and_queues_the_rest(
    store: SandboxProcess,
) -> None:
    store.set_faults(latency_ms=300, workers=2)
    store.reset_stats()

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: get(store, "/orders/23").status_code, range(6)))

    assert answers == [200] * 6
    stats = store.stats()
    assert stats["max_in_service"] == 2 and stats["max_in_flight"] > 2


@pytest.mark.parametrize("status", [503, 429])
def test_past_its_queue_limit_a_busy_store_turns_requests_away_with_retry_after(
    store: SandboxProcess, status: int
) -> None:
    store.set_faults(latency_ms=600, workers=1, queue_limit=1, overload_status=status)
    store.reset_stats()

    def ask(_):
        return get(store, "/orders/23")

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(ask, 0)  # in service
        wait_for(lambda: store.stats()["max_in_service"] == 1)
        second = pool.submit(ask, 1)  # waits in line
        wait_for(lambda: store.stats()["in_flight"] == 2)
        turned_away = list(pool.map(ask, range(2)))
        kept = [first.result(), second.result()]

    assert [a.status_code for a in kept] == [200, 200]
    assert [a.status_code for a in turned_away] == [status, status]
    assert all(a.headers["Retry-After"] == "1" for a in turned_away)
    if status == 503:
        assert "503 Service Temporarily Unavailable" in turned_away[0].text
    else:
        assert turned_away[0].json()["code"] == "rest_too_many_requests"
    assert store.stats()["faults"]["overload"] == 2


def test_one_process_serves_many_stores_each_under_its_own_path() -> None:
    from portal.woo.client import WooClient

    with SandboxProcess(orders=5, stores=3, timezone="UTC") as process:
        first, third = process.store(1), process.store(3)
        created = third.create_order(status="processing")

        def listed(store: SandboxProcess) -> list[int]:
            # Signed over the store's own path, as a connector signs it (OAuth over HTTP).
            with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
                return [order.id for order in client.iter_orders()]

        assert first.base_url == process.base_url and third.base_url.endswith("/stores/3")
        assert len(listed(first)) == 5 and len(listed(third)) == 6
        assert created["id"] in listed(third)
        assert third.stats()["requests"] and third.stats() != first.stats()
        with pytest.raises(ValueError, match="stores 1 to 3"):
            process.store(4)
