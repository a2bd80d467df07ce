"""A manager knows at a glance whether each webstore's sync is healthy: the figures of
portal/sync/health.py, its conditions and states, and the panel on the home page and on
Import Results."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobs.health import refresh_webhooks_job
from portal import db
from portal import store_webhooks as webhooks
from portal.models import (
    Audit,
    AuditStatus,
    RunStatus,
    SeenVia,
    StoreOrder,
    StoreOrderState,
    StoreWriteback,
    SyncRun,
    Trigger,
    WebhookDelivery,
    Webstore,
    WritebackState,
)
from portal.models.base import utcnow
from portal.sync.audit import audit_webstore
from portal.sync.health import (
    DEGRADED,
    FAILING,
    HEALTHY,
    WEBHOOK_CHECK_EVERY,
    age_text,
    keep_webhook_rows,
    refresh_webhook_states,
    webstore_health,
)
from portal.sync.runs import create_run, execute_run, retry_failed
from portal.sync.schedule import incremental_filters
from tests.sync_helpers import run_import
from tests.test_orders_pages import make_order
from tests.test_trace import queued_writeback
from tests.test_webhook_registration import PUBLIC_URL, switch

# A Wednesday afternoon: "this week" began on Monday the 30th of November.
WEDNESDAY = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def health_of(webstore: Webstore, now: datetime | None = None):
    db.session.expire_all()
    return next(h for h in webstore_health(now) if h.webstore.id == webstore.id)


def keys(health) -> dict[str, bool]:
    """The webstore's conditions: {key: failing}."""
    return {condition.key: condition.failing for condition in health.conditions}


def seen(webstore, woo_order_id, state, *, modified_at=None, first_seen_at=None, **values):
    """A store order as the connector last met it (the staging table's row)."""
    order = StoreOrder(
        webstore_id=webstore.id,
        woo_order_id=woo_order_id,
        number=str(woo_order_id),
        state=state,
        modified_at=modified_at,
        seen_via=SeenVia.AUDIT if state == StoreOrderState.MISSING else SeenVia.LISTING,
        first_seen_at=first_seen_at or utcnow(),
        **values,
    )
    db.session.add(order)
    db.session.commit()
    return order


def automatic_run(webstore, status: RunStatus, reason: str | None = None) -> SyncRun:
    """An automatic run that ended so, written as the scheduler's run leaves its row."""
    run = create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC)
    run.status, run.reason = status, reason
    run.started_at = run.finished_at = utcnow()
    db.session.commit()
    return run


def failed_automatic_run(webstore) -> SyncRun:
    """An automatic run of a store that does not answer, run through the real code."""
    run = execute_run(create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id)
    assert run.status == RunStatus.FAILED
    return run


def writeback(webstore, state: WritebackState, attempts: int = 0) -> StoreWriteback:
    return queued_writeback(make_order(webstore), state=state, attempts=attempts)


def another_webstore(code: str) -> Webstore:
    store = Webstore(code=code, name=code.title(), base_url="http://127.0.0.1:9", consumer_key="ck")
    store.consumer_secret = f"cs_{code.lower()}"
    db.session.add(store)
    db.session.commit()
    return store


@pytest.fixture
def outlet(app):
    return another_webstore("OUTLET")


# Orders in


def test_orders_in_today_and_this_week_count_when_the_store_took_them_not_when_imported(
    webstore, outlet
):
    for placed in (
        datetime(2026, 12, 2, 0, 30, tzinfo=UTC),  # today
        datetime(2026, 12, 2, 14, 59, tzinfo=UTC),  # today
        datetime(2026, 11, 30, 0, 0, tzinfo=UTC),  # Monday
        datetime(2026, 11, 29, 23, 59, tzinfo=UTC),  # last Sunday
        datetime(2025, 12, 2, 10, 0, tzinfo=UTC),  # a year ago, imported today
    ):
        make_order(webstore, order_date=placed.date(), ordered_at=placed, created_at=WEDNESDAY)
    make_order(outlet, order_date=WEDNESDAY.date(), ordered_at=WEDNESDAY - timedelta(hours=1))

    main, other = health_of(webstore, WEDNESDAY), health_of(outlet, WEDNESDAY)

    assert (main.orders_today, main.orders_this_week) == (2, 3)
    assert (other.orders_today, other.orders_this_week) == (1, 1)


