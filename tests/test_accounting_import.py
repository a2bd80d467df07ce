"""An imported order booked as an accountant would: its payment method, shipment method and
shipping agent, each line's VAT codes (a VAT summary equal to the store's tax lines to the
cent), charges on items or G/L accounts, and the exchange rate of its day.

The plan-level tests take real WooCommerce 10.0.2 orders (tests/fixtures/real-shapes, and
the kit store's captures in tests/fixtures/woo-captures/accounting: compound GST + PST, a
negative fee, an EUR order with shipping tax); the import tests run against the sandbox.
"""

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    ChargeBooking,
    CurrencyExchangeRate,
    GLAccount,
    LineType,
    Outcome,
    PaymentMethod,
    SalesLine,
    SalesOrder,
    ShipmentMethod,
    ShippingAgent,
    VatCode,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.sync import vat
from portal.sync.accounting import Account, AccountingSetup
from portal.sync.customers import CustomerBook
from portal.sync.failures import OrderFailure
from portal.sync.items import ItemBook
from portal.sync.money import in_company_currency
from portal.sync.plan import plan_order
from portal.sync.rebuild import update_from_store
from portal.woo.orders import parse_order
from tests.sync_helpers import entries, run_import, sales_order_for
from tests.test_plan import real_order, setup

KIT = Path(__file__).parent / "fixtures" / "woo-captures" / "accounting"

# The kit store's rates (ids 1-7) and the codes they map to in these tests.
TAX_CODES = {
    1: ("US10", Decimal("10")),
    2: ("DE19", Decimal("19")),
    3: ("GB20", Decimal("20")),
    4: ("NL21", Decimal("21")),
    5: ("CA-GST", Decimal("5")),
    6: ("CA-PST", Decimal("7")),
}


def kit_data(name: str) -> dict:
    return json.loads((KIT / f"{name}.json").read_text(encoding="utf-8"))["body"]


def kit_order(name: str, change=None):
    data = copy.deepcopy(kit_data(name))
    if change:
        change(data)
    return parse_order(data)


def books(**changes) -> AccountingSetup:
    """A webstore's mappings and charge setup as a run reads them."""
    values = {
        "code": "SHOP",
        "require_mappings": True,
        "payment_methods": {"bacs": "BANK", "cod": "COD"},
        "shipping_methods": {
            ("flat_rate", "3"): ("DELIVERY", "DHL"),
            ("flat_rate", ""): ("DELIVERY", "UPS"),
        },
        "tax_codes": TAX_CODES,
    }
    values.update(changes)
    return AccountingSetup(**values)


def plan(order, accounting=None, rates=None):
    webstore = setup(accounting=accounting or books())
    return plan_order(order, webstore, CustomerBook(webstore), ItemBook(webstore), {}, {}, rates)


def summary_of(planned) -> dict[str, Decimal]:
    return {row.code: row.amount for row in vat.summary(line.parts for line in planned.lines)}


def tax_lines_per_code(order, tax_codes=TAX_CODES) -> dict[str, Decimal]:
    """The store's tax lines (``tax_total + shipping_tax_total``) added up per VAT code."""
    per_code: dict[str, Decimal] = {}
    for tax_line in order.tax_lines:
        code = tax_codes[tax_line.rate_id][0]
        amount = tax_line.tax_total + tax_line.shipping_tax_total
        per_code[code] = per_code.get(code, Decimal(0)) + amount
    return per_code


def failure_of(order, accounting=None) -> str:
    with pytest.raises(OrderFailure) as failure:
        plan(order, accounting)
    return str(failure.value)


# Payment methods


def test_the_orders_gateway_gives_its_payment_method_code():
    assert plan(kit_order("order_375_compound")).payment_method_code == "BANK"
    assert plan(kit_order("order_376_compound_fee")).payment_method_code == "COD"


def test_an_unmapped_gateway_takes_the_webstores_default():
    accounting = books(payment_methods={}, default_payment_method="OTHER")

    assert plan(kit_order("order_375_compound"), accounting).payment_method_code == "OTHER"


