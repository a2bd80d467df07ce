"""Import a whole store, post everything, and compare the VAT report with the store's own tax
report, rate by rate, to the cent.

    .venv/bin/python bench/check_vat.py --url http://127.0.0.1:8090 --key ck_... --secret cs_... \\
        --db postgresql://postgres@127.0.0.1:5432/bench_vat --company-currency USD --rate EUR=1.1

Builds a fresh schema in --db (its tables are dropped), sets the DEMO webstore up on the
store with one VAT code per tax rate the store lists (``GET /taxes``), every gateway and
shipping method mapped and ``require_mappings`` on, imports every order, credits every
refund, and posts every sales order and credit memo of an order whose store status is one
the store's reports count (all but pending, failed and cancelled: WooCommerce's
``woocommerce_excluded_report_order_statuses``). Then it compares, per tax rate:
- the posted invoices' VAT with the store's orders' tax lines (``tax_total`` +
  ``shipping_tax_total``) and with WooCommerce Analytics' tax report
  (``/wc-analytics/reports/taxes``, which adds the refunds' own tax lines, negative), where
  the store has it;
- the posted credit memos' VAT with the VAT the store's refunds carry by line; what a
  refund holds beyond its lines the store books without VAT, and the connector reverses
  proportionally (``portal/sync/vat.py``): that part is printed apart.
Amounts are added across currencies as the store's report adds them. Prints a table and,
last, one JSON line; exits 1 where an invoice total or a line refund's VAT differs.
"""

import argparse
import collections
import json
import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from import_orders import bench_app, fresh_schema  # noqa: E402

