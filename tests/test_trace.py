"""An order's trace: every run that met a webstore order, its sales order, change warnings,
write-backs and each of their tries, reviews, updates from the store, the cancellation and
credit memos, in time order, on one page; and the ways to it."""

import html as html_module
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import db, search
from portal.models import (
    Customer,
    EventKind,
    OrderEvent,
    OrderLink,
    Outcome,
    PostedSalesInvoice,
    RunKind,
    SalesCreditMemo,
    SalesOrder,
    StoreWriteback,
    SyncLogEntry,
    Trigger,
    WritebackState,
)
from portal.models.base import utcnow
from portal.orders import trace
from portal.orders.actions import ACTIONS, mark_reviewed, perform, update_from_store
from portal.sync import writeback
from portal.sync.filters import merge_filters
from portal.sync.history import record
from portal.sync.runs import create_run, execute_run, retry_failed
from portal.sync.schedule import refund_filters
from tests.sync_helpers import (
    entries,
    imported_order,
    logged_run,
    run_import,
    sales_order_for,
    work_queued_jobs,
)

SCRIPT = "<script>window.__xss=1</script>"


def trace_url(webstore, woo_order_id, **args) -> str:
    query = "".join(f"&{k}={v}" for k, v in args.items()).replace("&", "?", 1)
    return f"/orders/trace/{webstore.code}/{woo_order_id}{query}"


def events(html: str) -> list[tuple[str, str]]:
    """The trace's events, top to bottom: (kind, text as read)."""
    rows = re.findall(r'<tr class="trace-event trace-(\w+)">(.*?)</tr>', html, re.S)
    return [(kind, as_read(body)) for kind, body in rows]


def as_read(html: str) -> str:
    """Text as a browser shows it: cells and lines apart, inline markup run together."""
    text = re.sub(r"<[^>]+>", "", re.sub(r"<(?:br|td|/td|li|/li)\b[^>]*>", " ", html))
    return " ".join(html_module.unescape(text).split())


def in_time_order(html: str) -> list[tuple[str, str]]:
    """The trace's events, as ``events``, once their times read in order down the page."""
    found = events(html)
    times = [text[:19] for _, text in found]
    assert times == sorted(times)
    return found


