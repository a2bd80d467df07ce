"""Staff import orders by hand and watch the activity log fill, in a real browser."""

import re

from playwright.sync_api import expect

from portal import db
from tests.conftest import screenshot, sign_in_browser

# htmx's polls as the page sends them (the event comes as the request is made).
COUNT_POLLS = """
window.pollsSent = 0;
document.body.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.requestConfig.path.includes("/poll")) window.pollsSent++;
});
"""


def test_staff_import_orders_and_watch_the_log_until_polling_stops(
    page, staff_user, demo_webstore, store, start_worker
):
    store.set_faults(latency_ms=30, latency_per_order_ms=2)
    start_worker(burst=False)
    # The page's timers on a clock the test can run forward; it keeps time until then.
    page.clock.install()
    sign_in_browser(page, staff_user.username)
    page.get_by_role("link", name="Import Webstore Orders").click()

    page.get_by_label("Webstore Code").select_option("DEMO")
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
    screenshot(page, "import-form")
    polls = []
    page.on("response", lambda r: polls.append(r.status) if "/poll" in r.url else None)
    page.get_by_role("button", name="Import").click()

    status = page.locator(".run-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.locator(".count-imported strong")).to_have_text("60")
    expect(page.locator("tbody tr.entry")).to_have_count(60)
    screenshot(page, "import-run-panel")
    assert 286 in polls
    # Five seconds of the page's timers, run at once: a poller left would send a poll.
    page.evaluate(COUNT_POLLS)
    page.clock.run_for(5_000)
    assert page.evaluate("window.pollsSent") == 0, "polling went on after the run ended"


def test_a_retry_after_fixing_the_cause_imports_the_failed_orders(
    page, staff_user, demo_webstore, start_worker
):
    from tests.sync_helpers import run_import

    demo_webstore.auto_create_items = False
    db.session.commit()
    failed = run_import(demo_webstore, statuses="processing")
    demo_webstore.auto_create_items = True
    db.session.commit()
    start_worker(burst=False)
    sign_in_browser(page, staff_user.username)

    page.get_by_role("link", name="Import Results").click()
    page.get_by_role("link", name=str(failed.id), exact=True).click()
    expect(page.get_by_text("'Create missing items' is off").first).to_be_visible()
    screenshot(page, "import-run-page")
    page.get_by_role("button", name="Retry failed orders").click()

    status = page.locator(".run-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.locator(".count-imported strong")).to_have_text(str(failed.failed))


def test_choosing_a_webstore_checks_its_default_statuses_and_shows_the_counts(
    page, staff_user, demo_webstore, webstore, store
):
    # Two webstores: none is chosen before the person chooses.
    demo_webstore.default_status_filter = "on-hold,completed"
    db.session.commit()
    sign_in_browser(page, staff_user.username)
    page.goto("/imports/new")
    select = page.get_by_label("Webstore Code")
    assert select.get_attribute("hx-get") == "/imports/new/filters"
    expect(page.locator(".field-error")).to_have_count(0)

    with page.expect_response(lambda r: "/imports/new/filters?webstore=DEMO" in r.url):
        select.select_option("DEMO")

    statuses = page.locator("#statuses input:checked")
    expect(statuses).to_have_count(2)
    assert statuses.evaluate_all("boxes => boxes.map(b => b.value)") == ["on-hold", "completed"]
    # Each status with the store's own count of its orders.
    on_hold = page.get_by_role("checkbox", name=re.compile(r"^On hold \(\d+\)$"))
    expect(on_hold).to_be_checked()
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
