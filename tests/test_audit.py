"""The completeness audit: every order the store has in a window of days is accounted for
as imported, skipped by the webstore's filters, failed, or missing; missing ones are named
and imported at a click, after which the audit is clean."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobs.audits import enqueue_due_audits
from portal import db
from portal.models import OrderLink, SalesOrder, Trigger
from portal.models.base import utcnow
from portal.models.health import Audit, AuditStatus, SeenVia, StoreOrder, StoreOrderState
from portal.queue import import_queue
from portal.sync.audit import audit_webstore, import_missing, missing_orders
from portal.woo.orders import parse_order_ref
from tests.sync_helpers import run_import, work_queued_jobs

# The sandbox's 60 orders are spread over the past year: a window from a year and a bit
# ago holds every one of them.
ALL_YEAR = date.today() - timedelta(days=400)


def store_orders(**where) -> dict[int, StoreOrder]:
    db.session.expire_all()
    query = sa.select(StoreOrder).filter_by(**where)
    return {o.woo_order_id: o for o in db.session.scalars(query)}


def new_orders(store, count: int, **given) -> list[dict]:
    return [store.create_order(status="processing", **given) for _ in range(count)]


def failed_order(webstore, store) -> dict:
    """A new customer's order, imported with 'Create missing customers' off: it fails."""
    webstore.auto_create_customers = False
    db.session.commit()
    order = store.create_order(customer_id=0, status="processing", email="new@example.com")
    run = run_import(webstore, order_id=order["id"])
    assert run.failed == 1
    return order


@pytest.fixture
def imported_store(demo_webstore):
    """DEMO with every order of its store imported (60, any status)."""
    run = run_import(demo_webstore)
    assert (run.imported, run.failed) == (60, 0)
    return demo_webstore


# What the audit finds


def test_a_listing_that_asks_for_numbers_gives_them():
    listed = {"id": 77, "status": "processing", "date_modified_gmt": "2026-12-01T10:00:00"}

    assert parse_order_ref({**listed, "number": "WC-0077"}).number == "WC-0077"
    assert parse_order_ref(listed).number == "77"


def test_orders_created_while_sync_is_off_are_named_missing(imported_store, store):
    created = new_orders(store, 3)

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert audit.status == AuditStatus.SUCCEEDED
    assert (audit.store_total, audit.imported, audit.skipped, audit.failed, audit.missing) == (
        63,
        60,
        0,
        0,
        3,
    )
    missing = store_orders(state=StoreOrderState.MISSING)
    assert sorted(missing) == sorted(o["id"] for o in created)
    assert {(o.number, o.status, o.seen_via) for o in missing.values()} == {
        (o["number"], "processing", SeenVia.AUDIT) for o in created
    }
    assert [o.woo_order_id for o in missing_orders(audit)] == sorted(missing)


def test_the_store_is_counted_per_day_and_status(imported_store, store):
    before = audit_webstore(imported_store, since=ALL_YEAR)
    today = new_orders(store, 2)[0]["date_created"][:10]

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert sum(sum(day.values()) for day in audit.by_day.values()) == 62
    processing_before = before.by_day.get(today, {}).get("processing", 0)
    assert audit.by_day[today]["processing"] == processing_before + 2
    # The default window: the last 30 days, today included.
    recent = audit_webstore(imported_store)
    utc_today = datetime.now(UTC).date()
    assert (recent.window_from, recent.window_to) == (utc_today - timedelta(days=29), utc_today)
    assert set(recent.by_day) <= {(utc_today - timedelta(days=n)).isoformat() for n in range(30)}
    assert recent.store_total == sum(sum(day.values()) for day in recent.by_day.values())


def test_orders_left_out_by_the_filters_are_skipped_with_the_reason(demo_webstore, store):
    demo_webstore.default_status_filter = "processing"
    db.session.commit()
    run_import(demo_webstore)  # the store's 9 processing orders
    on_hold = store.create_order(status="on-hold")
    draft = store.create_order(status="checkout-draft")

    audit = audit_webstore(demo_webstore, since=ALL_YEAR)

    assert (audit.store_total, audit.imported, audit.skipped, audit.missing) == (62, 9, 53, 0)
    skipped = store_orders(state=StoreOrderState.SKIPPED)
    assert len(skipped) == 53
    assert skipped[on_hold["id"]].reason == (
        "status on-hold is not in the webstore's status filter (processing)."
    )
    assert skipped[draft["id"]].reason == "a checkout draft: the customer has not placed it yet."


def test_failed_orders_are_accounted_for_with_their_reason(imported_store, store):
    bad = failed_order(imported_store, store)

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert (audit.store_total, audit.imported, audit.failed, audit.missing) == (61, 60, 1, 0)
    failed = store_orders(state=StoreOrderState.FAILED)
    assert list(failed) == [bad["id"]]
    assert "'Create missing customers' is off in the setup of DEMO" in failed[bad["id"]].reason


