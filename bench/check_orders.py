"""Import a whole store and check every sales order and credit memo against the store's own
order and refunds, to the last unit of its currency.

    .venv/bin/python bench/check_orders.py --orders 2000 -- --real-shapes
    .venv/bin/python bench/check_orders.py --url http://127.0.0.1:8090 --key ck_... --secret cs_...

Either starts a sandbox store of N generated orders (arguments after ``--`` go to it), or
reads a real store. Builds a fresh schema in --db (its tables are dropped), imports every
order of any status once, then reads every order of the store again and compares: the
sales order exists, its total and tax equal the store's total and total_tax, its lines add
up to that total, and its order date is the store's date (``date_created``, store time); its
tax equals the store's tax lines (its VAT; ``total_tax`` where there are none).
It counts the sales orders whose every line equals the store's line (net amount and tax;
the rounding rule of ``portal/sync/plan.py`` may move one unit onto a line: such lines are
counted apart). With ``--refunds`` it then credits every refund (a refunds run from the
first order's day) and compares each memo's total with the store's refund amount.
It counts the orders of each shape it met (lines without a product, tax rounded at
subtotal, guests without email, prices with tax, currencies, store day not the UTC day),
prints the mismatches, and, last, one JSON line. It exits 1 where any order did not match.
"""

import argparse
import collections
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402
from import_orders import bench_app, fresh_schema  # noqa: E402

from portal import db  # noqa: E402
from portal.models import OrderLink, SalesOrder, Trigger  # noqa: E402
from portal.setup.demo import seed_demo_webstore  # noqa: E402
from portal.sync.filters import ImportFilters  # noqa: E402
from portal.sync.runs import create_run, execute_run  # noqa: E402
from portal.woo.client import WooClient  # noqa: E402
from sandbox.process import SandboxProcess  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="sandbox orders")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="a real store instead of the sandbox")
    parser.add_argument("--key", help="its consumer key")
    parser.add_argument("--secret", help="its consumer secret")
    parser.add_argument("--db", help="a database of the bench's own (default: SQLite, temporary)")
    parser.add_argument("--refunds", action="store_true", help="credit and check refunds too")
    parser.add_argument("sandbox_args", nargs="*", help="options for the sandbox, after --")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="check-orders-") as scratch:
        app = bench_app(args.db or f"sqlite:///{scratch}/check.db")
        if args.url:
            return check(app, args.url, args.key, args.secret, args.refunds)
        store = SandboxProcess(seed=args.seed, orders=args.orders, extra_args=args.sandbox_args)
        with store:
            return check(
                app, store.base_url, store.consumer_key, store.consumer_secret, args.refunds
            )


def check(app, base_url: str, key: str, secret: str, refunds: bool = False) -> int:
    with app.app_context():
        fresh_schema(app)
        webstore = seed_demo_webstore(base_url, key, secret)
        webstore.default_status_filter = ""  # every order the store has
        db.session.commit()
        started = time.perf_counter()
        run = execute_run(create_run(webstore, ImportFilters(), Trigger.MANUAL).id)
        seconds = time.perf_counter() - started
        print(
            f"imported {run.imported}, skipped {run.skipped}, failed {run.failed} of "
            f"{run.fetched} in {seconds:.1f} s",
            flush=True,
        )
        shapes, mismatches, checked = collections.Counter(), [], 0
        lines = collections.Counter()
        refunded = []
        with WooClient(base_url, key, secret) as client:
            for page in client.iter_order_pages():
                raw = {o.id: o for o in page.orders}
                for order_id, problem in compare(webstore.id, raw, lines):
                    mismatches.append((order_id, problem))
                for order in page.orders:
                    shapes.update(shapes_of(order))
                    refunded += [order.id] if order.refunds else []
                checked += len(page.orders)
            memos = check_refunds(webstore, client, refunded, mismatches) if refunds else {}
        for order_id, problem in mismatches[:50]:
            print(f"order {order_id}: {problem}")
        result = {
            "store_orders": checked,
            "imported": run.imported,
            "failed": run.failed,
            "mismatches": len(mismatches),
            "orders_with_every_line_the_stores": lines["exact"],
            "orders_with_a_unit_moved_by_the_rounding_rule": lines["moved"],
            **memos,
            "shapes": dict(sorted(shapes.items())),
        }
        print(json.dumps(result))
        return 1 if mismatches or run.failed else 0


