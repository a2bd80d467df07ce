"""The VAT report: per period and VAT code, posted invoices minus posted credit memos, net
and VAT, in the company's currency and per currency; a page and a CSV of the same figures."""

import csv
import io
import random
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portal import db
from portal.documents.forms import month_of, recent_months
from portal.models import (
    CreditMemoStatus,
    LineType,
    SalesOrderStatus,
    Webstore,
)
from portal.orders import actions
from portal.sync import posting
from tests.posting_helpers import RATES, Line, body_rows, booked_order, credit_memo, vat_codes

POST = actions.ACTIONS["post"]
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def post_order(order, user):
    actions.perform(order, POST, user=user)


def post_memo(memo, user):
    memo.status = CreditMemoStatus.POSTED
    posting.post_credit_memo(memo, user)
    db.session.commit()


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.fixture
def march(webstore, staff_user):
    """March's books: two invoices and a memo; and an invoice and a memo of April's."""
    vat_codes()
    first = booked_order(
        webstore,
        [
            Line("100.00", {"DE19": "19.00"}),
            Line("4.90", {"DE19": "0.93"}, LineType.SHIPPING, "Flat rate"),
            Line("20.00", {"DE7": "1.40"}),
        ],
        order_date=date(2026, 3, 2),
    )
    second = booked_order(
        webstore,
        [Line("10.00", {"CA-GST": "0.50", "CA-PST": "0.70"}), Line("3.00", {})],
        order_date=date(2026, 3, 31),
    )
    april = booked_order(webstore, [Line("50.00", {"DE19": "9.50"})], order_date=date(2026, 4, 1))
    for order in (first, second, april):
        post_order(order, staff_user)
    post_memo(
        credit_memo(first, [Line("10.00", {"DE19": "1.90"})], memo_date=date(2026, 3, 15)),
        staff_user,
    )
    post_memo(
        credit_memo(april, [Line("5.00", {"DE19": "0.95"})], memo_date=date(2026, 4, 2)), staff_user
    )
    return first, second


def test_the_report_is_posted_invoices_minus_posted_memos_per_code_in_the_period(
    signed_in_viewer, march
):
    html = signed_in_viewer.get("/vat-report", query_string=MARCH).text

    assert body_rows(html, "currency-rows-EUR") == [
        # code, rate, invoices base, VAT, memos base, VAT, base, VAT
        ["No VAT code", "", "3.00", "0.00", "0.00", "0.00", "3.00", "0.00"],
        ["CA-GST", "5 %", "10.00", "0.50", "0.00", "0.00", "10.00", "0.50"],
        ["CA-PST", "7 %", "10.00", "0.70", "0.00", "0.00", "10.00", "0.70"],
        ["DE19", "19 %", "104.90", "19.93", "-10.00", "-1.90", "94.90", "18.03"],
        ["DE7", "7 %", "20.00", "1.40", "0.00", "0.00", "20.00", "1.40"],
    ]
    assert "20.63 EUR" in html  # the period's VAT: 0.50 + 0.70 + 18.03 + 1.40
    assert 'id="report-period">From <span class="nowrap">2026-03-01</span> to' in html


def test_the_csv_has_the_pages_figures(client, signed_in_viewer, march):
    rows = read_csv(signed_in_viewer.get("/vat-report.csv", query_string=MARCH))
    again = read_csv(signed_in_viewer.get("/vat-report", query_string={**MARCH, "format": "csv"}))

    assert rows == again
    assert [
        (r["in"], r["currency"], r["vat_code"], r["vat_rate"], r["base"], r["vat"]) for r in rows
    ] == [
        ("document currency", "EUR", "", "0", "3.00", "0.00"),
        ("document currency", "EUR", "CA-GST", "5", "10.00", "0.50"),
        ("document currency", "EUR", "CA-PST", "7", "10.00", "0.70"),
        ("document currency", "EUR", "DE19", "19", "94.90", "18.03"),
        ("document currency", "EUR", "DE7", "7", "20.00", "1.40"),
    ]
    assert rows[3] == {
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "in": "document currency",
        "currency": "EUR",
        "vat_code": "DE19",
        "vat_rate": "19",
        "invoices_base": "104.90",
        "invoices_vat": "19.93",
        "credit_memos_base": "-10.00",
        "credit_memos_vat": "-1.90",
        "base": "94.90",
        "vat": "18.03",
    }


def test_without_a_company_currency_the_page_says_so_and_reports_per_currency(
    signed_in_viewer, march
):
    html = signed_in_viewer.get("/vat-report", query_string=MARCH).text

    assert 'id="no-company-currency"' in html and "COMPANY_CURRENCY" in html
    assert 'id="company-rows"' not in html


def test_in_the_company_currency_other_currencies_count_at_their_documents_rates(
    app, signed_in_viewer, webstore, staff_user
):
    app.config["COMPANY_CURRENCY"] = "EUR"
    vat_codes()
    in_eur = booked_order(
        webstore, [Line("100.00", {"DE19": "19.00"})], order_date=date(2026, 3, 5)
    )
    in_usd = booked_order(
        webstore,
        [Line("200.00", {"DE19": "38.00"})],
        order_date=date(2026, 3, 6),
        currency="USD",
        exchange_rate=Decimal("0.9"),
        company="EUR",
    )
    for order in (in_eur, in_usd):
        post_order(order, staff_user)
    post_memo(credit_memo(in_usd, [Line("20.00", {"DE19": "3.80"})], company="EUR"), staff_user)

    html = signed_in_viewer.get("/vat-report", query_string=MARCH).text
    rows = read_csv(signed_in_viewer.get("/vat-report.csv", query_string=MARCH))

    # 100 + 200 × 0.9 − 20 × 0.9; 19 + 38 × 0.9 − 3.80 × 0.9.
    assert body_rows(html, "company-rows") == [
        ["DE19", "19 %", "280.00", "53.20", "-18.00", "-3.42", "262.00", "49.78"]
    ]
    assert body_rows(html, "currency-rows-EUR") == [
        ["DE19", "19 %", "100.00", "19.00", "0.00", "0.00", "100.00", "19.00"]
    ]
    assert body_rows(html, "currency-rows-USD") == [
        ["DE19", "19 %", "200.00", "38.00", "-20.00", "-3.80", "180.00", "34.20"]
    ]
    assert [(r["in"], r["currency"], r["base"], r["vat"]) for r in rows] == [
        ("company currency", "EUR", "262.00", "49.78"),
        ("document currency", "EUR", "100.00", "19.00"),
        ("document currency", "USD", "180.00", "34.20"),
    ]


