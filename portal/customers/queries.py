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
from portal.paging import Page, contains, contains_text, keyset_page

PER_PAGE = 50
# The sales orders listed on a customer's page; the orders list shows them all.
ORDERS_SHOWN = 50


def search_condition(term: str):
    """Number, name, company or email, by part and in any case; name and company with or
    without accents."""
    return sa.or_(
        contains(Customer.number, term),
        contains_text(Customer.name, term),
        contains_text(Customer.company, term),
        contains(Customer.email, term),
    )


@dataclass
class CustomerRow:
    customer: Customer
    order_count: int


def list_customers(
    search: str = "",
    *,
    after: int | None = None,
    before: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """One page of the customers that match, by number (unique), by keyset; its rows are
    ``CustomerRow``s with each customer's count of sales orders."""
    conditions = [search_condition(search)] if search else []
    result = keyset_page(
        sa.select(Customer).where(*conditions),
        Customer,
        (Customer.number,),
        conditions,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )
    counts = order_counts([c.id for c in result.rows])
    result.rows = [CustomerRow(c, counts.get(c.id, 0)) for c in result.rows]
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


# A webstore's customer mappings


def list_mappings(
    webstore: Webstore, *, after=None, before=None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """One page of the webstore's customer mappings, by the store's customer id."""
    conditions = [CustomerMapping.webstore_id == webstore.id]
    return keyset_page(
        sa.select(CustomerMapping).where(*conditions).options(joinedload(CustomerMapping.customer)),
        CustomerMapping,
        (CustomerMapping.woo_customer_id, CustomerMapping.id),
        conditions,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )
