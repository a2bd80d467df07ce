"""Change imported orders in a store every way a shop does, sync, post them all: nothing
changed is written over.

    .venv/bin/python bench/after_import.py --url http://127.0.0.1:8090 --key ck_... \
        --secret cs_... --db postgresql://postgres@127.0.0.1:5432/after_import
    .venv/bin/python bench/after_import.py            # a sandbox store of 300 orders

Builds a fresh schema in --db (its tables are dropped), imports the store's paid orders
(processing, completed) by an automatic sync, then changes some of the imported processing
orders in the store through its REST API, a few of each kind: cancelled, put on hold,
failed, set back to pending, refunded in full, refunded in part, a quantity edited, a line
added, the shipping address, the customer note, trashed, deleted for good. A second
automatic sync follows, with no webhook. It counts the changes seen of each kind (a
``changed`` log entry and a change warning), then posts every open sales order with the
write-back on and sends every write-back; a few changed orders are reviewed first and
changed again in the store before they are sent. Last it reads every changed order back
from the store: none may have been set to completed or have a note of ours. Prints the
counts and one JSON line; exits 1 where a change went unseen or a changed order was
written over.

The store's orders ARE changed: use a store made for it (the real-store kit).
"""

import argparse
import collections
import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402
from import_orders import bench_app, fresh_schema  # noqa: E402

from portal import db  # noqa: E402
from portal.models import (  # noqa: E402
    OrderLink,
    Outcome,
    SalesOrder,
    SalesOrderStatus,
    StoreWriteback,
    SyncLogEntry,
    Trigger,
)
from portal.orders.actions import (  # noqa: E402
    ACTIONS,
    ActionRefused,
    mark_reviewed,
    perform,
    update_from_store,
)
from portal.setup.demo import seed_demo_webstore  # noqa: E402
from portal.sync import writeback  # noqa: E402
from portal.sync.runs import client_for, create_run, execute_run  # noqa: E402
from portal.sync.schedule import incremental_filters  # noqa: E402
from portal.woo.errors import WooNotFound  # noqa: E402
from sandbox.process import SandboxProcess  # noqa: E402

