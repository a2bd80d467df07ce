"""The sandbox's refunds: generated of every kind, made through the REST API and the control
API as WooCommerce makes them, in the shapes and signs of the real store's
(``order_refunds_*`` captures)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

from sandbox import render
from sandbox.generate import Options
from sandbox.money import compute
from sandbox.php import format_decimal
from sandbox.process import SandboxProcess
from sandbox.store import OrderQuery, Store

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"
UNTIL = 1795719924  # 2026-11-26T19:05:24Z
SITE = "http://127.0.0.1:8081"
# In the 60-order store at UNTIL, the tests' own: order 31 is on hold, paid with Stripe,
# taxed at 8.5 %, with flat rate shipping (item 137) and a fee (138); item 129 is its line
# of three units (96.84 and 8.23 tax: 32.28 and 2.74 a unit), its stock taken.
TAXED, TAXED_LINE = 31, 129
ZONE = ZoneInfo("America/New_York")


def sixty() -> Store:
    """The store the running sandbox below holds, in process; its clock a minute later."""
    return Store(seed=1, orders=60, until=UNTIL, zone=ZONE, clock=lambda: UNTIL + 60)


def captured_refund(name: str) -> dict:
    return json.loads((CAPTURES / name).read_text())["body"][0]


@pytest.fixture(scope="module")
def generated() -> Store:
    return Store(seed=7, orders=1500, until=UNTIL, options=Options(real_shapes=True))


def refunds_of(store: Store, order_id: int) -> list[dict]:
    order = store.order(order_id)
    return [render.refund(order, r, store.catalog, SITE) for r in reversed(order.refunds)]


def kind(order: dict, refund: dict) -> tuple:
    lines = refund["line_items"]
    return (
        "full" if order["status"] == "refunded" else "partial",
        "lines" if lines else "amount",
        "restocked" if any(restocked(order, line) for line in lines) else "",
        "shipping" if refund["shipping_lines"] else "",
        "tax" if refund["tax_lines"] else "",
    )


def restocked(order: dict, refund_line: dict) -> bool:
    item_id = int(refund_line["meta_data"][0]["value"])
    line = next(line for line in order["line_items"] if line["id"] == item_id)
    return any(meta["key"] == "_restock_refunded_items" for meta in line["meta_data"])


def refunded_orders(store: Store):
    for order in store.orders(OrderQuery(orderby="id", descending=False)):
        if order.refunds:
            yield render.order(order, store.catalog, SITE), refunds_of(store, order.id)


# Generated refunds


def test_a_generated_store_has_refunds_of_every_kind(generated: Store) -> None:
    kinds = Counter(kind(o, r) for o, refunds in refunded_orders(generated) for r in refunds)

    assert {(full, by) for full, by, *_ in kinds} == {
        ("full", "amount"),
        ("full", "lines"),
        ("partial", "amount"),
        ("partial", "lines"),
    }
    lines = {tuple(rest) for (_, by, *rest) in kinds if by == "lines"}
    assert {restock for restock, _, _ in lines} == {"restocked", ""}
    assert {shipping for _, shipping, _ in lines} == {"shipping", ""}
    assert {tax for _, _, tax in lines} == {"tax", ""}


def test_the_first_refunds_of_a_small_store_take_each_kind_in_turn() -> None:
    store = sixty()

    kinds = [kind(o, r) for o, refunds in refunded_orders(store) for r in refunds]

    # 32 and 44 as the captured store's, by amount; then the first full refund by lines,
    # restocked (order 58, untaxed).
    assert kinds == [
        ("full", "amount", "", "", ""),
        ("partial", "amount", "", "", ""),
        ("full", "lines", "restocked", "shipping", ""),
    ]


def test_generated_refunds_agree_with_the_orders_summary_and_status(generated: Store) -> None:
    for order, refunds in refunded_orders(generated):
        summary = [(r["id"], r["reason"], "-" + r["amount"]) for r in refunds]
        assert [(r["id"], r["reason"], r["total"]) for r in order["refunds"]] == summary
        refunded = sum(to_cents(r["amount"]) for r in refunds)
        assert (order["status"] == "refunded") == (refunded == to_cents(order["total"]))
        for refund in refunds:
            if refund["line_items"] or refund["shipping_lines"] or refund["fee_lines"]:
                assert lines_amount(refund) == -to_cents(refund["amount"]), order["id"]


def test_generated_refunds_leave_the_orders_as_they_were_drawn() -> None:
    """The kinds are drawn apart: the orders' totals and dates are those drawn before."""
    store = sixty()

    order = store.order(44)

    assert compute(order, store.catalog).total_cents == 2400
    assert [r.amount for r in order.refunds] == [600]


def to_cents(amount: str) -> int:
    return round(float(amount) * 100)


