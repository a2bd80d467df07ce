"""``/metrics``: Prometheus reads what the database holds (runs, orders, write-backs,
deliveries, audits) and the queue's depth, with the bearer token or from this host only."""

from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from portal import db
from portal.metrics import by_code
from portal.models import (
    Audit,
    AuditStatus,
    Customer,
    RunKind,
    RunStatus,
    SalesOrder,
    SeenVia,
    StoreOrder,
    StoreOrderState,
    StoreWriteback,
    Trigger,
    WebhookDelivery,
    Webstore,
    WritebackState,
)
from portal.models.base import utcnow
from portal.queue import import_queue, redis_connection, webhook_queue
from portal.sync.filters import merge_filters
from portal.sync.health import WEBHOOK_STATES_KEY, WebhookStates
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters
from tests.served import serving
from tests.sync_helpers import logged_run, run_import, work_queued_jobs

TOKEN = "metrics-token-of-the-tests"
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}
THIS_HOST = ("127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1")
PREFIX = "webstore_connector_"
STATES = ("healthy", "degraded", "failing")


class Scrape:
    """A scrape as Prometheus parses it: sample values by name and labels."""

    def __init__(self, text: str):
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in self.families.values()
            for sample in family.samples
        }

    def value(self, name: str, **labels) -> float | None:
        return self.samples.get((PREFIX + name, frozenset(labels.items())))

    def series(self, name: str) -> dict[frozenset, float]:
        return {labels: value for (n, labels), value in self.samples.items() if n == PREFIX + name}


def scrape(client, **kw) -> Scrape:
    response = client.get("/metrics", **kw)
    assert response.status_code == 200, response.text
    return Scrape(response.text)


@pytest.fixture
def guarded(make_app):
    """The portal with a METRICS_TOKEN, as production sets it."""
    return make_app(METRICS_TOKEN=TOKEN).test_client()


def another_webstore(code: str) -> Webstore:
    webstore = Webstore(code=code, name=code, base_url="http://127.0.0.1:9", consumer_key="ck")
    webstore.consumer_secret = "cs"
    db.session.add(webstore)
    db.session.commit()
    return webstore


# Who may scrape


def test_a_scrape_from_elsewhere_without_the_token_is_refused_and_told_what_to_send(guarded):
    response = guarded.get("/metrics", environ_base=ELSEWHERE)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer realm=metrics"
    assert response.content_type == "text/plain; charset=utf-8"
    assert "Authorization: Bearer <METRICS_TOKEN>" in response.text
    assert PREFIX not in response.text


def test_a_scrape_with_the_token_is_answered_from_anywhere(guarded):
    headers = {"Authorization": f"Bearer {TOKEN}"}

    response = guarded.get("/metrics", headers=headers, environ_base=ELSEWHERE)

    assert response.status_code == 200
    assert response.content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert Scrape(response.text).value("queue_up") == 1


@pytest.mark.parametrize("address", ["203.0.113.7", "127.0.0.1"])
@pytest.mark.parametrize(
    "authorization", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer", f"Basic {TOKEN}"]
)
def test_a_wrong_token_is_refused_even_from_this_host(guarded, address, authorization):
    response = guarded.get(
        "/metrics", headers={"Authorization": authorization}, environ_base={"REMOTE_ADDR": address}
    )

    assert response.status_code == 401
    assert "not this portal's METRICS_TOKEN" in response.text
    assert PREFIX not in response.text


@pytest.mark.parametrize("address", THIS_HOST)
def test_a_scrape_from_this_host_needs_no_token_and_no_sign_in(guarded, address):
    response = guarded.get("/metrics", environ_base={"REMOTE_ADDR": address})

    assert response.status_code == 200
    assert Scrape(response.text).value("queue_up") == 1


