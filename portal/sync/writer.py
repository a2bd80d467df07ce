"""Writing one batch of webstore orders as sales orders, in one transaction.

Each order is first planned in Python (customer, items, lines, reconciliation): an order
that cannot be planned fails alone, with its reason, and creates nothing. The plans that
hold are then written with a few bulk statements. Batches of concurrent runs are
serialized by a lock on the SO number series, taken first, so the check for orders
imported meanwhile sees every committed link; the unique link key backs that up. If the
batch's transaction fails anyway, each order is written again on its own, so a bad order
fails alone there too.
"""

import logging
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    Customer,
    CustomerMapping,
    Item,
    ItemMapping,
    LineType,
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
    Webstore,
)
from portal.models.base import utcnow
from portal.sync.customers import CustomerBook, CustomerChoice
from portal.sync.failures import OrderFailure
from portal.sync.items import ItemBook, ItemChoice
from portal.sync.numbers import next_numbers
from portal.woo.orders import WooOrder

log = logging.getLogger(__name__)
CENT = Decimal("0.01")


@dataclass
class Plan:
    order: WooOrder
    customer: CustomerChoice
    lines: list[tuple[dict, ItemChoice | None]]
    items: list[ItemChoice] = field(default_factory=list)


@dataclass
class LogLine:
    order_id: int
    order_number: str
    outcome: Outcome
    message: str = ""
    sales_order_number: str | None = None
    customers_created: str = ""
    items_created: str = ""


def skip_reason(number: str, status: SalesOrderStatus) -> str:
    if status == SalesOrderStatus.POSTED:
        return f"posted: {number} is posted"
    if status == SalesOrderStatus.ARCHIVED:
        return f"archived: {number} is archived"
    return f"already imported as {number}"


def existing_links(webstore_id: int, order_ids, since) -> dict[int, str]:
    """Why each of these orders that has a link is skipped, for a run started ``since``."""
    if not order_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            OrderLink.woo_order_id, OrderLink.imported_at, SalesOrder.number, SalesOrder.status
        )
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids))
    )
    reasons = {}
    for order_id, imported_at, number, status in rows:
        if since and imported_at >= since:
            reasons[order_id] = f"imported meanwhile as {number}"
        else:
            reasons[order_id] = skip_reason(number, status)
    return reasons


