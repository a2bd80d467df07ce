"""Refunds become sales credit memos: once each, to the cent, with their own start date."""

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    CreditMemoLineType,
    CreditMemoStatus,
    Outcome,
    RunKind,
    RunStatus,
    SalesCreditMemo,
    SyncRun,
    Trigger,
)
from portal.orders.actions import ACTIONS, perform
from portal.sync.filters import ImportFilters
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import follow_with_refunds, refund_filters
from tests.sync_helpers import count, entries, imported_order, run_import


def import_refunds(webstore, **given):
    run = create_run(
        webstore, refund_filters(webstore, **given), Trigger.MANUAL, kind=RunKind.REFUNDS
    )
    return execute_run(run.id)


def memos() -> list[SalesCreditMemo]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SalesCreditMemo).order_by(SalesCreditMemo.id)))


def test_a_refund_by_amount_becomes_one_memo_to_the_cent(demo_webstore, store):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "7.35", "reason": "Scratched"})

    run = import_refunds(demo_webstore, order_ids=(order.woo_order_id,))

    [memo] = memos()
    assert (run.kind, run.status, run.imported) == (RunKind.REFUNDS, RunStatus.SUCCEEDED, 1)
    assert memo.number == "CM00001" and memo.status == CreditMemoStatus.OPEN
    assert memo.sales_order_id == order.id and memo.reason == "Scratched"
    assert memo.amount_including_tax == Decimal("7.35")
    # The store's next order is Japanese, untaxed: its one VAT group is NOVAT (an order of
    # several groups is split over them: tests/test_refund_vat.py).
    [line] = memo.lines
    assert line.line_type == CreditMemoLineType.AMOUNT
    assert (line.amount, line.tax_amount, line.vat_code) == (
        Decimal("7.35"),
        Decimal("0.00"),
        "NOVAT",
    )
    assert line.item.sku == "REFUND"
    [entry] = entries(run)
    assert entry.outcome == Outcome.IMPORTED
    assert (
        entry.message
        == f"refund {memo.woo_refund_id} of 7.35 {order.currency} credited as CM00001 (Scratched)"
    )


def test_a_refund_met_twice_makes_one_memo(demo_webstore, store):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "5.00", "reason": ""})

    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))
    again = import_refunds(demo_webstore, order_ids=(order.woo_order_id,))

    assert len(memos()) == 1
    [entry] = entries(again)
    assert (entry.outcome, entry.message) == (
        Outcome.SKIPPED,
        f"refund {memos()[0].woo_refund_id}: credited already as CM00001",
    )


def test_a_refund_of_an_order_never_imported_is_skipped_saying_why(demo_webstore, store):
    created = store.create_order(status="processing")
    store.modify_order(created["id"], refund={"amount": "3.00", "reason": ""})

    run = import_refunds(demo_webstore, order_ids=(created["id"],))

    [entry] = entries(run)
    assert entry.outcome == Outcome.SKIPPED
    assert f"order {created['number']} was never imported" in entry.message
    assert f"Order ID {created['id']}" in entry.message
    assert memos() == []


def test_a_refund_of_a_posted_order_still_becomes_a_memo(demo_webstore, store):
    order = imported_order(demo_webstore, store)
    perform(order, ACTIONS["post"])
    store.modify_order(order.woo_order_id, refund={"amount": "2.50", "reason": ""})

    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))

    assert [m.amount_including_tax for m in memos()] == [Decimal("2.50")]


def test_the_refunds_start_date_is_independent_of_the_orders(demo_webstore, store):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "4.00", "reason": ""})
    # The orders' start date says nothing of refunds: a refunds start date after today
    # leaves today's refund alone, an earlier one credits it.
    demo_webstore.order_start_date = date.today() + timedelta(days=30)
    demo_webstore.refunds_start_date = date.today() + timedelta(days=2)
    db.session.commit()

    later = import_refunds(demo_webstore)
    assert memos() == [] and later.status == RunStatus.SUCCEEDED

    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    import_refunds(demo_webstore)
    assert len(memos()) == 1
    # The orders' watermark is untouched, the refunds' advanced.
    db.session.refresh(demo_webstore)
    assert demo_webstore.watermark is None and demo_webstore.refunds_watermark is not None


