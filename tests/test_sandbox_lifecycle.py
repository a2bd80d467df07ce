"""An order's life after import, as the sandbox store leads it: to the trash and back, deleted
for good, and changed in every way a shop manager or a connector changes it. Each change
bumps ``date_modified`` and is announced by the webhook WooCommerce sends.

Everything here goes over HTTP to a running store, as a connector would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.model import STATUSES
from sandbox.process import SandboxProcess
from tests.test_sandbox_store import (
    an_order_modified_long_ago,
    captured_body,
    delivered_before_a_new_order,
    get,
    read_only,
)

# The fixtures: a store of 60 orders, reset for each test, and a webhook receiver.
from tests.test_sandbox_store import receiver as receiver
from tests.test_sandbox_store import store as store

LONG_AGO = "2026-01-02T03:04:05"  # when an_order_modified_long_ago last changed the order


def listed(store: SandboxProcess, query: str = "") -> list[int]:
    return [o["id"] for o in get(store, f"/orders?per_page=100&{query}").json()]


def unix(gmt: str) -> int:
    return int(datetime.fromisoformat(gmt).replace(tzinfo=UTC).timestamp())


def trash_meta(order: dict) -> dict:
    """The meta WordPress's trash leaves on an order."""
    return {m["key"]: m["value"] for m in order["meta_data"] if m["key"].startswith("_wp_")}


def deliveries(store: SandboxProcess, received: list) -> list[tuple[str, dict]]:
    """Every webhook delivery so far as (topic, body): all that came before an order created
    now, whose own delivery comes after them."""
    return [
        (headers["X-WC-Webhook-Topic"], json.loads(body))
        for headers, body in delivered_before_a_new_order(store, received)
    ]


# The trash


def test_delete_moves_the_order_to_the_trash_and_answers_it_as_it_was(store) -> None:
    order = an_order_modified_long_ago(store)

    answer = get(store, f"/orders/{order['id']}", "DELETE")
    trashed = get(store, f"/orders/{order['id']}")

    assert (answer.status_code, answer.json()) == (200, order)
    assert trashed.status_code == 200
    assert trashed.json()["status"] == "trash"
    assert trashed.json()["date_modified_gmt"] > LONG_AGO
    assert trash_meta(trashed.json()) == {
        "_wp_trash_meta_status": "wc-processing",
        "_wp_trash_meta_time": str(unix(trashed.json()["date_modified_gmt"])),
    }


def test_a_trashed_order_is_listed_only_when_the_trash_is_asked_for(store) -> None:
    get(store, "/orders/30", "DELETE")

    assert 30 not in listed(store)
    assert 30 not in listed(store, "status=any")
    assert listed(store, "include=30,31") == [31]
    assert listed(store, "status=trash") == [30]
    assert listed(store, "status=trash,processing&include=30,24") == [30, 24]
    assert get(store, "/orders").headers["X-WP-Total"] == "59"


def test_a_trashed_order_cannot_be_trashed_again(store) -> None:
    get(store, "/orders/30", "DELETE")

    again = get(store, "/orders/30", "DELETE")

    assert again.status_code == 410
    assert again.json() == {
        "code": "woocommerce_rest_already_trashed",
        "message": "The shop_order has already been deleted.",
        "data": {"status": 410},
    }


def test_a_status_put_takes_an_order_out_of_the_trash(store) -> None:
    order = an_order_modified_long_ago(store, "on-hold")
    get(store, f"/orders/{order['id']}", "DELETE")

    answer = get(store, f"/orders/{order['id']}", "PUT", {"status": "processing"}).json()

    assert answer["status"] == "processing"
    assert answer["date_modified_gmt"] > LONG_AGO
    assert order["id"] in listed(store, "status=processing")
    note = get(store, f"/orders/{order['id']}/notes").json()[0]
    assert note["note"] == "Order status changed from trash to Processing."


def test_the_control_api_trashes_as_delete_does_at_the_time_it_is_given(store) -> None:
    trashed = store.trash_order(30, date_modified="2026-11-20T10:00:00Z")

    assert trashed == get(store, "/orders/30").json()
    assert (trashed["status"], trashed["date_modified_gmt"]) == ("trash", "2026-11-20T10:00:00")
    assert trash_meta(trashed)["_wp_trash_meta_time"] == str(unix("2026-11-20T10:00:00"))
    assert listed(store, "status=trash") == [30]
    with pytest.raises(RuntimeError, match="410"):
        store.trash_order(30)


# Deleted for good


def test_a_forced_delete_answers_the_order_and_forgets_it(store) -> None:
    order = get(store, "/orders/30").json()

    answer = get(store, "/orders/30?force=true", "DELETE")

    assert (answer.status_code, answer.json()) == (200, order)
    gone = get(store, "/orders/30")
    assert (gone.status_code, gone.json()) == (404, captured_body("order_404"))
    assert get(store, "/orders/30/notes").status_code == 404
    assert get(store, "/orders/30/refunds").json() == []
    assert 30 not in listed(store, "status=trash,any") + listed(store, "status=trash")
    assert get(store, "/orders").headers["X-WP-Total"] == "59"


def test_an_order_in_the_trash_can_be_deleted_for_good(store) -> None:
    get(store, "/orders/30", "DELETE")

    answer = get(store, "/orders/30?force=true", "DELETE")

    assert answer.json()["status"] == "trash"
    assert get(store, "/orders/30").status_code == 404
    assert listed(store, "status=trash") == []


def test_deleting_an_order_the_store_does_not_have_is_a_404(store) -> None:
    for path in ("/orders/999999", "/orders/999999?force=true"):
        answer = get(store, path, "DELETE")
        assert (answer.status_code, answer.json()) == (404, captured_body("order_404"))


def test_the_control_api_deletes_for_good(store) -> None:
    order = get(store, "/orders/30").json()

    assert store.delete_order(30) == order
    assert get(store, "/orders/30").status_code == 404
    with pytest.raises(RuntimeError, match="404"):
        store.delete_order(30)


def test_a_batch_deletes_for_good_each_answered_in_its_place(store) -> None:
    order = get(store, "/orders/30").json()

    answer = get(store, "/orders/batch", "POST", {"delete": [30, 999999]}).json()

    deleted, unknown = answer["delete"]
    assert deleted == order
    assert unknown == {"id": 999999, "error": captured_body("order_404")}
    assert get(store, "/orders/30").status_code == 404


def test_the_read_only_key_may_not_delete(store) -> None:
    refused = get(store, "/orders/30", "DELETE", signer=read_only(store))

    assert (refused.status_code, refused.json()) == (
        401,
        captured_body("order_update_read_only_401"),
    )
    assert get(store, "/orders/30").json()["status"] != "trash"


def test_trashing_sends_order_deleted_with_the_id_alone_and_deleting_sends_nothing(
    store, receiver
) -> None:
    url, received = receiver
    store.set_webhook(url, "whsec-test")

    get(store, "/orders/30", "DELETE")
    get(store, "/orders/30?force=true", "DELETE")
    get(store, "/orders/31?force=true", "DELETE")
    store.trash_order(32)
    store.delete_order(33)

    assert deliveries(store, received) == [
        ("order.deleted", {"id": 30}),
        ("order.deleted", {"id": 32}),
    ]


def test_a_put_out_of_the_trash_sends_no_webhook_on_hpos(store, receiver) -> None:
    url, received = receiver
    get(store, "/orders/30", "DELETE")
    store.set_webhook(url, "whsec-test")

    get(store, "/orders/30", "PUT", {"status": "processing"})
    get(store, "/orders/30", "PUT", {"customer_note": "Back again"})

    assert [topic for topic, _ in deliveries(store, received)] == ["order.updated"]


