"""Writing one batch of webstore orders as sales orders, in one transaction.

Each order is first planned in Python (customer, items, lines, reconciliation): an order
that cannot be planned fails alone, with its reason, and creates nothing. The plans that
hold are then written with a few bulk statements (on PostgreSQL a batch waits for three
round trips, see ``Inserts`` and ``BatchWriter._look_up``). Batches of concurrent runs are
serialized by a lock on the SO number series, taken first, so the check for orders
imported meanwhile sees every committed link; the unique link key backs that up. If the
batch's transaction fails anyway, each order is written again on its own, so a bad order
fails alone there too.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import orjson
import sqlalchemy as sa

from portal import db
from portal.models import (
    Customer,
    CustomerHandling,
    CustomerMapping,
    Item,
    ItemMapping,
    NumberSeries,
    OrderLink,
    Outcome,
    SalesLine,
    SalesOrder,
    SalesOrderCoupon,
    SalesOrderRefund,
    SalesOrderStatus,
    SyncLogEntry,
    SyncRun,
    Trigger,
    Webstore,
)
from portal.models.base import utcnow
from portal.models.health import SeenVia, StoreOrder
from portal.sync import seen
from portal.sync.accounting import AccountingSetup, rates_on
from portal.sync.customers import CustomerBook
from portal.sync.failures import OrderFailure, refusal
from portal.sync.items import ItemBook
from portal.sync.log import LogLine, failed, link_reasons, skipped
from portal.sync.money import in_company_currency
from portal.sync.numbers import next_numbers
from portal.sync.plan import Plan, coupon_values, plan_order
from portal.sync.states import OrderState
from portal.sync.vat import parts_to_json
from portal.woo.orders import WooOrder

log = logging.getLogger(__name__)


def existing_links(webstore_id: int, order_ids, since) -> dict[int, str]:
    """Why each of these orders that has a link is skipped, for a run started ``since``."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            OrderLink.woo_order_id, OrderLink.imported_at, SalesOrder.number, SalesOrder.status
        )
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(
            OrderLink.webstore_id == webstore_id,
            # The range lets the (webstore, order id) index find the ids by both columns even
            # where the planner's statistics lag behind a table that grew fast (a first big
            # import): without it, it may read every link of the webstore for each batch.
            OrderLink.woo_order_id.between(min(order_ids), max(order_ids)),
            OrderLink.woo_order_id.in_(order_ids),
        )
    )
    return link_reasons(rows, since)


def plain(record, *names: str) -> SimpleNamespace | None:
    """A record's values as a plain object: reading it never asks the database again."""
    if record is None:
        return None
    return SimpleNamespace(**{name: getattr(record, name) for name in names})


TEMPLATE_FIELDS = {
    "customer": ("code", "payment_terms", "customer_posting_group", "tax_area", "currency"),
    "item": ("code", "item_type", "base_unit_of_measure", "item_category", "tax_group"),
}


@dataclass(frozen=True)
class WebstoreSetup:
    """What an import reads of its webstore, taken once when the run starts.

    Every commit expires the session's records, and reading an expired webstore, its
    templates and its shipping item again costs a few queries per batch; a run keeps the
    setup it started with instead.
    """

    id: int
    code: str
    #: The store's currency and decimals, as it last said (None: not known).
    currency: str | None
    price_decimals: int | None
    customer_handling: CustomerHandling
    guest_customer_id: int | None
    auto_create_customers: bool
    auto_create_items: bool
    shipping_charge_item: SimpleNamespace | None
    no_product_item: SimpleNamespace | None
    default_customer_template: SimpleNamespace | None
    default_item_template: SimpleNamespace | None
    country_templates: dict[str, SimpleNamespace]
    #: Its mappings and charge setup, and the company's currency.
    accounting: AccountingSetup

    @classmethod
    def of(cls, webstore: Webstore) -> "WebstoreSetup":
        customer_fields = TEMPLATE_FIELDS["customer"]
        return cls(
            id=webstore.id,
            code=webstore.code,
            currency=webstore.currency,
            price_decimals=webstore.price_decimals,
            customer_handling=webstore.customer_handling,
            guest_customer_id=webstore.guest_customer_id,
            auto_create_customers=webstore.auto_create_customers,
            auto_create_items=webstore.auto_create_items,
            shipping_charge_item=plain(webstore.shipping_charge_item, "id", "sku"),
            no_product_item=plain(webstore.no_product_item, "id", "number"),
            default_customer_template=plain(webstore.default_customer_template, *customer_fields),
            default_item_template=plain(webstore.default_item_template, *TEMPLATE_FIELDS["item"]),
            country_templates={
                row.country: plain(row.customer_template, *customer_fields)
                for row in webstore.country_templates
            },
            accounting=AccountingSetup.of(webstore),
        )

    def customer_template_for(self, country: str) -> SimpleNamespace | None:
        """As ``Webstore.customer_template_for``."""
        return self.country_templates.get(country.upper(), self.default_customer_template)


