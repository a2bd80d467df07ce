"""Reading audits and store orders for the pages."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal import db
from portal.models import Webstore
from portal.models.health import Audit, StoreOrder, StoreOrderState
from portal.paging import Page, keyset_page

PER_PAGE = 50


def webstores() -> list[Webstore]:
    return list(db.session.scalars(sa.select(Webstore).order_by(Webstore.code)))


def audits_of(webstore: Webstore, limit: int = 10) -> list[Audit]:
    """The webstore's latest audits, newest first."""
    return list(
        db.session.scalars(
            sa.select(Audit)
            .where(Audit.webstore_id == webstore.id)
            .order_by(Audit.id.desc())
            .limit(limit)
        )
    )


def store_order_conditions(webstore: Webstore | None, state: str, number: str) -> list:
    """A webstore (none: no orders), a state, an order number (or id)."""
    found = [StoreOrder.webstore_id == (webstore.id if webstore else None)]
    if state in set(StoreOrderState):
        found.append(StoreOrder.state == state)
    if number:
        by_number = StoreOrder.number == number
        if number.isascii() and number.isdigit() and len(number) < 19:
            by_number = sa.or_(by_number, StoreOrder.woo_order_id == int(number))
        found.append(by_number)
    return found


def list_store_orders(
    webstore, state="", number="", *, after=None, before=None, page=1, per_page=PER_PAGE
) -> Page:
    """The webstore's store orders, newest first (by the store's id, unique in a webstore;
    the row's id follows it, for the keyset)."""
    where = store_order_conditions(webstore, state, number)
    return keyset_page(
        sa.select(StoreOrder).where(*where).options(joinedload(StoreOrder.sales_order)),
        StoreOrder,
        (StoreOrder.woo_order_id, StoreOrder.id),
        where,
        descending=True,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )
