"""Writing one batch of webstore orders as sales orders, in one transaction.

Each order is first planned in Python (customer, items, lines, reconciliation:
``portal.sync.plan``): an order that cannot be planned fails alone, with its reason, and
creates nothing. Whatever planning needs from the store is asked before the batch takes
the import lock (``ItemBook.prepare``); under the lock, the batch looks up its links,
customers, items and exchange rates (``portal.sync.lookups``), plans, and writes the plans
that hold with a few bulk statements (``portal.sync.bulk``). The lock, on the SO number
series, serializes the batches of concurrent runs, so that the check for orders imported
meanwhile sees every committed link; the unique link key backs that up. If the batch's
transaction fails anyway, each order is written again on its own, so that a bad order
fails alone there too.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from portal import db
from portal.models import (
    Customer,
    CustomerMapping,
    Item,
    ItemMapping,
    OrderLink,
    Outcome,
    SalesLine,
    SalesOrder,
    SalesOrderCoupon,
    SalesOrderRefund,
    SyncLogEntry,
    SyncRun,
    Trigger,
    Webstore,
)
from portal.models.base import utcnow
from portal.models.health import SeenVia
from portal.sync import seen
from portal.sync.bulk import BATCH_SETTINGS, Inserts, error_text, run_all
from portal.sync.customers import CustomerBook
from portal.sync.failures import OrderFailure, refusal
from portal.sync.items import ItemBook
from portal.sync.log import LogLine, failed, link_reasons, skipped
from portal.sync.lookups import (
    EXCHANGE_RATES,
    IMPORT_LOCK,
    LINKS,
    links_params,
    rates_by_day,
    rates_params,
)
from portal.sync.plan import (
    Plan,
    coupon_rows,
    line_rows,
    link_row,
    plan_order,
    refund_rows,
    sales_order_row,
)
from portal.sync.webstore_setup import WebstoreSetup
from portal.woo.orders import WooOrder

log = logging.getLogger(__name__)


@dataclass
class SetAside:
    """The imported orders a write left to its caller (``set_aside``), with their share
    of the orders fetched and the listing page to record as settled once they are."""

    orders: list[WooOrder] = field(default_factory=list)
    fetched: int = 0
    settled: int | None = None

    def add(self, other: "SetAside") -> None:
        self.orders += other.orders
        self.fetched += other.fetched
        self.settled = other.settled if other.settled is not None else self.settled


# (order, (its modified time as last read, read at, imported at)) -> set it aside.
SetAsideRule = Callable[[WooOrder, tuple], bool]


class BatchWriter:
    def __init__(self, run: SyncRun, webstore: Webstore, product_skus=None):
        """``product_skus``: product ids to their SKUs, as the store says (``WooClient.
        product_skus``); without it, a variation is not found by its product's SKU."""
        self.run_id = run.id
        self.started_at = run.started_at
        self.webstore = WebstoreSetup.of(webstore)
        self.customers = CustomerBook(self.webstore)
        self.items = ItemBook(self.webstore)
        self.product_skus = product_skus
        # The store orders its log lines name are recorded as seen (portal.sync.seen).
        self.seen_via = SeenVia.WEBHOOK if run.trigger == Trigger.WEBHOOK else SeenVia.LISTING

    # Skips and failures decided before any order is written

    def log(self, lines: list[LogLine], fetched: int = 0, orders=(), settled=None) -> None:
        """Append log entries and count them on the run, in a transaction of their own;
        ``orders``, as read from the store, tell the status and times of those they name;
        ``settled``: the listing page a retry of the run starts after, from now on."""
        try:
            self._append_log(lines, fetched, Inserts(), orders, settled)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise

    # Orders

    def write(
        self, orders: list[WooOrder], fetched: int = 0, settled=None, set_aside=None
    ) -> SetAside:
        """Import the orders that are not imported yet; log what happened to each. The
        imported ones that ``set_aside`` picks (a ``SetAsideRule``: found with the links,
        under the lock) are neither logged nor counted, but returned."""
        if not orders:
            if fetched or settled:
                self.log([], fetched=fetched, settled=settled)
            return SetAside()
        if self.product_skus is not None:
            self.items.prepare([line for o in orders for line in o.line_items], self.product_skus)
        try:
            plans, aside = self._write(orders, fetched, settled, set_aside)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            if len(orders) == 1:
                log.exception("order %s could not be written", orders[0].id)
                self.log([failed(orders[0], refusal(error))], fetched, orders, settled)
                return SetAside()
            log.warning("batch failed (%s); writing its orders one by one", error_text(error))
            aside = SetAside()
            for position, order in enumerate(orders):
                first = position == 0
                last = position == len(orders) - 1
                aside.add(
                    self.write(
                        [order], fetched if first else 0, settled if last else None, set_aside
                    )
                )
            return aside
        # Only now, with the rows committed, may later batches rely on them.
        self.customers.remember([p.customer for p in plans])
        self.items.remember([c for p in plans for c in p.items])
        return aside

    def _write(self, orders: list[WooOrder], fetched: int, settled, set_aside):
        rows = Inserts()
        with rows.batch():
            links, rates = self._look_up(orders, rows)
            aside = SetAside()
            if set_aside:
                aside.orders = [o for o in orders if o.id in links and set_aside(o, links[o.id])]
            if aside.orders:
                # Settled once the caller has settled them.
                aside.fetched, aside.settled = min(fetched, len(aside.orders)), settled
                orders = [o for o in orders if o not in aside.orders]
                fetched, settled = fetched - aside.fetched, None
            linked = link_reasons(
                [(o.id, *links[o.id][:3]) for o in orders if o.id in links], self.started_at
            )
            lines = [skipped(o, linked[o.id]) for o in orders if o.id in linked]
            plans = self._plan([o for o in orders if o.id not in linked], lines, rates)
            if plans:
                self._create(plans, rows, lines)
            self._append_log(lines, fetched, rows, orders, settled)
            return plans, aside

    def _look_up(self, orders: list[WooOrder], rows: Inserts) -> tuple[dict[int, tuple], dict]:
        """Take the import lock; then find which orders have a link (imported at, sales
        order number and status; modified time as last read, read at), the customers and
        items of the batch that the caches lack, and the
        exchange rates its orders in other currencies need, by (currency, day). On
        PostgreSQL in one round trip, each statement on a snapshot taken after the lock
        was granted."""
        rate_keys = sorted(self.webstore.accounting.rate_keys(orders))
        settings = [(BATCH_SETTINGS, {})] if rows.together else []
        results = run_all(
            rows.connection,
            [
                *settings,
                (IMPORT_LOCK, {}),
                (LINKS, links_params(self.webstore.id, [o.id for o in orders])),
                *self.customers.lookups(orders),
                *self.items.lookups([line for o in orders for line in o.line_items]),
                *([(EXCHANGE_RATES, rates_params(rate_keys))] if rate_keys else []),
            ],
        )
        links, customer_mappings, customer_emails, item_skus, item_mappings, *rates = results[
            len(settings) + 1 :
        ]
        self.customers.found(customer_mappings, customer_emails)
        self.items.found(item_skus, item_mappings)
        rates = rates_by_day(rate_keys, rates[0]) if rate_keys else {}
        return {order_id: tuple(rest) for order_id, *rest in links}, rates

    def _plan(self, orders: list[WooOrder], lines: list[LogLine], rates: dict) -> list[Plan]:
        planned_customers: dict = {}
        planned_items: dict = {}
        plans = []
        for order in orders:
            # A failed order's planned customer or items must not serve later orders.
            customers_before, items_before = dict(planned_customers), dict(planned_items)
            try:
                plans.append(
                    plan_order(
                        order,
                        self.webstore,
                        self.customers,
                        self.items,
                        planned_customers,
                        planned_items,
                        rates,
                    )
                )
            except OrderFailure as failure:
                planned_customers.clear()
                planned_customers.update(customers_before)
                planned_items.clear()
                planned_items.update(items_before)
                lines.append(failed(order, str(failure)))
        return plans

    def _create(self, plans: list[Plan], rows: Inserts, lines: list[LogLine]) -> None:
        """Number and add the plans' new customers and items, and their sales orders."""
        customers = {id(p.customer.new) for p in plans if p.customer.new}
        items = {id(c.new) for p in plans for c in p.items if c.new}
        rows.reserve(
            [
                (Customer, "CUST", len(customers)),
                (Item, "ITEM", len(items)),
                (SalesOrder, "SO", len(plans)),
            ]
        )
        self._create_customers(plans, rows)
        self._create_items(plans, rows)
        lines.extend(self._create_sales_orders(plans, rows))

    def _create_customers(self, plans: list[Plan], rows: Inserts) -> None:
        new = list({id(p.customer.new): p.customer.new for p in plans if p.customer.new}.values())
        if new:
            made = rows.numbered(Customer, "CUST", [c.values for c in new])
            for customer, (number, customer_id) in zip(new, made, strict=True):
                customer.number, customer.id = number, customer_id
        mappings = {
            p.customer.map_woo_customer_id: p.customer.resolved_id()
            for p in plans
            if p.customer.map_woo_customer_id
        }
        if mappings:
            rows.add(
                CustomerMapping,
                [
                    {"webstore_id": self.webstore.id, "woo_customer_id": w, "customer_id": c}
                    for w, c in mappings.items()
                ],
            )

    def _create_items(self, plans: list[Plan], rows: Inserts) -> None:
        choices = [c for p in plans for c in p.items]
        new = list({id(c.new): c.new for c in choices if c.new}.values())
        if new:
            made = rows.numbered(Item, "ITEM", [i.values for i in new])
            for item, (number, item_id) in zip(new, made, strict=True):
                item.number, item.id = number, item_id
        mappings = {c.map_product: c.resolved_id() for c in choices if c.map_product}
        if mappings:
            rows.add(
                ItemMapping,
                [
                    {
                        "webstore_id": self.webstore.id,
                        "woo_product_id": product_id,
                        "woo_variation_id": variation_id,
                        "item_id": item_id,
                    }
                    for (product_id, variation_id), item_id in mappings.items()
                ],
            )

    def _create_sales_orders(self, plans: list[Plan], rows: Inserts) -> list[LogLine]:
        webstore = self.webstore.id
        made = rows.numbered(
            SalesOrder, "SO", [sales_order_row(p, webstore, self.run_id) for p in plans]
        )
        # The server writes the orders (and the batch's new customers and items) while
        # their lines, links and log entries are made ready here.
        rows.send_ahead()
        sales_lines, coupons, refunds, links, log_lines = [], [], [], [], []
        named: set[int] = set()
        now = utcnow()
        for plan, (number, order_id) in zip(plans, made, strict=True):
            sales_lines += line_rows(plan, order_id)
            coupons += coupon_rows(plan, order_id)
            refunds += refund_rows(plan.order, order_id)
            links.append(link_row(plan, webstore, order_id, now))
            log_lines.append(
                LogLine(
                    order_id=plan.order.id,
                    order_number=plan.order.number,
                    outcome=Outcome.IMPORTED,
                    message="; ".join([f"Imported as {number}", *plan.notes]),
                    sales_order_number=number,
                    customers_created=", ".join(first_named([plan.customer.new], named)),
                    items_created=", ".join(first_named([c.new for c in plan.items], named)),
                )
            )
        rows.add(SalesLine, sales_lines)
        rows.add(SalesOrderCoupon, coupons)
        rows.add(SalesOrderRefund, refunds)
        rows.add(OrderLink, links)
        return log_lines

    def _append_log(self, lines: list[LogLine], fetched: int, rows: Inserts, orders, settled):
        """Add the log entries, the store orders they met and the run's counts to the
        transaction's rows, and send them."""
        now = utcnow()
        rows.add(
            SyncLogEntry,
            [
                {
                    "run_id": self.run_id,
                    "webstore_id": self.webstore.id,
                    "woo_order_id": line.order_id,
                    "woo_order_number": line.order_number[:40],
                    "outcome": line.outcome,
                    "message": line.message,
                    "sales_order_number": line.sales_order_number,
                    "customers_created": line.customers_created,
                    "items_created": line.items_created,
                    "created_at": now,
                }
                for line in lines
            ],
        )
        rows.add_seen(seen.rows_from_log(self.webstore.id, lines, self.seen_via, now, orders))
        counts = {outcome: 0 for outcome in Outcome}
        for line in lines:
            counts[line.outcome] += 1
        rows.send(self.run_id, {"fetched": fetched, **counts}, now, settled)


def first_named(records: list, named: set[int]) -> list[str]:
    """The numbers of these new records that no earlier order of the batch was credited
    with, and credit them: later orders of a batch share the customer or item an order
    planned, and only the order whose import created it names it in the log."""
    fresh = [r for r in records if r is not None and id(r) not in named]
    named.update(id(r) for r in fresh)
    return list(dict.fromkeys(r.number for r in fresh))
