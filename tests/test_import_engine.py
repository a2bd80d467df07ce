"""The import engine over real HTTP against the sandbox store: the connector's rules."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    Customer,
    CustomerHandling,
    CustomerMapping,
    CustomerTemplate,
    Item,
    ItemMapping,
    NumberSeries,
    OrderLink,
    Outcome,
    RunStatus,
    SalesLine,
    SalesOrder,
    SalesOrderStatus,
    SyncRun,
    WebstoreCountryTemplate,
)
from portal.sync.filters import FilterError, find_webstore, merge_filters
from portal.sync.runs import client_for
from portal.woo.client import OrderQuery
from tests.sync_helpers import count, duplicates, entries, run_import, sales_order_for


def store_orders(webstore, **query):
    with client_for(webstore) as client:
        return list(client.iter_orders(OrderQuery(**query)))


def store_day(order: dict) -> str:
    """The day the store shows for an order it just made: today in the store's timezone."""
    return order["date_created"][:10]


def test_new_orders_become_sales_orders(demo_webstore):
    orders = store_orders(demo_webstore)

    run = run_import(demo_webstore)

    # The demo store's 60 orders all import: the demo's setup books every one.
    assert (run.status, run.store_total, run.imported, run.failed) == (
        RunStatus.SUCCEEDED,
        60,
        60,
        0,
    )
    assert len(orders) == 60
    assert count(SalesOrder) == 60 == count(OrderLink)
    assert not any(duplicates().values())


def test_a_sales_order_carries_the_webstore_order(demo_webstore):
    woo = store_orders(demo_webstore, include=(44,))[0]

    run_import(demo_webstore, order_id=44)

    order = sales_order_for(demo_webstore, 44)
    assert order.external_document_no == woo.number
    assert order.order_date == woo.order_date
    assert order.ordered_at == woo.date_created
    assert order.currency == woo.currency
    assert order.sell_to_email == woo.billing.email.strip()
    assert order.ship_to_city == woo.shipping.city
    assert order.payment_method == woo.payment_method
    assert order.amount_including_tax == woo.total
    assert order.refunded_amount == woo.refunded_total
    lines = order.lines
    assert sum(line.amount + line.tax_amount for line in lines) == woo.total
    assert [line.line_type for line in lines].count("item") == len(woo.line_items)
    assert [line.line_type for line in lines].count("shipping") == len(woo.shipping_lines)
    assert [line.line_type for line in lines].count("fee") == len(woo.fee_lines)
    shipping = [line for line in lines if line.line_type == "shipping"]
    assert all(line.item == demo_webstore.shipping_charge_item for line in shipping)
    assert [r.amount for r in order.refunds] == [-r.total for r in woo.refunds]


def test_line_discounts_come_from_subtotal_minus_total(demo_webstore, store):
    created = store.create_order(status="processing", coupon="save10")

    run_import(demo_webstore, order_id=created["id"])

    order = sales_order_for(demo_webstore, created["id"])
    for woo_line, line in zip(created["line_items"], order.lines, strict=False):
        assert line.line_discount == Decimal(woo_line["subtotal"]) - Decimal(woo_line["total"])
    assert any(line.line_discount > 0 for line in order.lines)
    assert [c.code for c in order.coupons] == ["save10"]


def test_existing_orders_are_skipped_with_their_sales_order_number(demo_webstore):
    first = run_import(demo_webstore, statuses="processing")

    second = run_import(demo_webstore, statuses="processing")

    assert first.imported == 9  # the seeded store's processing orders
    assert second.imported == 0 and second.skipped == first.imported
    messages = {e.message for e in entries(second, Outcome.SKIPPED)}
    assert all(m.startswith("already imported as SO") for m in messages)
    assert second.status == RunStatus.SUCCEEDED


