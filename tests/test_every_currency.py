"""Every currency to its last unit: stores in yen (0 decimals) and dinar (3 decimals).

The orders and refunds are those of two real WooCommerce 10.0.2 stores made with the kit
(tests/fixtures/woo-captures/jpy and kwd, see their README): prices with and without tax,
rounding at subtotal, coupons, fees, refunds. Every amount the connector keeps must be the
store's exactly: no rounding to cents, one rounding rule (PHP's round()) where it rounds.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Item, SalesOrder, Webstore
from portal.sync import changes
from portal.sync.credit import credit_memo_for
from portal.sync.customers import CustomerBook
from portal.sync.failures import OrderFailure
from portal.sync.items import ItemBook
from portal.sync.money import (
    amount_text,
    decimals_for,
    kept_exactly,
    round_to_unit,
    unit_of,
    unit_price,
)
from portal.sync.plan import plan_order
from portal.sync.states import OrderState
from portal.sync.store_settings import keep_store_settings
from portal.woo.client import StoreMoney, WooClient, store_money_of
from portal.woo.orders import parse_order, parse_refund
from tests.sync_helpers import run_import, sales_order_for
from tests.test_plan import setup

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"
STORES = {"jpy": ("JPY", 0), "kwd": ("KWD", 3)}


def captured_orders(store: str) -> list[dict]:
    capture = json.loads((CAPTURES / store / "orders_per_page100_page1.json").read_text())
    return capture["body"]


def captured_refunds(store: str) -> dict[int, list[dict]]:
    refunds = {}
    for path in sorted((CAPTURES / store).glob("order_*_refunds.json")):
        refunds[int(path.name.split("_")[1])] = json.loads(path.read_text())["body"]
    return refunds


def store_vat(order) -> Decimal:
    """An order's VAT: its tax lines, which may differ from its ``total_tax`` by a unit a
    rate (the rate's taxes added unrounded); without tax lines, its ``total_tax``."""
    if not order.tax_lines:
        return order.total_tax
    return sum((t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0))


def setup_of(currency: str, decimals: int):
    """A webstore's setup as a run reads it (writer.WebstoreSetup), in this store's money."""
    return setup(currency=currency, price_decimals=decimals)


# The rules


def test_rounding_is_phps_half_away_from_zero_in_the_currencys_unit():
    assert round_to_unit(Decimal("2.0045"), unit_of(3)) == Decimal("2.005")
    assert round_to_unit(Decimal("2.005"), unit_of(2)) == Decimal("2.01")
    assert round_to_unit(Decimal("-0.5"), unit_of(0)) == Decimal("-1")
    assert round_to_unit(Decimal("462.962963"), unit_of(0)) == Decimal("463")


def test_an_order_in_the_stores_currency_has_the_stores_decimals_else_its_own_by_iso():
    assert decimals_for("KWD", "KWD", 3) == 3
    assert decimals_for("JPY", "JPY", 2) == 2  # a yen store that keeps cents says so
    assert decimals_for("JPY", "EUR", 2) == 0
    assert decimals_for("BHD", None, None) == 3
    assert decimals_for("USD", None, None) == 2


def test_unit_prices_multiply_back_to_their_line():
    assert unit_price(Decimal("5940"), Decimal(3), 0) == Decimal("1980")
    assert unit_price(Decimal("5939"), Decimal(3), 0) == Decimal("1979.667")
    assert unit_price(Decimal("10855"), Decimal(3), 2) == Decimal("3618.33333")
    assert unit_price(Decimal("12.345"), Decimal(3), 3) == Decimal("4.115")
    assert unit_price(Decimal("12.346"), Decimal(3), 3) == Decimal("4.115333")


def test_a_value_the_erp_cannot_keep_exactly_fails_naming_it():
    with pytest.raises(OrderFailure, match=r"Line 'Tea': its amount is 43\.24651, with more"):
        kept_exactly(Decimal("43.24651"), "Line 'Tea': its amount")
    assert kept_exactly(Decimal("43.2465"), "kept") == Decimal("43.2465")


def test_amounts_read_in_their_currencys_decimals():
    assert amount_text(Decimal("15258.0000"), 0, "JPY") == "15,258 JPY"
    assert amount_text(Decimal("43.2460"), 3, "KWD") == "43.246 KWD"
    assert amount_text(Decimal("1979.667000"), 0) == "1,979.667"
    assert amount_text(Decimal("12.5"), 2, "USD") == "12.50 USD"


# Every captured order, planned


@pytest.mark.parametrize("store", STORES)
def test_every_real_order_plans_to_the_stores_amounts_exactly(store):
    currency, decimals = STORES[store]
    setup = setup_of(currency, decimals)
    unit = unit_of(decimals)
    orders = captured_orders(store)
    for data in orders:
        order = parse_order(data)
        plan = plan_order(order, setup, CustomerBook(setup), ItemBook(setup), {}, {})
        values = [line.values for line in plan.lines]
        assert plan.decimals == decimals
        assert sum(v["amount"] + v["tax_amount"] for v in values) == order.total, order.id
        assert sum(v["tax_amount"] for v in values) == store_vat(order), order.id
        rounded = any(note.startswith("the store rounded") for note in plan.notes)
        for line, value in zip(order.line_items, values, strict=False):
            # A price with tax rounded at subtotal may put one unit onto a net amount: the
            # log entry says so (the README's rule).
            assert abs(value["amount"] - line.total) <= (unit if rounded else 0), order.id
            price = value["unit_price"]
            assert round_to_unit(price * line.quantity, unit) == line.subtotal, order.id
            assert -price.as_tuple().exponent <= decimals + 3
    assert len(orders) in (40, 60)


# Imported over HTTP, kept exactly


@pytest.fixture(scope="module")
def local_stores(tmp_path_factory):
    """The captured orders of each store, served over HTTP as the store exported them; one
    dinar order carries a VAT number as the EU VAT plugins keep it."""
    from sandbox.process import SandboxProcess

    stores = {}
    with_vat = captured_orders("kwd")
    with_vat[0]["meta_data"] = [
        {"id": 901, "key": "_billing_vat_number", "value": "KW 1234567"},
        {"id": 902, "key": "_other", "value": ["not", "text"]},
    ]
    exports = {"jpy": captured_orders("jpy"), "kwd": with_vat}
    processes = []
    try:
        for store, orders in exports.items():
            export = tmp_path_factory.mktemp(store) / "orders.json"
            export.write_text(json.dumps(orders), encoding="utf-8")
            processes.append(SandboxProcess(orders_file=export).__enter__())
            stores[store] = processes[-1]
        yield stores
    finally:
        for process in processes:
            process.__exit__(None, None, None)


def local_webstore(store, sandbox) -> Webstore:
    from portal.setup.demo import seed_demo_webstore

    currency, decimals = STORES[store]
    webstore = seed_demo_webstore(sandbox.base_url, sandbox.consumer_key, sandbox.consumer_secret)
    webstore.default_status_filter = ""  # the captured orders come in every status
    db.session.commit()
    return webstore


@pytest.mark.parametrize("store", STORES)
def test_every_real_order_is_kept_to_its_last_unit(app, local_stores, store):
    webstore = local_webstore(store, local_stores[store])
    currency, decimals = STORES[store]

    run = run_import(webstore)

    orders = captured_orders(store)
    assert (run.imported, run.failed) == (len(orders), 0)
    for data in orders:
        order = sales_order_for(webstore, data["id"])
        assert order.currency_decimals == decimals
        assert order.amount_including_tax == Decimal(data["total"])
        assert order.tax_amount == store_vat(parse_order(data))
        assert sum(line.amount + line.tax_amount for line in order.lines) == Decimal(data["total"])
        for line, store_line in zip(order.lines, data["line_items"], strict=False):
            assert abs(line.amount - Decimal(store_line["total"])) <= unit_of(decimals)
            subtotal = round_to_unit(line.unit_price * line.quantity, unit_of(decimals))
            assert subtotal == Decimal(store_line["subtotal"])
    # New items take a price a customer can be charged: in the currency's unit.
    for price in db.session.scalars(sa.select(Item.unit_price).where(Item.created_by_sync)):
        assert price == round_to_unit(price, unit_of(decimals))


@pytest.mark.parametrize("store, refunds", [("kwd", 8), ("jpy", 13)])
def test_every_real_refund_is_credited_to_its_last_unit(app, local_stores, store, refunds):
    # Each store has refunds by amount and two by lines (shipping, and an amount beyond the
    # lines, among them), made through the REST API as the store's admin makes them.
    webstore = local_webstore(store, local_stores[store])
    run_import(webstore)
    by_id = {data["id"]: data for data in captured_orders(store)}

    credited = 0
    for order_id, order_refunds in captured_refunds(store).items():
        order = sales_order_for(webstore, order_id)
        for data in order_refunds:
            refund = parse_refund(data, order_id)
            memo = credit_memo_for(webstore, order, parse_order(by_id[order_id]), refund, None)
            assert memo.amount_including_tax == Decimal(data["amount"])
            assert memo.amount + memo.tax_amount == Decimal(data["amount"])
            assert memo.currency_decimals == STORES[store][1]
            for line, store_line in zip(memo.lines, data["line_items"], strict=False):
                assert (line.amount, line.tax_amount) == (
                    -Decimal(store_line["total"]),
                    -Decimal(store_line["total_tax"]),
                )
            credited += 1
    assert credited == refunds


def test_a_note_edited_in_a_dinar_store_is_the_only_change(app, local_stores):
    webstore = local_webstore("kwd", local_stores["kwd"])
    run_import(webstore)
    data = next(d for d in captured_orders("kwd") if "." in d["total"][-4:])
    edited = {**data, "customer_note": "Leave it at the door"}

    (known,) = changes.known_orders(webstore.id, [data["id"]]).values()
    now = OrderState.of(parse_order(edited))

    assert changes.differences(known.baseline, now, known.credited, known.decimals) == [
        "customer note → 'Leave it at the door'"
    ]
    # As kept by the sales order, the total is the store's: 43.246 is 43.2460.
    order = db.session.get(SalesOrder, known.sales_order_id)
    assert order.amount_including_tax == Decimal(data["total"])


def test_the_vat_number_is_kept_on_the_sales_order_and_its_new_customer(app, local_stores):
    webstore = local_webstore("kwd", local_stores["kwd"])
    first = captured_orders("kwd")[0]

    run_import(webstore, order_id=first["id"])

    order = sales_order_for(webstore, first["id"])
    assert order.vat_number == "KW 1234567"
    assert order.customer.vat_number == "KW 1234567"


def test_the_vat_number_is_read_where_the_common_plugins_keep_it():
    base = captured_orders("kwd")[1]
    for key in ("_billing_vat_number", "_vat_number", "billing_vat", "vat_number"):
        data = {**base, "meta_data": [{"id": 1, "key": key, "value": " DE123456789 "}]}
        assert parse_order(data).vat_number == "DE123456789"
    assert parse_order(base).vat_number == ""


# The store's precision, known and followed


def test_a_run_keeps_the_stores_currency_and_decimals_and_notices_a_change(app, local_stores):
    webstore = local_webstore("kwd", local_stores["kwd"])
    webstore.price_decimals = 3  # as a Test connection of a dinar store kept them

    run_import(webstore, order_id=captured_orders("kwd")[0]["id"])

    db.session.refresh(webstore)
    store = local_stores["kwd"]
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        said = client.store_settings().money
    assert said.decimals != 3  # the sandbox serving the export says what it always says
    assert (webstore.currency, webstore.price_decimals) == (said.currency, said.decimals)
    assert (webstore.thousand_separator, webstore.decimal_separator) == (",", ".")
    assert webstore.previous_price_decimals == 3
    assert webstore.price_decimals_changed_at is not None


def test_what_the_store_does_not_say_is_kept_as_it_was(app, webstore):
    webstore.currency, webstore.price_decimals = "JPY", 0
    db.session.commit()

    keep_store_settings(webstore, None, StoreMoney(None, None, None, None))
    db.session.commit()

    db.session.refresh(webstore)
    assert (webstore.currency, webstore.price_decimals) == ("JPY", 0)
    assert webstore.price_decimals_changed_at is None


# Generated stores in every precision


GENERATED = [
    ("JPY", 0, ()),
    ("USD", 2, ()),
    ("KWD", 3, ()),
    ("KWD", 3, ("--round-tax-at-subtotal",)),
    ("BHD", 3, ("--prices-include-tax",)),
]


@pytest.fixture(scope="module", params=GENERATED, ids=lambda p: f"{p[0]}{''.join(p[2])}")
def generated_store(request):
    """120 orders as WooCommerce works them out in the currency's precision: coupons, fees
    and negative fees, prices with and without tax, refunds by amount and by lines."""
    from sandbox.process import SandboxProcess

    currency, decimals, args = request.param
    with SandboxProcess(
        orders=120, currency=currency, decimals=decimals, extra_args=list(args)
    ) as store:
        yield store, decimals


def test_every_generated_order_and_refund_is_the_stores_to_its_last_unit(app, generated_store):
    from portal.models import RunKind, SalesCreditMemo, Trigger
    from portal.setup.demo import seed_demo_webstore
    from portal.sync.filters import ImportFilters
    from portal.sync.runs import create_run, execute_run

    store, decimals = generated_store
    webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
    webstore.default_status_filter = ""
    db.session.commit()

    run = run_import(webstore)
    webstore.refunds_start_date = db.session.scalar(sa.select(sa.func.min(SalesOrder.order_date)))
    db.session.commit()
    refunds_run = execute_run(
        create_run(webstore, ImportFilters(), Trigger.MANUAL, kind=RunKind.REFUNDS).id
    )

    assert (run.imported, run.failed, refunds_run.failed) == (120, 0, 0)
    memos = {m.woo_refund_id: m for m in db.session.scalars(sa.select(SalesCreditMemo))}
    unit = unit_of(decimals)
    refunded = 0
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        for page in client.iter_order_pages():
            for order in page.orders:
                sales_order = sales_order_for(webstore, order.id)
                assert sales_order.currency_decimals == decimals
                assert sales_order.amount_including_tax == order.total
                assert sales_order.tax_amount == store_vat(order)
                lines = sales_order.lines
                assert sum(line.amount + line.tax_amount for line in lines) == order.total
                for line, store_line in zip(lines, order.line_items, strict=False):
                    assert abs(line.amount - store_line.total) <= unit
                    assert line.amount == round_to_unit(line.amount, unit)
                for refund in client.list_refunds(order.id) if order.refunds else ():
                    memo = memos[refund.id]
                    assert memo.amount_including_tax == refund.amount
                    assert memo.amount + memo.tax_amount == refund.amount
                    refunded += 1
    assert refunded == len(memos) == 5


@pytest.fixture(scope="module")
def dinar_store():
    from sandbox.process import SandboxProcess

    with SandboxProcess(orders=3, currency="KWD") as store:
        yield store


def test_test_connection_keeps_the_stores_currency_and_decimals(signed_in_admin, dinar_store):
    from portal.setup.demo import seed_demo_webstore

    store = dinar_store
    webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)

    answer = signed_in_admin.post(f"/setup/webstores/{webstore.id}/test-connection", htmx=True)

    assert answer.status_code == 200
    db.session.refresh(webstore)
    assert (webstore.currency, webstore.price_decimals) == ("KWD", 3)
    assert (webstore.thousand_separator, webstore.decimal_separator) == (",", ".")


def test_what_a_store_does_not_say_of_its_money_stays_unknown():
    assert store_money_of({"currency": "JPY"}) == StoreMoney("JPY", None, None, None)
    assert store_money_of({"number_of_decimals": "3"}).decimals == 3
    assert store_money_of({"number_of_decimals": "three"}).decimals is None
    assert store_money_of(None) == StoreMoney(None, None, None, None)