def without_time(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The events without their leading date and time."""
    return [(kind, re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", text)) for kind, text in found]


def log_entry(webstore, run, woo_order_id, outcome, message="", **values) -> SyncLogEntry:
    entry = SyncLogEntry(
        run_id=run.id,
        webstore_id=webstore.id,
        woo_order_id=woo_order_id,
        woo_order_number=values.pop("woo_order_number", str(woo_order_id)),
        outcome=outcome,
        message=message,
        **values,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def make_sales_order(webstore, woo_order_id, number="SO00042", **values) -> SalesOrder:
    """A sales order and its link, as an import leaves them."""
    customer = Customer(number=f"C{woo_order_id}", name="Ada Lovelace")
    order = SalesOrder(
        number=number,
        webstore_id=webstore.id,
        customer=customer,
        order_date=date(2025, 3, 1),
        ordered_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        currency="EUR",
        external_document_no=values.pop("external_document_no", str(woo_order_id)),
        woo_order_id=woo_order_id,
        sell_to_name="Ada Lovelace",
        amount_including_tax=Decimal("10.00"),
        **values,
    )
    db.session.add_all([customer, order])
    db.session.flush()
    db.session.add(
        OrderLink(
            webstore_id=webstore.id,
            woo_order_id=woo_order_id,
            woo_order_number=str(woo_order_id),
            sales_order_id=order.id,
        )
    )
    db.session.commit()
    return order


def queued_writeback(order, **values) -> StoreWriteback:
    """The store update that posting the order queued, as the setup makes it by default."""
    update = StoreWriteback(
        sales_order_id=order.id,
        webstore_id=order.webstore_id,
        woo_order_id=order.woo_order_id,
        event="post",
        status_to="completed",
        note=f"Sales order {order.number} is posted.",
        **values,
    )
    db.session.add(update)
    db.session.commit()
    return update


@pytest.fixture
def writing_webstore(demo_webstore):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    return demo_webstore


# The page


def test_the_trace_of_an_order_failed_retried_imported_skipped_posted_changed_and_refunded(
    writing_webstore, store, staff_user, signed_in_viewer
):
    webstore = writing_webstore
    webstore.auto_create_items = False
    db.session.commit()
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    woo_id = created["id"]
    sku = created["line_items"][0]["sku"]
    # Fails: its item is missing and the setup may not create it.
    failed = run_import(webstore, order_id=woo_id)
    webstore.auto_create_items = True
    db.session.commit()
    # The retry imports it.
    retry = retry_failed(failed, staff_user)
    work_queued_jobs()
    order = sales_order_for(webstore, woo_id)
    # Met again unchanged; posted (the store hears back) and met again; then changed in
    # the store and met again.
    again = run_import(webstore, order_id=woo_id)
    perform(order, ACTIONS["post"])
    work_queued_jobs()
    posted = run_import(webstore, order_id=woo_id)
    store.modify_order(woo_id, customer_note="Leave at the door")
    changed = run_import(webstore, order_id=woo_id)
    # Refunded in the store: Import Webstore Refunds credits it.
    store.modify_order(woo_id, refund={"amount": "2.00", "reason": "Chipped"})
    refunds = execute_run(
        create_run(
            webstore,
            refund_filters(webstore, order_ids=(woo_id,)),
            Trigger.MANUAL,
            kind=RunKind.REFUNDS,
        ).id
    )
    [memo] = db.session.scalars(sa.select(SalesCreditMemo))
    runs = (failed, retry, again, posted, changed, refunds)
    assert [e.outcome for r in runs for e in entries(r)] == [
        Outcome.FAILED,
        Outcome.IMPORTED,
        Outcome.SKIPPED,
        Outcome.SKIPPED,
        Outcome.CHANGED,
        Outcome.IMPORTED,
    ]

    response = signed_in_viewer.get(trace_url(webstore, woo_id))

    assert response.status_code == 200
    number = order.number
    found = without_time(events(response.text))
    assert [kind for kind, _ in found] == [
        "run",
        "run",
        "sales_order",
        "run",
        "posted_invoice",
        "writeback",
        "writeback_sent",
        "run",
        "run",
        "run",
        "credit_memo",
    ]
    assert found[0][1].startswith(f"Run {failed.id} failed Manual import SKU {sku} (")
    assert "'Create missing items' is off in the setup of DEMO" in found[0][1]
    assert found[1][1].startswith(
        f"Run {retry.id} imported Retry of the failed orders of run {failed.id} by staff-user "
        f"Imported as {number}"
    )
    assert found[2][1] == (
        f"Sales order {number} created Now posted, "
        f"{order.amount_including_tax:,.2f} {order.currency}; changed in the store since, "
        "not yet reviewed"
    )
    assert found[3][1].startswith(
        f"Run {again.id} skipped Manual import already imported as {number}"
    )
    [invoice] = db.session.scalars(sa.select(PostedSalesInvoice))
    assert found[4][1] == (
        f"Posted Sales Invoice {invoice.number} made Sales order {number} posted: "
        f"{order.amount_including_tax:,.2f} {order.currency}, VAT {order.tax_amount:,.2f} "
        f"{order.currency}"
    )
    assert f'<a href="/posted-invoices/{invoice.id}">{invoice.number}</a>' in response.text
    # What the store update sets; its one try says how it went.
    assert found[5][1] == (
        f"Store update on posting queued Sets the store order to completed; note “Sales order "
        f"{number} is posted.” (to the customer)"
    )
    assert found[6][1] == "Store update on posting sent try 1 Store order set to completed"
    assert found[7][1].startswith(
        f"Run {posted.id} skipped Manual import posted: {number} is posted"
    )
    assert found[8][1].startswith(
        f"Run {changed.id} changed Manual import Changed since imported as {number}: "
        "customer note → 'Leave at the door'"
    )
    assert found[9][1] == (
        f"Run {refunds.id} imported Manual import (refunds) refund {memo.woo_refund_id} of 2.00 "
        f"{order.currency} credited as {memo.number} (Chipped) Sales order {number}"
    )
    assert found[10][1].startswith(
        f"Credit memo {memo.number} created For store refund {memo.woo_refund_id} of 2.00 "
        f"{order.currency}, refunded "
    )
    assert found[10][1].endswith("now open Reason: Chipped")
    assert f'<a href="/credit-memos/{memo.id}">{memo.number}</a>' in response.text
    # The change warning is not reviewed yet: it is shown as the order's page shows it.
    assert "Changed in the store since import" in response.text
    assert "customer note → &#39;Leave at the door&#39;" in response.text
    assert f'<a href="/orders/{order.id}">{number}</a>' in response.text
    assert f'href="/imports/runs/{failed.id}"' in response.text


# What was done with the order since: write-back tries, reviews, updates, the cancellation


def posted_after_a_store_change(webstore, store, **change) -> SalesOrder:
    """An imported order changed in the store, unseen by any run, then posted: its store
    update has been tried once."""
    order = imported_order(webstore, store)
    store.modify_order(order.woo_order_id, **change)
    perform(order, ACTIONS["post"])
    work_queued_jobs()
    db.session.refresh(order)
    return order


def order_events_of(order) -> list[OrderEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OrderEvent)
            .where(OrderEvent.sales_order_id == order.id)
            .order_by(OrderEvent.id)
        )
    )


def shown_at(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def send_when_due(update: StoreWriteback) -> None:
    """The write-back is due now: the scheduler's minute job queues it, a worker sends it."""
    update.next_attempt_at = utcnow()
    db.session.commit()
    writeback.enqueue_due()
    work_queued_jobs()


def test_a_refused_write_back_is_a_try_of_its_own_and_its_reason_is_said_once(
    writing_webstore, store, signed_in_viewer
):
    order = posted_after_a_store_change(writing_webstore, store, status="on-hold")
    [update] = db.session.scalars(sa.select(StoreWriteback))
    assert update.state == WritebackState.FAILED

    html = signed_in_viewer.get(trace_url(writing_webstore, order.woo_order_id)).text

    found = without_time(events(html))
    assert [kind for kind, _ in found] == [
        "run",
        "sales_order",
        "posted_invoice",
        "writeback",
        "writeback_refused",
    ]
    assert found[3][1] == (
        f"Store update on posting queued Sets the store order to completed; note “Sales order "
        f"{order.number} is posted.” (to the customer)"
    )
    assert found[4][1] == (
        f"Store update on posting refused try 1 The store's order {order.external_document_no} "
        "differs from what was imported: status processing → on-hold. Nothing was written to "
        f"the store. Review the change on sales order {order.number}, then send again."
    )
    assert html_module.unescape(html).count(update.reason) == 1


def test_a_store_order_cancelled_before_posting_never_reads_as_completed(
    writing_webstore, store, signed_in_viewer
):
    order = posted_after_a_store_change(writing_webstore, store, status="cancelled")

    html = signed_in_viewer.get(trace_url(writing_webstore, order.woo_order_id)).text

    found = without_time(events(html))
    assert [kind for kind, _ in found] == [
        "run",
        "sales_order",
        "posted_invoice",
        "writeback",
        "writeback_refused",
    ]
    assert found[4][1] == (
        f"Store update on posting refused try 1 The store's order {order.external_document_no} "
        "is cancelled: it is never set to completed. Nothing was written to the store."
    )
    assert " sent " not in f" {as_read(html)} "


def test_a_refusal_its_review_tries_while_the_store_is_down_and_the_sending_in_time_order(
    writing_webstore, store, staff_user, signed_in_viewer
):
    # Put on hold in the store after import: posting's store update is refused, and warns.
    order = posted_after_a_store_change(writing_webstore, store, status="on-hold")
    number, woo_id = order.number, order.woo_order_id
    warning = order.change_warning
    # A person reviews the change and sends the update again: the store is down for
    # writes, so it is put off twice; then the store answers and it is sent.
    mark_reviewed(order, staff_user.id)
    [update] = db.session.scalars(sa.select(StoreWriteback))
    store.set_faults(write_fail_rate=1)
    writeback.send_again(update, staff_user.id)
    send_when_due(update)
    send_when_due(update)
    store.set_faults(write_fail_rate=0)
    send_when_due(update)
    refused, reviewed, asked, down, down_again, sent = order_events_of(order)
    assert [e.kind for e in (refused, reviewed, asked, down, down_again, sent)] == [
        EventKind.WRITEBACK_REFUSED,
        EventKind.REVIEWED,
        EventKind.WRITEBACK_REQUEUED,
        EventKind.WRITEBACK_STORE_DOWN,
        EventKind.WRITEBACK_STORE_DOWN,
        EventKind.WRITEBACK_SENT,
    ]

    html = signed_in_viewer.get(trace_url(writing_webstore, woo_id)).text

    shown = in_time_order(html)
    found = without_time(shown)
    assert [kind for kind, _ in found] == [
        "run",
        "sales_order",
        "posted_invoice",
        "writeback",
        "writeback_refused",
        "reviewed",
        "writeback_requeued",
        "writeback_store_down",
        "writeback_store_down",
        "writeback_sent",
    ]
    assert found[1][1] == (
        f"Sales order {number} created Now posted, "
        f"{order.amount_including_tax:,.2f} {order.currency}"
    )
    # The write-back's row says what it sets; how it went is its tries' to tell.
    assert found[3][1] == (
        f"Store update on posting queued Sets the store order to completed; note “Sales order "
        f"{number} is posted.” (to the customer)"
    )
    assert found[4][1] == (
        f"Store update on posting refused try 1 The store's order {order.external_document_no} "
        "differs from what was imported: status processing → on-hold. Nothing was written to "
        f"the store. Review the change on sales order {number}, then send again."
    )
    # Who reviewed it and when, and the warning they reviewed.
    assert warning.startswith("Changed in the store after import (")
    assert "status processing → on-hold." in warning
    assert (reviewed.message, reviewed.user_id) == (warning, staff_user.id)
    assert shown[5][1] == f"{shown_at(reviewed.created_at)} Change reviewed by staff-user {warning}"
    assert found[6][1] == (
        "Store update asked for again by staff-user Asked to send the store update again"
    )
    for try_number, put_off, (_, text) in ((2, down, found[7]), (3, down_again, found[8])):
        assert re.fullmatch(
            r"The store did not answer: .+\. Tried again at \d\d:\d\d UTC\.", put_off.message
        )
        assert text == f"Store update on posting put off try {try_number} {put_off.message}"
    assert found[9][1] == "Store update on posting sent try 4 Store order set to completed"
    assert "Changed in the store since import" not in html  # the warning was reviewed


def test_an_update_from_the_store_and_the_cancellation_say_who_made_them(
    demo_webstore, store, staff_user, signed_in_viewer
):
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    woo_id = created["id"]
    imported = run_import(demo_webstore, order_id=woo_id)
    order = sales_order_for(demo_webstore, woo_id)
    number = order.number
    # The quantity changes in the store: a run sees it, and a person updates the order.
    changed = store.modify_order(woo_id, quantities={created["line_items"][0]["id"]: 3})
    seen = run_import(demo_webstore, order_id=woo_id)
    update_from_store(order, staff_user.id)
    # Then the store cancels it: a run sees it, and a person cancels the sales order with it.
    store.modify_order(woo_id, status="cancelled")
    cancellation_seen = run_import(demo_webstore, order_id=woo_id)
    update_from_store(order, staff_user.id)
    updated, cancelled = order_events_of(order)
    assert (updated.kind, cancelled.kind) == (EventKind.UPDATED, EventKind.CANCELLED)
    assert updated.user_id == cancelled.user_id == staff_user.id

    html = signed_in_viewer.get(trace_url(demo_webstore, woo_id)).text

    shown = in_time_order(html)
    found = without_time(shown)
    assert [kind for kind, _ in found] == [
        "run",
        "sales_order",
        "run",
        "updated",
        "run",
        "cancelled",
    ]
    assert [text.split()[:3] for _, text in (found[0], found[2], found[4])] == [
        ["Run", str(run.id), outcome]
        for run, outcome in (
            (imported, "imported"),
            (seen, "changed"),
            (cancellation_seen, "changed"),
        )
    ]
    assert found[1][1] == (
        f"Sales order {number} created Now cancelled, {Decimal(changed['total']):,.2f} "
        f"{changed['currency']}"
    )
    assert updated.message.startswith(
        f"{number} updated from the store: total {changed['total']} {changed['currency']}, "
        "1 item line(s)"
    )
    assert shown[3][1] == (
        f"{shown_at(updated.created_at)} Updated from the store by staff-user {updated.message}"
    )
    assert shown[5][1] == (
        f"{shown_at(cancelled.created_at)} Sales order cancelled by staff-user {number} "
        f"cancelled: webstore order {woo_id} was cancelled in the store"
    )


def test_a_store_change_the_webstore_applies_at_once_is_an_update_by_the_connector(
    demo_webstore, store, signed_in_viewer
):
    demo_webstore.apply_store_changes = True
    db.session.commit()
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, customer_note="Ring twice")
    seen = run_import(demo_webstore, order_id=order.woo_order_id)
    [updated] = order_events_of(order)

    html = signed_in_viewer.get(trace_url(demo_webstore, order.woo_order_id)).text

    found = without_time(events(html))
    assert [kind for kind, _ in found] == ["run", "sales_order", "run", "updated"]
    assert found[2][1].startswith(f"Run {seen.id} changed ")
    assert updated.user_id is None
    assert found[3][1] == f"Updated from the store by the connector {updated.message}"