@pytest.mark.parametrize("status", [SalesOrderStatus.POSTED, SalesOrderStatus.ARCHIVED])
def test_posted_and_archived_orders_are_skipped_with_that_reason(demo_webstore, status):
    run_import(demo_webstore, order_id=44)
    order = sales_order_for(demo_webstore, 44)
    order.status = status
    db.session.commit()

    again = run_import(demo_webstore, order_id=44)

    [entry] = entries(again)
    assert entry.outcome == Outcome.SKIPPED
    assert entry.message == f"{status}: {order.number} is {status}"


def test_a_deleted_open_order_can_be_imported_again(demo_webstore):
    run_import(demo_webstore, order_id=44)
    db.session.delete(sales_order_for(demo_webstore, 44))
    db.session.commit()
    assert count(OrderLink) == 0

    again = run_import(demo_webstore, order_id=44)

    assert again.imported == 1


def test_manual_filters_win_over_the_setup(demo_webstore):
    demo_webstore.default_status_filter = "processing"
    demo_webstore.order_start_date = date(2020, 1, 1)
    db.session.commit()

    filters = merge_filters(demo_webstore, statuses=["completed"])

    assert filters.statuses == ("completed",)
    assert filters.start_date == date(2020, 1, 1)
    assert filters.sources == {"statuses": "manual", "start_date": "setup"}


def test_what_is_not_given_comes_from_the_setup_and_is_stored_on_the_run(demo_webstore):
    demo_webstore.default_status_filter = "completed,refunded"
    db.session.commit()
    expected = store_orders(demo_webstore, status=("completed", "refunded"))

    run = run_import(demo_webstore)

    assert run.filters["statuses"] == ["completed", "refunded"]
    assert run.filters["sources"]["statuses"] == "setup"
    assert run.imported + run.failed == len(expected)
    assert {o.woo_status for o in db.session.scalars(sa.select(SalesOrder))} <= {
        "completed",
        "refunded",
    }


def test_the_order_start_date_imports_orders_created_on_or_after_it(demo_webstore):
    everything = store_orders(demo_webstore)
    start = sorted(o.order_date for o in everything)[len(everything) // 2]

    run = run_import(demo_webstore, start_date=start.isoformat())

    # Days of the store's calendar (its timezone), as the store's admin shows them.
    expected = [o for o in everything if o.order_date >= start]
    assert run.imported + run.failed == len(expected)


def test_an_order_id_imports_that_order_alone(demo_webstore):
    demo_webstore.default_status_filter = "processing"
    db.session.commit()

    run = run_import(demo_webstore, order_id=32)  # refunded: not in the setup's filter

    assert run.imported == 1
    assert sales_order_for(demo_webstore, 32) is not None


def test_an_order_id_the_store_does_not_have_fails_with_that_reason(demo_webstore):
    run = run_import(demo_webstore, order_id=999999)

    [entry] = entries(run)
    assert entry.outcome == Outcome.FAILED
    assert "is not in the store" in entry.message


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"order_id": "abc"}, "order_id", "Order ID must be a whole number from 1"),
        ({"order_id": "-4"}, "order_id", "Order ID must be a whole number from 1"),
        ({"statuses": "shipped"}, "statuses", "WooCommerce has no order status shipped"),
        ({"start_date": "31/01/2026"}, "start_date", "is not a date like 2026-01-31"),
        ({"start_date": "in two days"}, "start_date", "is in the future"),
    ],
)
def test_bad_filters_are_refused_before_anything_runs(demo_webstore, given, field, message):
    if given.get("start_date") == "in two days":
        # Worked out as the test runs, not when it is collected: a suite may cross midnight.
        given = {"start_date": (date.today() + timedelta(days=2)).isoformat()}
    with pytest.raises(FilterError) as refused:
        merge_filters(demo_webstore, **given)
    assert refused.value.field == field
    assert message in str(refused.value)
    assert count(SyncRun) == 0


def test_an_unknown_webstore_is_refused(app):
    with pytest.raises(FilterError, match="There is no webstore with code NOPE"):
        find_webstore("nope")


