"""Runs: start one (queued on RQ), execute it, record how it ended, retry its failures.

The ``SyncRun`` row is the truth about a run; the RQ job id is only a handle, since RQ's
own job data expires. A run whose worker died stops heartbeating and is marked failed.
"""

import contextlib
import gc
import logging
import sys
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from portal import db
from portal.crypto import SecretUnreadable
from portal.models import (
    OrderLink,
    Outcome,
    RunKind,
    RunStatus,
    SyncLogEntry,
    SyncRun,
    Trigger,
    User,
    Webstore,
)
from portal.models.base import utcnow
from portal.queue import import_queue, redis_connection, webhook_queue
from portal.sync.filters import ImportFilters
from portal.sync.importer import OrderImport
from portal.sync.log import skip_kind
from portal.sync.refunds import RefundImport, credit_webhook_refunds
from portal.sync.store_settings import keep_store_limit, store_limit
from portal.woo.client import WooClient
from portal.woo.errors import TRANSIENT_ERRORS, WooError

log = logging.getLogger(__name__)

# Large stores take long: 100,000 orders at a real store's pace is over 20 minutes.
JOB_TIMEOUT = 6 * 3600
RUN_JOB = "jobs.import_orders.run"
# RQ keeps a job's result an hour and a failed job a week: the record says the rest.
JOB_KEPT = {"result_ttl": 3600, "failure_ttl": 7 * 24 * 3600}


class QueueUnavailable(Exception):
    """Redis does not answer: nothing can be queued right now."""


class NothingToRetry(Exception):
    pass


def client_for(webstore: Webstore, **options) -> WooClient:
    """A client for the webstore's store; ``options`` override its setup (e.g. timeout)."""
    settings = {
        "version": webstore.api_version,
        "timeout": webstore.timeout_seconds,
        "verify_tls": webstore.verify_tls,
        "backoff_base": current_app.config["STORE_BACKOFF_SECONDS"],
        # Messages that say where to fix something name the webstore.
        "webstore": webstore.code,
        **options,
    }
    return WooClient(webstore.base_url, webstore.consumer_key, webstore.consumer_secret, **settings)


def create_run(
    webstore: Webstore,
    filters: ImportFilters,
    trigger: Trigger,
    user: User | None = None,
    retry_of: SyncRun | None = None,
    attempt: int = 1,
    kind: RunKind = RunKind.ORDERS,
) -> SyncRun:
    run = SyncRun(
        webstore=webstore,
        trigger=trigger,
        kind=kind,
        requested_by=user,
        retry_of_id=retry_of.id if retry_of else None,
        filters=filters.to_json(),
        status=RunStatus.QUEUED,
        attempt=attempt,
    )
    db.session.add(run)
    db.session.commit()
    return run


def start_import(
    webstore: Webstore,
    filters: ImportFilters,
    trigger: Trigger = Trigger.MANUAL,
    user: User | None = None,
    retry_of: SyncRun | None = None,
    attempt: int = 1,
    kind: RunKind = RunKind.ORDERS,
) -> SyncRun:
    """Record a queued run and put it on the queue; the run row exists before the job."""
    queue_answers("Imports")
    run = create_run(webstore, filters, trigger, user, retry_of, attempt, kind)
    job = enqueue_for(
        run, RUN_JOB, what="Imports", first=trigger == Trigger.WEBHOOK, **run_job_options(run)
    )
    run.job_id = job.id
    db.session.commit()
    return run


def run_job_options(run: SyncRun) -> dict:
    return {
        "job_timeout": JOB_TIMEOUT,
        "retry": None,
        "description": f"import {run.webstore.code} run {run.id} ({run.trigger})",
    }


def enqueue_run(run: SyncRun, *, first: bool = False) -> Job:
    """Queue the job that executes ``run`` again (a slice's next turn, a lost job), on the
    queue workers take first where ``first``; Redis' errors are the caller's."""
    queue = webhook_queue() if first else import_queue()
    return queue.enqueue(RUN_JOB, run.id, **JOB_KEPT, **run_job_options(run))


def queue_answers(what: str) -> None:
    """Raise QueueUnavailable, saying ``what`` cannot be queued, where Redis does not answer:
    asked before a record is made for a job that could not be queued."""
    try:
        redis_connection().ping()
    except RedisError as error:
        raise QueueUnavailable(
            f"{what} cannot be queued right now: the job queue (Redis) is not answering. "
            "Try again in a minute; if it lasts, tell whoever runs the connector."
        ) from error


def enqueue_for(record, job: str, *, what: str, first: bool = False, **options) -> Job:
    """Queue ``job`` for ``record`` (a run, an audit), whose row was committed first, on the
    queue workers take from first where ``first``; where Redis stops answering meanwhile,
    the record is deleted again, so that nothing waits for a job that was never queued."""
    queue = webhook_queue() if first else import_queue()
    try:
        return queue.enqueue(job, record.id, **JOB_KEPT, **options)
    except RedisError as error:
        db.session.delete(record)
        db.session.commit()
        raise QueueUnavailable(
            f"{what} cannot be queued right now: the job queue (Redis) stopped answering."
        ) from error


def failed_left(run: SyncRun) -> tuple[int, ...]:
    """The orders that failed in ``run`` and are not imported since: what a retry takes."""
    if not run.failed:
        return ()
    failed_ids = db.session.scalars(
        sa.select(SyncLogEntry.woo_order_id)
        .where(SyncLogEntry.run_id == run.id, SyncLogEntry.outcome == Outcome.FAILED)
        .where(SyncLogEntry.woo_order_id > 0)
        .distinct()
    ).all()
    imported = set(
        db.session.scalars(
            sa.select(OrderLink.woo_order_id).where(
                OrderLink.webstore_id == run.webstore_id, OrderLink.woo_order_id.in_(failed_ids)
            )
        )
    )
    return tuple(sorted(set(failed_ids) - imported))


# Failed orders checked against their links at a time, in the run's (run, outcome, id) index.
LEFT_CHUNK = 500


def anything_left_to_retry(run: SyncRun) -> bool:
    """Whether an order that failed in ``run`` is still not imported: chunk by chunk of its
    failures, so that a run with one left answers after a lookup or two, and a run of 24,000
    failures all imported since in tens of milliseconds (one anti-join would hash every link)."""
    if not run.failed:
        return False
    after = 0
    while True:
        chunk = db.session.execute(
            sa.select(SyncLogEntry.id, SyncLogEntry.woo_order_id)
            .where(SyncLogEntry.run_id == run.id, SyncLogEntry.outcome == Outcome.FAILED)
            .where(SyncLogEntry.id > after)
            .order_by(SyncLogEntry.id)
            .limit(LEFT_CHUNK)
        ).all()
        ids = {order_id for _, order_id in chunk if order_id > 0}
        linked = db.session.scalars(
            sa.select(OrderLink.woo_order_id).where(
                OrderLink.webstore_id == run.webstore_id, OrderLink.woo_order_id.in_(ids)
            )
        )
        if ids - set(linked):
            return True
        if len(chunk) < LEFT_CHUNK:
            return False
        after = chunk[-1].id


def retry_failed(run: SyncRun, user: User | None = None) -> SyncRun:
    """A new run for exactly the orders that failed in ``run`` and are not imported since."""
    order_ids = failed_left(run)
    if not order_ids:
        raise NothingToRetry("Every order that failed in this run has been imported since.")
    filters = ImportFilters(order_ids=order_ids, sources={"order_ids": f"retry of run {run.id}"})
    return start_import(run.webstore, filters, Trigger.RETRY, user, retry_of=run, kind=run.kind)


def execute_run(run_id: int, progress=None, sliced: bool = False) -> SyncRun | None:
    """Run a queued import to its end. Called by the RQ job and by the CLI.

    ``sliced`` (the job's way): an automatic sync with more to read after
    RUN_SLICE_SECONDS of work goes back to the queue (``pause``) and goes on in its turn.
    """
    if not claim(run_id):
        log.info("run %s is not queued any more; nothing to do", run_id)
        return db.session.get(SyncRun, run_id)
    run = db.session.get(SyncRun, run_id)
    webstore = run.webstore
    webstore_id = webstore.id
    filters = ImportFilters.from_json(run.filters)
    limit = store_limit(webstore)
    concurrency = limit.highest  # threads; the limit says how many ask at once
    deadline = time.monotonic() + current_app.config["RUN_SLICE_SECONDS"] if sliced else None
    paused = False
    with Heartbeat(run_id, every=current_app.config["RUN_HEARTBEAT_SECONDS"]), run_pace():
        try:
            with client_for(webstore) as client:
                client.limit = limit
                if run.kind == RunKind.REFUNDS:
                    RefundImport(
                        run, webstore, client, filters, progress, concurrency=concurrency
                    ).execute()
                else:
                    orders = OrderImport(
                        run,
                        webstore,
                        client,
                        filters,
                        concurrency=concurrency,
                        progress=progress,
                        deadline=deadline if run.trigger == Trigger.AUTOMATIC else None,
                    )
                    orders.execute()
                    paused = orders.paused
                    if not paused:
                        credit_webhook_refunds(run, webstore, client, progress)
        except (WooError, SecretUnreadable) as error:
            db.session.rollback()
            keep_store_limit(webstore_id, limit)
            reason = f"The store could not be read: {str(error).rstrip('.')}."
            if isinstance(error, TRANSIENT_ERRORS):
                return try_again_later(run_id, reason)
            return finish(run_id, RunStatus.FAILED, reason)
        except Exception:
            db.session.rollback()
            log.exception("run %s failed", run_id)
            return finish(run_id, RunStatus.FAILED, stopped_unexpectedly(run_id))
    keep_store_limit(webstore_id, limit)
    if paused:
        return pause(run_id)
    run = db.session.get(SyncRun, run_id)
    db.session.refresh(run)
    return finish(run_id, ending_status(run))


def pause(run_id: int) -> SyncRun:
    """Put a run with more to read back at the end of the import queue, as "queued": the
    runs queued meanwhile (other webstores' syncs) go first, and no worker is held by one
    webstore for longer than a slice. It stays the webstore's one automatic run, so no
    other starts beside it; where Redis does not take the job, the scheduler tries again
    from the watermark, as for a store that stopped answering."""
    db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.QUEUED, slices=SyncRun.slices + 1)
    )
    db.session.commit()
    run = db.session.get(SyncRun, run_id)
    db.session.refresh(run)
    try:
        job = enqueue_run(run)
    except RedisError:
        log.warning("run %s could not go back to the queue", run_id, exc_info=True)
        claim(run_id)
        return try_again_later(
            run_id, "The job queue (Redis) stopped answering between two slices of the run."
        )
    run.job_id = job.id
    db.session.commit()
    return run


@contextlib.contextmanager
def run_pace(young: int = 20_000, switch_seconds: float = 0.001):
    """Tune the interpreter for a run's work, and restore it after.

    - Python's cyclic garbage collector runs less often. A run makes a dict, a string or a
      Decimal of nearly every value of every order it reads and writes, and next to none
      of them is in a reference cycle: reference counting frees them. With the default
      threshold (700 new objects) the collector walks the young objects every few hundred
      of them and every live one every ~70,000: about a tenth of a fast store's import
      (``bench/README.md``). What it does free it frees a little later.
    - The thread that writes the batches gets the GIL back sooner (``sys.
      setswitchinterval``). It waits for the database several times a batch, while the
      store's pages are parsed on the request threads; when the answer comes, it waits
      for the GIL until the parsing thread's interval ends: 5 ms by default, which on a
      fast store is about as long as the database took.
    """
    thresholds, switch = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(young, 2 * thresholds[1], 2 * thresholds[2])
    sys.setswitchinterval(switch_seconds)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(switch)


def ending_status(run: SyncRun) -> RunStatus:
    """How a run that went through its orders ended: "failed" where something failed and
    nothing was imported, "partial" where some failed beside what was imported."""
    if not run.failed:
        return RunStatus.SUCCEEDED
    return RunStatus.PARTIAL if run.imported else RunStatus.FAILED


def stopped_unexpectedly(run_id: int) -> str:
    # The exception's text may hold SQL and values: it went to the application log.
    return (
        f"The import stopped on an unexpected error (its details are in the application "
        f"log, under run {run_id}). The orders it imported stay; start the import again, and "
        "if it stops again, tell whoever runs the connector."
    )


def try_again_later(run_id: int, reason: str) -> SyncRun:
    """Fail a run the store stopped answering, and say when the scheduler tries again
    (RUN_RETRY_DELAYS), continuing from what it settled; after the last try it stays failed."""
    run = db.session.get(SyncRun, run_id)
    delays = current_app.config["RUN_RETRY_DELAYS"]
    tries = len(delays) + 1
    if run.attempt > len(delays):
        reason += f" Gave up after {tries} attempts: start the import again once the store answers."
        return finish(run_id, RunStatus.FAILED, reason)
    retry_at = utcnow() + timedelta(seconds=delays[run.attempt - 1])
    reason += (
        f" It is tried again automatically at {retry_at:%H:%M} UTC (attempt {run.attempt + 1} "
        f"of {tries}), from where it stopped."
    )
    run = finish(run_id, RunStatus.FAILED, reason)
    db.session.execute(sa.update(SyncRun).where(SyncRun.id == run_id).values(retry_at=retry_at))
    db.session.commit()
    db.session.refresh(run)
    return run


def claim_retry(run: SyncRun) -> bool:
    """Take a due retry; False if another scheduler took it first."""
    result = db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.retry_at.is_not(None))
        .values(retry_at=None)
    )
    db.session.commit()
    return result.rowcount == 1


def claim(run_id: int) -> bool:
    """Move a queued run to running; False if another worker (or a retry) got it first."""
    now = utcnow()
    result = db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.QUEUED)
        # A run's later slices keep the moment it first started: what it imported since
        # is its own (portal.sync.changes).
        .values(
            status=RunStatus.RUNNING,
            started_at=sa.func.coalesce(SyncRun.started_at, now),
            heartbeat_at=now,
        )
    )
    db.session.commit()
    return result.rowcount == 1


def finish(run_id: int, status: RunStatus, reason: str | None = None) -> SyncRun:
    db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RunStatus.RUNNING)
        .values(
            status=status,
            reason=reason,
            finished_at=utcnow(),
            skip_reasons=count_skips(run_id),
        )
    )
    db.session.commit()
    run = db.session.get(SyncRun, run_id)
    db.session.refresh(run)
    return run


def count_skips(run_id: int) -> dict[str, int]:
    """The run's skipped orders by kind of reason (portal.sync.log.SKIP_KINDS)."""
    kind = skip_kind(SyncLogEntry.message)
    rows = db.session.execute(
        sa.select(kind, sa.func.count())
        .where(SyncLogEntry.run_id == run_id, SyncLogEntry.outcome == Outcome.SKIPPED)
        .group_by(kind)
    )
    return dict(rows.tuples().all())


def skip_summary(run: SyncRun) -> dict[str, int]:
    """A finished run's skips by reason: counted when it ended, or now (and kept) for a run
    that ended before runs kept them, or whose worker died."""
    if run.skip_reasons is None and RunStatus(run.status).finished:
        run.skip_reasons = count_skips(run.id)
        db.session.commit()
    return run.skip_reasons or {}


class Heartbeat:
    """Touches the run's heartbeat every few seconds from a thread, while the run lives."""

    def __init__(self, run_id: int, every: float):
        self.run_id = run_id
        self.every = every
        self.engine = db.engine
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"heartbeat-{run_id}")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        sa.update(SyncRun)
                        .where(SyncRun.id == self.run_id)
                        .values(heartbeat_at=utcnow())
                    )
            except sa.exc.SQLAlchemyError:
                log.warning("heartbeat of run %s missed", self.run_id, exc_info=True)


def reap_dead_runs(stale_after: timedelta | None = None) -> list[int]:
    """Mark failed the runs whose worker is gone: no heartbeat for a while, or a dead job."""
    stale_after = stale_after or timedelta(seconds=current_app.config.get("RUN_STALE_SECONDS", 60))
    now = utcnow()
    reaped = []
    running = db.session.scalars(
        sa.select(SyncRun).where(SyncRun.status == RunStatus.RUNNING)
    ).all()
    for run in running:
        silent = run.heartbeat_at is None or now - run.heartbeat_at > stale_after
        if silent or job_is_dead(run.job_id):
            reason = (
                "The worker running this import stopped (it was killed or crashed) before the "
                "run ended. Orders it settled are kept; start the import again for the rest."
            )
            result = db.session.execute(
                sa.update(SyncRun)
                .where(SyncRun.id == run.id, SyncRun.status == RunStatus.RUNNING)
                .values(status=RunStatus.FAILED, reason=reason, finished_at=now)
            )
            if result.rowcount:
                reaped.append(run.id)
    db.session.commit()
    return reaped


def requeue_lost_runs() -> list[int]:
    """Put back on the queue the queued runs whose job Redis no longer has (flushed, or
    restarted without its data). A job is kept until an hour after it ends, and one that
    ran has moved its run on or found it taken: a queued run without its job would wait
    for good, and an automatic one would hold its webstore's syncs."""
    queued = db.session.scalars(
        sa.select(SyncRun).where(SyncRun.status == RunStatus.QUEUED, SyncRun.job_id.is_not(None))
    ).all()
    if not queued:
        return []
    try:
        jobs = Job.fetch_many([run.job_id for run in queued], connection=redis_connection())
    except RedisError:
        return []
    requeued = []
    for run, job in zip(queued, jobs, strict=True):
        if job is not None:
            continue
        try:
            # Two schedulers may both put it back: one job claims it, the other finds it taken.
            run.job_id = enqueue_run(run, first=run.trigger == Trigger.WEBHOOK).id
        except RedisError:
            break
        log.warning("run %s had lost its job (Redis lost it): queued again", run.id)
        db.session.commit()
        requeued.append(run.id)
    return requeued


def job_is_dead(job_id: str | None) -> bool:
    """True when RQ says the run's job failed or was stopped (a killed work horse)."""
    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=redis_connection()).get_status()
    except NoSuchJobError:
        return False  # expired: only the heartbeat can tell
    except RedisError:
        return False
    return status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)


def reap_if_dead(run: SyncRun) -> None:
    """Check one running run, as a page shows it, so that a dead run does not poll forever."""
    if run.status == RunStatus.RUNNING:
        stale = timedelta(seconds=current_app.config["RUN_STALE_SECONDS"])
        if run.heartbeat_at is None or utcnow() - run.heartbeat_at > stale:
            reap_dead_runs()
            db.session.refresh(run)
