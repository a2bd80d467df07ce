"""A run's page in a real browser: what needs a person is at the top."""

import re

from playwright.sync_api import expect

from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import logged_run


def test_ten_failures_lead_the_page_above_five_hundred_skips(page, staff_user, demo_webstore):
    run = logged_run(demo_webstore, failed=10, skipped=500, imported=3)
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.goto(f"/imports/runs/{run.id}")

    sections = page.locator("main section h2")
    expect(sections).to_have_text(
        [re.compile(r"^Failed \(10\)"), re.compile(r"^Imported \(3\)"), "Skipped (500)"]
    )
    failures = page.locator("tr.entry-failed")
    expect(failures).to_have_count(10)
    # The failures are where a person looks first, and the page is not a wall of skips.
    assert failures.first.bounding_box()["y"] < 900
    assert page.evaluate("document.documentElement.scrollHeight") < 4000
    expect(page.locator("tr.entry-skipped")).to_have_count(0)
    expect(page.locator(".skip-reasons")).to_contain_text("Imported before, not changed since")
    expect(page.get_by_role("button", name="Retry failed orders")).to_be_visible()
    screenshot(page, "run-page-failures-first")

    page.get_by_role("link", name="Show the skipped orders").click()
    expect(page.locator("tr.entry-skipped")).to_have_count(100)
    page.get_by_role("link", name="Next skipped entries").click()
    expect(page.locator("tr.entry-skipped").first).to_contain_text("1100")