def test_guests_with_one_email_become_one_customer(demo_webstore, store):
    first = store.create_order(customer_id=0, status="processing", email="Guest@Example.com")
    second = store.create_order(customer_id=0, status="processing", email="  guest@example.COM ")

    run_import(demo_webstore, order_id=first["id"])
    run_import(demo_webstore, order_id=second["id"])

    a = sales_order_for(demo_webstore, first["id"])
    b = sales_order_for(demo_webstore, second["id"])
    assert a.customer_id == b.customer_id
    assert a.customer.email == "guest@example.com"
    assert a.customer.created_by_sync


def test_guests_can_all_go_to_the_default_guest_customer(demo_webstore, store):
    from portal.setup.webstores import ensure_guest_customer

    demo_webstore.customer_handling = CustomerHandling.DEFAULT_GUEST
    ensure_guest_customer(demo_webstore)
    db.session.commit()
    first = store.create_order(customer_id=0, status="processing", email="one@example.com")
    second = store.create_order(customer_id=0, status="processing", email="two@example.com")

    for created in (first, second):
        run_import(demo_webstore, order_id=created["id"])

    guest = demo_webstore.guest_customer
    assert sales_order_for(demo_webstore, first["id"]).customer_id == guest.id
    assert sales_order_for(demo_webstore, second["id"]).customer_id == guest.id
    assert count(Customer) == 1


def test_registered_customers_are_found_again_by_their_mapping(demo_webstore, store):
    first = store.create_order(customer_id=2, status="processing")
    second = store.create_order(customer_id=2, status="completed", email="changed@example.com")

    run_import(demo_webstore, order_id=first["id"])
    run_import(demo_webstore, order_id=second["id"])

    a = sales_order_for(demo_webstore, first["id"])
    b = sales_order_for(demo_webstore, second["id"])
    assert a.customer_id == b.customer_id
    assert count(CustomerMapping, CustomerMapping.woo_customer_id == 2) == 1


def test_registered_customers_are_found_by_email_when_not_yet_mapped(demo_webstore, store):
    created = store.create_order(customer_id=2, status="processing")
    email = created["billing"]["email"].strip().lower()
    existing = Customer(number="C90000", name="Made by hand", email=email)
    db.session.add(existing)
    db.session.commit()

    run_import(demo_webstore, order_id=created["id"])

    assert sales_order_for(demo_webstore, created["id"]).customer_id == existing.id
    assert count(CustomerMapping, CustomerMapping.customer_id == existing.id) == 1


def test_new_customers_take_the_template_of_their_billing_country(demo_webstore, store):
    created = store.create_order(customer_id=0, status="processing")
    country = created["billing"]["country"]
    template = CustomerTemplate(code="LOCAL", payment_terms="14 DAYS", currency="EUR")
    db.session.add(template)
    db.session.add(
        WebstoreCountryTemplate(webstore=demo_webstore, country=country, customer_template=template)
    )
    db.session.commit()

    run_import(demo_webstore, order_id=created["id"])

    customer = sales_order_for(demo_webstore, created["id"]).customer
    assert customer.template_code == "LOCAL"
    assert customer.payment_terms == "14 DAYS" and customer.currency == "EUR"


def test_other_countries_take_the_default_template(demo_webstore, store):
    created = store.create_order(customer_id=0, status="processing")

    run_import(demo_webstore, order_id=created["id"])

    assert sales_order_for(demo_webstore, created["id"]).customer.template_code == "DEFAULT"


def test_a_missing_customer_with_auto_create_off_fails_naming_customer_and_setting(
    demo_webstore, store
):
    demo_webstore.auto_create_customers = False
    db.session.commit()
    created = store.create_order(customer_id=0, status="processing", email="new@example.com")

    run = run_import(demo_webstore, order_id=created["id"])

    [entry] = entries(run)
    assert entry.outcome == Outcome.FAILED
    assert "<new@example.com>" in entry.message
    assert "'Create missing customers' is off in the setup of DEMO" in entry.message
    assert "create the customer with that email on Customers (/customers/new)" in entry.message
    assert count(Customer) == 0 and count(Item, Item.created_by_sync) == 0
    # Nothing imported, something failed: the run failed.
    assert run.status == RunStatus.FAILED