def test_an_unmapped_gateway_without_a_default_fails_naming_the_mapping_page():
    def paid_by_stripe(data):
        data["payment_method"], data["payment_method_title"] = "stripe", "Credit card"

    message = failure_of(kit_order("order_375_compound", paid_by_stripe))

    assert message == (
        "Payment gateway 'stripe' (Credit card) of order 375 is not mapped: map it under "
        "Setup > Webstores > SHOP > Payment methods, or choose a default payment method "
        "there, then retry."
    )


def test_without_required_mappings_an_unmapped_gateway_carries_no_code_and_no_note():
    planned = plan(
        kit_order("order_375_compound"), books(payment_methods={}, require_mappings=False)
    )

    assert planned.payment_method_code == ""
    assert planned.notes == []


# Shipment methods and shipping agents


def test_the_first_shipping_lines_method_and_instance_give_shipment_method_and_agent():
    planned = plan(kit_order("order_375_compound"))  # flat_rate, instance "3"

    assert (planned.shipment_method_code, planned.shipping_agent_code) == ("DELIVERY", "DHL")


def test_a_method_mapped_for_every_instance_serves_an_instance_not_mapped_of_its_own():
    planned = plan(real_order("order_162_tax_rounded_at_subtotal"))  # flat_rate, instance "1"

    assert (planned.shipment_method_code, planned.shipping_agent_code) == ("DELIVERY", "UPS")


def test_an_unmapped_shipping_method_fails_naming_the_mapping_page():
    message = failure_of(kit_order("order_375_compound"), books(shipping_methods={}))

    assert message == (
        "Shipping method 'flat_rate' instance 3 (International flat rate) of order 375 is not "
        "mapped: map it under Setup > Webstores > SHOP > Shipping methods, then retry."
    )


def test_without_required_mappings_an_unmapped_shipping_method_carries_no_codes():
    accounting = books(shipping_methods={}, require_mappings=False)

    planned = plan(kit_order("order_375_compound"), accounting)

    assert (planned.shipment_method_code, planned.shipping_agent_code) == ("", "")


def test_an_order_without_shipping_carries_no_shipment_codes():
    planned = plan(real_order("order_185_tax_rounded_at_subtotal_b"), books())

    assert (planned.shipment_method_code, planned.shipping_agent_code) == ("", "")


# VAT codes: the summary equals the store's tax lines


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(real_order("order_162_tax_rounded_at_subtotal"), id="rounded-at-subtotal"),
        pytest.param(real_order("order_185_tax_rounded_at_subtotal_b"), id="at-subtotal-up"),
        pytest.param(real_order("order_43_deleted_product_line"), id="per-line-shipping-tax"),
        pytest.param(kit_order("order_378_fee_negative_fee"), id="fee-and-negative-fee"),
        pytest.param(kit_order("order_59_eur_shipping_tax"), id="eur-shipping-tax"),
        pytest.param(kit_order("order_375_compound"), id="compound"),
        pytest.param(kit_order("order_376_compound_fee"), id="compound-fee"),
        pytest.param(kit_order("order_377_compound_prices_include_tax"), id="compound-with-tax"),
    ],
)
def test_the_vat_summary_equals_the_stores_tax_lines_per_code(order):
    planned = plan(order)

    assert summary_of(planned) == tax_lines_per_code(order)
    for line in planned.lines:
        assert sum(part.amount for part in line.parts) == line.values["tax_amount"]
        assert {part.base for part in line.parts} <= {line.values["amount"]}


def test_a_compound_line_carries_both_codes_each_on_the_lines_net():
    planned = plan(kit_order("order_375_compound"))

    tablets = planned.lines[0]
    assert [(p.code, p.rate_id, p.rate, p.base, p.amount) for p in tablets.parts] == [
        ("CA-GST", 5, Decimal("5"), Decimal("15.54"), Decimal("0.78")),
        ("CA-PST", 6, Decimal("7"), Decimal("15.54"), Decimal("1.14")),
    ]
    assert summary_of(planned) == {"CA-GST": Decimal("2.64"), "CA-PST": Decimal("3.86")}