def test_without_a_token_set_only_this_host_may_scrape(client):
    assert client.get("/metrics").status_code == 200

    refused = client.get("/metrics", environ_base=ELSEWHERE)
    guessed = client.get("/metrics", headers={"Authorization": "Bearer anything"})

    assert refused.status_code == 403
    assert "Set METRICS_TOKEN in the portal's environment" in refused.text
    assert PREFIX not in refused.text
    assert guessed.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-For", "127.0.0.1"),
        ("Forwarded", "for=127.0.0.1"),
        ("X-Forwarded-Host", "portal.example.com"),
        ("X-Real-IP", "127.0.0.1"),
    ],
)
def test_a_request_relayed_by_a_proxy_on_this_host_is_not_taken_for_this_hosts(guarded, header):
    response = guarded.get("/metrics", headers=[header])

    assert response.status_code == 401
    assert PREFIX not in response.text


def test_behind_the_https_proxy_a_forged_loopback_address_is_refused(make_app):
    client = make_app(METRICS_TOKEN=TOKEN, BEHIND_HTTPS_PROXY=True).test_client()
    # What nginx sends on for a client that wrote "X-Forwarded-For: 127.0.0.1" itself.
    relayed = {"X-Forwarded-For": "127.0.0.1, 203.0.113.7", "X-Forwarded-Proto": "https"}

    refused = client.get("/metrics", headers=relayed)
    answered = client.get("/metrics", headers={**relayed, "Authorization": f"Bearer {TOKEN}"})
    direct = client.get("/metrics")  # Prometheus on this host, at gunicorn's own port

    assert refused.status_code == 401
    assert answered.status_code == 200
    assert direct.status_code == 200


def test_a_signed_in_session_is_no_way_to_the_metrics(make_app, admin_user):
    from tests.conftest import Portal

    portal = Portal(make_app(METRICS_TOKEN=TOKEN).test_client())
    portal.sign_in(admin_user.username)

    response = portal.get("/metrics", environ_base=ELSEWHERE)

    assert response.status_code == 401
    assert PREFIX not in response.text


# What it counts


def test_a_real_import_counts_as_a_finished_run_and_its_orders_by_outcome(
    client, demo_webstore, webstore
):
    run = run_import(demo_webstore)

    metrics = scrape(client)

    assert (run.status, run.imported, run.failed, run.skipped) == (RunStatus.SUCCEEDED, 60, 0, 0)
    assert metrics.series("sync_runs_total") == {
        frozenset(
            {
                "webstore": "DEMO",
                "kind": "orders",
                "trigger": "manual",
                "status": "succeeded",
            }.items()
        ): 1
    }
    assert metrics.value("orders_total", webstore="DEMO", outcome="imported") == 60
    for outcome in ("failed", "skipped", "changed"):
        assert metrics.value("orders_total", webstore="DEMO", outcome=outcome) == 0
    # A webstore that has not run yet is there, at nought.
    assert metrics.value("orders_total", webstore="MAIN", outcome="imported") == 0


def test_runs_are_counted_by_trigger_and_status_and_orders_summed_over_them(client, webstore):
    logged_run(webstore, trigger=Trigger.AUTOMATIC, imported=4, skipped=3)
    logged_run(webstore, trigger=Trigger.AUTOMATIC, imported=2, failed=5, status=RunStatus.PARTIAL)
    logged_run(webstore, trigger=Trigger.AUTOMATIC, failed=1)
    logged_run(webstore, trigger=Trigger.WEBHOOK, imported=1, changed=2)

    metrics = scrape(client)

    runs = {"webstore": "MAIN", "kind": "orders"}
    assert metrics.value("sync_runs_total", **runs, trigger="automatic", status="succeeded") == 1
    assert metrics.value("sync_runs_total", **runs, trigger="automatic", status="partial") == 1
    assert metrics.value("sync_runs_total", **runs, trigger="automatic", status="failed") == 1
    assert metrics.value("sync_runs_total", **runs, trigger="webhook", status="succeeded") == 1
    orders = {
        outcome: metrics.value("orders_total", webstore="MAIN", outcome=outcome)
        for outcome in ("imported", "skipped", "failed", "changed")
    }
    assert orders == {"imported": 7, "skipped": 3, "failed": 6, "changed": 2}