def test_the_admins_restore_brings_back_the_status_and_sends_order_restored(
    store, receiver
) -> None:
    url, received = receiver
    order = an_order_modified_long_ago(store, "on-hold")
    store.trash_order(order["id"], date_modified="2026-11-20T10:00:00Z")
    store.set_webhook(url, "whsec-test")

    restored = store.restore_order(order["id"])

    assert restored["status"] == "on-hold"
    assert restored["date_modified_gmt"] > "2026-11-20T10:00:00"
    assert trash_meta(restored) == {}
    assert order["id"] in listed(store)
    note = get(store, f"/orders/{order['id']}/notes").json()[0]["note"]
    assert note == "Order status changed from trash to On hold."
    assert deliveries(store, received) == [("order.restored", restored)]
    with pytest.raises(RuntimeError, match="not in the trash"):
        store.restore_order(order["id"])


# Changes after import


def test_every_change_of_status_bumps_date_modified_and_sends_order_updated(
    store, receiver
) -> None:
    url, received = receiver
    moves = [(old, new) for old in STATUSES for new in STATUSES if old != new]
    orders = {move: an_order_modified_long_ago(store, move[0]) for move in moves}
    store.set_webhook(url, "whsec-test")

    answers = {
        move: get(store, f"/orders/{order['id']}", "PUT", {"status": move[1]}).json()
        for move, order in orders.items()
    }

    assert {move: answer["status"] for move, answer in answers.items()} == {
        move: move[1] for move in moves
    }
    assert all(answer["date_modified_gmt"] > LONG_AGO for answer in answers.values())
    for (old, new), answer in answers.items():
        notes = get(store, f"/orders/{answer['id']}/notes").json()
        written = [n["note"] for n in notes if n["date_created_gmt"] == answer["date_modified_gmt"]]
        assert written[-1] == f"Order status changed from {STATUSES[old]} to {STATUSES[new]}."
    updates = deliveries(store, received)
    assert [(topic, body["id"]) for topic, body in updates] == [
        ("order.updated", answer["id"]) for answer in answers.values()
    ]


def test_setting_an_order_refunded_refunds_what_is_left(store) -> None:
    order = an_order_modified_long_ago(store, "completed")
    store.refund_order(order["id"], amount="1.00")

    answer = get(store, f"/orders/{order['id']}", "PUT", {"status": "refunded"}).json()

    refunds = get(store, f"/orders/{order['id']}/refunds").json()
    assert [(r["amount"], r["reason"]) for r in refunds] == [
        (f"{Decimal(order['total']) - 1:.2f}", "Order fully refunded."),
        ("1.00", ""),
    ]
    assert [r["total"] for r in answer["refunds"]] == [f"-{r['amount']}" for r in refunds]
    notes = [n["note"] for n in get(store, f"/orders/{order['id']}/notes").json()[:2]]
    assert notes == [
        "Order status set to refunded. To return funds to the customer you will need to "
        "issue a refund through your payment gateway.",
        "Order status changed from Completed to Refunded.",
    ]


def test_a_quantity_put_keeps_the_lines_amounts_as_the_rest_api_does(store) -> None:
    order = store.create_order(
        status="processing", lines=[{"product_id": 11, "quantity": 1}], date_modified=LONG_AGO
    )
    line = order["line_items"][0]

    answer = get(
        store,
        f"/orders/{order['id']}",
        "PUT",
        {"line_items": [{"id": line["id"], "quantity": 3}]},
    ).json()

    edited = answer["line_items"][0]
    assert edited["quantity"] == 3
    assert (edited["subtotal"], edited["total"], edited["total_tax"]) == (
        line["subtotal"],
        line["total"],
        line["total_tax"],
    )
    assert edited["price"] == float(Decimal(line["total"]) / 3)
    assert answer["total"] == order["total"]
    assert answer["date_modified_gmt"] > LONG_AGO


