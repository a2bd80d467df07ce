"""An order becomes a plan: the money and line rules, on real orders, without store or database.

The orders are real WooCommerce 10.0.2 orders (tests/fixtures/real-shapes); the import of
the same files over HTTP is in test_real_shapes.py.
"""

import copy
import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.models import CustomerHandling
from portal.sync.accounting import AccountingSetup
from portal.sync.customers import CustomerBook
from portal.sync.failures import OrderFailure
from portal.sync.items import ItemBook
from portal.sync.plan import plan_order
from portal.woo.orders import parse_order

REAL_SHAPES = Path(__file__).parent / "fixtures" / "real-shapes"


def real_order(name: str, change=None):
    data = json.loads((REAL_SHAPES / f"{name}.json").read_text(encoding="utf-8"))
    if change:
        data = copy.deepcopy(data)
        change(data)
    return parse_order(data)


def setup(**changes):
    """A webstore's setup as a run reads it (writer.WebstoreSetup)."""
    values = {
        "id": 1,
        "code": "MAIN",
        "currency": "USD",
        "price_decimals": 2,
        "customer_handling": CustomerHandling.MAP_BY_EMAIL,
        "guest_customer_id": None,
        "auto_create_customers": True,
        "auto_create_items": True,
        "shipping_charge_item": SimpleNamespace(id=1, sku="SHIPPING"),
        "no_product_item": SimpleNamespace(id=7, number="I00007"),
        "default_customer_template": None,
        "default_item_template": None,
        "country_templates": {},
        "accounting": AccountingSetup(code="MAIN"),
    }
    values.update(changes)
    webstore = SimpleNamespace(**values)
    webstore.customer_template_for = lambda country: None
    return webstore


def plan(order, webstore=None):
    webstore = webstore or setup()
    return plan_order(order, webstore, CustomerBook(webstore), ItemBook(webstore), {}, {})


def total(plan_) -> Decimal:
    return sum((line.values["amount"] + line.values["tax_amount"] for line in plan_.lines), 0)


def tax(plan_) -> Decimal:
    return sum((line.values["tax_amount"] for line in plan_.lines), Decimal(0))


# Tax rounded at subtotal level


def test_tax_rounded_at_subtotal_goes_onto_the_largest_line_and_matches_the_store_total():
    order = real_order("order_162_tax_rounded_at_subtotal")  # lines 29.47, tax line 29.46

    planned = plan(order)

    assert total(planned) == Decimal("329.58") == order.total
    assert tax(planned) == Decimal("29.96") == order.total_tax
    taxes = [line.values["tax_amount"] for line in planned.lines]
    # The Burr Grinder (129.00) is the largest line: it gives the cent.
    assert taxes == [
        Decimal("4.28"),
        Decimal("5.99"),
        Decimal("12.89"),
        Decimal("1.50"),
        Decimal("4.80"),
        Decimal("0.50"),
    ]
    assert planned.notes == [
        "the store rounded over the whole order: -0.01 tax on 'Burr Grinder Pro' "
        "(US Tax) USD, so that the sales order matches its tax lines and total 329.58 USD"
    ]


def test_a_rounding_cent_the_other_way_is_added_to_the_largest_line():
    order = real_order("order_185_tax_rounded_at_subtotal_b")  # lines 26.93, tax line 26.94

    planned = plan(order)

    assert total(planned) == Decimal("161.63") == order.total
    assert [line.values["tax_amount"] for line in planned.lines] == [
        Decimal("5.37"),
        Decimal("21.57"),  # Pour-over Kettle, 107.82: the largest line
    ]


def test_several_cents_go_one_per_line_largest_first():
    def two_cents_less(data):
        data["tax_lines"][0]["tax_total"] = "29.45"
        data["cart_tax"] = data["tax_lines"][0]["tax_total"]
        data["total_tax"] = "29.95"
        data["total"] = "329.57"

    planned = plan(real_order("order_162_tax_rounded_at_subtotal", two_cents_less))

    assert total(planned) == Decimal("329.57")
    assert [line.values["tax_amount"] for line in planned.lines[:5]] == [
        Decimal("4.28"),
        Decimal("5.98"),  # 59.90: second largest
        Decimal("12.89"),  # 129.00: largest
        Decimal("1.50"),
        Decimal("4.80"),
    ]


