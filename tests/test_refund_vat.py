"""Refunds reverse VAT: a refunded line on its sales line's VAT codes, and a refund by amount
split over the order's VAT codes by the rule of ``portal.sync.vat``, to the cent."""

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portal import db
from portal.models import (
    CreditMemoLineType,
    CurrencyExchangeRate,
    Outcome,
    VatCode,
    WebstoreTaxMapping,
)
from portal.sync.credit import credit_memo_for
from portal.sync.vat import SummaryRow, VatPart, parts_from_json, summary
from portal.woo import parse_order, parse_refund
from tests.sync_helpers import entries, run_import, sales_order_for
from tests.test_credit_memos import import_refunds, memos
from tests.test_sandbox_store import get

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"
ACCOUNTING = CAPTURES / "accounting"

MUG, PENCILS = 11, 101  # Classic Mug, 12.50 and taxable; Señorita Pencil Set, 18.50, not


def german_order(webstore, store):
    """A German order, imported: two mugs at 19 % (25.00, VAT 4.75), pencils not taxed
    (18.50) and flat rate shipping at 19 % (5.00, VAT 0.95). 54.20 with VAT 5.70. The DEMO
    webstore books MwSt (rate 2) on DE19 and untaxed lines on NOVAT (``portal.setup.demo``)."""
    body = {
        "line_items": [{"product_id": MUG, "quantity": 2}, {"product_id": PENCILS}],
        "billing": {"country": "DE", "first_name": "Vera", "email": "vera@example.com"},
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate"}],
        "status": "processing",
        "set_paid": True,
    }
    created = get(store, "/orders", "POST", json=body).json()
    run_import(webstore, order_id=created["id"])
    order = sales_order_for(webstore, created["id"])
    assert (order.amount_including_tax, order.tax_amount) == (Decimal("54.20"), Decimal("5.70"))
    return order, created


def memo_lines(memo) -> list[tuple]:
    return [(line.line_type, line.vat_code, line.amount, line.tax_amount) for line in memo.lines]


def vat_summary(document) -> list[SummaryRow]:
    return summary(parts_from_json(line.vat_parts) for line in document.lines)


def test_a_full_refund_by_amount_reverses_exactly_the_orders_vat(demo_webstore, store):
    order, created = german_order(demo_webstore, store)
    store.refund_order(created["id"], amount="54.20", reason="Returned")

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    amount = CreditMemoLineType.AMOUNT
    assert memo_lines(memo) == [
        (amount, "DE19", Decimal("30.00"), Decimal("5.70")),
        (amount, "NOVAT", Decimal("18.50"), Decimal("0.00")),
    ]
    assert all(line.item.sku == "REFUND" for line in memo.lines)
    assert (memo.amount, memo.tax_amount, memo.amount_including_tax) == (
        order.amount,
        order.tax_amount,
        Decimal("54.20"),
    )
    assert vat_summary(memo) == vat_summary(order)


def test_a_partial_refund_by_amount_is_split_in_proportion_to_the_cent(demo_webstore, store):
    _, created = german_order(demo_webstore, store)
    store.refund_order(created["id"], amount="20.00")

    import_refunds(demo_webstore, order_ids=(created["id"],))

    # 20.00 of 54.20: DE19 net 30.00 → 11.0701, VAT 5.70 → 2.1033, NOVAT net 18.50 → 6.8266.
    # Rounded down 19.99; the cent left goes to the largest remainder, NOVAT's net.
    [memo] = memos()
    amount = CreditMemoLineType.AMOUNT
    assert memo_lines(memo) == [
        (amount, "DE19", Decimal("11.07"), Decimal("2.10")),
        (amount, "NOVAT", Decimal("6.83"), Decimal("0.00")),
    ]
    assert memo.amount_including_tax == memo.amount + memo.tax_amount == Decimal("20.00")
    assert vat_summary(memo) == [
        SummaryRow("DE19", Decimal(19), Decimal("11.07"), Decimal("2.10")),
        SummaryRow("NOVAT", Decimal(0), Decimal("6.83"), Decimal("0.00")),
    ]


