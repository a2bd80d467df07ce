"""A manual import reads every order the filters match, though orders leave the store while
it lists: pages by number shift forward then, and an order may be on no page."""

import pytest

from portal.models import Outcome
from tests.sync_helpers import duplicates, entries, run_import, sales_order_for


@pytest.fixture
def trash_while_listing(store, monkeypatch):
    """After the run's first page is written, a person trashes five orders of that page."""
    from portal.sync import importer

    monkeypatch.setattr(importer, "PAGE_SIZE", 5)  # the 60 orders on twelve pages
    real_write = importer.OrderImport._write_page
    trashed = []

    def write_then_trash(self, page, *args, **kwargs):
        real_write(self, page, *args, **kwargs)
        if not trashed:
            trashed.extend(o.id for o in page.orders)
            for order_id in trashed:
                store.trash_order(order_id)

    monkeypatch.setattr(importer.OrderImport, "_write_page", write_then_trash)
    return trashed


def test_every_order_is_read_once_though_orders_were_trashed_meanwhile(
    demo_webstore, store, trash_while_listing
):
    run = run_import(demo_webstore)

    assert len(trash_while_listing) == 5
    assert (run.imported, run.failed) == (60, 0)
    imported = [e.woo_order_id for e in entries(run, Outcome.IMPORTED)]
    assert len(imported) == len(set(imported)) == 60
    assert not any(duplicates().values())


def test_a_trashed_order_leaves_the_listing_and_its_order_id_import_says_it_is_in_the_trash(
    demo_webstore, store
):
    from portal.sync.runs import client_for

    store.trash_order(23)

    with client_for(demo_webstore) as client:
        listed = [o.id for o in client.iter_orders()]
    assert 23 not in listed and len(listed) == 59
    (entry,) = entries(run_import(demo_webstore, order_id=23))
    assert entry.outcome == Outcome.SKIPPED
    assert entry.message.startswith("in the store's trash: order 23 is not imported unless")
    assert sales_order_for(demo_webstore, 23) is None
