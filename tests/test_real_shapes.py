"""Contract: real WooCommerce orders import, through real HTTP, exactly as the store has them.

The sandbox serves the orders of tests/fixtures/real-shapes (``--orders-file``): orders of a
real WooCommerce 10.0.2 store in Europe/Berlin that the import once refused or dated wrong.
"""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portal import db
from portal.models import CustomerHandling, Outcome, SalesOrder
from tests.sync_helpers import count, entries, run_import, sales_order_for

REAL_SHAPES = Path(__file__).parent / "fixtures" / "real-shapes"
ORDERS = sorted(REAL_SHAPES.glob("order_*.json"), key=lambda p: int(p.name.split("_")[1]))


@pytest.fixture(scope="module")
def real_orders(tmp_path_factory) -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in ORDERS]


@pytest.fixture(scope="module")
def real_store(real_orders, tmp_path_factory):
    """A store serving the real orders over HTTP, as a user replays an export of theirs."""
    from sandbox.process import SandboxProcess

    export = tmp_path_factory.mktemp("export") / "orders.json"
    export.write_text(json.dumps(real_orders), encoding="utf-8")
    with SandboxProcess(orders_file=export) as store:
        yield store


@pytest.fixture
def real_webstore(app, real_store):
    from portal.setup.demo import seed_demo_webstore

    webstore = seed_demo_webstore(
        real_store.base_url, real_store.consumer_key, real_store.consumer_secret
    )
    webstore.default_status_filter = ""  # the real shapes come in several statuses
    db.session.commit()
    return webstore


def test_every_real_order_imports_and_equals_the_stores_total_to_the_cent(
    real_webstore, real_orders
):
    run = run_import(real_webstore)

    assert (run.imported, run.skipped, run.failed) == (len(real_orders), 0, 0)
    for data in real_orders:
        order = sales_order_for(real_webstore, data["id"])
        lines = order.lines
        assert order.amount_including_tax == Decimal(data["total"])
        assert sum(line.amount + line.tax_amount for line in lines) == Decimal(data["total"])
        assert order.tax_amount == Decimal(data["total_tax"])
        assert order.order_date == date.fromisoformat(data["date_created"][:10])


def test_order_dates_follow_the_stores_calendar(real_webstore):
    run_import(real_webstore, order_id=38)

    order = sales_order_for(real_webstore, 38)
    # 01:37 in Berlin on 4 October is 23:37 UTC on 3 October.
    assert order.order_date == date(2026, 10, 4)
    assert order.ordered_at.isoformat() == "2026-10-03T23:37:58+00:00"


def test_the_start_date_is_a_day_of_the_stores_calendar(real_webstore):
    # Order 38 was created at 01:37 on 4 October in Berlin (3 October in UTC), order 43 at
    # 01:21 on 5 October (4 October in UTC).
    on_the_4th = run_import(real_webstore, start_date="2026-10-04", statuses="completed")
    assert [e.woo_order_id for e in entries(on_the_4th, Outcome.IMPORTED)] == [38, 162]

    on_the_5th = run_import(real_webstore, start_date="2026-10-05", statuses="processing")
    assert [e.woo_order_id for e in entries(on_the_5th, Outcome.IMPORTED)] == [43, 185, 357]


def test_lines_without_a_product_are_booked_on_the_setup_item_and_logged(real_webstore):
    run = run_import(real_webstore, order_id=43)

    (entry,) = entries(run)
    item = real_webstore.no_product_item
    assert entry.outcome == Outcome.IMPORTED
    assert entry.message == (
        f"Imported as SO00001; line 3 'Discontinued Sampler Box' has no product in the store: "
        f"booked on item {item.number}"
    )
    line = sales_order_for(real_webstore, 43).lines[2]
    assert (line.item_id, line.description, line.sku) == (item.id, "Discontinued Sampler Box", "")
    assert (line.quantity, line.unit_price, line.amount, line.tax_amount) == (
        1,
        Decimal("32.00"),
        Decimal("28.79"),
        Decimal("5.76"),
    )


