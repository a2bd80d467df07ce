"""The import pages walked as a newcomer would, over real HTTP in Chromium, at 1366 px and at a
phone's 390 px: no step leaves them wondering what is going on or scrolling sideways."""

import re
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import db
from portal.models import (
    RunStatus,
    SalesOrder,
    StoreWriteback,
    SyncRun,
    Trigger,
    WritebackState,
)
from portal.sync.filters import merge_filters
from portal.sync.runs import create_run
from tests.conftest import ARTIFACTS, screenshot, sign_in_browser
from tests.sync_helpers import run_import

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def newest_run() -> SyncRun | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))


def wait_for_run(status: RunStatus, timeout: float = 20) -> SyncRun:
    """The newest run, once the database says it has ``status`` (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = newest_run()
        if run is not None and run.status == status:
            return run
        time.sleep(0.05)
    raise AssertionError(f"no run became {status} within {timeout} s")


def test_the_live_panel_says_running_at_the_next_poll_once_a_worker_starts_the_run(
    page, staff_user, demo_webstore, store, start_worker
):
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(WIDE)
    page.goto("/imports/new")
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
    page.get_by_role("button", name="Import").click()
    status = page.locator(".run-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(status).to_contain_text("Waiting for a worker since")
    # Every store request now takes 4 s: the run settles no order for seconds after it starts.
    store.set_faults(latency_ms=4000)

    start_worker(burst=False)
    run = wait_for_run(RunStatus.RUNNING)

    # One poll a second: the panel says so within two.
    expect(status).to_have_attribute("data-status", "running", timeout=2_000)
    expect(status).to_contain_text("Importing since")
    expect(status).not_to_contain_text("Waiting for a worker")
    db.session.refresh(run)
    assert run.settled == 0, "the panel said running only once an order was settled"
    screenshot(page, "newcomer-live-panel-running")
    # The store answers at once again: the run ends here, not in a work horse after the test.
    store.set_faults(latency_ms=0)
    expect(status).to_have_attribute("data-status", "succeeded", timeout=30_000)
    # The panel's log on a phone: a card an order, nothing to scroll sideways.
    page.set_viewport_size(PHONE)
    expect(page.locator(".run-panel tr.entry")).to_have_count(60)
    assert page.evaluate(SIDEWAYS) == []
    screenshot(page, "newcomer-live-panel-phone")


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_each_status_count_follows_its_name_beside_its_checkbox(
    page, staff_user, demo_webstore, store
):
    sign_in_browser(page, staff_user.username)
    for name, size in (("wide", WIDE), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto("/imports/new")
        expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
        labels = page.locator("#statuses label")
        expect(labels).to_have_count(8)
        screenshot(page, f"newcomer-status-counts-{name}")

        for index in range(8):
            label = labels.nth(index)
            box = label.locator("input").bounding_box()
            count = label.locator("small").bounding_box()
            # Right of the checkbox, on its line: the name between them.
            assert not overlaps(box, count), label.inner_text()
            assert count["x"] >= box["x"] + box["width"] + 20, label.inner_text()
            middle = count["y"] + count["height"] / 2
            assert box["y"] <= middle <= box["y"] + box["height"], label.inner_text()


def test_the_preview_says_it_is_counting_while_the_store_counts_new_filters(
    page, staff_user, demo_webstore, store
):
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(WIDE)
    store.set_faults(latency_ms=1500)  # each count the store is asked for takes 1.5 s
    page.goto("/imports/new")
    preview = page.locator("#import-preview")
    busy = page.locator("#import-preview-area .preview-busy")
    expect(preview).to_contain_text("60 orders in the store match (status any)", timeout=5_000)
    expect(busy).to_be_hidden()
    expect(preview).to_have_css("opacity", "1")

    page.get_by_role("checkbox", name="Processing").check()

    # The old count stays, dimmed, under a note that the store is being asked.
    expect(busy).to_be_visible()
    expect(busy).to_have_text("Asking the store how many orders match…")
    expect(page.locator("#import-preview-area")).to_have_class("preview-area htmx-request")
    expect(preview).to_contain_text("(status any)")
    expect(preview).to_have_css("opacity", "0.45")
    screenshot(page, "newcomer-preview-counting")
    expect(preview).to_contain_text("9 orders in the store match (status processing)")
    expect(busy).to_be_hidden()
    expect(preview).to_have_css("opacity", "1")


def import_answer(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/imports/")


def test_an_import_refused_says_why_beside_its_field_without_leaving_the_page(
    page, staff_user, demo_webstore, store
):
    sign_in_browser(page, staff_user.username)
    page.goto("/imports/new")
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
    page.get_by_label("Order ID").fill("-3")

    with page.expect_response(import_answer) as answer:
        page.get_by_role("button", name="Import").click()

    assert answer.value.status == 422
    # htmx swaps it as a 200, wherever a form's answer goes (base.html's htmx-config).
    handling = page.evaluate("htmx.config.responseHandling")
    assert {"code": "422", "swap": True, "error": False} in handling
    expect(page.locator("#order_id-error")).to_contain_text(
        "Order ID must be a whole number from 1"
    )
    expect(page.get_by_label("Order ID")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/imports/new")
    assert newest_run() is None


def test_an_import_the_queue_cannot_take_says_so_in_the_form(
    page, app, staff_user, demo_webstore, store
):
    sign_in_browser(page, staff_user.username)
    page.goto("/imports/new")
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there

    with page.expect_response(import_answer) as answer:
        page.get_by_role("button", name="Import").click()

    assert answer.value.status == 503
    expect(page.locator("#import-form [role=alert]")).to_contain_text(
        "Imports cannot be queued right now"
    )
    assert page.url.endswith("/imports/new")
    assert newest_run() is None


def test_an_ended_run_links_to_its_log_except_on_its_own_page(
    page, staff_user, demo_webstore, start_worker
):
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(WIDE)
    page.goto("/imports/new")
    expect(page.locator("#import-preview")).to_contain_text("orders in the store match")
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".run-status")).to_have_attribute("data-status", "queued")
    page.locator(".run-panel h2 a").click()  # "Run N": the run's own page, its panel live
    expect(page).to_have_url(re.compile(r"/imports/runs/\d+$"))
    own = page.url
    log_link = page.get_by_role("link", name="Open the run's log")

    start_worker(burst=False)

    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.locator("tr.entry")).to_have_count(60)
    expect(log_link).to_have_count(0)
    expect(page.locator(".run-panel h2")).to_have_text("Run 1: DEMO")
    expect(page.locator(".run-panel h2 a")).to_have_count(0)  # no link to this page either
    screenshot(page, "newcomer-run-page-ended-live")
    page.reload()
    expect(page.get_by_role("heading", name="Imported (60)")).to_be_visible()
    expect(log_link).to_have_count(0)

    # From the import form, the ended run's panel leads to the run's page.
    page.goto("/imports/new")
    expect(page.locator("#import-preview")).to_contain_text("All of them are imported already")
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    # Each skipped order's row links the sales order its reason names.
    expect(page.locator("tr.entry-skipped td:nth-child(4) a")).to_have_count(60)
    expect(log_link).to_have_count(1)
    log_link.click()
    expect(page).to_have_url(re.compile(r"/imports/runs/\d+$"))
    assert page.url != own
    expect(page.get_by_role("heading", name="Skipped (60)")).to_be_visible()
    expect(log_link).to_have_count(0)


def test_a_skipped_orders_row_links_the_sales_order_its_reason_names(
    page, staff_user, demo_webstore
):
    run_import(demo_webstore, order_id=44)
    again = run_import(demo_webstore, order_id=44)
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(WIDE)

    page.goto(f"/imports/runs/{again.id}?outcome=skipped")

    row = page.locator("tr.entry-skipped")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("already imported as SO00001")
    expect(row.locator("td").nth(3)).to_have_text("SO00001")
    screenshot(page, "newcomer-skipped-sales-order")
    row.locator("td").nth(3).get_by_role("link", name="SO00001").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.locator("h1")).to_contain_text("SO00001")


# What on a page would need sideways scrolling: a card table wider than its wrapper, a cell
# whose content is wider than the cell or reaches past the screen, or the page itself.
SIDEWAYS = """() => {
  const found = [];
  for (const table of document.querySelectorAll("main table.cards")) {
    const name = table.id || table.className;
    const wrap = table.closest(".overflow-auto");
    if (wrap && wrap.scrollWidth > wrap.clientWidth)
      found.push(`${name} scrolls: ${wrap.scrollWidth} > ${wrap.clientWidth}`);
    for (const cell of table.querySelectorAll("td")) {
      const right = cell.getBoundingClientRect().right;
      if (cell.scrollWidth > cell.clientWidth || right > window.innerWidth)
        found.push(`${name}: ${cell.textContent.trim().slice(0, 40)}`);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth) found.push("the page scrolls");
  return found;
}"""

BEFORE = "cell => getComputedStyle(cell, '::before').content"


def test_long_cells_wrap_on_a_phone_and_tables_stay_tables_on_a_wide_screen(
    page, staff_user, demo_webstore
):
    demo_webstore.auto_create_items = False
    db.session.commit()
    failed = run_import(demo_webstore, statuses="processing")
    demo_webstore.auto_create_items = True
    db.session.commit()
    imported = run_import(demo_webstore, statuses="processing,completed")
    order = db.session.scalar(sa.select(SalesOrder).order_by(SalesOrder.id))
    reason = (
        "The store refused the update: woocommerce_rest_cannot_edit (401) at "
        "http://127.0.0.1/wp-json/wc/v3/orders/1234567890?consumer_key=ck_0123456789abcdef; "
        "check that the API key has Read/Write permission, then send it again."
    )
    db.session.add(
        StoreWriteback(
            sales_order_id=order.id,
            webstore_id=demo_webstore.id,
            woo_order_id=order.woo_order_id,
            event="post",
            status_to="completed",
            note="",
            state=WritebackState.FAILED,
            reason=reason,
        )
    )
    db.session.commit()
    sign_in_browser(page, staff_user.username)
    pages = {
        "failures": f"/imports/runs/{failed.id}",
        "imported": f"/imports/runs/{imported.id}?outcome=imported",
        "results": "/imports/",
    }

    page.set_viewport_size(PHONE)
    for name, url in pages.items():
        page.goto(url)
        expect(page.locator("main table.cards").first).to_be_visible()
        screenshot(page, f"newcomer-phone-{name}")
        assert page.evaluate(SIDEWAYS) == [], name
    page.goto(pages["failures"])
    message = page.locator("tr.entry-failed td.card-line").first
    expect(message).to_contain_text("'Create missing items' is off")
    assert message.bounding_box()["width"] > 300  # a line of its own, not a sliver
    first_cell = page.locator("tr.entry-failed td").first
    assert first_cell.evaluate(BEFORE) == '"Order "'  # each cell says what it is
    page.goto(pages["results"])
    expect(page.locator("#writebacks-table td.card-line")).to_contain_text(reason)
    assert page.locator("#writebacks-table td.card-line").bounding_box()["width"] > 300

    page.set_viewport_size(WIDE)
    for name, url in pages.items():
        page.goto(url)
        expect(page.locator("main table.cards thead").first).to_be_visible()
        screenshot(page, f"newcomer-wide-{name}")
        rows = page.locator("main table.cards tbody tr")
        assert set(rows.evaluate_all("rows => rows.map(r => getComputedStyle(r).display)")) == {
            "table-row"
        }, name
        assert page.evaluate(SIDEWAYS) == [], name
        assert page.locator("main table.cards td").first.evaluate(BEFORE) == "none", name


# Every label of the chart as drawn: its text, its font size on screen (the CSS size times the
# drawing's scale, rotation aside) and its box on the screen.
CHART_LABELS = """texts => texts.map(text => {
  const m = text.getScreenCTM();
  const box = text.getBoundingClientRect();
  return {
    text: text.textContent.trim(),
    size: parseFloat(getComputedStyle(text).fontSize) * Math.hypot(m.a, m.b),
    rotated: Math.abs(m.b) > Math.abs(m.a),
    box: {x: box.x, y: box.y, width: box.width, height: box.height},
  };
})"""


def no_two_overlap(labels: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if overlaps(a["box"], b["box"])
    ]


def test_the_charts_labels_read_at_eleven_pixels_or_more_on_a_phone_as_on_a_wide_screen(
    page, viewer_user, demo_webstore
):
    # Thirty days of three-digit totals: the widest a day's total gets in a month of imports.
    today = datetime.now(UTC).date()
    for days_ago in range(30):
        run = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.AUTOMATIC)
        run.status, run.imported = RunStatus.SUCCEEDED, 100 + (days_ago * 37) % 900
        run.created_at = datetime.combine(today - timedelta(days=days_ago), clock(12), UTC)
    db.session.commit()
    sign_in_browser(page, viewer_user.username)

    for name, size in (("phone", PHONE), ("wide", WIDE)):
        page.set_viewport_size(size)
        page.goto("/imports/")
        counts = page.locator("figure.chart text.count")
        expect(counts).to_have_count(30)
        screenshot(page, f"newcomer-chart-{name}")
        page.locator("figure.chart").screenshot(path=ARTIFACTS / f"newcomer-chart-{name}-close.png")
        figure = page.locator("figure.chart").bounding_box()
        dates = page.locator("figure.chart text.axis", has_text=re.compile("[A-Z]"))
        expect(dates).to_have_count(5)
        ticks = page.locator("figure.chart svg.chart-axis text")
        expect(ticks).to_have_text(["0", "500", "1,000"])

        every = page.locator("figure.chart text").evaluate_all(CHART_LABELS)
        assert len(every) == 38
        assert [label for label in every if label["size"] < 11] == [], name
        assert [label for label in every if label["box"]["height"] < 11] == [], name
        drawn = {
            kind: locator.evaluate_all(CHART_LABELS)
            for kind, locator in (("counts", counts), ("dates", dates), ("ticks", ticks))
        }
        for kind, labels in drawn.items():
            if kind == "counts" and name == "phone":
                # Upright, a total's box is its line's height across (~13 px), its digits
                # ~8 px: neighbours' centres 10 px apart or more leave their digits apart.
                middles = [label["box"]["x"] + label["box"]["width"] / 2 for label in labels]
                gaps = [b - a for a, b in zip(middles, middles[1:], strict=False)]
                assert min(gaps) >= 10, gaps
            else:
                assert no_two_overlap(labels) == [], (name, kind)
            for label in labels:  # inside the chart, none cut off at its edges
                box = label["box"]
                assert figure["x"] <= box["x"], (name, label)
                assert box["x"] + box["width"] <= figure["x"] + figure["width"], (name, label)
        # A total stands upright only where the bars are too narrow for it to lie.
        assert {label["rotated"] for label in drawn["counts"]} == {name == "phone"}
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