from portal import db  # noqa: E402
from portal.documents.forms import Period  # noqa: E402
from portal.documents.vat_report import vat_report  # noqa: E402
from portal.models import (  # noqa: E402
    CreditMemoStatus,
    CurrencyExchangeRate,
    OrderLink,
    PaymentMethod,
    RunKind,
    SalesCreditMemo,
    SalesOrder,
    SalesOrderStatus,
    ShipmentMethod,
    Trigger,
    VatCode,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.orders.actions import ACTIONS, ActionRefused, perform  # noqa: E402
from portal.setup.demo import seed_demo_webstore  # noqa: E402
from portal.sync import posting  # noqa: E402
from portal.sync.filters import ImportFilters  # noqa: E402
from portal.sync.runs import create_run, execute_run  # noqa: E402
from portal.woo.auth import store_auth  # noqa: E402
from portal.woo.client import WooClient  # noqa: E402

NOT_REPORTED = {"pending", "failed", "cancelled", "trash", "checkout-draft"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the store")
    parser.add_argument("--key", required=True, help="its consumer key")
    parser.add_argument("--secret", required=True, help="its consumer secret")
    parser.add_argument("--db", help="a database of the bench's own (default: SQLite, temporary)")
    parser.add_argument("--company-currency", default=None, help="COMPANY_CURRENCY, e.g. USD")
    parser.add_argument(
        "--rate", action="append", default=[], help="CUR=RATE from 2000-01-01, e.g. EUR=1.1"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="check-vat-") as scratch:
        app = bench_app(
            args.db or f"sqlite:///{scratch}/vat.db", COMPANY_CURRENCY=args.company_currency
        )
        with app.app_context():
            fresh_schema(app)
            with WooClient(args.url, args.key, args.secret) as client:
                webstore = set_up(client, args)
                imported = import_everything(webstore)
                posted = post_everything()
                store = store_taxes(client, webstore.id)
            analytics = analytics_taxes(args.url, args.key, args.secret)
            ours = report_by_code()
            for code, amount in memo_line_vat().items():
                ours[code]["memo_lines"] = amount
            return compare(ours, store, analytics, {**imported, **posted})


def set_up(client: WooClient, args):
    webstore = seed_demo_webstore(args.url, args.key, args.secret)
    webstore.default_status_filter = ""
    webstore.require_mappings = True
    webstore.refunds_start_date = date(2000, 1, 1)
    db.session.execute(sa.delete(WebstoreTaxMapping))
    for rate in client.tax_rates():
        code = VatCode(
            code=f"T{rate.id}",
            rate=rate.rate,
            description=f"{rate.country} {rate.name} {rate.rate.normalize():f} %",
        )
        db.session.add(code)
        db.session.add(
            WebstoreTaxMapping(
                webstore_id=webstore.id, rate_id=rate.id, title=code.description, vat_code=code
            )
        )
    for gateway in client.payment_gateways():
        mapped = db.session.scalar(
            sa.select(WebstorePaymentMapping).where(WebstorePaymentMapping.gateway_id == gateway.id)
        )
        if mapped is None:
            method = PaymentMethod(code=gateway.id[:10].upper(), description=gateway.title)
            db.session.add(
                WebstorePaymentMapping(
                    webstore_id=webstore.id,
                    gateway_id=gateway.id,
                    title=gateway.title,
                    payment_method=method,
                )
            )
    delivery = db.session.scalar(sa.select(ShipmentMethod).where(ShipmentMethod.code == "DELIVERY"))
    for option in client.shipping_methods():
        if option.instance_id == "" and not db.session.scalar(
            sa.select(WebstoreShippingMapping).where(
                WebstoreShippingMapping.method_id == option.method_id
            )
        ):
            db.session.add(
                WebstoreShippingMapping(
                    webstore_id=webstore.id,
                    method_id=option.method_id,
                    instance_id="",
                    title=option.title,
                    shipment_method=delivery,
                )
            )
    for given in args.rate:
        currency, rate = given.split("=")
        db.session.add(
            CurrencyExchangeRate(
                currency=currency.upper(), starting_date=date(2000, 1, 1), rate=Decimal(rate)
            )
        )
    db.session.commit()
    return webstore


def import_everything(webstore) -> dict:
    orders = execute_run(create_run(webstore, ImportFilters(), Trigger.MANUAL).id)
    print(f"orders: imported {orders.imported}, failed {orders.failed} of {orders.fetched}")
    refunds = execute_run(
        create_run(webstore, ImportFilters(), Trigger.MANUAL, kind=RunKind.REFUNDS).id
    )
    print(f"refunds: credited {refunds.imported}, failed {refunds.failed}")
    for entry in failures():
        print(f"  failed: {entry}")
    return {
        "orders_imported": orders.imported,
        "orders_failed": orders.failed,
        "refunds_credited": refunds.imported,
        "refunds_failed": refunds.failed,
    }


def failures() -> list[str]:
    from portal.models import Outcome, SyncLogEntry

    rows = db.session.execute(
        sa.select(SyncLogEntry.woo_order_id, SyncLogEntry.message).where(
            SyncLogEntry.outcome == Outcome.FAILED
        )
    )
    return [f"{order_id}: {message}" for order_id, message in rows]


def post_everything() -> dict:
    counts = collections.Counter()
    orders = db.session.scalars(sa.select(SalesOrder).order_by(SalesOrder.id)).all()
    for order in orders:
        if order.woo_status in NOT_REPORTED or order.status != SalesOrderStatus.OPEN:
            counts["orders_not_posted"] += 1
            continue
        try:
            perform(order, ACTIONS["post"])
            counts["orders_posted"] += 1
        except ActionRefused as refused:
            counts["orders_refused"] += 1
            print(f"  not posted: {refused}")
    memos = db.session.scalars(sa.select(SalesCreditMemo).order_by(SalesCreditMemo.id)).all()
    for memo in memos:
        if memo.sales_order.status != SalesOrderStatus.POSTED:
            counts["memos_not_posted"] += 1
            continue
        memo.status = CreditMemoStatus.POSTED
        posting.post_credit_memo(memo, None)
        db.session.commit()
        counts["memos_posted"] += 1
    print(dict(counts))
    return dict(counts)


def store_taxes(client: WooClient, webstore_id: int) -> dict:
    """Per rate id, what the store's orders and refunds of the posted documents carry."""
    posted = dict(
        db.session.execute(
            sa.select(OrderLink.woo_order_id, SalesOrder.id)
            .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
            .where(
                OrderLink.webstore_id == webstore_id, SalesOrder.status == SalesOrderStatus.POSTED
            )
        ).all()
    )
    credited = set(
        db.session.scalars(
            sa.select(SalesCreditMemo.woo_refund_id).where(
                SalesCreditMemo.status == CreditMemoStatus.POSTED
            )
        )
    )
    orders, refund_lines = collections.Counter(), collections.Counter()
    beyond_lines = Decimal(0)
    for page in client.iter_order_pages():
        for order in page.orders:
            if order.id not in posted:
                continue
            for tax in order.tax_lines:
                orders[tax.rate_id] += tax.tax_total + tax.shipping_tax_total
            if not order.refunds:
                continue
            for refund in client.list_refunds(order.id):
                if refund.id not in credited:
                    continue
                by_line = Decimal(0)
                for line in (*refund.line_items, *refund.shipping_lines, *refund.fee_lines):
                    by_line += line.amount
                    for tax in line.taxes:
                        refund_lines[tax.rate_id] += tax.total
                beyond_lines += refund.amount - by_line
    return {"orders": orders, "refund_lines": refund_lines, "beyond_lines": beyond_lines}


def analytics_taxes(url: str, key: str, secret: str) -> dict | None:
    """WooCommerce Analytics' tax totals per rate id over every day, or None without it."""
    response = requests.get(
        f"{url.rstrip('/')}/wp-json/wc-analytics/reports/taxes",
        params={"per_page": 100, "after": "2000-01-01T00:00:00", "before": "2100-01-01T00:00:00"},
        auth=store_auth(url.split(":")[0], key, secret, query_string=False),
        timeout=60,
    )
    if response.status_code != 200:
        print(f"no analytics: {response.status_code}")
        return None
    return {row["tax_rate_id"]: Decimal(str(round(row["total_tax"], 4))) for row in response.json()}


def memo_line_vat() -> collections.Counter:
    """Per code, the VAT of the posted memos' refunded lines (not their amounts beyond)."""
    from portal.models import CreditMemoLine, CreditMemoLineType
    from portal.sync.vat import parts_from_json

    totals = collections.Counter()
    lines = db.session.scalars(
        sa.select(CreditMemoLine)
        .join(SalesCreditMemo)
        .where(
            SalesCreditMemo.status == CreditMemoStatus.POSTED,
            CreditMemoLine.line_type != CreditMemoLineType.AMOUNT,
        )
    )
    for line in lines:
        for part in parts_from_json(line.vat_parts):
            totals[part.code] -= part.amount
    return totals


def report_by_code() -> dict:
    """The VAT report over every day, per code: invoices and memos, added across currencies."""
    report = vat_report(Period(date(2000, 1, 1), date(2100, 1, 1)), None, None)
    totals = collections.defaultdict(lambda: collections.Counter())
    for row in report.currency_rows:
        totals[row.vat_code]["invoices"] += row.invoices_vat
        totals[row.vat_code]["memos"] += row.memos_vat
        totals[row.vat_code]["total"] += row.vat
    return totals


def compare(ours: dict, store: dict, analytics: dict | None, counts: dict) -> int:
    print(
        f"{'rate':>5} {'invoices':>10} {'store orders':>13} {'memos':>9} {'refund lines':>13} "
        f"{'report':>10} {'analytics':>10}"
    )
    problems, rows = [], {}
    rate_ids = sorted(set(store["orders"]) | {int(c[1:]) for c in ours if c.startswith("T")})
    for rate_id in rate_ids:
        mine = ours.get(f"T{rate_id}", collections.Counter())
        row = {
            "invoices": mine["invoices"],
            "store_orders": store["orders"][rate_id],
            "memos": mine["memos"],
            "store_refund_lines": -store["refund_lines"][rate_id],
            "report": mine["total"],
            "analytics": analytics.get(rate_id) if analytics else None,
        }
        rows[rate_id] = row
        print(
            f"{rate_id:>5} {row['invoices']:>10} {row['store_orders']:>13} {row['memos']:>9} "
            f"{row['store_refund_lines']:>13} {row['report']:>10} {row['analytics']!s:>10}"
        )
        if mine["memo_lines"] != row["store_refund_lines"]:
            problems.append(
                f"rate {rate_id}: refunded lines' VAT {mine['memo_lines']} != "
                f"the store's {row['store_refund_lines']}"
            )
        if row["invoices"] != row["store_orders"]:
            problems.append(f"rate {rate_id}: invoices {row['invoices']} != {row['store_orders']}")
    uncoded = {code: dict(values) for code, values in ours.items() if not code.startswith("T")}
    memos_beyond = sum(r["memos"] - r["store_refund_lines"] for r in rows.values())
    print(
        f"refunds beyond their lines: {store['beyond_lines']} (with VAT), of which the memos "
        f"reverse {-memos_beyond} of VAT by the proportional rule; codes not of a rate: {uncoded}"
    )
    print(
        json.dumps(
            {
                **counts,
                "rates": {str(k): {n: str(v) for n, v in r.items()} for k, r in rows.items()},
                "refunds_beyond_lines": str(store["beyond_lines"]),
                "vat_reversed_on_refunds_beyond_lines": str(-memos_beyond),
                "problems": problems,
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
