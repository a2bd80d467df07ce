"""A store that keeps its orders the legacy way (WordPress posts, HPOS off).

There ``orderby=modified`` sorts by the store's local time, which repeats an hour when
daylight saving ends: a keyset over it skips orders. The sandbox on posts storage has 150
orders last modified in both passes of Berlin's repeated hour of 25 October 2026, so a page
of 100 sorted by modified time ends inside it. Automatic sync must import every one.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import OrderLink, Outcome, RunStatus, Trigger, Webstore
from portal.sync.runs import client_for, create_run, execute_run
from portal.sync.schedule import incremental_filters
from portal.woo.client import OrderQuery
from tests.sync_helpers import duplicates, entries


@pytest.fixture(scope="module")
def posts_store():
    from sandbox.process import SandboxProcess

    with SandboxProcess(
        seed=3,
        orders=400,
        storage="posts",
        timezone="Europe/Berlin",
        extra_args=("--until", "2026-11-01T00:00:00Z"),
    ) as store:
        yield store


@pytest.fixture
def legacy_webstore(app, posts_store):
    from portal.setup.demo import seed_demo_webstore

    posts_store.reset()
    webstore = seed_demo_webstore(
        posts_store.base_url, posts_store.consumer_key, posts_store.consumer_secret
    )
    webstore.default_status_filter = ""
    db.session.commit()
    return webstore


def sync(webstore: Webstore):
    run = execute_run(create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id)
    db.session.refresh(webstore)
    return run


def imported_ids(webstore: Webstore) -> set[int]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            sa.select(OrderLink.woo_order_id).where(OrderLink.webstore_id == webstore.id)
        )
    )


def store_ids(webstore: Webstore, **query) -> set[int]:
    with client_for(webstore) as client:
        return {ref.id for ref in client.iter_orders(OrderQuery(**query))}


def test_the_store_is_known_to_keep_its_orders_as_posts(legacy_webstore):
    sync(legacy_webstore)

    assert legacy_webstore.order_storage == "posts"


def test_automatic_sync_imports_every_order_across_the_repeated_hour(legacy_webstore):
    run = sync(legacy_webstore)

    assert run.status == RunStatus.SUCCEEDED, run.reason
    assert imported_ids(legacy_webstore) == store_ids(legacy_webstore)
    assert (run.imported, run.failed) == (400, 0)
    assert not any(duplicates().values())


def test_automatic_sync_with_an_order_start_date_imports_every_order_from_that_day(
    legacy_webstore,
):
    legacy_webstore.order_start_date = date(2026, 5, 1)
    db.session.commit()

    run = sync(legacy_webstore)

    wanted = store_ids(legacy_webstore, created_from=date(2026, 5, 1))
    assert run.status == RunStatus.SUCCEEDED, run.reason
    assert imported_ids(legacy_webstore) == wanted
    assert run.imported == len(wanted) and 100 < len(wanted) < 400


def test_a_second_sync_finds_nothing_new_and_the_watermark_is_just_past(legacy_webstore):
    sync(legacy_webstore)
    watermark = legacy_webstore.watermark

    again = sync(legacy_webstore)

    assert again.imported == 0 and again.failed == 0
    assert legacy_webstore.watermark >= watermark


def test_an_edit_that_leaves_the_modified_time_is_seen_on_an_open_order(
    legacy_webstore, posts_store
):
    # On posts storage WooCommerce's REST API edits a quantity or an address without
    # touching the order's modified time (measured on 10.0.2): the open orders are read
    # in full, not trusted by that time.
    sync(legacy_webstore)
    with client_for(legacy_webstore) as client:
        order = client.get_order(412)
    line = order.line_items[0]
    posts_store.modify_order(
        412,
        quantities={line.id: line.quantity + 1},
        date_modified=order.date_modified.isoformat(),
    )

    run = sync(legacy_webstore)

    (entry,) = [e for e in entries(run) if e.woo_order_id == 412]
    assert entry.outcome == Outcome.CHANGED
    assert f"quantity of '{line.name}' {line.quantity} → {line.quantity + 1}" in entry.message
