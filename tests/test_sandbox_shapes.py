"""The sandbox store has the shapes of a real store (tests/fixtures/real-shapes).

Amounts are held to the six real orders to the cent; a generated store with every option
on is held to the rules those orders follow; dates follow the store's timezone; and an
export of a store (``--orders-file``) is served as exported.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

from sandbox import render
from sandbox.catalog import Catalog, Coupon, Product
from sandbox.model import SHIPPING_METHODS, Contact, Fee, Line, Order
from sandbox.process import SandboxProcess
from sandbox.taxes import REAL

REAL_SHAPES = Path(__file__).parent / "fixtures" / "real-shapes"
REAL_ORDERS = {int(p.name.split("_")[1]): p for p in REAL_SHAPES.glob("order_*.json")}
ROUNDED_AT_SUBTOTAL = {162, 185}
UNTIL = "2026-11-26T19:05:24Z"
FIRST_GENERATED = 53  # orders 23-52 are the captured store's: US 8.5 %, tax rounded per line


def get(store: SandboxProcess, path: str) -> requests.Response:
    signer = Client(
        store.consumer_key,
        client_secret=store.consumer_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    url, headers, _ = signer.sign(f"{store.api_url}{path}")
    return requests.get(url, headers=headers, timeout=10)


def every_order(store: SandboxProcess, query: str = "") -> list[dict]:
    orders, page = [], 1
    while batch := get(store, f"/orders?orderby=id&order=asc&per_page=100&page={page}{query}"):
        if not batch.json():
            return orders
        orders += batch.json()
        page += 1
    raise AssertionError(batch.text)


def _d(amount: str) -> Decimal:
    return Decimal(amount)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


# Amounts, to the cent of the real store


@pytest.mark.parametrize("order_id", sorted(REAL_ORDERS))
def test_amounts_come_out_as_the_real_stores(order_id: int, monkeypatch) -> None:
    real = json.loads(REAL_ORDERS[order_id].read_text(encoding="utf-8"))
    order, catalog = _as_sandbox_order(real, monkeypatch)

    ours = render.order(order, catalog, "http://127.0.0.1:8090")

    amounts = ("discount_total", "discount_tax", "shipping_total", "shipping_tax", "cart_tax")
    for key in (*amounts, "total", "total_tax"):
        assert ours[key] == real[key], key
    line_keys = ("name", "sku", "subtotal", "subtotal_tax", "total", "total_tax", "taxes", "price")
    for mine, theirs in zip(ours["line_items"], real["line_items"], strict=True):
        assert {k: mine[k] for k in line_keys} == {k: theirs[k] for k in line_keys}
    assert [_without(t, "id") for t in ours["tax_lines"]] == [
        _without(t, "id") for t in real["tax_lines"]
    ]
    for part, keys in (
        ("shipping_lines", ("total", "total_tax", "taxes")),
        ("fee_lines", ("total", "total_tax", "taxes")),
        ("coupon_lines", ("code", "discount", "discount_tax")),
    ):
        assert [{k: x[k] for k in keys} for x in ours[part]] == [
            {k: x[k] for k in keys} for x in real[part]
        ], part


def _without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def _as_sandbox_order(real: dict, monkeypatch) -> tuple[Order, Catalog]:
    """The real order as the sandbox keeps one, with its products in a catalog of its own."""
    products, lines = [], []
    for i, item in enumerate(real["line_items"]):
        unit = int(_d(item["subtotal"]) * 100) // item["quantity"]
        if item["variation_id"]:
            option = item["name"].rpartition(" - ")[2]
            products += [
                Product(item["product_id"], item["parent_name"], "variable", "", 0),
                Product(
                    item["variation_id"],
                    option,
                    "variation",
                    item["sku"],
                    unit,
                    parent_id=item["product_id"],
                    attributes=(("Size", option),),
                ),
            ]
        elif item["product_id"]:
            products.append(Product(item["product_id"], item["name"], "simple", item["sku"], unit))
        product_id = item["variation_id"] or item["product_id"]
        lines.append(Line(i + 1, product_id, item["quantity"], item["name"], unit))
    shipping = real["shipping_lines"][0] if real["shipping_lines"] else None
    if shipping:  # a zone's flat rate: 12.50 abroad
        cost = int(_d(shipping["total"]) * 100)
        monkeypatch.setitem(SHIPPING_METHODS, "flat_rate", (shipping["method_title"], cost))
    fee = real["fee_lines"][0] if real["fee_lines"] else None
    coupon = real["coupon_lines"][0] if real["coupon_lines"] else None
    country = real["billing"]["country"]
    order = Order(
        id=real["id"],
        slot=0,
        status=real["status"],
        created=0,
        modified=0,
        paid=None,
        completed=None,
        customer_id=real["customer_id"],
        contact=Contact(*[""] * 8, country, "", ""),
        lines=tuple(lines),
        shipping="flat_rate" if shipping else None,
        fee=Fee(fee["name"], int(_d(fee["total"]) * 100), fee["amount"]) if fee else None,
        coupon=_coupon(coupon) if coupon else None,
        prices_include_tax=real["prices_include_tax"],
        payment_method="",
        created_via="rest-api",
        customer_note="",
        order_key="",
        gift_message="",
        refunds=(),
        stock_reduced=False,
        version="10.0.2",
        currency=real["currency"],
        tax_rate=REAL[country],
        at_subtotal=real["id"] in ROUNDED_AT_SUBTOTAL,
    )
    return order, Catalog(products)


def _coupon(line: dict) -> Coupon:
    percent = line["discount_type"] == "percent"
    amount = line["nominal_amount"] if percent else line["nominal_amount"] * 100
    return Coupon(0, line["code"], line["discount_type"], amount)


# A generated store with every option on


@pytest.fixture(scope="module")
def real_store():
    options = ("--until", UNTIL, "--real-shapes", "--round-tax-at-subtotal")
    with SandboxProcess(orders=300, timezone="Europe/Berlin", extra_args=options) as store:
        yield store


@pytest.fixture(scope="module")
def generated(real_store: SandboxProcess) -> list[dict]:
    return every_order(real_store)


@pytest.fixture
def store(real_store: SandboxProcess) -> SandboxProcess:
    real_store.reset()
    return real_store


def test_orders_add_up_to_their_tax_lines_and_total(generated: list[dict]) -> None:
    """What a connector can rely on: the total is the lines, shipping, fees and tax lines.

    Except where WooCommerce itself does not promise it: with prices entered with tax and
    tax rounded at subtotal, it keeps each line's net total unrounded (10.00 with 19 % in
    it is 8.403361), so the lines' shown totals may miss the total by a cent.
    """
    missed = []
    for order in generated:
        lines = order["line_items"]
        taxes = order["tax_lines"]
        parts = (
            sum(_d(line["total"]) for line in lines)
            + sum(_d(x["total"]) for x in order["shipping_lines"] + order["fee_lines"])
            + sum(_d(t["tax_total"]) + _d(t["shipping_tax_total"]) for t in taxes)
        )
        if _d(order["total"]) != parts:
            assert order["prices_include_tax"], order["id"]
            missed.append(order["id"])
        assert _d(order["cart_tax"]) == sum(_d(t["tax_total"]) for t in taxes)
        assert _d(order["shipping_tax"]) == sum(_d(t["shipping_tax_total"]) for t in taxes)
        assert _d(order["total_tax"]) == _d(order["cart_tax"]) + _d(order["shipping_tax"])
        for line in lines + order["fee_lines"] + order["shipping_lines"]:
            assert sum(_d(t["total"]) for t in line["taxes"]) == _d(line["total_tax"])
    assert missed == [86, 187, 295]


def test_the_total_is_the_rounded_sum_of_what_the_store_keeps(real_store: SandboxProcess) -> None:
    """``dp=6`` shows amounts as stored: the total rounds their sum, each tax line sums
    its items' unrounded taxes, and only rounding it shows makes it differ from the lines."""
    exact = {o["id"]: o for o in every_order(real_store, "&dp=6")}
    differing = 0
    for order in every_order(real_store):
        stored = exact[order["id"]]
        lines = stored["line_items"] + stored["fee_lines"]
        parts = sum(_d(line["total"]) for line in lines + stored["shipping_lines"]) + sum(
            _d(t["tax_total"]) + _d(t["shipping_tax_total"]) for t in stored["tax_lines"]
        )
        assert order["total"] == str(_cents(parts)), order["id"]
        for tax_line, shown in zip(stored["tax_lines"], order["tax_lines"], strict=True):
            items = [t for line in lines for t in line["taxes"] if t["id"] == tax_line["rate_id"]]
            if order["id"] < FIRST_GENERATED:  # the captured store rounded per line
                items = [{"total": _cents(_d(t["total"]))} for t in items]
            assert _d(tax_line["tax_total"]) == sum(_d(t["total"]) for t in items)
            assert shown["tax_total"] == str(_cents(_d(tax_line["tax_total"])))
            shown_lines = order["line_items"] + order["fee_lines"]
            differing += sum(_d(line["total_tax"]) for line in shown_lines) != _d(
                shown["tax_total"]
            )
    assert differing == 9