def compare(
    webstore_id: int, orders: dict, line_counts: collections.Counter
) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        sa.select(SalesOrder)
        .join(OrderLink, OrderLink.sales_order_id == SalesOrder.id)
        .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(orders))
    )
    found = {row.woo_order_id: row for row in rows}
    problems = []
    for order_id, order in orders.items():
        sales_order = found.get(order_id)
        if sales_order is None:
            problems.append((order_id, "no sales order"))
            continue
        lines = sum((line.amount + line.tax_amount for line in sales_order.lines), Decimal(0))
        wanted = (order.total, order.total, store_vat(order), order.order_date)
        got = (
            sales_order.amount_including_tax,
            lines,
            sales_order.tax_amount,
            sales_order.order_date,
        )
        if got != wanted:
            problems.append((order_id, f"total, lines, tax, date {got} != store's {wanted}"))
        line_counts["exact" if lines_are_the_stores(sales_order, order) else "moved"] += 1
    return problems


def store_vat(order) -> Decimal:
    """The order's VAT: its tax lines (``total_tax`` where it has none), which a sales
    order's tax equals (``portal/sync/plan.py``)."""
    if not order.tax_lines:
        return order.total_tax
    return sum((t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0))


def lines_are_the_stores(sales_order, order) -> bool:
    """Whether every sales line's net amount and tax is the store line's own."""
    store_lines = [
        *((line.total, line.total_tax) for line in order.line_items),
        *((line.total, line.total_tax) for line in order.shipping_lines),
        *((line.total, line.total_tax) for line in order.fee_lines),
    ]
    ours = [(line.amount, line.tax_amount) for line in sales_order.lines]
    return ours == store_lines


def check_refunds(webstore, client, order_ids: list[int], mismatches: list) -> dict:
    """Credit every refund of the store, then compare each memo with the store's refund."""
    from portal.models import RunKind, SalesCreditMemo

    first = db.session.scalar(sa.select(sa.func.min(SalesOrder.order_date)))
    webstore.refunds_start_date = first
    db.session.commit()
    run = execute_run(
        create_run(webstore, ImportFilters(), Trigger.MANUAL, kind=RunKind.REFUNDS).id
    )
    memos = {memo.woo_refund_id: memo for memo in db.session.scalars(sa.select(SalesCreditMemo))}
    store_refunds = [refund for order_id in order_ids for refund in client.list_refunds(order_id)]
    equal = 0
    for refund in store_refunds:
        memo = memos.get(refund.id)
        if memo is None:
            mismatches.append((refund.order_id, f"refund {refund.id}: no credit memo"))
        elif (memo.amount_including_tax, memo.amount + memo.tax_amount) != (
            refund.amount,
            refund.amount,
        ):
            mismatches.append(
                (
                    refund.order_id,
                    f"refund {refund.id} of {refund.amount}: memo says {memo.amount_including_tax}",
                )
            )
        else:
            equal += 1
    return {
        "store_refunds": len(store_refunds),
        "memos_equal_to_the_refund": equal,
        "refunds_run": f"{run.status}: {run.imported} credited, {run.failed} failed",
    }


def shapes_of(order) -> list[str]:
    shapes = [f"currency {order.currency}"]
    if any(not line.has_product for line in order.line_items):
        shapes.append("line without a product")
    line_tax = sum((line.total_tax for line in order.line_items), Decimal(0))
    line_tax += sum((fee.total_tax for fee in order.fee_lines), Decimal(0))
    if order.tax_lines and line_tax != sum((t.tax_total for t in order.tax_lines), Decimal(0)):
        shapes.append("line taxes differ from tax lines (rounded at subtotal)")
    if order.is_guest and not order.billing.email.strip():
        shapes.append("guest without email")
    if order.prices_include_tax:
        shapes.append("prices include tax")
    if order.order_date != order.date_created.date():
        shapes.append("store day is not the UTC day")
    if len(order.tax_lines) > 1:
        shapes.append("several tax rates")
    return shapes


if __name__ == "__main__":
    sys.exit(main())