class BatchWriter:
    def __init__(self, run: SyncRun, webstore: Webstore, product_sku=None):
        self.run_id = run.id
        self.started_at = run.started_at
        self.webstore = webstore
        self.customers = CustomerBook(webstore)
        self.items = ItemBook(webstore, product_sku=product_sku)

    # Skips and failures decided before any order is written

    def log(self, lines: list[LogLine], fetched: int = 0) -> None:
        """Append log entries and count them on the run, in a transaction of their own."""
        try:
            self._append_log(lines, fetched=fetched)
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
                self.log([failed(orders[0], f"Could not be saved: {error_text(error)}")], fetched)
                return
            log.warning("batch failed (%s); writing its orders one by one", error_text(error))
            for position, order in enumerate(orders):
                self.write([order], fetched=fetched if position == 0 else 0)
            return
        # Only now, with the rows committed, may later batches rely on them.
        self.customers.remember([p.customer for p in plans])
        self.items.remember([c for p in plans for c in p.items])

    def _write(self, orders: list[WooOrder], fetched: int) -> list[Plan]:
        take_import_lock()
        linked = existing_links(self.webstore.id, [o.id for o in orders], self.started_at)
        lines: list[LogLine] = []
        fresh = []
        for order in orders:
            if order.id in linked:
                lines.append(skipped(order, linked[order.id]))
            else:
                fresh.append(order)
        plans = self._plan(fresh, lines)
        if plans:
            self._create_customers(plans)
            self._create_items(plans)
            lines.extend(self._create_sales_orders(plans))
        self._append_log(lines, fetched=fetched)
        return plans

    def _plan(self, orders: list[WooOrder], lines: list[LogLine]) -> list[Plan]:
        self.customers.load(orders)
        self.items.load([line for order in orders for line in order.line_items])
        planned_customers: dict = {}
        planned_items: dict = {}
        plans = []
        for order in orders:
            # A failed order's planned customer or items must not serve later orders.
            customers_before, items_before = dict(planned_customers), dict(planned_items)
            try:
                plans.append(self._plan_order(order, planned_customers, planned_items))
            except OrderFailure as failure:
                planned_customers.clear()
                planned_customers.update(customers_before)
                planned_items.clear()
                planned_items.update(items_before)
                lines.append(failed(order, str(failure)))
        return plans

    def _plan_order(self, order: WooOrder, planned_customers, planned_items) -> Plan:
        customer = self.customers.choose(order, planned_customers)
        plan = Plan(order=order, customer=customer, lines=[])
        for line in order.line_items:
            if line.quantity <= 0:
                raise OrderFailure(
                    f"Line '{line.name}' has quantity {line.quantity}: fix the order in the store."
                )
            choice = self.items.choose(line, planned_items)
            plan.items.append(choice)
            plan.lines.append(
                (
                    {
                        "line_type": LineType.ITEM,
                        "description": line.name[:200],
                        "sku": (line.sku or "")[:100],
                        "quantity": Decimal(line.quantity),
                        "unit_price": (line.subtotal / line.quantity).quantize(CENT),
                        "line_discount": line.subtotal - line.total,
                        "amount": line.total,
                        "tax_amount": line.total_tax,
                        "woo_line_id": line.id,
                    },
                    choice,
                )
            )
        for shipping in order.shipping_lines:
            plan.lines.append((self._shipping_line(order, shipping), None))
        for fee in order.fee_lines:
            plan.lines.append(
                (
                    {
                        "line_type": LineType.FEE,
                        "item_id": None,
                        "description": (fee.name or "Fee")[:200],
                        "sku": "",
                        "quantity": Decimal(1),
                        "unit_price": fee.total,
                        "line_discount": Decimal(0),
                        "amount": fee.total,
                        "tax_amount": fee.total_tax,
                        "woo_line_id": fee.id,
                    },
                    None,
                )
            )
        reconcile(order, [values for values, _ in plan.lines])
        return plan

    def _shipping_line(self, order: WooOrder, shipping) -> dict:
        item = self.webstore.shipping_charge_item
        if item is None:
            raise OrderFailure(
                f"The order has shipping ({shipping.method_title} {shipping.total}) but webstore "
                f"{self.webstore.code} has no shipping charge item: set one in its setup."
            )
        return {
            "line_type": LineType.SHIPPING,
            "item_id": item.id,
            "description": (shipping.method_title or "Shipping")[:200],
            "sku": item.sku or "",
            "quantity": Decimal(1),
            "unit_price": shipping.total,
            "line_discount": Decimal(0),
            "amount": shipping.total,
            "tax_amount": shipping.total_tax,
            "woo_line_id": shipping.id,
        }

    def _create_customers(self, plans: list[Plan]) -> None:
        new = list({id(p.customer.new): p.customer.new for p in plans if p.customer.new}.values())
        if new:
            numbers = next_numbers("CUST", len(new))
            ids = db.session.scalars(
                sa.insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
                [{**c.values, "number": n} for c, n in zip(new, numbers, strict=True)],
            ).all()
            for customer, number, customer_id in zip(new, numbers, ids, strict=True):
                customer.number, customer.id = number, customer_id
        mappings = {
            p.customer.map_woo_customer_id: p.customer.resolved_id()
            for p in plans
            if p.customer.map_woo_customer_id
        }
        if mappings:
            db.session.execute(
                sa.insert(CustomerMapping),
                [
                    {"webstore_id": self.webstore.id, "woo_customer_id": w, "customer_id": c}
                    for w, c in mappings.items()
                ],
            )

    def _create_items(self, plans: list[Plan]) -> None:
        choices = [c for p in plans for c in p.items]
        new = list({id(c.new): c.new for c in choices if c.new}.values())
        if new:
            numbers = next_numbers("ITEM", len(new))
            ids = db.session.scalars(
                sa.insert(Item).returning(Item.id, sort_by_parameter_order=True),
                [{**i.values, "number": n} for i, n in zip(new, numbers, strict=True)],
            ).all()
            for item, number, item_id in zip(new, numbers, ids, strict=True):
                item.number, item.id = number, item_id
        mappings = {c.map_product: c.resolved_id() for c in choices if c.map_product}
        if mappings:
            db.session.execute(
                sa.insert(ItemMapping),
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

    def _create_sales_orders(self, plans: list[Plan]) -> list[LogLine]:
        numbers = next_numbers("SO", len(plans))
        ids = db.session.scalars(
            sa.insert(SalesOrder).returning(SalesOrder.id, sort_by_parameter_order=True),
            [self._order_values(p, n) for p, n in zip(plans, numbers, strict=True)],
        ).all()
        sales_lines, coupons, refunds, links, log_lines = [], [], [], [], []
        now = utcnow()
        for plan, number, order_id in zip(plans, numbers, ids, strict=True):
            order = plan.order
            for line_no, (values, choice) in enumerate(plan.lines, start=1):
                row = {**values, "sales_order_id": order_id, "line_no": line_no * 10000}
                if choice is not None:
                    row["item_id"] = choice.resolved_id()
                sales_lines.append(row)
            coupons += [
                {
                    "sales_order_id": order_id,
                    "code": c.code[:100],
                    "discount": c.discount,
                    "discount_tax": c.discount_tax,
                }
                for c in order.coupon_lines
            ]
            refunds += [
                {
                    "sales_order_id": order_id,
                    "woo_refund_id": r.id,
                    "reason": r.reason or "",
                    "amount": -r.total,
                }
                for r in order.refunds
            ]
            links.append(
                {
                    "webstore_id": self.webstore.id,
                    "woo_order_id": order.id,
                    "woo_order_number": order.number[:40],
                    "sales_order_id": order_id,
                    "woo_modified_at": order.date_modified,
                    "imported_at": now,
                }
            )
            log_lines.append(
                LogLine(
                    order_id=order.id,
                    order_number=order.number,
                    outcome=Outcome.IMPORTED,
                    message=f"Imported as {number}",
                    sales_order_number=number,
                    customers_created=plan.customer.new.number
                    if plan.customer.new and plan.customer.new.number
                    else "",
                    items_created=", ".join(
                        dict.fromkeys(c.new.number for c in plan.items if c.new)
                    ),
                )
            )
        db.session.execute(sa.insert(SalesLine), sales_lines)
        if coupons:
            db.session.execute(sa.insert(SalesOrderCoupon), coupons)
        if refunds:
            db.session.execute(sa.insert(SalesOrderRefund), refunds)
        db.session.execute(sa.insert(OrderLink), links)
        return log_lines

    def _order_values(self, plan: Plan, number: str) -> dict:
        order = plan.order
        billing, shipping = order.billing, order.shipping
        amounts = [values for values, _ in plan.lines]
        amount = sum((v["amount"] for v in amounts), Decimal(0))
        tax = sum((v["tax_amount"] for v in amounts), Decimal(0))
        return {
            "number": number,
            "webstore_id": self.webstore.id,
            "customer_id": plan.customer.resolved_id(),
            "status": SalesOrderStatus.OPEN,
            "order_date": order.date_created.date(),
            "ordered_at": order.date_created,
            "currency": order.currency[:3],
            "external_document_no": order.number[:35],
            "woo_order_id": order.id,
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
            "payment_method": order.payment_method[:100],
            "payment_method_title": order.payment_method_title[:200],
            "customer_note": order.customer_note,
            "prices_include_tax": order.prices_include_tax,
            "amount": amount,
            "tax_amount": tax,
            "amount_including_tax": order.total,
            "discount_amount": order.discount_total,
            "refunded_amount": order.refunded_total,
            "sync_run_id": self.run_id,
        }

    def _append_log(self, lines: list[LogLine], fetched: int = 0) -> None:
        if lines:
            now = utcnow()
            db.session.execute(
                sa.insert(SyncLogEntry),
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
        counts = {outcome: 0 for outcome in Outcome}
        for line in lines:
            counts[line.outcome] += 1
        db.session.execute(
            sa.update(SyncRun)
            .where(SyncRun.id == self.run_id)
            .values(
                fetched=SyncRun.fetched + fetched,
                imported=SyncRun.imported + counts[Outcome.IMPORTED],
                skipped=SyncRun.skipped + counts[Outcome.SKIPPED],
                failed=SyncRun.failed + counts[Outcome.FAILED],
                changed=SyncRun.changed + counts[Outcome.CHANGED],
                heartbeat_at=utcnow(),
            )
        )


def take_import_lock() -> None:
    """Serialize the writing of batches across runs and workers until this transaction ends."""
    db.session.execute(
        sa.update(NumberSeries)
        .where(NumberSeries.code == "SO")
        .values(last_no=NumberSeries.last_no)
    )


def reconcile(order: WooOrder, lines: list[dict]) -> None:
    lines_total = sum((v["amount"] + v["tax_amount"] for v in lines), Decimal(0))
    if lines_total.quantize(CENT) != order.total.quantize(CENT):
        raise OrderFailure(
            f"The order total {order.total} {order.currency} does not match its lines, charges "
            f"and taxes ({lines_total.quantize(CENT)} {order.currency}): check the order's "
            "amounts in the store, then retry."
        )


def failed(order, message: str) -> LogLine:
    return LogLine(order.id, getattr(order, "number", str(order.id)), Outcome.FAILED, message)


def skipped(order, message: str) -> LogLine:
    return LogLine(order.id, getattr(order, "number", str(order.id)), Outcome.SKIPPED, message)


def error_text(error: Exception) -> str:
    return str(getattr(error, "orig", None) or error).splitlines()[0][:500]