def test_items_are_found_by_the_variation_sku(demo_webstore, store):
    created = store.create_order(
        status="processing", lines=[{"product_id": 14, "variation_id": 15, "quantity": 2}]
    )
    sku = created["line_items"][0]["sku"]
    item = Item(number="I90000", description="By hand", sku=sku)
    db.session.add(item)
    db.session.commit()

    run_import(demo_webstore, order_id=created["id"])

    line = sales_order_for(demo_webstore, created["id"]).lines[0]
    assert line.item_id == item.id
    assert count(Item, Item.created_by_sync) == 0


def test_items_are_found_by_the_product_sku(demo_webstore, store):
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    item = Item(number="I90001", description="Mug", sku=created["line_items"][0]["sku"])
    db.session.add(item)
    db.session.commit()

    run_import(demo_webstore, order_id=created["id"])

    assert sales_order_for(demo_webstore, created["id"]).lines[0].item_id == item.id


def test_items_without_sku_are_found_by_their_mapping(demo_webstore, store):
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    line = created["line_items"][0]
    item = Item(number="I90002", description="Mapped")
    db.session.add(item)
    db.session.flush()
    db.session.add(
        ItemMapping(
            webstore_id=demo_webstore.id,
            woo_product_id=line["product_id"],
            woo_variation_id=line["variation_id"],
            item_id=item.id,
        )
    )
    db.session.commit()
    db.session.execute(sa.update(Item).where(Item.sku == line["sku"]).values(sku=None))

    run_import(demo_webstore, order_id=created["id"])

    # The SKU finds nothing here, so the mapping decides.
    assert sales_order_for(demo_webstore, created["id"]).lines[0].item_id == item.id


def test_new_items_take_the_default_template_and_the_line_description_and_price(
    demo_webstore, store
):
    created = store.create_order(status="processing", lines=[{"product_id": 12, "quantity": 3}])
    line = created["line_items"][0]

    run = run_import(demo_webstore, order_id=created["id"])

    item = db.session.scalar(sa.select(Item).where(Item.sku == line["sku"]))
    assert item.description == line["name"]
    assert item.unit_price == Decimal(f"{line['price']:.2f}")
    assert item.template_code == "DEFAULT" and item.created_by_sync
    assert entries(run)[0].items_created == item.number


def test_a_customer_and_item_a_batch_shares_are_named_only_on_the_order_that_created_them(
    demo_webstore, store
):
    notebook = [{"product_id": 12, "quantity": 1}]
    first = store.create_order(
        customer_id=0, status="on-hold", email="shared@example.com", lines=notebook
    )
    second = store.create_order(
        customer_id=0, status="on-hold", email="shared@example.com", lines=notebook
    )

    run = run_import(demo_webstore, statuses="on-hold", start_date=store_day(second))

    customer = sales_order_for(demo_webstore, first["id"]).customer
    item = db.session.scalar(sa.select(Item).where(Item.sku == first["line_items"][0]["sku"]))
    assert sales_order_for(demo_webstore, second["id"]).customer_id == customer.id
    assert [(e.woo_order_id, e.customers_created, e.items_created) for e in entries(run)] == [
        (first["id"], customer.number, item.number),
        (second["id"], "", ""),
    ]


def test_a_missing_item_with_auto_create_off_fails_naming_the_sku(demo_webstore, store):
    demo_webstore.auto_create_items = False
    db.session.commit()
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
    sku = created["line_items"][0]["sku"]

    run = run_import(demo_webstore, order_id=created["id"])

    [entry] = entries(run, Outcome.FAILED)
    assert entry.message.startswith(f"SKU {sku} (")
    assert "'Create missing items' is off in the setup of DEMO" in entry.message
    assert count(SalesOrder) == 0 and count(Customer) == 0