def test_rates_mapped_to_one_code_add_up_under_it():
    order = kit_order("order_375_compound")
    one_code = {5: ("CA", Decimal("12")), 6: ("CA", Decimal("12"))}

    planned = plan(order, books(tax_codes=one_code))

    assert summary_of(planned) == {"CA": Decimal("6.50")} == tax_lines_per_code(order, one_code)


def test_a_rounding_cent_of_a_rate_goes_onto_that_rates_part():
    order = real_order("order_162_tax_rounded_at_subtotal")  # lines 29.47, tax line 29.46

    planned = plan(order)

    burr_grinder = planned.lines[2]
    assert burr_grinder.values["tax_amount"] == Decimal("12.89")
    assert [(p.code, p.amount) for p in burr_grinder.parts] == [("US10", Decimal("12.89"))]


def test_prices_with_tax_rounded_at_subtotal_keep_the_summary_equal_to_the_tax_lines():
    def prices_with_tax(data):  # as test_plan's: a net cent goes onto the largest line
        data["prices_include_tax"] = True
        data["tax_lines"][0]["tax_total"] = "29.46"
        data["total"] = "329.59"

    order = real_order("order_162_tax_rounded_at_subtotal", prices_with_tax)

    planned = plan(order)

    assert summary_of(planned) == {"US10": Decimal("29.96")} == tax_lines_per_code(order)
    assert planned.lines[2].parts[0].base == Decimal("129.01")


def test_where_the_total_tax_differs_from_the_tax_lines_the_summary_is_the_tax_lines():
    def shipping_taxed_at_half_a_cent(data):  # tax lines 29.97, total_tax 29.96
        data["tax_lines"][0]["shipping_tax_total"] = "0.51"
        data["shipping_lines"][0]["total_tax"] = "0.51"
        data["shipping_lines"][0]["taxes"][0]["total"] = "0.51"
        data["shipping_tax"] = "0.51"

    order = real_order("order_162_tax_rounded_at_subtotal", shipping_taxed_at_half_a_cent)

    planned = plan(order)

    assert summary_of(planned) == {"US10": Decimal("29.97")}
    assert planned.lines[2].parts[0].base == Decimal("128.99")  # the cent on its net


def test_an_unmapped_tax_rate_fails_naming_the_rate_and_the_mapping_page():
    accounting = books(tax_codes={5: TAX_CODES[5]})

    message = failure_of(kit_order("order_375_compound"), accounting)

    assert message == (
        "Tax rate 6 'PST' (7 %) of order 375 is not mapped: map it under Setup > Webstores > "
        "SHOP > Tax rates, then retry."
    )


def test_without_required_mappings_an_unmapped_rate_keeps_its_vat_under_no_code():
    order = kit_order("order_375_compound")

    planned = plan(order, books(tax_codes={5: TAX_CODES[5]}, require_mappings=False))

    assert summary_of(planned) == {"": Decimal("3.86"), "CA-GST": Decimal("2.64")}
    assert planned.notes == []


def test_lines_without_tax_carry_the_untaxed_code_where_one_is_set():
    def untaxed_shipping(data):
        shipping = data["shipping_lines"][0]
        data["total"] = str(Decimal(data["total"]) - Decimal(shipping["total_tax"]))
        data["total_tax"] = str(Decimal(data["total_tax"]) - Decimal(shipping["total_tax"]))
        data["tax_lines"][0]["shipping_tax_total"] = "0.00"
        shipping["total_tax"], shipping["taxes"] = "0.00", []

    order = kit_order("order_59_eur_shipping_tax", untaxed_shipping)

    with_code = plan(order, books(untaxed=("NOVAT", Decimal(0))))
    without = plan(order)

    assert [(p.code, p.base, p.amount) for p in with_code.lines[-1].parts] == [
        ("NOVAT", Decimal("12.50"), Decimal(0))
    ]
    assert without.lines[-1].parts == []
    assert summary_of(with_code) == {"DE19": Decimal("12.32"), "NOVAT": Decimal(0)}


# EU reverse charge


