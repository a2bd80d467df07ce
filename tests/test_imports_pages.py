"""Import Webstore Orders and Import Results: pages, fragments, live polling, retry, CSV."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    Outcome,
    RunKind,
    RunStatus,
    SalesOrder,
    SyncLogEntry,
    SyncRun,
    Trigger,
)
from portal.models.base import utcnow
from portal.queue import import_queue
from portal.sync.filters import ImportFilters, merge_filters
from portal.sync.runs import client_for, create_run, execute_run, retry_failed
from portal.sync.schedule import incremental_filters, refund_filters
from portal.woo.client import OrderQuery
from tests.sync_helpers import (
    entries,
    imported_order,
    logged_run,
    run_import,
    work_queued_jobs,
)


def newest_run() -> SyncRun:
    db.session.expire_all()
    return db.session.scalar(sa.select(SyncRun).order_by(SyncRun.id.desc()))


def test_the_import_form_shows_the_four_filters(signed_in_staff, demo_webstore):
    page = signed_in_staff.get("/imports/new").text
    for label in ("Webstore Code", "Order ID", "Order Start Date"):
        assert f">{label}</label>" in page
    assert "<legend>Order Status Filter</legend>" in page
    assert "DEMO — Demo store (sandbox)" in page


def test_choosing_a_webstore_prefills_the_filters_from_its_setup(signed_in_staff, demo_webstore):
    demo_webstore.default_status_filter = "processing,on-hold"
    db.session.commit()

    fragment = signed_in_staff.get(
        "/imports/new/filters?webstore=DEMO", headers={"HX-Request": "true"}
    ).text

    assert "<html" not in fragment
    checked = re.findall(
        r'<input checked id="statuses-\d+" name="statuses" type="checkbox" '
        r'value="([a-z-]+)">',
        fragment,
    )
    assert checked == ["processing", "on-hold"]
    # The store's own counts per status, from /reports/orders/totals.
    assert re.search(
        r'value="processing"> Processing <small class="muted">\(\d+\)</small>', fragment
    )


def test_the_preview_says_how_many_orders_match_and_how_many_are_imported(
    signed_in_staff, demo_webstore
):
    run_import(demo_webstore, order_id=44)  # completed
    response = signed_in_staff.get(
        "/imports/preview?webstore=DEMO&statuses=completed", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "orders in the store match" in response.text
    assert "About <strong>1</strong> of them are imported already" in response.text


def test_the_only_webstore_is_chosen_and_nothing_is_red_before_a_first_try(
    signed_in_staff, demo_webstore
):
    demo_webstore.default_status_filter = "processing,completed"
    db.session.commit()

    page = signed_in_staff.get("/imports/new").text
    preview = signed_in_staff.get("/imports/preview?order_id=&start_date=").text

    assert '<option selected value="DEMO">DEMO — Demo store (sandbox)</option>' in page
    assert "Choose a webstore…" not in page
    assert re.search(r'<input checked id="statuses-\d+" name="statuses"', page)
    assert "field-error" not in page
    assert preview == ""


def test_with_two_webstores_the_person_chooses(signed_in_staff, demo_webstore, webstore):
    page = signed_in_staff.get("/imports/new").text

    assert '<option value="">Choose a webstore…</option>' in page
    assert "<option selected" not in page
    assert "field-error" not in page


def test_an_import_that_would_match_nothing_says_so_and_starts_nothing(
    signed_in_staff, demo_webstore, store
):
    # No refunded order is left in the store.
    with client_for(demo_webstore) as client:
        refunded = [o.id for o in client.iter_orders(OrderQuery(status=("refunded",)))]
    for order_id in refunded:
        store.trash_order(order_id)
    filters = {"webstore": "DEMO", "statuses": ["refunded"]}
    preview = signed_in_staff.get("/imports/preview", query_string=filters).text
    response = signed_in_staff.post("/imports/", filters, htmx=True)

    described = "status refunded"
    assert f"<strong>No order</strong> in the store matches ({described})" in preview
    assert response.status_code == 422
    assert f"No order in the store matches these filters ({described})" in response.text
    assert "Nothing was started." in response.text
    assert newest_run() is None


def test_an_order_id_the_store_does_not_have_is_refused_before_starting(
    signed_in_staff, demo_webstore
):
    response = signed_in_staff.post("/imports/", {"webstore": "DEMO", "order_id": "99999"})

    assert response.status_code == 422
    assert 'id="order_id-error"' in response.text
    assert "The store has no order 99999 of the statuses chosen" in response.text
    assert newest_run() is None


def test_the_preview_explains_bad_filters(signed_in_staff, demo_webstore):
    response = signed_in_staff.get("/imports/preview?webstore=DEMO&order_id=x")
    assert "Order ID must be a whole number from 1" in response.text


def test_validation_errors_appear_inline_and_nothing_is_enqueued(signed_in_staff, demo_webstore):
    response = signed_in_staff.post("/imports/", {"webstore": "DEMO", "order_id": "-3"}, htmx=True)

    assert response.status_code == 422
    assert 'id="order_id-error"' in response.text
    assert "Order ID must be a whole number from 1" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0
    assert import_queue().count == 0


def test_a_missing_webstore_is_an_inline_error(signed_in_staff, demo_webstore):
    response = signed_in_staff.post("/imports/", {"webstore": ""})
    assert response.status_code == 422
    assert "Choose a webstore." in response.text


def test_a_webstore_whose_setup_lacks_a_charge_item_says_so_and_starts_nothing(
    signed_in_staff, demo_webstore
):
    demo_webstore.shipping_charge_item = None
    db.session.commit()

    chosen = signed_in_staff.get(
        "/imports/new/filters?webstore=DEMO", headers={"HX-Request": "true"}
    ).text
    preview = signed_in_staff.get("/imports/preview?webstore=DEMO").text
    started = signed_in_staff.post("/imports/", {"webstore": "DEMO"}, htmx=True)

    notice = chosen[chosen.index('id="import-not-ready"') : chosen.index("</article>")]
    assert "DEMO cannot import yet." in notice
    assert "No shipping charge item: every order with shipping would fail." in notice
    assert "Ask an administrator to complete it under Setup &gt; Webstores." in notice
    assert preview.strip() == ""
    assert started.status_code == 422
    assert "Webstore DEMO cannot import yet" in started.text
    assert 'id="import-not-ready"' in started.text
    assert newest_run() is None


def test_an_admin_is_led_to_the_setup_that_lacks_something(signed_in_admin, demo_webstore):
    demo_webstore.no_product_item = None
    db.session.commit()

    page = signed_in_admin.get("/imports/new?webstore=DEMO").text

    assert "No item for lines without a product" in page
    link = f'<a href="/setup/webstores/{demo_webstore.id}">Complete the setup of DEMO</a>'
    assert link in page


def test_submitting_swaps_in_the_runs_live_panel(signed_in_staff, demo_webstore):
    response = signed_in_staff.post(
        "/imports/", {"webstore": "DEMO", "statuses": ["processing"]}, htmx=True
    )

    run = newest_run()
    assert response.status_code == 200
    assert f'id="run-{run.id}-status"' in response.text
    assert 'hx-trigger="every 1s' in response.text
    assert run.status == RunStatus.QUEUED and run.trigger == Trigger.MANUAL
    assert run.filters["statuses"] == ["processing"]


def test_without_javascript_submitting_opens_the_run_page(signed_in_staff, demo_webstore):
    response = signed_in_staff.post("/imports/", {"webstore": "DEMO"})
    run = newest_run()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/imports/runs/{run.id}"


def test_the_form_refuses_with_a_message_when_redis_is_down(signed_in_staff, demo_webstore, app):
    from flask import g

    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    g.pop("redis", None)

    form = signed_in_staff.get("/imports/new")
    response = signed_in_staff.post("/imports/", {"webstore": "DEMO"})

    assert form.status_code == 200 and "Imports cannot be queued right now" in form.text
    assert response.status_code == 503
    assert "Imports cannot be queued right now" in response.text
    assert signed_in_staff.get("/imports/").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_polling_returns_only_entries_after_the_last_one_shown(signed_in_staff, demo_webstore):
    run = run_import(demo_webstore, statuses="processing,completed")
    logged = entries(run)
    assert len(logged) > 3
    middle = logged[2].id

    response = signed_in_staff.get(f"/imports/runs/{run.id}/poll?after={middle}")

    shown = [int(i) for i in __import__("re").findall(r'id="entry-(\d+)"', response.text)]
    assert shown == [e.id for e in logged if e.id > middle]


def test_a_finished_run_answers_286_to_stop_polling(signed_in_staff, demo_webstore):
    run = run_import(demo_webstore, order_id=44)
    last = entries(run)[-1].id

    response = signed_in_staff.get(f"/imports/runs/{run.id}/poll?after={last}")

    assert response.status_code == 286
    assert "hx-trigger" not in response.text
    assert "succeeded" in response.text


def poll_url(fragment: str) -> str:
    """The URL a run's status polls next, as the page holds it."""
    return re.search(r'hx-get="([^"]+/poll\?[^"]+)"', fragment)[1].replace("&amp;", "&")


