"""The VAT report and the posted documents as a running server sends them, on SQLite and on
PostgreSQL: orders and a memo posted through the pages, then the report's CSV downloaded."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from portal import db
from portal.models import Role, User, Webstore
from tests.conftest import QUICK_HASH
from tests.posting_helpers import Line, booked_order, credit_memo, vat_codes
from tests.served import Visitor, database_of_kind, serving


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    return database_of_kind(request.param, tmp_path_factory.mktemp("served"))


@pytest.fixture
def served(database):
    """Staff signed in to the portal served over HTTP on ``database``, with a webstore."""
    with serving(database, COMPANY_CURRENCY="EUR") as (app, url):
        db.session.add(User(username="staff", role=Role.STAFF, password_hash=QUICK_HASH))
        webstore = Webstore(
            code="MAIN", name="Main", base_url="http://127.0.0.1:9", consumer_key="ck_main"
        )
        webstore.consumer_secret = "cs_main"
        db.session.add(webstore)
        db.session.commit()
        vat_codes()
        visitor = Visitor(url)
        visitor.sign_in("staff")
        yield visitor, webstore


def test_the_vat_report_csv_downloads_what_was_posted_through_the_pages(served):
    visitor, webstore = served
    in_eur = booked_order(
        webstore,
        [Line("100.00", {"DE19": "19.00"}), Line("10.00", {"CA-GST": "0.50", "CA-PST": "0.70"})],
        order_date=date(2026, 3, 2),
    )
    in_usd = booked_order(
        webstore,
        [Line("200.00", {"DE19": "38.00"})],
        order_date=date(2026, 3, 3),
        currency="USD",
        exchange_rate=Decimal("0.9"),
        company="EUR",
    )
    memo = credit_memo(in_eur, [Line("50.00", {"DE19": "9.50"})], memo_date=date(2026, 3, 4))
    for order in (in_eur, in_usd):
        posted = visitor.post(f"/orders/{order.id}/post")
        assert posted.status_code == 303, posted.text[:300]
    assert visitor.post(f"/credit-memos/{memo.id}/post").status_code == 303

    response = visitor.get("/vat-report.csv?month=2026-03")

    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="vat-report-2026-03-01-2026-03-31.csv"'
        in (response.headers["Content-Disposition"])
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["in"], r["currency"], r["vat_code"], r["base"], r["vat"]) for r in rows] == [
        ("company currency", "EUR", "CA-GST", "10.00", "0.50"),
        ("company currency", "EUR", "CA-PST", "10.00", "0.70"),
        # 100 − 50 + 200 × 0.9; 19 − 9.50 + 38 × 0.9.
        ("company currency", "EUR", "DE19", "230.00", "43.70"),
        ("document currency", "EUR", "CA-GST", "10.00", "0.50"),
        ("document currency", "EUR", "CA-PST", "10.00", "0.70"),
        ("document currency", "EUR", "DE19", "50.00", "9.50"),
        ("document currency", "USD", "DE19", "200.00", "38.00"),
    ]
    page = visitor.get("/vat-report?month=2026-03")
    assert page.status_code == 200 and "43.70" in page.text
    listed = visitor.get("/posted-invoices").text
    assert "PSI00001" in listed and "PSI00002" in listed
    assert "PCM00001" in visitor.get("/posted-credit-memos").text
