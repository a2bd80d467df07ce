"""What staff do to a sales order: release, post, archive, delete, mark a change reviewed.

Each change is one conditional UPDATE or DELETE (``WHERE status IN (...)``), so that two
people acting on one order at once cannot both succeed against a state that is gone.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from portal import db
from portal.models import OrderLink, SalesOrder, SalesOrderStatus
from portal.sync import writeback

OPEN, RELEASED, POSTED, ARCHIVED = (
    SalesOrderStatus.OPEN,
    SalesOrderStatus.RELEASED,
    SalesOrderStatus.POSTED,
    SalesOrderStatus.ARCHIVED,
)


class ActionRefused(Exception):
    """The order is not in a state the action can start from; the message says why."""


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    done: str  # "posted": what the order is afterwards
    allowed_from: tuple[SalesOrderStatus, ...]
    to: SalesOrderStatus | None  # None: the order is deleted
    consequence: str
    danger: bool = False

    def allows(self, status: SalesOrderStatus) -> bool:
        return status in self.allowed_from

    def question(self, order: SalesOrder) -> str:
        return f"{self.label} sales order {order.number}?"

    def refusal(self, number: str, status: SalesOrderStatus | None) -> str:
        if status is None:
            return f"{number} was deleted meanwhile."
        if status == self.to:
            return f"{number} is {status} already."
        states = " or ".join(str(s) for s in self.allowed_from)
        article = "an" if states[0] in "aeiou" else "a"
        return (
            f"{number} cannot be {self.done}: it is {status}, "
            f"and only {article} {states} order can be {self.done}."
        )


ACTIONS = {
    action.name: action
    for action in (
        Action(
            "release",
            "Release",
            "released",
            (OPEN,),
            RELEASED,
            "A released order can be posted; it can no longer be deleted.",
        ),
        Action(
            "post",
            "Post",
            "posted",
            (OPEN, RELEASED),
            POSTED,
            "A posted order cannot be changed or deleted, and imports skip its webstore "
            "order as posted.",
        ),
        Action(
            "archive",
            "Archive",
            "archived",
            (OPEN, RELEASED, POSTED),
            ARCHIVED,
            "An archived order is kept for reference only, and imports skip its webstore "
            "order as archived.",
        ),
        Action(
            "delete",
            "Delete",
            "deleted",
            (OPEN,),
            None,
            "The sales order and its lines are deleted, and with them its link to the "
            "webstore order: the next import brings that order in again.",
            danger=True,
        ),
    )
}


def available_actions(order: SalesOrder) -> list[Action]:
    return [action for action in ACTIONS.values() if action.allows(order.status)]


def perform(order: SalesOrder, action: Action) -> str:
    """Apply ``action`` to ``order`` and commit; return what to tell the person."""
    order_id, number, woo_number = order.id, order.number, order.external_document_no
    if not action.allows(order.status):
        raise ActionRefused(action.refusal(number, order.status))
    still_allowed = (SalesOrder.id == order_id, SalesOrder.status.in_(action.allowed_from))
    if action.to is None:
        db.session.execute(sa.delete(OrderLink).where(OrderLink.sales_order_id == order_id))
        statement = sa.delete(SalesOrder).where(*still_allowed)
    else:
        statement = sa.update(SalesOrder).where(*still_allowed).values(status=action.to)
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        # Someone else changed (or deleted) the order between our read and our write.
        db.session.rollback()
        status = db.session.scalar(sa.select(SalesOrder.status).where(SalesOrder.id == order_id))
        raise ActionRefused(action.refusal(number, status))
    # The store hears of it as the webstore's setup says: planned in this transaction.
    store_update = writeback.plan(order, action.name, action.done) if action.to else None
    db.session.commit()
    if action.to is None:
        return f"Sales order {number} deleted. Webstore order {woo_number} can be imported again."
    if store_update is None:
        return f"Sales order {number} {action.done}."
    writeback.enqueue(store_update.id)
    return (
        f"Sales order {number} {action.done}. Webstore order {woo_number} is being set to "
        f"{store_update.status_to} in the store."
    )


def set_shipping(order: SalesOrder, shipping_carrier: str, tracking_number: str) -> str:
    """Keep the carrier and tracking number of an order not posted yet."""
    result = db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.status.in_((OPEN, RELEASED)))
        .values(shipping_carrier=shipping_carrier, tracking_number=tracking_number)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ActionRefused(
            f"{order.number} is posted or archived: its carrier and tracking number went to "
            "the store with it and stay as they were."
        )
    db.session.commit()
    return f"Carrier and tracking number of {order.number} saved."


def mark_reviewed(order: SalesOrder) -> str:
    """Clear the order's change warning once someone has looked at the store's change."""
    db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.change_warning.is_not(None))
        .values(change_warning=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return f"The change to {order.number} is marked as reviewed."
