"""Webstore Orders, the staging view: every store order the connector meets (in a run, a
webhook delivery, an audit) is recorded as it last met it, and the page lists them with
their state, filtered and paged by keyset."""

import base64
import hashlib
import hmac
import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Customer, SalesOrder, Trigger
from portal.models.base import utcnow
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
    first = {i: (o.state, o.sales_order_id) for i, o in recorded().items()}

    run_import(imported_store)  # every order skipped: imported already

    again = {i: (o.state, o.sales_order_id) for i, o in recorded().items()}
    assert again == first
    assert {state for state, _ in again.values()} == {StoreOrderState.IMPORTED}
    assert all(sales_order_id for _, sales_order_id in again.values())


def test_an_order_met_again_with_nothing_new_is_written_again_at_most_hourly(imported_store):
    an_hour_ago = utcnow() - timedelta(minutes=61)
    recent = utcnow() - timedelta(minutes=59)
    ids = sorted(recorded())
    db.session.execute(sa.update(StoreOrder).values(last_seen_at=an_hour_ago))
    db.session.execute(
        sa.update(StoreOrder).where(StoreOrder.woo_order_id == ids[0]).values(last_seen_at=recent)
    )
    db.session.commit()

    run_import(imported_store)

    seen = {i: o.last_seen_at for i, o in recorded().items()}
    assert seen[ids[0]] == recent
    assert all(seen[i] > recent for i in ids[1:])


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


# The page


def many_store_orders(webstore, count: int) -> None:
    """``count`` store orders of the webstore, ids 1001 up, in every state in turn."""
    states = list(StoreOrderState)
    now = utcnow()
    db.session.execute(
        sa.insert(StoreOrder),
        [
            {
                "webstore_id": webstore.id,
                "woo_order_id": 1000 + n,
                "number": f"{1000 + n}",
                "status": "processing",
                "order_date": date.today() - timedelta(days=n % 30),
                "state": states[n % len(states)],
                "reason": f"reason {n}",
                "seen_via": SeenVia.LISTING,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for n in range(1, count + 1)
        ],
    )
    db.session.commit()


def row_numbers(html: str) -> list[str]:
    """The order numbers of the table's rows, in order."""
    return re.findall(r'title="The order\'s trace">([^<]+)</a>', html)


def next_page(html: str) -> str:
    [href] = re.findall(r'<a href="([^"]+)" hx-get="[^"]+" rel="next">', html)
    return href.replace("&amp;", "&")


def test_the_page_lists_store_orders_newest_first_and_pages_by_keyset(
    signed_in_viewer, demo_webstore
):
    many_store_orders(demo_webstore, 120)

    first = signed_in_viewer.get("/webstore-orders")
    second = signed_in_viewer.get(next_page(first.text))
    third = signed_in_viewer.get(next_page(second.text))

    assert first.status_code == second.status_code == third.status_code == 200
    assert row_numbers(first.text) == [str(1120 - n) for n in range(50)]
    assert row_numbers(second.text) == [str(1070 - n) for n in range(50)]
    assert row_numbers(third.text) == [str(1020 - n) for n in range(20)]
    assert "Store orders 1–50 of 120, page 1." in first.text
    assert "Store orders 101–120 of 120, page 3." in third.text
    assert 'rel="next"' not in third.text


def test_the_page_filters_by_state_and_order_number(signed_in_viewer, demo_webstore):
    many_store_orders(demo_webstore, 120)

    missing = signed_in_viewer.get("/webstore-orders?webstore=DEMO&state=missing")
    one = signed_in_viewer.get("/webstore-orders?number=1042")
    none = signed_in_viewer.get("/webstore-orders?number=9999")

    assert row_numbers(missing.text) == [str(1000 + n) for n in range(120, 0, -1) if n % 5 == 4]
    assert row_numbers(one.text) == ["1042"]
    assert row_numbers(none.text) == []
    assert "No store orders match." in none.text


def test_htmx_gets_the_table_with_the_address_to_show(signed_in_viewer, demo_webstore):
    many_store_orders(demo_webstore, 3)

    response = signed_in_viewer.get(
        "/webstore-orders?webstore=DEMO&state=failed&number=", headers={"HX-Request": "true"}
    )

    assert response.text.lstrip().startswith('<div id="store-orders-table"')
    assert response.headers["HX-Push-Url"] == "/webstore-orders?webstore=DEMO&state=failed"


def test_each_row_says_the_orders_state_and_why(signed_in_viewer, imported_store, store):
    bad = failing_order(imported_store, store)
    run_import(imported_store, order_id=bad["id"])
    missing = store.create_order(status="processing")
    audit_webstore(imported_store)
    imported = db.session.scalar(sa.select(SalesOrder).order_by(SalesOrder.woo_order_id.desc()))

    page = signed_in_viewer.get("/webstore-orders?webstore=DEMO")
    failed = signed_in_viewer.get("/webstore-orders?state=failed").text
    missed = signed_in_viewer.get("/webstore-orders?state=missing").text

    assert f'<a href="/orders/{imported.id}">{imported.number}</a>' in page.text
    assert row_numbers(failed) == [bad["number"]]
    assert "&#39;Create missing customers&#39; is off in the setup of DEMO" in failed
    assert row_numbers(missed) == [missing["number"]]
    assert '<span class="badge badge-partial">missing</span>' in missed


def test_the_page_is_in_the_nav_and_needs_a_sign_in(client, signed_in_viewer):
    nav = signed_in_viewer.get("/").text
    current = '<a href="/webstore-orders" aria-current="page">Webstore Orders</a>'

    assert '<a href="/webstore-orders" >Webstore Orders</a>' in nav
    assert current in signed_in_viewer.get("/webstore-orders").text
    assert current in signed_in_viewer.get("/audits").text  # reached from there
    signed_in_viewer.client.post("/logout", data={"csrf_token": signed_in_viewer.token})
    assert client.get("/webstore-orders").status_code == 302
    assert client.get("/audits").status_code == 302


def test_the_page_shows_one_webstore_at_a_time(signed_in_viewer, demo_webstore, webstore):
    many_store_orders(demo_webstore, 2)
    many_store_orders(webstore, 3)

    first = signed_in_viewer.get("/webstore-orders")  # DEMO comes first by code
    main = signed_in_viewer.get("/webstore-orders?webstore=MAIN")

    assert row_numbers(first.text) == ["1002", "1001"]
    assert row_numbers(main.text) == ["1003", "1002", "1001"]
    assert '<option value="MAIN" selected>MAIN</option>' in main.text
    assert signed_in_viewer.get("/webstore-orders?webstore=NOPE").status_code == 404
