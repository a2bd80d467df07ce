"""Many webstores on one pool of workers: how long a new order waits for its sales order.

    .venv/bin/python bench/fleet.py --webstores 200 --workers 4 --minutes 5 \\
        --db postgresql://postgres@127.0.0.1:5432/bench_fleet

It runs production's parts as processes: --workers `rq worker --worker-class
jobs.worker.Worker` processes (the README's command) and the scheduler (`rq cron
jobs/cron_config.py`, exactly as the README runs it: automatic syncs every minute, and the
webhook checks, alerts and audits beside), on a Redis database and queues of the bench's
own. The webstores synchronize automatically every --interval-minutes. One of them, BIG,
has --big-orders orders to import first (a sandbox process of its own); the others share
one sandbox process that serves a store for each (``--stores``), each starting with
--small-orders orders, and get new orders at random, --rate a second in all, for
--minutes. The database is one of the bench's own (every table in it is dropped).

Once the new orders stop it waits (at most --drain seconds) for them and for BIG's first
import, then counts, per new order: the time from its creation (the bench's clock, as
the store answered) to its link's ``imported_at``, written in the transaction that commits
its sales order. The last line is one JSON object: {"webstores", "delay_p50_s",
"delay_p99_s", "interval_s", "worst_webstore_p99_s", "worst_p99_per_interval",
"big_store_imported", "lost", "duplicated", ...}. The goal: the worst webstore's p99 at
most twice the interval, BIG wholly imported, nothing lost or imported twice.
"""

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402
from import_orders import fresh_schema  # noqa: E402
from sync_soak import clear_queue, percentile, stop_workers  # noqa: E402
from webhook_latency import add_stack_arguments, stack_settings, start, worker_command  # noqa: E402