def test_an_order_imported_after_its_refund_was_met_is_still_credited(demo_webstore, store):
    created = store.create_order(status="processing")
    store.modify_order(created["id"], refund={"amount": "6.00", "reason": ""})
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    first = import_refunds(demo_webstore)
    assert memos() == [] and first.skipped == 1

    run_import(demo_webstore, order_id=created["id"])  # imported now, its refund known
    import_refunds(demo_webstore)  # the watermark is past the refund: found by what is owed

    assert [m.woo_order_id for m in memos()] == [created["id"]]


def test_an_automatic_sync_is_followed_by_its_refunds(demo_webstore, store):
    from portal.sync.schedule import incremental_filters

    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "1.25", "reason": ""})
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    orders_run = execute_run(
        create_run(demo_webstore, incremental_filters(demo_webstore), Trigger.AUTOMATIC).id
    )

    refunds_run = follow_with_refunds(orders_run)

    assert refunds_run.kind == RunKind.REFUNDS and refunds_run.trigger == Trigger.AUTOMATIC
    assert [m.amount_including_tax for m in memos()] == [Decimal("1.25")]


def test_the_pages_list_show_post_and_export_memos(signed_in_staff, demo_webstore, store):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "7.35", "reason": "Zoë's =refund"})
    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))
    [memo] = memos()

    listing = signed_in_staff.get(f"/credit-memos?q={order.number}").text
    page = signed_in_staff.get(f"/credit-memos/{memo.id}").text
    order_page = signed_in_staff.get(f"/orders/{order.id}").text
    posted = signed_in_staff.post(f"/credit-memos/{memo.id}/post", follow_redirects=True).text
    export = signed_in_staff.get("/credit-memos/export.csv?status=posted")

    assert f'<a href="/credit-memos/{memo.id}">CM00001</a>' in listing
    assert "Total including tax" in page and "7.35" in page
    assert f'href="/credit-memos/{memo.id}"' in order_page
    assert "Credit memo CM00001 posted." in posted
    assert memos()[0].status == CreditMemoStatus.POSTED
    body = export.data.decode("utf-8-sig")
    assert "CM00001,posted," in body and "'=refund" not in body.split("Zoë's ")[0]
    assert "Zoë's =refund" in body and ",7.35" in body
    assert signed_in_staff.get("/credit-memos?status=open").text.count("CM00001") == 0


def test_posting_a_memo_asks_first_in_a_dialog_or_on_a_page_of_its_own(
    signed_in_staff, demo_webstore, store
):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "7.35", "reason": "Scratched"})
    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))
    [memo] = memos()

    page = signed_in_staff.get(f"/credit-memos/{memo.id}").text
    confirm = signed_in_staff.get(f"/credit-memos/{memo.id}/post")
    post_form = f'<form method="post" action="/credit-memos/{memo.id}/post">'

    # The page's button opens its <dialog> (app.js), or without JavaScript the page below.
    assert f'action="/credit-memos/{memo.id}/post" data-dialog="confirm-post"' in page
    assert 'data-confirm="' not in page
    assert '<dialog id="confirm-post" aria-labelledby="confirm-post-title">' in page
    assert post_form in page
    assert confirm.status_code == 200
    assert '<h2 id="confirm-title">Post credit memo CM00001?</h2>' in confirm.text
    assert (
        post_form in confirm.text and f'href="/credit-memos/{memo.id}">Cancel</a>' in confirm.text
    )
    assert memos()[0].status == CreditMemoStatus.OPEN  # asking posts nothing
    signed_in_staff.post(f"/credit-memos/{memo.id}/post")
    again = signed_in_staff.get(f"/credit-memos/{memo.id}/post", follow_redirects=True).text
    assert "Credit memo CM00001 is posted already." in again
    assert 'data-dialog="confirm-post"' not in again


def test_viewers_read_memos_but_cannot_post_or_import(signed_in_viewer, demo_webstore, store):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "1.00", "reason": ""})
    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))
    [memo] = memos()

    assert signed_in_viewer.get(f"/credit-memos/{memo.id}").status_code == 200
    assert signed_in_viewer.post(f"/credit-memos/{memo.id}/post").status_code == 403
    assert signed_in_viewer.get(f"/credit-memos/{memo.id}/post").status_code == 403
    assert signed_in_viewer.get("/imports/refunds").status_code == 403
    assert count(SalesCreditMemo, SalesCreditMemo.status == CreditMemoStatus.OPEN) == 1


