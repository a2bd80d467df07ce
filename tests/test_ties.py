"""No order is lost to paging: orders sharing a modified second, as a real store pages them.

A bulk action in WooCommerce's admin stamps hundreds of orders with one second, and the
store sorts ``orderby=modified`` by that time alone: the sandbox, like MySQL, returns ties
in an order that changes from request to request, so pages overlap and some orders are on
no page. Automatic sync must still settle every order exactly once.
"""

from collections import Counter

import pytest

from portal import db
from portal.models import SyncRun, Trigger
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters
from tests.sync_helpers import duplicates, entries

TIED = 250


@pytest.fixture
def auto_webstore(demo_webstore):
    demo_webstore.auto_sync = True
    db.session.commit()
    return demo_webstore


@pytest.fixture
def tied_store(store):
    """The 60 seed orders and 250 more, all 310 then changed in one second."""
    store.create_orders(TIED)
    ids = listed_ids(store, "id")
    store.bulk_modify(ids, status="completed", date_modified="2026-11-30T12:00:00Z")
    return ids


def listed_ids(store, orderby, pages=4, **params) -> list[int]:
    """The ids of the listing's first pages, as the store sends them (ids only)."""
    from portal.woo.client import WooClient

    found = []
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        for page in range(1, pages + 1):
            data, _ = client._get(
                client._url("orders"),
                {
                    "orderby": orderby,
                    "order": "asc",
                    "per_page": 100,
                    "page": page,
                    "_fields": "id",
                    **params,
                },
            )
            found += [order["id"] for order in data]
    return found


def run_automatic(webstore) -> SyncRun:
    run = create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC)
    return execute_run(run.id)


def settled_per_order(run) -> Counter:
    return Counter(e.woo_order_id for e in entries(run))


def test_the_store_pages_ties_as_a_real_store_does(store, tied_store):
    by_modified = listed_ids(store, "modified")

    # Four pages hold every order, yet some come twice and others never.
    assert len(by_modified) == len(tied_store)
    assert len(set(by_modified)) < len(tied_store)
    # The second itself, read by id between its neighbours, holds each order once.
    second = {
        "modified_after": "2026-11-30T11:59:59",
        "modified_before": "2026-11-30T12:00:01",
        "dates_are_gmt": "true",
    }
    assert listed_ids(store, "id", **second) == sorted(tied_store)


def test_every_order_of_a_bulk_change_is_imported_once(auto_webstore, tied_store):
    run = run_automatic(auto_webstore)

    assert (run.imported, run.failed) == (len(tied_store), 0)
    assert set(settled_per_order(run).values()) == {1}
    assert not any(duplicates().values())
    db.session.refresh(auto_webstore)
    assert auto_webstore.watermark.isoformat() == "2026-11-30T12:00:00+00:00"


def test_a_bulk_change_after_import_is_seen_on_every_order_once(auto_webstore, store):
    store.create_orders(TIED)
    first = run_automatic(auto_webstore)
    ids = sorted(settled_per_order(first))

    store.bulk_modify(ids, customer_note="Ship after the holidays")
    second = run_automatic(auto_webstore)

    per_order = settled_per_order(second)
    assert set(per_order) == set(ids) and set(per_order.values()) == {1}
    assert second.changed == len(ids)


def test_ties_across_a_page_boundary(auto_webstore, store, monkeypatch):
    from portal.sync import incremental

    monkeypatch.setattr(incremental, "PAGE_SIZE", 20)
    ids = store.create_orders(45)
    # 15 orders of the seed store before, then 45 sharing a second across pages 1 to 3.
    store.bulk_modify(ids, date_modified="2026-11-30T12:00:00Z")

    run = run_automatic(auto_webstore)

    assert run.imported + run.failed == 60 + 45
    assert set(settled_per_order(run).values()) == {1}


def test_orders_modified_while_their_second_is_read_are_not_lost(
    auto_webstore, tied_store, store, monkeypatch
):
    from portal.sync import incremental

    real_settle = incremental.IncrementalImport._settle
    moved = []

    def settle_while_the_admin_works(self, refs, invalid):
        if not moved and refs:
            # A person edits five orders of the tied second while the run reads it.
            # Orders of the first page by id: the later pages shift by five.
            moved.extend(tied_store[10:15])
            for order_id in moved:
                store.modify_order(order_id, customer_note="please gift-wrap")
        return real_settle(self, refs, invalid)

    monkeypatch.setattr(incremental.IncrementalImport, "_settle", settle_while_the_admin_works)
    run = run_automatic(auto_webstore)
    monkeypatch.undo()
    later = run_automatic(auto_webstore)

    settled = settled_per_order(run)
    assert set(settled) == set(tied_store)
    assert not any(duplicates().values())
    # The edited orders were read once in their old second or their new one, and the
    # next run sees their new state once more (changed, or skipped if read after it).
    assert set(settled_per_order(later)) >= set(moved)