def untaxed_business_order(country: str):
    """Order 378 as an EU business buys it: a VAT number, and no tax at all."""

    def change(data):
        data["billing"]["country"] = country
        data["meta_data"] = [{"id": 1, "key": "_billing_vat_number", "value": "FR40303265045"}]
        for kind in ("line_items", "shipping_lines", "fee_lines"):
            for line in data[kind]:
                line["total_tax"], line["taxes"] = "0.00", []
                if "subtotal_tax" in line:
                    line["subtotal_tax"] = "0.00"
        data["total"] = str(Decimal(data["total"]) - Decimal(data["total_tax"]))
        data["total_tax"] = data["cart_tax"] = data["shipping_tax"] = "0.00"
        data["tax_lines"] = []

    return kit_order("order_378_fee_negative_fee", change)


def test_an_eu_business_order_without_tax_books_every_line_on_the_reverse_charge_code():
    accounting = books(reverse_charge=("RC", Decimal(0)), untaxed=("NOVAT", Decimal(0)))

    planned = plan(untaxed_business_order("FR"), accounting)

    assert [[(p.code, p.base, p.amount) for p in line.parts] for line in planned.lines] == [
        [("RC", line.values["amount"], Decimal(0))] for line in planned.lines
    ]
    assert len(planned.lines) == 5
    assert "reverse charge: booked on VAT code RC" in planned.notes


def test_a_business_order_outside_the_eu_is_no_reverse_charge():
    accounting = books(reverse_charge=("RC", Decimal(0)), untaxed=("NOVAT", Decimal(0)))

    planned = plan(untaxed_business_order("US"), accounting)

    assert {p.code for line in planned.lines for p in line.parts} == {"NOVAT"}
    assert not any("reverse charge" in note for note in planned.notes)


# Charges as set up


SHIPPING_ACCOUNT = Account(11, "6100", "Freight")
FEE_ACCOUNT = Account(12, "4400", "Fees")
DISCOUNT_ACCOUNT = Account(13, "4900", "Sales discounts")


def test_by_default_shipping_is_on_its_item_fees_on_no_item_and_a_negative_fee_a_discount():
    planned = plan(kit_order("order_378_fee_negative_fee"))

    shipping, fee, negative = (line.values for line in planned.lines[2:])
    assert (shipping["line_type"], shipping["item_id"], shipping["account_id"]) == (
        LineType.SHIPPING,
        1,
        None,
    )
    assert (fee["line_type"], fee["item_id"], fee["account_id"]) == (LineType.FEE, None, None)
    assert (negative["line_type"], negative["item_id"], negative["account_id"]) == (
        LineType.DISCOUNT,
        None,
        None,
    )
    assert planned.notes == ["negative fee 'Loyalty discount' booked as a discount"]
    assert [p.amount for p in planned.lines[4].parts] == [Decimal("-0.57")]


def test_charges_booked_on_accounts_say_so_in_the_log():
    accounting = books(
        shipping_booking=ChargeBooking.ACCOUNT,
        shipping_account=SHIPPING_ACCOUNT,
        fee_booking=ChargeBooking.ACCOUNT,
        fee_account=FEE_ACCOUNT,
        negative_fee_booking=ChargeBooking.ACCOUNT,
        negative_fee_account=DISCOUNT_ACCOUNT,
    )

    planned = plan(kit_order("order_378_fee_negative_fee"), accounting)

    booked = [
        (v["line_type"], v["item_id"], v["account_id"], v["sku"])
        for v in (line.values for line in planned.lines[2:])
    ]
    assert booked == [
        (LineType.SHIPPING, None, 11, ""),
        (LineType.FEE, None, 12, ""),
        (LineType.FEE, None, 13, ""),
    ]
    assert planned.notes == [
        "shipping 'International flat rate' booked on G/L account 6100 Freight",
        "fee 'Handling fee' booked on G/L account 4400 Fees",
        "negative fee 'Loyalty discount' booked on G/L account 4900 Sales discounts",
    ]


def test_fees_go_on_the_fee_item_where_one_is_set_and_say_nothing():
    planned = plan(kit_order("order_376_compound_fee"), books(fee_item=(21, "FEE")))

    fee = planned.lines[-1].values
    assert (fee["line_type"], fee["item_id"], fee["sku"], fee["account_id"]) == (
        LineType.FEE,
        21,
        "FEE",
        None,
    )
    assert planned.notes == []


