"""Webstore Orders, the staging view: every store order the connector meets (in a run, a
webhook delivery, an audit) is recorded as it last met it."""

import base64
import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Customer, Trigger
from portal.models.health import SeenVia, StoreOrder, StoreOrderState
from portal.sync.audit import audit_webstore
from tests.sync_helpers import run_import, sales_order_for, work_queued_jobs

SECRET = "whsec-staging"


def recorded(order_id: int | None = None):
    db.session.expire_all()
    rows = {o.woo_order_id: o for o in db.session.scalars(sa.select(StoreOrder))}
    return rows[order_id] if order_id is not None else rows


def deliver(client, order: dict, topic: str = "order.created"):
    """The store's webhook delivery of ``order``, signed with DEMO's secret."""
    body = json.dumps(order).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": signature.decode(),
        "X-WC-Webhook-Delivery-ID": "d" * 32,
    }
    return client.post("/webhooks/woocommerce/DEMO", data=body, headers=headers)


@pytest.fixture
def imported_store(demo_webstore):
    """DEMO with every order of its store imported (60, any status)."""
    run_import(demo_webstore)
    return demo_webstore


def failing_order(webstore, store) -> dict:
    """A new customer's order, which fails while 'Create missing customers' is off."""
    webstore.auto_create_customers = False
    db.session.commit()
    return store.create_order(customer_id=0, status="processing", email="new@example.com")


# What runs record


def test_a_run_records_each_order_it_met_as_imported_or_failed(imported_store, store):
    bad = failing_order(imported_store, store)
    known = db.session.scalar(sa.select(Customer.email).where(Customer.email != "").limit(1))
    good = store.create_order(customer_id=0, status="processing", email=known)

    run = run_import(imported_store)

    assert (run.imported, run.skipped, run.failed) == (1, 60, 1)
    rows = recorded()
    assert len(rows) == 62
    assert {o.state for i, o in rows.items() if i not in (good["id"], bad["id"])} == {
        StoreOrderState.IMPORTED
    }
    new = rows[good["id"]]
    assert (new.state, new.reason, new.seen_via) == (StoreOrderState.IMPORTED, "", SeenVia.LISTING)
    assert new.sales_order_id == sales_order_for(imported_store, good["id"]).id
    assert (new.number, new.status, new.order_date.isoformat()) == (
        good["number"],
        "processing",
        good["date_created"][:10],
    )
    assert new.modified_at.isoformat().startswith(good["date_modified_gmt"])
    failed = rows[bad["id"]]
    assert failed.state == StoreOrderState.FAILED
    assert failed.sales_order_id is None
    assert "'Create missing customers' is off in the setup of DEMO" in failed.reason


def test_an_order_met_again_keeps_its_sales_order(imported_store):
    first = {i: (o.state, o.sales_order_id, o.last_seen_at) for i, o in recorded().items()}

    run_import(imported_store)  # every order skipped: imported already

    again = {i: (o.state, o.sales_order_id, o.last_seen_at) for i, o in recorded().items()}
    assert {i: row[:2] for i, row in again.items()} == {i: row[:2] for i, row in first.items()}
    assert {state for state, _, _ in again.values()} == {StoreOrderState.IMPORTED}
    assert all(sales_order_id for _, sales_order_id, _ in again.values())
    assert all(again[i][2] > first[i][2] for i in first)


def test_a_failed_order_imported_later_is_imported(imported_store, store):
    bad = failing_order(imported_store, store)
    run_import(imported_store, order_id=bad["id"])
    assert recorded(bad["id"]).state == StoreOrderState.FAILED

    imported_store.auto_create_customers = True
    db.session.commit()
    run_import(imported_store, order_id=bad["id"], trigger=Trigger.RETRY)

    now = recorded(bad["id"])
    assert (now.state, now.reason) == (StoreOrderState.IMPORTED, "")
    assert now.sales_order_id == sales_order_for(imported_store, bad["id"]).id


def test_an_order_changed_in_the_store_is_recorded_as_changed(imported_store, store):
    order = store.create_order(status="processing")
    run_import(imported_store, order_id=order["id"])
    store.modify_order(order["id"], status="cancelled")

    run_import(imported_store, order_id=order["id"])

    changed = recorded(order["id"])
    assert (changed.state, changed.status) == (StoreOrderState.CHANGED, "cancelled")
    number = sales_order_for(imported_store, order["id"]).number
    assert changed.reason == f"Changed since imported as {number}: status processing → cancelled"


def test_a_missing_order_met_later_takes_its_real_state(imported_store, store):
    order = failing_order(imported_store, store)
    audit_webstore(imported_store)
    assert recorded(order["id"]).state == StoreOrderState.MISSING

    run_import(imported_store, order_id=order["id"])

    assert recorded(order["id"]).state == StoreOrderState.FAILED


# What webhooks record


def test_an_order_delivered_by_webhook_is_recorded_as_seen_through_it(
    imported_store, store, client
):
    imported_store.webhook_secret = SECRET
    db.session.commit()
    order = store.create_order(status="processing")

    assert deliver(client, order).status_code == 202
    work_queued_jobs()

    seen = recorded(order["id"])
    assert (seen.state, seen.seen_via) == (StoreOrderState.IMPORTED, SeenVia.WEBHOOK)
    assert seen.sales_order_id == sales_order_for(imported_store, order["id"]).id


def test_a_delivery_the_setup_leaves_out_is_recorded_as_skipped(imported_store, store, client):
    imported_store.webhook_secret = SECRET
    imported_store.default_status_filter = "processing"
    db.session.commit()
    order = store.create_order(status="on-hold")

    answer = deliver(client, order)

    assert answer.json["status"] == "ignored"
    seen = recorded(order["id"])
    assert (seen.state, seen.seen_via, seen.status, seen.number) == (
        StoreOrderState.SKIPPED,
        SeenVia.WEBHOOK,
        "on-hold",
        order["number"],
    )
    assert seen.reason == "status on-hold is not in the webstore's status filter (processing)."
    assert seen.order_date.isoformat() == order["date_created"][:10]
    assert seen.modified_at.isoformat().startswith(order["date_modified_gmt"])


def test_a_missing_order_the_store_then_cancels_is_skipped_by_its_webhook(
    imported_store, store, client
):
    imported_store.webhook_secret = SECRET
    imported_store.default_status_filter = "processing"
    db.session.commit()
    order = store.create_order(status="processing")
    audit_webstore(imported_store)
    assert recorded(order["id"]).state == StoreOrderState.MISSING

    deliver(client, store.modify_order(order["id"], status="cancelled"), "order.updated")

    seen = recorded(order["id"])
    assert (seen.state, seen.status) == (StoreOrderState.SKIPPED, "cancelled")
