"""The CSV downloads as a running server sends them, on SQLite and on PostgreSQL: every row,
in order, read in chunks after the view has returned."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import csv_export, db
from portal.models import (
    CreditMemoStatus,
    Customer,
    Outcome,
    Role,
    SalesCreditMemo,
    SalesOrder,
    SyncLogEntry,
    SyncRun,
    Trigger,
    User,
    Webstore,
)
from tests.conftest import QUICK_HASH
from tests.served import Visitor, database_of_kind, serving

LOGGED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    return database_of_kind(request.param, tmp_path_factory.mktemp("served"))


@pytest.fixture
def served(database):
    """A viewer signed in to the portal served over HTTP on ``database``."""
    with serving(database) as (app, url):
        db.session.add(User(username="viewer", role=Role.VIEWER, password_hash=QUICK_HASH))
        db.session.commit()
        visitor = Visitor(url)
        visitor.sign_in("viewer")
        yield visitor


def make_webstore() -> Webstore:
    webstore = Webstore(
        code="MAIN", name="Main", base_url="http://127.0.0.1:9", consumer_key="ck_main"
    )
    webstore.consumer_secret = "cs_main"
    db.session.add(webstore)
    db.session.commit()
    return webstore


def log_run(entries: int) -> SyncRun:
    """A finished run with ``entries`` log entries: order i failed, saying so with accents."""
    webstore = make_webstore()
    run = SyncRun(webstore=webstore, trigger=Trigger.MANUAL)
    db.session.add(run)
    db.session.commit()
    db.session.execute(
        sa.insert(SyncLogEntry),
        [
            {
                "run_id": run.id,
                "webstore_id": webstore.id,
                "woo_order_id": order,
                "woo_order_number": str(order),
                "outcome": Outcome.FAILED,
                "message": f"=order {order}: Zoë has no customer",
                "created_at": LOGGED_AT,
            }
            for order in range(1, entries + 1)
        ],
    )
    db.session.commit()
    return run


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_runs_log_downloads_with_every_entry_in_order(served):
    run = log_run(2_500)

    rows = read_csv(served.get(f"/imports/runs/{run.id}/entries.csv"))

    assert len(rows) == 2_500
    assert [row["webstore_order_id"] for row in rows] == [str(n) for n in range(1, 2_501)]
    assert rows[-1] == {
        "entry": rows[-1]["entry"],
        "webstore_order_id": "2500",
        "webstore_order_number": "2500",
        "outcome": "failed",
        "message": "'=order 2500: Zoë has no customer",
        "sales_order": "",
        "customers_created": "",
        "items_created": "",
        "logged_at": "2026-03-01T09:30:00+00:00",
    }


def test_the_log_is_read_a_chunk_at_a_time(served, monkeypatch):
    monkeypatch.setattr(csv_export, "ROWS_PER_QUERY", 100)
    run = log_run(250)
    selects = []

    def count_log_reads(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "FROM sync_log_entries" in statement:
            selects.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count_log_reads)
    try:
        rows = read_csv(served.get(f"/imports/runs/{run.id}/entries.csv"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count_log_reads)

    assert len(rows) == 250
    assert len(selects) == 3


def make_memos(count: int) -> None:
    webstore = make_webstore()
    customer = Customer(number="CUST-1", name="Noé Pastor")
    order = SalesOrder(
        number="SO00001",
        webstore=webstore,
        customer=customer,
        order_date=date(2026, 3, 1),
        ordered_at=LOGGED_AT,
        currency="EUR",
        external_document_no="#600",
        woo_order_id=600,
    )
    db.session.add(order)
    for n in range(1, count + 1):
        db.session.add(
            SalesCreditMemo(
                number=f"CM{n:05}",
                webstore=webstore,
                sales_order=order,
                woo_order_id=600,
                woo_refund_id=7000 + n,
                status=CreditMemoStatus.OPEN,
                memo_date=date(2026, 3, 2),
                refunded_at=LOGGED_AT,
                reason="@damaged",
                currency="EUR",
                amount=Decimal("10.00"),
                tax_amount=Decimal("1.90"),
                amount_including_tax=Decimal("11.90"),
            )
        )
    db.session.commit()


def test_the_credit_memos_download_with_every_memo(served):
    make_memos(3)

    rows = read_csv(served.get("/credit-memos/export.csv"))

    assert [row["credit_memo"] for row in rows] == ["CM00003", "CM00002", "CM00001"]
    assert rows[0] == {
        "credit_memo": "CM00003",
        "status": "open",
        "date": "2026-03-02",
        "sales_order": "SO00001",
        "webstore_order": "#600",
        "refund_id": "7003",
        "customer": "Noé Pastor",
        "reason": "'@damaged",
        "currency": "EUR",
        "amount": "10.00",
        "tax_amount": "1.90",
        "amount_including_tax": "11.90",
    }


def test_the_credit_memos_download_keeps_the_lists_filters(served):
    make_memos(2)
    db.session.execute(
        sa.update(SalesCreditMemo)
        .where(SalesCreditMemo.number == "CM00001")
        .values(status=CreditMemoStatus.POSTED)
    )
    db.session.commit()

    rows = read_csv(served.get("/credit-memos/export.csv?status=posted"))

    assert [(row["credit_memo"], row["status"]) for row in rows] == [("CM00001", "posted")]