EACH = 3  # orders changed of each kind


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="sandbox orders")
    parser.add_argument("--url", help="a real store instead of the sandbox")
    parser.add_argument("--key", help="its consumer key (Read/Write)")
    parser.add_argument("--secret", help="its consumer secret")
    parser.add_argument("--db", help="a database of the bench's own (default: SQLite, temporary)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="after-import-") as scratch:
        app = bench_app(args.db or f"sqlite:///{scratch}/after.db")
        if args.url:
            return check(app, args.url, args.key, args.secret)
        with SandboxProcess(seed=7, orders=args.orders) as store:
            return check(app, store.base_url, store.consumer_key, store.consumer_secret)


# Each kind of change: how to make it through the REST API, and the words the warning says.
def changes(client, order) -> dict:
    line = order.line_items[0]
    return {
        "cancelled": (("PUT", f"orders/{order.id}", None, {"status": "cancelled"}), "→ cancelled"),
        "on-hold": (("PUT", f"orders/{order.id}", None, {"status": "on-hold"}), "→ on-hold"),
        "failed": (("PUT", f"orders/{order.id}", None, {"status": "failed"}), "→ failed"),
        "pending": (("PUT", f"orders/{order.id}", None, {"status": "pending"}), "→ pending"),
        "refunded in full": (
            ("PUT", f"orders/{order.id}", None, {"status": "refunded"}),
            "refunded",
        ),
        "refunded in part": (
            ("POST", f"orders/{order.id}/refunds", None, {"amount": "1.00", "api_refund": False}),
            " → ",  # "refunded 0.00 → 1.00", or from what was refunded before
        ),
        "quantity": (
            (
                "PUT",
                f"orders/{order.id}",
                None,
                {"line_items": [{"id": line.id, "quantity": line.quantity + 1}]},
            ),
            f"quantity of '{line.name}'",
        ),
        "line added": (
            (
                "PUT",
                f"orders/{order.id}",
                None,
                {"line_items": [{"product_id": line.product_id or 0, "quantity": 1}]},
            ),
            "added (quantity 1)",
        ),
        "address": (
            (
                "PUT",
                f"orders/{order.id}",
                None,
                {"shipping": {"address_1": "Changed Street 9", "city": "Elsewhere"}},
            ),
            "shipping address → ",
        ),
        "note": (
            ("PUT", f"orders/{order.id}", None, {"customer_note": "Please leave at the door"}),
            "customer note → ",
        ),
        "trashed": (("DELETE", f"orders/{order.id}", None, None), "moved to the trash"),
        "deleted": (
            ("DELETE", f"orders/{order.id}", {"force": "true"}, None),
            "deleted in the store",
        ),
    }


def check(app, base_url: str, key: str, secret: str) -> int:
    with app.app_context():
        fresh_schema(app)
        webstore = seed_demo_webstore(base_url, key, secret)
        webstore.default_status_filter = "processing,completed"
        webstore.writeback_enabled = True
        db.session.commit()
        first = sync(webstore)
        print(f"first sync: imported {first.imported}, failed {first.failed}", flush=True)

        candidates = processing_orders(webstore)
        applied: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
        with client_for(webstore) as client:
            for kind in KINDS:
                for _ in range(EACH):
                    if not candidates:
                        break
                    order_id = candidates.pop()
                    order = client.get_order(order_id)
                    if kind in ("quantity", "line added") and not order.line_items:
                        continue
                    (method, path, params, body), words = changes(client, order)[kind]
                    client._request_once(method, client._url(path), params, body)
                    applied[kind].append((order_id, words))

        second = sync(webstore)
        print(f"second sync: changed {second.changed}, failed {second.failed}", flush=True)
        seen = seen_changes(second, applied)
        reviewed_then_changed = review_and_change_again(webstore, applied)
        updated, update_mismatches = update_from_the_store(webstore, applied)
        posted, waiting, written = post_everything(webstore)
        overwritten = written_over(webstore, applied)
        result = {
            "imported": first.imported,
            "changes_applied": {kind: len(ids) for kind, ids in applied.items()},
            "changes_seen": seen,
            "reviewed_then_changed_again": len(reviewed_then_changed),
            "updated_from_the_store": updated,
            "updates_not_equal_to_the_store": update_mismatches,
            "posted": posted,
            "posts_waiting_for_review_or_cancelled": waiting,
            "writebacks": written,
            "changed_orders_written_over": overwritten,
        }
        print(json.dumps(result))
        unseen = any(seen.get(kind, 0) != len(ids) for kind, ids in applied.items())
        return 1 if unseen or overwritten or update_mismatches else 0


KINDS = (
    "cancelled",
    "on-hold",
    "failed",
    "pending",
    "refunded in full",
    "refunded in part",
    "quantity",
    "line added",
    "address",
    "note",
    "trashed",
    "deleted",
)


# Their sales orders are updated from the store, then posted as the store has them.
UPDATED_KINDS = ("quantity", "line added")


def sync(webstore):
    return execute_run(create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC).id)


def processing_orders(webstore) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(OrderLink.woo_order_id)
            .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
            .where(OrderLink.webstore_id == webstore.id, SalesOrder.woo_status == "processing")
            .order_by(OrderLink.woo_order_id.desc())
        )
    )


def seen_changes(run, applied) -> dict[str, int]:
    entries = {
        e.woo_order_id: e
        for e in db.session.scalars(
            sa.select(SyncLogEntry).where(
                SyncLogEntry.run_id == run.id, SyncLogEntry.outcome == Outcome.CHANGED
            )
        )
    }
    seen = collections.Counter()
    for kind, orders in applied.items():
        for order_id, words in orders:
            entry = entries.get(order_id)
            warning = warning_of(run.webstore_id, order_id) or ""
            if entry and words in entry.message and words in warning:
                seen[kind] += 1
            else:
                print(f"{kind}: order {order_id} not seen ({entry and entry.message})")
    return dict(seen)


