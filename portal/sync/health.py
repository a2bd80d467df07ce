"""Sync health: is each webstore's synchronization working, and what waits for a person.

The home page and Import Results show it (``templates/health/_panel.html``); the alerts
(``portal.alerts``) and the metrics (``portal.metrics``) read it. These names are theirs to
rely on:

``webstore_health(now=None) -> list[WebstoreHealth]``
    Every webstore, by code, in a fixed handful of queries whatever their number (one per
    kind of figure, for all webstores at once) and one Redis read. It never asks a store.
``WebstoreHealth``
    ``webstore``; the figures below; ``conditions`` (failing ones first); ``state``:
    ``HEALTHY``, ``DEGRADED`` or ``FAILING``; ``lag`` (a timedelta or None) and
    ``lag_seconds``.
``Condition(key, words, url, failing, link)``
    What is wrong, in words a person can act on; ``url`` is a path in the portal to where
    it is fixed (prefix ``PUBLIC_URL`` for a message), ``link`` the words of that link.
    Failing keys: ``FAILING_KEYS``; lesser (degraded) ones: ``DEGRADED_KEYS``.
``refresh_webhook_states(now=None)``
    Asks each store that has the portal's webhooks for their state, at most every
    ``WEBHOOK_CHECK_EVERY``, and keeps the answers in Redis (``jobs/health.py``);
    ``keep_webhook_rows(webstore, rows)`` keeps what the setup page just heard.

What the figures mean:

- ``orders_today``, ``orders_this_week``: sales orders of store orders *placed* today (since
  Monday), by the store order's own time (``SalesOrder.ordered_at``), in UTC days. The day
  they were imported does not count: a first import of a year of orders comes in today,
  but none of them is today's.
- ``failed_waiting``: store orders whose last meeting with the connector failed and that
  have no sales order since: ``StoreOrder`` rows in state ``failed``, which every path that
  logs an order keeps as it last met it (``portal.sync.seen``). The log itself is not
  re-read: finding each order's latest entry among a million takes half a second.
- ``missing``: store orders a completeness audit found in the store and not here, and that
  are still not imported (``StoreOrder`` state ``missing``).
- ``waiting_since``: since when the oldest of those has waited: a missing order since its
  last change in the store; a failed one since that change or since the connector first met
  it, whichever is later (an old order imported by hand today has waited since today).
- ``last_sync``: the newest automatic orders run that went through (succeeded, or partial:
  the store answered and its failed orders are counted above); ``failed_in_a_row``: the
  automatic orders runs that failed after it; ``last_failed_run``: the newest of those.
- ``synced_through``: how far automatic sync has read the store: its watermark (the newest
  change it has read), or when its last successful run started, whichever is later; a quiet
  store's watermark stays old while every run reads it up to date. ``sync_lag``: now less
  that, for a webstore whose automatic sync is on; ``watermark_behind``: now less the
  watermark alone.
- ``lag``: the larger of ``sync_lag`` and the wait of the oldest order (``order_lag``).
- ``writebacks_waiting``: store updates pending or being sent; ``writebacks_retrying``: those
  of them the store has not taken at a try; ``writebacks_given_up``: those that failed for
  good (``StoreWriteback`` state ``failed``).
- ``webhooks``: the store's own word on the portal's webhooks (``WebhookStates``, None if
  never asked); ``last_delivery_at``: the last webhook delivery received.
- ``audit``: the newest completeness audit (``Audit``).
"""

import functools
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from redis.exceptions import RedisError

from portal import db
from portal import store_webhooks as webhooks
from portal.crypto import SecretUnreadable
from portal.models import (
    Audit,
    AuditStatus,
    RunKind,
    RunStatus,
    SalesOrder,
    StoreOrder,
    StoreOrderState,
    StoreWriteback,
    SyncRun,
    Trigger,
    WebhookDelivery,
    Webstore,
    WritebackState,
)
from portal.models.base import UTCDateTime, utcnow
from portal.queue import redis_connection
from portal.woo.errors import WooError

log = logging.getLogger(__name__)

HEALTHY, DEGRADED, FAILING = "healthy", "degraded", "failing"
FAILING_KEYS = ("sync_failing", "lag", "webhooks_disabled", "writebacks_given_up", "audit_missing")
DEGRADED_KEYS = (
    "sync_failed",
    "failed_orders",
    "webhooks_paused",
    "writebacks_retrying",
    "audit_failed",
)
# An automatic run that reached the store and settled its listing synchronized it.
SYNCED = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
WAITING = (StoreOrderState.FAILED, StoreOrderState.MISSING)

