"""An order's trace in a real browser: found by its store number in the header's search,
opened, and followed to its sales order and back, under the Content-Security-Policy."""

import re

from playwright.sync_api import expect

from portal import db
from portal.models import EventKind, Outcome, SalesOrderStatus, WritebackState
from portal.sync.history import record
from tests.browser.test_csp_in_browser import watch
from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import logged_run
from tests.test_trace import SCRIPT, log_entry, make_sales_order, queued_writeback

SEARCH_BOX = "Search pages and sales orders, customers and items"


def test_a_failed_store_order_is_found_in_the_header_search_and_its_trace_opened(
    page, viewer_user, webstore
):
    first = logged_run(webstore, failed=1)  # store order 5000 failed...
    log_entry(webstore, first, 5000, Outcome.FAILED, SCRIPT)  # ...with markup in its message
    again = logged_run(webstore, failed=1)  # ...and failed again
    problems = watch(page)
    sign_in_browser(page, viewer_user.username)
    box = page.get_by_label(SEARCH_BOX)
    results = page.locator("#global-search-results")

    box.press_sequentially("5000")

    trace_link = results.get_by_role("link", name="Trace of MAIN 5000")
    expect(trace_link).to_be_visible()
    expect(results).to_contain_text("no sales order · latest failed")
    expect(page.locator("#global-search-status")).to_contain_text(
        "1 webstore order in the import log."
    )
    screenshot(page, "trace-typeahead")
    box.press("ArrowDown")  # the keyboard reaches it as it reaches the other findings
    expect(trace_link).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Trace of webstore order 5000")).to_be_visible()
    rows = page.locator("tr.trace-event")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(f"Run {first.id}")
    expect(rows.nth(1)).to_contain_text(SCRIPT)  # shown as text, run as nothing
    expect(rows.nth(2)).to_contain_text(f"Run {again.id}")
    expect(rows.nth(2)).to_contain_text("Order 5000 failed: fix the item, retry.")
    assert page.evaluate("window.__xss") is None
    screenshot(page, "trace-of-a-failed-order")

    page.get_by_role("link", name="Newest first").click()
    expect(page.get_by_role("heading", name="What happened, newest first")).to_be_visible()
    expect(page.locator("tr.trace-event").nth(0)).to_contain_text(f"Run {again.id}")
    page.locator("tr.trace-event").nth(0).get_by_role("link", name=f"Run {again.id}").click()
    expect(page.get_by_role("heading", name=f"Run {again.id}: MAIN")).to_be_visible()
    assert problems == []


def test_an_imported_order_is_traced_from_the_search_and_from_its_page(page, viewer_user, webstore):
    run = logged_run(webstore)
    log_entry(
        webstore, run, 1042, Outcome.IMPORTED, "Imported as SO00042", sales_order_number="SO00042"
    )
    order = make_sales_order(webstore, 1042)
    problems = watch(page)
    sign_in_browser(page, viewer_user.username)
    results = page.locator("#global-search-results")

    page.get_by_label(SEARCH_BOX).press_sequentially("1042")

    expect(results.get_by_role("link", name="SO00042 Ada Lovelace")).to_be_visible()
    results.get_by_role("link", name="Trace of webstore order 1042 (MAIN)").click()

    expect(page.get_by_role("heading", name="Trace of webstore order 1042")).to_be_visible()
    rows = page.locator("tr.trace-event")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("imported")
    expect(rows.nth(1)).to_contain_text("Sales order SO00042 created")
    screenshot(page, "trace-of-an-imported-order")
    rows.nth(1).get_by_role("link", name="SO00042").click()

    expect(page.get_by_role("heading", name="Sales order SO00042")).to_be_visible()
    page.get_by_role("link", name="Trace", exact=True).click()
    expect(page.get_by_role("heading", name="Trace of webstore order 1042")).to_be_visible()
    assert order.id and problems == []


def test_enter_on_a_store_number_only_the_log_knows_opens_its_trace(page, viewer_user, webstore):
    logged_run(webstore, failed=1)
    sign_in_browser(page, viewer_user.username)

    page.get_by_label(SEARCH_BOX).fill("5000")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Trace of webstore order 5000")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/orders/trace/MAIN/5000$"))


def test_a_refused_store_update_and_its_review_read_in_order_either_way(
    page, viewer_user, staff_user, webstore
):
    order = make_sales_order(webstore, 1042, status=SalesOrderStatus.POSTED)
    update = queued_writeback(order, state=WritebackState.FAILED, attempts=1)
    refusal = "The store's order 1042 is on-hold: nothing was written to the store."
    record(order.id, EventKind.WRITEBACK_REFUSED, refusal, writeback_id=update.id)
    db.session.commit()
    warning = f"Changed in the store after import: customer note → '{SCRIPT}'"
    record(order.id, EventKind.REVIEWED, warning, user_id=staff_user.id)
    db.session.commit()
    problems = watch(page)
    sign_in_browser(page, viewer_user.username)

    page.goto(f"/orders/{order.id}")
    page.get_by_role("link", name="Trace", exact=True).click()

    rows = page.locator("tr.trace-event")
    expect(rows).to_have_count(4)
    expect(rows.nth(1)).to_contain_text("Store update on posting queued")
    expect(rows.nth(2)).to_contain_text(f"Store update on posting refused try 1 {refusal}")
    expect(rows.nth(3)).to_contain_text("Change reviewed by staff-user")
    expect(rows.nth(3)).to_contain_text(warning)  # shown as text, run as nothing
    assert page.evaluate("window.__xss") is None
    screenshot(page, "trace-of-a-refused-store-update")

    page.get_by_role("link", name="Newest first").click()
    expect(page.locator("tr.trace-event").nth(0)).to_contain_text("Change reviewed by staff-user")
    expect(page.locator("tr.trace-event").nth(1)).to_contain_text("refused")
    assert problems == []
