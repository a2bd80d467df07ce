"""The portal as production runs it: the README's gunicorn, RQ worker and RQ cron scheduler
as separate processes on PostgreSQL and Redis, a sandbox store over HTTP, walked in Chromium
through the main stories. Any 5xx, console error or Content-Security-Policy violation fails."""

import csv
import re
import time
from datetime import date, timedelta
from decimal import Decimal

import requests
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq.cron import get_cron_job_ids
from rq.job import Job, JobStatus

from portal.woo.client import WooClient
from tests.conftest import screenshot, sign_in_browser

CODE = "SHOP"
# How long a wait for the worker or the store may take (ms): each job forks a work horse
# that builds the app, a few seconds on a busy machine.
SLOW = 60_000
CARRIER, TRACKING = "DHL", "JD014600003"


def watch(page) -> list[str]:
    """Server errors, console errors and policy violations of the page, as they come."""
    problems = []

    def response(r):
        if r.status >= 500:
            problems.append(f"{r.status} {r.request.method} {r.url}")

    def console(message):
        if message.type == "error":
            problems.append(f"console: {message.text} ({message.location})")

    page.on("response", response)
    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def test_the_main_stories_through_the_production_stack(stack, page):
    problems = watch(page)
    sandbox = stack.store

    sign_in_browser(page, stack.admin, stack.password)  # made by the README's create-user
    expect(page.get_by_role("heading", name="Webstore Sales Orders")).to_be_visible()
    set_up_webstore(page, sandbox)
    codes = vat_codes_for_the_stores_rates(page, sandbox)
    # Posted, refunded and reported: a new order that the store taxed and that posting
    # completes; the others have stories of their own below.
    woo_order_id = a_taxed_order_in_the_store(sandbox)
    entries = import_orders(page)
    number = dict(entries)[woo_order_id]
    entries = [entry for entry in entries if entry[0] != woo_order_id]
    post_with_tracking(page, sandbox, woo_order_id, number)
    refund_becomes_memo(page, sandbox, woo_order_id, number)
    posted_documents_and_vat_report(page, sandbox, codes, woo_order_id, number)
    webhook_imports_new_order(page, sandbox)
    trace(page, woo_order_id, number)
    cancelled_in_the_store(page, sandbox, stack.admin, *entries[1])
    updated_from_the_store(page, sandbox, *entries[2])
    health_audit_and_metrics(page, stack, *entries[3])

    assert problems == []
    assert stack.alive() == ["web", "worker", "scheduler"]
    # Threads: a sync worker is killed mid-download after 30 s (seen with a run log of
    # 600,000 entries, and with any large download to a slow client).
    assert "Using worker: gthread" in stack.log("web")
    scheduler_enqueued_and_worker_ran(stack)
    for name in ("web", "worker", "scheduler"):
        assert "Traceback" not in stack.log(name), stack.log(name)


def set_up_webstore(page, sandbox) -> None:
    """A webstore from nothing: the sandbox store, tested, with its shipping item."""
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("button", name="New webstore").click()
    page.get_by_label("Code").fill(CODE)
    page.get_by_label("Name").fill("Sandbox shop")
    page.get_by_label("Store URL").fill(sandbox.base_url)
    page.get_by_label("Consumer key").fill(sandbox.consumer_key)
    page.get_by_label("Consumer secret").fill(sandbox.consumer_secret)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text("Connected.")
    page.get_by_role("button", name="Create the standard shipping item").click()
    expect(page.get_by_role("status").filter(has_text="is ready")).to_be_visible()
    screenshot(page, "stack-1-new-webstore")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Webstore {CODE} saved.")).to_be_visible()


def vat_codes_for_the_stores_rates(page, sandbox) -> dict[int, str]:
    """A VAT code for each tax rate the store lists, made on the Accounting pages, and each
    rate mapped to its code on the webstore's Tax rates page, which reads the store's own
    list through the server. The codes by rate id."""
    with WooClient(sandbox.base_url, sandbox.consumer_key, sandbox.consumer_secret) as store:
        rates = store.tax_rates()
    codes = {rate.id: f"{rate.country}{rate.rate.normalize():f}".replace(".", "") for rate in rates}
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("link", name="Accounting", exact=True).click()
    page.get_by_role("navigation", name="Accounting setup").get_by_role(
        "link", name="VAT Codes"
    ).click()
    for rate in rates:
        page.get_by_role("button", name="New VAT code").click()
        page.get_by_label("Code").fill(codes[rate.id])
        page.get_by_label("Rate %").fill(f"{rate.rate.normalize():f}")
        page.get_by_label("Description").fill(f"{rate.country} {rate.name}")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"VAT code {codes[rate.id]} saved.")).to_be_visible()

    page.get_by_role("link", name="Setup").click()
    page.get_by_role("link", name=CODE, exact=True).click()
    page.locator("#mapping-pages").get_by_role("link", name="Tax rates").click()
    expect(page.get_by_role("heading", name=f"Tax rates of {CODE}")).to_be_visible()
    for rate in rates:
        row = page.locator(f'tr[data-key="{rate.id}"]')
        row.get_by_label("VAT code").select_option(
            label=f"{codes[rate.id]} ({rate.rate.normalize():f} %)"
        )
        row.get_by_role("button", name="Save").click()
        expect(row).to_contain_text(f"Saved: rate {rate.id} maps to VAT code {codes[rate.id]}")
    screenshot(page, "stack-1-tax-rates-mapped")
    return codes


def a_taxed_order_in_the_store(sandbox) -> int:
    """A new processing order that the store taxed (its checkout picks the country)."""
    with WooClient(sandbox.base_url, sandbox.consumer_key, sandbox.consumer_secret) as store:
        for _ in range(20):
            created = sandbox.create_order(status="processing")
            if store.get_order(created["id"]).tax_lines:
                return created["id"]
    raise AssertionError("the sandbox made no taxed order in 20 tries")