def test_a_failure_logged_before_the_staging_view_existed_counts_as_failed(imported_store, store):
    bad = failed_order(imported_store, store)
    db.session.execute(sa.delete(StoreOrder))  # as an upgraded installation has none
    db.session.commit()

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert (audit.failed, audit.missing) == (1, 0)
    assert store_orders(state=StoreOrderState.FAILED)[bad["id"]].seen_via == SeenVia.AUDIT


def test_imports_made_before_the_staging_view_are_recorded_as_imported(imported_store):
    db.session.execute(sa.delete(StoreOrder))
    db.session.commit()

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert (audit.imported, audit.missing) == (60, 0)
    recorded = store_orders(state=StoreOrderState.IMPORTED)
    links = dict(
        db.session.execute(sa.select(OrderLink.woo_order_id, OrderLink.sales_order_id)).all()
    )
    assert {i: o.sales_order_id for i, o in recorded.items()} == links


def test_a_missing_order_deleted_from_the_store_is_settled_by_the_next_audit(imported_store, store):
    kept, deleted = new_orders(store, 2)
    audit_webstore(imported_store, since=ALL_YEAR)
    store.delete_order(deleted["id"])

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert audit.missing == 1
    assert list(store_orders(state=StoreOrderState.MISSING)) == [kept["id"]]
    assert store_orders(woo_order_id=deleted["id"])[deleted["id"]].reason == (
        "no longer in the store's lists: deleted, or in the trash."
    )


def test_orders_changed_after_the_watermark_are_left_to_automatic_sync(imported_store, store):
    imported_store.auto_sync = True
    imported_store.watermark = utcnow() - timedelta(minutes=5)
    db.session.commit()
    waiting = new_orders(store, 2)

    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert (audit.store_total, audit.imported, audit.missing) == (60, 60, 0)
    assert sum(sum(day.values()) for day in audit.by_day.values()) == 62
    assert not store_orders(state=StoreOrderState.MISSING)
    assert all(o["id"] not in store_orders() for o in waiting)


def test_a_store_that_does_not_answer_fails_the_audit_with_the_clients_words(webstore):
    audit = audit_webstore(webstore)

    assert audit.status == AuditStatus.FAILED
    assert audit.error.startswith("The store could not be asked: ")
    assert "127.0.0.1:9" in audit.error
    assert audit.finished_at is not None


# Import missing


def test_after_importing_the_missing_orders_the_audit_is_clean(imported_store, store):
    created = new_orders(store, 3)
    audit = audit_webstore(imported_store, since=ALL_YEAR)

    run = import_missing(audit)
    work_queued_jobs()

    db.session.refresh(run)
    assert sorted(run.filters["order_ids"]) == sorted(o["id"] for o in created)
    assert (run.status, run.imported) == ("succeeded", 3)
    assert {o.state for o in store_orders().values()} == {StoreOrderState.IMPORTED}
    again = audit_webstore(imported_store, since=ALL_YEAR)
    assert (again.store_total, again.imported, again.missing, again.failed) == (63, 63, 0, 0)


def test_with_nothing_missing_there_is_nothing_to_import(imported_store):
    audit = audit_webstore(imported_store, since=ALL_YEAR)

    with pytest.raises(LookupError, match="nothing to import"):
        import_missing(audit)


# flask audit-webstore


def test_the_command_exits_1_naming_the_missing_orders(runner, imported_store, store):
    created = new_orders(store, 2)

    result = runner.invoke(args=["audit-webstore", "DEMO", "--since", ALL_YEAR.isoformat()])

    assert result.exit_code == 1, result.output
    assert "store orders            62" in result.output
    assert "missing                  2" in result.output
    for order in created:
        assert f"Missing: order {order['number']} (id {order['id']}, " in result.output


def test_the_command_exits_0_when_every_order_is_accounted_for(runner, imported_store):
    result = runner.invoke(args=["audit-webstore", "demo"])

    assert result.exit_code == 0, result.output
    assert "missing                  0" in result.output
    assert db.session.scalar(sa.select(Audit.trigger)) == Trigger.COMMAND


def test_the_command_exits_1_for_failed_orders(runner, imported_store, store):
    bad = failed_order(imported_store, store)

    result = runner.invoke(args=["audit-webstore", "DEMO"])

    assert result.exit_code == 1, result.output
    assert f"Failed: order {bad['number']} (id {bad['id']}): " in result.output
    assert "<new@example.com>" in result.output


def test_the_command_exits_2_when_the_store_cannot_be_asked(runner, webstore):
    result = runner.invoke(args=["audit-webstore", "MAIN"])

    assert result.exit_code == 2
    assert "Error: The store could not be asked: " in result.output


def test_the_command_exits_2_for_an_unknown_webstore_or_a_bad_date(runner, webstore):
    unknown = runner.invoke(args=["audit-webstore", "NOPE"])
    bad_date = runner.invoke(args=["audit-webstore", "MAIN", "--since", "31.12.2026"])

    assert (unknown.exit_code, bad_date.exit_code) == (2, 2)
    assert "There is no webstore with code NOPE." in unknown.output
    assert "'31.12.2026' does not match the format '%Y-%m-%d'" in bad_date.output


