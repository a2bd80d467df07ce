"""An imported order's change is seen whatever the webstore's status filter, on every path.

The filter decides which orders are imported; once imported, an order is read whatever its
status now: cancelled, on hold, refunded, failed or pending, in the trash, or deleted for
good, by automatic sync without any webhook, by a manual import, an Order ID import and a
webhook.
"""

import json

import pytest

from portal import db
from portal.models import Outcome, SalesOrderStatus, SyncRun, Trigger
from portal.orders.actions import ACTIONS, ActionRefused, perform, update_from_store
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters
from tests.sync_helpers import entries, run_import, sales_order_for, work_queued_jobs
from tests.test_webhooks import SECRET, deliver, sign

STATUSES = ("cancelled", "on-hold", "refunded", "failed", "pending")
PATHS = ("automatic", "manual", "order id", "webhook")


@pytest.fixture
def webstore(demo_webstore):
    """Paid orders only, as new webstores are set up; automatic sync on, no webhooks."""
    demo_webstore.default_status_filter = "processing,completed"
    demo_webstore.webhook_secret = SECRET
    demo_webstore.auto_sync = True
    db.session.commit()
    return demo_webstore


@pytest.fixture
def order(webstore, store):
    """A processing order, imported by the first automatic sync."""
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    automatic_sync(webstore)
    assert sales_order_for(webstore, created["id"]) is not None
    return created


def automatic_sync(webstore) -> SyncRun:
    return execute_run(create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id)


def webhook(client, webstore, order_id: int, topic: str, body: dict) -> SyncRun:
    payload = json.dumps(body).encode()
    answer = deliver(
        client,
        payload,
        {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Signature": sign(payload),
            "X-WC-Webhook-Delivery-ID": f"{order_id:032d}",
        },
        code=webstore.code,
    )
    assert answer.status_code == 202, answer.json
    work_queued_jobs()
    db.session.expire_all()
    return db.session.get(SyncRun, answer.json["run_id"])


def meet(path: str, webstore, store, client, order_id: int, topic="order.updated") -> SyncRun:
    if path == "automatic":
        return automatic_sync(webstore)
    if path == "manual":
        return run_import(webstore)
    if path == "order id":
        return run_import(webstore, order_id=order_id)
    # The delivery carries the order as the store has it now (an empty change reads it).
    body = {"id": order_id} if topic == "order.deleted" else store.modify_order(order_id)
    return webhook(client, webstore, order_id, topic, body)


def entry_of(run: SyncRun, order_id: int):
    (entry,) = [e for e in entries(run) if e.woo_order_id == order_id]
    return entry


@pytest.mark.parametrize("status", STATUSES)
def test_automatic_sync_without_webhooks_sees_a_status_outside_the_filter(
    status, webstore, store, order
):
    store.modify_order(order["id"], status=status)

    run = automatic_sync(webstore)

    entry = entry_of(run, order["id"])
    assert entry.outcome == Outcome.CHANGED
    assert f"status processing → {status}" in entry.message
    assert f"status processing → {status}" in sales_order_for(webstore, order["id"]).change_warning


@pytest.mark.parametrize("path", PATHS)
def test_a_cancellation_outside_the_filter_is_seen_on_every_path(
    path, webstore, store, client, order
):
    store.modify_order(order["id"], status="cancelled")

    run = meet(path, webstore, store, client, order["id"])

    assert entry_of(run, order["id"]).outcome == Outcome.CHANGED
    warning = sales_order_for(webstore, order["id"]).change_warning
    assert "status processing → cancelled" in warning and "Do not ship it" in warning


@pytest.mark.parametrize("path", PATHS)
def test_a_trashed_order_is_seen_on_every_path(path, webstore, store, client, order):
    store.trash_order(order["id"])

    run = meet(path, webstore, store, client, order["id"], topic="order.deleted")

    entry = entry_of(run, order["id"])
    assert (entry.outcome, entry.message.split(": ", 1)[1]) == (
        Outcome.CHANGED,
        "moved to the trash in the store",
    )
    sales_order = sales_order_for(webstore, order["id"])
    assert (
        sales_order.change_warning.startswith("Changed in the store after import")
        and "moved to the trash in the store" in sales_order.change_warning
    )


@pytest.mark.parametrize("path", PATHS)
def test_an_order_deleted_for_good_is_seen_on_every_path(path, webstore, store, client, order):
    store.delete_order(order["id"])

    run = meet(path, webstore, store, client, order["id"], topic="order.deleted")

    entry = entry_of(run, order["id"])
    assert (entry.outcome, entry.message.split(": ", 1)[1]) == (
        Outcome.CHANGED,
        "deleted in the store",
    )
    assert "deleted in the store" in sales_order_for(webstore, order["id"]).change_warning


def test_a_deletion_is_warned_once_and_never_read_again(webstore, store, order):
    store.delete_order(order["id"])
    automatic_sync(webstore)
    warning = sales_order_for(webstore, order["id"]).change_warning

    again = automatic_sync(webstore)

    assert [e for e in entries(again) if e.woo_order_id == order["id"]] == []
    assert sales_order_for(webstore, order["id"]).change_warning == warning


def test_a_trashed_order_cancels_its_sales_order_and_it_is_never_posted(
    webstore, store, order, staff_user
):
    store.trash_order(order["id"])
    automatic_sync(webstore)
    sales_order = sales_order_for(webstore, order["id"])

    message = update_from_store(sales_order, staff_user.id)

    db.session.refresh(sales_order)
    assert message.startswith(f"{sales_order.number} cancelled: webstore order")
    assert message.endswith("is in the store's trash")
    assert (sales_order.status, sales_order.change_warning) == (SalesOrderStatus.CANCELLED, None)
    with pytest.raises(ActionRefused):
        perform(sales_order, ACTIONS["post"])


def test_a_deleted_unimported_order_delivered_by_webhook_is_ignored(webstore, store, client):
    created = store.create_order(status="pending")
    store.delete_order(created["id"])
    payload = json.dumps({"id": created["id"]}).encode()

    answer = deliver(
        client,
        payload,
        {
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": "order.deleted",
            "X-WC-Webhook-Signature": sign(payload),
            "X-WC-Webhook-Delivery-ID": "d" * 32,
        },
        code=webstore.code,
    )

    assert answer.status_code == 200
    assert answer.json["status"] == "ignored"
    assert "was deleted in the store and was never imported here" in answer.json["message"]


def test_a_new_order_outside_the_filter_is_still_not_imported(webstore, store):
    created = store.create_order(status="pending")

    run = automatic_sync(webstore)

    assert sales_order_for(webstore, created["id"]) is None
    assert [e for e in entries(run) if e.woo_order_id == created["id"]] == []