def test_partial_refunds_by_amount_that_come_to_the_total_reverse_exactly_its_vat(
    demo_webstore, store
):
    _, created = german_order(demo_webstore, store)
    # 54.20 in three: split each on its own, their VAT would come to 5.69.
    for amount in ("10.01", "10.01", "34.18"):
        store.refund_order(created["id"], amount=amount)
        import_refunds(demo_webstore, order_ids=(created["id"],))

    # Each split follows on from the ones before (portal/sync/vat.py), so the three
    # together give back the order's VAT to the cent.
    reversed_vat = [row for memo in memos() for row in vat_summary(memo)]
    assert sum(row.amount for row in reversed_vat if row.code == "DE19") == Decimal("5.70")
    assert sum(row.base for row in reversed_vat) == Decimal("48.50")
    assert [memo.amount_including_tax for memo in memos()] == [
        Decimal("10.01"),
        Decimal("10.01"),
        Decimal("34.18"),
    ]


def test_lines_without_a_vat_code_are_a_group_of_their_own(demo_webstore, store):
    demo_webstore.untaxed_vat_code = None  # untaxed lines carry no code
    db.session.commit()
    order, created = german_order(demo_webstore, store)
    store.refund_order(created["id"], amount="54.20")

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert [parts_from_json(line.vat_parts) for line in order.lines if not line.vat_code] == [[]]
    assert memo_lines(memo) == [
        (CreditMemoLineType.AMOUNT, "DE19", Decimal("30.00"), Decimal("5.70")),
        (CreditMemoLineType.AMOUNT, "", Decimal("18.50"), Decimal("0.00")),
    ]


def test_a_refunded_line_keeps_its_lines_vat_codes(demo_webstore, store):
    order, created = german_order(demo_webstore, store)
    mug, shipping = created["line_items"][0]["id"], created["shipping_lines"][0]["id"]
    refund = store.refund_order(created["id"], lines={mug: 1, shipping: 1})

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert Decimal(refund["amount"]) == Decimal("20.83")  # 12.50 + 2.38, 5.00 + 0.95
    assert memo_lines(memo) == [
        (CreditMemoLineType.ITEM, "DE19", Decimal("12.50"), Decimal("2.38")),
        (CreditMemoLineType.SHIPPING, "DE19", Decimal("5.00"), Decimal("0.95")),
    ]
    assert [parts_from_json(line.vat_parts) for line in memo.lines] == [
        [VatPart("DE19", 2, Decimal(19), Decimal("12.50"), Decimal("2.38"))],
        [VatPart("DE19", 2, Decimal(19), Decimal("5.00"), Decimal("0.95"))],
    ]
    assert vat_summary(memo) == [
        SummaryRow("DE19", Decimal(19), Decimal("17.50"), Decimal("3.33")),
    ]


def test_a_full_refund_by_lines_reverses_exactly_the_orders_vat(demo_webstore, store):
    order, created = german_order(demo_webstore, store)
    lines = {line["id"]: line["quantity"] for line in created["line_items"]}
    lines[created["shipping_lines"][0]["id"]] = 1
    store.refund_order(created["id"], lines=lines)

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert [line.vat_code for line in memo.lines] == ["DE19", "NOVAT", "DE19"]
    assert memo.amount_including_tax == Decimal("54.20")
    assert vat_summary(memo) == vat_summary(order)


def test_an_amount_beyond_the_refunded_lines_is_split_over_the_order(demo_webstore, store):
    _, created = german_order(demo_webstore, store)
    mug = created["line_items"][0]["id"]
    store.refund_order(created["id"], amount="19.88", lines={mug: 1})  # the mug and 5.00

    import_refunds(demo_webstore, order_ids=(created["id"],))

    # 5.00 of 54.20: 2.7675, 0.5258 and 1.7066, rounded down 4.98; a cent each to the
    # two largest remainders, DE19's net and NOVAT's.
    [memo] = memos()
    assert memo_lines(memo) == [
        (CreditMemoLineType.ITEM, "DE19", Decimal("12.50"), Decimal("2.38")),
        (CreditMemoLineType.AMOUNT, "DE19", Decimal("2.77"), Decimal("0.52")),
        (CreditMemoLineType.AMOUNT, "NOVAT", Decimal("1.71"), Decimal("0.00")),
    ]
    assert memo.amount_including_tax == Decimal("19.88")