def test_a_write_back_asked_for_again_says_on_its_row_that_it_waits(
    writing_webstore, store, signed_in_viewer
):
    order = posted_after_a_store_change(writing_webstore, store, status="on-hold")
    [update] = db.session.scalars(sa.select(StoreWriteback))
    writeback.send_again(update)  # not sent yet: no try tells it

    html = signed_in_viewer.get(trace_url(writing_webstore, order.woo_order_id)).text

    found = without_time(events(html))
    assert [kind for kind, _ in found][3:] == [
        "writeback",
        "writeback_refused",
        "writeback_requeued",
    ]
    assert found[5][1] == (
        "Store update asked for again by the connector Asked to send the store update again"
    )
    assert found[3][1] == (
        f"Store update on posting queued Sets the store order to completed; note “Sales order "
        f"{order.number} is posted.” (to the customer) Now pending"
    )


def test_a_write_back_sent_before_tries_were_recorded_says_how_it_went(signed_in_viewer, webstore):
    order = make_sales_order(webstore, 64)
    sent_at = datetime(2026, 1, 5, 10, 0, 7, tzinfo=UTC)
    queued_writeback(order, state=WritebackState.SENT, attempts=2, sent_at=sent_at)

    html = signed_in_viewer.get(trace_url(webstore, 64)).text

    assert without_time(events(html))[1] == (
        "writeback",
        "Store update on posting queued Sets the store order to completed; note “Sales order "
        "SO00042 is posted.” (to the customer) sent 2026-01-05 10:00:07 2 tries",
    )


