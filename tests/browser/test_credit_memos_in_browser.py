"""Credit memos in a real browser: import a refund by hand, find its memo, post it."""

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import imported_order


def test_a_refund_imported_by_hand_becomes_a_memo_that_staff_post(
    page, staff_user, demo_webstore, store, start_worker
):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "7.35", "reason": "Scratched"})
    start_worker(burst=False)
    sign_in_browser(page, staff_user.username)

    page.get_by_role("button", name="Sales Credit Memos").click()
    expect(page.locator("#memos-table")).to_contain_text("No credit memos yet")
    page.get_by_role("button", name="Import Webstore Refunds").click()
    page.get_by_label("Order ID").fill(str(order.woo_order_id))
    page.get_by_role("button", name="Import refunds").click()
    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.locator("h1")).to_contain_text("refunds")

    page.goto("/credit-memos")
    page.wait_for_load_state("load")
    page.get_by_label("Search", exact=True).press_sequentially(order.number)
    row = page.locator("#memos-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Scratched")
    row.get_by_role("link", name="CM00001").click()
    expect(page.locator("#memo-lines")).to_contain_text("7.35")

    # Asked in the page's own dialog, as an order's Post is: never the browser's confirm().
    page.on("dialog", lambda dialog: pytest.fail(f"the browser asked: {dialog.message}"))
    page.get_by_role("button", name="Post…").click()
    dialog = page.get_by_role("dialog", name="Post credit memo CM00001?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("A posted memo cannot be changed.")
    expect(dialog).to_contain_text("7.35")
    screenshot(page, "credit-memo-post-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Post…").click()
    dialog.get_by_role("button", name="Post CM00001").click()
    expect(page.get_by_text("Credit memo CM00001 posted.")).to_be_visible()
    expect(page.get_by_role("button", name="Post…")).to_have_count(0)
    screenshot(page, "credit-memo-posted")

    page.get_by_role("link", name=order.number).click()
    expect(page.locator("#credit-memos")).to_contain_text("CM00001")
