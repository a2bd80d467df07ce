"""Completeness audits: every order the store has in a window of days, accounted for.

The store is asked cheaply (a listing of ids, numbers, statuses and dates, 100 a page, by
the day each order was created in the store's calendar) and each order it lists is
accounted for, in this order:

- **imported**: it has a link (a sales order);
- **skipped**: the webstore's setup leaves it out (status filter, order start date), or
  it is a checkout draft, which is no order yet;
- **failed**: its import failed and waits for a person (the staging view says so, or the
  run log's latest word on it);
- left to automatic sync: changed after the watermark, so the next automatic run reads
  it; counted in the store's days (``by_day``), judged by a later audit;
- **missing**: none of these. Recorded in the staging view as missing, to be imported.

The store's lists leave out orders in the trash, and so does the audit. An order recorded
missing that the store no longer lists (deleted, or in the trash) is settled as skipped.

An audit is a row (``Audit``) from the start: the scheduler's daily job and the page's
"Run audit now" queue it on RQ, ``flask audit-webstore`` runs it in the foreground.
"""

import logging
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal import db
from portal.crypto import SecretUnreadable
from portal.models import Outcome, SyncLogEntry, SyncRun, Trigger, User, Webstore
from portal.models.base import utcnow
from portal.models.health import Audit, AuditStatus, SeenVia, StoreOrder, StoreOrderState
from portal.sync import seen
from portal.sync.ahead import pages_ahead
from portal.sync.filters import ImportFilters
from portal.sync.runs import client_for, enqueue_for, queue_answers, start_import
from portal.woo.client import OrderQuery
from portal.woo.errors import WooError

log = logging.getLogger(__name__)

WINDOW_DAYS = 30
# What the listing asks for besides the client's own REF_FIELDS.
FIELDS = ("number",)
# A draft is a checkout in progress (WooCommerce Blocks), not an order the customer placed.
DRAFT = "checkout-draft"
# Audits are due once a day per webstore.
AUDIT_EVERY = timedelta(hours=24)
# An audit still running this long after it started has lost its worker.
STALE_AFTER = timedelta(hours=6)
JOB_TIMEOUT = int(STALE_AFTER.total_seconds())


class AuditError(ValueError):
    """A window a person gave that cannot be audited."""


