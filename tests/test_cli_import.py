"""`flask import-orders`: the same import in the foreground, with an exit status for scripts."""

from portal import db
from portal.models import RunStatus, SyncRun, Trigger
from tests.sync_helpers import count


def test_an_import_where_nothing_failed_exits_0(runner, demo_webstore):
    result = runner.invoke(args=["import-orders", "--webstore", "demo", "--order-id", "44"])

    assert result.exit_code == 0, result.output
    run = db.session.scalar(db.select(SyncRun))
    assert result.output.splitlines() == [
        f"Run {run.id}: importing from DEMO (order 44; status any)",
        "Orders to read: 1",
        f"Run {run.id} succeeded: 1 imported, 0 skipped, 0 changed, 0 failed of 1 fetched.",
    ]


def test_an_import_is_a_command_line_run_that_keeps_the_watermark(runner, demo_webstore):
    runner.invoke(args=["import-orders", "--webstore", "DEMO", "--order-id", "44"])

    run = db.session.scalar(db.select(SyncRun))
    db.session.refresh(demo_webstore)
    assert (run.trigger, run.requested_by_id, run.filters["incremental"]) == (
        Trigger.COMMAND,
        None,
        False,
    )
    assert demo_webstore.watermark is None


def test_an_import_where_some_orders_failed_exits_1(runner, demo_webstore):
    demo_webstore.auto_create_items = False
    db.session.commit()

    result = runner.invoke(args=["import-orders", "--webstore", "DEMO", "--status", "processing"])

    assert result.exit_code == 1, result.output
    run = db.session.scalar(db.select(SyncRun))
    # The seeded store's nine processing orders, none with items to book them on.
    assert (run.status, run.failed, run.imported, run.reason) == (RunStatus.FAILED, 9, 0, None)


def test_bad_filters_exit_2_and_start_nothing(runner, demo_webstore):
    result = runner.invoke(args=["import-orders", "--webstore", "DEMO", "--status", "shipped"])

    assert result.exit_code == 2
    assert "WooCommerce has no order status shipped" in result.output
    assert count(SyncRun) == 0


def test_an_unknown_webstore_exits_2(runner, app):
    result = runner.invoke(args=["import-orders", "--webstore", "NOPE"])

    assert result.exit_code == 2
    assert "There is no webstore with code NOPE." in result.output


def test_a_store_that_refuses_the_credentials_exits_2_with_the_reason(runner, demo_webstore):
    demo_webstore.consumer_key = "ck_unknown"
    db.session.commit()

    result = runner.invoke(args=["import-orders", "--webstore", "DEMO"])

    assert result.exit_code == 2
    assert "The store could not be read" in result.output
    assert "consumer key" in result.output.lower()