from app import create_app  # noqa: E402
from config import Config  # noqa: E402
from portal import db  # noqa: E402
from portal.models import OrderLink, SalesOrder, SyncRun, Trigger, Webstore  # noqa: E402
from portal.setup.demo import seed_demo_webstore  # noqa: E402
from sandbox.process import SandboxProcess  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
SECRET_KEY = "bench-fleet"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webstores", type=int, default=200, help="in all, BIG included (200)")
    parser.add_argument("--workers", type=int, default=4, help="rq worker processes (4)")
    parser.add_argument("--minutes", type=float, default=5, help="of new orders (5)")
    parser.add_argument("--big-orders", type=int, default=50_000, help="BIG's, at start")
    parser.add_argument("--small-orders", type=int, default=20, help="each other's, at start")
    parser.add_argument("--rate", type=float, default=2, help="new orders a second, in all")
    parser.add_argument("--interval-minutes", type=int, default=1, help="each sync's (1)")
    parser.add_argument("--latency-ms", type=float, default=20, help="the stores' latency")
    parser.add_argument("--drain", type=float, default=600, help="s to wait for the rest")
    add_stack_arguments(parser, DEFAULT_REDIS)
    args = parser.parse_args(argv)
    if args.webstores < 2 or args.workers < 1 or args.minutes <= 0 or args.rate <= 0:
        parser.error("--webstores must be 2 or more; --workers, --minutes and --rate positive")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    scratch = tempfile.TemporaryDirectory(prefix="fleet-")
    url, queues, settings = stack_settings(args, scratch.name, SECRET_KEY)
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, **settings)
    latency = ["--latency-ms", str(args.latency_ms)]
    small = args.webstores - 1
    big_store = SandboxProcess(seed=1, orders=args.big_orders, extra_args=latency)
    small_stores = SandboxProcess(
        seed=2, orders=args.small_orders, stores=small, extra_args=latency
    )
    env = {**os.environ, "DATABASE_URL": url, **settings}
    processes = []
    logs = Path(scratch.name)
    try:
        big_store.start(timeout=600)
        small_stores.start(timeout=600)
        stores = [small_stores.store(n) for n in range(1, small + 1)]
        with app.app_context():
            fresh_schema(app)
            ids = set_up_webstores(big_store, stores, args.interval_minutes)
        for number in range(args.workers):
            command = worker_command(args.redis, queues)
            processes.append(start(command, env, logs / f"worker-{number}.log"))
        processes.append(start(scheduler_command(args.redis), env, logs / "scheduler.log"))
        print(
            f"fleet: {args.webstores} webstores syncing every {args.interval_minutes} min on "
            f"{args.workers} workers; BIG has {args.big_orders:,} orders to import first; "
            f"{args.rate:g} new orders/s at random in the other {small} for {args.minutes:g} min",
            flush=True,
        )
        created = drive(stores, ids[1:], args.rate, args.minutes * 60)
        with app.app_context():
            drained = drain(ids[0], created, args.drain)
            result = measure(ids, args.big_orders, created, args.interval_minutes * 60)
        result.update(drained_s=round(drained, 1), workers=args.workers, rate=args.rate)
    finally:
        stop_workers(processes)
        big_store.stop()
        small_stores.stop()
        for queue in queues.values():
            clear_queue(args.redis, queue, delete=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        scratch.cleanup()
    print(
        f"delay p50 {result['delay_p50_s']} s, p99 {result['delay_p99_s']} s, worst "
        f"webstore's p99 {result['worst_webstore_p99_s']} s ({result['worst_webstore']}) for "
        f"an interval of {result['interval_s']} s; BIG imported {result['big_store_imported']:,}"
        f" of {args.big_orders:,}; lost {result['lost']}, duplicated {result['duplicated']}"
    )
    print(json.dumps(result))


def set_up_webstores(big_store, stores, interval_minutes: int) -> list[int]:
    """BIG, then S1..Sn: each syncing automatically, every status imported."""
    ids = []
    for code, store in [("BIG", big_store), *((f"S{n}", s) for n, s in enumerate(stores, 1))]:
        webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
        webstore.code, webstore.name = code, f"Fleet store {code}"
        webstore.auto_sync = True
        webstore.sync_interval_minutes = interval_minutes
        webstore.default_status_filter = ""
        db.session.commit()
        ids.append(webstore.id)
    return ids


def scheduler_command(redis_url: str) -> list[str]:
    """The README's scheduler."""
    rq = str(Path(sys.executable).parent / "rq")
    return [rq, "cron", "--url", redis_url, "--path", str(ROOT), "jobs/cron_config.py"]


def drive(stores, ids: list[int], rate: float, seconds: float) -> list[tuple[int, int, datetime]]:
    """New orders at random stores, ``rate`` a second for ``seconds``: (webstore id, order
    id, when the store answered its creation)."""
    created = []
    chooser = random.Random(1)
    started = time.monotonic()
    due = started
    while due < started + seconds:
        time.sleep(max(0.0, due - time.monotonic()))
        index = chooser.randrange(len(stores))
        order = stores[index].create_order(status="processing")
        created.append((ids[index], order["id"], datetime.now(UTC)))
        due += chooser.expovariate(rate)
    return created


def drain(big_id: int, created, seconds: float) -> float:
    """Wait until every new order is in and BIG's first import has ended, or ``seconds``
    passed."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        db.session.expire_all()
        first = first_run(big_id)
        if links(created) == len(created) and first and first.finished_at:
            break
        time.sleep(1)
    return time.monotonic() - started


def first_run(webstore_id: int) -> SyncRun | None:
    return db.session.scalar(
        sa.select(SyncRun).where(SyncRun.webstore_id == webstore_id).order_by(SyncRun.id).limit(1)
    )


def links(created) -> int:
    return len(imported_at(created))


def big_links(big_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(OrderLink).where(OrderLink.webstore_id == big_id)
    )


def imported_at(created) -> dict[tuple[int, int], datetime]:
    by_store = defaultdict(list)
    for webstore_id, order_id, _ in created:
        by_store[webstore_id].append(order_id)
    found = {}
    for webstore_id, order_ids in by_store.items():
        rows = db.session.execute(
            sa.select(OrderLink.woo_order_id, OrderLink.imported_at).where(
                OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids)
            )
        )
        found.update({(webstore_id, order_id): at for order_id, at in rows})
    return found


def measure(ids: list[int], big_orders: int, created, interval_s: float) -> dict:
    imported = imported_at(created)
    delays = defaultdict(list)
    for webstore_id, order_id, at in created:
        if (webstore_id, order_id) in imported:
            delays[webstore_id].append((imported[webstore_id, order_id] - at).total_seconds())
    every = sorted(d for per_store in delays.values() for d in per_store)
    worst_id, worst = max(
        ((w, percentile(sorted(d), 0.99)) for w, d in delays.items()), key=lambda p: p[1]
    )
    codes = dict(db.session.execute(sa.select(Webstore.id, Webstore.code)).tuples().all())
    twice = (
        sa.select(SalesOrder.webstore_id, SalesOrder.woo_order_id)
        .group_by(SalesOrder.webstore_id, SalesOrder.woo_order_id)
        .having(sa.func.count() > 1)
    )
    runs = db.session.execute(
        sa.select(SyncRun.webstore_id, sa.func.count(), sa.func.sum(SyncRun.slices))
        .where(SyncRun.trigger == Trigger.AUTOMATIC)
        .group_by(SyncRun.webstore_id)
    ).all()
    big_slices = sum(slices or 0 for webstore_id, _, slices in runs if webstore_id == ids[0])
    big_imported = big_links(ids[0])
    first_big = first_run(ids[0])
    took = first_big and first_big.finished_at and first_big.finished_at - first_big.started_at
    return {
        "webstores": len(ids),
        "delay_p50_s": round(percentile(every, 0.5), 1) if every else None,
        "delay_p99_s": round(percentile(every, 0.99), 1) if every else None,
        "interval_s": interval_s,
        "worst_webstore_p99_s": round(worst, 1),
        "worst_webstore": codes[worst_id],
        "worst_p99_per_interval": round(worst / interval_s, 2),
        "big_store_imported": big_imported,
        "big_store_complete": big_imported == big_orders,
        "big_store_slices": big_slices,
        "big_store_import_s": round(took.total_seconds(), 1) if took else None,
        "new_orders": len(created),
        "lost": len(created) - len(imported),
        "duplicated": len(db.session.execute(twice).all()),
        "automatic_runs": sum(count for _, count, _ in runs),
    }


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