def lines_amount(refund: dict) -> int:
    items = refund["line_items"] + refund["shipping_lines"] + refund["fee_lines"]
    return sum(to_cents(i["total"]) + to_cents(i["total_tax"]) for i in items)


# Shapes and signs of the real store's


def test_a_line_refund_has_the_real_stores_keys_and_signs() -> None:
    store = sixty()
    store.refund_order(TAXED, None, "One torn", [{"id": TAXED_LINE, "quantity": 1}], fill=True)
    (refund,) = refunds_of(store, TAXED)
    real = captured_refund("order_refunds_line_item.json")

    assert list(refund) == list(real)
    (line,) = refund["line_items"]
    assert list(line) == list(real["line_items"][0])
    assert list(line["meta_data"][0]) == list(real["line_items"][0]["meta_data"][0])
    assert list(refund["tax_lines"][0]) == list(real["tax_lines"][0])
    assert (refund["amount"], line["quantity"], line["total"], line["total_tax"]) == (
        "35.02",
        -1,
        "-32.28",
        "-2.74",
    )
    assert (line["subtotal"], line["subtotal_tax"], line["price"]) == ("-32.28", "-2.74", 32.28)
    assert line["taxes"] == [{"id": 1, "total": "-2.74", "subtotal": "-2.74"}]
    assert line["meta_data"][0]["value"] == str(TAXED_LINE)
    assert (refund["tax_lines"][0]["tax_total"], refund["tax_lines"][0]["shipping_tax_total"]) == (
        "-2.74",
        "0.00",
    )


def test_a_refund_by_amount_has_no_lines_as_the_real_stores() -> None:
    store = sixty()
    (refund,) = refunds_of(store, 44)
    real = captured_refund("order_refunds_partial_amount.json")

    assert list(refund) == list(real)
    empty = ("line_items", "shipping_lines", "tax_lines", "fee_lines")
    assert [refund[key] for key in empty] == [real[key] for key in empty] == [[], [], [], []]


# Restocking


def line_meta(store: Store, order_id: int, item_id: int) -> dict:
    order = render.order(store.order(order_id), store.catalog, SITE)
    line = next(line for line in order["line_items"] if line["id"] == item_id)
    return {meta["key"]: meta["value"] for meta in line["meta_data"]}


def test_a_restock_shows_on_the_order_line_and_in_a_note() -> None:
    store = sixty()
    item = {"id": TAXED_LINE, "quantity": 2}

    store.refund_order(TAXED, None, "", [item], restock=True, fill=True)

    meta = line_meta(store, TAXED, TAXED_LINE)
    assert (meta["_reduced_stock"], meta["_restock_refunded_items"]) == ("1", "2")
    product = next(x.product_id for x in store.order(TAXED).lines if x.item_id == TAXED_LINE)
    notes = [n.text for n in store.notes(TAXED) if "stock increased" in n.text]
    assert notes == [f"Item #{product} stock increased from 90 to 92."]


def test_a_refund_without_restock_leaves_the_stock_as_it_was() -> None:
    store = sixty()

    store.refund_order(TAXED, None, "", [{"id": TAXED_LINE, "quantity": 2}], fill=True)

    meta = line_meta(store, TAXED, TAXED_LINE)
    assert (meta["_reduced_stock"], "_restock_refunded_items" in meta) == ("3", False)
    assert not [n for n in store.notes(TAXED) if "stock increased" in n.text]


def test_a_second_restock_of_a_line_counts_both() -> None:
    store = sixty()
    for _ in range(2):
        store.refund_order(
            TAXED, None, "", [{"id": TAXED_LINE, "quantity": 1}], restock=True, fill=True
        )

    meta = line_meta(store, TAXED, TAXED_LINE)

    assert (meta["_reduced_stock"], meta["_restock_refunded_items"]) == ("1", "2")
    notes = [n.text for n in store.notes(TAXED) if "stock increased" in n.text]
    assert [note[-len("90 to 91.") :] for note in notes] == ["90 to 91.", "91 to 92."]


# Over HTTP, as WooCommerce's REST API takes them


@pytest.fixture
def store(new_york_store: SandboxProcess) -> SandboxProcess:
    new_york_store.reset()
    return new_york_store


def call(store: SandboxProcess, path: str, method: str = "GET", body=None) -> requests.Response:
    signer = Client(
        store.consumer_key,
        client_secret=store.consumer_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_QUERY,
    )
    url, headers, _ = signer.sign(f"{store.api_url}{path}", http_method=method)
    return requests.request(method, url, json=body, headers=headers, timeout=10)