def test_a_running_run_keeps_polling_and_answers_204_when_nothing_changed(
    signed_in_staff, demo_webstore
):
    run = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)
    first = signed_in_staff.get(f"/imports/runs/{run.id}/poll?after=0")
    assert first.status_code == 200 and 'hx-trigger="every 1s' in first.text

    unchanged = signed_in_staff.get(poll_url(first.text))
    assert unchanged.status_code == 204


def test_the_poll_answers_as_soon_as_the_run_starts_before_any_order_is_settled(
    signed_in_staff, demo_webstore
):
    run = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)
    queued = signed_in_staff.get(f"/imports/runs/{run.id}")
    run.status = RunStatus.RUNNING
    run.started_at = run.heartbeat_at = utcnow()  # alive: not reaped as dead
    db.session.commit()

    started = signed_in_staff.get(poll_url(queued.text))
    run.store_total = 560
    db.session.commit()
    counted = signed_in_staff.get(poll_url(started.text))
    unchanged = signed_in_staff.get(poll_url(counted.text))

    assert run.settled == 0
    assert started.status_code == 200 and 'data-status="running"' in started.text
    assert "Importing since" in started.text and "Waiting for a worker" not in started.text
    assert counted.status_code == 200 and "0 of 560 orders done." in counted.text
    assert unchanged.status_code == 204