def test_a_store_a_day_ahead_of_utc_counts_by_the_moment_not_by_its_calendar(webstore):
    # 23:30 UTC on Sunday is already Monday in Auckland: the store dates it Monday.
    placed = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    make_order(webstore, order_date=placed.date() + timedelta(days=1), ordered_at=placed)

    assert health_of(webstore, WEDNESDAY).orders_this_week == 0


# Orders waiting for a person


def test_failed_and_missing_store_orders_wait_for_a_person_the_rest_do_not(webstore, outlet):
    seen(webstore, 101, StoreOrderState.FAILED, reason="No item with SKU X")
    seen(webstore, 102, StoreOrderState.FAILED, reason="Currency CHF is not set up")
    seen(webstore, 103, StoreOrderState.MISSING)
    seen(webstore, 104, StoreOrderState.IMPORTED)
    seen(webstore, 105, StoreOrderState.SKIPPED, reason="Status cancelled is not imported")
    seen(webstore, 106, StoreOrderState.CHANGED)
    seen(outlet, 101, StoreOrderState.FAILED)

    health = health_of(webstore)

    assert (health.failed_waiting, health.missing) == (2, 1)
    assert keys(health) == {"audit_missing": True, "failed_orders": False}
    assert health.state == FAILING
    assert health_of(outlet).failed_waiting == 1


def test_failed_orders_alone_make_a_webstore_degraded_and_say_what_to_do(webstore):
    seen(webstore, 101, StoreOrderState.FAILED)

    health = health_of(webstore)

    [condition] = health.conditions
    assert health.state == DEGRADED
    assert condition.words == (
        "1 order failed and waits for a person: fix what each one's log says, then retry it."
    )
    assert condition.url and not condition.failing


def test_an_order_that_fails_to_import_waits_for_a_person_until_a_retry_imports_it(
    demo_webstore, store
):
    demo_webstore.auto_create_items = False
    db.session.commit()
    failed = run_import(demo_webstore, order_id=44)
    assert failed.failed == 1

    assert health_of(demo_webstore).failed_waiting == 1
    assert keys(health_of(demo_webstore)) == {"failed_orders": False}

    demo_webstore.auto_create_items = True
    db.session.commit()
    assert execute_run(retry_failed(failed).id).imported == 1

    health = health_of(demo_webstore)
    assert (health.failed_waiting, health.conditions) == (0, [])


def test_orders_the_audit_finds_missing_fail_the_webstore_until_they_are_imported(
    demo_webstore, store
):
    store.create_order(status="processing")
    audit = audit_webstore(demo_webstore)
    assert audit.missing == 5  # the new order and the seeded store's four of the window

    # The store's older orders have waited since their last change: late as well.
    health = health_of(demo_webstore)
    assert health.missing == audit.missing
    assert keys(health) == {"audit_missing": True, "lag": True}
    assert {c.url for c in health.conditions} == {"/webstore-orders?webstore=DEMO&state=missing"}

    run_import(demo_webstore)

    health = health_of(demo_webstore)
    assert (health.missing, health.conditions) == (0, [])


def test_a_webstore_with_nothing_wrong_is_healthy(webstore):
    seen(webstore, 104, StoreOrderState.IMPORTED)
    automatic_run(webstore, RunStatus.SUCCEEDED)

    health = health_of(webstore)

    assert (health.state, health.conditions) == (HEALTHY, [])


# Automatic sync


def test_automatic_sync_turns_failing_after_the_webstores_number_of_failed_runs_in_a_row(
    webstore,
):
    webstore.alert_failed_runs = 3
    automatic_run(webstore, RunStatus.SUCCEEDED)
    failed_automatic_run(webstore)
    last = failed_automatic_run(webstore)

    two = health_of(webstore)
    assert (two.failed_in_a_row, keys(two)) == (2, {"sync_failed": False})
    assert two.conditions[0].url == f"/imports/runs/{last.id}"

    last = failed_automatic_run(webstore)
    three = health_of(webstore)

    assert (three.failed_in_a_row, keys(three), three.state) == (3, {"sync_failing": True}, FAILING)
    [condition] = three.conditions
    assert condition.words.startswith("Automatic sync failed 3 times in a row (the last that")
    assert last.reason in condition.words
    assert condition.url == f"/imports/runs/{last.id}"


