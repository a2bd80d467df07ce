"""The whole story a new user lives through, in a real browser against the sandbox store."""

import re

from playwright.sync_api import expect

from portal import db
from tests.conftest import screenshot, sign_in_browser


def test_import_fix_retry_find_post_and_import_again(
    page, admin_user, demo_webstore, store, start_worker
):
    demo_webstore.auto_create_items = False  # a cause to fix later
    db.session.commit()
    store.set_faults(latency_ms=20, latency_per_order_ms=1)
    start_worker(burst=False)
    polls = []
    page.on("response", lambda r: polls.append(r.status) if "/poll" in r.url else None)

    # Sign in, and open Import Webstore Orders from the Sales Orders action bar.
    sign_in_browser(page, admin_user.username)
    expect(page.get_by_role("heading", name="Webstore Sales Orders")).to_be_visible()
    screenshot(page, "story-1-sales-orders-empty")
    page.get_by_role("button", name="Import Webstore Orders").click()

    # Choose DEMO and import: the log fills and the polling stops.
    page.get_by_label("Webstore Code").select_option("DEMO")
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
    page.get_by_role("button", name="Import", exact=True).click()
    status = page.locator(".run-status")
    # No item could be made: nothing imported, so the run failed.
    expect(status).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(page.locator("tbody tr.entry")).to_have_count(60)
    screenshot(page, "story-2-import-finished")
    assert 286 in polls

    # Import Results, and the run: failed orders say what to do.
    page.get_by_role("link", name="Import Results").click()
    screenshot(page, "story-3-import-results")
    page.locator("#runs-table a").first.click()
    # The run's page leads with its failures.
    expect(page.locator("main h2").first).to_have_text(re.compile(r"^Failed \(\d+\)$"))
    failure = page.locator("tr.entry-failed").first
    expect(failure).to_contain_text("'Create missing items' is off in the setup of DEMO")
    run_url = page.url

    # Fix the cause in the setup, then retry the failed orders.
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("link", name="DEMO").click()
    page.get_by_label("Create missing items").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Webstore DEMO saved.")).to_be_visible()
    page.goto(run_url)
    page.get_by_role("button", name="Retry failed orders").click()
    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    screenshot(page, "story-4-retry")
    retry_run = re.search(r"Run (\d+)", page.locator(".run-panel h2").inner_text())[1]

    # The first run now says its failures were imported by the retry, and offers no retry.
    page.goto(run_url)
    marks = page.locator("tr.entry-failed small.retried")
    expect(marks.first).to_have_text(f"imported since by run {retry_run}")
    expect(page.get_by_role("button", name="Retry failed orders")).to_have_count(0)
    expect(
        page.get_by_text("Every order that failed here has been imported since.")
    ).to_be_visible()

    # Find order 44 in Webstore Sales Orders and post it.
    page.get_by_role("link", name="Webstore Sales Orders").click()
    page.get_by_label("Search", exact=True).press_sequentially("44")
    row = page.get_by_role("row").filter(has_text=re.compile(r"\b44\b"))
    expect(row.first).to_be_visible()
    row.first.get_by_role("link").first.click()
    heading = page.get_by_role("heading", name=re.compile("Sales order SO")).inner_text()
    number = re.search(r"SO\d+", heading)[0]
    screenshot(page, "story-5-sales-order")
    page.get_by_role("button", name="Post…").click()
    page.get_by_role("dialog").get_by_role("button", name=f"Post {number}").click()
    expect(page.get_by_role("button", name="Post…")).to_have_count(0)

    # Import again: order 44 is skipped as posted.
    page.get_by_role("link", name="Import Webstore Orders").click()
    page.get_by_label("Webstore Code").select_option("DEMO")
    page.get_by_label("Order ID").fill("44")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.locator("tr.entry")).to_contain_text(f"posted: {number} is posted")
    screenshot(page, "story-6-skipped-as-posted")
