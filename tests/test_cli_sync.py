"""`flask sync-webstore`: the scheduler's automatic sync of one webstore, in the foreground,
as a run that says it came from the command line."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import OrderLink, RunKind, RunStatus, SyncRun, Trigger
from portal.models.base import utcnow
from portal.sync.filters import merge_filters
from portal.sync.schedule import enqueue_due, incremental_filters
from tests.sync_helpers import count


def runs() -> list[SyncRun]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id)))


def going_run(
    webstore, status=RunStatus.RUNNING, heartbeat_at=None, trigger=Trigger.AUTOMATIC, filters=None
) -> SyncRun:
    run = SyncRun(
        webstore=webstore,
        trigger=trigger,
        status=status,
        heartbeat_at=heartbeat_at or utcnow(),
        filters=(filters or incremental_filters(webstore)).to_json(),
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_a_sync_imports_every_order_as_a_command_line_run_and_exits_0(runner, demo_webstore):
    result = runner.invoke(args=["sync-webstore", "demo"])

    assert result.exit_code == 0, result.output
    [run] = runs()
    assert run.trigger == Trigger.COMMAND and run.filters["incremental"] is True
    assert (run.status, run.imported, run.failed) == (RunStatus.SUCCEEDED, 60, 0)
    assert result.output.splitlines()[1:] == [
        "Orders to read: 60",
        f"Run {run.id} succeeded: 60 imported, 0 skipped, 0 changed, 0 failed of 60 fetched.",
    ]


def test_a_sync_advances_the_watermark_to_the_last_order_it_settled(runner, demo_webstore):
    assert demo_webstore.watermark is None

    runner.invoke(args=["sync-webstore", "DEMO"])

    db.session.refresh(demo_webstore)
    last_modified = db.session.scalar(sa.select(sa.func.max(OrderLink.woo_modified_at)))
    assert demo_webstore.watermark == last_modified


def test_a_second_sync_right_after_finds_nothing_new(runner, demo_webstore):
    runner.invoke(args=["sync-webstore", "DEMO"])

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 0, result.output
    second = runs()[1]
    assert (second.status, second.imported, second.changed, second.failed) == (
        RunStatus.SUCCEEDED,
        0,
        0,
        0,
    )
    assert count(OrderLink) == 60


def test_a_sync_where_some_orders_failed_exits_1(runner, demo_webstore):
    demo_webstore.auto_create_items = False
    db.session.commit()

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 1, result.output
    [run] = runs()
    assert (run.status, run.failed, run.imported, run.reason) == (RunStatus.FAILED, 60, 0, None)


def test_a_store_that_refuses_the_credentials_exits_2_and_keeps_the_watermark(
    runner, demo_webstore
):
    demo_webstore.consumer_key = "ck_unknown"
    db.session.commit()

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 2
    assert "The store could not be read" in result.output
    assert "consumer key" in result.output.lower()
    db.session.refresh(demo_webstore)
    assert demo_webstore.watermark is None


def test_an_unknown_webstore_exits_2_naming_it(runner, app):
    result = runner.invoke(args=["sync-webstore", "NOPE"])

    assert result.exit_code == 2
    assert result.output == "Error: There is no webstore with code NOPE.\n"
    assert count(SyncRun) == 0


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_an_automatic_run_going_already_exits_2_and_starts_none(runner, demo_webstore, status):
    going = going_run(demo_webstore, status)

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 2
    assert result.output == (
        f"Error: Webstore DEMO is being synchronized already (run {going.id} is {status}); "
        "it imports what is new. Try again when it has finished.\n"
    )
    assert [run.id for run in runs()] == [going.id]


def test_a_run_whose_worker_died_does_not_hold_the_sync_back(runner, demo_webstore):
    dead = going_run(demo_webstore, heartbeat_at=utcnow() - timedelta(hours=1))

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 0, result.output
    reaped, run = runs()
    assert (reaped.id, reaped.status) == (dead.id, RunStatus.FAILED)
    assert (run.trigger, run.imported) == (Trigger.COMMAND, 60)


def test_another_command_line_sync_going_exits_2_and_starts_none(runner, demo_webstore):
    going = going_run(demo_webstore, trigger=Trigger.COMMAND)

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 2
    assert f"being synchronized already (run {going.id} is running)" in result.output
    assert [run.id for run in runs()] == [going.id]


def test_an_import_orders_going_does_not_hold_the_sync_back(runner, demo_webstore):
    importing = going_run(
        demo_webstore, trigger=Trigger.COMMAND, filters=merge_filters(demo_webstore)
    )

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    assert result.exit_code == 0, result.output
    still_importing, sync = runs()
    assert (still_importing.id, still_importing.status) == (importing.id, RunStatus.RUNNING)
    assert (sync.trigger, sync.status, sync.imported) == (Trigger.COMMAND, RunStatus.SUCCEEDED, 60)


def test_the_scheduler_starts_no_automatic_run_while_a_command_line_sync_goes(demo_webstore):
    demo_webstore.auto_sync = True
    db.session.commit()
    syncing = going_run(demo_webstore, trigger=Trigger.COMMAND)

    held = enqueue_due()
    syncing.status = RunStatus.SUCCEEDED
    db.session.commit()
    after = enqueue_due()

    assert held == []
    assert [(run.trigger, run.webstore_id) for run in after] == [
        (Trigger.AUTOMATIC, demo_webstore.id)
    ]


def test_a_sync_credits_refunds_as_the_scheduler_does_once_refunds_have_a_start_date(
    runner, demo_webstore
):
    from datetime import date

    demo_webstore.refunds_start_date = date(2020, 1, 1)
    db.session.commit()

    result = runner.invoke(args=["sync-webstore", "DEMO"])

    orders, refunds = runs()
    assert result.exit_code == 0, result.output
    assert (refunds.trigger, refunds.kind) == (Trigger.COMMAND, RunKind.REFUNDS)
    assert (refunds.imported, refunds.failed) == (3, 0)  # the store's three refunds
    assert result.output.splitlines()[-1] == (
        f"Run {refunds.id} (refunds) {refunds.status}: {refunds.imported} credited, "
        f"{refunds.skipped} skipped, 0 failed."
    )