def test_a_run_that_goes_through_ends_the_failures_in_a_row(webstore):
    webstore.alert_failed_runs = 1
    failed_automatic_run(webstore)
    assert keys(health_of(webstore)) == {"sync_failing": True}

    partial = automatic_run(webstore, RunStatus.PARTIAL)

    health = health_of(webstore)
    assert (health.failed_in_a_row, health.last_sync.id, health.conditions) == (0, partial.id, [])


def test_only_finished_automatic_orders_runs_count_as_sync(webstore):
    webstore.alert_failed_runs = 1
    ok = automatic_run(webstore, RunStatus.SUCCEEDED)
    manual = create_run(webstore, incremental_filters(webstore), Trigger.MANUAL)
    manual.status = RunStatus.FAILED
    automatic_run(webstore, RunStatus.RUNNING)
    db.session.commit()

    health = health_of(webstore)

    assert (health.failed_in_a_row, health.last_sync.id, health.conditions) == (0, ok.id, [])


# Lag


def test_sync_lag_is_how_far_automatic_sync_has_read_the_store(webstore):
    webstore.auto_sync, webstore.alert_lag_minutes = True, 120
    run = automatic_run(webstore, RunStatus.SUCCEEDED)
    run.started_at = utcnow() - timedelta(hours=3)
    webstore.watermark = utcnow() - timedelta(hours=3, minutes=10)
    db.session.commit()

    health = health_of(webstore)

    assert timedelta(hours=3) <= health.sync_lag < timedelta(hours=3, minutes=1)
    assert health.lag == health.sync_lag
    [condition] = health.conditions
    assert condition.key == "lag" and condition.failing
    assert condition.words.startswith("Orders are late (the limit is 2 h): automatic sync is 3 h")
    assert condition.url == "/setup/"


def test_a_quiet_store_synced_a_minute_ago_is_not_late_however_old_its_watermark(webstore):
    webstore.auto_sync = True
    automatic_run(webstore, RunStatus.SUCCEEDED)
    webstore.watermark = utcnow() - timedelta(days=2)
    db.session.commit()

    health = health_of(webstore)

    assert health.sync_lag < timedelta(minutes=1)
    assert health.watermark_behind > timedelta(days=1)
    assert health.conditions == []


def test_without_automatic_sync_there_is_no_sync_lag(webstore):
    webstore.watermark = utcnow() - timedelta(days=2)
    db.session.commit()

    assert (health_of(webstore).sync_lag, health_of(webstore).lag) == (None, None)


def test_the_oldest_order_waiting_longer_than_the_limit_makes_the_webstore_late(webstore):
    webstore.alert_lag_minutes = 60
    now = utcnow()
    seen(webstore, 1, StoreOrderState.FAILED, modified_at=now - timedelta(minutes=50))
    # An old order first met a little while ago has waited since then.
    seen(
        webstore,
        2,
        StoreOrderState.FAILED,
        modified_at=now - timedelta(days=300),
        first_seen_at=now - timedelta(minutes=40),
    )
    assert "lag" not in keys(health_of(webstore, now))

    # A missing order has waited since its last change in the store.
    seen(webstore, 3, StoreOrderState.MISSING, modified_at=now - timedelta(minutes=70))

    health = health_of(webstore, now)
    assert health.order_lag == timedelta(minutes=70)
    assert keys(health)["lag"] is True
    lag = next(c for c in health.conditions if c.key == "lag")
    assert "the oldest store order that should be imported and is not has waited 1 h 10 min" in (
        lag.words
    )


# Store updates


def test_store_updates_waiting_retrying_and_given_up_are_counted(webstore):
    writeback(webstore, WritebackState.PENDING)
    writeback(webstore, WritebackState.PENDING, attempts=2)
    writeback(webstore, WritebackState.SENDING, attempts=1)
    given_up = writeback(webstore, WritebackState.FAILED, attempts=6)
    writeback(webstore, WritebackState.SENT, attempts=1)

    health = health_of(webstore)

    assert (health.writebacks_waiting, health.writebacks_retrying) == (3, 2)
    assert health.writebacks_given_up == 1
    assert keys(health) == {"writebacks_given_up": True, "writebacks_retrying": False}
    given_up_condition = health.conditions[0]
    assert given_up_condition.url == f"/orders/{given_up.sales_order_id}#store-update"


