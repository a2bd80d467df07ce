"""From a webhook delivery accepted to its sales order committed, under load.

    .venv/bin/python bench/webhook_latency.py --rate 10 --seconds 60 --workers 2 \\
        --db postgresql://postgres@127.0.0.1:5432/bench_webhooks

It runs the production stack's parts as processes: gunicorn serving the portal (the
README's command) and --workers `rq worker --worker-class jobs.worker.Worker` processes
taking webhook runs first, on a Redis database and queues of the bench's own. Two sandbox
stores: DEMO, whose webhook delivers to the portal, gets --rate new orders a second for
--seconds; the other, behind --others webstores that synchronize automatically (every
--sync-every seconds the scheduler's call, as the cron job makes it), starts with
--other-orders orders, which each of them imports first, and gets --other-rate new orders a
second. The database is one of the bench's own (every table in it is dropped).

Once the traffic stops it waits (at most --drain seconds) for the DEMO orders to be
imported, and counts, per order created: the time from its first delivery's receipt
(``webhook_deliveries.received_at``) to its link's ``imported_at``, written in the
transaction that commits its sales order. The last line is one JSON object:
{"p50_s", "p99_s", "max_s", "deliveries", "orders", "lost", "duplicated", ...}.
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402
from import_orders import SECRETS_KEY, fresh_schema  # noqa: E402
from sync_soak import clear_queue, percentile, prepare_database, stop_workers  # noqa: E402

from app import create_app  # noqa: E402
from config import Config  # noqa: E402
from portal import db  # noqa: E402
from portal.models import OrderLink, SalesOrder, SyncRun, Trigger, WebhookDelivery, Webstore  # noqa: E402
from portal.models.base import utcnow  # noqa: E402
from portal.setup.demo import seed_demo_webstore  # noqa: E402
from portal.sync.schedule import enqueue_due  # noqa: E402
from sandbox.process import SandboxProcess  # noqa: E402

DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
WEBHOOK_SECRET = "bench-webhook-secret"
SECRET_KEY = "bench-webhooks"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10, help="DEMO orders created per s")
    parser.add_argument("--seconds", type=float, default=60, help="of traffic (60)")
    parser.add_argument("--workers", type=int, default=2, help="rq worker processes (2)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--others", type=int, default=3, help="webstores syncing beside (3)")
    parser.add_argument("--other-orders", type=int, default=1000, help="their store's, at start")
    parser.add_argument("--other-rate", type=float, default=2, help="their new orders per s")
    parser.add_argument("--sync-every", type=float, default=10, help="s between due checks")
    parser.add_argument("--latency-ms", type=float, default=20, help="the stores' latency")
    parser.add_argument("--drain", type=float, default=60, help="s to wait for the last orders")
    add_stack_arguments(parser, DEFAULT_REDIS)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.workers < 1 or args.sync_every <= 0:
        parser.error("--rate, --seconds, --workers and --sync-every must be positive")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    scratch = tempfile.TemporaryDirectory(prefix="webhook-latency-")
    url, queues, settings = stack_settings(args, scratch.name, SECRET_KEY)
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, **settings)
    latency = ["--latency-ms", str(args.latency_ms)]
    demo_store = SandboxProcess(seed=1, orders=10, extra_args=latency)
    other_store = SandboxProcess(seed=2, orders=args.other_orders, extra_args=latency)
    env = {**os.environ, "DATABASE_URL": url, **settings, "IMPORT_CONCURRENCY": "2"}
    processes: list[subprocess.Popen] = []
    logs = Path(scratch.name)
    try:
        for store in (demo_store, other_store):
            store.start(timeout=60)
        with app.app_context():
            fresh_schema(app)
            demo_id = set_up_webstores(demo_store, other_store, args.others)
        port = free_port()
        processes.append(start(web_command(port, args.web_workers), env, logs / "web.log"))
        for number in range(args.workers):
            command = worker_command(args.redis, queues)
            processes.append(start(command, env, logs / f"worker-{number}.log"))
        wait_for_portal(port)
        demo_store.set_webhook(f"http://127.0.0.1:{port}/webhooks/woocommerce/DEMO", WEBHOOK_SECRET)
        print(
            f"webhooks: {args.rate:g} orders/s for {args.seconds:g} s to DEMO; {args.others} "
            f"webstores syncing every {args.sync_every:g} s beside ({args.other_orders} orders "
            f"to import first, {args.other_rate:g} new/s); {args.workers} workers",
            flush=True,
        )
        with app.app_context():
            created = drive(args, demo_store, other_store)
            drained = drain(demo_id, created, args.drain)
            result = measure(demo_id, created)
        result.update(drained_s=round(drained, 1), workers=args.workers, rate=args.rate)
    finally:
        stop_workers(processes)
        for store in (demo_store, other_store):
            store.stop()
        for queue in queues.values():
            clear_queue(args.redis, queue, delete=True)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        scratch.cleanup()
    print(
        f"latency p50 {result['p50_s']:.2f} s, p99 {result['p99_s']:.2f} s, max "
        f"{result['max_s']:.2f} s over {result['orders']} orders ({result['deliveries']} "
        f"deliveries); lost {result['lost']}, duplicated {result['duplicated']}"
    )
    print(json.dumps(result))


def set_up_webstores(demo_store, other_store, others: int) -> int:
    """OTHER1..N on the other store, syncing automatically, and DEMO, by webhook only."""
    for number in range(1, others + 1):
        other = seed_demo_webstore(
            other_store.base_url, other_store.consumer_key, other_store.consumer_secret
        )
        other.code, other.name = f"OTHER{number}", f"Other store {number}"
        other.auto_sync = True
        other.default_status_filter = ""
        db.session.commit()
    demo = seed_demo_webstore(
        demo_store.base_url, demo_store.consumer_key, demo_store.consumer_secret
    )
    demo.webhook_secret = WEBHOOK_SECRET
    demo.default_status_filter = ""
    demo.auto_sync = False
    db.session.commit()
    return demo.id


def drive(args, demo_store, other_store) -> list[int]:
    """New orders in both stores at their rates, and the scheduler's due checks, for the
    bench's seconds; the DEMO orders created."""
    created: list[int] = []
    stop = threading.Event()

    def other_traffic():
        while not stop.wait(1 / args.other_rate):
            other_store.create_order(status="processing")

    if args.others and args.other_rate > 0:
        threading.Thread(target=other_traffic, daemon=True).start()
    started = time.monotonic()
    next_check = started
    for number in range(int(args.rate * args.seconds)):
        due = started + number / args.rate
        while (now := time.monotonic()) < due:
            if now >= next_check:
                check_due()
                next_check += args.sync_every
            time.sleep(min(0.05, max(0.0, due - time.monotonic())))
        created.append(demo_store.create_order(status="processing")["id"])
    stop.set()
    return created