# The store is asked about its webhooks at most this often; the answer is kept in Redis for
# WEBHOOK_STATES_KEPT, after which it is not shown (the checker has stopped).
WEBHOOK_CHECK_EVERY = timedelta(minutes=5)
WEBHOOK_STATES_KEPT = timedelta(hours=2)
WEBHOOK_STATES_KEY = "health:webhooks:{}"
# The worst first: what the webstore's webhooks are, taken together.
WEBHOOK_SEVERITY = ("disabled", "paused", "moved", "missing", "active")


@dataclass(frozen=True)
class Condition:
    key: str
    words: str
    url: str
    failing: bool
    link: str = "Open"


@dataclass(frozen=True)
class WebhookStates:
    """The portal's webhooks as the store last reported them: {topic: state} (a state of
    ``portal.store_webhooks.Row``), when that was read, and when the store was last asked
    and why it could not answer then (the states read before stay)."""

    states: dict[str, str]
    read_at: datetime | None
    asked_at: datetime
    error: str | None = None

    @property
    def worst(self) -> str | None:
        found = set(self.states.values())
        return next((state for state in WEBHOOK_SEVERITY if state in found), None)

    def topics(self, *states: str) -> list[str]:
        return [topic for topic, state in self.states.items() if state in states]

    def to_json(self) -> str:
        return json.dumps(
            {
                "states": self.states,
                "read_at": self.read_at.isoformat() if self.read_at else None,
                "asked_at": self.asked_at.isoformat(),
                "error": self.error,
            }
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "WebhookStates":
        data = json.loads(text)
        read_at = data["read_at"]
        return cls(
            states=data["states"],
            read_at=datetime.fromisoformat(read_at) if read_at else None,
            asked_at=datetime.fromisoformat(data["asked_at"]),
            error=data["error"],
        )


@dataclass
class WebstoreHealth:
    webstore: Webstore
    now: datetime
    orders_today: int = 0
    orders_this_week: int = 0
    failed_waiting: int = 0
    missing: int = 0
    waiting_since: datetime | None = None
    last_sync: SyncRun | None = None
    failed_in_a_row: int = 0
    last_failed_run: SyncRun | None = None
    writebacks_waiting: int = 0
    writebacks_retrying: int = 0
    writebacks_given_up: int = 0
    # A sales order with a store update given up, for the link to where it is sent again.
    given_up_order_id: int | None = None
    webhooks: WebhookStates | None = None
    last_delivery_at: datetime | None = None
    audit: Audit | None = None
    conditions: list[Condition] = field(default_factory=list)

    @property
    def state(self) -> str:
        if any(c.failing for c in self.conditions):
            return FAILING
        return DEGRADED if self.conditions else HEALTHY

    @property
    def synced_through(self) -> datetime | None:
        run = self.last_sync
        moments = [self.webstore.watermark, run and (run.started_at or run.created_at)]
        return max((m for m in moments if m), default=None)

    @property
    def sync_lag(self) -> timedelta | None:
        if not self.webstore.auto_sync or self.synced_through is None:
            return None
        return max(self.now - self.synced_through, timedelta(0))

    @property
    def watermark_behind(self) -> timedelta | None:
        watermark = self.webstore.watermark
        return max(self.now - watermark, timedelta(0)) if watermark else None

    @property
    def order_lag(self) -> timedelta | None:
        if self.waiting_since is None:
            return None
        return max(self.now - self.waiting_since, timedelta(0))

    @property
    def lag(self) -> timedelta | None:
        return max(
            (lag for lag in (self.sync_lag, self.order_lag) if lag is not None), default=None
        )

    @property
    def lag_seconds(self) -> float | None:
        return self.lag.total_seconds() if self.lag is not None else None

    @property
    def lag_limit(self) -> timedelta:
        return timedelta(minutes=self.webstore.alert_lag_minutes)

    def ago(self, moment: datetime | None) -> str:
        """How long before now ``moment`` was, in words ("5 min ago")."""
        return f"{age_text(self.now - moment)} ago" if moment else ""

    def age(self, delta: timedelta) -> str:
        return age_text(delta)

    @property
    def failed_orders_url(self) -> str:
        return store_orders_url(self.webstore, StoreOrderState.FAILED)

    @property
    def missing_orders_url(self) -> str:
        return store_orders_url(self.webstore, StoreOrderState.MISSING)

    @property
    def audit_url(self) -> str:
        return audit_url(self.webstore)


def webstore_health(now: datetime | None = None) -> list[WebstoreHealth]:
    """Every webstore's health, by code (see the module's docstring)."""
    now = (now or utcnow()).astimezone(UTC)
    webstores = db.session.scalars(sa.select(Webstore).order_by(Webstore.code)).all()
    found = {webstore.id: WebstoreHealth(webstore, now) for webstore in webstores}
    if not found:
        return []
    count_orders(found, now)
    count_waiting(found)
    read_sync_runs(found)
    count_writebacks(found)
    read_webhooks(found)
    read_audits(found)
    for health in found.values():
        health.conditions = conditions_of(health)
    return list(found.values())


# The figures: each reads one kind for every webstore at once.


def count_orders(found: dict[int, WebstoreHealth], now: datetime) -> None:
    today = datetime.combine(now.date(), time(), tzinfo=UTC)
    monday = today - timedelta(days=today.weekday())
    rows = db.session.execute(
        sa.select(
            SalesOrder.webstore_id,
            sa.func.count().filter(SalesOrder.ordered_at >= today),
            sa.func.count(),
        )
        # The store's calendar day is within a day of UTC's: its date bounds the index range.
        .where(
            SalesOrder.order_date >= (monday - timedelta(days=1)).date(),
            SalesOrder.ordered_at >= monday,
        )
        .group_by(SalesOrder.webstore_id)
    )
    for webstore_id, today_count, week_count in rows:
        if health := found.get(webstore_id):
            health.orders_today, health.orders_this_week = today_count, week_count


def count_waiting(found: dict[int, WebstoreHealth]) -> None:
    state = StoreOrder.state
    changed = sa.func.coalesce(StoreOrder.modified_at, StoreOrder.first_seen_at)
    waiting_since = sa.case(
        (state == StoreOrderState.MISSING, changed),
        (changed > StoreOrder.first_seen_at, changed),
        else_=StoreOrder.first_seen_at,
    )
    rows = db.session.execute(
        sa.select(
            StoreOrder.webstore_id,
            sa.func.count().filter(state == StoreOrderState.FAILED),
            sa.func.count().filter(state == StoreOrderState.MISSING),
            sa.func.min(sa.type_coerce(waiting_since, UTCDateTime())),
        )
        # From each webstore: its waiting orders are a range of the (webstore, state) index.
        .select_from(Webstore)
        .join(StoreOrder, sa.and_(StoreOrder.webstore_id == Webstore.id, state.in_(WAITING)))
        .group_by(StoreOrder.webstore_id)
    )
    for webstore_id, failed, missing, since in rows:
        if health := found.get(webstore_id):
            health.failed_waiting, health.missing, health.waiting_since = failed, missing, since


def automatic(runs) -> tuple:
    return (runs.c.trigger == Trigger.AUTOMATIC, runs.c.kind == RunKind.ORDERS)


def newest_run_id(webstore_id, *statuses: RunStatus) -> sa.ScalarSelect:
    """SQL: the id of the webstore's newest automatic orders run in one of ``statuses``;
    ``webstore_id`` is the column of the enclosing query it correlates to."""
    runs = SyncRun.__table__.alias()
    return (
        sa.select(sa.func.max(runs.c.id))
        .where(runs.c.webstore_id == webstore_id, *automatic(runs), runs.c.status.in_(statuses))
        .scalar_subquery()
    )


@functools.cache
def sync_runs_statement() -> sa.Select:
    """Each webstore's last successful automatic run, its last failed one, and how many
    failed since that success (built once: its aliases cost more to build than to run)."""
    since = SyncRun.__table__.alias()
    in_a_row = (
        sa.select(sa.func.count())
        .where(
            since.c.webstore_id == Webstore.id,
            *automatic(since),
            since.c.status == RunStatus.FAILED,
            since.c.id > sa.func.coalesce(newest_run_id(since.c.webstore_id, *SYNCED), 0),
        )
        .scalar_subquery()
    )
    return sa.select(
        Webstore.id,
        newest_run_id(Webstore.id, *SYNCED),
        newest_run_id(Webstore.id, RunStatus.FAILED),
        in_a_row,
    )


def read_sync_runs(found: dict[int, WebstoreHealth]) -> None:
    """The last successful automatic run, and the failed ones since, by id (runs are made in
    id order; a retry is a run of its own)."""
    rows = [row for row in db.session.execute(sync_runs_statement()) if row[0] in found]
    run_ids = {run_id for _, *ids, _ in rows for run_id in ids if run_id}
    runs = {
        run.id: run for run in db.session.scalars(sa.select(SyncRun).where(SyncRun.id.in_(run_ids)))
    }
    for webstore_id, synced_id, failed_id, count in rows:
        health = found[webstore_id]
        health.last_sync = runs.get(synced_id)
        health.failed_in_a_row = count
        health.last_failed_run = runs.get(failed_id) if count else None


def count_writebacks(found: dict[int, WebstoreHealth]) -> None:
    state = StoreWriteback.state
    waiting = state.in_([WritebackState.PENDING, WritebackState.SENDING])
    rows = db.session.execute(
        sa.select(
            StoreWriteback.webstore_id,
            sa.func.count().filter(waiting),
            sa.func.count().filter(waiting, StoreWriteback.attempts > 0),
            sa.func.count().filter(state == WritebackState.FAILED),
            sa.func.max(StoreWriteback.sales_order_id).filter(state == WritebackState.FAILED),
        )
        .where(state.in_([WritebackState.PENDING, WritebackState.SENDING, WritebackState.FAILED]))
        .group_by(StoreWriteback.webstore_id)
    )
    for webstore_id, waiting_count, retrying, given_up, order_id in rows:
        if health := found.get(webstore_id):
            health.writebacks_waiting, health.writebacks_retrying = waiting_count, retrying
            health.writebacks_given_up, health.given_up_order_id = given_up, order_id


def read_webhooks(found: dict[int, WebstoreHealth]) -> None:
    last_delivery = (
        sa.select(sa.func.max(WebhookDelivery.received_at))
        .where(WebhookDelivery.webstore_id == Webstore.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Webstore.id, sa.type_coerce(last_delivery, UTCDateTime())).where(
            Webstore.id.in_(list(found))
        )
    )
    for webstore_id, received_at in rows:
        found[webstore_id].last_delivery_at = received_at
    # Only a webstore with a webhook secret has had the portal's webhooks registered.
    registered = [i for i, health in found.items() if health.webstore.webhook_secret_encrypted]
    for webstore_id, states in kept_webhook_states(registered).items():
        found[webstore_id].webhooks = states


def read_audits(found: dict[int, WebstoreHealth]) -> None:
    newest = sa.select(sa.func.max(Audit.id)).group_by(Audit.webstore_id)
    for audit in db.session.scalars(sa.select(Audit).where(Audit.id.in_(newest))):
        if health := found.get(audit.webstore_id):
            health.audit = audit


# The conditions: what is wrong, in words, and where it is fixed.


def conditions_of(health: WebstoreHealth) -> list[Condition]:
    found = [
        *sync_conditions(health),
        *lag_conditions(health),
        *writeback_conditions(health),
        *webhook_conditions(health),
        *audit_conditions(health),
        *failed_order_conditions(health),
    ]
    return sorted(found, key=lambda condition: not condition.failing)


def sync_conditions(health: WebstoreHealth) -> list[Condition]:
    count, run = health.failed_in_a_row, health.last_failed_run
    if not count:
        return []
    failing = count >= health.webstore.alert_failed_runs
    times = "once" if count == 1 else f"{count} times in a row"
    last = health.last_sync
    since = (
        f" (the last that went through finished {moment_text(last.finished_at or last.created_at)})"
        if last
        else ""
    )
    reason = (run.reason or "").strip() or "its page says why."
    return [
        Condition(
            "sync_failing" if failing else "sync_failed",
            f"Automatic sync failed {times}{since}. The last run: {reason}",
            portal_url("imports.run", run_id=run.id),
            failing,
            "Open the last run",
        )
    ]


def lag_conditions(health: WebstoreHealth) -> list[Condition]:
    limit, parts, url = health.lag_limit, [], None
    if health.order_lag is not None and health.order_lag > limit:
        parts.append(
            "the oldest store order that should be imported and is not has waited "
            f"{age_text(health.order_lag)}"
        )
        url = waiting_orders_url(health)
    if health.sync_lag is not None and health.sync_lag > limit:
        parts.append(
            f"automatic sync is {age_text(health.sync_lag)} behind: nothing was synchronized "
            f"after {moment_text(health.synced_through)}. Check that the scheduler and a "
            "worker are running, or press Sync now"
        )
        url = url or portal_url("setup.index")
    if not parts:
        return []
    words = f"Orders are late (the limit is {age_text(limit)}): " + "; ".join(parts) + "."
    return [Condition("lag", words, url, True, "See what waits")]


def writeback_conditions(health: WebstoreHealth) -> list[Condition]:
    found = []
    if count := health.writebacks_given_up:
        found.append(
            Condition(
                "writebacks_given_up",
                f"{plural(count, 'store update')} given up: the store did not take "
                f"{them(count)}. Open the sales order, read why, and send it again.",
                portal_url(
                    "orders.show", order_id=health.given_up_order_id, _anchor="store-update"
                ),
                True,
                "Open the sales order" if count == 1 else "Open one of the sales orders",
            )
        )
    if count := health.writebacks_retrying:
        found.append(
            Condition(
                "writebacks_retrying",
                f"{plural(count, 'store update')} waiting to be tried again: the store did not "
                f"take {them(count)} at the first try.",
                portal_url("imports.results", _anchor="writebacks-title"),
                False,
                "See the store updates",
            )
        )
    return found


def webhook_conditions(health: WebstoreHealth) -> list[Condition]:
    hooks = health.webhooks
    if hooks is None or hooks.worst in (None, "active"):
        return []
    url = portal_url(
        "setup.edit_webstore", webstore_id=health.webstore.id, _anchor="store-webhooks"
    )
    link = "Open the webhook setup"
    if disabled := hooks.topics("disabled"):
        return [
            Condition(
                "webhooks_disabled",
                f"The store disabled its {' and '.join(disabled)} "
                f"webhook{'s' if len(disabled) > 1 else ''}"
                " (WooCommerce does so after 5 failed deliveries in a row): orders now come only"
                " with automatic sync. Register the webhooks again in the webstore's setup.",
                url,
                True,
                link,
            )
        ]
    words = {
        "paused": "is paused in the store",
        "moved": "delivers to another address",
        "missing": "is not in the store",
    }
    said = [
        f"The {topic} webhook {words[state]}"
        for topic, state in hooks.states.items()
        if state in words
    ]
    return [
        Condition(
            "webhooks_paused",
            "; ".join(said) + ": register the webhooks again in the webstore's setup.",
            url,
            False,
            link,
        )
    ]


def audit_conditions(health: WebstoreHealth) -> list[Condition]:
    found = []
    audit = health.audit
    if count := health.missing:
        found.append(
            Condition(
                "audit_missing",
                f"{plural(count, 'store order')} missing: the store has "
                f"{them(count)} and the connector never imported {them(count)} (found by the "
                f"completeness audit). Import {them(count)} from the list of missing orders.",
                health.missing_orders_url,
                True,
                "See the missing orders",
            )
        )
    if audit is not None and audit.status == AuditStatus.FAILED:
        found.append(
            Condition(
                "audit_failed",
                f"The completeness audit of {moment_text(audit.started_at)} could not ask the "
                f"store: {audit.error or 'its page says why.'}",
                health.audit_url,
                False,
                "Open the audit",
            )
        )
    return found


def failed_order_conditions(health: WebstoreHealth) -> list[Condition]:
    if not (count := health.failed_waiting):
        return []
    return [
        Condition(
            "failed_orders",
            f"{plural(count, 'order')} failed and {'waits' if count == 1 else 'wait'} for a "
            "person: fix what each one's log says, then retry it.",
            health.failed_orders_url,
            False,
            "See the failed orders",
        )
    ]


# Where things are fixed. The pages of the store orders seen and of the audits belong to
# the audit's blueprint; until it is there, Import Results of the webstore stands in.

STORE_ORDERS_ENDPOINT = "audits.store_orders"
AUDIT_ENDPOINT = "audits.show"


def store_orders_url(webstore: Webstore, state: StoreOrderState) -> str:
    if STORE_ORDERS_ENDPOINT in current_app.view_functions:
        return portal_url(STORE_ORDERS_ENDPOINT, webstore=webstore.code, state=state.value)
    return portal_url("imports.results", webstore=webstore.code)


def audit_url(webstore: Webstore) -> str:
    if AUDIT_ENDPOINT in current_app.view_functions:
        return portal_url(AUDIT_ENDPOINT, code=webstore.code)
    return portal_url("imports.results", webstore=webstore.code)


def waiting_orders_url(health: WebstoreHealth) -> str:
    return health.failed_orders_url if health.failed_waiting else health.missing_orders_url


def portal_url(endpoint: str, **values) -> str:
    """A path in the portal, in a request or outside one (a job: the alerts, the metrics)."""
    if has_request_context():
        return url_for(endpoint, **values)
    anchor = values.pop("_anchor", None)
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    path = current_app.url_map.bind("localhost", script_name=root).build(endpoint, values)
    return f"{path}#{anchor}" if anchor else path


# Words


def them(count: int) -> str:
    return "it" if count == 1 else "them"


def plural(count: int, noun: str) -> str:
    return f"1 {noun}" if count == 1 else f"{count:,} {noun}s"


def moment_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def age_text(delta: timedelta) -> str:
    """A length of time as a person says it: "40 s", "12 min", "3 h 5 min", "2 days 4 h"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


# The store's word on its webhooks, kept in Redis: pages never wait for a store.


def kept_webhook_states(webstore_ids: list[int]) -> dict[int, WebhookStates]:
    """What the stores last said of their webhooks; {} where Redis does not answer."""
    if not webstore_ids:
        return {}
    try:
        kept = redis_connection().mget([WEBHOOK_STATES_KEY.format(i) for i in webstore_ids])
    except RedisError as error:
        log.warning("webhook states not read from Redis: %s", error)
        return {}
    return {
        i: WebhookStates.from_json(text) for i, text in zip(webstore_ids, kept, strict=True) if text
    }


def refresh_webhook_states(now: datetime | None = None) -> dict[str, str]:
    """Ask every store whose webstore has the portal's webhooks (it has a webhook secret)
    for their state, unless asked within ``WEBHOOK_CHECK_EVERY``; keep each answer.
    Returns {code: worst state, or why it could not be asked} of the stores asked."""
    now = now or utcnow()
    webstores = db.session.scalars(
        sa.select(Webstore).where(Webstore.webhook_secret_encrypted.is_not(None))
    ).all()
    kept = kept_webhook_states([webstore.id for webstore in webstores])
    asked = {}
    for webstore in webstores:
        before = kept.get(webstore.id)
        if before and now - before.asked_at < WEBHOOK_CHECK_EVERY:
            continue
        states = ask_webhook_states(webstore, before, now)
        keep_webhook_states(webstore, states)
        asked[webstore.code] = states.error or states.worst or "none"
    return asked


def keep_webhook_rows(webstore: Webstore, rows: list[webhooks.Row]) -> None:
    """Keep what the store just said of the webhooks (the setup page asked it, or
    registered them), so that the health shows it at once."""
    now = utcnow()
    keep_webhook_states(webstore, WebhookStates({r.topic: r.state for r in rows}, now, now))


def keep_webhook_states(webstore: Webstore, states: WebhookStates) -> None:
    try:
        redis_connection().set(
            WEBHOOK_STATES_KEY.format(webstore.id), states.to_json(), ex=WEBHOOK_STATES_KEPT
        )
    except RedisError as error:
        log.warning("webhook states of %s not kept in Redis: %s", webstore.code, error)


def ask_webhook_states(webstore: Webstore, before: WebhookStates | None, now) -> WebhookStates:
    public_url = current_app.config.get("PUBLIC_URL")
    path = portal_url("webhooks.receive", code=webstore.code)
    # Without PUBLIC_URL the address the store should deliver to is the one a person
    # opened the setup page at, which a job cannot know: ours are told by the path alone.
    url = public_url.rstrip("/") + path if public_url else path
    try:
        rows = webhooks.store_webhooks(webstore, url)
    except (WooError, SecretUnreadable) as error:
        log.info("webhooks of %s not read: %s", webstore.code, error)
        states, read_at = (before.states, before.read_at) if before else ({}, None)
        return WebhookStates(states, read_at, now, str(error))
    states = {row.topic: row.state for row in rows}
    if not public_url:
        states = {topic: "active" if s == "moved" else s for topic, s in states.items()}
    return WebhookStates(states, now, now)