# Webhooks


def test_the_last_webhook_delivery_is_the_webstores_own(webstore, outlet):
    for minutes, store in ((30, webstore), (5, outlet), (10, webstore)):
        db.session.add(
            WebhookDelivery(
                webstore_id=store.id,
                body_sha256=f"{minutes:064d}",
                delivery_id="d",
                order_id=1,
                received_at=utcnow() - timedelta(minutes=minutes),
            )
        )
    db.session.commit()

    main = health_of(webstore)

    assert timedelta(minutes=10) <= utcnow() - main.last_delivery_at < timedelta(minutes=11)


@pytest.fixture
def registered(app, demo_webstore, store):
    """DEMO with both of the portal's webhooks registered in the sandbox store."""
    app.config["PUBLIC_URL"] = PUBLIC_URL
    webhooks.register(demo_webstore, f"{PUBLIC_URL}/webhooks/woocommerce/DEMO")
    return demo_webstore


def test_webhooks_the_store_disabled_make_the_webstore_failing(registered, store):
    now = utcnow()
    assert refresh_webhook_states(now) == {"DEMO": "active"}
    assert health_of(registered).conditions == []

    switch(store, "order.updated", "disabled")
    refresh_webhook_states(now + WEBHOOK_CHECK_EVERY)

    health = health_of(registered)
    assert health.webhooks.states == {"order.created": "active", "order.updated": "disabled"}
    [condition] = health.conditions
    assert (condition.key, condition.failing) == ("webhooks_disabled", True)
    assert condition.words.startswith("The store disabled its order.updated webhook (WooCommerce")
    assert condition.url == f"/setup/webstores/{registered.id}#store-webhooks"


def test_a_paused_webhook_makes_the_webstore_degraded(registered, store):
    switch(store, "order.created", "paused")

    refresh_webhook_states()

    health = health_of(registered)
    assert keys(health) == {"webhooks_paused": False}
    assert health.conditions[0].words == (
        "The order.created webhook is paused in the store: register the webhooks again in "
        "the webstore's setup."
    )


def test_the_store_is_asked_about_its_webhooks_at_most_every_few_minutes(registered, store):
    now = utcnow()
    refresh_webhook_states(now)
    switch(store, "order.updated", "disabled")

    assert refresh_webhook_states(now + WEBHOOK_CHECK_EVERY - timedelta(seconds=1)) == {}
    assert health_of(registered).conditions == []
    assert refresh_webhook_states(now + WEBHOOK_CHECK_EVERY) == {"DEMO": "disabled"}


def test_a_store_that_cannot_be_asked_keeps_what_it_said_last(registered, store):
    now = utcnow()
    refresh_webhook_states(now)
    registered.base_url = "http://127.0.0.1:9"
    db.session.commit()

    [reason] = refresh_webhook_states(now + WEBHOOK_CHECK_EVERY).values()

    health = health_of(registered)
    assert health.webhooks.states == {"order.created": "active", "order.updated": "active"}
    assert health.webhooks.error == reason and "127.0.0.1:9" in reason
    assert health.webhooks.read_at == now


def test_what_the_setup_page_heard_from_the_store_is_shown_at_once(demo_webstore, store):
    rows = webhooks.register(demo_webstore, f"{PUBLIC_URL}/webhooks/woocommerce/DEMO")
    switch(store, "order.updated", "disabled")

    keep_webhook_rows(demo_webstore, rows)

    health = health_of(demo_webstore)
    assert health.webhooks.states == {"order.created": "active", "order.updated": "active"}
    assert health.conditions == []


def test_the_scheduler_job_asks_the_stores_and_says_what_they_said(registered, store):
    switch(store, "order.created", "paused")

    said = refresh_webhooks_job()

    assert said == "asked 1 store(s) about their webhooks (DEMO: paused)"
    assert health_of(registered).webhooks.worst == "paused"


def test_the_health_stands_when_redis_does_not_answer(make_app, webstore):
    webstore.webhook_secret = "a secret"
    webstore.alert_failed_runs = 1
    failed_automatic_run(webstore)

    with make_app(REDIS_URL="redis://127.0.0.1:9/0").app_context():
        health = health_of(webstore)

    assert health.webhooks is None
    assert keys(health) == {"sync_failing": True}