def test_tax_refunded_at_a_rate_the_line_was_not_booked_with_fails_naming_it(demo_webstore, store):
    order, created = german_order(demo_webstore, store)
    pencils = created["line_items"][1]["id"]
    lines = [{"id": pencils, "quantity": 1, "refund_total": "18.50", "refund_tax": {"2": "1.00"}}]
    refund = store.refund_order(created["id"], lines=lines)

    run = import_refunds(demo_webstore, order_ids=(created["id"],))

    assert memos() == []
    [entry] = entries(run)
    assert entry.outcome == Outcome.FAILED
    assert entry.message == (
        f"refund {refund['id']}: it refunds 1.00 USD of tax at the store's rate 2 on "
        f"'Señorita Pencil Set', a rate its line on sales order {order.number} was not "
        "booked with: check the order in the store, update the sales order from the store "
        "(its page, Update from the store) if it changed, then import the refund again."
    )


def test_an_order_without_vat_codes_gets_one_amount_line_without_tax(demo_webstore, store):
    order, created = german_order(demo_webstore, store)
    for line in order.lines:  # imported before VAT codes
        line.vat_parts, line.vat_code = None, ""
    db.session.commit()
    store.refund_order(created["id"], amount="54.20")

    run = import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert memo_lines(memo) == [(CreditMemoLineType.AMOUNT, "", Decimal("54.20"), Decimal(0))]
    assert [entry.message for entry in entries(run)] == [
        f"refund {memo.woo_refund_id} of 54.20 USD credited as {memo.number}"
    ]


RATE = Decimal("0.92345")  # euros a dollar


def test_a_refund_in_usd_converts_at_its_orders_exchange_rate(app, demo_webstore, store):
    app.config["COMPANY_CURRENCY"] = "EUR"
    db.session.add(CurrencyExchangeRate(currency="USD", starting_date=date(2020, 1, 1), rate=RATE))
    db.session.commit()
    order, created = german_order(demo_webstore, store)
    store.refund_order(created["id"], amount="20.00")

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert order.exchange_rate == RATE
    assert (memo.currency, memo.exchange_rate) == ("USD", RATE)
    # 17.90 × 0.92345 = 16.529755, 2.10 × 0.92345 = 1.939245, 20.00 × 0.92345 = 18.469
    assert (memo.amount_lcy, memo.tax_amount_lcy, memo.amount_including_tax_lcy) == (
        Decimal("16.53"),
        Decimal("1.94"),
        Decimal("18.47"),
    )


def test_a_refund_in_the_company_currency_has_no_exchange_rate(app, demo_webstore, store):
    app.config["COMPANY_CURRENCY"] = "USD"
    _, created = german_order(demo_webstore, store)
    store.refund_order(created["id"], amount="20.00")

    import_refunds(demo_webstore, order_ids=(created["id"],))

    [memo] = memos()
    assert (memo.exchange_rate, memo.amount_lcy, memo.amount_including_tax_lcy) == (
        None,
        None,
        None,
    )


# Compound rates: order 375 of the kit's store, billed to Ottawa, taxed by GST 5 % and PST
# 7 % of the line and its GST. Two lines and the shipping: 59.04 with GST 2.64 and PST 3.86.


@pytest.fixture(scope="module")
def compound_store(tmp_path_factory):
    from sandbox.process import SandboxProcess

    capture = json.loads((ACCOUNTING / "order_375_compound.json").read_text(encoding="utf-8"))
    export = tmp_path_factory.mktemp("export") / "orders.json"
    export.write_text(json.dumps([capture["body"]]), encoding="utf-8")
    with SandboxProcess(orders_file=export) as store:
        yield store, capture["body"]


@pytest.fixture
def compound_order(app, compound_store):
    from portal.setup.demo import seed_demo_webstore

    store, data = compound_store
    webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
    webstore.default_status_filter = ""
    for rate_id, code, rate in ((5, "CA-GST", 5), (6, "CA-PST", 7)):
        vat_code = VatCode(code=code, rate=Decimal(rate))
        db.session.add(
            WebstoreTaxMapping(webstore_id=webstore.id, rate_id=rate_id, vat_code=vat_code)
        )
    db.session.commit()
    run_import(webstore, order_id=data["id"])
    order = sales_order_for(webstore, data["id"])
    return webstore, order, data


