"""Import Results in a real browser: the chart a manager reads at a glance."""

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import run_import


def test_the_chart_shows_thirty_days_with_dates_counts_and_a_legend(
    page, viewer_user, demo_webstore
):
    run = run_import(demo_webstore, statuses="completed")
    sign_in_browser(page, viewer_user.username)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.goto("/imports/")

    chart = page.locator("figure.chart svg.chart-plot")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 1000  # the page's width, not a sliver
    expect(page.locator("figure.chart rect.day")).to_have_count(30)
    today = datetime.now(UTC).date().strftime("%b %-d")
    expect(page.locator("figure.chart text.axis", has_text=today)).to_be_visible()
    expect(page.locator("figure.chart text.count")).to_have_text([str(run.imported)])
    expect(page.locator("figcaption")).to_contain_text("imported")
    expect(page.locator("figcaption")).to_contain_text("failed")
    # Today's bar is the last, at the right; the filters keep their distance.
    bars = page.locator("figure.chart rect.bar-imported")
    expect(bars).to_have_count(1)
    assert (
        bars.bounding_box()["x"] > chart.bounding_box()["x"] + 0.9 * chart.bounding_box()["width"]
    )
    figure = page.locator("figure.chart").bounding_box()
    filters = page.locator("form.filters").bounding_box()
    assert filters["y"] >= figure["y"] + figure["height"] + 16
    # Screen readers get the numbers as a table.
    expect(page.get_by_role("table", name="Orders imported and failed per day")).to_be_attached()
    screenshot(page, "import-results-chart")