def test_a_refund_of_lines_through_the_api_adds_up_their_amounts(store: SandboxProcess) -> None:
    before = call(store, f"/orders/{TAXED}").json()
    body = {
        "reason": "Two torn",
        "api_restock": False,
        "api_refund": False,
        "line_items": [
            {
                "id": TAXED_LINE,
                "quantity": 2,
                "refund_total": "64.56",
                "refund_tax": [{"id": 1, "refund_total": "5.49"}],
            }
        ],
    }

    answer = call(store, f"/orders/{TAXED}/refunds", "POST", body)

    assert answer.status_code == 201
    refund = answer.json()
    assert (refund["amount"], refund["reason"], refund["refunded_payment"]) == (
        "70.05",
        "Two torn",
        False,
    )
    line = refund["line_items"][0]
    assert (line["quantity"], line["total"], line["total_tax"]) == (-2, "-64.56", "-5.49")
    after = call(store, f"/orders/{TAXED}").json()
    assert after["refunds"] == [{"id": refund["id"], "reason": "Two torn", "total": "-70.05"}]
    assert after["status"] == "on-hold"
    assert after["date_modified_gmt"] > before["date_modified_gmt"]
    assert after["line_items"] == before["line_items"]  # not restocked: as they were


def test_the_api_restocks_and_pays_back_unless_told_not_to(store: SandboxProcess) -> None:
    body = {"line_items": {str(TAXED_LINE): {"qty": 1, "refund_total": 32.28}}}

    refund = call(store, f"/orders/{TAXED}/refunds", "POST", body).json()

    assert (refund["amount"], refund["line_items"][0]["taxes"]) == ("32.28", [])
    assert refund["refunded_payment"] is True  # a Stripe order: the gateway pays back
    order = call(store, f"/orders/{TAXED}").json()
    line = next(line for line in order["line_items"] if line["id"] == TAXED_LINE)
    assert {m["key"]: m["value"] for m in line["meta_data"]}["_restock_refunded_items"] == "1"


def test_a_refund_beyond_what_is_left_is_refused_as_woocommerce_refuses_it(
    store: SandboxProcess,
) -> None:
    answer = call(store, "/orders/44/refunds", "POST", {"amount": "18.01"})  # 24.00 less 6.00

    assert answer.status_code == 500
    assert (answer.json()["code"], answer.json()["message"]) == (
        "woocommerce_rest_cannot_create_order_refund",
        "Invalid refund amount.",
    )
    assert len(call(store, "/orders/44/refunds").json()) == 1


def test_refunding_every_item_refunds_the_order(store: SandboxProcess) -> None:
    order = call(store, f"/orders/{TAXED}").json()
    items = order["line_items"] + order["shipping_lines"] + order["fee_lines"]
    everything = {item["id"]: item.get("quantity", 0) for item in items}

    refund = store.refund_order(TAXED, lines=everything, restock=True, reason="All back")

    assert refund["amount"] == order["total"] == "254.93"
    assert format_decimal(-lines_amount(refund)) == order["total"]
    assert [len(refund[k]) for k in ("line_items", "shipping_lines", "fee_lines")] == [2, 1, 1]
    after = call(store, f"/orders/{TAXED}").json()
    assert after["status"] == "refunded"
    # Written in one second: by id, as WooCommerce wrote them, the restocks first.
    products = [line["variation_id"] or line["product_id"] for line in order["line_items"]]
    assert [n["note"] for n in store.notes(TAXED)[:3]] == [
        f"Item #{products[0]} stock increased from 90 to 93.",
        f"Item #{products[1]} stock increased from 90 to 94.",
        "Order status changed from On hold to Refunded.",
    ]


def test_the_control_api_refunds_shipping_and_an_amount(store: SandboxProcess) -> None:
    order = call(store, "/orders/26").json()  # completed, taxed, flat rate shipping
    shipping = order["shipping_lines"][0]

    refund = store.refund_order(26, lines={shipping["id"]: 0})
    by_amount = store.refund_order(26, amount="2.50", reason="Goodwill")

    assert (shipping["total"], shipping["total_tax"]) == ("5.00", "0.43")
    assert refund["amount"] == "5.43"
    assert (refund["shipping_lines"][0]["total"], refund["shipping_lines"][0]["total_tax"]) == (
        "-5.00",
        "-0.43",
    )
    assert (refund["tax_lines"][0]["tax_total"], refund["tax_lines"][0]["shipping_tax_total"]) == (
        "0.00",
        "-0.43",
    )
    assert (by_amount["amount"], by_amount["line_items"], by_amount["tax_lines"]) == (
        "2.50",
        [],
        [],
    )


def test_modify_order_still_refunds_by_amount(store: SandboxProcess) -> None:
    store.modify_order(44, refund={"amount": "1.00", "reason": "Chipped"})

    refunds = call(store, "/orders/44/refunds").json()

    assert [(r["amount"], r["reason"], r["line_items"]) for r in refunds][0] == (
        "1.00",
        "Chipped",
        [],
    )