def test_a_quantity_put_with_amounts_takes_them_and_works_out_the_tax(store) -> None:
    body = {"line_items": [{"product_id": 11}], "billing": {"country": "DE"}}  # 12.50, 19 %
    order = get(store, "/orders", "POST", body).json()
    line = order["line_items"][0]
    body = {"line_items": [{"id": line["id"], "quantity": 2, "subtotal": "25", "total": "20"}]}

    answer = get(store, f"/orders/{order['id']}", "PUT", body).json()

    edited = answer["line_items"][0]
    assert (edited["quantity"], edited["subtotal"], edited["total"]) == (2, "25.00", "20.00")
    assert (edited["subtotal_tax"], edited["total_tax"]) == ("4.75", "3.80")
    assert (answer["discount_total"], answer["total_tax"], answer["total"]) == (
        "5.00",
        "3.80",
        "23.80",
    )


def test_a_shipping_address_put_leaves_the_billing_address_as_it_was(store) -> None:
    order = an_order_modified_long_ago(store)
    body = {"shipping": {"address_1": "3 Depot Lane", "city": "Hull", "phone": "555-0100"}}

    answer = get(store, f"/orders/{order['id']}", "PUT", body).json()

    assert answer["shipping"] == order["shipping"] | body["shipping"]
    assert answer["billing"] == order["billing"]


CONTROL_CHANGES = {
    "status": lambda order: {"status": "cancelled"},
    "quantities": lambda order: {"quantities": {order["line_items"][0]["id"]: 4}},
    "replace_products": lambda order: {"replace_products": {order["line_items"][0]["id"]: 12}},
    "add_lines": lambda order: {"add_lines": [{"product_id": 13, "quantity": 1}]},
    "address": lambda order: {"address": {"address_1": "1 New Street", "city": "Leeds"}},
    "customer_note": lambda order: {"customer_note": "Leave it with the neighbours"},
    "refund": lambda order: {"refund": {"amount": "2.00", "reason": "Late"}},
}


@pytest.mark.parametrize("kind", CONTROL_CHANGES)
def test_every_change_through_the_control_api_is_an_update(store, receiver, kind) -> None:
    url, received = receiver
    order = an_order_modified_long_ago(store)
    store.set_webhook(url, "whsec-test")

    changed = store.modify_order(order["id"], **CONTROL_CHANGES[kind](order))

    assert changed != order
    assert changed["date_modified_gmt"] > LONG_AGO
    assert deliveries(store, received) == [("order.updated", changed)]


REST_CHANGES = {
    "status": ("PUT", "", {"status": "on-hold"}),
    "quantity": ("PUT", "", {"line_items": [{"id": "line", "quantity": 5}]}),
    "added line": ("PUT", "", {"line_items": [{"product_id": 12, "quantity": 1}]}),
    "billing": ("PUT", "", {"billing": {"address_1": "2 Other Road"}}),
    "shipping": ("PUT", "", {"shipping": {"address_1": "3 Depot Lane", "city": "Hull"}}),
    "customer_note": ("PUT", "", {"customer_note": "Ring twice"}),
    "refund": ("POST", "/refunds", {"amount": "3.00", "api_refund": False}),
}


@pytest.mark.parametrize("kind", REST_CHANGES)
def test_every_change_through_the_rest_api_is_an_update(store, receiver, kind) -> None:
    url, received = receiver
    order = an_order_modified_long_ago(store)
    method, path, body = REST_CHANGES[kind]
    for item in body.get("line_items", []):
        if item.get("id") == "line":
            item["id"] = order["line_items"][0]["id"]
    store.set_webhook(url, "whsec-test")

    answer = get(store, f"/orders/{order['id']}{path}", method, body)

    changed = get(store, f"/orders/{order['id']}").json()
    assert answer.status_code in (200, 201)
    assert changed["date_modified_gmt"] > LONG_AGO
    assert deliveries(store, received) == [("order.updated", changed)]