def test_runs_queued_or_running_are_gauged_not_counted(client, webstore):
    create_run(webstore, merge_filters(webstore), Trigger.AUTOMATIC)
    create_run(webstore, merge_filters(webstore), Trigger.MANUAL)
    logged_run(webstore, imported=3, status=RunStatus.RUNNING)

    metrics = scrape(client)

    assert metrics.series("sync_runs_total") == {}
    unfinished = {"webstore": "MAIN", "kind": "orders"}
    assert (
        metrics.value("sync_runs_unfinished", **unfinished, trigger="automatic", status="queued")
        == 1
    )
    assert (
        metrics.value("sync_runs_unfinished", **unfinished, trigger="manual", status="queued") == 1
    )
    assert (
        metrics.value("sync_runs_unfinished", **unfinished, trigger="manual", status="running") == 1
    )
    # A running run's orders are counted as it settles them.
    assert metrics.value("orders_total", webstore="MAIN", outcome="imported") == 3


def test_refunds_runs_are_counted_as_runs_and_their_memos_not_as_orders(client, webstore):
    logged_run(webstore, imported=2, kind=RunKind.REFUNDS)

    metrics = scrape(client)

    runs = {"webstore": "MAIN", "kind": "refunds", "trigger": "manual", "status": "succeeded"}
    assert metrics.value("sync_runs_total", **runs) == 1
    assert metrics.value("orders_total", webstore="MAIN", outcome="imported") == 0


def failed_automatic_run(webstore):
    """An automatic run of a store that does not answer, through the code the job runs."""
    run = execute_run(create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id)
    assert run.status == RunStatus.FAILED
    return run


def test_a_store_that_stops_answering_turns_its_webstore_failing(client, webstore):
    webstore.alert_failed_runs = 2
    db.session.commit()
    failed_automatic_run(webstore)
    assert scrape(client).value("health", webstore="MAIN", state="degraded") == 1

    failed_automatic_run(webstore)
    metrics = scrape(client)

    health = {state: metrics.value("health", webstore="MAIN", state=state) for state in STATES}
    assert health == {"healthy": 0, "degraded": 0, "failing": 1}
    assert metrics.series("health_condition") == {
        frozenset(
            {"webstore": "MAIN", "condition": "sync_failing", "severity": "failing"}.items()
        ): 1
    }
    runs = {"webstore": "MAIN", "kind": "orders", "trigger": "automatic", "status": "failed"}
    assert metrics.value("sync_runs_total", **runs) == 2


def test_lag_and_the_last_sync_are_the_health_pages(client, webstore):
    webstore.auto_sync = True
    run = create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC)
    run.status = RunStatus.SUCCEEDED
    run.started_at = utcnow() - timedelta(hours=3)
    run.finished_at = run.started_at + timedelta(minutes=2)
    webstore.watermark = run.started_at - timedelta(minutes=10)
    db.session.commit()
    another_webstore("MANUAL")  # automatic sync off, nothing waiting: no lag to tell

    metrics = scrape(client)

    assert metrics.value("lag_seconds", webstore="MAIN") == pytest.approx(3 * 3600, abs=60)
    assert metrics.value("lag_seconds", webstore="MANUAL") is None
    assert metrics.value("last_sync_timestamp_seconds", webstore="MAIN") == (
        run.finished_at.timestamp()
    )
    assert metrics.value("health", webstore="MAIN", state="failing") == 1  # over 2 h late
    assert metrics.value("health", webstore="MANUAL", state="healthy") == 1


def test_orders_failed_or_missing_wait_for_a_person(client, webstore):
    db.session.add_all(
        StoreOrder(
            webstore_id=webstore.id,
            woo_order_id=n,
            state=state,
            seen_via=SeenVia.AUDIT if state == StoreOrderState.MISSING else SeenVia.LISTING,
        )
        for n, state in enumerate(
            [StoreOrderState.FAILED] * 4
            + [StoreOrderState.MISSING] * 2
            + [StoreOrderState.IMPORTED, StoreOrderState.SKIPPED],
            start=1,
        )
    )
    db.session.commit()

    metrics = scrape(client)

    assert metrics.value("orders_waiting", webstore="MAIN", state="failed") == 4
    assert metrics.value("orders_waiting", webstore="MAIN", state="missing") == 2
    assert set(metrics.series("health_condition")) == {
        frozenset(
            {"webstore": "MAIN", "condition": "audit_missing", "severity": "failing"}.items()
        ),
        frozenset(
            {"webstore": "MAIN", "condition": "failed_orders", "severity": "degraded"}.items()
        ),
    }


