"""``/metrics``: how the connector is doing, in Prometheus's text format.

Every number is read from the database (and the queue from Redis) when Prometheus asks,
never kept in the process: gunicorn's workers would each keep counters of their own, and a
scrape would see whichever worker answered it. The counters are counts of rows that only
grow (finished runs, the orders they settled, webhook deliveries), so they never go back
between scrapes; the gauges are states now.

Prometheus has no session, so no sign-in: a scrape is let in by ``METRICS_TOKEN`` as a
bearer token, or when it comes straight from this host (``from_this_host``).
"""

import hmac
import ipaddress

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from redis.exceptions import RedisError
from werkzeug.datastructures import WWWAuthenticate

from portal import db
from portal.models import (
    Audit,
    AuditStatus,
    Outcome,
    RunKind,
    RunStatus,
    StoreOrderState,
    StoreWriteback,
    SyncRun,
    WebhookDelivery,
    Webstore,
    WritebackState,
)
from portal.queue import worker_queues
from portal.sync.health import DEGRADED, FAILING, HEALTHY, webstore_health

bp = Blueprint("metrics", __name__)

PREFIX = "webstore_connector"

# Headers a reverse proxy adds. A proxy on this host connects from loopback for every
# client, wherever the client is: a request relayed by one is never taken for this host's.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")


@bp.get("/metrics")
def scrape():
    refusal = refuse_scrape()
    if refusal:
        return refusal
    encoder, content_type = choose_encoder(request.headers.get("Accept"))
    return Response(encoder(REGISTRY), content_type=content_type)


def refuse_scrape() -> Response | None:
    """The plain-text refusal of a scrape that may not read the metrics; None when it may."""
    token = current_app.config.get("METRICS_TOKEN")
    if "Authorization" in request.headers:
        # Whatever is sent is checked, even from this host: a wrong token is a mistake to show.
        authorization = request.authorization  # None when it cannot be read
        given = authorization.token if authorization and authorization.type == "bearer" else None
        if token and given and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return refusal(
            401,
            "The bearer token is not this portal's METRICS_TOKEN. Set the scrape's "
            "bearer token to the value of METRICS_TOKEN in the portal's environment.",
        )
    if from_this_host():
        return None
    if token:
        return refusal(
            401,
            "Metrics need the header 'Authorization: Bearer <METRICS_TOKEN>': set the "
            "scrape's bearer token to the value of METRICS_TOKEN in the portal's environment.",
        )
    return refusal(
        403,
        "Metrics are served only to a scrape from this host, because METRICS_TOKEN is not "
        "set. Set METRICS_TOKEN in the portal's environment and send it as a bearer token.",
    )


def refusal(status: int, message: str) -> Response:
    response = Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response.www_authenticate = WWWAuthenticate("Bearer", {"realm": "metrics"})
    return response


def from_this_host() -> bool:
    """Whether the request came straight from this machine: from a loopback address, and
    not through a reverse proxy (which connects from loopback when it runs here too)."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False  # a Unix socket: a proxy's, as far as anyone can tell
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return address.is_loopback


def counter(name: str, documentation: str, *labels: str) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)


def gauge(name: str, documentation: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)


class ConnectorCollector(Collector):
    """The connector's metrics, read afresh at each scrape: a few grouped queries, whatever
    the number of runs, orders and deliveries."""

    def collect(self):
        codes = dict(db.session.execute(sa.select(Webstore.id, Webstore.code)).all())
        yield from run_metrics(codes)
        yield from health_metrics()
        yield from audit_metrics(codes)
        yield from writeback_metrics(codes)
        yield from webhook_metrics(codes)
        yield from queue_metrics()


def by_code(rows, codes: dict[int, str]):
    """Rows with their webstore's code in place of its id. A webstore made while the scrape
    reads (each statement sees what is committed by then) waits for the next scrape."""
    for webstore_id, *values in rows:
        if webstore_id in codes:
            yield codes[webstore_id], *values


RUN_LABELS = ("webstore", "kind", "trigger", "status")


def run_metrics(codes: dict[int, str]):
    """Runs by what started them and how they ended, and the orders they settled."""
    finished = counter("sync_runs", "Finished runs of orders or refunds.", *RUN_LABELS)
    unfinished = gauge("sync_runs_unfinished", "Runs queued or running now.", *RUN_LABELS)
    orders = counter(
        "orders",
        "Store orders settled by orders runs, by outcome: an order met by two runs counts "
        "twice (a failure retried counts once failed, once imported).",
        "webstore",
        "outcome",
    )
    settled = {(code, outcome): 0 for code in codes.values() for outcome in Outcome}
    grouping = (SyncRun.webstore_id, SyncRun.kind, SyncRun.trigger, SyncRun.status)
    sums = (sa.func.sum(getattr(SyncRun, outcome)).label(outcome) for outcome in Outcome)
    rows = db.session.execute(sa.select(*grouping, sa.func.count(), *sums).group_by(*grouping))
    for code, kind, trigger, status, runs, *counts in by_code(rows, codes):
        family = finished if RunStatus(status).finished else unfinished
        family.add_metric([code, kind, trigger, status], runs)
        if kind == RunKind.ORDERS:
            for outcome, count in zip(Outcome, counts, strict=True):
                settled[code, outcome] += count
    for labels, value in settled.items():
        orders.add_metric(labels, value)
    return finished, unfinished, orders


def health_metrics():
    """Each webstore's sync health as the home page shows it (``portal.sync.health``)."""
    state = gauge(
        "health",
        "1 for the webstore's sync health now (healthy, degraded or failing), 0 for the others.",
        "webstore",
        "state",
    )
    conditions = gauge(
        "health_condition",
        "1 for each reason the webstore is degraded or failing now; the home page says it in "
        "words and links to where it is fixed.",
        "webstore",
        "condition",
        "severity",
    )
    lag = gauge(
        "lag_seconds",
        "How late the webstore's orders are: the longer of how far automatic sync is behind "
        "and how long the oldest store order to import has waited; absent while automatic sync "
        "is off and no order waits.",
        "webstore",
    )
    last_sync = gauge(
        "last_sync_timestamp_seconds",
        "When the last automatic sync that went through finished, in Unix time.",
        "webstore",
    )
    waiting = gauge(
        "orders_waiting",
        "Store orders waiting for a person: failed and not imported since, or found missing "
        "by an audit and not imported since.",
        "webstore",
        "state",
    )
    last_delivery = gauge(
        "webhook_last_delivery_timestamp_seconds",
        "When the store's latest webhook delivery was received, in Unix time.",
        "webstore",
    )
    webhooks = gauge(
        "store_webhooks",
        "The store's own word on the portal's webhooks, as last asked: 1 for each topic's state.",
        "webstore",
        "topic",
        "state",
    )
    for health in webstore_health():
        code = health.webstore.code
        for each in (HEALTHY, DEGRADED, FAILING):
            state.add_metric([code, each], int(health.state == each))
        for condition in health.conditions:
            severity = FAILING if condition.failing else DEGRADED
            conditions.add_metric([code, condition.key, severity], 1)
        if health.lag_seconds is not None:
            lag.add_metric([code], health.lag_seconds)
        if run := health.last_sync:
            last_sync.add_metric([code], (run.finished_at or run.created_at).timestamp())
        waiting.add_metric([code, StoreOrderState.FAILED], health.failed_waiting)
        waiting.add_metric([code, StoreOrderState.MISSING], health.missing)
        if health.last_delivery_at:
            last_delivery.add_metric([code], health.last_delivery_at.timestamp())
        for topic, topic_state in (health.webhooks.states if health.webhooks else {}).items():
            webhooks.add_metric([code, topic, topic_state], 1)
    return state, conditions, lag, last_sync, waiting, last_delivery, webhooks


