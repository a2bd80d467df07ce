"""After import, in the browser: a store order cancelled after import is not shipped."""

import re

from playwright.sync_api import expect

from portal import db
from portal.models import SalesOrderStatus, Trigger
from portal.sync.runs import client_for, create_run, execute_run
from portal.sync.schedule import incremental_filters
from tests.browser.test_csp_in_browser import watch
from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import imported_order


def test_a_cancelled_store_order_is_reviewed_cannot_be_posted_and_is_cancelled(
    page, staff_user, demo_webstore, store
):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, status="cancelled")
    execute_run(create_run(demo_webstore, incremental_filters(demo_webstore), Trigger.AUTOMATIC).id)
    problems = watch(page)
    sign_in_browser(page, staff_user.username)

    page.goto(f"/orders/{order.id}")
    warning = page.locator("#change-warning")
    expect(warning).to_contain_text("Cancelled in the store since import")
    expect(warning).to_contain_text("status processing → cancelled")
    screenshot(page, "after-import-cancelled-warning")

    warning.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_text(f"The change to {order.number} is marked as reviewed.")).to_be_visible()
    expect(page.locator("#last-review")).to_contain_text(f"by {staff_user.username}")
    expect(page.locator("#store-update")).to_contain_text("no store update will be made")

    page.get_by_role("button", name="Post…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("is cancelled in the store: do not post")
    expect(dialog.get_by_role("button", name=f"Post {order.number}")).to_have_count(0)
    dialog.get_by_role("button", name="Back").click()

    page.get_by_role("button", name=f"Cancel {order.number}").click()
    expect(page.get_by_text(f"{order.number} cancelled: webstore order")).to_be_visible()
    expect(page.locator("h1 .order-status")).to_have_text("cancelled")
    expect(page.get_by_role("button", name="Post…")).to_have_count(0)
    screenshot(page, "after-import-cancelled-order")

    page.get_by_role("link", name="Trace").click()
    story = page.locator("main")
    expect(story).to_contain_text("status processing → cancelled")
    expect(story).to_contain_text(f"Reviewed by {staff_user.username}", ignore_case=True)
    expect(story).to_contain_text(f"{order.number} cancelled")
    screenshot(page, "after-import-cancelled-trace")

    db.session.expire_all()
    assert db.session.get(type(order), order.id).status == SalesOrderStatus.CANCELLED
    with client_for(demo_webstore) as client:
        assert client.get_order(order.woo_order_id).status == "cancelled"
        notes = client.list_order_notes(order.woo_order_id)
    assert not [n for n in notes if re.search(order.number, n["note"])]
    assert problems == []


def test_a_tracking_number_typed_but_not_saved_goes_with_the_post(
    page, staff_user, demo_webstore, store
):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    order = imported_order(demo_webstore, store)
    sign_in_browser(page, staff_user.username)

    page.goto(f"/orders/{order.id}")
    shipping = page.locator(".shipping-form")
    shipping.get_by_label("Carrier").fill("UPS")
    shipping.get_by_label("Tracking number").fill("1Z999AA10123456784")
    page.get_by_role("button", name="Post…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Tracking number")).to_have_value("1Z999AA10123456784")
    dialog.get_by_role("button", name=f"Post {order.number}").click()

    expect(page.get_by_text("is being set to completed in the store")).to_be_visible()
    expect(page.locator("#store-update")).to_contain_text("tracking number 1Z999AA10123456784")