def test_rounding_per_line_makes_line_taxes_add_up_to_the_tax_lines() -> None:
    options = ("--until", UNTIL, "--real-shapes")
    with SandboxProcess(orders=300, timezone="UTC", extra_args=options) as store:
        orders = every_order(store)
    for order in orders:
        lines = order["line_items"] + order["fee_lines"]
        for tax_line in order["tax_lines"]:
            assert _d(tax_line["tax_total"]) == sum(_d(line["total_tax"]) for line in lines)
        parts = sum(_d(x["total"]) for x in lines + order["shipping_lines"]) + sum(
            _d(t["tax_total"]) + _d(t["shipping_tax_total"]) for t in order["tax_lines"]
        )
        assert _d(order["total"]) == parts, order["id"]
        for line in lines + order["shipping_lines"]:
            assert sum(_d(t["total"]) for t in line["taxes"]) == _d(line["total_tax"])
    assert sum(o["prices_include_tax"] for o in orders) == 62


def test_coupon_tax_keeps_its_decimals_and_the_order_rounds_it(generated: list[dict]) -> None:
    coupons = [(o, c) for o in generated for c in o["coupon_lines"]]
    long = [(o, c) for o, c in coupons if len(c["discount_tax"].partition(".")[2]) > 2]
    assert (len(coupons), len(long)) == (36, 5)
    for order, coupon in long:
        assert order["discount_tax"] == str(_cents(_d(coupon["discount_tax"])))