def test_a_month_preset_sets_the_period_and_nothing_given_is_this_month(signed_in_viewer, march):
    html = signed_in_viewer.get("/vat-report?month=2026-04").text
    today = datetime.now(UTC).date()
    this_month = signed_in_viewer.get("/vat-report").text

    assert body_rows(html, "currency-rows-EUR") == [
        ["DE19", "19 %", "50.00", "9.50", "-5.00", "-0.95", "45.00", "8.55"]
    ]
    assert 'value="2026-04-01"' in html and 'value="2026-04-30"' in html
    month = month_of(today)
    assert f'<span class="nowrap">{month.date_from.isoformat()}</span> to' in this_month
    assert f'<option selected value="{today:%Y-%m}">' in this_month


def test_the_report_of_one_webstore_leaves_the_others_out(signed_in_viewer, march, staff_user):
    other = Webstore(code="OTHER", name="Other", base_url="http://127.0.0.1:9", consumer_key="ck")
    other.consumer_secret = "cs_other"
    db.session.add(other)
    db.session.commit()
    post_order(
        booked_order(other, [Line("1000.00", {"DE19": "190.00"})], order_date=date(2026, 3, 9)),
        staff_user,
    )

    everything = signed_in_viewer.get("/vat-report", query_string=MARCH).text
    one = signed_in_viewer.get("/vat-report", query_string={**MARCH, "webstore": other.id}).text

    assert body_rows(one, "currency-rows-EUR") == [
        ["DE19", "19 %", "1,000.00", "190.00", "0.00", "0.00", "1,000.00", "190.00"]
    ]
    assert body_rows(everything, "currency-rows-EUR")[3][-1] == "208.03"


def test_an_empty_period_says_so(signed_in_viewer, march):
    html = signed_in_viewer.get("/vat-report?date_from=2025-01-01&date_to=2025-01-31").text

    assert 'id="report-empty"' in html


def test_presets_are_the_last_two_years_of_months_newest_first():
    months = recent_months(date(2026, 1, 15))

    assert len(months) == 24
    assert (months[0].date_from, months[0].date_to) == (date(2026, 1, 1), date(2026, 1, 31))
    assert (months[1].date_from, months[1].date_to) == (date(2025, 12, 1), date(2025, 12, 31))
    assert months[-1].date_from == date(2024, 2, 1)
    assert month_of(date(2028, 2, 10)).date_to == date(2028, 2, 29)


# A generated book with compound codes, its lines written as an import writes them


def generated_books(webstore, user, orders: int, seed: int = 24):
    """``orders`` orders over two months, each of one to four lines at random VAT codes (a
    compound pair among them), a tenth refunded in part; all posted, a hundred orders a
    transaction. Returns what their own lines say per code: the VAT of the orders, less
    that of the refunds."""
    rng = random.Random(seed)
    codes = ["DE19", "DE7", "NL21", ("CA-GST", "CA-PST")]
    expected = defaultdict(Decimal)
    for n in range(orders):
        lines = []
        for _ in range(rng.randint(1, 4)):
            net = Decimal(rng.randint(100, 50_000)) / 100
            chosen = rng.choice(codes)
            chosen = chosen if isinstance(chosen, tuple) else (chosen,)
            vat = {c: str((net * RATES[c] / 100).quantize(Decimal("0.01"))) for c in chosen}
            lines.append(Line(str(net), vat))
        day = date(2026, 3, 1 + n % 31) if n % 2 else date(2026, 4, 1 + n % 30)
        order = booked_order(webstore, lines, order_date=day, commit=False)
        order.status = SalesOrderStatus.POSTED
        posting.post_sales_invoice(order, user)
        for line in lines:
            for code, vat in line.vat.items():
                expected[code] += Decimal(vat)
        if n % 10 == 3:
            refunded = lines[0]
            half = {
                c: str((Decimal(v) / 2).quantize(Decimal("0.01"))) for c, v in refunded.vat.items()
            }
            memo = credit_memo(
                order, [Line(str(refunded.net / 2), half)], memo_date=day, commit=False
            )
            posting.post_credit_memo(memo, user)
            for code, vat in half.items():
                expected[code] -= Decimal(vat)
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
    return expected


def test_on_a_generated_book_with_compound_codes_the_report_is_its_vat_less_refunds_per_code(
    signed_in_viewer, webstore, staff_user
):
    vat_codes()
    expected = generated_books(webstore, staff_user, 500)

    rows = read_csv(
        signed_in_viewer.get(
            "/vat-report.csv", query_string={"date_from": "2026-03-01", "date_to": "2026-04-30"}
        )
    )

    assert {r["vat_code"]: Decimal(r["vat"]) for r in rows} == dict(expected)