@pytest.mark.parametrize(
    "changes, what, setting",
    [
        ({"shipping_booking": ChargeBooking.ACCOUNT}, "shipping", "shipping account"),
        ({"fee_booking": ChargeBooking.ACCOUNT}, "fees", "fee account"),
        (
            {"negative_fee_booking": ChargeBooking.ACCOUNT},
            "negative fees",
            "negative-fee account",
        ),
    ],
)
def test_a_charge_on_an_account_not_chosen_fails_naming_the_setup_page(changes, what, setting):
    message = failure_of(kit_order("order_378_fee_negative_fee"), books(**changes))

    assert message == (
        f"Webstore SHOP books {what} on a G/L account but has none chosen: choose its "
        f"{setting} in its setup (Setup > Webstores > SHOP), then retry."
    )


# Currencies (plan)


def test_an_order_in_another_currency_takes_the_rate_looked_up_for_its_day():
    order = real_order("order_162_tax_rounded_at_subtotal")  # USD
    accounting = books(company_currency="EUR")

    planned = plan(order, accounting, rates={("USD", order.order_date): Decimal("0.9")})

    assert (planned.exchange_rate, planned.company_currency) == (Decimal("0.9"), "EUR")


def test_an_order_in_the_company_currency_takes_no_rate():
    planned = plan(kit_order("order_59_eur_shipping_tax"), books(company_currency="EUR"))

    assert planned.exchange_rate is None


def test_an_order_without_a_rate_for_its_day_fails_naming_the_page():
    order = real_order("order_162_tax_rounded_at_subtotal")

    message = failure_of(order, books(company_currency="EUR"))

    assert message == (
        f"No exchange rate for USD on {order.order_date.isoformat()}: enter one under "
        "Accounting > Currency Exchange Rates, then retry."
    )


# Imports from the sandbox


def code(model, value: str, **values):
    """The ERP code row ``value`` of ``model``, made where it does not exist."""
    row = db.session.scalar(sa.select(model).where(model.code == value))
    if row is None:
        row = model(code=value, **values)
        db.session.add(row)
        db.session.flush()
    return row


SANDBOX_PAYMENTS = {
    "bacs": "T-BANK",
    "cod": "T-COD",
    "cheque": "T-CHEQUE",
    "stripe": "T-CARD",
    "ppcp-gateway": "T-PAYPAL",
}
# (method, instance): (shipment method, agent); "" for every instance.
SANDBOX_SHIPPING = {
    ("flat_rate", "3"): ("T-INTL", "T-DHL"),
    ("flat_rate", ""): ("T-DELIVER", "T-UPS"),
    ("free_shipping", ""): ("T-DELIVER", "T-UPS"),
    ("local_pickup", ""): ("T-PICKUP", ""),
}
SANDBOX_TAXES = {
    1: ("T-US", Decimal("10")),
    2: ("T-DE19", Decimal("19")),
    3: ("T-GB20", Decimal("20")),
}


def map_everything(webstore, *, leave_out=(), taxes=SANDBOX_TAXES):
    """The webstore's mappings as these tests want them (and nothing else): every gateway,
    shipping method and tax rate of the sandbox (or these ``taxes``), but those in
    ``leave_out``."""
    for model in (WebstorePaymentMapping, WebstoreShippingMapping, WebstoreTaxMapping):
        db.session.execute(sa.delete(model).where(model.webstore_id == webstore.id))
    webstore.default_payment_method = None
    webstore.untaxed_vat_code = code(VatCode, "T-NOVAT", rate=Decimal(0))
    webstore.reverse_charge_vat_code = None
    for gateway, value in SANDBOX_PAYMENTS.items():
        if gateway not in leave_out:
            db.session.add(
                WebstorePaymentMapping(
                    webstore_id=webstore.id,
                    gateway_id=gateway,
                    payment_method=code(PaymentMethod, value),
                )
            )
    for (method, instance), (shipment, agent) in SANDBOX_SHIPPING.items():
        if method not in leave_out:
            db.session.add(
                WebstoreShippingMapping(
                    webstore_id=webstore.id,
                    method_id=method,
                    instance_id=instance,
                    shipment_method=code(ShipmentMethod, shipment),
                    shipping_agent=code(ShippingAgent, agent) if agent else None,
                )
            )
    for rate_id, (value, rate) in taxes.items():
        if rate_id not in leave_out:
            vat_code = code(VatCode, value, rate=rate)
            db.session.add(
                WebstoreTaxMapping(webstore_id=webstore.id, rate_id=rate_id, vat_code=vat_code)
            )
    db.session.commit()