def test_import_webstore_refunds_form_starts_a_refunds_run(signed_in_staff, demo_webstore, store):
    order = imported_order(demo_webstore, store)

    response = signed_in_staff.post(
        "/imports/refunds", {"webstore": "DEMO", "order_id": str(order.woo_order_id)}
    )

    assert response.status_code == 303
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    from portal.models import SyncRun

    run = db.session.get(SyncRun, run_id)
    assert run.kind == RunKind.REFUNDS and run.filters["order_ids"] == [order.woo_order_id]


def webhook_run(webstore, order_id):
    """The run a webhook delivery of ``order_id`` queues, executed as its job executes it."""
    filters = ImportFilters(order_ids=(order_id,), sources={"order_ids": "webhook"})
    return execute_run(create_run(webstore, filters, Trigger.WEBHOOK).id)


def test_a_webhook_run_credits_its_orders_new_refunds_in_the_same_run_once(demo_webstore, store):
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "2.00", "reason": ""})
    store.modify_order(order.woo_order_id, refund={"amount": "1.00", "reason": ""})
    import_refunds(demo_webstore, order_ids=(order.woo_order_id,))  # a run met them first
    # A third refund, then its webhook: the order owes a credit again.
    store.modify_order(order.woo_order_id, refund={"amount": "0.50", "reason": ""})

    run = webhook_run(demo_webstore, order.woo_order_id)

    refund = {m.number: m.woo_refund_id for m in memos()}
    assert (run.kind, run.trigger) == (RunKind.ORDERS, Trigger.WEBHOOK)
    assert follow_with_refunds(run) is None and count(SyncRun) == 3  # no run of its own
    # The order's outcome, then each refund's, newest first as the store lists them: the
    # new one credited, the two credited before skipped; one memo a refund.
    assert [(e.outcome, e.message) for e in entries(run)][1:] == [
        (
            Outcome.IMPORTED,
            f"refund {refund['CM00003']} of 0.50 {order.currency} credited as CM00003",
        ),
        (Outcome.SKIPPED, f"refund {refund['CM00001']}: credited already as CM00001"),
        (Outcome.SKIPPED, f"refund {refund['CM00002']}: credited already as CM00002"),
    ]
    assert len(memos()) == 3 and memos()[-1].sync_run_id == run.id
    assert (run.fetched, run.settled) == (1, len(entries(run)))


def test_a_webhook_run_of_a_new_order_imports_it_then_credits_its_refund(demo_webstore, store):
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    created = store.create_order(status="processing")
    store.modify_order(created["id"], refund={"amount": "3.00", "reason": "Late"})

    run = webhook_run(demo_webstore, created["id"])

    [memo] = memos()
    sales_order = memo.sales_order
    assert [(e.outcome, e.message, e.sales_order_number) for e in entries(run)] == [
        (Outcome.IMPORTED, f"Imported as {sales_order.number}", sales_order.number),
        (
            Outcome.IMPORTED,
            f"refund {memo.woo_refund_id} of 3.00 {sales_order.currency} credited as "
            "CM00001 (Late)",
            sales_order.number,
        ),
    ]
    assert (run.status, run.fetched, run.imported, run.skipped, run.failed) == (
        RunStatus.SUCCEEDED,
        1,
        2,
        0,
        0,
    )


def test_a_webhook_run_of_an_order_that_fails_credits_nothing(demo_webstore, store):
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    demo_webstore.auto_create_items = False  # the order fails to import
    db.session.commit()
    created = store.create_order(status="processing")
    store.modify_order(created["id"], refund={"amount": "3.00", "reason": ""})

    run = webhook_run(demo_webstore, created["id"])

    assert [e.outcome for e in entries(run)] == [Outcome.FAILED]
    assert memos() == [] and count(SyncRun) == 1


def test_without_a_refunds_start_date_a_webhook_run_reads_no_refunds(demo_webstore, store):
    order = imported_order(demo_webstore, store)
    store.modify_order(order.woo_order_id, refund={"amount": "3.00", "reason": ""})

    run = webhook_run(demo_webstore, order.woo_order_id)

    assert [e.woo_order_id for e in entries(run)] == [order.woo_order_id]
    assert memos() == []