def test_the_stores_word_on_its_webhooks_is_told_by_topic(client, webstore):
    webstore.webhook_secret = "whsec_main"  # the portal registered its webhooks
    db.session.commit()
    said = WebhookStates(
        {"order.created": "active", "order.updated": "disabled"}, utcnow(), utcnow()
    )
    redis_connection().set(WEBHOOK_STATES_KEY.format(webstore.id), said.to_json())

    metrics = scrape(client)

    assert metrics.series("store_webhooks") == {
        frozenset({"webstore": "MAIN", "topic": "order.created", "state": "active"}.items()): 1,
        frozenset({"webstore": "MAIN", "topic": "order.updated", "state": "disabled"}.items()): 1,
    }
    condition = {"webstore": "MAIN", "condition": "webhooks_disabled", "severity": "failing"}
    assert metrics.value("health_condition", **condition) == 1


def test_write_backs_are_gauged_per_webstore_by_state(client, webstore):
    other = another_webstore("SHOP2")
    states = {
        webstore: [WritebackState.PENDING] * 3
        + [WritebackState.SENT] * 4
        + [WritebackState.FAILED],
        other: [WritebackState.SENDING, WritebackState.FAILED, WritebackState.FAILED],
    }
    customer = Customer(number="C00001", name="Ada Lovelace")
    db.session.add(customer)
    for store, store_states in states.items():
        for n, state in enumerate(store_states, start=1):
            order = SalesOrder(
                number=f"SO{store.id}{n:04d}",
                webstore_id=store.id,
                customer=customer,
                order_date=date(2026, 3, 1),
                ordered_at=datetime(2026, 3, 1, tzinfo=UTC),
                currency="EUR",
                external_document_no=str(n),
                woo_order_id=n,
            )
            db.session.add(
                StoreWriteback(
                    sales_order=order,
                    webstore_id=store.id,
                    woo_order_id=n,
                    event="post",
                    status_to="completed",
                    note="Posted.",
                    state=state,
                )
            )
    db.session.commit()

    metrics = scrape(client)

    def by_state(code):
        return {
            state: metrics.value("writebacks", webstore=code, state=state)
            for state in WritebackState
        }

    assert by_state("MAIN") == {"pending": 3, "sending": 0, "sent": 4, "failed": 1}
    assert by_state("SHOP2") == {"pending": 0, "sending": 1, "sent": 0, "failed": 2}


def test_webhook_deliveries_are_counted_per_webstore_with_the_latest(client, webstore):
    another_webstore("QUIET")
    latest = datetime(2026, 3, 2, 8, 15, 30, tzinfo=UTC)
    db.session.add_all(
        WebhookDelivery(
            webstore_id=webstore.id,
            body_sha256=f"{n:064x}",
            delivery_id=str(n),
            order_id=100 + n,
            received_at=latest - timedelta(minutes=6 - n),  # received in id order
        )
        for n in range(7)
    )
    db.session.commit()

    metrics = scrape(client)

    assert metrics.value("webhook_deliveries_total", webstore="MAIN") == 7
    assert metrics.value("webhook_deliveries_total", webstore="QUIET") == 0
    assert metrics.value("webhook_last_delivery_timestamp_seconds", webstore="MAIN") == (
        latest.timestamp()
    )
    assert metrics.value("webhook_last_delivery_timestamp_seconds", webstore="QUIET") is None


