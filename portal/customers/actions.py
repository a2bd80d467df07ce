"""What staff and admins do to customers: create and edit by hand, map a webstore's
customer to one, merge a duplicate."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal import db, mappings
from portal.actions import Refused
from portal.models import Customer, CustomerMapping, SalesOrder, Webstore
from portal.sync.numbers import next_number

EMAIL_TAKEN = "Customer {number} has this email already."


def email_owner(email: str | None, other_than: int | None) -> str | None:
    """The number of the customer other than ``other_than`` who has this email."""
    if not email:
        return None
    return db.session.scalar(
        sa.select(Customer.number).where(Customer.email == email, Customer.id != other_than)
    )


def save_customer(customer: Customer, values: dict) -> Customer:
    """Create (no id yet) or update ``customer`` with ``values`` and commit.

    A new customer takes the next number of the CUST series in the same transaction,
    so a refused save gives the number back. Raises ``Refused`` for a taken email.
    """
    owner = email_owner(values.get("email"), customer.id)
    if owner:
        raise Refused(EMAIL_TAKEN.format(number=owner), field="email")
    for name, value in values.items():
        setattr(customer, name, value)
    if customer.id is None:
        customer.number = next_number("CUST")
        customer.created_by_sync = False
        db.session.add(customer)
    try:
        db.session.commit()
    except IntegrityError:
        # An import (or a colleague) took the email between our check and our write.
        db.session.rollback()
        owner = email_owner(values.get("email"), customer.id)
        raise Refused(
            EMAIL_TAKEN.format(number=owner or "another") if owner else "The save failed.",
            field="email" if owner else None,
        ) from None
    return customer


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class MergeResult:
    duplicate_number: str
    target_id: int
    target_number: str
    orders_moved: int
    mappings_moved: int
    mappings_already_there: int
    webstores_repointed: int
    email_taken_over: str | None
    email_dropped: str | None = None

    def message(self) -> str:
        parts = [
            f"Customer {self.duplicate_number} merged into {self.target_number} and deleted:",
            f"{plural(self.orders_moved, 'sales order')} and "
            f"{plural(self.mappings_moved, 'webstore mapping')} moved",
        ]
        extra = []
        if self.mappings_already_there:
            extra.append(
                f"{plural(self.mappings_already_there, 'mapping')} {self.target_number} "
                "had already was not repeated"
            )
        if self.webstores_repointed:
            extra.append(
                f"{plural(self.webstores_repointed, 'webstore')} now use {self.target_number} "
                "as guest customer"
            )
        if self.email_taken_over:
            extra.append(f"the email {self.email_taken_over} moved too")
        if self.email_dropped:
            extra.append(
                f"its email {self.email_dropped} was not kept ({self.target_number} has its own)"
            )
        return " ".join(parts) + ("; " + "; ".join(extra) if extra else "") + "."


def merge_customers(duplicate_id: int, target_number: str) -> MergeResult:
    """Move the duplicate's sales orders, mappings and guest-customer roles to the target,
    then delete the duplicate, in one transaction. Raises ``Refused``.

    Both rows are locked first (in id order, so two merges cannot deadlock), so an import
    cannot book a new order on the duplicate between the move and the delete.
    """
    target_id = db.session.scalar(sa.select(Customer.id).where(Customer.number == target_number))
    if target_id is None:
        raise Refused(f"There is no customer {target_number}.", field="target")
    if target_id == duplicate_id:
        raise Refused("A customer cannot be merged into itself.", field="target")
    locked = {
        c.id: c
        for c in db.session.scalars(
            sa.select(Customer)
            .where(Customer.id.in_((duplicate_id, target_id)))
            .order_by(Customer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    duplicate, target = locked.get(duplicate_id), locked.get(target_id)
    if duplicate is None or target is None:
        db.session.rollback()
        raise Refused("One of the two customers was deleted meanwhile.")
    duplicate_number, duplicate_email = duplicate.number, duplicate.email

    def run(statement):
        return db.session.execute(statement.execution_options(synchronize_session=False))

    orders = run(
        sa.update(SalesOrder)
        .where(SalesOrder.customer_id == duplicate_id)
        .values(customer_id=target_id)
    ).rowcount
    # A webstore customer the target is mapped to already stays mapped once.
    theirs = aliased(CustomerMapping)
    already = (
        sa.select(theirs.id)
        .where(
            theirs.customer_id == target_id,
            theirs.webstore_id == CustomerMapping.webstore_id,
            theirs.woo_customer_id == CustomerMapping.woo_customer_id,
        )
        .exists()
    )
    repeated = run(
        sa.delete(CustomerMapping).where(CustomerMapping.customer_id == duplicate_id, already)
    ).rowcount
    mappings = run(
        sa.update(CustomerMapping)
        .where(CustomerMapping.customer_id == duplicate_id)
        .values(customer_id=target_id)
    ).rowcount
    webstores = run(
        sa.update(Webstore)
        .where(Webstore.guest_customer_id == duplicate_id)
        .values(guest_customer_id=target_id)
    ).rowcount
    run(sa.delete(Customer).where(Customer.id == duplicate_id))
    db.session.expunge(duplicate)
    email_taken_over = email_dropped = None
    if duplicate_email and not target.email:
        target.email = email_taken_over = duplicate_email
    elif duplicate_email and duplicate_email != target.email:
        email_dropped = duplicate_email
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused(
            f"{duplicate_number} could not be merged: it changed meanwhile. Try again."
        ) from None
    return MergeResult(
        duplicate_number=duplicate_number,
        target_id=target_id,
        target_number=target.number,
        orders_moved=orders,
        mappings_moved=mappings,
        mappings_already_there=repeated,
        webstores_repointed=webstores,
        email_taken_over=email_taken_over,
        email_dropped=email_dropped,
    )


def map_customer(webstore: Webstore, woo_customer_id: int, customer_number: str) -> str:
    """Map a registered customer of the webstore to an existing ERP customer, or map it to
    another where it is mapped already. Imports from now on book its orders there."""
    customer = db.session.scalar(sa.select(Customer).where(Customer.number == customer_number))
    if customer is None:
        raise Refused(f"There is no customer {customer_number}.", "customer_number")
    what = f"{webstore.code} customer {woo_customer_id}"
    key = {"woo_customer_id": woo_customer_id}
    tied = mappings.tie(CustomerMapping, webstore, key, "customer_id", customer.id)
    if not tied.changed:
        return f"{what} is mapped to {customer.number} already."
    if tied.was is None:
        return f"{what} is now mapped to {customer.number} {customer.name}."
    was = db.session.scalar(sa.select(Customer.number).where(Customer.id == tied.was))
    return f"{what} is now mapped to {customer.number} {customer.name} (was {was})."


def unmap_customer(webstore: Webstore, mapping_id: int) -> str:
    mapping = mappings.untie(CustomerMapping, webstore, mapping_id)
    if mapping is None:
        return "That mapping was removed meanwhile."
    what = f"{webstore.code} customer {mapping.woo_customer_id}"
    number = mapping.customer.number
    db.session.commit()
    return (
        f"{what} is no longer mapped to {number}: its next order is matched by email, "
        "or gets a new customer."
    )
