"""What staff do to a sales order: release, post, archive, delete, mark a change reviewed,
update it from the store.

Each change is one conditional UPDATE or DELETE (``WHERE status IN (...)``), so that two
people acting on one order at once cannot both succeed against a state that is gone.
"""

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import (
    UNPOSTED,
    EventKind,
    OrderLink,
    PostedSalesInvoice,
    SalesOrder,
    SalesOrderStatus,
    User,
)
from portal.sync import changes, posting, rebuild, writeback
from portal.sync.failures import OrderFailure
from portal.sync.history import record
from portal.sync.states import CANCELLED_IN_STORE
from portal.woo.errors import WooError

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
            "Posting makes its Posted Sales Invoice. A posted order cannot be changed or "
            "deleted, and imports skip its webstore order as posted.",
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


def store_status(order: SalesOrder) -> str:
    """The store order's status as last read."""
    state = order.store_state or order.imported_state
    return state["status"] if state else order.woo_status


def must_wait(order: SalesOrder, action: Action) -> str | None:
    """Why the order may not be posted as it stands: its store order changed and nobody
    reviewed it, or the store cancelled it. None where nothing stands in the way."""
    if action.name != "post":
        return None
    if order.change_warning:
        return (
            f"{order.number} changed in the store and nobody has reviewed the change: review "
            "it first (Mark reviewed, or Update from the store), then post."
        )
    status = store_status(order)
    if status in CANCELLED_IN_STORE:
        return (
            f"Webstore order {order.external_document_no} is {status} in the store: do not "
            f"post {order.number}; cancel it with Update from the store."
        )
    return None


def perform(
    order: SalesOrder,
    action: Action,
    shipping: tuple[str, str] | None = None,
    user: User | None = None,
) -> str:
    """Apply ``action`` to ``order`` and commit; return what to tell the person. A post
    takes the carrier and tracking number typed into its dialog (``shipping``) with it, and
    makes the order's Posted Sales Invoice in the same transaction: only the click whose
    UPDATE changed the order makes one, so two clicks (or two tabs) make one invoice."""
    order_id, number, woo_number = order.id, order.number, order.external_document_no
    if not action.allows(order.status):
        raise ActionRefused(action.refusal(number, order.status))
    if waiting := must_wait(order, action):
        raise ActionRefused(waiting)
    still_allowed = (SalesOrder.id == order_id, SalesOrder.status.in_(action.allowed_from))
    if action.to is None:
        db.session.execute(sa.delete(OrderLink).where(OrderLink.sales_order_id == order_id))
        statement = sa.delete(SalesOrder).where(*still_allowed)
    else:
        values = {"status": action.to}
        if shipping is not None:
            values["shipping_carrier"], values["tracking_number"] = shipping
        # Nobody reviewed a change that came in since the page was read: it waits too.
        still_allowed += (SalesOrder.change_warning.is_(None),) if action.name == "post" else ()
        statement = sa.update(SalesOrder).where(*still_allowed).values(values)
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        # Someone else changed (or deleted) the order between our read and our write, or
        # a sync found a store change meanwhile.
        db.session.rollback()
        db.session.expire(order)
        current = db.session.get(SalesOrder, order_id)
        if current is not None and (waiting := must_wait(current, action)):
            raise ActionRefused(waiting)
        raise ActionRefused(action.refusal(number, current.status if current else None))
    if action.to is not None:
        db.session.refresh(order)  # the note carries the carrier and tracking just set
    try:
        if action.name == "post":
            posting.post_sales_invoice(order, user)
        # The store hears of it as the webstore's setup says: planned in this transaction.
        store_update = writeback.plan(order, action.name, action.done) if action.to else None
        db.session.commit()
    except IntegrityError:
        # Another post made the invoice meanwhile (its unique sales order): as a second click.
        db.session.rollback()
        if not invoice_exists(order_id):
            raise
        raise ActionRefused(action.refusal(number, POSTED)) from None
    if action.to is None:
        return f"Sales order {number} deleted. Webstore order {woo_number} can be imported again."
    if store_update is None:
        closed = writeback.closed_in_store(order) if action.to else None
        if closed:
            return (
                f"Sales order {number} {action.done}. Webstore order {woo_number} is {closed} "
                "in the store: no store update is made."
            )
        return f"Sales order {number} {action.done}."
    writeback.enqueue(store_update.id)
    return (
        f"Sales order {number} {action.done}. Webstore order {woo_number} is being set to "
        f"{store_update.status_to} in the store."
    )


def invoice_exists(order_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(PostedSalesInvoice.id).where(PostedSalesInvoice.sales_order_id == order_id)
        )
        is not None
    )


def set_shipping(order: SalesOrder, shipping_carrier: str, tracking_number: str) -> str:
    """Keep the carrier and tracking number of an order not posted yet."""
    result = db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == order.id, SalesOrder.status.in_(UNPOSTED))
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


def warning_digest(warning: str | None) -> str:
    """A change warning's fingerprint: the review form carries the one its page showed."""
    return hashlib.sha256((warning or "").encode()).hexdigest()[:16]


def mark_reviewed(order: SalesOrder, user_id: int | None, shown: str | None = None) -> str:
    """The store's change is seen: its state is the reviewed one, and the same state never
    warns again (a new change does). ``shown``: the digest of the warning the person read;
    a change that came in since is not theirs to mark."""
    warning = order.change_warning
    if shown is not None and warning is not None and shown != warning_digest(warning):
        raise ActionRefused(
            f"The change to {order.number} changed again since the page was read: read it "
            "again, then mark it reviewed."
        )
    if not changes.mark_reviewed(order, user_id):
        db.session.rollback()
        return f"{order.number} has no change left to review."
    record(order.id, EventKind.REVIEWED, warning, user_id=user_id)
    db.session.commit()
    return f"The change to {order.number} is marked as reviewed."


def update_from_store(order: SalesOrder, user_id: int | None) -> str:
    """Rebuild the sales order from the store's order now, or cancel it with a cancelled one."""
    try:
        return rebuild.update_from_store(order, user_id)
    except (rebuild.NotUpdated, OrderFailure) as refused:
        db.session.rollback()
        raise ActionRefused(f"{order.number} was not updated: {refused}") from refused
    except WooError as error:
        db.session.rollback()
        raise ActionRefused(
            f"{order.number} was not updated: the store could not be read ({error}). "
            "Try again once it answers."
        ) from error