def test_the_latest_completed_audit_gives_each_webstores_missing_orders(client, webstore):
    other = another_webstore("SHOP2")
    another_webstore("NEVER")
    day = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

    def audit(store, started_at, status=AuditStatus.SUCCEEDED, missing=0, failed=0):
        finished_at = started_at + timedelta(minutes=3) if status != AuditStatus.RUNNING else None
        db.session.add(
            Audit(
                webstore_id=store.id,
                trigger=Trigger.AUTOMATIC,
                window_from=date(2026, 1, 30),
                window_to=started_at.date(),
                status=status,
                missing=missing,
                failed=failed,
                started_at=started_at,
                finished_at=finished_at,
            )
        )

    audit(webstore, day, missing=12, failed=1)
    audit(webstore, day + timedelta(days=1), missing=2, failed=3)
    audit(webstore, day + timedelta(days=2), status=AuditStatus.FAILED)
    audit(webstore, day + timedelta(days=3), status=AuditStatus.RUNNING)
    audit(other, day, missing=0)
    db.session.commit()

    metrics = scrape(client)

    assert metrics.series("audit_missing_orders") == {
        frozenset({"webstore": "MAIN"}.items()): 2,
        frozenset({"webstore": "SHOP2"}.items()): 0,
    }
    assert metrics.value("audit_failed_orders", webstore="MAIN") == 3
    finished = day + timedelta(days=1, minutes=3)
    assert (
        metrics.value("audit_finished_timestamp_seconds", webstore="MAIN") == finished.timestamp()
    )


@pytest.fixture
def worker(app):
    """Runs what is queued, as a worker would. RQ's worker keeps itself in the signal
    handlers it sets, and with it the connection, until another worker comes: closed here."""
    yield work_queued_jobs
    redis_connection().close()


def test_the_queue_depth_counts_waiting_and_failed_jobs_of_each_queue(client, worker):
    queue = import_queue()
    for _ in range(2):
        queue.enqueue("math.sqrt", -1)  # fails: a math domain error
    worker()
    for n in range(3):
        queue.enqueue("math.sqrt", n)
    webhook_queue().enqueue("math.sqrt", 4)

    metrics = scrape(client)

    assert metrics.value("queue_up") == 1
    jobs = {
        (name, state): metrics.value("queue_jobs", queue=name, state=state)
        for name in ("test-webhooks", "test-imports")
        for state in ("queued", "started", "failed")
    }
    assert jobs == {
        ("test-webhooks", "queued"): 1,
        ("test-webhooks", "started"): 0,
        ("test-webhooks", "failed"): 0,
        ("test-imports", "queued"): 3,
        ("test-imports", "started"): 0,
        ("test-imports", "failed"): 2,
    }


def test_a_queue_that_does_not_answer_is_a_metric_and_the_rest_is_still_read(make_app, webstore):
    logged_run(webstore, imported=5)
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()

    metrics = scrape(client)

    assert metrics.value("queue_up") == 0
    assert metrics.series("queue_jobs") == {}
    assert metrics.value("orders_total", webstore="MAIN", outcome="imported") == 5


def test_a_webstore_made_while_a_scrape_reads_waits_for_the_next_scrape():
    rows = [(1, "orders", 5), (2, "orders", 3)]

    assert list(by_code(rows, {1: "MAIN"})) == [("MAIN", "orders", 5)]


def test_every_worker_answers_the_same_numbers(make_app, webstore):
    """What one process did, another counts: no counter is kept in a process."""
    workers = [make_app().test_client(), make_app().test_client()]
    logged_run(webstore, imported=4, failed=1)

    first, second = (scrape(worker) for worker in workers)

    assert first.value("orders_total", webstore="MAIN", outcome="imported") == 4
    assert first.samples == second.samples


# Over HTTP


def test_a_served_portal_answers_prometheus_with_the_token_or_from_this_host(database_url):
    with serving(database_url, METRICS_TOKEN=TOKEN) as (app, url):
        logged_run(another_webstore("MAIN"), imported=6, failed=2)

        from_here = requests.get(f"{url}/metrics", timeout=10)
        relayed = requests.get(f"{url}/metrics", headers={"X-Forwarded-For": "1.2.3.4"}, timeout=10)
        with_token = requests.get(
            f"{url}/metrics",
            headers={"X-Forwarded-For": "1.2.3.4", "Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )

    assert from_here.status_code == 200
    assert Scrape(from_here.text).value("orders_total", webstore="MAIN", outcome="failed") == 2
    assert relayed.status_code == 401
    assert PREFIX not in relayed.text
    assert with_token.status_code == 200
    assert Scrape(with_token.text).value("orders_total", webstore="MAIN", outcome="imported") == 6
