"""A batch asks the store for what planning needs before it takes the import lock, its
lookups run as the same statements on PostgreSQL and SQLite, and a run collects garbage
less often while it works."""

import gc
import sys
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import CurrencyExchangeRate, Item, ItemMapping, Outcome, Trigger
from portal.sync.exchange_rates import rates_on
from portal.sync.filters import merge_filters
from portal.sync.lookups import existing_links
from portal.sync.runs import client_for, create_run, execute_run
from portal.woo.client import WooClient
from tests.sync_helpers import entries, run_import, sales_order_for


def import_lock_is_free() -> bool:
    """Whether another connection could take the import lock now, without waiting."""
    with db.engine.connect() as other:
        try:
            if other.dialect.name == "postgresql":
                other.exec_driver_sql(
                    "SELECT 1 FROM number_series WHERE code = 'SO' FOR UPDATE NOWAIT"
                )
            else:
                other.exec_driver_sql("PRAGMA busy_timeout = 0")
                other.exec_driver_sql("BEGIN IMMEDIATE")
            return True
        except sa.exc.OperationalError:
            return False
        finally:
            other.rollback()


@pytest.fixture
def product_sku_requests(monkeypatch):
    """Each call of the store for product SKUs, with whether the import lock was free."""
    calls = []
    ask_store = WooClient.product_skus

    def product_skus(client, product_ids):
        calls.append((sorted(product_ids), import_lock_is_free()))
        return ask_store(client, product_ids)

    monkeypatch.setattr(WooClient, "product_skus", product_skus)
    return calls


def test_a_variation_is_found_by_its_products_sku_asked_before_the_lock(
    demo_webstore, store, product_sku_requests
):
    shirt = Item(number="I90100", description="Logo T-Shirt", sku="TSHIRT")
    db.session.add(shirt)
    db.session.commit()
    created = store.create_order(
        status="processing", lines=[{"product_id": 14, "variation_id": 15, "quantity": 1}]
    )

    run = run_import(demo_webstore, order_id=created["id"])

    assert [e.outcome for e in entries(run)] == [Outcome.IMPORTED]
    assert sales_order_for(demo_webstore, created["id"]).lines[0].item_id == shirt.id
    mapping = db.session.scalar(sa.select(ItemMapping).where(ItemMapping.item_id == shirt.id))
    assert (mapping.woo_product_id, mapping.woo_variation_id) == (14, 15)
    assert product_sku_requests == [([14], True)]


def test_the_store_is_not_asked_for_a_product_the_database_places(
    demo_webstore, store, product_sku_requests
):
    created = store.create_order(
        status="processing", lines=[{"product_id": 14, "variation_id": 16, "quantity": 1}]
    )
    own_sku = created["line_items"][0]["sku"]
    db.session.add(Item(number="I90101", description="Shirt M red", sku=own_sku))
    db.session.commit()

    run_import(demo_webstore, order_id=created["id"])

    assert sales_order_for(demo_webstore, created["id"]).lines[0].sku == own_sku
    assert product_sku_requests == []


def test_exchange_rates_are_the_latest_starting_on_or_before_each_day(app):
    db.session.add_all(
        [
            CurrencyExchangeRate(currency="USD", starting_date=date(2026, 1, 1), rate="0.9"),
            CurrencyExchangeRate(currency="USD", starting_date=date(2026, 3, 1), rate="0.8"),
            CurrencyExchangeRate(currency="USD", starting_date=date(2026, 6, 1), rate="0.7"),
            CurrencyExchangeRate(currency="GBP", starting_date=date(2026, 2, 1), rate="1.2"),
        ]
    )
    db.session.commit()
    days = [
        ("USD", date(2025, 12, 31)),
        ("USD", date(2026, 2, 28)),
        ("USD", date(2026, 3, 1)),
        ("USD", date(2026, 5, 31)),
        ("GBP", date(2026, 1, 31)),
        ("GBP", date(2026, 4, 1)),
        ("CHF", date(2026, 4, 1)),
    ]

    assert rates_on(days) == {
        ("USD", date(2025, 12, 31)): None,
        ("USD", date(2026, 2, 28)): Decimal("0.9"),
        ("USD", date(2026, 3, 1)): Decimal("0.8"),
        ("USD", date(2026, 5, 31)): Decimal("0.8"),
        ("GBP", date(2026, 1, 31)): None,
        ("GBP", date(2026, 4, 1)): Decimal("1.2"),
        ("CHF", date(2026, 4, 1)): None,
    }


def test_links_are_found_by_a_list_of_ids_on_either_database(demo_webstore, store):
    first, second = (
        store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 1}])
        for _ in range(2)
    )
    run_import(demo_webstore, order_id=first["id"])
    number = sales_order_for(demo_webstore, first["id"]).number

    links = existing_links(demo_webstore.id, [first["id"], second["id"], 10**9], None)

    assert list(links) == [first["id"]]
    assert number in links[first["id"]]


def test_a_run_collects_garbage_less_often_and_switches_threads_sooner_and_restores_both(
    demo_webstore,
):
    before = gc.get_threshold(), sys.getswitchinterval()
    during = []
    run = create_run(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)

    execute_run(
        run.id, progress=lambda: during.append((gc.get_threshold(), sys.getswitchinterval()))
    )

    thresholds, switch = before
    assert set(during) == {((20_000, 2 * thresholds[1], 2 * thresholds[2]), 0.001)}
    assert (gc.get_threshold(), sys.getswitchinterval()) == before


def test_products_skus_are_read_a_hundred_at_a_time_and_an_unknown_one_has_none(
    demo_webstore, store
):
    with client_for(demo_webstore) as client:
        skus = client.product_skus([14, 11, 13, 999_999])

    # 999,999 is not listed, so it is asked for by itself: the store has no such product.
    assert skus == {11: "MUG-001", 13: "GIFT-25", 14: "TSHIRT", 999_999: None}