def test_what_a_reviewer_saw_is_escaped(signed_in_viewer, webstore, staff_user):
    order = make_sales_order(webstore, 65)
    record(order.id, EventKind.REVIEWED, f"customer note → '{SCRIPT}'", user_id=staff_user.id)
    db.session.commit()

    html = signed_in_viewer.get(trace_url(webstore, 65)).text

    assert without_time(events(html))[1] == (
        "reviewed",
        f"Change reviewed by staff-user customer note → '{SCRIPT}'",
    )
    assert "<script>window" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html


def test_an_order_the_connector_never_met_is_said_so(signed_in_viewer, webstore):
    response = signed_in_viewer.get(trace_url(webstore, 424242))

    assert response.status_code == 200
    assert (
        "The connector never met webstore order 424242 of MAIN: no run listed it, and no "
        "sales order was made from it." in " ".join(response.text.split())
    )
    assert events(response.text) == []


def test_another_webstores_entries_are_not_this_ones(signed_in_viewer, webstore, demo_webstore):
    run = logged_run(demo_webstore, failed=1)  # DEMO's order 5000 failed

    html = signed_in_viewer.get(trace_url(webstore, 5000)).text

    assert "The connector never met webstore order 5000 of MAIN" in html
    assert len(events(signed_in_viewer.get(trace_url(demo_webstore, 5000)).text)) == 1
    assert run.id