def store_orders(store) -> list:
    from portal.woo.client import WooClient

    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        return [order for page in client.iter_order_pages() for order in page.orders]


def parts_of(sales_order) -> list[list[vat.VatPart]]:
    return [vat.parts_from_json(line.vat_parts) for line in sales_order.lines]


def test_an_import_books_every_order_on_its_mapped_codes(demo_webstore, store):
    map_everything(demo_webstore)
    orders = store_orders(store)

    run = run_import(demo_webstore)

    assert (run.imported, run.failed) == (60, 0)
    for woo in orders:
        order = sales_order_for(demo_webstore, woo.id)
        assert order.payment_method_code == SANDBOX_PAYMENTS.get(woo.payment_method, "")
        first = woo.shipping_lines[0] if woo.shipping_lines else None
        expected = ("", "")
        if first:
            key = (first.method_id, first.instance_id)
            expected = SANDBOX_SHIPPING.get(key) or SANDBOX_SHIPPING[(first.method_id, "")]
        assert (order.shipment_method_code, order.shipping_agent_code) == expected, woo.id
        summary = {row.code: row.amount for row in vat.summary(parts_of(order)) if row.amount}
        assert summary == tax_lines_per_code(woo, SANDBOX_TAXES), woo.id
        for line in order.lines:
            assert line.vat_code == (line.vat_parts[0]["code"] if line.vat_parts else "")
            assert sum(p.amount for p in vat.parts_from_json(line.vat_parts)) == line.tax_amount
        if not woo.tax_lines:
            assert {line.vat_code for line in order.lines} == {"T-NOVAT"}, woo.id


def test_vat_parts_are_kept_as_a_json_array_on_either_database(demo_webstore):
    map_everything(demo_webstore)

    run_import(demo_webstore)

    json_type = "json_typeof" if db.engine.dialect.name == "postgresql" else "json_type"
    kinds = db.session.scalars(
        sa.select(sa.func.distinct(getattr(sa.func, json_type)(SalesLine.vat_parts)))
    ).all()
    assert kinds == ["array"]
    taxed = db.session.scalars(
        sa.select(SalesLine).where(SalesLine.tax_amount != 0).order_by(SalesLine.id).limit(1)
    ).one()
    (part,) = vat.parts_from_json(taxed.vat_parts)
    assert (part.amount, part.base) == (taxed.tax_amount, taxed.amount)


def test_an_unmapped_gateway_fails_its_orders_alone_naming_the_page(demo_webstore, store):
    map_everything(demo_webstore, leave_out=("stripe",))
    demo_webstore.require_mappings = True
    db.session.commit()
    paid_by_card = [o.number for o in store_orders(store) if o.payment_method == "stripe"]

    run = run_import(demo_webstore)

    failures = entries(run, Outcome.FAILED)
    assert (run.imported, run.failed) == (60 - len(paid_by_card), len(paid_by_card))
    assert sorted(entry.woo_order_number for entry in failures) == sorted(paid_by_card)
    assert failures[0].message == (
        f"Payment gateway 'stripe' (Credit Card (Stripe)) of order "
        f"{failures[0].woo_order_number} is not mapped: map it under Setup > Webstores > DEMO > "
        "Payment methods, or choose a default payment method there, then retry."
    )


