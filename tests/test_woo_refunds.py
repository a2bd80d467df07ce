"""Reading a store's refunds (``GET /orders/<id>/refunds``): the real store's answers
(captures from WooCommerce 10.0.2), a canned site for paging and errors."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from portal.woo import OrderDataError, WooClient, WooInvalidResponse, parse_refund
from portal.woo.orders import (
    WooLineTax,
    WooTaxLine,
    parse_order,
    parse_restocked,
    with_restocked,
)
from sandbox.process import SandboxProcess

from .test_woo_client import FAST, canned_site, site  # noqa: F401  (fixtures)

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"


def captured(name):
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))


def captured_refunds(name, order_id):
    return [parse_refund(item, order_id) for item in captured(name)["body"]]


# The real store's answers


def test_a_refund_of_one_line_reads_positive_amounts_and_the_refunded_order_line():
    (refund,) = captured_refunds("order_refunds_line_item.json", 373)

    assert refund.id == 374
    assert refund.order_id == 373
    assert refund.amount == Decimal("5.49")
    assert refund.reason == "One pack of filters torn"
    assert refund.refunded_by == 1
    assert refund.refunded_payment is False
    (line,) = refund.line_items
    assert (line.id, line.name, line.product_id, line.variation_id, line.sku) == (
        1460,
        "Paper Filters (100)",
        14,
        0,
        "FLT-100",
    )
    assert line.quantity == Decimal(-1)
    assert line.quantity_refunded == Decimal(1)
    assert (line.subtotal, line.subtotal_tax) == (Decimal("4.99"), Decimal("0.50"))
    assert (line.total, line.total_tax) == (Decimal("4.99"), Decimal("0.50"))
    assert line.taxes == (WooLineTax(rate_id=1, total=Decimal("0.50")),)
    assert line.refunded_item_id == 1457
    assert line.restocked is None  # the refund's answer does not say
    assert refund.tax_lines == (
        WooTaxLine(
            rate_id=1,
            label="US Tax",
            compound=False,
            tax_total=Decimal("0.50"),
            shipping_tax_total=Decimal("0"),
            rate_percent=Decimal("10"),
        ),
    )
    assert refund.total_tax == Decimal("0.50")
    assert refund.lines_amount == refund.amount
    assert refund.unassigned_amount == Decimal("0.00")


def test_the_refunded_line_is_a_line_of_the_order_and_its_summary_agrees():
    order = parse_order(captured("order_373_line_item_refunded.json")["body"])
    (refund,) = captured_refunds("order_refunds_line_item.json", 373)

    assert refund.line_items[0].refunded_item_id in {line.id for line in order.line_items}
    assert [r.id for r in order.refunds] == [refund.id]
    assert order.refunded_total == refund.amount


def test_the_refund_day_is_the_store_calendar_and_the_moment_is_utc():
    (refund,) = captured_refunds("order_refunds_line_item.json", 373)

    # The store runs on Europe/Berlin: 04:33 there is 03:33 UTC.
    assert refund.date_created_gmt == datetime(2026, 12, 1, 3, 33, 27, tzinfo=UTC)
    assert refund.date_created == datetime(2026, 12, 1, 4, 33, 27)
    assert refund.refund_date == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("name", "order_id", "amount", "reason"),
    [
        ("order_refunds_partial_amount.json", 368, "5.00", "Goodwill: late delivery"),
        ("order_refunds_full.json", 46, "112.64", "Customer returned everything"),
        ("order_refunds_list.json", 44, "3.00", "Damaged item (partial)"),
    ],
)
def test_a_refund_by_amount_has_no_lines_and_all_its_amount_unassigned(
    name, order_id, amount, reason
):
    (refund,) = captured_refunds(name, order_id)

    assert refund.amount == Decimal(amount)
    assert refund.reason == reason
    assert not refund.has_lines
    assert refund.total_tax == Decimal(0)
    assert refund.unassigned_amount == Decimal(amount)


def test_an_unknown_order_has_no_refunds_in_the_real_store():
    capture = captured("order_refunds_unknown_order.json")

    assert (capture["status"], capture["body"]) == (200, [])


# Lenient where real stores send null, strict where a value cannot be read


def line_refund():
    return copy.deepcopy(captured("order_refunds_line_item.json")["body"][0])


def test_nulls_real_stores_send_read_as_empty():
    data = line_refund()
    data["reason"] = None
    data["refunded_by"] = None
    data["line_items"][0]["sku"] = None
    data["line_items"][0]["product_id"] = None
    data["line_items"][0]["meta_data"] = []

    refund = parse_refund(data, 373)

    assert refund.reason == ""
    assert refund.refunded_by == 0
    line = refund.line_items[0]
    assert (line.sku, line.product_id, line.refunded_item_id) == ("", 0, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(amount="five"), "refunds[374].amount"),
        (lambda d: d.pop("date_created_gmt"), "refunds[374].date_created_gmt"),
        (lambda d: d["line_items"][0].update(total=None), "refunds[374].line_items[0].total"),
        (
            lambda d: d["line_items"][0].update(quantity="one"),
            "refunds[374].line_items[0].quantity",
        ),
        (
            lambda d: d["line_items"][0]["meta_data"][0].update(value="x"),
            "refunds[374].line_items[0].meta_data[0].value",
        ),
    ],
)
def test_a_value_that_cannot_be_read_names_the_order_and_field(change, field):
    data = line_refund()
    change(data)

    with pytest.raises(OrderDataError) as caught:
        parse_refund(data, 373)

    assert caught.value.order_id == 373
    assert caught.value.field == field


# Over HTTP


def refunds_path(order_id):
    return f"/wp-json/wc/v3/orders/{order_id}/refunds"


def amount_refund(refund_id):
    return {**captured("order_refunds_partial_amount.json")["body"][0], "id": refund_id}


def test_every_page_of_refunds_is_read(site):  # noqa: F811
    site.answer(200, [amount_refund(380)], path=refunds_path(373), page="1", X_WP_TotalPages="2")
    site.answer(200, [amount_refund(375)], path=refunds_path(373), page="2", X_WP_TotalPages="2")

    refunds = site.client().list_refunds(373)

    assert [r.id for r in refunds] == [380, 375]
    assert [dict(q)["page"] for _, q in site.requests] == ["1", "2"]
    assert all(dict(q)["per_page"] == "100" for _, q in site.requests)


def test_refunds_are_read_again_after_a_server_error(site):  # noqa: F811
    site.answer(200, [amount_refund(374)], path=refunds_path(373), X_WP_TotalPages="1")
    site.answer(503, {"code": "busy"}, path=refunds_path(373), page="1", Retry_After="0")
    client = site.client(max_retries=1)
    calls = []

    def recover(response, **_):
        calls.append(response.status_code)
        site.answers.pop((refunds_path(373), "1"), None)

    client.session.hooks["response"].append(recover)

    assert [r.id for r in client.list_refunds(373)] == [374]
    assert calls == [503, 200]


def test_refunds_by_amount_alone_need_no_second_request(site):  # noqa: F811
    site.answer(200, [amount_refund(369)], path=refunds_path(368), X_WP_TotalPages="1")

    site.client().list_refunds(368)

    assert [path for path, _ in site.requests] == [refunds_path(368)]


def test_a_line_not_restocked_is_told_by_the_order_lines(site):  # noqa: F811
    site.answer(200, [line_refund()], path=refunds_path(373), X_WP_TotalPages="1")
    order = captured("order_373_line_item_refunded.json")["body"]
    site.answer(200, order, path="/wp-json/wc/v3/orders/373")

    (refund,) = site.client().list_refunds(373)

    assert refund.line_items[0].restocked is False
    path, query = site.requests[1]
    assert (path, dict(query)["_fields"]) == ("/wp-json/wc/v3/orders/373", "id,line_items")


def test_an_answer_that_is_not_a_list_is_invalid(site):  # noqa: F811
    site.answer(200, {"id": 374}, path=refunds_path(373))

    with pytest.raises(WooInvalidResponse):
        site.client().list_refunds(373)


def test_a_refund_that_cannot_be_read_fails_the_listing(site):  # noqa: F811
    data = line_refund()
    data["amount"] = "5,49"
    site.answer(200, [data], path=refunds_path(373), X_WP_TotalPages="1")

    with pytest.raises(OrderDataError, match=r"order 373: refunds\[374\]\.amount"):
        site.client().list_refunds(373)


# Restocking, told by the order's lines


def restocked_order(**restocked):
    """Order 373 whose lines say how many were restocked (``_restock_refunded_items``)."""
    order = copy.deepcopy(captured("order_373_line_item_refunded.json")["body"])
    for line in order["line_items"]:
        if str(line["id"]) in restocked:
            value = str(restocked[str(line["id"])])
            line["meta_data"].append({"id": 1, "key": "_restock_refunded_items", "value": value})
    return order


def refund_of(refund_id, quantity, item_id=1457):
    data = line_refund()
    data["id"] = refund_id
    data["line_items"][0]["quantity"] = -quantity
    data["line_items"][0]["meta_data"][0]["value"] = str(item_id)
    return parse_refund(data, 373)


def restocked_flags(refunds, order):
    return [
        line.restocked
        for r in with_restocked(refunds, parse_restocked(order))
        for line in r.line_items
    ]


def test_lines_restocked_as_often_as_refunded_are_restocked():
    refunds = [refund_of(375, 2), refund_of(374, 1)]

    assert restocked_flags(refunds, restocked_order(**{"1457": 3})) == [True, True]


def test_lines_never_restocked_are_not():
    refunds = [refund_of(375, 2), refund_of(374, 1)]

    assert restocked_flags(refunds, restocked_order()) == [False, False]


def test_which_refunds_of_a_line_restocked_it_in_part_is_not_known():
    refunds = [refund_of(375, 2), refund_of(374, 1, item_id=1456)]

    flags = restocked_flags(refunds, restocked_order(**{"1457": 1, "1456": 1}))

    assert flags == [None, True]


# Over HTTP, from the sandbox


@pytest.fixture
def store(new_york_store: SandboxProcess) -> SandboxProcess:
    new_york_store.reset()
    return new_york_store


@pytest.fixture
def woo(store):
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret, **FAST) as client:
        yield client


# Order 31 of that store: on hold, taxed at 8.5 %; item 129 is 3 units (32.28 and 2.74 tax
# each), 130 four, 137 its shipping (5.00 and 0.43), 138 its fee (3.95 and 0.34).


def test_a_restocked_refund_of_lines_shipping_and_fee_reads_positive(store, woo):
    store.refund_order(31, lines={129: 2, 137: 0, 138: 0}, restock=True, reason="Returned")

    (refund,) = woo.list_refunds(31)

    assert (refund.order_id, refund.reason, refund.amount) == (31, "Returned", Decimal("79.77"))
    (line,) = refund.line_items
    assert (line.refunded_item_id, line.quantity, line.quantity_refunded) == (129, -2, 2)
    assert (line.total, line.total_tax, line.restocked) == (Decimal("64.56"), Decimal("5.49"), True)
    (shipping,) = refund.shipping_lines
    assert (shipping.refunded_item_id, shipping.total, shipping.total_tax) == (
        137,
        Decimal("5.00"),
        Decimal("0.43"),
    )
    (fee,) = refund.fee_lines
    assert (fee.refunded_item_id, fee.name, fee.amount) == (
        138,
        "Express handling",
        Decimal("4.29"),
    )
    assert refund.tax_lines[0].tax_total == Decimal("5.83")  # the line's and the fee's
    assert refund.tax_lines[0].shipping_tax_total == Decimal("0.43")
    assert refund.total_tax == Decimal("6.26")
    assert refund.unassigned_amount == Decimal("0.00")


def test_a_line_refunded_twice_and_restocked_once_is_not_known(store, woo):
    store.refund_order(31, lines={129: 1}, restock=True)
    store.refund_order(31, lines={129: 1}, restock=False)
    store.refund_order(31, lines={130: 1}, restock=False)

    refunds = woo.list_refunds(31)

    assert [(r.line_items[0].refunded_item_id, r.line_items[0].restocked) for r in refunds] == [
        (130, False),
        (129, None),
        (129, None),
    ]


def test_the_sandboxs_generated_refunds_agree_with_their_orders(woo):
    refunded = [order for order in woo.iter_orders() if order.refunds]

    assert [order.id for order in refunded] == [32, 44, 58]
    for order in refunded:
        refunds = woo.list_refunds(order.id)
        assert [r.id for r in refunds] == [r.id for r in order.refunds]
        assert sum(r.amount for r in refunds) == order.refunded_total
    (full_by_lines,) = woo.list_refunds(58)
    assert full_by_lines.lines_amount == full_by_lines.amount
    assert [line.restocked for line in full_by_lines.line_items] == [True]