def refund_of(data: dict, amount: str, lines=()) -> object:
    """A refund of order ``data`` as the store answers it: the captured refund of one line
    (order 373), made to refund ``lines`` ((order line id, net, {rate id: tax})) instead."""
    capture = json.loads((CAPTURES / "order_refunds_line_item.json").read_text(encoding="utf-8"))
    refund = copy.deepcopy(capture["body"][0])
    template = refund["line_items"].pop()
    refund["amount"] = amount
    for line_id, net, taxes in lines:
        ordered = next(line for line in data["line_items"] if line["id"] == line_id)
        tax = sum((Decimal(t) for t in taxes.values()), Decimal(0))
        line = copy.deepcopy(template)
        line.update(
            name=ordered["name"],
            sku=ordered["sku"],
            total=f"-{net}",
            subtotal=f"-{net}",
            total_tax=f"-{tax}",
            subtotal_tax=f"-{tax}",
            taxes=[{"id": r, "total": f"-{t}", "subtotal": f"-{t}"} for r, t in taxes.items()],
        )
        line["meta_data"][0].update(value=str(line_id), display_value=str(line_id))
        refund["line_items"].append(line)
    refund["tax_lines"] = []
    return parse_refund(refund, data["id"])


def credit(webstore, order, data, refund):
    memo = credit_memo_for(webstore, order, parse_order(data), refund, None)
    db.session.add(memo)
    db.session.commit()
    return memo


def test_a_compound_taxed_line_refund_reverses_both_its_rates(compound_order):
    webstore, order, data = compound_order
    tablets = data["line_items"][0]["id"]  # 15.54: GST 0.78, PST 1.14
    refund = refund_of(data, "17.46", [(tablets, "15.54", {5: "0.78", 6: "1.14"})])

    memo = credit(webstore, order, data, refund)

    [line] = memo.lines
    assert (line.line_type, line.vat_code, line.amount, line.tax_amount) == (
        CreditMemoLineType.ITEM,
        "CA-GST",
        Decimal("15.54"),
        Decimal("1.92"),
    )
    assert parts_from_json(line.vat_parts) == [
        VatPart("CA-GST", 5, Decimal(5), Decimal("15.54"), Decimal("0.78")),
        VatPart("CA-PST", 6, Decimal(7), Decimal("15.54"), Decimal("1.14")),
    ]
    assert vat_summary(memo) == [
        SummaryRow("CA-GST", Decimal(5), Decimal("15.54"), Decimal("0.78")),
        SummaryRow("CA-PST", Decimal(7), Decimal("15.54"), Decimal("1.14")),
    ]


def test_a_full_refund_by_amount_of_a_compound_order_reverses_each_rate(compound_order):
    webstore, order, data = compound_order

    memo = credit(webstore, order, data, refund_of(data, "59.04"))

    [line] = memo.lines
    assert (line.line_type, line.amount, line.tax_amount) == (
        CreditMemoLineType.AMOUNT,
        Decimal("52.54"),
        Decimal("6.50"),
    )
    assert (
        vat_summary(memo)
        == vat_summary(order)
        == [
            SummaryRow("CA-GST", Decimal(5), Decimal("52.54"), Decimal("2.64")),
            SummaryRow("CA-PST", Decimal(7), Decimal("52.54"), Decimal("3.86")),
        ]
    )


def test_a_partial_refund_by_amount_of_a_compound_order_splits_each_rate(compound_order):
    webstore, order, data = compound_order

    memo = credit(webstore, order, data, refund_of(data, "10.00"))

    # 10.00 of 59.04: net 52.54 → 8.8991, GST 2.64 → 0.4472, PST 3.86 → 0.6538; rounded
    # down 9.98, a cent each to the two largest remainders, the net and GST.
    assert vat_summary(memo) == [
        SummaryRow("CA-GST", Decimal(5), Decimal("8.90"), Decimal("0.45")),
        SummaryRow("CA-PST", Decimal(7), Decimal("8.90"), Decimal("0.65")),
    ]
    assert memo.amount_including_tax == memo.amount + memo.tax_amount == Decimal("10.00")