def test_a_failing_order_amid_good_ones_fails_alone(demo_webstore, store):
    demo_webstore.auto_create_items = False
    db.session.add(Item(number="I90003", description="Mug", sku="MUG-001"))
    db.session.commit()
    good = [
        store.create_order(status="on-hold", lines=[{"product_id": 11, "quantity": n}])
        for n in (1, 2)
    ]
    bad = store.create_order(status="on-hold", lines=[{"product_id": 13, "quantity": 1}])

    run = run_import(demo_webstore, statuses="on-hold", start_date=store_day(bad))

    assert run.status == RunStatus.PARTIAL
    assert {e.woo_order_id for e in entries(run, Outcome.IMPORTED)} == {g["id"] for g in good}
    assert [e.woo_order_id for e in entries(run, Outcome.FAILED)] == [bad["id"]]
    assert sales_order_for(demo_webstore, bad["id"]) is None
    # The failed order's customer was not created: only the good orders' customers exist.
    good_customers = {sales_order_for(demo_webstore, g["id"]).customer_id for g in good}
    assert {c.id for c in db.session.scalars(sa.select(Customer))} == good_customers


def test_an_order_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_imported(
    demo_webstore, store
):
    # The mug has its item. The notebook's item would be made under the next item number,
    # which a record typed in by hand has taken: the database refuses that row, and with
    # it the whole batch, which is then written order by order.
    db.session.add(Item(number="I90004", description="Mug", sku="MUG-001"))
    series = db.session.get(NumberSeries, "ITEM")
    taken = f"{series.prefix}{series.last_no + 1:0{series.digits}d}"
    db.session.add(Item(number=taken, description="Typed in by hand"))
    db.session.commit()
    mugs = [
        store.create_order(status="on-hold", lines=[{"product_id": 11, "quantity": n}])
        for n in (1, 2)
    ]
    notebook = store.create_order(status="on-hold", lines=[{"product_id": 12, "quantity": 1}])
    mugs.append(store.create_order(status="on-hold", lines=[{"product_id": 11, "quantity": 3}]))

    run = run_import(demo_webstore, statuses="on-hold", start_date=store_day(notebook))

    assert run.status == RunStatus.PARTIAL
    assert (run.imported, run.failed) == (3, 1)
    assert {e.woo_order_id for e in entries(run, Outcome.IMPORTED)} == {m["id"] for m in mugs}
    (failure,) = entries(run, Outcome.FAILED)
    assert failure.woo_order_id == notebook["id"]
    assert failure.message.startswith(
        "Could not be saved: a number or SKU it needs is taken already"
    )
    # What the database said stays in the application log, never on a page.
    assert "duplicate key" not in failure.message and "INSERT" not in failure.message
    assert sales_order_for(demo_webstore, notebook["id"]) is None
    assert count(Item, Item.created_by_sync) == 0
    assert all(sales_order_for(demo_webstore, m["id"]).lines for m in mugs)


def test_a_store_that_refuses_the_credentials_fails_the_run_with_the_reason(demo_webstore):
    demo_webstore.consumer_secret = "cs_wrong"
    db.session.commit()

    run = run_import(demo_webstore)

    assert run.status == RunStatus.FAILED
    assert run.reason == (
        "The store could not be read: The store refused the signature, so the consumer secret"
        " is wrong: check the secret in the webstore setup. (The store said: Invalid signature"
        " - provided signature does not match.)."
    )
    assert run.finished_at is not None


def test_an_unreachable_store_fails_the_run_with_the_reason(demo_webstore, app):
    demo_webstore.base_url = "http://127.0.0.1:9"
    demo_webstore.timeout_seconds = 1
    db.session.commit()

    run = run_import(demo_webstore)

    assert run.status == RunStatus.FAILED
    assert "The store could not be read" in run.reason


def test_run_counts_add_up(demo_webstore):
    run = run_import(demo_webstore)

    assert run.fetched == run.imported + run.skipped + run.failed
    assert len(entries(run)) == run.fetched
    assert run.started_at <= run.finished_at
    assert datetime.now(UTC) - run.finished_at < timedelta(minutes=1)
    assert count(SalesLine) == 184  # the seeded store's 60 orders' lines