def test_an_ended_run_links_to_its_log_from_other_pages_but_not_from_its_own(
    signed_in_staff, demo_webstore
):
    run = run_import(demo_webstore, order_id=44)
    last = entries(run)[-1].id
    link = f'<a href="/imports/runs/{run.id}">Open the run\'s log</a>'
    poll = f"/imports/runs/{run.id}/poll?after={last}"

    own_page = signed_in_staff.get(f"/imports/runs/{run.id}").text
    own_outcome = signed_in_staff.get(f"/imports/runs/{run.id}?outcome=imported").text
    from_own = {"HX-Request": "true", "HX-Current-URL": f"http://localhost/imports/runs/{run.id}"}
    from_form = {"HX-Request": "true", "HX-Current-URL": "http://localhost/imports/new"}
    polled_from_own = signed_in_staff.get(poll, headers=from_own).text
    polled_from_form = signed_in_staff.get(poll, headers=from_form).text

    assert "Open the run's log" not in own_page
    assert "Open the run's log" not in own_outcome
    assert "Open the run's log" not in polled_from_own
    assert link in polled_from_form


def test_the_panel_says_when_another_run_of_the_webstore_is_going(signed_in_staff, demo_webstore):
    automatic = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.AUTOMATIC)
    automatic.status = RunStatus.RUNNING
    db.session.commit()

    response = signed_in_staff.post("/imports/", {"webstore": "DEMO"}, htmx=True)

    assert "Automatic sync, by the scheduler (<a href" in response.text
    assert "is running for DEMO beside this one" in response.text
    assert "never imported twice" in response.text