def import_orders(page) -> list[tuple[int, str]]:
    """Import Webstore Orders, watch the live log to its end, and download the run's log as
    CSV: a row an entry. The (store order, sales order) of each entry."""
    polls = []
    page.on("response", lambda r: polls.append(r.status) if "/poll" in r.url else None)
    page.get_by_role("link", name="Import Webstore Orders").click()
    page.get_by_label("Webstore Code").select_option(CODE)
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("orders in the store match")
    matching = int(preview.locator("strong").first.inner_text())
    page.get_by_role("button", name="Import", exact=True).click()

    status = page.locator(".run-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=SLOW)
    expect(status.locator(".count-imported strong")).to_have_text(str(matching))
    expect(page.locator("tbody tr.entry-imported")).to_have_count(matching)
    assert polls[-1] == 286  # the run ended, and htmx stopped asking
    screenshot(page, "stack-2-imported")
    entries = [
        (int(row.locator("td").nth(0).inner_text()), row.locator("td").nth(3).inner_text())
        for row in page.locator("tbody tr.entry").all()
    ]
    assert all(re.fullmatch(r"SO\d{5}", sales_order) for _, sales_order in entries)

    page.get_by_role("link", name="Open the run's log").click()
    rows = download_csv(page, page.get_by_role("button", name="Export CSV"))
    assert [(int(r["webstore_order_id"]), r["sales_order"]) for r in rows] == entries
    assert {r["outcome"] for r in rows} == {"imported"}
    return entries


def post_with_tracking(page, sandbox, woo_order_id: int, number: str) -> None:
    """Post with carrier and tracking: the worker completes the store order, with a note."""
    page.get_by_role("link", name=number).click()
    expect(page.locator("#store-update")).to_contain_text("is set to completed in the store")
    page.get_by_role("button", name="Post…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Carrier").fill(CARRIER)
    dialog.get_by_label("Tracking number").fill(TRACKING)
    dialog.get_by_role("button", name=f"Post {number}").click()
    expect(page.get_by_role("button", name="Post…")).to_have_count(0)
    reload_until(page, page.locator("tr.writeback-sent"))
    screenshot(page, "stack-3-posted")

    with WooClient(sandbox.base_url, sandbox.consumer_key, sandbox.consumer_secret) as store:
        assert store.get_order(woo_order_id).status == "completed"
        notes = [note["note"] for note in store.list_order_notes(woo_order_id)]
    assert (
        f"Sales order {number} is posted. Shipped with {CARRIER}, tracking number {TRACKING}."
        in notes
    )


def refund_becomes_memo(page, sandbox, woo_order_id: int, number: str) -> None:
    """A refund in the store, a refunds start date, Import Webstore Refunds: a credit memo,
    in the list and its CSV."""
    sandbox.refund_order(woo_order_id, amount="7.35", reason="Scratched")
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("link", name=CODE, exact=True).click()
    page.get_by_label("Refunds start date").fill((date.today() - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Webstore {CODE} saved.")).to_be_visible()

    page.get_by_role("link", name="Sales Credit Memos").click()
    page.get_by_role("button", name="Import Webstore Refunds").click()
    page.get_by_role("button", name="Import refunds").click()
    status = page.locator(".run-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=SLOW)
    expect(status.locator(".count-imported strong")).to_have_text("1")

    page.get_by_role("link", name="Sales Credit Memos").click()
    memo = page.locator("#memos-table tbody tr")
    expect(memo).to_have_count(1)
    expect(memo).to_contain_text("Scratched")
    screenshot(page, "stack-4-memo")
    memos = download_csv(page, page.get_by_role("button", name="Export CSV"))
    assert [
        (m["credit_memo"], m["sales_order"], m["webstore_order"], m["amount_including_tax"])
        for m in memos
    ] == [("CM00001", number, str(woo_order_id), "7.35")]


def posted_documents_and_vat_report(page, sandbox, codes, woo_order_id: int, number: str):
    """The posted order's Posted Sales Invoice, with the store's tax lines as its VAT; the
    memo posted as a Posted Credit Memo; the VAT report's CSV: the invoice's VAT less the
    memo's, per code."""
    with WooClient(sandbox.base_url, sandbox.consumer_key, sandbox.consumer_secret) as store:
        order = store.get_order(woo_order_id)
    store_vat = {}
    for tax in order.tax_lines:
        code = codes[tax.rate_id]
        store_vat[code] = store_vat.get(code, Decimal(0)) + tax.tax_total + tax.shipping_tax_total

    page.get_by_role("link", name="Webstore Sales Orders").click()
    page.get_by_role("link", name=number).click()
    page.locator("#posted-invoice").click()
    expect(page.get_by_role("heading", name="Posted Sales Invoice PSI00001")).to_be_visible()
    assert store_vat
    summary = page.locator("#vat-summary")
    for code in store_vat:
        expect(summary).to_contain_text(code)
    screenshot(page, "stack-4-posted-invoice")

    page.get_by_role("link", name="Sales Credit Memos").click()
    page.get_by_role("link", name="CM00001").click()
    page.get_by_role("button", name="Post…").click()
    page.get_by_role("dialog").get_by_role("button", name="Post CM00001").click()
    expect(page.get_by_text("Its Posted Credit Memo is PCM00001")).to_be_visible()

    page.get_by_role("link", name="Posted Documents").click()
    page.get_by_role("button", name="VAT report").click()
    page.get_by_label("Month").select_option(label="From and to dates")
    page.get_by_label("From", exact=True).fill("2000-01-01")
    page.get_by_label("To", exact=True).fill(date.today().isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report-period")).to_contain_text("From 2000-01-01")
    screenshot(page, "stack-5-vat-report")
    rows = download_csv(page, page.get_by_role("button", name="Export CSV"))
    in_document_currency = [r for r in rows if r["in"] == "document currency"]
    invoices = {r["vat_code"]: Decimal(r["invoices_vat"]) for r in in_document_currency}
    memos = sum((Decimal(r["credit_memos_vat"]) for r in in_document_currency), Decimal(0))
    net = {r["vat_code"]: Decimal(r["vat"]) for r in in_document_currency}
    assert {c: v for c, v in invoices.items() if v} == store_vat
    assert memos < 0  # the refund by amount reversed part of the order's VAT
    assert sum(net.values()) == sum(store_vat.values()) + memos


def webhook_imports_new_order(page, sandbox) -> None:
    """Webhooks registered in the store from the setup page: a new order there is delivered,
    signed, to the gunicorn server, and the worker imports it."""
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("link", name=CODE, exact=True).click()
    created = page.locator("#webhook-order-created")
    expect(created).to_have_attribute("data-state", "missing")  # as the store says
    page.get_by_role("button", name="Register webhooks in the store").click()
    expect(created).to_have_attribute("data-state", "active", timeout=SLOW)

    new = sandbox.create_order(status="processing")
    page.get_by_role("link", name="Import Results").click()
    run = page.locator("#runs-table tbody tr").filter(has_text="Webhook")
    reload_until(page, run.filter(has_text="succeeded"))
    screenshot(page, "stack-5-webhook")
    run.get_by_role("link").first.click()
    expect(page.locator("tr.entry-imported")).to_contain_text(str(new["number"]))


def trace(page, woo_order_id: int, number: str) -> None:
    """The order's trace, found from the header search: import, posting, store update, memo."""
    page.get_by_label("Search pages and sales orders, customers and items").press_sequentially(
        number
    )
    page.locator("#global-search-results").get_by_role("link", name=number).first.click()
    page.get_by_role("link", name="Trace", exact=True).click()
    heading = page.get_by_role("heading", name=f"Trace of webstore order {woo_order_id}")
    expect(heading).to_be_visible()
    events = page.locator("tr.trace-event")
    expect(events.filter(has_text="imported").first).to_contain_text(f"Imported as {number}")
    expect(events.filter(has_text="Store update on posting sent")).to_contain_text(
        "Store order set to completed"
    )
    expect(events.filter(has_text="Credit memo CM00001 created")).to_contain_text("Scratched")
    screenshot(page, "stack-6-trace")


def cancelled_in_the_store(page, sandbox, admin: str, woo_order_id: int, number: str) -> None:
    """An imported order cancelled in the store: its webhook's run warns; the clerk reviews
    it, cannot post it, and cancels the sales order; the trace tells it all."""
    sandbox.modify_order(woo_order_id, status="cancelled")  # delivered as order.updated
    page.goto(f"/search?q={number}")  # the header search opens the order of that number
    warning = page.locator("#change-warning")
    reload_until(page, warning)
    expect(warning).to_contain_text("→ cancelled")
    warning.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator("#last-review")).to_contain_text(f"by {admin}")
    page.get_by_role("button", name="Post…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("is cancelled in the store: do not post")
    dialog.get_by_role("button", name="Back").click()
    page.get_by_role("button", name=f"Cancel {number}").click()
    expect(page.locator("h1 .order-status")).to_have_text("cancelled")
    screenshot(page, "stack-7-cancelled")
    page.get_by_role("link", name="Trace", exact=True).click()
    events = page.locator("tr.trace-event")
    expect(events.filter(has_text=f"Change reviewed by {admin}")).to_contain_text("cancelled")
    expect(events.filter(has_text=f"Sales order cancelled by {admin}")).to_have_count(1)
    with WooClient(sandbox.base_url, sandbox.consumer_key, sandbox.consumer_secret) as store:
        assert store.get_order(woo_order_id).status == "cancelled"
        assert not [n for n in store.list_order_notes(woo_order_id) if number in n["note"]]


def updated_from_the_store(page, sandbox, woo_order_id: int, number: str) -> None:
    """A quantity changed in the store: Update from the store makes the sales order the
    store's again, to the cent."""
    line = sandbox.modify_order(woo_order_id)["line_items"][0]
    changed = sandbox.modify_order(woo_order_id, quantities={line["id"]: line["quantity"] + 2})
    page.goto(f"/search?q={number}")
    warning = page.locator("#change-warning")
    reload_until(page, warning)
    expect(warning).to_contain_text(f"quantity of '{line['name']}'")
    warning.get_by_role("button", name="Update from the store").click()
    expect(
        page.get_by_text(f"{number} updated from the store: total {changed['total']}")
    ).to_be_visible()
    expect(page.locator("#change-warning")).to_have_count(0)
    total = f"{Decimal(changed['total']):,.2f} {changed['currency']}"
    expect(page.locator(".totals")).to_contain_text(total)
    screenshot(page, "stack-8-updated")


def health_audit_and_metrics(page, stack, woo_order_id: int, number: str) -> None:
    """The home page's sync health; a completeness audit run by the worker accounts for every
    store order; Webstore Orders links an imported one to its sales order; /metrics answers
    a scrape from this host with what the runs imported, and refuses one through a proxy."""
    page.goto("/")
    health = page.locator(f"#health-{CODE}")
    expect(health).to_contain_text(CODE)
    assert health.get_attribute("data-state") in ("healthy", "degraded", "failing")

    page.goto("/audits")
    row = page.locator("tbody tr").filter(has_text=CODE)
    row.get_by_role("button", name="Run audit now").click()
    audit = page.locator("#audit")
    expect(audit.locator(".badge-succeeded")).to_be_visible(timeout=SLOW)
    expect(audit).to_contain_text("Every store order of the window is accounted for.")
    screenshot(page, "stack-9-audit")

    page.goto(f"/webstore-orders?webstore={CODE}&number={woo_order_id}")
    order = page.locator("#store-orders-table tbody tr").filter(has_text=number)
    expect(order.get_by_role("link", name=number)).to_be_visible()

    scrape = requests.get(f"{stack.url}/metrics", timeout=30)
    assert scrape.status_code == 200, scrape.text
    imported = {
        sample.labels["webstore"]: sample.value
        for family in text_string_to_metric_families(scrape.text)
        for sample in family.samples
        if sample.name == "webstore_connector_orders_total"
        and sample.labels.get("outcome") == "imported"
    }
    assert imported[CODE] >= 4
    proxied = requests.get(
        f"{stack.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30
    )
    assert proxied.status_code in (401, 403)


def reload_until(page, locator, timeout: float = SLOW / 1000) -> None:
    """Reload the page until ``locator`` shows: what a worker did shows on the next load."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator.first).to_be_visible(timeout=500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def download_csv(page, link) -> list[dict]:
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None, download.failure()
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def scheduler_enqueued_and_worker_ran(stack) -> None:
    """The scheduler's job (jobs/cron_config.py), enqueued at its start, ran on the worker."""
    with Redis.from_url(stack.env["REDIS_URL"]) as redis:
        ids = get_cron_job_ids("jobs.auto_sync.enqueue_due", redis)
        assert ids, stack.log("scheduler")
        job = Job.fetch(ids[-1], connection=redis)
        assert job.get_status() == JobStatus.FINISHED, stack.log("worker")
    # The look at what is due goes on the queue workers take first: on time behind a backlog.
    assert "Registered 'jobs.auto_sync.enqueue_due' to run on webhooks" in stack.log("scheduler")
    for job_name in (
        "jobs.health.refresh_webhooks_job",
        "jobs.alerts.check_alerts_job",
        "jobs.audits.enqueue_due_audits",
    ):
        assert f"Registered '{job_name}' to run on imports" in stack.log("scheduler")