class BatchWriter:
    def __init__(self, run: SyncRun, webstore: Webstore, product_sku=None):
        self.run_id = run.id
        self.started_at = run.started_at
        self.webstore = WebstoreSetup.of(webstore)
        self.customers = CustomerBook(self.webstore)
        self.items = ItemBook(self.webstore, product_sku=product_sku)
        # The store orders its log lines name are recorded as seen (portal.sync.seen).
        self.seen_via = SeenVia.WEBHOOK if run.trigger == Trigger.WEBHOOK else SeenVia.LISTING

    # Skips and failures decided before any order is written

    def log(self, lines: list[LogLine], fetched: int = 0, orders=()) -> None:
        """Append log entries and count them on the run, in a transaction of their own;
        ``orders``, as read from the store, tell the status and times of those they name."""
        try:
            self._append_log(lines, fetched=fetched, rows=Inserts(), orders=orders)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise

    # Orders

    def write(self, orders: list[WooOrder], fetched: int = 0) -> None:
        """Import the orders that are not imported yet; log what happened to each."""
        if not orders:
            if fetched:
                self.log([], fetched=fetched)
            return
        try:
            plans = self._write(orders, fetched)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            if len(orders) == 1:
                log.exception("order %s could not be written", orders[0].id)
                self.log([failed(orders[0], refusal(error))], fetched, orders)
                return
            log.warning("batch failed (%s); writing its orders one by one", error_text(error))
            for position, order in enumerate(orders):
                self.write([order], fetched=fetched if position == 0 else 0)
            return
        # Only now, with the rows committed, may later batches rely on them.
        self.customers.remember([p.customer for p in plans])
        self.items.remember([c for p in plans for c in p.items])

    def _write(self, orders: list[WooOrder], fetched: int) -> list[Plan]:
        rows = Inserts()
        with rows.batch():
            return self._write_rows(orders, fetched, rows)

    def _write_rows(self, orders: list[WooOrder], fetched: int, rows: "Inserts") -> list[Plan]:
        linked, rates = self._look_up(orders, rows)
        lines: list[LogLine] = []
        fresh = []
        for order in orders:
            if order.id in linked:
                lines.append(skipped(order, linked[order.id]))
            else:
                fresh.append(order)
        plans = self._plan(fresh, lines, rates)
        if plans:
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
        self._append_log(lines, fetched=fetched, rows=rows, orders=orders)
        return plans

    def _look_up(self, orders: list[WooOrder], rows: "Inserts") -> tuple[dict[int, str], dict]:
        """Take the import lock; then find which orders have a link (and why they are
        skipped), the customers and items of the batch that the caches lack, and the
        exchange rates its orders in other currencies need, by (currency, day).

        On PostgreSQL the statements go in one round trip, a pipeline: the server still
        runs them in order, each on a snapshot taken after the lock was granted.
        """
        lines = [line for order in orders for line in order.line_items]
        order_ids = [o.id for o in orders]
        rate_keys = sorted(self.webstore.accounting.rate_keys(orders))
        if not rows.together:
            take_import_lock()
            linked = existing_links(self.webstore.id, order_ids, self.started_at)
            self.customers.load(orders)
            self.items.load(lines)
            return linked, rates_on(rate_keys)
        woo_ids, emails = self.customers.missing(orders)
        skus, product_ids = self.items.missing(lines)
        webstore = self.webstore.id
        statements = [
            (BATCH_SETTINGS_SQL, {}),
            (LOCK_SQL, {}),
            (
                LINKS_SQL,
                {
                    "webstore": webstore,
                    "low": min(order_ids),
                    "high": max(order_ids),
                    "ids": order_ids,
                },
            ),
            (CUSTOMER_MAPPINGS_SQL, {"webstore": webstore, "ids": sorted(woo_ids)}),
            (CUSTOMER_EMAILS_SQL, {"emails": sorted(emails)}),
            (ITEM_SKUS_SQL, {"skus": sorted(skus)}),
            (ITEM_MAPPINGS_SQL, {"webstore": webstore, "ids": sorted(product_ids)}),
        ]
        if rate_keys:
            currencies, days = zip(*rate_keys, strict=True)
            statements.append((RATES_SQL, {"currencies": list(currencies), "days": list(days)}))
        results = rows.pipeline(statements)
        links, customer_mappings, customer_emails, item_skus, item_mappings = results[2:7]
        self.customers.found(dict(customer_mappings), dict(customer_emails))
        self.items.found(dict(item_skus), item_mappings)
        rates = {(currency, day): rate for currency, day, rate in results[7]} if rate_keys else {}
        return link_reasons(links, self.started_at), rates

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

    def _create_customers(self, plans: list[Plan], rows: "Inserts") -> None:
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

    def _create_items(self, plans: list[Plan], rows: "Inserts") -> None:
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

    def _create_sales_orders(self, plans: list[Plan], rows: "Inserts") -> list[LogLine]:
        made = rows.numbered(SalesOrder, "SO", [self._order_values(p) for p in plans])
        # The server writes the orders (and the batch's new customers and items) while
        # their lines, links and log entries are made ready here.
        rows.send_ahead()
        sales_lines, coupons, refunds, links, log_lines = [], [], [], [], []
        named: set[int] = set()
        now = utcnow()
        for plan, (number, order_id) in zip(plans, made, strict=True):
            order = plan.order
            sales_lines += line_rows(plan, order_id)
            coupons += [{**c, "sales_order_id": order_id} for c in coupon_values(plan)]
            refunds += refund_rows(order, order_id)
            links.append(
                {
                    "webstore_id": self.webstore.id,
                    "woo_order_id": order.id,
                    "woo_order_number": order.number[:40],
                    "sales_order_id": order_id,
                    "woo_modified_at": order.date_modified,
                    "read_at": now,
                    "imported_at": now,
                }
            )
            log_lines.append(
                LogLine(
                    order_id=order.id,
                    order_number=order.number,
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

    def _order_values(self, plan: Plan) -> dict:
        return {
            "webstore_id": self.webstore.id,
            "customer_id": plan.customer.resolved_id(),
            "status": SalesOrderStatus.OPEN,
            "ordered_at": plan.order.date_created,
            "woo_order_id": plan.order.id,
            **order_values(plan),
            "sync_run_id": self.run_id,
        }

    def _append_log(self, lines: list[LogLine], fetched: int, rows: "Inserts", orders=()) -> None:
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
        rows.send(self.run_id, {"fetched": fetched, **counts}, now)


def order_values(plan: Plan) -> dict:
    """The sales order's columns that its store order decides: an import writes them, and
    an update from the store writes them again."""
    order = plan.order
    billing, shipping = order.billing, order.shipping
    amounts = [line.values for line in plan.lines]
    amount = sum((v["amount"] for v in amounts), Decimal(0))
    tax = sum((v["tax_amount"] for v in amounts), Decimal(0))
    state = OrderState.of(order).as_json()
    return {
        "order_date": order.order_date,
        "currency": order.currency[:3],
        "currency_decimals": plan.decimals,
        "external_document_no": order.number[:35],
        "woo_status": order.status[:20],
        "woo_modified_at": order.date_modified,
        "sell_to_name": (billing.full_name or billing.company)[:200],
        "sell_to_email": billing.email.strip()[:254],
        "sell_to_phone": billing.phone[:50],
        "sell_to_company": billing.company[:200],
        "sell_to_address": billing.address_1[:200],
        "sell_to_address_2": billing.address_2[:200],
        "sell_to_city": billing.city[:100],
        "sell_to_county": billing.state[:100],
        "sell_to_post_code": billing.postcode[:20],
        "sell_to_country": billing.country[:2],
        "ship_to_name": (shipping.full_name or shipping.company)[:200],
        "ship_to_company": shipping.company[:200],
        "ship_to_address": shipping.address_1[:200],
        "ship_to_address_2": shipping.address_2[:200],
        "ship_to_city": shipping.city[:100],
        "ship_to_county": shipping.state[:100],
        "ship_to_post_code": shipping.postcode[:20],
        "ship_to_country": shipping.country[:2],
        "ship_to_phone": shipping.phone[:50],
        "vat_number": order.vat_number,
        "payment_method": order.payment_method[:100],
        "payment_method_title": order.payment_method_title[:200],
        "payment_method_code": plan.payment_method_code,
        "shipment_method_code": plan.shipment_method_code,
        "shipping_agent_code": plan.shipping_agent_code,
        "customer_note": order.customer_note,
        "prices_include_tax": order.prices_include_tax,
        "amount": amount,
        "tax_amount": tax,
        "amount_including_tax": order.total,
        "discount_amount": order.discount_total,
        "refunded_amount": order.refunded_total,
        **company_amounts(plan, amount, tax),
        # Built from this state; it is the store's latest too until it changes.
        "imported_state": state,
        "store_state": state,
    }


def company_amounts(plan: Plan, amount: Decimal, tax: Decimal) -> dict:
    """The exchange rate and the amounts in the company's currency; None where the order
    is in it (or none is set)."""
    rate = plan.exchange_rate
    if rate is None:
        return dict.fromkeys(
            ("exchange_rate", "amount_lcy", "tax_amount_lcy", "amount_including_tax_lcy")
        )
    company = plan.company_currency
    return {
        "exchange_rate": rate,
        "amount_lcy": in_company_currency(amount, rate, company),
        "tax_amount_lcy": in_company_currency(tax, rate, company),
        "amount_including_tax_lcy": in_company_currency(plan.order.total, rate, company),
    }


def line_rows(plan: Plan, sales_order_id: int) -> list[dict]:
    rows = []
    for line_no, line in enumerate(plan.lines, start=1):
        row = {
            "account_id": None,
            **line.values,
            "sales_order_id": sales_order_id,
            "line_no": line_no * 10000,
            "vat_code": line.parts[0].code if line.parts else "",
            "vat_parts": parts_to_json(line.parts),
        }
        if line.item is not None:
            row["item_id"] = line.item.resolved_id()
        rows.append(row)
    return rows


def refund_rows(order: WooOrder, sales_order_id: int) -> list[dict]:
    return [
        {
            "sales_order_id": sales_order_id,
            "woo_refund_id": r.id,
            "reason": r.reason or "",
            "amount": -r.total,
        }
        for r in order.refunds
    ]


class Inserts:
    """The rows one transaction adds, and the run's counts that grow with them.

    On PostgreSQL the rows are held and go to the server in two statements, a
    data-modifying CTE per table over ``json_populate_recordset``: the records that take
    numbers (customers, items, sales orders) as soon as they are numbered, without waiting
    (``send_ahead``), and the rest with the run's counts and the COMMIT (``send``), all
    in one pipeline. Their numbers and ids are reserved beforehand in one statement. A
    batch thus waits for three round trips (lookups, reservation, rows), whatever it
    holds, besides the connection's own (psycopg's BEGIN; the pool's check of the
    connection): the client waits less, and wakes up less often to wait for the GIL
    behind the threads that parse the store's answers. Elsewhere (SQLite) each insert is
    sent at once, by SQLAlchemy.
    """

    def __init__(self):
        self.connection = db.session.connection()
        self.together = self.connection.dialect.name == "postgresql"
        self.tables: dict[sa.Table, list[dict]] = {}
        # The store orders met (portal.sync.seen): recorded after the rows, with their links.
        self.seen: list[dict] = []
        self.reserved: dict[str, tuple] = {}
        self.closing: contextlib.ExitStack | None = None
        self.pipelined = False

    @property
    def raw(self):
        return self.connection.connection.driver_connection

    @contextlib.contextmanager
    def batch(self):
        """Where rows may be sent ahead (PostgreSQL): see ``send_ahead``."""
        with contextlib.ExitStack() as self.closing:
            try:
                yield
            finally:
                self.closing = None
                self.pipelined = False

    def pipeline(self, statements: list[tuple[str, dict]]) -> list[list[tuple]]:
        """Run SQL statements in order, in one round trip (PostgreSQL); their rows."""
        raw = self.raw
        with raw.pipeline():
            cursors = [raw.execute(sql, params) for sql, params in statements]
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]

    def reserve(self, wanted: list[tuple[type, str, int]]) -> None:
        """Take numbers and ids for (model, series, count) ahead, together (PostgreSQL)."""
        wanted = [(model, series, count) for model, series, count in wanted if count]
        if not self.together or not wanted:
            return
        statements = [
            (RESERVE, {"count": count, "series": series, "table": model.__tablename__})
            for model, series, count in wanted
        ]
        for (_, series, _), taken in zip(wanted, self.pipeline(statements), strict=True):
            if not taken:
                raise LookupError(f"number series {series} does not exist; run 'flask db upgrade'")
            self.reserved[series] = taken[0]

    def numbered(self, model, series: str, rows: list[dict]) -> list[tuple[str, int]]:
        """Add records numbered from ``series``; return their numbers and ids, in order."""
        count = len(rows)
        if not self.together:
            numbers = next_numbers(series, count)
            statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
            ids = db.session.scalars(
                statement, [{**r, "number": n} for r, n in zip(rows, numbers, strict=True)]
            )
            return list(zip(numbers, ids, strict=True))
        if series not in self.reserved:
            self.reserve([(model, series, count)])
        last_no, prefix, digits, ids = self.reserved.pop(series)
        numbers = [f"{prefix}{n:0{digits}d}" for n in range(last_no - count + 1, last_no + 1)]
        made = list(zip(numbers, ids, strict=True))
        self.add(model, [{**r, "number": n, "id": i} for r, (n, i) in zip(rows, made, strict=True)])
        return made

    def add(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        if self.together:
            self.tables.setdefault(model.__table__, []).extend(rows)
        else:
            db.session.execute(sa.insert(model), rows)

    def add_seen(self, rows: list[dict]) -> None:
        """Record the store orders the transaction met (``seen.rows_from_log``); on
        PostgreSQL in the round trip of ``send``, after the rows, whose links it reads."""
        if not rows:
            return
        if self.together:
            self.seen.extend(rows)
        else:
            seen.record(rows)

    def send_ahead(self) -> None:
        """Send the rows held so far without waiting for the server (in a batch).

        This opens a pipeline: the server goes to work at once, and the results are read
        when the batch ends, in the round trip that also carries the rest of the rows and
        the COMMIT (``send``); the first error is raised then (the caller rolls back), or
        any error of Python's before it. Nothing may read the database in between: in a
        pipeline, no statement's result is ready until the batch ends.
        """
        if not (self.together and self.closing and self.tables):
            return
        if not self.pipelined:
            self.closing.enter_context(self.raw.pipeline())
            self.pipelined = True
        self.raw.execute(*self._insert_statement())

    def send(self, run_id: int, counts: dict, now) -> None:
        """Send the rows held, and add ``counts`` (fetched and per outcome) to the run's.

        After rows sent ahead, the COMMIT follows in the same pipeline.
        """
        if not self.together:
            db.session.execute(
                sa.update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(
                    {
                        **{name: getattr(SyncRun, name) + counts[name] for name in RUN_COUNTS},
                        "heartbeat_at": now,
                    }
                )
            )
            return
        update = ", ".join(f"{name} = {name} + %({name})s" for name in RUN_COUNTS)
        statement, params = self._insert_statement(
            f"UPDATE sync_runs SET {update}, heartbeat_at = %(now)s WHERE id = %(run)s"
        )
        params.update({name: counts[name] for name in RUN_COUNTS}, now=now, run=run_id)
        statements = [(statement, params), *self._seen_statement()]
        if not self.pipelined:
            self.pipeline(statements)
            return
        for statement, params in statements:
            self.raw.execute(statement, params)
        # Read with the other results when the batch ends: nothing is asked of the server
        # after the COMMIT. SQLAlchemy's own commit then finds no transaction left to end.
        self.raw.execute("COMMIT")

    def _seen_statement(self) -> list[tuple[str, dict]]:
        """The statement recording the store orders met, if any were."""
        if not self.seen:
            return []
        _, payload = json_rows(StoreOrder.__table__, self.seen)
        self.seen = []
        return [(seen.upsert_from_json(self.connection.dialect), {"seen": payload})]

    def _insert_statement(self, final: str = "") -> tuple[str, dict]:
        """One statement inserting every row held (a CTE per table), then ``final``."""
        quote = self.connection.dialect.identifier_preparer.quote
        ctes, params = [], {}
        for position, (table, rows) in enumerate(self.tables.items()):
            names, payload = json_rows(table, rows)
            columns = ", ".join(quote(name) for name in names)
            ctes.append(
                f"insert_{position} AS (INSERT INTO {quote(table.name)} ({columns}) "
                f"SELECT {columns} FROM json_populate_recordset(NULL::{quote(table.name)}, "
                f"%(rows_{position})s::json))"
            )
            params[f"rows_{position}"] = payload
        self.tables = {}
        if not final:
            # A CTE needs a main statement; this one reads nothing.
            final = "SELECT 1 WHERE false"
        if ctes:
            return "WITH " + ",\n".join(ctes) + "\n" + final, params
        return final, params


RUN_COUNTS = ("fetched", *(str(outcome) for outcome in Outcome))

# A batch's lookups on PostgreSQL (BatchWriter._look_up): the same as take_import_lock,
# existing_links, CustomerBook.load and ItemBook.load, with arrays for the lists.
LOCK_SQL = "UPDATE number_series SET last_no = last_no WHERE code = 'SO'"
# Settings for the batch's transaction alone.
# - synchronous_commit off: the COMMIT returns without waiting for its WAL to reach the
#   disk. Safe here: a crash of the database server can lose the last few batches
#   committed (whole ones: each is one transaction with its links, log entries and counts),
#   never a part of one, and never one while a later transaction survives (the WAL is
#   flushed in order). An order whose batch was lost has no link: the next run imports it.
# - enable_seqscan and enable_bitmapscan off: every lookup is by a unique key, which a
#   btree index scan answers, whatever the statistics say of tables that a big import is
#   growing. Left to itself, PostgreSQL may read customers in full, or take the trigram
#   index (gin_trgm_ops, for the order search) for ``email = ANY(...)``; while an import
#   fills that index's pending list, each such lookup reads the whole list, hundreds of
#   milliseconds per batch by the end of a large first import. GIN is read by bitmap
#   scans only.
BATCH_SETTINGS_SQL = """
SELECT set_config('synchronous_commit', 'off', true),
       set_config('enable_seqscan', 'off', true),
       set_config('enable_bitmapscan', 'off', true)
"""
LINKS_SQL = """
SELECT l.woo_order_id, l.imported_at, s.number, s.status
FROM order_links AS l JOIN sales_orders AS s ON s.id = l.sales_order_id
WHERE l.webstore_id = %(webstore)s AND l.woo_order_id BETWEEN %(low)s AND %(high)s
  AND l.woo_order_id = ANY(%(ids)s)
"""
CUSTOMER_MAPPINGS_SQL = """
SELECT woo_customer_id, customer_id FROM customer_mappings
WHERE webstore_id = %(webstore)s AND woo_customer_id = ANY(%(ids)s)
"""
CUSTOMER_EMAILS_SQL = "SELECT email, id FROM customers WHERE email = ANY(%(emails)s)"
ITEM_SKUS_SQL = "SELECT sku, id FROM items WHERE sku = ANY(%(skus)s)"
ITEM_MAPPINGS_SQL = """
SELECT woo_product_id, woo_variation_id, item_id FROM item_mappings
WHERE webstore_id = %(webstore)s AND woo_product_id = ANY(%(ids)s)
"""

# The exchange rate of each (currency, day): the latest starting on or before it, as
# exchange_rates.rate_on reads it, for the pairs in step.
RATES_SQL = """
SELECT wanted.currency, wanted.day, (
    SELECT rate FROM currency_exchange_rates
    WHERE currency = wanted.currency AND starting_date <= wanted.day
    ORDER BY starting_date DESC LIMIT 1
)
FROM unnest(%(currencies)s::text[], %(days)s::date[]) AS wanted(currency, day)
"""

# Numbers from a series and ids from the table's sequence for ``count`` new records.
RESERVE = """
WITH taken AS (
    UPDATE number_series SET last_no = last_no + %(count)s WHERE code = %(series)s
    RETURNING last_no, prefix, digits
)
SELECT last_no, prefix, digits, ARRAY(
    SELECT nextval((SELECT pg_get_serial_sequence(%(table)s, 'id')))
    FROM generate_series(1, %(count)s)
)
FROM taken
"""


def json_rows(table: sa.Table, rows: list[dict]) -> tuple[list[str], str]:
    """The rows as a JSON array for ``json_populate_recordset``, and the columns to insert.

    Columns a row leaves out get their Python-side default, as through SQLAlchemy; enum
    values are checked as the column type checks them.
    """
    defaults = {}
    for column in table.columns:
        default = column.default
        if default is not None and not column.primary_key:
            defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    names = list(set().union(defaults, *rows))
    if any(len(row) < len(names) for row in rows):
        rows = [{**defaults, **row} for row in rows]
    for name in names:
        if isinstance(table.c[name].type, sa.Enum):
            check_enum(table.c[name], rows)
    # orjson: a batch's rows are thousands of values, encoded on the writer's thread.
    payload = orjson.dumps(rows, default=json_value, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return names, payload.decode()


def check_enum(column: sa.Column, rows: list[dict]) -> None:
    allowed = frozenset(column.type.enums)
    for row in rows:
        value = row.get(column.name)
        # The enums are StrEnums: a member is equal to its value.
        if value is not None and value not in allowed:
            raise ValueError(f"{value!r} is not a valid {column.table.name}.{column.name}")


def json_value(value):
    """Decimals, times and dates, as ``json_populate_recordset`` reads them."""
    if type(value) is Decimal:
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime given for a UTC column: {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} {value!r} cannot be written as JSON")


def first_named(records: list, named: set[int]) -> list[str]:
    """The numbers of these new records that no earlier order of the batch was credited
    with, and credit them: later orders of a batch share the customer or item an order
    planned, and only the order whose import created it names it in the log."""
    fresh = [r for r in records if r is not None and id(r) not in named]
    named.update(id(r) for r in fresh)
    return list(dict.fromkeys(r.number for r in fresh))


def take_import_lock() -> None:
    """Serialize the writing of batches across runs and workers until this transaction ends."""
    db.session.execute(
        sa.update(NumberSeries)
        .where(NumberSeries.code == "SO")
        .values(last_no=NumberSeries.last_no)
    )


def error_text(error: Exception) -> str:
    if isinstance(error, orjson.JSONEncodeError) and error.__cause__:
        error = error.__cause__  # what our ``default`` refused, and why
    return str(getattr(error, "orig", None) or error).splitlines()[0][:500]
