"""The store hears back: posting a sales order completes its webstore order, with a note."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    EventKind,
    OrderEvent,
    Outcome,
    StoreWriteback,
    WritebackState,
)
from portal.models.base import utcnow
from portal.orders.actions import ACTIONS, perform
from portal.sync import writeback
from portal.sync.runs import client_for
from tests.sync_helpers import entries, imported_order, run_import, work_queued_jobs


@pytest.fixture
def writing_webstore(demo_webstore):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    return demo_webstore


def store_order(webstore, order_id):
    with client_for(webstore) as client:
        return client.get_order(order_id), client.list_order_notes(order_id)


def only_writeback() -> StoreWriteback:
    db.session.expire_all()
    [row] = db.session.scalars(sa.select(StoreWriteback))
    return row


def test_posting_completes_the_store_order_and_adds_one_note(writing_webstore, store):
    order = imported_order(writing_webstore, store)

    message = perform(order, ACTIONS["post"])
    work_queued_jobs()

    woo, notes = store_order(writing_webstore, order.woo_order_id)
    assert woo.status == "completed"
    ours = [n for n in notes if order.number in n["note"]]
    assert len(ours) == 1 and ours[0]["customer_note"] is True
    assert ours[0]["note"] == f"Sales order {order.number} is posted."
    sent = only_writeback()
    assert (sent.state, sent.attempts, sent.woo_note_id) == (WritebackState.SENT, 1, ours[0]["id"])
    assert "is being set to completed in the store" in message


def test_the_note_carries_the_carrier_and_tracking_number(writing_webstore, store, signed_in_staff):
    order = imported_order(writing_webstore, store)
    signed_in_staff.post(
        f"/orders/{order.id}/shipping", {"shipping_carrier": "DHL", "tracking_number": "JD0123"}
    )
    db.session.refresh(order)

    perform(order, ACTIONS["post"])
    work_queued_jobs()

    _, notes = store_order(writing_webstore, order.woo_order_id)
    expected = f"Sales order {order.number} is posted. Shipped with DHL, tracking number JD0123."
    assert [n["note"] for n in notes if order.number in n["note"]] == [expected]


def test_sending_twice_never_adds_a_second_note(writing_webstore, store):
    order = imported_order(writing_webstore, store)
    perform(order, ACTIONS["post"])
    work_queued_jobs()
    # As if the job died after the store took the note, before the row was kept as sent.
    sent = only_writeback()
    sent.state, sent.woo_note_id, sent.next_attempt_at = WritebackState.PENDING, None, utcnow()
    db.session.commit()

    writeback.send(sent.id)

    _, notes = store_order(writing_webstore, order.woo_order_id)
    assert len([n for n in notes if order.number in n["note"]]) == 1
    assert only_writeback().state == WritebackState.SENT


def test_a_store_that_is_down_delays_the_update_and_never_loses_it(writing_webstore, store):
    order = imported_order(writing_webstore, store)
    store.set_faults(fail_rate=1.0)

    perform(order, ACTIONS["post"])
    work_queued_jobs()

    waiting = only_writeback()
    assert waiting.state == WritebackState.PENDING
    assert waiting.reason.startswith("The store did not answer")
    assert waiting.next_attempt_at > utcnow()
    # Nothing is due before its time: the scheduler's minute job queues nothing yet.
    assert writeback.due() == []

    store.set_faults(fail_rate=0.0)
    later = utcnow() + timedelta(minutes=2)
    assert writeback.due(later) == [waiting.id]
    waiting.next_attempt_at = utcnow()
    db.session.commit()
    writeback.enqueue_due()
    work_queued_jobs()

    sent = only_writeback()
    woo, notes = store_order(writing_webstore, order.woo_order_id)
    assert (sent.state, sent.attempts) == (WritebackState.SENT, 2)
    assert woo.status == "completed"
    assert len([n for n in notes if order.number in n["note"]]) == 1


def test_an_order_cancelled_in_the_store_meanwhile_is_not_overwritten(writing_webstore, store):
    order = imported_order(writing_webstore, store)
    store.modify_order(order.woo_order_id, status="cancelled")

    perform(order, ACTIONS["post"])
    work_queued_jobs()

    failed = only_writeback()
    woo, notes = store_order(writing_webstore, order.woo_order_id)
    assert failed.state == WritebackState.FAILED
    assert failed.reason == (
        f"The store's order {order.external_document_no} is cancelled: it is never set to "
        "completed. Nothing was written to the store."
    )
    assert woo.status == "cancelled"
    assert not [n for n in notes if order.number in n["note"]]


def test_a_read_only_key_fails_the_update_saying_which_key_it_needs(writing_webstore, store):
    order = imported_order(writing_webstore, store)
    writing_webstore.consumer_key = store.read_only_key
    writing_webstore.consumer_secret = store.read_only_secret
    db.session.commit()

    perform(order, ACTIONS["post"])
    work_queued_jobs()

    failed = only_writeback()
    assert failed.state == WritebackState.FAILED
    assert "create a Read/Write key" in failed.reason
    assert "enter it in Setup > Webstores > DEMO" in failed.reason
    writing_webstore.consumer_key, writing_webstore.consumer_secret = (
        store.consumer_key,
        store.consumer_secret,
    )
    db.session.commit()
    woo, _ = store_order(writing_webstore, order.woo_order_id)
    assert woo.status == "processing"


def test_our_own_update_raises_no_change_warning_on_the_next_import(writing_webstore, store):
    order = imported_order(writing_webstore, store)
    perform(order, ACTIONS["post"])
    work_queued_jobs()

    again = run_import(writing_webstore, order_id=order.woo_order_id)

    db.session.refresh(order)
    [entry] = entries(again)
    assert entry.outcome == Outcome.SKIPPED
    assert entry.message == f"posted: {order.number} is posted"
    assert order.change_warning is None and order.woo_status == "completed"


def test_write_back_is_off_unless_the_setup_turns_it_on(demo_webstore, store):
    order = imported_order(demo_webstore, store)

    message = perform(order, ACTIONS["post"])

    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoreWriteback)) == 0
    assert message == f"Sales order {order.number} posted."
    woo, _ = store_order(demo_webstore, order.woo_order_id)
    assert woo.status == "processing"


def test_releasing_sets_nothing_by_default(writing_webstore, store):
    order = imported_order(writing_webstore, store)

    perform(order, ACTIONS["release"])

    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoreWriteback)) == 0


def test_the_order_page_and_import_results_show_the_update_and_send_again(
    writing_webstore, store, signed_in_staff
):
    order = imported_order(writing_webstore, store)
    store.modify_order(order.woo_order_id, status="on-hold")
    perform(order, ACTIONS["post"])
    work_queued_jobs()

    page = signed_in_staff.get(f"/orders/{order.id}").text
    results = signed_in_staff.get("/imports/").text

    assert 'class="writeback writeback-failed"' in page
    assert "differs from what was imported: status processing → on-hold" in page
    assert "Send again" in page
    assert 'id="writebacks-table"' in results and "writeback-failed" in results

    store.modify_order(order.woo_order_id, status="processing")
    failed = only_writeback()
    signed_in_staff.post(f"/orders/{order.id}/writebacks/{failed.id}/send")
    work_queued_jobs()

    page = signed_in_staff.get(f"/orders/{order.id}").text
    assert only_writeback().state == WritebackState.SENT
    assert 'class="writeback writeback-sent"' in page and "Send again" not in page


def test_the_setup_section_is_on_for_new_webstores_and_off_for_those_before(
    signed_in_admin, demo_webstore
):
    new = signed_in_admin.get("/setup/webstores/new").text
    existing = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}").text

    assert "<legend><strong>Update the webstore order</strong></legend>" in new
    assert '<input checked id="writeback_enabled"' in new
    assert '<input id="writeback_enabled"' in existing
    assert '<option selected value="completed">Completed</option>' in existing


def test_the_automatic_sync_after_our_update_raises_no_change_warning(writing_webstore, store):
    from portal.models import Trigger
    from portal.sync.runs import create_run, execute_run
    from portal.sync.schedule import incremental_filters

    order = imported_order(writing_webstore, store)
    perform(order, ACTIONS["post"])
    work_queued_jobs()

    # Every change of the store since the start: our own update among them.
    sync = execute_run(
        create_run(writing_webstore, incremental_filters(writing_webstore), Trigger.AUTOMATIC).id
    )

    db.session.refresh(order)
    ours = [e for e in entries(sync) if e.woo_order_id == order.woo_order_id]
    assert [(e.outcome, e.message) for e in ours] == [
        (Outcome.SKIPPED, f"posted: {order.number} is posted")
    ]
    assert not entries(sync, Outcome.CHANGED)
    assert order.change_warning is None


def test_a_store_order_completed_by_the_shop_with_other_quantities_gets_no_note(
    writing_webstore, store
):
    order = imported_order(writing_webstore, store)
    perform(order, ACTIONS["post"])
    woo, _ = store_order(writing_webstore, order.woo_order_id)
    line = woo.line_items[0]
    store.modify_order(
        order.woo_order_id, status="completed", quantities={line.id: line.quantity + 1}
    )

    work_queued_jobs()

    refused = only_writeback()
    woo, notes = store_order(writing_webstore, order.woo_order_id)
    assert refused.state == WritebackState.FAILED
    assert f"quantity of '{line.name}' {line.quantity} → {line.quantity + 1}" in refused.reason
    assert not [n for n in notes if order.number in n["note"]]


def test_a_store_order_already_completed_as_reviewed_is_noted_as_such(writing_webstore, store):
    order = imported_order(writing_webstore, store)
    perform(order, ACTIONS["post"])
    store.modify_order(order.woo_order_id, status="completed")

    work_queued_jobs()

    sent = only_writeback()
    told = db.session.scalars(
        sa.select(OrderEvent.message).where(OrderEvent.kind == EventKind.WRITEBACK_SENT)
    ).all()
    _, notes = store_order(writing_webstore, order.woo_order_id)
    assert sent.state == WritebackState.SENT
    assert told == ["Store order was completed already"]
    assert len([n for n in notes if order.number in n["note"]]) == 1