# Daily, by the scheduler


def test_the_scheduler_queues_an_audit_of_each_webstore_not_audited_for_a_day(
    imported_store, webstore
):
    audited = Audit(
        webstore_id=webstore.id,
        trigger=Trigger.AUTOMATIC,
        window_from=date.today(),
        window_to=date.today(),
        status=AuditStatus.SUCCEEDED,
        started_at=utcnow() - timedelta(hours=23),
    )
    db.session.add(audited)
    db.session.commit()

    said = enqueue_due_audits()

    assert said == "queued 1 audit(s); 0 stale audit(s) given up"
    [queued] = db.session.scalars(sa.select(Audit).where(Audit.webstore_id == imported_store.id))
    assert (queued.status, queued.trigger) == (AuditStatus.RUNNING, Trigger.AUTOMATIC)
    assert [job.args for job in import_queue().jobs] == [(queued.id,)]
    assert enqueue_due_audits() == "queued 0 audit(s); 0 stale audit(s) given up"

    work_queued_jobs()

    db.session.refresh(queued)
    assert (queued.status, queued.missing) == (AuditStatus.SUCCEEDED, 0)


def test_an_audit_whose_worker_died_is_given_up_and_the_webstore_is_due_again(imported_store):
    stale = Audit(
        webstore_id=imported_store.id,
        trigger=Trigger.AUTOMATIC,
        window_from=date.today(),
        window_to=date.today(),
        started_at=datetime.now().astimezone() - timedelta(hours=25),
    )
    db.session.add(stale)
    db.session.commit()

    said = enqueue_due_audits()

    assert said == "queued 1 audit(s); 1 stale audit(s) given up"
    db.session.refresh(stale)
    assert stale.status == AuditStatus.FAILED
    assert stale.error == "The worker running this audit stopped before it finished. Run it again."


# Pages


def test_staff_run_an_audit_and_import_what_is_missing(signed_in_staff, imported_store, store):
    created = new_orders(store, 2)

    response = signed_in_staff.post("/audits", {"webstore": "DEMO"})
    assert response.status_code == 303
    work_queued_jobs()
    page = signed_in_staff.get(response.headers["Location"])

    assert page.status_code == 200
    assert "Missing now (2)" in page.text
    for order in created:
        assert f">{order['number']}</a>" in page.text
    assert "Import missing (2)" in page.text

    audit = db.session.scalar(sa.select(Audit))
    started = signed_in_staff.post(f"/audits/DEMO/{audit.id}/import-missing")
    assert started.status_code == 303
    assert started.headers["Location"].startswith("/imports/runs/")
    work_queued_jobs()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SalesOrder)) == 62

    after = signed_in_staff.get(f"/audits/DEMO/{audit.id}")
    assert "Missing now (0)" in after.text
    assert "Run the audit again to confirm" in after.text


def test_viewers_read_audits_but_may_not_run_or_import(signed_in_viewer, imported_store, store):
    new_orders(store, 1)
    audit = audit_webstore(imported_store, since=ALL_YEAR)

    index = signed_in_viewer.get("/audits")
    page = signed_in_viewer.get("/audits/DEMO")

    assert index.status_code == page.status_code == 200
    assert "Run audit now" not in index.text + page.text
    assert "Missing now (1)" in page.text and "Import missing" not in page.text
    assert signed_in_viewer.post("/audits", {"webstore": "DEMO"}).status_code == 403
    assert signed_in_viewer.post(f"/audits/DEMO/{audit.id}/import-missing").status_code == 403


def test_a_running_audit_is_polled_until_it_ends(signed_in_staff, imported_store):
    signed_in_staff.post("/audits", {"webstore": "DEMO"})
    audit = db.session.scalar(sa.select(Audit))
    htmx = {"HX-Request": "true"}

    running = signed_in_staff.get(f"/audits/DEMO/{audit.id}", headers=htmx)
    work_queued_jobs()
    ended = signed_in_staff.get(f"/audits/DEMO/{audit.id}", headers=htmx)

    assert running.status_code == 200 and 'hx-trigger="every 2s' in running.text
    assert ended.status_code == 286 and "hx-trigger" not in ended.text
    assert "Every store order of the window is accounted for." in ended.text


def test_an_audit_of_another_webstore_is_not_found(signed_in_viewer, imported_store, webstore):
    audit = audit_webstore(imported_store, since=ALL_YEAR)

    assert signed_in_viewer.get(f"/audits/MAIN/{audit.id}").status_code == 404
    assert signed_in_viewer.get("/audits/NOPE").status_code == 404


def test_a_window_starting_in_the_future_is_refused_with_the_reason(signed_in_staff, webstore):
    later = (datetime.now(UTC).date() + timedelta(days=5)).isoformat()

    response = signed_in_staff.post("/audits", {"webstore": "MAIN", "since": later})
    page = signed_in_staff.get(response.headers["Location"])

    assert response.status_code == 303
    assert f"The window starts in the future ({later}): choose a day up to today." in page.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Audit)) == 0
