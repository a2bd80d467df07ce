"""Automatic synchronization: due webstores, incremental filters, one run at a time."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import RunStatus, SyncRun, Trigger
from portal.models.base import utcnow
from portal.sync.runs import create_run
from portal.sync.schedule import (
    WATERMARK_OVERLAP,
    enqueue_due,
    incremental_filters,
    sync_states,
)


@pytest.fixture
def auto_webstore(demo_webstore):
    demo_webstore.auto_sync = True
    demo_webstore.sync_interval_minutes = 15
    db.session.commit()
    return demo_webstore


def automatic_runs():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SyncRun).where(SyncRun.trigger == Trigger.AUTOMATIC)))


def test_a_webstore_never_synced_is_due_at_once(auto_webstore):
    [run] = enqueue_due()
    assert run.trigger == Trigger.AUTOMATIC and run.status == RunStatus.QUEUED
    assert run.job_id


def test_webstores_with_automatic_sync_off_are_left_alone(demo_webstore):
    assert enqueue_due() == []


def test_no_second_automatic_run_while_one_is_queued_or_running(auto_webstore):
    enqueue_due()
    later = utcnow() + timedelta(hours=1)

    assert enqueue_due(now=later) == []
    assert len(automatic_runs()) == 1


def test_the_database_refuses_a_second_active_automatic_run(auto_webstore):
    create_run(auto_webstore, incremental_filters(auto_webstore), Trigger.AUTOMATIC)
    with pytest.raises(IntegrityError):
        create_run(auto_webstore, incremental_filters(auto_webstore), Trigger.AUTOMATIC)


def test_the_next_run_waits_for_the_interval(auto_webstore):
    [run] = enqueue_due()
    run.status = RunStatus.SUCCEEDED
    db.session.commit()

    assert enqueue_due(now=utcnow() + timedelta(minutes=5)) == []
    assert len(enqueue_due(now=utcnow() + timedelta(minutes=16))) == 1


def test_manual_runs_do_not_hold_back_automatic_ones(auto_webstore):
    manual = create_run(auto_webstore, incremental_filters(auto_webstore), Trigger.MANUAL)
    manual.status = RunStatus.RUNNING
    db.session.commit()

    assert len(enqueue_due()) == 1


def test_incremental_filters_start_at_the_watermark_less_an_overlap(auto_webstore):
    auto_webstore.default_status_filter = "processing"
    auto_webstore.watermark = datetime(2026, 11, 1, 12, tzinfo=UTC)

    filters = incremental_filters(auto_webstore)

    assert filters.modified_after == auto_webstore.watermark - WATERMARK_OVERLAP
    assert filters.statuses == ("processing",)


def test_without_a_watermark_they_start_at_the_order_start_date(auto_webstore):
    auto_webstore.order_start_date = date(2026, 6, 1)

    filters = incremental_filters(auto_webstore)

    # A day early: the store's 1 June may begin on 31 May in UTC (Europe, Asia).
    assert filters.modified_after == datetime(2026, 5, 31, tzinfo=UTC)
    assert filters.start_date == date(2026, 6, 1)


def test_with_neither_they_ask_for_all_orders(auto_webstore):
    filters = incremental_filters(auto_webstore)
    assert filters.modified_after is None and filters.start_date is None


def test_the_setup_page_shows_each_webstores_sync_state(signed_in_staff, auto_webstore):
    [run] = enqueue_due()

    page = signed_in_staff.get("/setup/").text

    assert "on, every 15 min" in page
    assert f"run {run.id}" in page
    assert sync_states([auto_webstore])[auto_webstore.id]["last_run"].id == run.id


def test_sync_now_starts_an_automatic_run_and_opens_it(signed_in_staff, auto_webstore):
    response = signed_in_staff.post(f"/setup/webstores/{auto_webstore.id}/sync-now")

    [run] = automatic_runs()
    assert response.headers["Location"] == f"/imports/runs/{run.id}"
    again = signed_in_staff.post(f"/setup/webstores/{auto_webstore.id}/sync-now")
    assert again.status_code == 302
    assert "already queued or running" in signed_in_staff.get("/setup/").text


def test_viewers_cannot_sync_now(signed_in_viewer, auto_webstore):
    assert signed_in_viewer.post(f"/setup/webstores/{auto_webstore.id}/sync-now").status_code == 403


def run_automatic(webstore) -> SyncRun:
    """An automatic run, executed in the foreground as the worker would."""
    from portal.sync.runs import execute_run

    run = create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC)
    return execute_run(run.id)


def test_the_first_automatic_run_imports_every_order_and_sets_the_watermark(auto_webstore, store):
    from portal.sync.runs import client_for

    with client_for(auto_webstore) as client:
        newest = max(o.date_modified for o in client.iter_orders())

    run = run_automatic(auto_webstore)

    assert (run.status, run.imported, run.failed, run.store_total) == (
        RunStatus.SUCCEEDED,
        60,
        0,
        60,
    )
    db.session.refresh(auto_webstore)
    assert auto_webstore.watermark == newest


def test_the_next_run_asks_only_for_what_changed_and_notices_changes(auto_webstore, store):
    from tests.sync_helpers import entries, sales_order_for

    first = run_automatic(auto_webstore)
    imported_id = next(e.woo_order_id for e in entries(first) if e.outcome == "imported")
    store.modify_order(imported_id, status="cancelled")
    created = store.create_order(status="processing")

    second = run_automatic(auto_webstore)

    by_order = {e.woo_order_id: e for e in entries(second)}
    assert by_order[created["id"]].outcome == "imported"
    assert by_order[imported_id].outcome == "changed"
    assert "→ cancelled" in by_order[imported_id].message
    assert second.store_total < 10  # only what changed since the watermark (and its overlap)
    order = sales_order_for(auto_webstore, imported_id)
    assert "cancelled" in order.change_warning and order.woo_status == "cancelled"
    assert second.fetched == second.imported + second.skipped + second.failed + second.changed


def test_a_changed_order_shows_a_warning_until_reviewed(signed_in_staff, auto_webstore, store):
    from tests.sync_helpers import entries, sales_order_for

    first = run_automatic(auto_webstore)
    order_id = next(e.woo_order_id for e in entries(first) if e.outcome == "imported")
    store.modify_order(order_id, status="refunded")
    run_automatic(auto_webstore)
    order = sales_order_for(auto_webstore, order_id)

    page = signed_in_staff.get(f"/orders/{order.id}").text
    assert "Changed in the store after import" in page
    signed_in_staff.post(f"/orders/{order.id}/review")
    db.session.refresh(order)
    assert order.change_warning is None


def test_a_store_down_mid_run_keeps_the_watermark_at_the_last_settled_order(
    auto_webstore, store, monkeypatch
):
    from portal.sync import incremental
    from portal.sync.runs import client_for
    from tests.sync_helpers import duplicates, entries

    monkeypatch.setattr(incremental, "PAGE_SIZE", 20)  # the 60 orders on three pages
    real_settle = incremental.IncrementalImport._settle
    settles = []

    def settle_then_go_down(self, refs, invalid):
        settles.append(len(refs))
        # The first page is settled in two steps: its earlier seconds, then its last one.
        if len(settles) == 3:
            store.set_faults(fail_rate=1.0)  # the store goes down after the first page
        return real_settle(self, refs, invalid)

    monkeypatch.setattr(incremental.IncrementalImport, "_settle", settle_then_go_down)
    broken = run_automatic(auto_webstore)
    monkeypatch.setattr(incremental.IncrementalImport, "_settle", real_settle)
    store.set_faults(fail_rate=0.0)

    db.session.refresh(auto_webstore)
    watermark = auto_webstore.watermark
    assert broken.status == RunStatus.FAILED and "could not be read" in broken.reason
    with client_for(auto_webstore) as client:
        modified = {o.id: o.date_modified for o in client.iter_orders()}
    settled = {e.woo_order_id for e in entries(broken)}
    assert len(settled) == 20
    assert watermark == max(modified[i] for i in settled)
    assert all(modified[i] > watermark for i in modified.keys() - settled)

    resumed = run_automatic(auto_webstore)

    db.session.refresh(auto_webstore)
    assert (resumed.status, resumed.failed) == (RunStatus.SUCCEEDED, 0)
    assert settled | {e.woo_order_id for e in entries(resumed)} == set(modified)
    assert auto_webstore.watermark == max(modified.values())
    assert not any(duplicates().values())


# A big first sync cut into slices


@pytest.fixture
def one_page_slices(app, monkeypatch):
    """Every slice ends after its first full page of 20 orders (the store's 60 on three)."""
    from portal.sync import incremental

    monkeypatch.setattr(incremental, "PAGE_SIZE", 20)
    monkeypatch.setitem(app.config, "RUN_SLICE_SECONDS", 0)


def queued_job_ids(app) -> list[str]:
    from portal.queue import import_queue

    return import_queue().job_ids


def test_a_sync_with_more_to_read_goes_back_to_the_end_of_the_queue(
    app, auto_webstore, store, one_page_slices
):
    from portal.sync.runs import execute_run

    [run] = enqueue_due()
    other = create_run(auto_webstore, incremental_filters(auto_webstore), Trigger.MANUAL)
    other_job = "a-run-queued-meanwhile"
    from portal.queue import import_queue

    import_queue().enqueue("jobs.import_orders.run", other.id, job_id=other_job)

    paused = execute_run(run.id, sliced=True)

    assert (paused.status, paused.slices, paused.imported) == (RunStatus.QUEUED, 1, 20)
    assert paused.finished_at is None
    assert queued_job_ids(app)[-2:] == [other_job, paused.job_id]
    # Still the webstore's one automatic run: the scheduler starts none beside it.
    assert enqueue_due(now=utcnow() + timedelta(hours=1)) == []


def test_each_slice_goes_on_from_the_watermark_and_the_run_ends_as_one(
    signed_in_staff, auto_webstore, store, one_page_slices
):
    from portal.sync.runs import client_for, execute_run
    from tests.sync_helpers import duplicates, entries

    with client_for(auto_webstore) as client:
        modified = {o.id: o.date_modified for o in client.iter_orders()}
    [run] = enqueue_due()
    first = execute_run(run.id, sliced=True)
    started_at = first.started_at
    page = signed_in_staff.get(f"/imports/runs/{run.id}").text
    assert "Paused after 1 slice of work" in page

    while (run := execute_run(run.id, sliced=True)).status == RunStatus.QUEUED:
        db.session.refresh(auto_webstore)
        settled = {e.woo_order_id for e in entries(run)}
        # Every order of the seconds below the watermark is settled, none above it.
        assert settled == {i for i, at in modified.items() if at <= auto_webstore.watermark}

    logged = [e.woo_order_id for e in entries(run)]
    assert (run.status, run.imported, run.store_total) == (RunStatus.SUCCEEDED, 60, 60)
    assert run.slices == 3 and run.started_at == started_at
    assert sorted(logged) == sorted(modified)  # each order met once, in one run's log
    db.session.refresh(auto_webstore)
    assert auto_webstore.watermark == max(modified.values())
    assert not any(duplicates().values())


def test_the_last_slice_follows_only_the_open_orders_no_slice_met(
    auto_webstore, store, one_page_slices, monkeypatch
):
    from portal.sync import importer
    from portal.sync.runs import client_for, execute_run

    with client_for(auto_webstore) as client:
        listed = {o.id for o in client.iter_orders()}
    followed_beside = []
    follow = importer.follow_open_orders

    def spy(client, writer, webstore_id, met, read_in_full=False):
        followed_beside.append(set(met))
        return follow(client, writer, webstore_id, met, read_in_full)

    monkeypatch.setattr(importer, "follow_open_orders", spy)
    [run] = enqueue_due()
    while execute_run(run.id, sliced=True).status == RunStatus.QUEUED:
        pass

    # Once, after the last slice, knowing what the earlier slices met.
    assert followed_beside == [listed]


def test_the_refunds_of_a_sync_wait_for_its_last_slice(auto_webstore, store, one_page_slices):
    from portal.models import RunKind
    from portal.sync.runs import execute_run
    from portal.sync.schedule import follow_with_refunds

    auto_webstore.refunds_start_date = date(2020, 1, 1)
    db.session.commit()
    [run] = enqueue_due()

    paused = execute_run(run.id, sliced=True)

    assert follow_with_refunds(paused) is None
    assert not db.session.scalars(sa.select(SyncRun).where(SyncRun.kind == RunKind.REFUNDS)).all()


def test_a_sync_not_run_by_a_worker_is_not_sliced(auto_webstore, store, one_page_slices):
    [run] = enqueue_due()

    from portal.sync.runs import execute_run

    assert execute_run(run.id).status == RunStatus.SUCCEEDED


def test_where_the_queue_stops_answering_between_slices_the_scheduler_goes_on_later(
    app, auto_webstore, store, one_page_slices, monkeypatch
):
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue

    from portal.sync.runs import execute_run

    [run] = enqueue_due()

    def refuse(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(Queue, "enqueue", refuse)
    stopped = execute_run(run.id, sliced=True)

    assert stopped.status == RunStatus.FAILED and stopped.retry_at is not None
    assert "job queue (Redis) stopped answering" in stopped.reason
    assert stopped.imported == 20


def test_a_sync_due_before_the_schedulers_next_look_starts_at_this_one(auto_webstore):
    [run] = enqueue_due()
    run.status = RunStatus.SUCCEEDED
    db.session.commit()
    due_at = run.created_at + timedelta(minutes=15)

    # The scheduler looks once a minute: a moment short of the interval is due now,
    # not a minute later.
    assert enqueue_due(now=due_at - timedelta(seconds=1)) != []


def test_the_longest_due_go_on_the_queue_first(app, auto_webstore, webstore):
    from portal.sync.schedule import due_webstores

    webstore.auto_sync, webstore.sync_interval_minutes = True, 5
    db.session.commit()
    now = utcnow()
    for each, ago in ((auto_webstore, 20), (webstore, 60)):
        ran = create_run(each, incremental_filters(each), Trigger.AUTOMATIC)
        ran.status, ran.created_at = RunStatus.SUCCEEDED, now - timedelta(minutes=ago)
    db.session.commit()

    assert [w.code for w in due_webstores(now)] == [webstore.code, auto_webstore.code]


def test_a_queued_sync_whose_job_the_queue_lost_is_queued_again(app, auto_webstore, store):
    from rq.job import Job

    from portal.queue import redis_connection
    from portal.sync.runs import execute_run

    [run] = enqueue_due()
    lost = run.job_id
    Job.fetch(lost, connection=redis_connection()).delete()  # Redis restarted without it

    # The scheduler's next look queues it again; still the webstore's one automatic run.
    later = utcnow() + timedelta(hours=1)
    assert enqueue_due(now=later) == []

    db.session.refresh(run)
    assert run.status == RunStatus.QUEUED and run.job_id != lost
    enqueue_due(now=later)  # its job is there now: left alone
    assert queued_job_ids(app) == [run.job_id]
    assert execute_run(run.id).status == RunStatus.SUCCEEDED
