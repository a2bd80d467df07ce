"""Exactly once under concurrency: manual, automatic and webhook runs on real workers at once."""

import base64
import hashlib
import hmac
import json

import sqlalchemy as sa

from portal import db
from portal.models import OrderLink, Outcome, RunStatus, SyncRun, Trigger
from portal.sync.filters import merge_filters
from portal.sync.runs import start_import
from portal.sync.schedule import enqueue_due
from tests.sync_helpers import duplicates, entries

SECRET = "whsec-exactly-once"


def webhook(client, order_id: int, copy: int):
    body = json.dumps({"id": order_id, "status": "processing", "copy": copy}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return client.post(
        "/webhooks/woocommerce/DEMO",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": signature.decode(),
        },
    )


def test_manual_automatic_and_webhook_runs_together_import_every_order_once(
    app, client, demo_webstore, store, start_worker
):
    store.create_orders(140)  # 200 orders
    store.set_faults(latency_ms=10, latency_per_order_ms=1)
    demo_webstore.auto_sync = True
    demo_webstore.webhook_secret = SECRET
    db.session.commit()

    start_import(demo_webstore, merge_filters(demo_webstore), Trigger.MANUAL)
    start_import(demo_webstore, merge_filters(demo_webstore, statuses="processing"), Trigger.MANUAL)
    assert len(enqueue_due()) == 1
    for order_id in range(23, 33):
        for copy in range(3):
            assert webhook(client, order_id, copy).status_code in (200, 202)

    workers = [start_worker(), start_worker(), start_worker()]
    for worker in workers:
        assert worker.wait(timeout=180) == 0

    db.session.expire_all()
    runs = list(db.session.scalars(sa.select(SyncRun)))
    assert {run.trigger for run in runs} == {Trigger.MANUAL, Trigger.AUTOMATIC, Trigger.WEBHOOK}
    assert {(run.status, run.failed) for run in runs} == {(RunStatus.SUCCEEDED, 0)}
    for run in runs:
        settled = run.imported + run.skipped + run.failed + run.changed
        assert run.fetched == settled == len(entries(run)), run.id
    imported = [e.woo_order_id for run in runs for e in entries(run, Outcome.IMPORTED)]
    assert len(imported) == len(set(imported))
    links = set(db.session.scalars(sa.select(OrderLink.woo_order_id)))
    assert links == set(imported)
    failed_everywhere = {
        e.woo_order_id for run in runs for e in entries(run, Outcome.FAILED)
    } - links
    assert len(links) + len(failed_everywhere) == 200
    assert not any(duplicates().values())
