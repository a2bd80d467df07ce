"""Automatic sync soak: a busy, faulty store, real workers, and nothing lost or imported twice.

    .venv/bin/python bench/sync_soak.py --seconds 45
    .venv/bin/python bench/sync_soak.py --seconds 45 \\
        --db postgresql://postgres@127.0.0.1:5432/bench_soak

For --seconds S it runs, and then stops by itself:

- a sandbox store (the seed orders, then traffic) that fails requests at the given rates
  (500s, 429s with Retry-After, hangs longer than the webstore's timeout, truncated bodies);
- the DEMO webstore with automatic sync on, in a fresh schema built by the migrations in a
  database of the soak's own (every table in it is dropped; it refuses databases named
  test*): a temporary SQLite file by default, or --db, created if missing on PostgreSQL;
- --workers real `rq worker` processes on their own queue and Redis database;
- the scheduler, driven here: every --interval seconds `enqueue_due(now=...)` with a `now`
  one sync interval ahead, so that the webstore is always due and only the database's
  "one active automatic run" rule holds a run back (production code unchanged);
- a traffic thread creating (--create-rate) and modifying (--modify-rate) orders per second,
  and every --bulk-every seconds giving --bulk-size orders one new status in one modified
  second, as a shop manager's bulk action does (a tie far longer than a page).

Then traffic stops, the faults are turned off, and automatic runs go on one after another
until one finds nothing new (at most --final-runs); the workers are stopped and it counts:

- created:   orders created in the store during the soak;
- imported:  of those, the ones with an OrderLink;
- duplicates: extra rows for one thing (sales orders per webstore order, customers per
  email, items per SKU, item mappings per product, "imported" log entries per order);
- missing:   created orders with neither a link nor a failed log entry giving a reason;
- median_delay_s: from an order's creation in the store to its link's imported_at.

It prints a summary and, last, one JSON line starting with
{"created", "imported", "duplicates", "missing", "median_delay_s"}. It exits 1 when
duplicates or missing are not 0. See bench/SOAK.md.
"""

import argparse
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402
from import_orders import SECRETS_KEY, fresh_schema, make_webstore  # noqa: E402
from redis import Redis  # noqa: E402
from redis.exceptions import RedisError  # noqa: E402
from rq import Queue  # noqa: E402