def test_webstores_without_the_portals_webhooks_are_not_asked(demo_webstore, store):
    assert refresh_webhook_states() == {}
    assert health_of(demo_webstore).webhooks is None


# Audits


def test_an_audit_that_could_not_ask_the_store_makes_the_webstore_degraded(webstore):
    for status, error in ((AuditStatus.SUCCEEDED, None), (AuditStatus.FAILED, "no answer")):
        db.session.add(
            Audit(
                webstore_id=webstore.id,
                trigger=Trigger.AUTOMATIC,
                window_from=WEDNESDAY.date() - timedelta(days=30),
                window_to=WEDNESDAY.date(),
                status=status,
                error=error,
                started_at=WEDNESDAY,
            )
        )
    db.session.commit()

    health = health_of(webstore)

    assert health.audit.status == AuditStatus.FAILED
    [condition] = health.conditions
    assert (condition.key, condition.failing) == ("audit_failed", False)
    assert condition.words == (
        "The completeness audit of 2026-12-02 15:00 UTC could not ask the store: no answer"
    )


# All webstores at once


def statements_for_health(app) -> int:
    count = 0

    def counted(*args):
        nonlocal count
        count += 1

    sa.event.listen(db.engine, "before_cursor_execute", counted)
    try:
        webstore_health()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_the_health_of_every_webstore_takes_the_same_few_queries_however_many(app, webstore):
    one = statements_for_health(app)
    for n in range(5):
        store = another_webstore(f"S{n}")
        automatic_run(store, RunStatus.SUCCEEDED)
        seen(store, 1, StoreOrderState.FAILED)

    assert statements_for_health(app) == one <= 8


def test_lengths_of_time_read_as_a_person_says_them():
    said = [age_text(timedelta(seconds=s)) for s in (-5, 40, 60 * 12, 3600 * 3 + 300, 3600 * 50)]
    assert said == ["0 s", "40 s", "12 min", "3 h 5 min", "2 days 2 h"]


# The panel


def panel(html: str) -> str:
    start = html.index('<section class="health-panel"')
    return html[start : html.index("</section>", start)]


def row_of(html: str, code: str) -> str:
    start = html.index(f'<tbody id="health-{code}"')
    return html[start : html.index("</tbody>", start)]


def test_the_home_page_opens_with_each_webstores_health_above_the_orders(
    signed_in_viewer, webstore, outlet
):
    webstore.alert_failed_runs = 1
    failed_automatic_run(webstore)
    make_order(webstore, order_date=utcnow().date(), ordered_at=utcnow())
    seen(outlet, 7, StoreOrderState.FAILED)

    html = signed_in_viewer.get("/").text

    assert html.index('id="health-title"') < html.index('id="orders-table"')
    main, other = row_of(html, "MAIN"), row_of(html, "OUTLET")
    assert 'data-state="failing"' in main and ">Failing</span>" in main
    assert "1 today" in main and 'data-condition="sync_failing"' in main
    assert 'href="/imports/runs/' in main and "Open the last run" in main
    assert 'data-state="degraded"' in other and ">Degraded</span>" in other
    assert re.search(r'<a href="[^"]+">1 failed</a>', other)


def test_a_search_swaps_the_table_without_the_panel(signed_in_viewer, webstore):
    response = signed_in_viewer.get("/?q=ada", headers={"HX-Request": "true"})

    assert 'id="orders-table"' in response.text and "health-panel" not in response.text


def test_import_results_shows_the_same_health(signed_in_viewer, webstore):
    seen(webstore, 7, StoreOrderState.MISSING)

    html = signed_in_viewer.get("/imports/").text

    main = row_of(panel(html), "MAIN")
    assert 'data-state="failing"' in main and 'data-condition="audit_missing"' in main
    assert "1 missing" in main


def test_reasons_from_the_store_are_shown_as_text_not_markup(signed_in_viewer, webstore):
    webstore.alert_failed_runs = 1
    automatic_run(webstore, RunStatus.FAILED, reason="The store said <script>alert(1)</script>")

    html = signed_in_viewer.get("/").text

    assert "<script>alert(1)" not in html
    assert "The store said &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_no_webstores_no_panel(signed_in_viewer):
    assert "health-panel" not in signed_in_viewer.get("/").text
