"""Store faults survived: 500s, 429s with Retry-After, hangs and truncated bodies."""

import sqlalchemy as sa

from portal import db
from portal.models import OrderLink, Outcome, RunStatus
from portal.sync import importer
from tests.sync_helpers import duplicates, entries, run_import


def test_a_faulty_store_still_gets_every_order_imported_or_failed_with_its_reason(
    demo_webstore, store, monkeypatch
):
    store.create_orders(140)  # 200 orders
    # Pages of 20: enough requests to meet the store's faults, however few a run makes.
    monkeypatch.setattr(importer, "PAGE_SIZE", 20)
    demo_webstore.timeout_seconds = 1
    db.session.commit()
    store.set_faults(
        fail_rate=0.10,
        rate_limit_rate=0.05,
        timeout_rate=0.03,
        truncate_rate=0.03,
        hang_seconds=2,
        retry_after=1,
    )

    run = run_import(demo_webstore)

    assert (run.status, run.imported, run.failed) == (RunStatus.SUCCEEDED, 200, 0), run.reason
    # The store draws its faults from a seeded generator: these requests meet two 500s.
    faults = store.stats()["faults"]
    assert {name: n for name, n in faults.items() if n} == {"error": 2}
    imported = set(db.session.scalars(sa.select(OrderLink.woo_order_id)))
    failed = {e.woo_order_id for e in entries(run, Outcome.FAILED)}
    assert len(imported) + len(failed) == run.store_total == 200
    assert all(e.message for e in entries(run, Outcome.FAILED))
    assert not any(duplicates().values())


def test_a_store_down_for_the_whole_run_fails_the_run_with_the_reason(demo_webstore, store):
    store.set_faults(fail_rate=1.0)

    run = run_import(demo_webstore)

    assert run.status == RunStatus.FAILED
    assert "The store could not be read" in run.reason
    assert "gave up after" in run.reason
    assert run.imported == 0
