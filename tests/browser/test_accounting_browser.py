"""Accounting setup in a real browser: staff add a VAT code through its form, find it by the
list's search as they type, and import exchange rates from a CSV file, a bad file first."""

import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import db
from portal.models import CurrencyExchangeRate, VatCode
from tests.conftest import screenshot, sign_in_browser


def csv_file(text: str, name: str = "rates.csv") -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def test_staff_add_a_vat_code_and_import_exchange_rates_from_csv(app, page, staff_user):
    app.config["COMPANY_CURRENCY"] = "EUR"
    sign_in_browser(page, staff_user.username)

    # A VAT code, through its form.
    page.goto("/accounting/vat-codes")
    expect(page.locator("#records-table")).to_contain_text("No VAT codes yet")
    page.get_by_role("button", name="New VAT code").click()
    page.get_by_label("Code").fill(" de19 ")
    page.get_by_label("Rate %").fill("19")
    page.get_by_label("Description").fill("Umsatzsteuer 19 %")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("VAT code DE19 saved.")).to_be_visible()
    rows = page.locator("#records-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td")).to_have_text(["DE19", "19", "Umsatzsteuer 19 %"])
    screenshot(page, "accounting-vat-codes")
    vat = db.session.scalar(sa.select(VatCode))
    assert (vat.code, vat.rate) == ("DE19", Decimal(19))

    # The search answers as one types (htmx), and says when nothing matches.
    page.get_by_role("button", name="New VAT code").click()
    page.get_by_label("Code").fill("FR20")
    page.get_by_label("Rate %").fill("20")
    page.get_by_role("button", name="Save").click()
    expect(rows).to_have_count(2)
    page.wait_for_load_state("load")
    page.get_by_label("Search", exact=True).press_sequentially("fr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("FR20")
    expect(page).to_have_url(re.compile(r"/accounting/vat-codes\?q=fr$"))

    # Exchange rates: the company's currency named, a bad file refused row by row.
    page.get_by_role("link", name="Currency Exchange Rates").click()
    expect(page.locator("#company-currency")).to_contain_text("The company's currency is EUR.")
    bad = "currency,starting_date,rate\nUSD,2026-03-01,0.9214\nGBP,2026-03-01,1,17\n"
    bad += "EUR,2026-03-01,1\n"
    page.get_by_label("CSV file", exact=True).set_input_files(csv_file(bad))
    page.get_by_role("button", name="Import").click()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("Nothing was imported: 2 rows are not right.")
    expect(problems.locator("li")).to_have_count(2)
    expect(problems.locator("li").first).to_contain_text("Row 3: It has 4 values")
    expect(problems.locator("li").last).to_contain_text("Row 4: EUR is the company's currency")
    screenshot(page, "accounting-rates-refused")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CurrencyExchangeRate)) == 0

    # The file put right imports every row.
    good = "currency,starting_date,rate\nUSD,2026-03-01,0.9214\nGBP,2026-03-01,1.17\n"
    good += "USD,2026-02-01,0.93\n"
    page.get_by_label("CSV file", exact=True).set_input_files(csv_file(good))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported rates.csv: 3 rates added, 0 changed")).to_be_visible()
    rates = page.locator("#rates-table tbody tr")
    expect(rates).to_have_count(3)
    expect(rates.first).to_contain_text("1 USD = 0.9214 EUR")

    # Filtered by currency, in place. The import's page shows its message before its
    # deferred htmx binds the filter: a change before then goes unheard.
    page.wait_for_load_state()
    page.get_by_label("Currency").select_option("USD")
    expect(rates).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/accounting/exchange-rates\?currency=USD$"))
    expect(rates.locator("td:nth-child(2)")).to_have_text(["2026-03-01", "2026-02-01"])
    screenshot(page, "accounting-rates-imported")
    db.session.expire_all()
    stored = db.session.execute(
        sa.select(CurrencyExchangeRate.currency, CurrencyExchangeRate.starting_date).order_by(
            CurrencyExchangeRate.currency, CurrencyExchangeRate.starting_date
        )
    ).all()
    assert stored == [
        ("GBP", date(2026, 3, 1)),
        ("USD", date(2026, 2, 1)),
        ("USD", date(2026, 3, 1)),
    ]
