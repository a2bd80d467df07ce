"""Imports as background jobs: queued on RQ, run by real workers, surviving their death."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from portal import db
from portal.models import (
    OrderLink,
    Outcome,
    RunStatus,
    SalesLine,
    SalesOrder,
    SyncRun,
    Trigger,
)
from portal.queue import import_queue
from portal.sync.filters import merge_filters
from portal.sync.runs import (
    NothingToRetry,
    QueueUnavailable,
    execute_run,
    reap_dead_runs,
    retry_failed,
    start_import,
)
from tests.conftest import worker_env
from tests.sync_helpers import count, duplicates, entries, run_import, work_queued_jobs


def reload(run) -> SyncRun:
    db.session.expire_all()
    return db.session.get(SyncRun, run.id)


def wait_until(condition, timeout=30.0, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if condition():
            return
        time.sleep(every)
    raise AssertionError("timed out waiting")


def kill_with_work_horses(pid: int) -> None:
    """SIGKILL a worker and its work horses (RQ puts each horse in a session of its own)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    for victim in [pid, *children]:
        os.kill(victim, signal.SIGKILL)


def assert_no_half_written_orders():
    """Every sales order has lines and a link; every link has its sales order."""
    db.session.expire_all()
    without_lines = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SalesOrder)
        .where(~sa.exists().where(SalesLine.sales_order_id == SalesOrder.id))
    )
    assert without_lines == 0
    assert count(SalesOrder) == count(OrderLink)


def test_start_import_queues_a_job_that_a_worker_runs(demo_webstore, staff_user):
    run = start_import(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL, staff_user)

    assert run.status == RunStatus.QUEUED and run.job_id
    assert import_queue().job_ids == [run.job_id]
    work_queued_jobs()

    run = reload(run)
    assert (run.status, run.imported, run.failed) == (RunStatus.SUCCEEDED, 60, 0)
    assert run.requested_by_id == staff_user.id