from app import create_app  # noqa: E402
from config import Config, database_url  # noqa: E402
from portal import db  # noqa: E402
from portal.models import (  # noqa: E402
    Customer,
    Item,
    ItemMapping,
    OrderLink,
    Outcome,
    RunStatus,
    SalesOrder,
    SyncLogEntry,
    SyncRun,
    Trigger,
    Webstore,
)
from portal.models.base import utcnow  # noqa: E402
from portal.sync.runs import client_for  # noqa: E402
from portal.sync.schedule import enqueue_due  # noqa: E402
from portal.woo.client import REF_FIELDS  # noqa: E402
from sandbox.process import SandboxProcess  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
# Per process: two soaks at once never take each other's jobs.
DEFAULT_QUEUE = f"soak-{os.getpid()}"
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
MODIFY_STATUSES = ("processing", "on-hold", "completed", "cancelled")
FAULT_KNOBS = ("fail_rate", "rate_limit_rate", "timeout_rate", "truncate_rate")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300, help="traffic and faults (300)")
    parser.add_argument(
        "--db",
        default=os.environ.get("SOAK_DATABASE_URL"),
        help="a database of the soak's own: all its tables are dropped (default "
        "$SOAK_DATABASE_URL, else a SQLite file in a temporary folder); created if missing",
    )
    parser.add_argument("--redis", default=DEFAULT_REDIS, help=f"(default {DEFAULT_REDIS})")
    parser.add_argument("--queue", default=DEFAULT_QUEUE, help=f"(default {DEFAULT_QUEUE})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=5, help="seconds between due checks")
    parser.add_argument("--create-rate", type=float, default=2.0, help="orders created per s")
    parser.add_argument("--modify-rate", type=float, default=0.5, help="orders modified per s")
    parser.add_argument("--bulk-every", type=float, default=8, help="seconds between bulk changes")
    parser.add_argument("--bulk-size", type=int, default=150, help="orders in one bulk change")
    parser.add_argument("--fail-rate", type=float, default=0.1)
    parser.add_argument("--rate-limit-rate", type=float, default=0.05)
    parser.add_argument("--timeout-rate", type=float, default=0.02)
    parser.add_argument("--truncate-rate", type=float, default=0.02)
    parser.add_argument("--hang-seconds", type=float, default=3, help="a hanging answer's wait")
    parser.add_argument("--store-timeout", type=int, default=2, help="the webstore's timeout, s")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--latency-per-order-ms", type=float, default=1)
    parser.add_argument("--orders", type=int, default=150, help="orders in the store at start")
    parser.add_argument("--final-runs", type=int, default=6, help="at most, after the soak")
    parser.add_argument("--final-seconds", type=float, default=90, help="at most, after it")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.workers < 1 or args.interval <= 0:
        parser.error("--seconds, --workers and --interval must be positive")
    if args.create_rate < 0 or args.modify_rate < 0 or args.bulk_every <= 0 or args.bulk_size < 0:
        parser.error("rates and bulk sizes are not negative")
    for knob in FAULT_KNOBS:
        if not 0 <= getattr(args, knob) <= 1:
            parser.error(f"--{knob.replace('_', '-')} is between 0 and 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    scratch = tempfile.TemporaryDirectory(prefix="sync-soak-")
    url = prepare_database(args.db or f"sqlite:///{scratch.name}/soak.db")
    clear_queue(args.redis, args.queue)
    app = create_app(
        Config,
        SQLALCHEMY_DATABASE_URI=url,
        REDIS_URL=args.redis,
        RQ_QUEUE=args.queue,
        SECRET_KEY="bench-soak",
        WEBSTORE_SECRETS_KEY=SECRETS_KEY,
    )
    store = SandboxProcess(
        seed=args.seed,
        orders=args.orders,
        extra_args=[
            "--latency-ms",
            str(args.latency_ms),
            "--latency-per-order-ms",
            str(args.latency_per_order_ms),
        ],
    )
    workers: list[subprocess.Popen] = []
    traffic = None
    try:
        store.start(timeout=30)
        with app.app_context():
            fresh_schema(app)
            webstore = make_webstore(store)
            webstore.auto_sync = True
            webstore.timeout_seconds = args.store_timeout
            # Every status: each created order is then one the sync must bring, whatever
            # status it was drawn with or given later (the paid-only default leaves some out).
            webstore.default_status_filter = ""
            db.session.commit()
            webstore_id = webstore.id
            seeded = seed_statuses(webstore)
            store.set_faults(
                **{knob: getattr(args, knob) for knob in FAULT_KNOBS},
                hang_seconds=args.hang_seconds,
                retry_after=1,
            )
            print(
                f"soak: {args.seconds:g} s, store {store.base_url} ({args.orders} orders, "
                f"faults {', '.join(f'{k} {getattr(args, k):g}' for k in FAULT_KNOBS)}, "
                f"hangs {args.hang_seconds:g} s > timeout {args.store_timeout} s), "
                f"{args.bulk_size} orders changed in one second every {args.bulk_every:g} s, "
                f"database {shown(url)}, {args.workers} workers on {args.redis} "
                f"queue {args.queue!r}, due check every {args.interval:g} s",
                flush=True,
            )
            logs = Path(scratch.name)
            workers = [
                start_worker(app, args, logs / f"worker-{i}.log", i) for i in range(args.workers)
            ]
            traffic = Traffic(store, args, seeded)
            traffic.start()
            soak(args, webstore_id, traffic, workers)
            traffic.stop()
            store.set_faults(**dict.fromkeys(FAULT_KNOBS, 0))
            faults = store.stats().get("faults", {})
            final = final_runs(args, webstore_id)
            stop_workers(workers)
            result = count(webstore_id, traffic, final, faults)
            for i in range(len(workers)):
                print_worker_errors(logs / f"worker-{i}.log", i)
    finally:
        if traffic is not None:
            traffic.stop()
        stop_workers(workers)
        clear_queue(args.redis, args.queue, delete=True)
        store.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        scratch.cleanup()
    result["elapsed_s"] = round(time.monotonic() - began, 1)
    result["database"] = sa.engine.make_url(url).get_backend_name()
    result["seconds"] = args.seconds
    print(json.dumps(result))
    return 1 if result["duplicates"] or result["missing"] else 0


# The database and the queue


def prepare_database(given: str) -> str:
    """The soak's own database, existing; refuses the test databases."""
    url = sa.engine.make_url(database_url(given))
    name = url.database or ""
    if url.get_backend_name() != "sqlite" and (not name or name.startswith("test")):
        sys.exit(f"refusing to drop the tables of {given}: give the soak a database of its own")
    if url.get_backend_name() == "postgresql":
        admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                quoted = connection.dialect.identifier_preparer.quote(name)
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
                print(f"created database {name}", flush=True)
        admin.dispose()
    return url.render_as_string(hide_password=False)


def clear_queue(redis_url: str, queue: str, delete: bool = False) -> None:
    try:
        connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        if delete:  # and the jobs kept for their results: the run rows say it all
            queue = Queue(queue, connection=connection)
            for registry in (queue.finished_job_registry, queue.failed_job_registry):
                for job_id in registry.get_job_ids():
                    registry.remove(job_id, delete_job=True)
            queue.delete(delete_jobs=True)
        else:
            Queue(queue, connection=connection).empty()
    except RedisError as error:
        if not delete:
            sys.exit(f"Redis at {redis_url} does not answer: {error}")


def shown(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


# The workers


def start_worker(app, args, log_path: Path, number: int) -> subprocess.Popen:
    """A real `rq worker` process seeing the soak's database, Redis and queue."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": args.redis,
        "RQ_QUEUE": args.queue,
        "WEBSTORE_SECRETS_KEY": app.config["WEBSTORE_SECRETS_KEY"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "RUN_HEARTBEAT_SECONDS": "1",
        "IMPORT_CONCURRENCY": "2",
    }
    command = [
        str(Path(sys.executable).parent / "rq"),
        "worker",
        "--url",
        args.redis,
        "--path",
        str(ROOT),
        "--name",
        f"soak-{os.getpid()}-{number}",
        "--logging_level",
        "WARNING",
        args.queue,
    ]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_workers(workers: list[subprocess.Popen], wait: float = 20) -> None:
    """A warm shutdown (SIGTERM to the worker, which lets its job finish), then SIGKILL."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + wait
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def print_worker_errors(log_path: Path, number: int) -> None:
    """What a worker logged as an error or a traceback: a few lines, for a person to follow."""
    with contextlib.suppress(OSError):
        lines = log_path.read_text(errors="replace").splitlines()
        bad = [line for line in lines if "Traceback" in line or "ERROR" in line]
        if bad:
            print(f"worker {number}: {len(bad)} error lines, e.g. {bad[0][:200]}")


# Traffic


class Traffic(threading.Thread):
    """Creates and modifies orders in the store at the given rates until stopped, and
    changes many at once now and then."""

    def __init__(self, store: SandboxProcess, args, seeded: dict[int, str]):
        super().__init__(name="soak-traffic", daemon=True)
        self.store = store
        self.create_every = 1 / args.create_rate if args.create_rate else None
        self.modify_every = 1 / args.modify_rate if args.modify_rate else None
        self.bulk_every = args.bulk_every if args.bulk_size else None
        self.bulk_size = args.bulk_size
        self.seeded = list(seeded)
        self.rng = random.Random(args.seed)
        self.deadline = time.monotonic() + args.seconds
        self.stopped = threading.Event()
        self.created: dict[int, float] = {}  # order id -> wall-clock time of its creation
        self.modified: Counter = Counter()
        self.bulk_changes = 0
        self.status: dict[int, str] = dict(seeded)  # order id -> its status in the store
        self.status_changed: dict[int, float] = {}  # order id -> time of its last new status
        self.history: dict[int, list] = defaultdict(list)  # order id -> (time, new status)
        self.errors: list[str] = []

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=35)

    def run(self) -> None:
        start = time.monotonic()
        next_create = start if self.create_every else float("inf")
        next_modify = start + self.modify_every if self.modify_every else float("inf")
        next_bulk = start + self.bulk_every if self.bulk_every else float("inf")
        while not self.stopped.is_set() and time.monotonic() < self.deadline:
            now = time.monotonic()
            if now >= next_create:
                next_create += self.create_every
                self._try(self._create)
            elif now >= next_bulk:
                next_bulk += self.bulk_every
                self._try(self._bulk_modify)
            elif now >= next_modify:
                next_modify += self.modify_every
                self._try(self._modify)
            else:
                self.stopped.wait(min(next_create, next_modify, next_bulk, self.deadline) - now)

    def _try(self, action) -> None:
        try:
            action()
        except Exception as error:  # the soak goes on; the count says how often
            self.errors.append(f"{type(error).__name__}: {error}")

    def _create(self) -> None:
        before = time.time()
        order = self.store.create_order()
        self.created[order["id"]] = (before + time.time()) / 2
        self.status[order["id"]] = order["status"]

    def _modify(self) -> None:
        if not self.created:
            return
        order_id = self.rng.choice(list(self.created))
        kind = self.rng.choice(("status", "note", "both"))
        changes = {}
        if kind in ("status", "both"):
            changes["status"] = self.rng.choice(MODIFY_STATUSES)
        if kind in ("note", "both"):
            changes["customer_note"] = f"soak note {sum(self.modified.values()) + 1}"
        before = time.time()
        order = self.store.modify_order(order_id, **changes)
        self.modified[kind] += 1
        self._new_status(order_id, order["status"], before)

    def _bulk_modify(self) -> None:
        """One status for --bulk-size orders, the soak's and the seeded ones, in one second."""
        pool = [*self.created, *self.seeded]
        ids = self.rng.sample(pool, min(self.bulk_size, len(pool)))
        status = self.rng.choice(MODIFY_STATUSES)
        before = time.time()
        self.store.bulk_modify(ids, status=status)
        self.bulk_changes += 1
        self.modified["bulk"] += len(ids)
        for order_id in ids:
            self._new_status(order_id, status, before)

    def _new_status(self, order_id: int, status: str, moment: float) -> None:
        if status != self.status.get(order_id):
            self.status[order_id] = status
            self.status_changed[order_id] = moment
            self.history[order_id].append((datetime.fromtimestamp(moment, UTC), status))


def seed_statuses(webstore: Webstore) -> dict[int, str]:
    """The orders the store starts with and their statuses, read before any fault."""
    with client_for(webstore) as client:
        return {order.id: order.status for order in client.iter_orders(fields=REF_FIELDS)}


# The scheduler


def soak(args, webstore_id: int, traffic: Traffic, workers: list[subprocess.Popen]) -> None:
    """Call the scheduler every --interval seconds until the soak's time is up."""
    deadline = time.monotonic() + args.seconds
    next_report = time.monotonic() + 10
    while (now := time.monotonic()) < deadline:
        check_due(webstore_id)
        if time.monotonic() >= next_report:
            next_report += 10
            progress(webstore_id, traffic, deadline - now)
            gone = [i for i, worker in enumerate(workers) if worker.poll() is not None]
            if gone:
                print(f"  WARNING: worker(s) {gone} exited (their logs follow the summary)")
        time.sleep(max(0.0, min(args.interval, deadline - time.monotonic())))


def check_due(webstore_id: int) -> list[SyncRun]:
    """The cron job's call, with `now` one sync interval ahead: due unless a run is going."""
    db.session.expire_all()
    webstore = db.session.get(Webstore, webstore_id)
    ahead = utcnow() + timedelta(minutes=webstore.sync_interval_minutes)
    try:
        return enqueue_due(now=ahead)
    except sa.exc.OperationalError as error:  # SQLite busy: the next check tries again
        db.session.rollback()
        print(f"  due check failed: {error.orig}", flush=True)
        return []


def progress(webstore_id: int, traffic: Traffic, left: float) -> None:
    db.session.expire_all()
    links = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OrderLink)
        .where(OrderLink.webstore_id == webstore_id)
    )
    runs = Counter(
        str(status)
        for status in db.session.scalars(
            sa.select(SyncRun.status).where(SyncRun.webstore_id == webstore_id)
        )
    )
    print(
        f"  {left:4.0f} s left: {len(traffic.created)} created, "
        f"{sum(traffic.modified.values())} modified, {links} links; runs {dict(runs)}",
        flush=True,
    )