def test_an_unmapped_shipping_method_or_tax_rate_fails_its_orders(demo_webstore, store):
    map_everything(demo_webstore, leave_out=("local_pickup", 3))
    demo_webstore.require_mappings = True
    db.session.commit()
    orders = store_orders(store)
    picked_up = {
        o.number
        for o in orders
        if o.shipping_lines and o.shipping_lines[0].method_id == "local_pickup"
    }
    taxed_in_britain = {o.number for o in orders if any(t.rate_id == 3 for t in o.tax_lines)}

    run = run_import(demo_webstore)

    messages = {e.woo_order_number: e.message for e in entries(run, Outcome.FAILED)}
    assert set(messages) == picked_up | taxed_in_britain
    assert picked_up and taxed_in_britain
    for number in picked_up:
        assert messages[number] == (
            f"Shipping method 'local_pickup' instance 6 (Local pickup) of order {number} is "
            "not mapped: map it under Setup > Webstores > DEMO > Shipping methods, then retry."
        )
    for number in taxed_in_britain - picked_up:
        assert messages[number] == (
            f"Tax rate 3 'VAT' (20 %) of order {number} is not mapped: map it under "
            "Setup > Webstores > DEMO > Tax rates, then retry."
        )


def test_charges_on_accounts_are_imported_on_those_accounts(demo_webstore, store):
    map_everything(demo_webstore)
    freight = GLAccount(number="T6100", name="Freight")
    fees = GLAccount(number="T4400", name="Fees")
    db.session.add_all([freight, fees])
    demo_webstore.shipping_booking = ChargeBooking.ACCOUNT
    demo_webstore.shipping_account = freight
    demo_webstore.fee_booking = ChargeBooking.ACCOUNT
    demo_webstore.fee_account = fees
    db.session.commit()
    with_fee = next(o for o in store_orders(store) if o.fee_lines and o.shipping_lines)

    run = run_import(demo_webstore)

    order = sales_order_for(demo_webstore, with_fee.id)
    charges = [(line.line_type, line.item_id, line.account_id) for line in order.lines[-2:]]
    assert charges == [
        (LineType.SHIPPING, None, freight.id),
        (LineType.FEE, None, fees.id),
    ]
    (entry,) = [e for e in entries(run) if e.woo_order_id == with_fee.id]
    shipping_name = with_fee.shipping_lines[0].method_title
    fee_name = with_fee.fee_lines[0].name
    assert entry.message == (
        f"Imported as {order.number}; shipping '{shipping_name}' booked on G/L account "
        f"T6100 Freight; fee '{fee_name}' booked on G/L account T4400 Fees"
    )


def test_an_update_from_the_store_books_the_order_again_as_now_mapped(demo_webstore, store):
    map_everything(demo_webstore)
    woo = next(o for o in store_orders(store) if o.payment_method == "stripe" and o.tax_lines)
    run_import(demo_webstore, order_id=woo.id)
    mapping = db.session.scalar(
        sa.select(WebstorePaymentMapping).where(
            WebstorePaymentMapping.webstore_id == demo_webstore.id,
            WebstorePaymentMapping.gateway_id == "stripe",
        )
    )
    mapping.payment_method = code(PaymentMethod, "T-CARD2")
    tax = db.session.scalar(
        sa.select(WebstoreTaxMapping).where(
            WebstoreTaxMapping.webstore_id == demo_webstore.id,
            WebstoreTaxMapping.rate_id == woo.tax_lines[0].rate_id,
        )
    )
    tax.vat_code = code(VatCode, "T-NEW", rate=Decimal(10))
    db.session.commit()
    order = sales_order_for(demo_webstore, woo.id)

    update_from_store(order, None)

    db.session.expire_all()
    order = sales_order_for(demo_webstore, woo.id)
    assert order.payment_method_code == "T-CARD2"
    summary = {row.code: row.amount for row in vat.summary(parts_of(order)) if row.amount}
    assert summary == {"T-NEW": sum(t.tax_total + t.shipping_tax_total for t in woo.tax_lines)}


# Currencies (import)


@pytest.fixture
def company_in_euro(app):
    app.config["COMPANY_CURRENCY"] = "EUR"
    yield
    app.config["COMPANY_CURRENCY"] = None