def default_window(today: date | None = None) -> tuple[date, date]:
    """The last WINDOW_DAYS days, today included."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=WINDOW_DAYS - 1), today


def create_audit(
    webstore: Webstore,
    since: date | None = None,
    until: date | None = None,
    trigger: Trigger = Trigger.MANUAL,
    user: User | None = None,
) -> Audit:
    """A running audit of the window (the last 30 days by default), committed."""
    first, last = default_window()
    until = until or max(last, since or last)
    since = since or until - (last - first)
    # The store's today may be a day ahead of UTC's (its calendar is its timezone's).
    if since > last + timedelta(days=1):
        raise AuditError(f"The window starts in the future ({since}): choose a day up to today.")
    if since > until:
        raise AuditError(f"The window starts ({since}) after it ends ({until}).")
    audit = Audit(
        webstore_id=webstore.id,
        trigger=trigger,
        requested_by_id=user.id if user else None,
        window_from=since,
        window_to=until,
        status=AuditStatus.RUNNING,
        by_day={},
    )
    db.session.add(audit)
    db.session.commit()
    return audit


def audit_webstore(webstore: Webstore, trigger: Trigger = Trigger.COMMAND, **given) -> Audit:
    """Audit the webstore here and now (the command line); ``given``: ``since``, ``until``
    and ``user``, as ``create_audit`` takes them."""
    return execute_audit(create_audit(webstore, trigger=trigger, **given).id)


def start_audit(webstore: Webstore, **given) -> Audit:
    """Record a running audit and queue its job (the page, the scheduler); ``given``: as
    ``create_audit`` takes them."""
    queue_answers("The audit")
    audit = create_audit(webstore, **given)
    enqueue_for(
        audit,
        "jobs.audits.run",
        what="The audit",
        job_timeout=JOB_TIMEOUT,
        description=f"audit {webstore.code} {audit.id} ({audit.trigger})",
    )
    return audit


def execute_audit(audit_id: int) -> Audit:
    """Ask the store for the window's orders and account for each; the audit says how it
    ended (a store that cannot be asked fails it, with the client's words)."""
    audit = db.session.get(Audit, audit_id)
    if audit is None or audit.status != AuditStatus.RUNNING:
        return audit  # ended meanwhile (given up as stale), or deleted with its webstore
    webstore = audit.webstore
    try:
        with client_for(webstore) as client:
            tally = Tally(audit, webstore)
            for page in listing(client, audit.window_from):
                tally.add(page.orders)
            tally.settle_unlisted()
    except (WooError, SecretUnreadable) as error:
        db.session.rollback()
        return finish(audit_id, error=f"The store could not be asked: {str(error).rstrip('.')}.")
    except Exception:
        db.session.rollback()
        log.exception("audit %s failed", audit_id)
        return finish(
            audit_id,
            error=f"The audit stopped on an unexpected error (its details are in the "
            f"application log, under audit {audit_id}). Run it again; if it stops again, tell "
            "whoever runs the connector.",
        )
    return finish(audit_id, tally=tally)


def listing(client, since: date):
    """The store's orders created from ``since`` (its calendar), by id, light: a page at a
    time, the pages after the first asked for a few at once."""
    query = OrderQuery(created_from=since, orderby="id")
    concurrency = max(1, current_app.config.get("IMPORT_CONCURRENCY", 2))
    with ThreadPoolExecutor(concurrency, thread_name_prefix="audit") as pool:
        yield from pages_ahead(pool, client, query, 2 * concurrency, fields=FIELDS)


class Tally:
    """The audit's accounts, page by page: each page's store orders judged, recorded in the
    staging view, and the audit's counts brought up to date, in one commit."""

    def __init__(self, audit: Audit, webstore: Webstore):
        self.audit_id = audit.id
        self.webstore = webstore
        self.window_from = audit.window_from
        self.window_to = audit.window_to
        # A window that ends today runs to now: a store ahead of UTC is in tomorrow already.
        self.open_ended = audit.window_to >= datetime.now(UTC).date()
        self.last_day = audit.window_to
        # Automatic sync reads what changed after its watermark: those are not due yet.
        self.due_until = webstore.watermark if webstore.auto_sync else None
        self.counts: Counter = Counter()
        self.by_day: dict[str, Counter] = defaultdict(Counter)
        self.listed: set[int] = set()

    def add(self, refs) -> None:
        refs = [r for r in refs if r.id not in self.listed and self.in_window(r.order_date)]
        self.listed.update(r.id for r in refs)
        now = utcnow()
        ids = [r.id for r in refs]
        linked = seen.linked(self.webstore.id, ids)
        known = recorded_states(self.webstore.id, ids)
        judged = [(ref, self.judge(ref, ref.id in linked, known.get(ref.id))) for ref in refs]
        failures = latest_failures(
            self.webstore.id,
            [ref.id for ref, (state, _) in judged if state == StoreOrderState.MISSING],
        )
        rows = []
        for ref, (state, reason) in judged:
            self.by_day[ref.order_date.isoformat()][ref.status] += 1
            if state == StoreOrderState.MISSING and ref.id in failures:
                state, reason = StoreOrderState.FAILED, failures[ref.id]
            if state is None:
                continue  # left to automatic sync
            self.counts[state] += 1
            if reason is not None:
                rows.append(self.row(ref, state, reason, now))
        seen.record(rows)
        self.save(finished=False)
        db.session.commit()

    def in_window(self, day: date | None) -> bool:
        if day is None or day < self.window_from:
            return False
        if day > self.window_to and not self.open_ended:
            return False
        self.last_day = max(self.last_day, day)
        return True

    def judge(self, ref, linked: bool, known) -> tuple[StoreOrderState | None, str | None]:
        """How the order is accounted for, and the reason to record it with (None: what the
        staging view says of it stands)."""
        if linked:
            # Recorded only where the staging view does not know it yet (imported before it
            # existed): what it says of an imported order (changed, say) stands.
            return StoreOrderState.IMPORTED, "" if known is None else None
        if ref.status == DRAFT:
            return StoreOrderState.SKIPPED, "a checkout draft: the customer has not placed it yet."
        if reason := seen.left_out_by_setup(self.webstore, ref.status, ref.order_date):
            return StoreOrderState.SKIPPED, reason
        if known is not None and known.state == StoreOrderState.FAILED:
            return StoreOrderState.FAILED, None
        if self.due_until is not None and ref.date_modified > self.due_until:
            return None, None
        return StoreOrderState.MISSING, ""

    def row(self, ref, state: StoreOrderState, reason: str, now: datetime) -> dict:
        return seen.row(
            self.webstore.id,
            ref.id,
            state=state,
            via=SeenVia.AUDIT,
            now=now,
            number=ref.number,
            reason=reason,
            status=ref.status,
            order_date=ref.order_date,
            modified_at=ref.date_modified,
        )

    def settle_unlisted(self) -> None:
        """Orders recorded missing in the window that the store no longer lists: deleted,
        or in the trash; nobody needs to import them."""
        gone = db.session.execute(
            sa.select(StoreOrder.woo_order_id, StoreOrder.number).where(
                StoreOrder.webstore_id == self.webstore.id,
                StoreOrder.state == StoreOrderState.MISSING,
                StoreOrder.order_date.between(self.window_from, self.last_day),
            )
        ).all()
        now = utcnow()
        seen.record(
            [
                seen.row(
                    self.webstore.id,
                    order_id,
                    state=StoreOrderState.SKIPPED,
                    via=SeenVia.AUDIT,
                    now=now,
                    number=number,
                    reason="no longer in the store's lists: deleted, or in the trash.",
                )
                for order_id, number in gone
                if order_id not in self.listed
            ]
        )
        db.session.commit()

    def save(self, finished: bool) -> None:
        """The counts so far on the audit row (uncommitted)."""
        values = {
            "store_total": sum(self.counts.values()),
            "imported": self.counts[StoreOrderState.IMPORTED],
            "skipped": self.counts[StoreOrderState.SKIPPED],
            "failed": self.counts[StoreOrderState.FAILED],
            "missing": self.counts[StoreOrderState.MISSING],
            "by_day": {day: dict(statuses) for day, statuses in sorted(self.by_day.items())},
        }
        if finished:
            values.update(
                status=AuditStatus.SUCCEEDED, finished_at=utcnow(), window_to=self.last_day
            )
        db.session.execute(sa.update(Audit).where(Audit.id == self.audit_id).values(values))


def recorded_states(webstore_id: int, order_ids: list[int]) -> dict:
    """What the staging view says of these store orders (state, reason), where it knows them."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(StoreOrder.woo_order_id, StoreOrder.state, StoreOrder.reason).where(
            StoreOrder.webstore_id == webstore_id, StoreOrder.woo_order_id.in_(order_ids)
        )
    )
    return {row.woo_order_id: row for row in rows}


def latest_failures(webstore_id: int, order_ids: list[int]) -> dict[int, str]:
    """Of these orders, those whose latest word in the run log is a failure, with it: the
    failures logged before the staging view existed."""
    if not order_ids:
        return {}
    latest = (
        sa.select(sa.func.max(SyncLogEntry.id))
        .where(SyncLogEntry.webstore_id == webstore_id, SyncLogEntry.woo_order_id.in_(order_ids))
        .group_by(SyncLogEntry.woo_order_id)
    )
    return dict(
        db.session.execute(
            sa.select(SyncLogEntry.woo_order_id, SyncLogEntry.message).where(
                SyncLogEntry.id.in_(latest), SyncLogEntry.outcome == Outcome.FAILED
            )
        ).all()
    )


def finish(audit_id: int, tally: Tally | None = None, error: str | None = None) -> Audit:
    if tally is not None:
        tally.save(finished=True)
    else:
        db.session.execute(
            sa.update(Audit)
            .where(Audit.id == audit_id)
            .values(status=AuditStatus.FAILED, error=error, finished_at=utcnow())
        )
    db.session.commit()
    audit = db.session.get(Audit, audit_id)
    db.session.refresh(audit)
    return audit


# What the pages and the command line show of audits


def left_to_sync(audit: Audit) -> int:
    """The orders the store listed in the window that the audit left to automatic sync
    (changed after its watermark)."""
    listed = sum(sum(day.values()) for day in audit.by_day.values())
    return listed - audit.store_total


def missing_orders(audit: Audit) -> list[StoreOrder]:
    """The store orders of the audit's webstore and window that are missing now."""
    return in_window(audit, StoreOrderState.MISSING)


def failed_orders(audit: Audit) -> list[StoreOrder]:
    """Those that failed and wait for a person now."""
    return in_window(audit, StoreOrderState.FAILED)


def in_window(audit: Audit, state: StoreOrderState) -> list[StoreOrder]:
    return list(
        db.session.scalars(
            sa.select(StoreOrder)
            .where(
                StoreOrder.webstore_id == audit.webstore_id,
                StoreOrder.state == state,
                StoreOrder.order_date.between(audit.window_from, audit.window_to),
            )
            .order_by(StoreOrder.woo_order_id)
        )
    )


def import_missing(audit: Audit, user: User | None = None) -> SyncRun:
    """Queue an import of the audit's missing orders by id, as an Order ID import does;
    LookupError when none is missing now."""
    order_ids = tuple(o.woo_order_id for o in missing_orders(audit))
    if not order_ids:
        raise LookupError("No order of this audit is missing now: there is nothing to import.")
    filters = ImportFilters(
        order_ids=order_ids, sources={"order_ids": f"missing in audit {audit.id}"}
    )
    return start_import(audit.webstore, filters, Trigger.MANUAL, user)


def latest_audits() -> dict[int, Audit]:
    """Each webstore's latest audit, by webstore id."""
    latest = sa.select(sa.func.max(Audit.id)).group_by(Audit.webstore_id)
    return {
        a.webstore_id: a for a in db.session.scalars(sa.select(Audit).where(Audit.id.in_(latest)))
    }


def recent_audits(limit: int = 20) -> list[Audit]:
    return list(db.session.scalars(sa.select(Audit).order_by(Audit.id.desc()).limit(limit)))


# The scheduler's part


def reap_stale_audits(now: datetime | None = None) -> int:
    """Fail the audits whose worker is gone (still running long after they started)."""
    now = now or utcnow()
    result = db.session.execute(
        sa.update(Audit)
        .where(Audit.status == AuditStatus.RUNNING, Audit.started_at < now - STALE_AFTER)
        .values(
            status=AuditStatus.FAILED,
            finished_at=now,
            error="The worker running this audit stopped before it finished. Run it again.",
        )
    )
    db.session.commit()
    return result.rowcount


def due_webstores(now: datetime | None = None) -> list[Webstore]:
    """The webstores without an audit started in the last 24 hours."""
    now = now or utcnow()
    recent = sa.select(Audit.webstore_id).where(Audit.started_at > now - AUDIT_EVERY)
    return list(
        db.session.scalars(
            sa.select(Webstore).where(Webstore.id.not_in(recent)).order_by(Webstore.code)
        )
    )
