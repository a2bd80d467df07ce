"""A sales order follows its store order: updated from the store, or cancelled with it.

Only an open or released sales order is changed; a posted one never is. An update rebuilds
the lines, quantities, prices, addresses and totals, the payment and shipping codes, the VAT
codes and the exchange rate from the store's current order by the import's own rules
(``portal.sync.plan``: to the last unit, as the webstore's mappings now say), keeping the
number, the customer and the status; a store order cancelled, in the trash or deleted
cancels the sales order instead (a status of its own: kept for reference, never posted).
Either way the store's state becomes the one the sales order stands on, its warning goes,
and an order event says what was done and by whom.
"""

import sqlalchemy as sa

from portal import db
from portal.models import (
    UNPOSTED,
    EventKind,
    Item,
    ItemMapping,
    SalesLine,
    SalesOrder,
    SalesOrderCoupon,
    SalesOrderRefund,
    SalesOrderStatus,
)
from portal.models.base import utcnow
from portal.sync.customers import CustomerChoice
from portal.sync.exchange_rates import rates_on
from portal.sync.failures import OrderFailure
from portal.sync.history import record
from portal.sync.items import ItemBook
from portal.sync.log import LogLine
from portal.sync.money import amount_text
from portal.sync.numbers import next_numbers
from portal.sync.plan import (
    Plan,
    coupon_values,
    line_rows,
    mapping_rows,
    new_records,
    order_values,
    plan_order,
    refund_rows,
)
from portal.sync.states import DELETED, OrderState
from portal.sync.webstore_setup import WebstoreSetup
from portal.woo.errors import WooNotFound
from portal.woo.orders import WooOrder


class NotUpdated(Exception):
    """The sales order cannot follow its store order; the message says why and what to do."""


def update_from_store(order: SalesOrder, user_id: int | None) -> str:
    """Read the store's order now and make the sales order follow it (a person's action);
    commits, and returns what to tell them."""
    from portal.sync.runs import client_for  # runs builds on this package's modules

    refuse_unless_unposted(order)
    with client_for(order.webstore) as client:
        try:
            store_order = client.get_order(order.woo_order_id)
        except WooNotFound:
            store_order = None
        state = (
            OrderState.of(store_order)
            if store_order
            else latest_state(order).gone(noticed_at=utcnow())
        )
        message = follow(order, store_order, state, user_id, client.product_skus)
    db.session.commit()
    return message


def follow(
    order: SalesOrder,
    store_order: WooOrder | None,
    state: OrderState,
    user_id: int | None,
    product_skus=None,
) -> str:
    """Rebuild the sales order from ``store_order``, or cancel it with a cancelled one.
    Raises NotUpdated (or OrderFailure, saying what to fix) and changes nothing then."""
    refuse_unless_unposted(order)
    if state.cancelled:
        return cancel(order, state, user_id)
    return rebuild(order, store_order, state, user_id, product_skus)


def apply_store_change(known, met, changes: list[str]) -> LogLine:
    """The webstore applies store changes to open orders at once (a run met one)."""
    # Late: changes calls this module.
    from portal.sync.changes import changed_line, record_latest, warning_text

    order = db.session.get(SalesOrder, known.sales_order_id)
    line = changed_line(met, known, changes)
    try:
        with db.session.begin_nested():
            line.message += f"; {follow(order, met.order, met.state, None)}"
    except (OrderFailure, NotUpdated) as failure:
        record_latest(order.id, met.state, warning_text(known, met.state, changes))
        line.message += f"; not applied to {known.number}: {failure}"
    return line


def refuse_unless_unposted(order: SalesOrder) -> None:
    if order.status not in UNPOSTED:
        raise NotUpdated(
            f"{order.number} is {order.status}: a sales order that is not open or released "
            "is never changed. Put the order right in the store instead."
        )