def check_due() -> None:
    """The cron job's call, one interval ahead: each syncing webstore is due unless its
    run is still going."""
    db.session.expire_all()
    with contextlib.suppress(sa.exc.OperationalError):
        enqueue_due(now=utcnow() + timedelta(hours=1))
    db.session.rollback()


def drain(demo_id: int, created: list[int], seconds: float) -> float:
    """Wait until every DEMO order created has a link, or ``seconds`` passed."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        db.session.expire_all()
        linked = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OrderLink)
            .where(OrderLink.webstore_id == demo_id, OrderLink.woo_order_id.in_(created))
        )
        if linked == len(created):
            break
        time.sleep(0.5)
    return time.monotonic() - started


def measure(demo_id: int, created: list[int]) -> dict:
    received = dict(
        db.session.execute(
            sa.select(WebhookDelivery.order_id, sa.func.min(WebhookDelivery.received_at))
            .where(WebhookDelivery.webstore_id == demo_id)
            .group_by(WebhookDelivery.order_id)
        ).all()
    )
    imported = dict(
        db.session.execute(
            sa.select(OrderLink.woo_order_id, OrderLink.imported_at).where(
                OrderLink.webstore_id == demo_id, OrderLink.woo_order_id.in_(created)
            )
        ).all()
    )
    delays = sorted(
        (imported[order] - received[order]).total_seconds()
        for order in created
        if order in imported and order in received
    )
    per_order = (
        sa.select(SalesOrder.woo_order_id)
        .where(SalesOrder.webstore_id == demo_id)
        .group_by(SalesOrder.woo_order_id)
        .having(sa.func.count() > 1)
    )
    webhook_runs = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SyncRun)
        .where(SyncRun.webstore_id == demo_id, SyncRun.trigger == Trigger.WEBHOOK)
    )
    other_runs = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SyncRun)
        .join(Webstore)
        .where(Webstore.code.like("OTHER%"))
    )
    return {
        "p50_s": round(percentile(delays, 0.5), 3) if delays else None,
        "p99_s": round(percentile(delays, 0.99), 3) if delays else None,
        "max_s": round(delays[-1], 3) if delays else None,
        "deliveries": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.webstore_id == demo_id)
        ),
        "orders": len(created),
        "lost": len(created) - len(imported),
        "duplicated": len(db.session.scalars(per_order).all()),
        "webhook_runs": webhook_runs,
        "other_runs": other_runs,
    }


# The stack


def add_stack_arguments(parser: argparse.ArgumentParser, default_redis: str) -> None:
    """--db and --redis, of a bench that runs the stack's processes."""
    parser.add_argument(
        "--db",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a database of the bench's own: all its tables are dropped (default "
        "$BENCH_DATABASE_URL, else a SQLite file in a temporary folder)",
    )
    parser.add_argument("--redis", default=default_redis, help=f"(default {default_redis})")


def stack_settings(args, scratch: str, secret_key: str) -> tuple[str, dict, dict]:
    """The bench's database (ready for its schema), queues of its own (emptied), and the
    settings that the bench's app and every process of the stack share."""
    url = prepare_database(args.db or f"sqlite:///{scratch}/bench.db")
    queues = {
        "RQ_QUEUE": f"bench-imports-{os.getpid()}",
        "RQ_WEBHOOK_QUEUE": f"bench-webhooks-{os.getpid()}",
    }
    for queue in queues.values():
        clear_queue(args.redis, queue)
    settings = {
        "REDIS_URL": args.redis,
        "SECRET_KEY": secret_key,
        "WEBSTORE_SECRETS_KEY": SECRETS_KEY,
        **queues,
    }
    return url, queues, settings


# The processes


def web_command(port: int, workers: int) -> list[str]:
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "app:create_app()",
    ]


def worker_command(redis_url: str, queues: dict) -> list[str]:
    return [
        str(Path(sys.executable).parent / "rq"),
        "worker",
        "--worker-class",
        "jobs.worker.Worker",
        "--url",
        redis_url,
        "--path",
        str(ROOT),
        "--logging_level",
        "WARNING",
        queues["RQ_WEBHOOK_QUEUE"],
        queues["RQ_QUEUE"],
    ]


def start(command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_portal(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    sys.exit(f"the portal did not answer on port {port} within {timeout:g} s")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