@pytest.mark.parametrize(
    "path",
    [
        "/orders/trace/NOPE/1042",
        "/orders/trace/%00/1042",
        "/orders/trace/" + "X" * 21 + "/1042",
        "/orders/trace/MAIN/0",
        "/orders/trace/MAIN/²",
        "/orders/trace/MAIN/99999999999999999999",
    ],
)
def test_an_unknown_webstore_or_a_bad_order_id_is_404(signed_in_viewer, webstore, path):
    assert signed_in_viewer.get(path).status_code == 404


def test_the_webstore_code_is_read_in_any_case(signed_in_viewer, webstore):
    run = logged_run(webstore, failed=1)

    html = signed_in_viewer.get("/orders/trace/main/5000").text

    assert [kind for kind, _ in events(html)] == ["run"]
    assert run.id


def test_the_signed_out_are_sent_to_sign_in(client, webstore):
    logged_run(webstore, failed=1)

    signed_out = client.get(trace_url(webstore, 5000))

    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]


def test_newest_first_turns_the_events_round(signed_in_viewer, webstore):
    first = logged_run(webstore, failed=1)
    second = logged_run(webstore, failed=1)

    oldest = events(signed_in_viewer.get(trace_url(webstore, 5000)).text)
    newest_page = signed_in_viewer.get(trace_url(webstore, 5000, order="newest")).text

    assert [text.split()[2:4] for _, text in oldest] == [
        ["Run", str(first.id)],
        ["Run", str(second.id)],
    ]
    assert events(newest_page) == list(reversed(oldest))
    assert "What happened, newest first" in newest_page
    assert f'href="{trace_url(webstore, 5000)}">Oldest first</a>' in newest_page