def test_a_difference_larger_than_rounding_fails_with_both_amounts():
    def a_dollar_off(data):
        data["total"] = "330.58"

    with pytest.raises(OrderFailure) as failure:
        plan(real_order("order_162_tax_rounded_at_subtotal", a_dollar_off))

    message = str(failure.value)
    assert "The order total 330.58 USD does not match" in message
    assert "(329.58 USD;" in message
    assert "the store's tax lines say 29.96 USD" in message
    assert "Check order 162's lines, fees and taxes in the store" in message


def test_more_cents_than_lines_is_not_rounding():
    def six_cents_off(data):  # five lines carry the rate: at most five cents
        data["tax_lines"][0]["tax_total"] = "29.41"
        data["total_tax"] = "29.91"
        data["total"] = "329.53"

    with pytest.raises(OrderFailure, match="more than rounding"):
        plan(real_order("order_162_tax_rounded_at_subtotal", six_cents_off))


def test_where_the_order_total_tax_differs_from_its_tax_lines_the_tax_lines_are_the_vat():
    # Seen on a real store (round at subtotal, 21 % on 42.75 and on 12.50 shipping): the
    # tax lines say 8.98 + 2.63, the order's total_tax 11.60 (8.98 + 2.625, rounded once).
    # WooCommerce's own tax report reads the tax lines: the cent goes onto the net amount.
    def shipping_taxed_at_half_a_cent(data):
        data["tax_lines"][0]["shipping_tax_total"] = "0.51"
        data["shipping_lines"][0]["total_tax"] = "0.51"
        data["shipping_lines"][0]["taxes"][0]["total"] = "0.51"
        data["shipping_tax"] = "0.51"

    planned = plan(real_order("order_162_tax_rounded_at_subtotal", shipping_taxed_at_half_a_cent))

    assert total(planned) == Decimal("329.58")
    assert tax(planned) == Decimal("29.97") == Decimal("29.46") + Decimal("0.51")
    burr_grinder = planned.lines[2].values
    assert (burr_grinder["amount"], burr_grinder["tax_amount"]) == (
        Decimal("128.99"),
        Decimal("12.89"),
    )
    assert "-0.01 net on 'Burr Grinder Pro' (order total tax)" in planned.notes[0]


def test_with_prices_including_tax_a_net_cent_goes_onto_the_largest_line():
    # As a store rounding at subtotal with prices entered with tax sends it: the net line
    # totals are rounded from unrounded ones, the tax line and total are exact.
    def prices_with_tax(data):
        data["prices_include_tax"] = True
        data["tax_lines"][0]["tax_total"] = "29.46"
        data["total"] = "329.59"

    planned = plan(real_order("order_162_tax_rounded_at_subtotal", prices_with_tax))

    assert total(planned) == Decimal("329.59")
    assert tax(planned) == Decimal("29.96")
    assert planned.lines[2].values["amount"] == Decimal("129.01")
    assert "+0.01 net on 'Burr Grinder Pro' (price with tax)" in planned.notes[0]


def test_a_tax_entry_showing_a_half_cent_the_other_way_leaves_the_line_tax_as_it_is():
    # WooCommerce may show a line's tax entry a cent above its total_tax (a half cent).
    def entry_a_cent_above(data):
        data["line_items"][0]["taxes"][0]["total"] = "11.99"

    planned = plan(real_order("order_38_store_local_date_after_midnight", entry_a_cent_above))

    assert planned.lines[0].values["tax_amount"] == Decimal("11.98")
    assert planned.notes == []


def test_an_order_whose_lines_add_up_is_left_as_the_store_sent_it():
    order = real_order("order_38_store_local_date_after_midnight")

    planned = plan(order)

    assert total(planned) == order.total
    assert planned.notes == []


def test_coupon_tax_with_three_decimals_is_rounded_as_woocommerce_rounds():
    from portal.sync.plan import coupon_values

    order = real_order("order_185_tax_rounded_at_subtotal_b")  # discount_tax "2.992"

    assert coupon_values(plan(order)) == [
        {"code": "save10", "discount": Decimal("14.96"), "discount_tax": Decimal("2.99")}
    ]


def test_coupon_tax_half_a_cent_rounds_up():
    from portal.sync.plan import coupon_values

    def half_up(data):
        data["coupon_lines"][0]["discount_tax"] = "2.995"

    order = real_order("order_185_tax_rounded_at_subtotal_b", half_up)

    assert coupon_values(plan(order))[0]["discount_tax"] == Decimal("3.00")


# Lines without a product


