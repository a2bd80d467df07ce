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
from portal.sync.log import LogLine, failed, imported, link_reasons, skipped
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
    mapping_rows,
    new_records,
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
        items of the batch that the caches lack, and the exchange rates its orders in other
        currencies need, by (currency, day). On PostgreSQL in one round trip, each statement
        on a snapshot taken after the lock was granted."""
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
            before = dict(planned_customers), dict(planned_items)
            try:
                plan = plan_order(
                    order,
                    self.webstore,
                    self.customers,
                    self.items,
                    planned_customers,
                    planned_items,
                    rates,
                )
                plans.append(plan)
            except OrderFailure as failure:
                for planned, kept in zip((planned_customers, planned_items), before, strict=True):
                    planned.clear()
                    planned.update(kept)
                lines.append(failed(order, str(failure)))
        return plans

    def _create(self, plans: list[Plan], rows: Inserts, lines: list[LogLine]) -> None:
        """Number and add the plans' new customers and items, their mappings, and the
        sales orders."""
        customers, items = new_records(plans)
        rows.reserve(
            [
                (Customer, "CUST", len(customers)),
                (Item, "ITEM", len(items)),
                (SalesOrder, "SO", len(plans)),
            ]
        )
        for model, series, records in ((Customer, "CUST", customers), (Item, "ITEM", items)):
            if records:
                made = rows.numbered(model, series, [r.values for r in records])
                for record, (number, record_id) in zip(records, made, strict=True):
                    record.number, record.id = number, record_id
        customer_mappings, item_mappings = mapping_rows(plans, self.webstore.id)
        rows.add(CustomerMapping, customer_mappings)
        rows.add(ItemMapping, item_mappings)
        lines.extend(self._create_sales_orders(plans, rows))

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
            customers = first_named([plan.customer.new], named)
            items = first_named([c.new for c in plan.items], named)
            log_lines.append(imported(plan.order, number, plan.notes, customers, items))
        rows.add(SalesLine, sales_lines)
        rows.add(SalesOrderCoupon, coupons)
        rows.add(SalesOrderRefund, refunds)
        rows.add(OrderLink, links)
        return log_lines

    def _append_log(self, lines: list[LogLine], fetched: int, rows: Inserts, orders, settled):
        """Add the log entries, the store orders they met and the run's counts to the
        transaction's rows, and send them."""
        now = utcnow()
        rows.add(SyncLogEntry, [line.row(self.run_id, self.webstore.id, now) for line in lines])
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