def test_tax_rounded_at_subtotal_is_reconciled_and_the_log_says_how(real_webstore):
    run = run_import(real_webstore, order_id=162)

    (entry,) = entries(run)
    assert entry.message == (
        "Imported as SO00001; the store rounded over the whole order: -0.01 tax on "
        "'Burr Grinder Pro' (US Tax) USD, so that the sales order matches its tax lines and "
        "total 329.58 USD"
    )
    order = sales_order_for(real_webstore, 162)
    assert [line.tax_amount for line in order.lines] == [
        Decimal(tax) for tax in ("4.28", "5.99", "12.89", "1.50", "4.80", "0.50")
    ]


def test_coupon_tax_with_three_decimals_is_stored_rounded(real_webstore):
    run_import(real_webstore, order_id=185)

    (coupon,) = sales_order_for(real_webstore, 185).coupons
    assert (coupon.discount, coupon.discount_tax) == (Decimal("14.96"), Decimal("2.99"))


def test_a_guest_without_email_becomes_a_customer_of_its_own(real_webstore):
    run_import(real_webstore, order_id=175)

    customer = sales_order_for(real_webstore, 175).customer
    assert (customer.name, customer.email, customer.post_code) == ("Noah Taylor", None, "M3 2BQ")


def test_guests_without_email_go_to_the_default_guest_customer_under_that_handling(
    real_webstore,
):
    from portal.setup.webstores import ensure_guest_customer

    real_webstore.customer_handling = CustomerHandling.DEFAULT_GUEST
    ensure_guest_customer(real_webstore)
    db.session.commit()

    run_import(real_webstore, order_id=175)

    assert sales_order_for(real_webstore, 175).customer_id == real_webstore.guest_customer_id


def test_a_guest_without_email_fails_only_when_the_setup_gives_no_way(
    real_webstore, signed_in_admin
):
    real_webstore.auto_create_customers = False
    db.session.commit()

    run = run_import(real_webstore, order_id=175)

    (entry,) = entries(run)
    assert entry.outcome == Outcome.FAILED
    assert "turn 'Create missing customers' on" in entry.message
    assert count(SalesOrder) == 0
    # The run page links the setting's place to the webstore's setup.
    page = signed_in_admin.get(f"/imports/runs/{run.id}").text
    setup_link = f'<a href="/setup/webstores/{real_webstore.id}">Setup &gt; Webstores &gt; DEMO</a>'
    assert setup_link in page


def test_new_items_take_the_price_before_discounts(real_webstore):
    run_import(real_webstore, order_id=43)  # a 10 % coupon

    frother = sales_order_for(real_webstore, 43).lines[0].item
    assert (frother.sku, frother.unit_price) == ("FRO-MLK-01", Decimal("19.99"))


@pytest.mark.parametrize("timezone", ["Europe/Berlin", "America/New_York"])
def test_a_generated_store_with_every_real_shape_imports_to_the_cent(app, timezone):
    """300 orders of a store rounding tax at subtotal, with prices with tax, several rates
    and currencies, lines without a product, guests without email, and orders made just
    after the store's midnight, on the nights its clocks change too."""
    from portal.setup.demo import seed_demo_webstore
    from portal.woo.client import WooClient
    from sandbox.process import SandboxProcess

    shapes = ["--real-shapes", "--round-tax-at-subtotal"]
    with SandboxProcess(seed=7, orders=300, timezone=timezone, extra_args=shapes) as store:
        webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
        webstore.default_status_filter = ""
        db.session.commit()
        run = run_import(webstore)
        with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
            orders = list(client.iter_orders())

    assert (run.imported, run.failed) == (300, 0)
    assert any(not line.has_product for o in orders for line in o.line_items)
    assert any(o.is_guest and not o.billing.email for o in orders)
    assert any(o.order_date != o.date_created.date() for o in orders)
    for order in orders:
        sales_order = sales_order_for(webstore, order.id)
        lines = sales_order.lines
        assert sum(line.amount + line.tax_amount for line in lines) == order.total
        assert (sales_order.tax_amount, sales_order.order_date) == (
            order.total_tax,
            order.order_date,
        )