def audit_metrics(codes: dict[int, str]):
    """What the latest completed audit of each webstore found (failed audits found nothing)."""
    missing = gauge(
        "audit_missing_orders",
        "Store orders that the latest completed audit found the connector never met.",
        "webstore",
    )
    failed = gauge(
        "audit_failed_orders",
        "Store orders that the latest completed audit found failed, waiting for a person.",
        "webstore",
    )
    finished_at = gauge(
        "audit_finished_timestamp_seconds",
        "When the latest completed audit finished, in Unix time.",
        "webstore",
    )
    newest_first = sa.func.row_number().over(
        partition_by=Audit.webstore_id, order_by=(Audit.started_at.desc(), Audit.id.desc())
    )
    ranked = (
        sa.select(Audit.webstore_id, Audit.missing, Audit.failed, Audit.finished_at)
        .add_columns(newest_first.label("rank"))
        .where(Audit.status == AuditStatus.SUCCEEDED)
        .subquery()
    )
    latest = db.session.execute(sa.select(ranked).where(ranked.c.rank == 1))
    for code, missing_count, failed_count, finished, _ in by_code(latest, codes):
        missing.add_metric([code], missing_count)
        failed.add_metric([code], failed_count)
        if finished:
            finished_at.add_metric([code], finished.timestamp())
    return missing, failed, finished_at


def writeback_metrics(codes: dict[int, str]):
    writebacks = gauge(
        "writebacks",
        "Updates of store orders after posting, by state: pending and sending ones wait, "
        "failed ones were given up and wait for a person.",
        "webstore",
        "state",
    )
    counts = {(code, state): 0 for code in codes.values() for state in WritebackState}
    grouping = (StoreWriteback.webstore_id, StoreWriteback.state)
    rows = db.session.execute(sa.select(*grouping, sa.func.count()).group_by(*grouping))
    for code, state, count in by_code(rows, codes):
        counts[code, state] = count
    for labels, count in counts.items():
        writebacks.add_metric(labels, count)
    return (writebacks,)


def webhook_metrics(codes: dict[int, str]):
    deliveries = counter(
        "webhook_deliveries",
        "Signed webhook deliveries received from the store, replays not counted.",
        "webstore",
    )
    counts = dict.fromkeys(codes.values(), 0)
    rows = db.session.execute(
        sa.select(WebhookDelivery.webstore_id, sa.func.count()).group_by(
            WebhookDelivery.webstore_id
        )
    )
    for code, count in by_code(rows, codes):
        counts[code] = count
    for code, count in counts.items():
        deliveries.add_metric([code], count)
    return (deliveries,)


def queue_metrics():
    """The job queues' depths; a Redis that does not answer is a metric, not a failed scrape."""
    up = gauge("queue_up", "1 when the job queue (Redis) answered this scrape, else 0.")
    jobs = gauge(
        "queue_jobs",
        "Jobs of each RQ queue: waiting (queued), being worked (started), failed and kept.",
        "queue",
        "state",
    )
    try:
        # Counted as they stand: a scrape cleans nothing up (RQ's count would).
        counts = {
            (queue.name, state): count
            for queue in worker_queues()
            for state, count in (
                ("queued", queue.count),
                ("started", queue.started_job_registry.get_job_count(cleanup=False)),
                ("failed", queue.failed_job_registry.get_job_count(cleanup=False)),
            )
        }
    except RedisError:
        up.add_metric([], 0)
        return (up,)
    up.add_metric([], 1)
    for labels, count in counts.items():
        jobs.add_metric(list(labels), count)
    return up, jobs


REGISTRY = CollectorRegistry()
REGISTRY.register(ConnectorCollector())