def warning_of(webstore_id: int, order_id: int) -> str | None:
    return db.session.scalar(
        sa.select(SalesOrder.change_warning)
        .join(OrderLink, OrderLink.sales_order_id == SalesOrder.id)
        .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id == order_id)
    )


def review_and_change_again(webstore, applied) -> list[int]:
    """Orders whose address change was reviewed, then whose quantity changed in the store:
    posted after the review, their write-back must find the new change and refuse."""
    again = []
    with client_for(webstore) as client:
        for order_id, _ in applied.get("address", []):
            sales_order = sales_order_of(webstore, order_id)
            mark_reviewed(sales_order, None)
            order = client.get_order(order_id)
            line = order.line_items[0]
            client._request_once(
                "PUT",
                client._url(f"orders/{order_id}"),
                None,
                {"line_items": [{"id": line.id, "quantity": line.quantity + 2}]},
            )
            again.append(order_id)
    return again


def update_from_the_store(webstore, applied) -> tuple[int, int]:
    """Update the orders whose lines changed from the store: each sales order's total, tax
    and lines must then be the store's to the cent."""
    updated = mismatches = 0
    with client_for(webstore) as client:
        for kind in (*UPDATED_KINDS, "cancelled", "trashed", "deleted"):
            for order_id, _ in applied.get(kind, []):
                sales_order = sales_order_of(webstore, order_id)
                update_from_store(sales_order, None)
                updated += 1
                db.session.refresh(sales_order)
                if kind in ("cancelled", "trashed", "deleted"):
                    if sales_order.status != SalesOrderStatus.CANCELLED:
                        print(f"{kind}: order {order_id} not cancelled")
                        mismatches += 1
                    continue
                order = client.get_order(order_id)
                lines = sum((x.amount + x.tax_amount for x in sales_order.lines), Decimal(0))
                got = (sales_order.amount_including_tax, sales_order.tax_amount, lines)
                if got != (order.total, order.total_tax, order.total):
                    print(f"order {order_id}: total, tax, lines {got} != store's {order.total}")
                    mismatches += 1
    return updated, mismatches


def sales_order_of(webstore, order_id: int) -> SalesOrder:
    return db.session.scalar(
        sa.select(SalesOrder)
        .join(OrderLink, OrderLink.sales_order_id == SalesOrder.id)
        .where(OrderLink.webstore_id == webstore.id, OrderLink.woo_order_id == order_id)
    )


def post_everything(webstore) -> tuple[int, int, dict]:
    posted = waiting = 0
    for sales_order in db.session.scalars(
        sa.select(SalesOrder).where(SalesOrder.status == SalesOrderStatus.OPEN)
    ).all():
        try:
            perform(sales_order, ACTIONS["post"])
            posted += 1
        except ActionRefused:
            waiting += 1
    states = collections.Counter()
    for writeback_id in writeback.due():
        states[str(writeback.send(writeback_id).state)] += 1
    refused = db.session.scalars(
        sa.select(StoreWriteback.reason).where(StoreWriteback.state == "failed")
    ).all()
    for reason in refused[:10]:
        print(f"write-back refused: {reason}")
    return posted, waiting, dict(states)


def written_over(webstore, applied) -> int:
    """Changed store orders that are completed now, or carry a note of ours, but for those
    whose sales order was updated from the store (it is the store's order again)."""
    overwritten = 0
    with client_for(webstore) as client:
        for kind, orders in applied.items():
            if kind in UPDATED_KINDS:
                continue
            for order_id, _ in orders:
                number = sales_order_of(webstore, order_id).number
                try:
                    order = client.get_order(order_id)
                    notes = client.list_order_notes(order_id)
                except WooNotFound:
                    continue
                ours = [n for n in notes if number in str(n.get("note"))]
                if order.status == "completed" or ours:
                    print(f"order {order_id} written over: {order.status}, {len(ours)} note(s)")
                    overwritten += 1
    return overwritten


if __name__ == "__main__":
    sys.exit(main())