def test_queued_import_runs_and_its_page_shows_the_log(signed_in_staff, demo_webstore):
    signed_in_staff.post("/imports/", {"webstore": "DEMO", "order_id": "44"}, htmx=True)
    work_queued_jobs()
    run = newest_run()

    page = signed_in_staff.get(f"/imports/runs/{run.id}").text

    assert run.status == RunStatus.SUCCEEDED
    assert "Imported as SO00001" in page
    assert 'href="/orders/' in page
    assert "Export CSV" in page


def test_results_list_every_run_newest_first_with_filters(signed_in_viewer, demo_webstore):
    first = run_import(demo_webstore, order_id=44)
    second = run_import(demo_webstore, order_id=45, trigger=Trigger.RETRY)

    page = signed_in_viewer.get("/imports/").text
    assert page.index(f">{second.id}</a>") < page.index(f">{first.id}</a>")
    assert "<svg" in page and "Sales orders per day, last 30 days" in page
    assert "credit memos (refunds) are not counted" in page

    only_retries = signed_in_viewer.get(
        "/imports/?trigger=retry", headers={"HX-Request": "true", "HX-Target": "runs-table"}
    ).text
    assert "<html" not in only_retries
    assert f">{second.id}</a>" in only_retries and f">{first.id}</a>" not in only_retries


def changed_run(webstore) -> SyncRun:
    """A finished run that found one imported order changed in the store, and nothing else."""
    run = logged_run(webstore, changed=1, store_total=1)
    db.session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=webstore.id,
            woo_order_id=44,
            woo_order_number="44",
            outcome=Outcome.CHANGED,
            message="Changed since imported as SO00001: status processing → cancelled",
            sales_order_number="SO00001",
        )
    )
    db.session.commit()
    return run


def test_the_runs_list_counts_what_each_run_found_changed(signed_in_viewer, demo_webstore):
    run = changed_run(demo_webstore)

    table = signed_in_viewer.get(
        "/imports/", headers={"HX-Request": "true", "HX-Target": "runs-table"}
    ).text

    assert (
        '<th class="num">Imported</th><th class="num">Changed</th><th class="num">Skipped' in table
    )
    counts = re.findall(r'<td class="num" data-label="\w+">(\d+)</td>', table)
    assert (run.imported, run.changed, run.skipped, run.failed) == (0, 1, 0, 0)
    assert counts == ["0", "1", "0", "0"]


def test_the_run_page_and_its_csv_show_the_changed_orders(signed_in_viewer, demo_webstore):
    run = changed_run(demo_webstore)

    page = signed_in_viewer.get(f"/imports/runs/{run.id}").text
    csv_file = signed_in_viewer.get(f"/imports/runs/{run.id}/entries.csv").data.decode("utf-8-sig")

    assert '<span class="count-changed">Changed <strong>1</strong></span>' in page
    assert '<h2 id="section-changed">Changed in the store (1)</h2>' in page
    assert "status processing → cancelled" in page
    [row] = csv.DictReader(io.StringIO(csv_file))
    assert (row["outcome"], row["sales_order"]) == ("changed", "SO00001")


def test_the_chart_counts_each_order_once_a_day(app, demo_webstore):
    from portal.imports.queries import daily_totals

    demo_webstore.auto_create_items = False
    db.session.commit()
    failing = run_import(demo_webstore, statuses="processing")
    run_import(demo_webstore, statuses="processing")  # the same orders fail again
    demo_webstore.auto_create_items = True
    db.session.commit()
    imported = run_import(demo_webstore, statuses="completed")
    run_import(demo_webstore, statuses="completed")  # all skipped now

    days = daily_totals()
    today = days[-1]

    assert len(days) == 30 and days[0]["day"] == today["day"] - timedelta(days=29)
    # The seeded store's 9 processing orders fail (no items), its 17 completed ones import.
    assert (failing.failed, imported.imported) == (9, 17)
    assert today["failed"] == failing.failed  # not twice
    assert today["imported"] == imported.imported
    assert "skipped" not in today
    assert all(day["imported"] == day["failed"] == 0 for day in days[:-1])