def test_a_deleted_products_line_is_booked_on_the_setup_item_with_its_own_name_and_prices():
    order = real_order("order_43_deleted_product_line")

    planned = plan(order)

    line = planned.lines[2].values
    assert (line["item_id"], line["description"], line["sku"]) == (
        7,
        "Discontinued Sampler Box",
        "",
    )
    assert (line["quantity"], line["unit_price"], line["line_discount"]) == (
        Decimal(1),
        Decimal("32.00"),
        Decimal("3.21"),
    )
    assert (line["amount"], line["tax_amount"]) == (Decimal("28.79"), Decimal("5.76"))
    assert planned.notes == [
        "line 3 'Discontinued Sampler Box' has no product in the store: booked on item I00007"
    ]
    assert total(planned) == order.total


def test_a_line_added_by_hand_is_booked_on_the_setup_item():
    planned = plan(real_order("order_357_custom_line_no_product"))

    assert planned.lines[1].values["item_id"] == 7
    assert planned.lines[1].item is None
    assert len(planned.items) == 1  # only the paper filters have an item of their own


def test_without_an_item_for_such_lines_the_order_fails_naming_the_setting():
    with pytest.raises(OrderFailure) as failure:
        plan(real_order("order_43_deleted_product_line"), setup(no_product_item=None))

    assert str(failure.value) == (
        "Line 3 'Discontinued Sampler Box' has no product in the store, and webstore MAIN has "
        "no item for lines without a product: choose one under 'Item for lines without a "
        "product' in its setup (Setup > Webstores > MAIN), then retry."
    )


# Guests without an email


def test_a_guest_without_email_becomes_a_customer_of_its_own_from_name_and_address():
    planned = plan(real_order("order_175_guest_without_email"))

    new = planned.customer.new
    assert new.email is None
    assert (new.values["name"], new.values["address"], new.values["post_code"]) == (
        "Noah Taylor",
        "10 Deansgate",
        "M3 2BQ",
    )
    assert new.values["email"] is None


def test_two_guests_without_email_are_never_merged():
    webstore = setup()
    customers, items, planned_customers, planned_items = (
        CustomerBook(webstore),
        ItemBook(webstore),
        {},
        {},
    )
    order = real_order("order_175_guest_without_email")

    first = plan_order(order, webstore, customers, items, planned_customers, planned_items)
    second = plan_order(order, webstore, customers, items, planned_customers, planned_items)

    assert first.customer.new is not second.customer.new


def test_a_guest_without_email_goes_to_the_default_guest_customer_under_that_handling():
    webstore = setup(customer_handling=CustomerHandling.DEFAULT_GUEST, guest_customer_id=42)

    planned = plan(real_order("order_175_guest_without_email"), webstore)

    assert (planned.customer.customer_id, planned.customer.new) == (42, None)


def test_without_creating_customers_a_guest_without_email_takes_the_guest_customer():
    webstore = setup(auto_create_customers=False, guest_customer_id=42)

    planned = plan(real_order("order_175_guest_without_email"), webstore)

    assert planned.customer.customer_id == 42


def test_a_guest_without_email_fails_only_where_the_setup_gives_no_way_and_says_which():
    webstore = setup(auto_create_customers=False)

    with pytest.raises(OrderFailure) as failure:
        plan(real_order("order_175_guest_without_email"), webstore)

    message = str(failure.value)
    assert message.startswith("Guest order 175 (Noah Taylor (guest)) has no email")
    assert "turn 'Create missing customers' on" in message
    assert "'Use one default guest customer'" in message
    assert "(Setup > Webstores > MAIN)" in message


# Items


def test_a_new_items_price_is_the_price_before_discounts():
    planned = plan(real_order("order_43_deleted_product_line"))  # a 10 % coupon

    frother = planned.lines[0]
    assert frother.item.new.values["unit_price"] == Decimal("19.99")  # 39.98 / 2, not 17.995
    assert frother.values["unit_price"] == Decimal("19.99")
    assert frother.values["line_discount"] == Decimal("3.99")


# What the ERP keeps


def test_a_line_amount_with_more_decimals_than_the_erp_keeps_fails_naming_the_line():
    def five_decimals(data):
        line = data["line_items"][1]
        line["subtotal"] = line["total"] = "15.00001"
        data["total"] = "21.99001"

    order = real_order("order_357_custom_line_no_product", five_decimals)
    with pytest.raises(OrderFailure) as failure:
        plan(order, setup(price_decimals=5))

    assert str(failure.value).startswith(
        "Line 'Custom engraving (no product)': its amount is 15.00001, with more decimals "
        "than the ERP keeps (4): it would be rounded, so the order was not imported."
    )