def test_every_real_shape_appears(generated: list[dict]) -> None:
    lines = [line for o in generated for line in o["line_items"]]
    without_product = [line for line in lines if line["product_id"] == 0]
    assert all(
        (line["variation_id"], line["sku"], line["image"], line["parent_name"])
        == (0, None, {"id": 0, "src": ""}, None)
        for line in without_product
    )
    assert Counter(line["name"] for line in without_product) == {
        "Discontinued Sampler Box": 3,
        "Holiday Mug 2025": 2,
        "Tasting Set (old packaging)": 1,
        "Custom engraving (no product)": 2,
        "Hand gift wrapping": 2,
    }
    no_email = [o for o in generated if o["billing"]["email"] == ""]
    assert len(no_email) == 4 and {o["customer_id"] for o in no_email} == {0}
    euro = [o for o in generated if o["currency"] == "EUR"]
    assert len(euro) == 57
    assert {o["currency_symbol"] for o in euro} == {"€"}
    assert {o["billing"]["country"] for o in euro} == {"DE", "NL", "FR", "ES", "GR"}
    captured, later = generated[:30], generated[30:]
    rates = {
        (t["rate_id"], t["rate_code"], t["rate_percent"]) for o in later for t in o["tax_lines"]
    }
    assert rates == {
        (1, "US-US TAX-1", 10),
        (2, "DE-MWST-1", 19),
        (3, "GB-VAT-1", 20),
        (4, "NL-BTW-1", 21),
    }
    old_rates = {(t["rate_code"], t["rate_percent"]) for o in captured for t in o["tax_lines"]}
    assert old_rates == {("US-US SALES TAX-1", 8.5)}
    assert {o["prices_include_tax"] for o in euro} == {True, False}


# Dates in the store's timezone


def test_dates_are_the_stores_across_midnight_and_the_change_of_clocks(store) -> None:
    made = {
        "2026-10-24T22:30:00Z": "2026-10-25T00:30:00",  # summer time: UTC+2
        "2026-10-25T00:30:00Z": "2026-10-25T02:30:00",  # the last half hour of it
        "2026-10-25T01:30:00Z": "2026-10-25T02:30:00",  # winter time: the same clock
        "2026-03-29T00:30:00Z": "2026-03-29T01:30:00",
        "2026-03-29T01:30:00Z": "2026-03-29T03:30:00",  # 02:00 to 03:00 never happens
    }
    for moment, local in made.items():
        order = store.create_order(status="processing", date_created=moment)
        assert (order["date_created"], order["date_created_gmt"]) == (local, moment[:-1])


def test_generated_orders_fall_after_the_stores_midnight(generated: list[dict]) -> None:
    next_day = [o for o in generated if o["date_created"][:10] != o["date_created_gmt"][:10]]
    assert len(next_day) == 52
    # Both nights the clocks change, an order is made just after midnight.
    changing = [(o["date_created"][:13], o["date_created_gmt"][:13]) for o in next_day]
    assert ("2026-03-29T00", "2026-03-28T23") in changing
    assert ("2026-10-25T00", "2026-10-24T22") in changing


