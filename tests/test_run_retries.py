"""A run the store stopped is not wasted: it is tried again with backoff, from where it was."""

from datetime import timedelta

import pytest

from portal import db
from portal.models import Outcome, RunStatus, SyncRun, Trigger
from portal.models.base import utcnow
from portal.sync.filters import merge_filters
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters, retry_due
from tests.sync_helpers import count, duplicates, entries


@pytest.fixture
def small_pages(monkeypatch):
    from portal.sync import importer

    monkeypatch.setattr(importer, "PAGE_SIZE", 5)  # the 60 orders on twelve pages


def store_goes_down_after(store, monkeypatch, pages: int) -> None:
    """The store stops answering once this many pages of the run are written (the run has
    asked for a few more pages ahead by then)."""
    from portal.sync import importer

    real_write = importer.OrderImport._write_page
    written = []

    def write_then_go_down(self, page, *args, **kwargs):
        real_write(self, page, *args, **kwargs)
        written.append(page)
        if len(written) == pages:
            store.set_faults(fail_rate=1.0)

    monkeypatch.setattr(importer.OrderImport, "_write_page", write_then_go_down)


def test_a_run_the_store_stopped_fails_with_its_next_try_due(
    demo_webstore, store, app, small_pages, monkeypatch
):
    app.config["RUN_RETRY_DELAYS"] = (60, 300)
    store_goes_down_after(store, monkeypatch, pages=2)

    run = execute_run(create_run(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL).id)

    assert run.status == RunStatus.FAILED
    assert 10 <= run.imported < 60
    assert (run.pages_settled, run.attempt) == (run.imported // 5, 1)
    assert timedelta(seconds=59) < run.retry_at - run.finished_at <= timedelta(seconds=61)
    assert "tried again automatically at" in run.reason
    assert "(attempt 2 of 3), from where it stopped" in run.reason


def test_the_retry_continues_from_the_page_the_run_reached(
    demo_webstore, store, app, small_pages, monkeypatch
):
    app.config["RUN_RETRY_DELAYS"] = (60,)
    with monkeypatch.context() as patched:
        store_goes_down_after(store, patched, pages=2)
        run = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)
        failed = execute_run(run.id)
    store.set_faults(fail_rate=0.0)

    assert retry_due(now=failed.retry_at - timedelta(seconds=1)) == []
    (retry,) = retry_due(now=failed.retry_at)
    resumed = execute_run(retry.id)

    assert (resumed.trigger, resumed.retry_of_id, resumed.attempt) == (Trigger.MANUAL, failed.id, 2)
    reached = failed.pages_settled
    assert resumed.filters["from_page"] == reached
    # The last page settled again (its orders skipped), then the pages after it.
    assert (resumed.skipped, resumed.imported) == (5, 60 - failed.imported)
    assert resumed.fetched == 60 - (reached - 1) * 5
    assert resumed.status == RunStatus.SUCCEEDED
    assert not any(duplicates().values())
    db.session.refresh(failed)
    assert failed.retry_at is None
    assert retry_due(now=failed.finished_at + timedelta(days=1)) == []


def test_after_the_last_try_the_run_stays_failed_with_its_reason(demo_webstore, store, app):
    app.config["RUN_RETRY_DELAYS"] = (0,)
    store.set_faults(fail_rate=1.0)
    first = execute_run(create_run(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL).id)

    (second,) = retry_due(now=first.retry_at)
    last = execute_run(second.id)

    assert last.attempt == 2 and last.status == RunStatus.FAILED
    assert last.retry_at is None
    assert "Gave up after 2 attempts: start the import again once the store answers." in last.reason
    assert retry_due(now=last.finished_at + timedelta(days=1)) == []


def test_an_automatic_run_is_tried_again_from_its_watermark(demo_webstore, store, app, monkeypatch):
    from portal.sync import incremental

    app.config["RUN_RETRY_DELAYS"] = (0,)
    monkeypatch.setattr(incremental, "PAGE_SIZE", 20)
    real_settle = incremental.IncrementalImport._settle
    calls = []

    def settle_then_go_down(self, refs, invalid):
        calls.append(refs)
        if len(calls) == 3:  # the first page's earlier seconds, then its last one
            store.set_faults(fail_rate=1.0)
        return real_settle(self, refs, invalid)

    monkeypatch.setattr(incremental.IncrementalImport, "_settle", settle_then_go_down)
    run = create_run(demo_webstore, incremental_filters(demo_webstore), Trigger.AUTOMATIC)
    failed = execute_run(run.id)
    monkeypatch.undo()
    store.set_faults(fail_rate=0.0)

    (retry,) = retry_due(now=failed.retry_at)
    resumed = execute_run(retry.id)

    assert (failed.status, failed.imported) == (RunStatus.FAILED, 20)
    assert (resumed.trigger, resumed.attempt) == (Trigger.AUTOMATIC, 2)
    assert resumed.status == RunStatus.SUCCEEDED
    imported = {e.woo_order_id for r in (failed, resumed) for e in entries(r, Outcome.IMPORTED)}
    assert len(imported) == 60
    assert count(SyncRun) == 2


def test_a_command_line_sync_the_store_stopped_is_taken_over_by_the_scheduler(demo_webstore):
    from datetime import UTC, datetime

    demo_webstore.watermark = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    db.session.commit()
    stopped = create_run(demo_webstore, incremental_filters(demo_webstore), Trigger.COMMAND)
    demo_webstore.watermark = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # it went as far
    stopped.status, stopped.retry_at = RunStatus.FAILED, utcnow()
    db.session.commit()

    (retry,) = retry_due()

    # The command has ended: the scheduler goes on, as an automatic run from the watermark.
    assert (retry.trigger, retry.retry_of_id, retry.attempt) == (Trigger.AUTOMATIC, stopped.id, 2)
    assert retry.filters == incremental_filters(demo_webstore).to_json()
    assert retry.filters["modified_after"] == "2026-03-02T09:28:00+00:00"
