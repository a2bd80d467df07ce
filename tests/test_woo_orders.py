"""Parsing WooCommerce order JSON, against every order a real store sent (the captures)."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from portal.woo.errors import OrderDataError, WooError
from portal.woo.orders import ORDER_STATUSES, parse_order, parse_order_ref

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"


def captured_body(name):
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))["body"]


def captured_orders():
    """Each full order in a 200 answer of order_*.json and orders_*.json, with its origin."""
    for path in sorted([*CAPTURES.glob("order_*.json"), *CAPTURES.glob("orders_*.json")]):
        capture = json.loads(path.read_text(encoding="utf-8"))
        if capture["status"] != 200:
            continue
        body = capture["body"]
        items = body if isinstance(body, list) else [body]
        # Notes, refunds, schemas and _fields listings are not full orders; order_key marks one.
        for index, item in enumerate(items):
            if isinstance(item, dict) and "order_key" in item:
                yield pytest.param(item, capture["request"]["query"], id=f"{path.stem}[{index}]")


ALL_ORDERS = list(captured_orders())


def test_the_captures_hold_many_orders():
    assert len(ALL_ORDERS) == 129


@pytest.mark.parametrize(("data", "query"), ALL_ORDERS)
def test_every_captured_order_parses(data, query):
    order = parse_order(data)

    assert order.id == data["id"]
    assert order.number == str(data["id"])
    assert order.status in ORDER_STATUSES
    assert order.date_created.tzinfo is UTC
    assert order.date_modified >= order.date_created
    money = [order.total, order.total_tax, order.shipping_total, order.discount_total]
    money += [line.total for line in order.line_items] + [line.price for line in order.line_items]
    assert all(isinstance(amount, Decimal) for amount in money)
    # With the store's own rounding (not dp=0), the parts add up to the cent.
    if ["dp", "0"] not in query:
        parts = order.line_items + order.shipping_lines + order.fee_lines
        assert sum(part.total for part in parts) + order.total_tax == order.total


def test_money_is_decimal_from_strings_and_numbers():
    order = parse_order(captured_body("order_44.json"))

    assert order.total == Decimal("45.00")
    assert order.line_items[0].price == Decimal("12.5")  # sent as the JSON number 12.5
    assert order.line_items[1].price == Decimal("25")  # sent as the JSON number 25
    assert order.shipping_lines[0].total == Decimal("5.00")


def test_money_without_decimals_when_the_store_rounds_to_units():
    order = parse_order(captured_body("orders_dp0.json")[0])

    assert order.total == Decimal("43")
    assert order.total_tax == Decimal("3")


def test_dates_are_aware_utc_from_the_gmt_fields():
    order = parse_order(captured_body("order_44.json"))

    # The store's local time (America/New_York) said 15:05:22; the _gmt field says 19:05:22.
    assert order.date_created == datetime(2026, 10, 30, 19, 5, 22, tzinfo=UTC)
    assert order.date_modified == datetime(2026, 11, 26, 19, 5, 24, tzinfo=UTC)


def test_a_date_with_an_offset_is_converted_to_utc():
    data = captured_body("order_44.json")
    data["date_created_gmt"] = "2026-10-30T21:05:22+02:00"

    assert parse_order(data).date_created == datetime(2026, 10, 30, 19, 5, 22, tzinfo=UTC)


def test_partial_refund():
    order = parse_order(captured_body("order_44.json"))

    assert [(r.id, r.reason, r.total) for r in order.refunds] == [
        (54, "Damaged item (partial)", Decimal("-3.00"))
    ]
    assert order.refunded_total == Decimal("3.00")


def test_full_refund():
    order = parse_order(captured_body("order_32.json"))

    assert order.status == "refunded"
    assert order.refunded_total == order.total


def test_an_order_without_refunds_has_refunded_nothing():
    order = parse_order(captured_body("order_23.json"))

    assert order.refunds == ()
    assert order.refunded_total == 0


def test_fee_line_with_an_empty_amount():
    (fee,) = parse_order(captured_body("order_44.json")).fee_lines

    assert (fee.name, fee.amount, fee.total, fee.total_tax) == (
        "Gift wrap",
        None,
        Decimal("2.50"),
        Decimal("0.00"),
    )


def test_a_guest_order():
    order = parse_order(captured_body("order_44.json"))

    assert order.customer_id == 0
    assert order.is_guest
    assert order.billing.full_name == "José Muñoz"
    assert order.billing.email == "jose.munoz@example.es"
    assert order.shipping.email == ""  # a shipping address has no email


def test_a_registered_customer_order():
    data = next(o for o in captured_body("orders_per_page100.json") if o["customer_id"] == 3)
    order = parse_order(data)

    assert not order.is_guest
    assert order.billing.full_name == "太郎 山田"


def test_coupon_lines():
    data = next(o for o in captured_body("orders_per_page100.json") if o["coupon_lines"])
    coupon = parse_order(data).coupon_lines[0]

    assert coupon.code
    assert isinstance(coupon.discount, Decimal)
    assert isinstance(coupon.discount_tax, Decimal)


def test_variation_line_items():
    data = captured_body("orders_per_page5_page2.json")[0]
    line = parse_order(data).line_items[1]

    assert (line.product_id, line.variation_id, line.sku) == (14, 15, "TSHIRT-S-R")
    assert line.quantity == 1


@pytest.mark.parametrize("flag", [True, False])
def test_prices_include_tax(flag):
    data = captured_body("order_23.json")
    data["prices_include_tax"] = flag

    assert parse_order(data).prices_include_tax is flag


def test_mixed_representations_real_stores_send():
    data = captured_body("order_44.json")
    data["number"] = 44
    data["total"] = 45
    data["line_items"][0]["quantity"] = "2"
    data["fee_lines"][0]["amount"] = "2.5"

    order = parse_order(data)

    assert order.number == "44"
    assert order.total == Decimal(45)
    assert order.line_items[0].quantity == 2
    assert order.fee_lines[0].amount == Decimal("2.5")


def test_parse_order_ref_from_a_fields_listing():
    refs = [parse_order_ref(data) for data in captured_body("orders_fields.json")]

    assert refs[0].id == 52
    assert refs[0].status == "failed"
    assert refs[0].date_modified == datetime(2026, 11, 26, 19, 5, 24, tzinfo=UTC)


def mutate(data, path, value):
    """Set (or with ``...`` delete) the value at a path like ``line_items.1.total``."""
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parents:
        data = data[part]
    if value is ...:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("line_items.1.total", "abc", "order 44: line_items[1].total is not a number: 'abc'"),
        ("total", "1e3", "order 44: total is not a number: '1e3'"),
        ("total", "NaN", "order 44: total is not a number: 'NaN'"),
        ("total", True, "order 44: total is not a number: True"),
        ("total", None, "order 44: total is not a number: None"),
        ("billing", ..., "order 44: billing is missing"),
        ("billing", "x", "order 44: billing is not an object: 'x'"),
        ("billing.city", ["Madrid"], "order 44: billing.city is not text: ['Madrid']"),
        ("status", None, "order 44: status is missing"),
        ("line_items.0.quantity", "two", "order 44: line_items[0].quantity is not a whole number"),
        ("line_items.0.quantity", 1.5, "order 44: line_items[0].quantity is not a whole number"),
        ("line_items", {}, "order 44: line_items is not a list: {}"),
        ("line_items.1", "oops", "order 44: line_items[1] is not an object: 'oops'"),
        ("fee_lines.0.total", "", "order 44: fee_lines[0].total is not a number: ''"),
        ("refunds.0.total", "-", "order 44: refunds[0].total is not a number: '-'"),
        ("prices_include_tax", "no", "order 44: prices_include_tax is not true or false"),
        ("date_modified_gmt", "yesterday", "order 44: date_modified_gmt is not a date"),
        ("date_created_gmt", None, "order 44: date_created_gmt is not a date: None"),
        ("id", ..., "order (no id): id is missing"),
    ],
)
def test_a_malformed_order_names_the_order_and_the_field(path, value, message):
    data = captured_body("order_44.json")
    mutate(data, path, value)

    with pytest.raises(OrderDataError) as caught:
        parse_order(data)

    assert str(caught.value).startswith(message)
    assert caught.value.order_id == (None if path == "id" else 44)
    assert isinstance(caught.value, WooError)


def test_a_long_bad_value_is_shortened_in_the_message():
    data = captured_body("order_44.json")
    data["total"] = "x" * 500

    with pytest.raises(OrderDataError) as caught:
        parse_order(data)

    assert len(str(caught.value)) < 120


@pytest.mark.parametrize("data", [None, [], "order"])
def test_something_that_is_not_an_order(data):
    with pytest.raises(OrderDataError, match="is not an object"):
        parse_order(data)


def test_parsing_does_not_change_the_data():
    data = captured_body("order_44.json")
    before = copy.deepcopy(data)

    parse_order(data)

    assert data == before


# Real shapes (tests/fixtures/real-shapes): orders of a real WooCommerce 10.0.2 store that the
# import once refused.

REAL_SHAPES = Path(__file__).parent / "fixtures" / "real-shapes"


def real_shape(name):
    return json.loads((REAL_SHAPES / name).read_text(encoding="utf-8"))


def test_a_line_whose_product_was_deleted_is_an_ordinary_line_without_product_or_sku():
    order = parse_order(real_shape("order_43_deleted_product_line.json"))

    line = order.line_items[2]
    assert (line.name, line.product_id, line.variation_id, line.sku, line.has_product) == (
        "Discontinued Sampler Box",
        0,
        0,
        "",
        False,
    )
    assert (line.quantity, line.subtotal, line.total, line.total_tax) == (
        1,
        Decimal("32.00"),
        Decimal("28.79"),
        Decimal("5.76"),
    )


def test_a_line_added_by_hand_has_no_product():
    order = parse_order(real_shape("order_357_custom_line_no_product.json"))

    assert [(line.name, line.has_product) for line in order.line_items] == [
        ("Paper Filters (100)", True),
        ("Custom engraving (no product)", False),
    ]


def test_a_missing_sku_on_a_line_with_a_product_reads_as_no_sku():
    data = captured_body("order_44.json")
    del data["line_items"][0]["sku"]

    line = parse_order(data).line_items[0]

    assert (line.sku, line.has_product) == ("", True)


def test_the_order_date_is_the_stores_calendar_day_and_the_moment_stays_utc():
    order = parse_order(real_shape("order_38_store_local_date_after_midnight.json"))

    assert order.order_date == date(2026, 10, 4)
    assert order.date_created == datetime(2026, 10, 3, 23, 37, 58, tzinfo=UTC)


def test_tax_lines_and_line_taxes_per_rate_are_read():
    order = parse_order(real_shape("order_162_tax_rounded_at_subtotal.json"))

    assert [
        (t.rate_id, t.label, t.compound, t.tax_total, t.shipping_tax_total) for t in order.tax_lines
    ] == [(1, "US Tax", False, Decimal("29.46"), Decimal("0.50"))]
    assert [tax.total for line in order.line_items for tax in line.taxes] == [
        Decimal("4.28"),
        Decimal("5.99"),
        Decimal("12.90"),
        Decimal("1.50"),
        Decimal("4.80"),
    ]
    assert order.shipping_lines[0].taxes[0].total == Decimal("0.50")


def test_a_guest_without_email_parses_with_an_empty_email():
    order = parse_order(real_shape("order_175_guest_without_email.json"))

    assert (order.is_guest, order.billing.email, order.billing.full_name) == (
        True,
        "",
        "Noah Taylor",
    )