def test_a_sales_order_follows_the_entry_that_imported_it(app, webstore):
    run = create_run(webstore, merge_filters(webstore), Trigger.MANUAL)
    moment = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    # Written a moment before the entry that says it was imported, in one transaction.
    make_sales_order(webstore, 77, created_at=moment - timedelta(milliseconds=3))
    log_entry(webstore, run, 77, Outcome.FAILED, "failed first", created_at=moment - timedelta(1))
    log_entry(
        webstore,
        run,
        77,
        Outcome.IMPORTED,
        "Imported as SO00042",
        sales_order_number="SO00042",
        created_at=moment,
    )
    log_entry(
        webstore,
        run,
        77,
        Outcome.SKIPPED,
        "already imported as SO00042",
        created_at=moment + timedelta(seconds=1),
    )

    found = trace.load_trace(webstore, 77).events

    assert [(e.kind, getattr(e.subject, "outcome", None)) for e in found] == [
        ("run", Outcome.FAILED),
        ("run", Outcome.IMPORTED),
        ("sales_order", None),
        ("run", Outcome.SKIPPED),
    ]
    assert found[2].at == moment - timedelta(milliseconds=3)  # shown at its own time


def test_a_sales_order_since_deleted_is_named_without_a_link(signed_in_viewer, webstore):
    run = logged_run(webstore)
    log_entry(
        webstore,
        run,
        88,
        Outcome.IMPORTED,
        "Imported as SO00007",
        sales_order_number="SO00007",
    )

    html = signed_in_viewer.get(trace_url(webstore, 88)).text

    [(_, text)] = events(html)
    assert text.endswith("Sales order SO00007 (deleted since)")
    assert "None" in html  # the summary: no sales order now


def test_what_the_store_and_the_log_said_is_escaped(signed_in_viewer, webstore):
    run = logged_run(webstore)
    log_entry(webstore, run, 99, Outcome.FAILED, SCRIPT, woo_order_number=SCRIPT[:40])

    html = signed_in_viewer.get(trace_url(webstore, 99)).text

    assert "<script>window" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html


def test_only_the_latest_entries_of_a_long_history_are_shown(
    signed_in_viewer, webstore, monkeypatch
):
    monkeypatch.setattr(trace, "MAX_ENTRIES", 3)
    runs = [logged_run(webstore, failed=1) for _ in range(5)]

    html = signed_in_viewer.get(trace_url(webstore, 5000)).text

    assert [text.split()[3] for _, text in events(html)] == [str(r.id) for r in runs[2:]]
    assert "More than 3 times by import runs: the latest 3 are shown (3 failed)" in html


# Credit memos, and other sources of events


def test_each_source_of_events_is_one_function_in_the_list(signed_in_viewer, webstore, monkeypatch):
    run = logged_run(webstore, failed=1)
    later = run.created_at + timedelta(days=1)

    def notes(found):
        return [trace.Event(later, "note", None, {"text": f"A note on order {found.woo_order_id}"})]

    monkeypatch.setattr(trace, "EVENT_SOURCES", [*trace.EVENT_SOURCES, notes])
    html = signed_in_viewer.get(trace_url(webstore, 5000)).text

    assert [kind for kind, _ in events(html)] == ["run", "note"]
    assert events(html)[1][1].endswith("note A note on order 5000")
    assert trace.credit_memo_events in trace.EVENT_SOURCES


def test_credit_memos_are_events_of_their_sales_order(signed_in_viewer, webstore):
    order = make_sales_order(webstore, 62)
    run = logged_run(webstore)
    log_entry(
        webstore, run, 62, Outcome.IMPORTED, "Imported as SO00042", sales_order_number="SO00042"
    )
    memo = SalesCreditMemo(
        number="CM00001",
        webstore_id=webstore.id,
        sales_order_id=order.id,
        woo_order_id=62,
        woo_refund_id=501,
        memo_date=date(2026, 1, 6),
        refunded_at=datetime(2026, 1, 6, 8, 0, tzinfo=UTC),
        reason="Chipped <mug>",
        currency="EUR",
        amount_including_tax=Decimal("4.20"),
        created_at=order.created_at + timedelta(days=1),
    )
    db.session.add(memo)
    db.session.commit()

    html = signed_in_viewer.get(trace_url(webstore, 62)).text

    found = without_time(events(html))
    assert [kind for kind, _ in found] == ["run", "sales_order", "credit_memo"]
    assert found[2][1].startswith(
        "Credit memo CM00001 created For store refund 501 of 4.20 EUR, refunded 2026-01-06 08:00; "
        "now open"
    )
    assert "Reason: Chipped <mug>" in found[2][1]
    assert "Chipped &lt;mug&gt;" in html


# Few queries, on indexes


