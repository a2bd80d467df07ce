"""Rough edges a newcomer met walking the demo, in Chromium at a laptop's 1366 px and a
phone's 390 px: Sync now in sight on the Setup list, and a memo's amounts and a store
update's state readable on a phone without scrolling a table sideways."""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import db
from portal.models import SalesCreditMemo, Trigger
from portal.orders.actions import ACTIONS, perform
from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import imported_order, logged_run, work_queued_jobs
from tests.test_credit_memos import import_refunds

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}

# How far a table scrolls sideways in its wrapper (0: not at all).
HIDDEN_WIDTH = """table => {
  const wrapper = table.closest(".overflow-auto");
  return wrapper.scrollWidth - wrapper.clientWidth;
}"""


def right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


def test_sync_now_is_in_sight_on_the_setup_list_of_a_laptop(page, staff_user, demo_webstore):
    # The demo as a newcomer has it after a while: syncing, with a run, a watermark, a long URL.
    demo_webstore.default_status_filter = "processing,completed"
    demo_webstore.auto_sync = True
    demo_webstore.order_start_date = date(2025, 1, 1)
    demo_webstore.watermark = datetime(2026, 12, 4, 10, 15, 42, tzinfo=UTC)
    demo_webstore.base_url = "https://shop.webstore-connector-demo.example.com"
    db.session.commit()
    logged_run(demo_webstore, imported=60, trigger=Trigger.AUTOMATIC)
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(LAPTOP)

    page.goto("/setup/")

    table = page.locator("main table")
    sync_now = table.get_by_role("button", name="Sync now")
    expect(sync_now).to_be_visible()
    screenshot(page, "setup-list-laptop")
    assert table.evaluate(HIDDEN_WIDTH) == 0
    assert right_edge(sync_now) <= LAPTOP["width"]
    assert table.get_by_role("columnheader", name="Next due (UTC)").is_visible()
    sync_now.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Run")


def test_on_a_phone_memo_amounts_and_the_store_update_need_no_sideways_scrolling(
    page, staff_user, demo_webstore, store
):
    # A posted order whose store update failed (the key may only read: a long reason), and
    # a refund credited as a memo.
    demo_webstore.writeback_enabled = True
    key = demo_webstore.consumer_key, demo_webstore.consumer_secret
    demo_webstore.consumer_key = store.read_only_key
    demo_webstore.consumer_secret = store.read_only_secret
    db.session.commit()
    order = imported_order(demo_webstore, store)
    perform(order, ACTIONS["post"], ("DHL Express", "JD014600003123456"))
    work_queued_jobs()
    demo_webstore.consumer_key, demo_webstore.consumer_secret = key
    db.session.commit()
    store.modify_order(order.woo_order_id, refund={"amount": "7.35", "reason": "Scratched lid"})
    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))
    memo = db.session.scalar(sa.select(SalesCreditMemo))
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(PHONE)

    page.goto(f"/orders/{order.id}")
    update = page.locator("#store-update table")
    memos = page.locator("#credit-memos table")
    state = update.locator("tr.writeback-failed td", has_text="The store refused")
    expect(state).to_contain_text("create a Read/Write key")
    screenshot(page, "phone-order-store-update")
    assert update.evaluate(HIDDEN_WIDTH) == 0 and memos.evaluate(HIDDEN_WIDTH) == 0
    assert right_edge(update.get_by_role("button", name="Send again")) <= PHONE["width"]
    assert right_edge(state) <= PHONE["width"]
    assert right_edge(memos.get_by_text("7.35", exact=True)) <= PHONE["width"]

    page.goto(f"/credit-memos/{memo.id}")
    lines = page.locator("#memo-lines")
    total = lines.locator("tfoot td", has_text="7.35 USD")
    expect(total).to_be_visible()
    screenshot(page, "phone-credit-memo")
    assert lines.evaluate(HIDDEN_WIDTH) == 0
    assert right_edge(total) <= PHONE["width"]
    for label in ("Amount", "Tax", "Quantity"):  # each value says what it is
        cell = lines.locator(f'tbody td[data-label="{label}"]')
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{label}"'
        assert right_edge(cell) <= PHONE["width"]