def test_without_a_refunds_start_date_no_refunds_run_follows(demo_webstore, store):
    from portal.sync.schedule import incremental_filters

    orders_run = execute_run(
        create_run(demo_webstore, incremental_filters(demo_webstore), Trigger.AUTOMATIC).id
    )

    assert follow_with_refunds(orders_run) is None


def test_the_setup_resets_the_refunds_watermark_apart_from_the_orders(
    signed_in_admin, demo_webstore
):
    from datetime import UTC, datetime

    from tests.test_setup_webstores import webstore_form

    moment = datetime(2026, 11, 1, tzinfo=UTC)
    demo_webstore.watermark = demo_webstore.refunds_watermark = moment
    demo_webstore.order_start_date = date(2026, 1, 1)
    db.session.commit()
    form = webstore_form(
        code="DEMO",
        base_url=demo_webstore.base_url,  # the stored secret goes to its own store only
        consumer_secret="",
        order_start_date="2026-01-01",
        refunds_start_date="2026-10-01",
        shipping_charge_item_no=demo_webstore.shipping_charge_item.number,
    )

    signed_in_admin.post(f"/setup/webstores/{demo_webstore.id}", form)

    db.session.expire_all()
    assert demo_webstore.refunds_start_date == date(2026, 10, 1)
    assert demo_webstore.refunds_watermark is None and demo_webstore.watermark == moment


# Each kind of refund, to the cent


def lines_of(memo) -> list[tuple]:
    return [
        (line.line_type, line.quantity.normalize(), line.amount, line.tax_amount, line.restocked)
        for line in memo.lines
    ]


def test_a_refund_by_lines_with_restock_credits_each_line_on_its_item(demo_webstore, store):
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 3}])
    run_import(demo_webstore, order_id=created["id"])
    line = created["line_items"][0]
    refund = store.refund_order(created["id"], lines={line["id"]: 2}, restock=True, reason="Broken")

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    [credited] = memo.lines
    sales_line = next(ln for ln in memo.sales_order.lines if ln.woo_line_id == line["id"])
    assert credited.line_type == CreditMemoLineType.ITEM and credited.item_id == sales_line.item_id
    assert credited.quantity == 2 and credited.restocked is True
    assert memo.amount_including_tax == Decimal(refund["amount"])
    assert credited.amount + credited.tax_amount == memo.amount_including_tax
    assert memo.reason == "Broken"


def test_a_refund_by_lines_without_restock_says_not_restocked(demo_webstore, store):
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 2}])
    run_import(demo_webstore, order_id=created["id"])
    line = created["line_items"][0]
    store.refund_order(created["id"], lines={line["id"]: 1}, restock=False)

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert [ln.restocked for ln in memo.lines] == [False]


def test_a_full_refund_with_shipping_and_tax_adds_up_to_the_refund(demo_webstore, store):
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    run_import(demo_webstore, order_id=created["id"])
    refunded = {line["id"]: line["quantity"] for line in created["line_items"]}
    refunded.update({line["id"]: 1 for line in created["shipping_lines"]})
    refund = store.refund_order(created["id"], lines=refunded)

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    kinds = [ln.line_type for ln in memo.lines]
    assert CreditMemoLineType.ITEM in kinds
    if created["shipping_lines"]:
        assert CreditMemoLineType.SHIPPING in kinds
    assert memo.amount_including_tax == Decimal(refund["amount"]) == Decimal(created["total"])
    assert memo.amount + memo.tax_amount == memo.amount_including_tax
    assert memo.tax_amount == sum((ln.tax_amount for ln in memo.lines), Decimal("0"))


def test_a_refunds_run_lists_the_refunds_of_several_orders_at_once(demo_webstore, store):
    orders = [imported_order(demo_webstore, store) for _ in range(4)]
    for order in orders:
        store.modify_order(order.woo_order_id, refund={"amount": "1.00", "reason": ""})
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    # Slow enough that the store serves the requests it is sent together at once.
    store.set_faults(latency_ms=150)
    store.reset_stats()

    run = import_refunds(demo_webstore)

    assert (run.status, run.imported) == (RunStatus.SUCCEEDED, 4)
    assert sorted(m.woo_order_id for m in memos()) == sorted(o.woo_order_id for o in orders)
    stats = store.stats()
    # One listing page and one refunds list an order, two at a time (IMPORT_CONCURRENCY).
    assert stats["requests"] == 5 and stats["max_in_flight"] == 2