def test_start_import_says_so_when_redis_is_down(demo_webstore, app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    g.pop("redis", None)

    with pytest.raises(QueueUnavailable, match="job queue \\(Redis\\) is not answering"):
        start_import(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)

    assert count(SyncRun) == 0


def test_a_run_is_executed_once_even_if_its_job_runs_twice(demo_webstore):
    run = start_import(demo_webstore, merge_filters(demo_webstore, order_id=44), Trigger.MANUAL)
    work_queued_jobs()
    first = reload(run)

    again = execute_run(run.id)

    assert again.imported == first.imported == 1
    assert count(SalesOrder) == 1


def test_two_real_workers_importing_the_same_orders_create_no_duplicates(
    demo_webstore, store, start_worker
):
    store.create_orders(240)
    store.set_faults(latency_ms=20, latency_per_order_ms=1)
    runs = [
        start_import(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL) for _ in range(2)
    ]

    workers = [start_worker(), start_worker()]
    for worker in workers:
        assert worker.wait(timeout=120) == 0

    runs = [reload(run) for run in runs]
    assert {(run.status, run.failed) for run in runs} == {(RunStatus.SUCCEEDED, 0)}
    assert not any(duplicates().values())
    imported = [e.woo_order_id for run in runs for e in entries(run, Outcome.IMPORTED)]
    assert len(imported) == len(set(imported)) == count(SalesOrder)
    for run in runs:
        assert run.fetched == run.imported + run.skipped + run.failed == len(entries(run))
    total = runs[0].store_total
    assert sum(run.imported for run in runs) + runs[0].failed == total
    assert_no_half_written_orders()


def test_a_killed_worker_leaves_no_half_written_order_and_its_run_is_marked_failed(
    demo_webstore, store, start_worker, app
):
    store.create_orders(340)  # 400 orders: four pages
    store.set_faults(latency_ms=50, latency_per_order_ms=8)
    run = start_import(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)
    # One page at a time: some are still unwritten when the first is settled and the
    # worker is killed.
    worker = start_worker(burst=False, IMPORT_CONCURRENCY="1", IMPORT_CONCURRENCY_ADAPTIVE="0")
    wait_until(lambda: reload(run).settled > 0)

    kill_with_work_horses(worker.pid)
    worker.wait(timeout=10)
    app.config["RUN_STALE_SECONDS"] = 3
    wait_until(lambda: run.id in reap_dead_runs() or reload(run).status == "failed", 20, 0.5)

    run = reload(run)
    assert run.status == RunStatus.FAILED
    assert "worker running this import stopped" in run.reason
    assert run.imported < run.store_total
    assert_no_half_written_orders()
    store.set_faults(latency_ms=0, latency_per_order_ms=0)
    rest = run_import(demo_webstore)
    assert rest.imported + run.imported + rest.failed == run.store_total
    assert not any(duplicates().values())


def test_retry_imports_the_failed_orders_once_their_cause_is_fixed(demo_webstore, store):
    demo_webstore.auto_create_items = False
    db.session.commit()
    first = run_import(demo_webstore)
    failed_ids = {e.woo_order_id for e in entries(first, Outcome.FAILED)}
    # Nothing could be imported: the run failed.
    assert failed_ids and first.status == RunStatus.FAILED and not first.imported
    demo_webstore.auto_create_items = True
    db.session.commit()

    retry = retry_failed(first)
    work_queued_jobs()

    retry = reload(retry)
    assert retry.trigger == Trigger.RETRY and retry.retry_of_id == first.id
    assert set(retry.filters["order_ids"]) == failed_ids
    assert {e.woo_order_id for e in entries(retry, Outcome.IMPORTED)} == failed_ids
    assert retry.status == RunStatus.SUCCEEDED


def test_retry_leaves_out_orders_imported_since(demo_webstore):
    demo_webstore.auto_create_items = False
    db.session.commit()
    first = run_import(demo_webstore)
    failed_ids = sorted(e.woo_order_id for e in entries(first, Outcome.FAILED))
    demo_webstore.auto_create_items = True
    db.session.commit()
    run_import(demo_webstore, order_id=failed_ids[0])

    retry = retry_failed(first)

    assert retry.filters["order_ids"] == failed_ids[1:]


def test_retry_with_nothing_left_to_retry_says_so(demo_webstore):
    run = run_import(demo_webstore, order_id=44)
    with pytest.raises(NothingToRetry):
        retry_failed(run)


def test_whether_anything_is_left_to_retry_is_read_chunk_by_chunk(
    demo_webstore, store, monkeypatch
):
    from portal.sync import runs

    monkeypatch.setattr(runs, "LEFT_CHUNK", 2)
    demo_webstore.auto_create_items = False
    db.session.commit()
    first = run_import(demo_webstore, statuses="processing")
    assert first.failed > 4
    assert runs.anything_left_to_retry(first)

    demo_webstore.auto_create_items = True
    db.session.commit()
    # Import all but the last failure: only the last chunk has one left.
    *imported, last = sorted({e.woo_order_id for e in entries(first, Outcome.FAILED)})
    run_import(demo_webstore, order_id=imported[0])
    for order_id in imported[1:]:
        run_import(demo_webstore, order_id=order_id)
    assert runs.anything_left_to_retry(first)

    run_import(demo_webstore, order_id=last)
    assert not runs.anything_left_to_retry(first)


PRELOADED_FORK = """
import os, sys
from redis import Redis
from jobs.worker import Worker
from jobs import context

Worker(["test-imports"], connection=Redis.from_url(os.environ["REDIS_URL"]))
assert "jobs.import_orders" in sys.modules, "the jobs' modules are loaded before a fork"
parent_app = context._app
pid = os.fork()
if pid == 0:  # a work horse
    from portal import db
    app = context.get_app()
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
    os._exit(0 if app is parent_app else 3)
_, status = os.waitpid(pid, 0)
with parent_app.app_context():
    from portal import db
    db.session.execute(db.text("SELECT 1"))  # the parent's connections still answer
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_the_worker_loads_the_app_before_it_forks_and_a_horse_takes_it_over(app):
    # In a process of its own, as the README's `rq worker --worker-class` runs it.
    done = subprocess.run(
        [sys.executable, "-c", PRELOADED_FORK],
        env=worker_env(app),
        cwd=Path(app.root_path),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
