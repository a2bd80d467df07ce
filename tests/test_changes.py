"""An imported order that changed in the store: the same warning on every path.

Automatic sync, a manual import and an ``order.updated`` webhook each meet the changed
order; each logs it as changed with the same words (sync/changes.py), records the warning
on the sales order, and never imports it again.
"""

import json

import pytest

from portal import db
from portal.models import Outcome, SalesOrder, SyncRun, Trigger
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters
from tests.sync_helpers import count, entries, run_import, sales_order_for, work_queued_jobs
from tests.test_webhooks import SECRET, deliver, sign

PATHS = ("automatic", "manual", "webhook")


@pytest.fixture
def webstore(demo_webstore):
    demo_webstore.webhook_secret = SECRET
    demo_webstore.auto_sync = True
    db.session.commit()
    return demo_webstore


@pytest.fixture
def order(store):
    """A processing order of two lines (the mug, and two notebooks), to be changed."""
    return store.create_order(
        status="processing",
        lines=[{"product_id": 11, "quantity": 1}, {"product_id": 12, "quantity": 2}],
    )


def meet_again(path: str, webstore, store, client, order_id: int) -> SyncRun:
    """The run of ``path`` that meets the order after it changed."""
    if path == "automatic":
        return execute_run(
            create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id
        )
    if path == "manual":
        return run_import(webstore)
    # The delivery carries the order as the store has it now.
    body = json.dumps(store.modify_order(order_id)).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Signature": sign(body),
        "X-WC-Webhook-Delivery-ID": "e" * 32,
    }
    answer = deliver(client, body, headers, code=webstore.code)
    assert answer.status_code == 202, answer.json
    work_queued_jobs()
    db.session.expire_all()
    return db.session.get(SyncRun, answer.json["run_id"])


def the_change(path, webstore, store, client, order, **change) -> str:
    """Import the order, change it in the store, meet it again by ``path``: its log entry."""
    first = (
        run_import(webstore) if path != "webhook" else run_import(webstore, order_id=order["id"])
    )
    if path == "automatic":
        execute_run(create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id)
    assert sales_order_for(webstore, order["id"]) is not None, first.reason
    for step in change.pop("steps", [change]):
        store.modify_order(order["id"], **step)
    run = meet_again(path, webstore, store, client, order["id"])
    (entry,) = [e for e in entries(run) if e.woo_order_id == order["id"]]
    assert entry.outcome == Outcome.CHANGED, entry.message
    number = sales_order_for(webstore, order["id"]).number
    assert entry.message.startswith(f"Changed since imported as {number}: ")
    warning = sales_order_for(webstore, order["id"]).change_warning
    assert entry.message.split(": ", 1)[1] in warning
    return entry.message.split(": ", 1)[1]


@pytest.mark.parametrize("path", PATHS)
def test_a_status_change(path, webstore, store, client, order):
    assert the_change(path, webstore, store, client, order, status="cancelled") == (
        "status processing → cancelled"
    )


@pytest.mark.parametrize("path", PATHS)
def test_a_quantity_change(path, webstore, store, client, order):
    mug = order["line_items"][0]
    said = the_change(path, webstore, store, client, order, quantities={mug["id"]: 3})
    assert said.startswith(f"quantity of '{mug['name']}' 1 → 3; total ")


@pytest.mark.parametrize("path", PATHS)
def test_a_product_replaced_on_a_line(path, webstore, store, client, order):
    mug = order["line_items"][0]
    said = the_change(path, webstore, store, client, order, replace_products={mug["id"]: 13})
    assert said.startswith(f"line '{mug['name']}' now holds '")


@pytest.mark.parametrize("path", PATHS)
def test_lines_added_and_removed(path, webstore, store, client, order):
    notebooks = order["line_items"][1]
    said = the_change(
        path,
        webstore,
        store,
        client,
        order,
        steps=[
            {"add_lines": [{"product_id": 13, "quantity": 1}]},
            {"quantities": {notebooks["id"]: 0}},
        ],
    )
    assert f"line '{notebooks['name']}' removed" in said
    assert "added (quantity 1)" in said


@pytest.mark.parametrize("path", PATHS)
def test_a_new_shipping_address(path, webstore, store, client, order):
    said = the_change(
        path, webstore, store, client, order, address={"address_1": "1 Rue de la Paix"}
    )
    assert said.startswith("shipping address → ")
    assert "1 Rue de la Paix" in said


@pytest.mark.parametrize("path", PATHS)
def test_a_customer_note(path, webstore, store, client, order):
    said = the_change(path, webstore, store, client, order, customer_note="Leave at the door")
    assert said == "customer note → 'Leave at the door'"


@pytest.mark.parametrize("path", PATHS)
def test_a_refund(path, webstore, store, client, order):
    said = the_change(
        path, webstore, store, client, order, refund={"amount": "2.00", "reason": "Chipped"}
    )
    assert said.startswith("refunded 0") and said.endswith("→ 2.00")


def test_the_changed_order_is_never_imported_twice(webstore, store, client, order):
    run_import(webstore, order_id=order["id"])

    for path in PATHS:
        store.modify_order(order["id"], customer_note=f"seen by {path}")
        meet_again(path, webstore, store, client, order["id"])

    assert count(SalesOrder, SalesOrder.woo_order_id == order["id"]) == 1


def test_manual_and_automatic_runs_give_the_same_skip_reasons(webstore, store, order):
    run_import(webstore, order_id=order["id"])
    sales_order = sales_order_for(webstore, order["id"])
    sales_order.status = "posted"
    db.session.commit()

    manual = run_import(webstore)
    automatic = execute_run(
        create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id
    )

    reason = f"posted: {sales_order.number} is posted"
    for run in (manual, automatic):
        (entry,) = [e for e in entries(run) if e.woo_order_id == order["id"]]
        assert (entry.outcome, entry.message) == (Outcome.SKIPPED, reason)
