"""Automatic synchronization: which webstores are due, and their incremental filters.

The scheduler only enqueues; workers import. An automatic run asks for the orders
modified after the webstore's watermark (less a small overlap, since stores stamp times
to the second and a clock may lag); without a watermark, from the order start date; with
neither, all orders. The unique index on active automatic runs makes "no automatic run
queued or running" a database fact, so two schedulers never start two.

``flask sync-webstore`` runs the same sync in the foreground, as a run of its own trigger
(``command``). It reads from the same watermark, so it holds the webstore as an automatic
run does: the command refuses to start beside one, and the scheduler starts none beside
it (``active_sync_run``, ``command_line_syncs``). That is checked in code, not by the
index (which stays on automatic runs, so ``flask import-orders``, also a ``command`` run,
goes beside them as a manual import does): a command and the scheduler starting in the
same instant read the same orders twice, never import one twice, and the watermark only
moves forward.
"""

import dataclasses
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import RunKind, RunStatus, SyncRun, Trigger, Webstore
from portal.models.base import utcnow
from portal.sync.filters import ImportFilters
from portal.sync.runs import (
    QueueUnavailable,
    claim_retry,
    reap_dead_runs,
    requeue_lost_runs,
    start_import,
)

WATERMARK_OVERLAP = timedelta(minutes=2)
# The scheduler looks once a minute (jobs/cron_config.py). A sync due before its next look
# starts at this one: due a few milliseconds after a look (its last run was queued a moment
# after the look before), it would otherwise wait a whole minute more, every interval.
DUE_EARLY = timedelta(seconds=30)
# The due time of a webstore whose automatic sync never ran: long past.
NEVER_RUN = datetime(2000, 1, 1, tzinfo=UTC)


def refund_filters(webstore: Webstore, start_date=None, order_ids=()) -> ImportFilters:
    """What a refunds run reads: orders modified since the refunds watermark (a refund
    modifies its order), else since the refunds start date, the orders' start date when
    the webstore has none of its own; refunds before the start date are left alone."""
    start = start_date or webstore.refunds_start_date or webstore.order_start_date
    modified_after = None
    if order_ids:
        start = None
    elif webstore.refunds_watermark and not start_date:
        modified_after = webstore.refunds_watermark - WATERMARK_OVERLAP
    elif start:
        modified_after = datetime.combine(start, time(), tzinfo=UTC) - timedelta(days=1)
    return ImportFilters(
        start_date=start,
        order_ids=tuple(order_ids),
        incremental=not order_ids and not start_date,
        modified_after=modified_after,
        sources={"start_date": "refunds setup", "modified_after": "refunds watermark"},
    )


def follow_with_refunds(run: SyncRun) -> SyncRun | None:
    """After an automatic orders run (or ``flask sync-webstore``'s), in the same job: a
    refunds run for what changed since the refunds watermark. (A webhook's run credits its
    order's refunds itself.)"""
    from portal.sync.runs import create_run, execute_run

    if not is_sync(run) or not RunStatus(run.status).finished:
        return None  # not a sync, or one that goes on in a later slice
    if run.webstore.refunds_start_date is None:
        return None  # refunds are synchronized once the setup gives them a start date
    if run.status == RunStatus.FAILED and not run.settled:
        return None  # the store did not answer: its refunds wait for the next sync
    refunds = create_run(
        run.webstore, refund_filters(run.webstore), run.trigger, kind=RunKind.REFUNDS
    )
    return execute_run(refunds.id)


def incremental_filters(webstore: Webstore) -> ImportFilters:
    modified_after = None
    if webstore.watermark:
        modified_after = webstore.watermark - WATERMARK_OVERLAP
    elif webstore.order_start_date:
        # An order is modified when it is created, or later. The start date is a day of the
        # store's calendar, which may begin up to a day before UTC's: the created_from
        # filter then draws the exact boundary.
        start = datetime.combine(webstore.order_start_date, time(), tzinfo=UTC)
        modified_after = start - timedelta(days=1)
    return ImportFilters(
        statuses=webstore.status_filter,
        start_date=webstore.order_start_date,
        incremental=True,
        modified_after=modified_after,
        sources={"statuses": "setup", "start_date": "setup", "modified_after": "watermark"},
    )


def last_automatic_runs() -> dict[int, datetime]:
    rows = db.session.execute(
        sa.select(SyncRun.webstore_id, sa.func.max(SyncRun.created_at))
        .where(SyncRun.trigger == Trigger.AUTOMATIC)
        .group_by(SyncRun.webstore_id)
    )
    return dict(rows.all())


def next_due(webstore: Webstore, last_run_at: datetime | None) -> datetime | None:
    if not webstore.auto_sync:
        return None
    if last_run_at is None:
        return NEVER_RUN
    return last_run_at + timedelta(minutes=webstore.sync_interval_minutes)


def due_webstores(now: datetime | None = None) -> list[Webstore]:
    """The webstores whose automatic sync is due, but not one a command-line sync holds;
    the longest due first, as they go on the queue."""
    now = now or utcnow()
    last = last_automatic_runs()
    busy = command_line_syncs()
    webstores = db.session.scalars(sa.select(Webstore).where(Webstore.auto_sync.is_(True)))
    due = {w: next_due(w, last.get(w.id)) for w in webstores if w.id not in busy}
    return sorted((w for w, at in due.items() if at <= now + DUE_EARLY), key=due.get)


def enqueue_due(now: datetime | None = None) -> list[SyncRun]:
    """Start an automatic run for every webstore that is due and has none going, and the
    retries that are due."""
    reap_dead_runs()
    requeue_lost_runs()
    started = retry_due(now)
    for webstore in due_webstores(now):
        try:
            started.append(start_import(webstore, incremental_filters(webstore), Trigger.AUTOMATIC))
        except IntegrityError:
            # Another scheduler, or an automatic run still going: that one is enough.
            db.session.rollback()
        except QueueUnavailable:
            db.session.rollback()
            break
    return started


def retry_due(now: datetime | None = None) -> list[SyncRun]:
    """Start again the runs that stopped because the store stopped answering, once due.

    An automatic run goes on from the watermark it left; any other from the listing page
    it reached. Each is tried as the run it follows: same trigger, the next attempt; but a
    command-line sync, whose command has ended, is taken over by the scheduler as an
    automatic run. A sync waits while a command-line sync holds its webstore.
    """
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(SyncRun).where(SyncRun.retry_at.is_not(None), SyncRun.retry_at <= now)
    ).all()
    busy = command_line_syncs()
    started = []
    for failed in due:
        if is_sync(failed) and failed.webstore_id in busy:
            continue
        if not claim_retry(failed):
            continue
        webstore = failed.webstore
        trigger = Trigger.AUTOMATIC if is_sync(failed) else failed.trigger
        if failed.trigger == Trigger.AUTOMATIC and failed.kind == RunKind.REFUNDS:
            filters = refund_filters(webstore)
        elif is_sync(failed):
            filters = incremental_filters(webstore)
        else:
            settled = ImportFilters.from_json(failed.filters)
            filters = dataclasses.replace(settled, from_page=max(1, failed.pages_settled))
        try:
            started.append(
                start_import(
                    webstore,
                    filters,
                    trigger,
                    failed.requested_by,
                    retry_of=failed,
                    attempt=failed.attempt + 1,
                    kind=failed.kind,
                )
            )
        except IntegrityError:
            db.session.rollback()  # an automatic run is going already: it goes on from there
        except QueueUnavailable:
            db.session.rollback()
            reschedule(failed, now)
            break
    return started


def reschedule(run: SyncRun, now: datetime) -> None:
    """The queue did not answer: keep the retry due for the next minute."""
    run.retry_at = now
    db.session.commit()


def sync_now(webstore: Webstore, user=None) -> SyncRun:
    """An automatic-style run started by a person from the setup page."""
    return start_import(webstore, incremental_filters(webstore), Trigger.AUTOMATIC, user)


def is_sync(run: SyncRun) -> bool:
    """Whether a run synchronizes orders from the watermark: an automatic orders run, or
    ``flask sync-webstore``'s (a command whose filters are incremental)."""
    if run.kind != RunKind.ORDERS:
        return False
    if run.trigger == Trigger.COMMAND:
        return ImportFilters.from_json(run.filters).incremental
    return run.trigger == Trigger.AUTOMATIC


def going_runs(*triggers: Trigger, webstore: Webstore | None = None) -> list[SyncRun]:
    """The queued and running runs of these triggers (of one webstore), oldest first."""
    query = sa.select(SyncRun).where(
        SyncRun.trigger.in_(triggers), SyncRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])
    )
    if webstore is not None:
        query = query.where(SyncRun.webstore_id == webstore.id)
    return list(db.session.scalars(query.order_by(SyncRun.id)))


def active_sync_run(webstore: Webstore) -> SyncRun | None:
    """The webstore's automatic run (of orders or refunds) or command-line sync that is
    queued or running, if any: one at a time reads from its watermarks."""
    going = going_runs(Trigger.AUTOMATIC, Trigger.COMMAND, webstore=webstore)
    return next((r for r in going if r.trigger == Trigger.AUTOMATIC or is_sync(r)), None)


def command_line_syncs() -> set[int]:
    """The webstores a ``flask sync-webstore`` is synchronizing now."""
    return {run.webstore_id for run in going_runs(Trigger.COMMAND) if is_sync(run)}


def sync_states(webstores: list[Webstore]) -> dict[int, dict]:
    """Each webstore's automatic sync at a glance: last run, watermark, next due time."""
    now = utcnow()
    last_at = last_automatic_runs()
    last_runs = (
        {
            run.webstore_id: run
            for run in db.session.scalars(
                sa.select(SyncRun).where(
                    SyncRun.trigger == Trigger.AUTOMATIC,
                    sa.tuple_(SyncRun.webstore_id, SyncRun.created_at).in_(list(last_at.items())),
                )
            )
        }
        if last_at
        else {}
    )
    return {
        w.id: {
            "last_run": last_runs.get(w.id),
            "next_due": max(next_due(w, last_at.get(w.id)) or NEVER_RUN, now)
            if w.auto_sync
            else None,
            "watermark": w.watermark,
        }
        for w in webstores
    }
