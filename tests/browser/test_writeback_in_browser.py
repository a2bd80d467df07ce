"""Posting in the browser completes the store order, and the order page says so."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import db
from portal.models import StoreWriteback, WritebackState
from portal.sync.runs import client_for
from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import imported_order, wait_for


def sent(order) -> bool:
    db.session.expire_all()
    states = db.session.scalars(
        sa.select(StoreWriteback.state).where(StoreWriteback.sales_order_id == order.id)
    )
    return list(states) == [WritebackState.SENT]


def test_post_with_tracking_completes_the_store_order(
    page, staff_user, demo_webstore, store, start_worker
):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    order = imported_order(demo_webstore, store)
    start_worker(burst=False)
    sign_in_browser(page, staff_user.username)

    page.goto(f"/orders/{order.id}")
    section = page.locator("#store-update")
    expect(section).to_contain_text("is set to completed in the store")
    shipping = page.locator(".shipping-form")
    shipping.get_by_label("Carrier").fill("DHL")
    shipping.get_by_label("Tracking number").fill("JD014600003")
    shipping.get_by_role("button", name="Save tracking").click()
    expect(
        page.get_by_text(f"Carrier and tracking number of {order.number} saved.")
    ).to_be_visible()

    page.get_by_role("button", name="Post…").click()
    page.get_by_role("dialog").get_by_role("button", name=f"Post {order.number}").click()
    expect(page.get_by_text("is being set to completed in the store")).to_be_visible()

    # The worker sends it; the page shows it sent once the database says so.
    wait_for(lambda: sent(order))
    page.reload()
    expect(page.locator("tr.writeback-sent")).to_contain_text("tracking number JD014600003")
    screenshot(page, "writeback-sent")

    with client_for(demo_webstore) as client:
        woo = client.get_order(order.woo_order_id)
        notes = client.list_order_notes(order.woo_order_id)
    assert woo.status == "completed"
    assert [n["note"] for n in notes if re.search(order.number, n["note"])] == [
        f"Sales order {order.number} is posted. Shipped with DHL, tracking number JD014600003."
    ]