def test_the_chart_counts_sales_orders_and_leaves_credit_memos_out(app, demo_webstore, store):
    from portal.imports.queries import daily_totals

    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "2.00", "reason": ""})
    refunds_run = execute_run(
        create_run(
            demo_webstore,
            refund_filters(demo_webstore, order_ids=(order.woo_order_id,)),
            Trigger.MANUAL,
            kind=RunKind.REFUNDS,
        ).id
    )
    store.modify_order(order.woo_order_id, refund={"amount": "1.00", "reason": ""})
    webhook = ImportFilters(order_ids=(order.woo_order_id,), sources={"order_ids": "webhook"})
    webhook_run = execute_run(create_run(demo_webstore, webhook, Trigger.WEBHOOK).id)
    refused = refund_failure(demo_webstore, order.woo_order_id)

    today = daily_totals()[-1]

    # A memo each, and a refund that failed: none of them is a sales order.
    assert (refunds_run.imported, webhook_run.imported, refused.failed) == (1, 1, 1)
    assert (today["imported"], today["failed"]) == (1, 0)


def refund_failure(webstore, order_id) -> SyncRun:
    """A refunds run whose one refund could not be credited, logged as such runs log it."""
    run = create_run(webstore, merge_filters(webstore), Trigger.MANUAL, kind=RunKind.REFUNDS)
    db.session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=webstore.id,
            woo_order_id=order_id,
            outcome=Outcome.FAILED,
            message="refund 9001: its lines come to 9.00 USD, more than the refund's 5.00: "
            "check the refund in the store.",
        )
    )
    run.status, run.failed = RunStatus.FAILED, 1
    db.session.commit()
    return run


def test_the_chart_has_a_day_axis_counts_and_a_table(signed_in_viewer, demo_webstore):
    run = run_import(demo_webstore, statuses="completed")
    today = datetime.now(UTC).date()

    page = signed_in_viewer.get("/imports/").text

    chart = page[page.index('<figure class="chart"') : page.index("</figure>")]
    assert chart.count('<rect class="day"') == 30
    labels = re.findall(r'<text class="axis"[^>]*>([A-Z][a-z]{2} \d+)</text>', chart)
    assert len(labels) == 5 and labels[-1] == today.strftime("%b %-d")
    assert f'text-anchor="middle">{run.imported}</text>' in chart
    assert chart.count('<rect class="bar-imported"') == 1
    assert re.findall(r'text-anchor="end">([\d,]+)</text>', chart)[0] == "0"
    table = chart[chart.index('<table id="chart-table"') :]
    assert table.count('<tr><th scope="row">') == 30
    assert f'<th scope="row">{today.isoformat()}</th><td>{run.imported}</td><td>0</td>' in table


def test_chart_ticks_are_round_numbers():
    from portal.imports.chart import nice_ceiling

    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 11, 60, 1386)] == [1, 1, 5, 10, 20, 100, 2000]


def test_a_runs_entries_can_be_filtered_by_outcome(signed_in_viewer, demo_webstore):
    run_import(demo_webstore, order_id=44)
    run = run_import(demo_webstore, statuses="completed")

    skipped = signed_in_viewer.get(f"/imports/runs/{run.id}?outcome=skipped").text
    imported = signed_in_viewer.get(f"/imports/runs/{run.id}?outcome=imported").text

    assert "already imported as SO00001" in skipped
    assert "already imported as" not in imported


def test_retry_failed_orders_starts_a_retry_run_with_its_panel(signed_in_staff, demo_webstore):
    demo_webstore.auto_create_items = False
    db.session.commit()
    failed = run_import(demo_webstore)
    demo_webstore.auto_create_items = True
    db.session.commit()

    response = signed_in_staff.post(f"/imports/runs/{failed.id}/retry", htmx=True)
    work_queued_jobs()

    retry = newest_run()
    assert f'id="run-{retry.id}-status"' in response.text
    assert retry.trigger == Trigger.RETRY and retry.status == RunStatus.SUCCEEDED
    assert retry.imported == failed.failed