def test_after_without_dates_are_gmt_is_a_day_of_the_store(store) -> None:
    late = store.create_order(status="processing", date_created="2026-12-01T22:30:00Z")
    early = store.create_order(status="processing", date_created="2026-12-01T23:30:00Z")
    assert (late["date_created"], early["date_created"]) == (
        "2026-12-01T23:30:00",
        "2026-12-02T00:30:00",
    )

    def ids(query: str) -> list[int]:
        return [o["id"] for o in get(store, f"/orders?_fields=id&{query}").json()]

    assert ids("after=2026-12-02T00:00:00") == [early["id"]]
    assert ids("after=2026-12-01T00:00:00&before=2026-12-02T00:00:00") == [late["id"]]
    assert ids("after=2026-12-02T00:00:00%2B01:00") == [early["id"]]
    assert ids("after=2026-12-02T00:00:00Z") == []
    assert ids("after=2026-12-01T23:00:00&dates_are_gmt=true") == [early["id"]]


def test_the_index_names_the_stores_timezone(store) -> None:
    index = requests.get(f"{store.base_url}/wp-json/", timeout=10).json()
    offset = datetime.now(ZoneInfo("Europe/Berlin")).utcoffset().total_seconds() // 3600
    assert (index["timezone_string"], index["gmt_offset"]) == ("Europe/Berlin", offset)


# An export served as exported


@pytest.fixture(scope="module")
def exported() -> list[dict]:
    return [json.loads(REAL_ORDERS[i].read_text(encoding="utf-8")) for i in sorted(REAL_ORDERS)]


@pytest.fixture(scope="module")
def replayed(exported: list[dict], tmp_path_factory):
    export = tmp_path_factory.mktemp("export") / "orders.json"
    export.write_text(json.dumps(exported), encoding="utf-8")
    with SandboxProcess(orders_file=export) as store:
        yield store


def _newest_first(orders: list[dict]) -> list[dict]:
    return sorted(orders, key=lambda o: o["date_created_gmt"], reverse=True)


def test_an_export_is_served_as_exported(replayed, exported: list[dict]) -> None:
    listed = get(replayed, "/orders").json()

    assert json.dumps(listed) == json.dumps(_newest_first(exported))
    assert get(replayed, "/orders/43").json() == next(o for o in exported if o["id"] == 43)
    assert get(replayed, "/orders/44").status_code == 404
    assert requests.get(f"{replayed.api_url}/orders", timeout=10).status_code == 401


def test_an_export_pages_like_a_store(replayed, exported: list[dict]) -> None:
    pages = [get(replayed, f"/orders?per_page=2&page={page}") for page in (1, 2, 3, 4)]

    newest = [o["id"] for o in _newest_first(exported)]
    assert [[o["id"] for o in p.json()] for p in pages] == [newest[:2], newest[2:4], newest[4:], []]
    assert [(p.headers["X-WP-Total"], p.headers["X-WP-TotalPages"]) for p in pages] == [
        ("6", "3"),
        ("6", "3"),
        ("6", "3"),
        ("0", "0"),
    ]
    assert ['rel="next"' in p.headers["Link"] for p in pages] == [True, True, False, False]
    assert ['rel="prev"' in p.headers["Link"] for p in pages] == [False, True, True, True]


def test_an_export_filters_like_a_store(replayed) -> None:
    def ids(query: str) -> list[int]:
        return [o["id"] for o in get(replayed, f"/orders?{query}").json()]

    assert ids("status=processing") == [357, 185, 43]
    # The store is in Berlin, as its orders' dates say: 4 October begins at 22:00 UTC.
    assert ids("after=2026-10-04T00:00:00&order=asc") == [38, 43, 162, 175, 185, 357]
    assert ids("after=2026-10-05T00:00:00&order=asc") == [43, 162, 175, 185, 357]
    assert ids("modified_after=2026-11-30T21:00:00&dates_are_gmt=true&orderby=id") == [
        185,
        175,
        162,
        43,
        38,
    ]
    assert ids("include=185,38&orderby=include&order=asc") == [185, 38]
    light = get(replayed, "/orders?include=175&_fields=id,customer_id,billing.email").json()
    assert light == [{"id": 175, "customer_id": 0, "billing": {"email": ""}}]
    index = requests.get(f"{replayed.base_url}/wp-json/", timeout=10).json()
    assert index["timezone_string"] == "Europe/Berlin"


def test_a_store_is_in_utc_unless_told_otherwise() -> None:
    from sandbox.store import Store

    assert Store(seed=1, orders=5).zone == ZoneInfo("UTC")
    assert Store(seed=1, orders=5, zone=ZoneInfo("Europe/Berlin")).zone.key == "Europe/Berlin"