def cancel(order: SalesOrder, state: OrderState, user_id: int | None) -> str:
    why = {"trash": "is in the store's trash", DELETED: "was deleted in the store"}.get(
        state.status, "was cancelled in the store"
    )
    result = db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.status.in_(UNPOSTED))
        .values(
            status=SalesOrderStatus.CANCELLED,
            store_state=state.as_json(),
            reviewed_state=state.as_json(),
            reviewed_at=utcnow(),
            reviewed_by_id=user_id,
            change_warning=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotUpdated(f"{order.number} was posted or changed meanwhile: it stays as it is.")
    message = f"{order.number} cancelled: webstore order {order.external_document_no} {why}"
    record(order.id, EventKind.CANCELLED, message, user_id=user_id)
    db.session.expire(order)
    return message


def rebuild(
    order: SalesOrder, store_order: WooOrder, state: OrderState, user_id: int | None, product_skus
) -> str:
    setup = WebstoreSetup.of(order.webstore)
    plan = plan_for(order, store_order, setup, product_skus)
    create_items(plan, setup.id)
    db.session.execute(sa.delete(SalesLine).where(SalesLine.sales_order_id == order.id))
    db.session.execute(
        sa.delete(SalesOrderCoupon).where(SalesOrderCoupon.sales_order_id == order.id)
    )
    db.session.execute(
        sa.delete(SalesOrderRefund).where(SalesOrderRefund.sales_order_id == order.id)
    )
    db.session.execute(sa.insert(SalesLine), line_rows(plan, order.id))
    coupons = [{**c, "sales_order_id": order.id} for c in coupon_values(plan)]
    if coupons:
        db.session.execute(sa.insert(SalesOrderCoupon), coupons)
    refunds = refund_rows(store_order, order.id)
    if refunds:
        db.session.execute(sa.insert(SalesOrderRefund), refunds)
    result = db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.status.in_(UNPOSTED))
        .values(
            **order_values(plan),
            reviewed_state=None,
            reviewed_at=None,
            reviewed_by_id=None,
            change_warning=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotUpdated(f"{order.number} was posted or changed meanwhile: it stays as it is.")
    message = "; ".join(
        [
            f"{order.number} updated from the store: total "
            f"{amount_text(store_order.total, plan.decimals, store_order.currency)}, "
            f"{len(store_order.line_items)} item line(s)",
            *plan.notes,
        ]
    )
    record(order.id, EventKind.UPDATED, message, user_id=user_id)
    db.session.expire(order)
    return message


class KeepCustomer:
    """An update keeps the sales order's customer, whatever the store's order now says."""

    def __init__(self, customer_id: int):
        self.customer_id = customer_id

    def choose(self, order, planned) -> CustomerChoice:
        return CustomerChoice(customer_id=self.customer_id)


def plan_for(order: SalesOrder, store_order: WooOrder, setup, product_skus) -> Plan:
    """``product_skus``: as ``BatchWriter``'s (None: the store is not asked)."""
    lines = list(store_order.line_items)
    items = ItemBook(setup)
    if product_skus is not None:
        items.prepare(lines, product_skus)
    items.load(lines)
    rates = rates_on(setup.accounting.rate_keys([store_order]))
    customer = KeepCustomer(order.customer_id)
    return plan_order(store_order, setup, customer, items, {}, {}, rates)


def create_items(plan: Plan, webstore_id: int) -> None:
    """The items the update needs that do not exist yet, numbered, and their mappings."""
    _, new = new_records([plan])
    if new:
        numbers = next_numbers("ITEM", len(new))
        ids = db.session.scalars(
            sa.insert(Item).returning(Item.id, sort_by_parameter_order=True),
            [{**item.values, "number": n} for item, n in zip(new, numbers, strict=True)],
        ).all()
        for item, number, item_id in zip(new, numbers, ids, strict=True):
            item.number, item.id = number, item_id
    _, mappings = mapping_rows([plan], webstore_id)
    if mappings:
        db.session.execute(sa.insert(ItemMapping), mappings)


def latest_state(order: SalesOrder) -> OrderState:
    from portal.sync.changes import known_orders  # late: changes calls this module

    (known,) = known_orders(order.webstore_id, [order.woo_order_id]).values()
    return known.latest or known.baseline
