"""Reading customers for the pages: the list and one customer.

The list pages by keyset on the customer number (unique, so indexed), so a deep page
costs what the first does; the sales orders of a page's customers are counted by one
grouped query over the indexed ``sales_orders.customer_id``, never one query a row.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal import db
from portal.models import Customer, CustomerMapping, SalesOrder, Webstore

PER_PAGE = 50
# Beyond this many matches the list says "more than 1,000" rather than count them all.
COUNT_CAP = 1000
# The sales orders listed on a customer's page; the orders list shows them all.
ORDERS_SHOWN = 50


def escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def contains(column, term: str):
    """``column ILIKE '%term%'``, with ``%`` and ``_`` in the term taken literally.

    ILIKE on the bare column (``lower() LIKE lower()`` on SQLite) is what a trigram
    index (``gin_trgm_ops``) on that column serves on PostgreSQL.
    """
    return column.ilike(f"%{escape_like(term)}%", escape="/")


def search_condition(term: str):
    """Number, name or email, by part and in any case."""
    return sa.or_(
        contains(Customer.number, term),
        contains(Customer.name, term),
        contains(Customer.email, term),
    )


@dataclass
class CustomerRow:
    customer: Customer
    order_count: int


@dataclass
class CustomerPage:
    rows: list[CustomerRow]
    number: int
    per_page: int
    next_after: int | None = None
    prev_before: int | None = None
    count: int = 0
    count_capped: bool = False

    @property
    def first_position(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.rows) - 1 if self.rows else 0


def list_customers(
    search: str = "",
    *,
    after: int | None = None,
    before: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> CustomerPage:
    """One page of the customers that match, by number, by keyset.

    ``after`` is the id of the last customer of the page before; ``before`` the id of the
    first customer of the page after. ``page`` is only the number shown.
    """
    conditions = [search_condition(search)] if search else []
    query = sa.select(Customer).where(*conditions)

    cursor = after or before
    backwards = bool(before) and not after
    anchor = None
    if cursor:
        anchor = db.session.scalar(sa.select(Customer.number).where(Customer.id == cursor))
    if anchor is None:
        # No cursor, or its customer is gone (merged or deleted meanwhile): start again.
        cursor, backwards, page = None, False, 1
    if cursor:
        query = query.where(Customer.number < anchor if backwards else Customer.number > anchor)
    query = query.order_by(Customer.number.desc() if backwards else Customer.number.asc())

    customers = list(db.session.scalars(query.limit(per_page + 1)))
    more = len(customers) > per_page
    customers = customers[:per_page]
    if backwards:
        customers.reverse()

    result = CustomerPage(rows=[], number=1, per_page=per_page)
    if backwards:
        result.next_after = customers[-1].id if customers else None
        if more:
            result.number = max(page, 2)
            result.prev_before = customers[0].id
    else:
        if more:
            result.next_after = customers[-1].id
        if cursor:
            result.number = max(page, 2)
            result.prev_before = customers[0].id if customers else None

    counts = order_counts([c.id for c in customers])
    result.rows = [CustomerRow(c, counts.get(c.id, 0)) for c in customers]
    if not cursor and not more:
        result.count, result.count_capped = len(customers), False
    else:
        result.count, result.count_capped = count_customers(conditions)
    return result


def order_counts(customer_ids: list[int]) -> dict[int, int]:
    """The number of sales orders of each customer, in one grouped query."""
    if not customer_ids:
        return {}
    rows = db.session.execute(
        sa.select(SalesOrder.customer_id, sa.func.count())
        .where(SalesOrder.customer_id.in_(customer_ids))
        .group_by(SalesOrder.customer_id)
    )
    return {customer_id: n for customer_id, n in rows}


def count_customers(conditions, cap: int = COUNT_CAP) -> tuple[int, bool]:
    capped = sa.select(Customer.id).where(*conditions).limit(cap + 1).subquery()
    found = db.session.scalar(sa.select(sa.func.count()).select_from(capped))
    return min(found, cap), found > cap


# One customer


@dataclass(frozen=True)
class MappingRow:
    webstore_code: str
    webstore_name: str
    woo_customer_id: int


@dataclass
class CustomerView:
    customer: Customer
    mappings: list[MappingRow] = field(default_factory=list)
    orders: list[SalesOrder] = field(default_factory=list)
    order_count: int = 0


def get_customer(customer_id: int) -> CustomerView | None:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        return None
    mappings = [
        MappingRow(*row)
        for row in db.session.execute(
            sa.select(Webstore.code, Webstore.name, CustomerMapping.woo_customer_id)
            .join(Webstore, Webstore.id == CustomerMapping.webstore_id)
            .where(CustomerMapping.customer_id == customer_id)
            .order_by(Webstore.code, CustomerMapping.woo_customer_id)
        )
    ]
    orders = list(
        db.session.scalars(
            sa.select(SalesOrder)
            .where(SalesOrder.customer_id == customer_id)
            .options(joinedload(SalesOrder.webstore))
            .order_by(SalesOrder.order_date.desc(), SalesOrder.id.desc())
            .limit(ORDERS_SHOWN)
        )
    )
    return CustomerView(
        customer=customer,
        mappings=mappings,
        orders=orders,
        order_count=order_counts([customer_id]).get(customer_id, 0),
    )


def customer_by_number(number: str) -> Customer | None:
    return db.session.scalar(sa.select(Customer).where(Customer.number == number))