def final_runs(args, webstore_id: int) -> list[SyncRun]:
    """Automatic runs one after another, faults off, until one finds nothing new."""
    deadline = time.monotonic() + args.final_seconds
    finished: list[SyncRun] = []
    if not wait_idle(webstore_id, deadline):
        print("  final: an automatic run still going when the time ran out", flush=True)
        return finished
    while len(finished) < args.final_runs and time.monotonic() < deadline:
        started = check_due(webstore_id)
        if not started:
            time.sleep(0.5)
            continue
        run_id = started[0].id
        if not wait_idle(webstore_id, deadline):
            print(f"  final: run {run_id} did not end in time", flush=True)
            break
        run = db.session.get(SyncRun, run_id)
        finished.append(run)
        print(
            f"  final run {run.id}: {run.status}, fetched {run.fetched}, imported "
            f"{run.imported}, skipped {run.skipped}, changed {run.changed}, failed {run.failed}"
            + (f" ({run.reason})" if run.reason else ""),
            flush=True,
        )
        if run.status == RunStatus.SUCCEEDED and not (run.imported or run.failed or run.changed):
            break
    return finished


def wait_idle(webstore_id: int, deadline: float) -> bool:
    """Until no automatic run is queued or running; False when the deadline came first."""
    while time.monotonic() < deadline:
        db.session.expire_all()
        going = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SyncRun)
            .where(
                SyncRun.webstore_id == webstore_id,
                SyncRun.trigger == Trigger.AUTOMATIC,
                SyncRun.status.in_(ACTIVE),
            )
        )
        if not going:
            return True
        time.sleep(0.3)
    return False


# Counting


def count(webstore_id: int, traffic: Traffic, final: list[SyncRun], faults: dict) -> dict:
    db.session.expire_all()
    created = traffic.created
    links = dict(
        db.session.execute(
            sa.select(OrderLink.woo_order_id, OrderLink.imported_at).where(
                OrderLink.webstore_id == webstore_id
            )
        ).all()
    )
    failures: dict[int, str] = {}
    for order_id, message in db.session.execute(
        sa.select(SyncLogEntry.woo_order_id, SyncLogEntry.message)
        .where(SyncLogEntry.webstore_id == webstore_id, SyncLogEntry.outcome == Outcome.FAILED)
        .order_by(SyncLogEntry.id)
    ):
        if message and message.strip():
            failures[order_id] = message
    imported = [order_id for order_id in created if order_id in links]
    failed = sorted(o for o in created if o not in links and o in failures)
    missing = sorted(o for o in created if o not in links and o not in failures)
    delays = sorted(links[o].timestamp() - created[o] for o in imported)
    duplicates = find_duplicates(webstore_id)
    runs = list(
        db.session.scalars(
            sa.select(SyncRun).where(SyncRun.webstore_id == webstore_id).order_by(SyncRun.id)
        )
    )
    uneven = unbalanced_runs(runs)
    statuses = Counter(str(run.status) for run in runs)
    reasons = Counter(
        (run.reason or "")[:120] for run in runs if run.status == RunStatus.FAILED
    ).most_common(3)
    changed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SyncLogEntry)
        .where(SyncLogEntry.webstore_id == webstore_id, SyncLogEntry.outcome == Outcome.CHANGED)
    )
    noticed = set(
        db.session.scalars(
            sa.select(SyncLogEntry.woo_order_id).where(
                SyncLogEntry.webstore_id == webstore_id, SyncLogEntry.outcome == Outcome.CHANGED
            )
        )
    )
    changed_after_import = sorted(
        o
        for o, moment in traffic.status_changed.items()
        if o in links and moment > links[o].timestamp() + 0.5
    )
    # After the final runs, each sales order must hold its order's status in the store: one
    # it does not was changed unnoticed. (A status given and taken back between two reads
    # is no change to notice: such orders are only counted, as "back as imported".)
    held = dict(
        db.session.execute(
            sa.select(SalesOrder.woo_order_id, SalesOrder.woo_status).where(
                SalesOrder.webstore_id == webstore_id
            )
        ).all()
    )
    unnoticed = sorted(o for o in links if o in traffic.status and held[o] != traffic.status[o])
    back = [o for o in changed_after_import if o not in noticed and o not in unnoticed]
    watermark = db.session.get(Webstore, webstore_id).watermark

    print(
        f"\nstore: {len(created)} orders created, {sum(traffic.modified.values())} modified "
        f"({traffic.modified['bulk']} of them in {traffic.bulk_changes} bulk changes)"
    )
    print(f"       faults injected: {faults}")
    if traffic.errors:
        print(f"       {len(traffic.errors)} traffic calls failed, e.g. {traffic.errors[0]}")
    print(f"runs:  {len(runs)} automatic, {dict(statuses)}; {len(final)} after the soak")
    for reason, times in reasons:
        print(f"       failed {times}x: {reason}")
    if uneven:
        print(f"       counts that do not add up (fetched != settled != entries): {uneven[:5]}")
    print(f"       watermark at the end: {watermark}")
    print(f"orders: {len(imported)} of {len(created)} created imported")
    print(
        f"       changes: {changed} logged; {len(changed_after_import)} orders given a new status "
        f"after their import, {len(back)} of them back as imported when read"
        + (f" {back[:10]}" if back else "")
        + f"; {len(unnoticed)} sales orders without their order's status in the store"
        + (f" {unnoticed[:10]}" if unnoticed else "")
    )
    for order_id in (unnoticed + back)[:3]:
        print(
            f"         {order_id}: imported {links[order_id]:%H:%M:%S.%f}, statuses given "
            + ", ".join(f"{when:%H:%M:%S.%f} {what}" for when, what in traffic.history[order_id])
            + f"; the sales order holds {held[order_id]}"
        )
    print(f"       failed with a reason: {len(failed)}" + (f" {failed[:10]}" if failed else ""))
    for order_id in failed[:3]:
        print(f"         {order_id}: {failures[order_id][:160]}")
    print(f"       missing: {len(missing)}" + (f" {missing[:20]}" if missing else ""))
    for order_id in missing[:5]:
        print(
            f"         {order_id} ({traffic.status.get(order_id)} in the store): "
            f"{order_history(webstore_id, order_id)}"
        )
    print(f"       duplicates: {sum(duplicates.values())} {duplicates}")
    if delays:
        print(
            f"delay: creation to import median {statistics.median(delays):.1f} s, "
            f"p90 {percentile(delays, 0.9):.1f} s, max {delays[-1]:.1f} s"
        )
    return {
        "created": len(created),
        "imported": len(imported),
        "duplicates": sum(duplicates.values()),
        "missing": len(missing),
        "median_delay_s": round(statistics.median(delays), 2) if delays else None,
        "failed_with_reason": len(failed),
        "p90_delay_s": round(percentile(delays, 0.9), 2) if delays else None,
        "max_delay_s": round(delays[-1], 2) if delays else None,
        "modified": sum(traffic.modified.values()),
        "changes_logged": changed,
        "changes_unnoticed": len(unnoticed),
        "runs": len(runs),
        "runs_failed": statuses.get(str(RunStatus.FAILED), 0),
        "runs_unbalanced": len(uneven),
        "final_runs": len(final),
        "faults_injected": sum(faults.values()) if isinstance(faults, dict) else None,
        "traffic_errors": len(traffic.errors),
        "bulk_changes": traffic.bulk_changes,
        "bulk_modified": traffic.modified["bulk"],
        "changes_back_as_imported": len(back),
        "duplicates_by_kind": duplicates,
        "missing_ids": missing[:50],
    }


def find_duplicates(webstore_id: int) -> dict[str, int]:
    """Extra rows: for each key held by more than one row, the rows beyond the first."""

    def extra(*columns, where=()):
        groups = (
            sa.select(sa.func.count().label("n"))
            .where(*(c.is_not(None) for c in columns), *where)
            .group_by(*columns)
            .having(sa.func.count() > 1)
            .subquery()
        )
        return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(groups.c.n - 1), 0))))

    return {
        "sales_orders": extra(SalesOrder.webstore_id, SalesOrder.woo_order_id),
        "order_links": extra(OrderLink.webstore_id, OrderLink.woo_order_id),
        "customers": extra(Customer.email),
        "items": extra(Item.sku),
        "item_mappings": extra(
            ItemMapping.webstore_id, ItemMapping.woo_product_id, ItemMapping.woo_variation_id
        ),
        "imported_entries": extra(
            SyncLogEntry.webstore_id,
            SyncLogEntry.woo_order_id,
            where=(
                SyncLogEntry.outcome == Outcome.IMPORTED,
                SyncLogEntry.webstore_id == webstore_id,
            ),
        ),
    }


def unbalanced_runs(runs: list[SyncRun]) -> list[int]:
    """Runs whose counts do not add up: fetched, the outcomes, and the log entries."""
    entries = dict(
        db.session.execute(
            sa.select(SyncLogEntry.run_id, sa.func.count()).group_by(SyncLogEntry.run_id)
        ).all()
    )
    uneven = []
    for run in runs:
        if run.status in ACTIVE:
            continue
        settled = run.imported + run.skipped + run.failed + run.changed
        if not run.fetched == settled == entries.get(run.id, 0):
            uneven.append(run.id)
    return uneven


def order_history(webstore_id: int, order_id: int) -> str:
    """Every log entry of one order, run by run: the evidence for a missing order."""
    rows = db.session.execute(
        sa.select(SyncLogEntry.run_id, SyncLogEntry.outcome, SyncLogEntry.message)
        .where(SyncLogEntry.webstore_id == webstore_id, SyncLogEntry.woo_order_id == order_id)
        .order_by(SyncLogEntry.id)
    ).all()
    if not rows:
        return "no log entry in any run"
    return "; ".join(f"run {run} {outcome}: {message[:80]}" for run, outcome, message in rows)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


if __name__ == "__main__":
    sys.exit(main())