def statements_of(call):
    statements = []

    def record(connection, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return result, statements


def fresh(webstore):
    """The webstore as a request finds it: nothing else of the test's in the session."""
    webstore_id = webstore.id
    db.session.expunge_all()
    return db.session.get(type(webstore), webstore_id)


def test_a_whole_trace_takes_seven_queries_however_many_runs_met_the_order(
    app, webstore, staff_user, viewer_user
):
    order = make_sales_order(webstore, 63)
    for _ in range(30):
        run = logged_run(webstore)
        log_entry(webstore, run, 63, Outcome.SKIPPED, "already imported as SO00042")
    update = queued_writeback(order)
    for user in (staff_user, viewer_user):
        record(order.id, EventKind.REVIEWED, "Changed in the store", user_id=user.id)
    record(order.id, EventKind.WRITEBACK_SENT, "Store order set", writeback_id=update.id)
    db.session.commit()
    store = fresh(webstore)

    found, statements = statements_of(lambda: trace.load_trace(store, 63))

    assert len(found.entries) == 30 and len(found.events) == 35
    assert [e.subject.user.username for e in found.events if e.kind == "reviewed"] == [
        "staff-user",
        "viewer-user",
    ]
    # The link and sales order; the log with runs and who started them; write-backs; the
    # order events with who did them; memos; the posted invoice and the posted memos, with
    # who posted them. Nothing more per event.
    _, more = statements_of(lambda: [e.subject.user for e in found.events if e.kind == "reviewed"])
    assert len(statements) == 7 and more == []


def test_an_order_never_imported_takes_two_queries(app, webstore):
    logged_run(webstore, failed=1)
    store = fresh(webstore)

    found, statements = statements_of(lambda: trace.load_trace(store, 5000))

    assert len(found.entries) == 1 and found.sales_order is None
    assert len(statements) == 2  # the link (none), the log


def test_the_page_asks_three_queries_of_its_own_for_ten_runs(signed_in_viewer, webstore):
    for _ in range(10):
        logged_run(webstore, failed=1)
    url = trace_url(webstore, 5000)

    response, statements = statements_of(lambda: signed_in_viewer.get(url))

    assert len(events(response.text)) == 10
    read = [re.search(r"FROM (\w+)", s)[1] for s in statements]
    signed_in = [t for t in read if t in ("users", "user_sessions")]
    # The webstore by its code; the link and sales order (none); the log with each entry's
    # run and who started it. Nothing more per run.
    assert read == signed_in + ["webstores", "order_links", "sync_log_entries"]


def log_plans(call, table: str = "sync_log_entries") -> list[str]:
    """PostgreSQL's plans of the statements ``call`` sends that read the log (or ``table``),
    when it may not read a table in full: an index that serves a statement is used, and a
    statement that none serves still reads the whole table."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    captured = []

    def record(connection, cursor, statement, parameters, *args):
        if f"FROM {table}" in statement:
            captured.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    plans = []
    with db.engine.connect() as connection:
        connection.execute(sa.text("SET enable_seqscan = off"))
        for statement, parameters in captured:
            explained = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plans.append("\n".join(explained.scalars()))
    return plans


def test_the_log_is_read_by_its_webstore_and_order_index(app, webstore):
    logged_run(webstore, failed=1)

    [plan] = log_plans(lambda: trace.load_trace(webstore, 5000))

    assert "Index Scan using ix_sync_log_entries_webstore_order" in plan, plan
    assert "Seq Scan on sync_log_entries" not in plan, plan


def test_the_order_events_are_read_by_their_sales_order_index(app, webstore):
    order = make_sales_order(webstore, 66)
    record(order.id, EventKind.REVIEWED, "Changed in the store")
    db.session.commit()

    [plan] = log_plans(lambda: trace.load_trace(webstore, 66), table="order_events")

    # Its index (a plain or bitmap scan of it), and who did each by the users' key.
    assert re.search(r"Index Scan (using|on) ix_order_events_sales_order_id_id\b", plan), plan
    assert "Seq Scan" not in plan, plan


# The ways to it: the header's search, the orders list, the order page, a run's log


def test_the_header_search_offers_the_trace_of_an_order_found_by_its_store_number(
    signed_in_viewer, webstore
):
    order = make_sales_order(webstore, 1042, external_document_no="1042")

    typeahead = signed_in_viewer.get("/search?q=1042", headers={"HX-Request": "true"}).text
    by_name = signed_in_viewer.get("/search?q=ada", headers={"HX-Request": "true"}).text

    assert f'href="/orders/{order.id}"' in typeahead
    assert f'<a class="search-trace" href="{trace_url(webstore, 1042)}"' in typeahead
    assert ">Trace</a>" in typeahead
    assert f'href="/orders/{order.id}"' in by_name and "search-trace" not in by_name


def test_a_store_number_met_without_a_sales_order_is_offered_as_a_trace(signed_in_viewer, webstore):
    run = logged_run(webstore, failed=1)

    typeahead = signed_in_viewer.get("/search?q=5000", headers={"HX-Request": "true"}).text
    plain = signed_in_viewer.get("/search?q=5000")

    assert 'id="suggest-traces"' in typeahead
    assert f'<a href="{trace_url(webstore, 5000)}">Trace of' in typeahead
    text = as_read(typeahead)
    assert "Trace of MAIN 5000 no sales order · latest failed" in text
    assert "Order 5000 failed: fix the item, retry." in text
    assert "1 webstore order in the import log" in text
    # Asked plainly (Enter in the box), the one store order's trace opens.
    assert plain.status_code == 302 and plain.headers["Location"] == trace_url(webstore, 5000)
    assert run.id


def test_store_orders_of_one_id_in_two_webstores_are_both_offered(
    signed_in_viewer, webstore, demo_webstore
):
    logged_run(webstore, failed=1)
    logged_run(demo_webstore, failed=1)

    page = signed_in_viewer.get("/search?q=5000")

    assert page.status_code == 200
    assert f'href="{trace_url(demo_webstore, 5000)}"' in page.text
    assert f'href="{trace_url(webstore, 5000)}"' in page.text
    assert 'id="found-traces"' in page.text


def test_a_number_no_run_met_is_said_so_in_the_search(signed_in_viewer, webstore):
    logged_run(webstore, failed=1)

    for term in ("987654", "98"):
        html = signed_in_viewer.get(f"/search?q={term}", headers={"HX-Request": "true"}).text
        assert f"No import run has met a webstore order with the ID {term}." in html
    assert "No import run" not in signed_in_viewer.get("/search?q=zebra").text


def test_an_order_found_as_a_sales_order_is_not_offered_twice(signed_in_viewer, webstore):
    run = logged_run(webstore)
    log_entry(webstore, run, 1042, Outcome.IMPORTED, "Imported as SO00042")
    make_sales_order(webstore, 1042)

    typeahead = signed_in_viewer.get("/search?q=1042", headers={"HX-Request": "true"}).text

    assert "suggest-traces" not in typeahead
    assert typeahead.count(f'href="{trace_url(webstore, 1042)}"') == 1


def test_a_renumbered_store_order_is_offered_by_its_id_with_its_sales_order(
    signed_in_viewer, webstore
):
    run = logged_run(webstore)
    log_entry(
        webstore,
        run,
        1042,
        Outcome.IMPORTED,
        "Imported as SO00042",
        woo_order_number="WC-77",
    )
    make_sales_order(webstore, 1042, external_document_no="WC-77")

    typeahead = signed_in_viewer.get("/search?q=1042", headers={"HX-Request": "true"}).text

    text = as_read(typeahead)
    assert "Trace of MAIN WC-77 sales order SO00042" in text


def test_the_trace_search_costs_one_query_and_none_for_words(app, webstore):
    logged_run(webstore, failed=1)

    found, statements = statements_of(lambda: search.find_traces("5000"))
    words, none = statements_of(lambda: search.find_traces("holger"))

    assert [hit.entry.woo_order_id for hit in found] == [5000] and len(statements) == 1
    assert words == [] and none == []


def test_the_trace_search_reads_the_log_by_its_webstore_and_order_index(app, webstore):
    logged_run(webstore, failed=1)

    [plan] = log_plans(lambda: search.find_traces("5000"))

    # One probe of the index for each webstore.
    assert "Index Scan using ix_sync_log_entries_webstore_order" in plan, plan
    condition = re.search(r"Index Cond: \(\(webstore_id = ANY .*\) AND \(woo_order_id = ", plan)
    assert condition, plan
    assert "Seq Scan on sync_log_entries" not in plan, plan


def test_the_orders_list_links_each_store_number_to_its_trace(signed_in_viewer, webstore):
    make_sales_order(webstore, 1042)

    html = signed_in_viewer.get("/").text
    empty = signed_in_viewer.get("/?q=5000").text

    assert f'<a href="{trace_url(webstore, 1042)}" title="Trace' in html
    assert '<a href="/search?q=5000">Look for webstore order 5000 in the import log</a>' in empty


def test_the_order_page_links_its_trace(signed_in_viewer, webstore):
    order = make_sales_order(webstore, 1042)

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert f'<a href="{trace_url(webstore, 1042)}">Trace</a>' in html


def test_a_runs_log_links_each_store_order_to_its_trace(signed_in_viewer, webstore):
    run = logged_run(webstore, failed=2)

    html = signed_in_viewer.get(f"/imports/runs/{run.id}").text

    for woo_id in (5000, 5001):
        link = f'<a href="{trace_url(webstore, woo_id)}" title="Trace of this webstore order">'
        assert f"{link}{woo_id}</a>" in html