def test_viewers_cannot_import_or_retry(signed_in_viewer, demo_webstore):
    run = run_import(demo_webstore, order_id=44)
    assert signed_in_viewer.get("/imports/new").status_code == 403
    assert signed_in_viewer.post("/imports/", {"webstore": "DEMO"}).status_code == 403
    assert signed_in_viewer.post(f"/imports/runs/{run.id}/retry").status_code == 403
    assert "Retry failed orders" not in signed_in_viewer.get(f"/imports/runs/{run.id}").text


def test_csv_export_holds_every_entry(signed_in_viewer, demo_webstore):
    run = run_import(demo_webstore, statuses="processing,completed")
    db.session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=demo_webstore.id,
            woo_order_id=1,
            outcome=Outcome.FAILED,
            message='=HYPERLINK("http://evil")',
        )
    )
    db.session.commit()

    response = signed_in_viewer.get(f"/imports/runs/{run.id}/entries.csv")

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == len(entries(run))
    assert rows[-1]["message"].startswith("'=HYPERLINK")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_no_csv_cell_can_start_a_formula(signed_in_viewer, demo_webstore, start):
    run = run_import(demo_webstore, order_id=44)
    payload = f'{start}HYPERLINK("http://evil")'
    db.session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=demo_webstore.id,
            woo_order_id=7,
            woo_order_number=payload,
            outcome=Outcome.FAILED,
            message=payload,
            sales_order_number=f"{start}SO1",
            customers_created=f"{start}cmd|' /C calc'!A0",
            items_created=f"{start}SUM(1+2)",
        )
    )
    db.session.commit()

    body = signed_in_viewer.get(f"/imports/runs/{run.id}/entries.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))

    cells = [value for row in rows for value in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    last = rows[-1]
    assert last["webstore_order_number"] == "'" + payload
    assert last["items_created"] == f"'{start}SUM(1+2)"
    # Numbers stay numbers a spreadsheet can add up.
    assert last["webstore_order_id"] == "7" and last["entry"].isdigit()


def test_csv_export_opens_in_excel_with_accents_intact(signed_in_viewer, demo_webstore):
    run = run_import(demo_webstore, order_id=44)
    db.session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=demo_webstore.id,
            woo_order_id=2,
            outcome=Outcome.FAILED,
            message="Zoë Müller-Ørsted has no customer",
        )
    )
    db.session.commit()

    response = signed_in_viewer.get(f"/imports/runs/{run.id}/entries.csv")

    # Excel takes a file for UTF-8 by its byte-order mark.
    assert response.data.startswith(b"\xef\xbb\xbfentry,")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "Zoë Müller-Ørsted".encode() in response.data


@pytest.mark.parametrize("path", ["/imports/", "/imports/runs/{id}", "/imports/runs/{id}/poll"])
def test_import_pages_escape_what_the_store_sent(signed_in_viewer, demo_webstore, path):
    run = run_import(demo_webstore, order_id=44)
    db.session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=demo_webstore.id,
            woo_order_id=2,
            woo_order_number="<script>alert(1)</script>",
            outcome=Outcome.FAILED,
            message='"><img src=x onerror=alert(2)>',
        )
    )
    db.session.commit()

    page = signed_in_viewer.get(path.format(id=run.id)).text

    assert "<script>alert(1)</script>" not in page
    assert "<img src=x onerror" not in page


# A run's page: what needs a person first