def test_orders_in_another_currency_take_the_rate_of_their_day(
    demo_webstore, store, company_in_euro
):
    db.session.add_all(
        [
            CurrencyExchangeRate(
                currency="USD", starting_date=date(2025, 1, 1), rate=Decimal("0.9")
            ),
            CurrencyExchangeRate(
                currency="USD", starting_date=date(2026, 6, 1), rate=Decimal("0.85412345")
            ),
        ]
    )
    db.session.commit()

    run = run_import(demo_webstore)

    assert (run.imported, run.failed) == (60, 0)
    for woo in store_orders(store):
        order = sales_order_for(demo_webstore, woo.id)
        rate = Decimal("0.85412345") if woo.order_date >= date(2026, 6, 1) else Decimal("0.9")
        assert (order.currency, order.exchange_rate) == ("USD", rate)
        assert order.amount_including_tax_lcy == in_company_currency(woo.total, rate, "EUR")
        assert order.amount_lcy == in_company_currency(order.amount, rate, "EUR")
        assert order.tax_amount_lcy == in_company_currency(order.tax_amount, rate, "EUR")


def test_orders_before_the_first_rate_fail_naming_the_page(demo_webstore, store, company_in_euro):
    db.session.add(
        CurrencyExchangeRate(currency="USD", starting_date=date(2026, 6, 1), rate=Decimal("0.9"))
    )
    db.session.commit()
    early = {o.number: o.order_date for o in store_orders(store) if o.order_date < date(2026, 6, 1)}

    run = run_import(demo_webstore)

    messages = {e.woo_order_number: e.message for e in entries(run, Outcome.FAILED)}
    assert (run.imported, run.failed) == (60 - len(early), len(early))
    assert messages == {
        number: f"No exchange rate for USD on {day.isoformat()}: enter one under "
        "Accounting > Currency Exchange Rates, then retry."
        for number, day in early.items()
    }


def test_without_a_company_currency_orders_carry_no_rate(demo_webstore):
    run_import(demo_webstore)

    rates = db.session.execute(
        sa.select(SalesOrder.exchange_rate, SalesOrder.amount_lcy).distinct()
    ).all()
    assert rates == [(None, None)]


# The kit store's own orders, imported


@pytest.fixture(scope="module")
def kit_store(tmp_path_factory):
    """The kit store's captured orders (compound, fees, EUR), served over HTTP."""
    from sandbox.process import SandboxProcess

    names = [
        "order_375_compound",
        "order_376_compound_fee",
        "order_377_compound_prices_include_tax",
        "order_378_fee_negative_fee",
        "order_59_eur_shipping_tax",
    ]
    export = tmp_path_factory.mktemp("kit") / "orders.json"
    export.write_text(json.dumps([kit_data(name) for name in names]), encoding="utf-8")
    with SandboxProcess(orders_file=export) as store:
        yield store


def test_the_kit_stores_orders_are_imported_with_summaries_equal_to_their_tax_lines(app, kit_store):
    from portal.setup.demo import seed_demo_webstore

    webstore = seed_demo_webstore(
        kit_store.base_url, kit_store.consumer_key, kit_store.consumer_secret
    )
    webstore.default_status_filter = ""
    map_everything(webstore, taxes=TAX_CODES)
    webstore.require_mappings = True
    db.session.commit()

    run = run_import(webstore)

    assert (run.imported, run.failed) == (5, 0)
    for woo in store_orders(kit_store):
        order = sales_order_for(webstore, woo.id)
        summary = {row.code: row.amount for row in vat.summary(parts_of(order))}
        assert summary == tax_lines_per_code(woo), woo.id
    negative = sales_order_for(webstore, 378).lines[-1]
    assert (negative.line_type, negative.item_id, negative.account_id) == (
        LineType.DISCOUNT,
        None,
        None,
    )
    assert [(p.code, p.amount) for p in vat.parts_from_json(negative.vat_parts)] == [
        ("DE19", Decimal("-0.57"))
    ]
    (entry,) = [e for e in entries(run) if e.woo_order_id == 378]
    assert entry.message.endswith("; negative fee 'Loyalty discount' booked as a discount")