def test_the_run_page_leads_with_failures_and_counts_skips_by_reason(
    signed_in_staff, demo_webstore
):
    run = logged_run(demo_webstore, failed=10, skipped=500)

    page = signed_in_staff.get(f"/imports/runs/{run.id}").text

    headings = re.findall(r'<h2 id="section-(\w+)">', page)
    assert headings == ["failed", "skipped"]
    assert page.count('class="entry entry-failed"') == 10
    assert 'class="entry entry-skipped"' not in page  # shown on demand only
    reasons = page[page.index('class="skip-reasons"') :]
    assert re.search(
        r"<td>Imported before, not changed since</td><td class=\"num\">400</td>", reasons
    )
    assert re.search(r"<td>Sales order posted</td><td class=\"num\">100</td>", reasons)
    assert f'href="/imports/runs/{run.id}?outcome=skipped">Show the skipped orders</a>' in page
    assert "Retry failed orders" in page
    db.session.refresh(run)
    assert run.skip_reasons == {"already imported": 400, "posted": 100}


def test_skipped_orders_are_listed_on_demand_a_page_at_a_time(signed_in_viewer, demo_webstore):
    run = logged_run(demo_webstore, skipped=250)

    first = signed_in_viewer.get(f"/imports/runs/{run.id}?outcome=skipped").text
    after = re.search(r'href="(/imports/runs/\d+\?outcome=skipped&amp;after=\d+)"', first)[1]
    second = signed_in_viewer.get(after.replace("&amp;", "&")).text

    assert first.count('class="entry entry-skipped"') == 100
    assert second.count('class="entry entry-skipped"') == 100
    assert "<td>Sales order posted</td>" in first  # the summary beside the list
    # Each store order number links to its trace.
    numbers = re.findall(
        r'<td class="nowrap" data-label="Order"><a href="[^"]+"[^>]*>(\d+)</a></td>', second
    )
    assert numbers[0] == "1100"


def test_sales_order_numbers_on_the_run_page_link_to_their_orders(signed_in_viewer, demo_webstore):
    run = run_import(demo_webstore, order_id=44)
    order = db.session.scalar(sa.select(SalesOrder))

    page = signed_in_viewer.get(f"/imports/runs/{run.id}").text

    assert f'<a href="/orders/{order.id}">{order.number}</a>' in page


def test_a_skipped_order_shows_the_sales_order_its_reason_names_linked(
    signed_in_viewer, demo_webstore
):
    first = run_import(demo_webstore, order_id=44)
    order = db.session.scalar(sa.select(SalesOrder))
    again = run_import(demo_webstore, order_id=44)
    gone = logged_run(demo_webstore, skipped=1)  # "posted: SO00000 is posted": no such order

    page = signed_in_viewer.get(f"/imports/runs/{again.id}?outcome=skipped").text
    polled = signed_in_viewer.get(f"/imports/runs/{again.id}/poll?after=0").text
    gone_page = signed_in_viewer.get(f"/imports/runs/{gone.id}?outcome=skipped").text

    assert first.imported == 1 and again.skipped == 1
    cell = f'data-label="Sales order"><a href="/orders/{order.id}">{order.number}</a></td>'
    assert f"already imported as {order.number}" in page and cell in page
    assert cell in polled
    assert (
        'posted: SO00000 is posted</td>\n  <td class="nowrap" data-label="Sales order">SO00000</td>'
        in gone_page
    )


def test_a_failure_imported_by_a_later_retry_says_so_and_retry_is_gone(
    signed_in_staff, demo_webstore
):
    demo_webstore.auto_create_items = False
    db.session.commit()
    first = run_import(demo_webstore, order_id=44)
    demo_webstore.auto_create_items = True
    db.session.commit()
    before = signed_in_staff.get(f"/imports/runs/{first.id}").text
    retry = execute_run(retry_failed(first).id)

    after = signed_in_staff.get(f"/imports/runs/{first.id}").text

    assert first.status == RunStatus.FAILED
    assert "Retry failed orders" in before
    link = f'imported since by <a href="/imports/runs/{retry.id}">run {retry.id}</a>'
    assert link in after
    assert "Retry failed orders" not in after
    assert "Every order that failed here has been imported since." in after
    retried = signed_in_staff.get(f"/imports/runs/{retry.id}").text
    assert (
        f'Retry of the failed orders of <a href="/imports/runs/{first.id}">run {first.id}</a>'
        in (retried)
    )


@pytest.mark.parametrize(
    ("trigger", "by_user", "retry_of", "synced", "expected"),
    [
        (Trigger.MANUAL, True, False, False, "Manual import by staff-user"),
        (Trigger.AUTOMATIC, False, False, True, "Automatic sync, by the scheduler"),
        (
            Trigger.AUTOMATIC,
            True,
            False,
            True,
            "Automatic sync, started with Sync now by staff-user",
        ),
        (Trigger.WEBHOOK, False, False, False, "Webhook from the store"),
        (
            Trigger.AUTOMATIC,
            False,
            True,
            True,
            "Automatic sync, by the scheduler; attempt 2, going on",
        ),
        (Trigger.COMMAND, False, False, True, "Command line: flask sync-webstore"),
        (Trigger.COMMAND, False, False, False, "Command line: flask import-orders"),
    ],
)
def test_the_run_page_says_what_started_the_run(
    signed_in_staff, staff_user, demo_webstore, trigger, by_user, retry_of, synced, expected
):
    earlier = logged_run(demo_webstore, imported=1) if retry_of else None
    filters = incremental_filters(demo_webstore) if synced else merge_filters(demo_webstore)
    run = logged_run(
        demo_webstore,
        imported=1,
        trigger=trigger,
        requested_by=staff_user if by_user else None,
        retry_of_id=earlier.id if earlier else None,
        attempt=2 if earlier else 1,
        filters=filters.to_json(),
    )

    page = signed_in_staff.get(f"/imports/runs/{run.id}").text

    assert f"<dt>Started by</dt><dd>{expected}" in page
    assert "not yet" not in page


def test_the_runs_list_says_what_started_each_run_and_filters_by_it(
    signed_in_viewer, staff_user, demo_webstore
):
    synced = incremental_filters(demo_webstore).to_json()
    logged_run(demo_webstore, trigger=Trigger.AUTOMATIC, filters=synced)
    logged_run(demo_webstore, trigger=Trigger.COMMAND, filters=synced)
    logged_run(demo_webstore, trigger=Trigger.COMMAND)
    logged_run(demo_webstore, trigger=Trigger.WEBHOOK)
    logged_run(demo_webstore, trigger=Trigger.MANUAL, requested_by=staff_user)
    refunds = logged_run(demo_webstore, trigger=Trigger.AUTOMATIC, kind=RunKind.REFUNDS)
    runs_table = {"HX-Request": "true", "HX-Target": "runs-table"}

    table = signed_in_viewer.get("/imports/", headers=runs_table).text
    commands = signed_in_viewer.get("/imports/?trigger=command", headers=runs_table).text
    page = signed_in_viewer.get("/imports/").text

    started_by = re.compile(r'<td>DEMO</td>\s*<td class="card-line">([^<]*)</td>')
    assert started_by.findall(table) == [
        "Automatic sync, by the scheduler (refunds)",
        "Manual import by staff-user",
        "Webhook from the store",
        "Command line: flask import-orders",
        "Command line: flask sync-webstore",
        "Automatic sync, by the scheduler",
    ]
    assert refunds.kind == RunKind.REFUNDS and "<th>Started by</th>" in table
    assert started_by.findall(commands) == [
        "Command line: flask import-orders",
        "Command line: flask sync-webstore",
    ]
    assert '<option value="command" >Command line</option>' in page


def test_a_queued_run_says_it_waits_and_a_running_one_since_when(signed_in_viewer, demo_webstore):
    run = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.AUTOMATIC)
    queued = signed_in_viewer.get(f"/imports/runs/{run.id}").text
    run.status = RunStatus.RUNNING
    run.started_at = run.heartbeat_at = utcnow()  # alive: not reaped as dead
    run.store_total, run.imported = 560, 100
    db.session.commit()

    running = signed_in_viewer.get(f"/imports/runs/{run.id}").text

    assert "Waiting for a worker since" in queued
    assert "Importing since" in running and "100 of 560 orders done." in running
