"""Reading sales orders for the pages: the list and one order.

The list stays fast with 100,000 orders and more: it pages by keyset (the id of the row a
page ends or starts on, and that row's value in the sort column), so page 2,000 costs what
page 1 does, and it counts matching orders only up to ``COUNT_CAP``.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from portal import db
from portal.documents import queries as documents
from portal.models import (
    UNPOSTED,
    Customer,
    LineType,
    OrderLink,
    PaymentMethod,
    PostedCreditMemo,
    PostedSalesInvoice,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    SalesOrderStatus,
    ShipmentMethod,
    ShippingAgent,
    StoreWriteback,
    SyncRun,
    User,
    Webstore,
)
from portal.paging import COUNT_CAP, Page, contains, contains_text, keyset_page
from portal.sync import posting, vat
from portal.sync.states import CANCELLED_IN_STORE, CLOSED_IN_STORE

PER_PAGE = 50

# The columns each sort orders by, before the id that settles ties. Each leads with an
# indexed column (amount_including_tax still wants its index); status goes on by date,
# as its index (status, order_date) does.
SORT_COLUMNS = {
    "number": (SalesOrder.number,),
    "date": (SalesOrder.order_date,),
    "customer": (SalesOrder.sell_to_name,),
    "amount": (SalesOrder.amount_including_tax,),
    "status": (SalesOrder.status, SalesOrder.order_date),
}


@dataclass(frozen=True)
class Sort:
    key: str = "date"
    descending: bool = True

    @classmethod
    def parse(cls, text: str | None) -> "Sort":
        """``"-date"`` sorts by date, newest first; anything unknown sorts so too."""
        text = (text or "").strip()
        key = text.lstrip("-")
        if key not in SORT_COLUMNS:
            return cls()
        return cls(key, text.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key

    def toggled(self, key: str) -> str:
        """The sort a column header's link asks for: its column, the other way if current."""
        if key == self.key:
            return str(Sort(key, not self.descending))
        # Dates and amounts are read newest and largest first; names and numbers A to Z.
        return str(Sort(key, key in ("date", "amount")))


@dataclass(frozen=True)
class OrderFilters:
    search: str = ""
    webstore_id: int | None = None
    status: SalesOrderStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    customer_id: int | None = None

    @property
    def any(self) -> bool:
        return any(
            (
                self.search,
                self.webstore_id,
                self.status,
                self.date_from,
                self.date_to,
                self.customer_id,
            )
        )


def search_condition(term: str):
    """Order no., external document no., or the customer's name, company or email, in any
    case; names and companies with or without accents.

    The customer's record is matched as well as the name and email on the order (a guest
    order may belong to the default guest customer). On PostgreSQL the matching customers
    are an array (``customer_id = ANY(ARRAY(SELECT ...))``), which the database can scan by
    index beside the other terms; ``IN (SELECT ...)`` would make it test every order.
    """
    customers = sa.select(Customer.id).where(
        sa.or_(
            contains_text(Customer.name, term),
            contains_text(Customer.company, term),
            contains(Customer.email, term),
        )
    )
    if db.session.get_bind().dialect.name == "postgresql":
        by_customer = SalesOrder.customer_id == sa.any_(sa.func.array(customers.scalar_subquery()))
    else:
        by_customer = SalesOrder.customer_id.in_(customers)
    return sa.or_(
        contains(SalesOrder.number, term),
        contains(SalesOrder.external_document_no, term),
        contains_text(SalesOrder.sell_to_name, term),
        contains_text(SalesOrder.sell_to_company, term),
        contains(SalesOrder.sell_to_email, term),
        by_customer,
    )


def store_number(term: str) -> str | None:
    """The store order number in ``#600`` (WooCommerce writes its order numbers so), or
    None for a term without the mark."""
    if term.startswith("#") and (number := term[1:].strip()):
        return number
    return None


def filter_conditions(filters: OrderFilters) -> list:
    conditions = []
    if filters.search:
        conditions.append(search_condition(store_number(filters.search) or filters.search))
    if filters.webstore_id:
        conditions.append(SalesOrder.webstore_id == filters.webstore_id)
    if filters.status:
        conditions.append(SalesOrder.status == filters.status)
    if filters.date_from:
        conditions.append(SalesOrder.order_date >= filters.date_from)
    if filters.date_to:
        conditions.append(SalesOrder.order_date <= filters.date_to)
    if filters.customer_id:
        conditions.append(SalesOrder.customer_id == filters.customer_id)
    return conditions


def list_orders(
    filters: OrderFilters,
    sort: Sort,
    *,
    after: int | None = None,
    before: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """One page of the orders that match, in ``sort`` order, by keyset.

    ``after`` is the id of the last order of the page before; ``before`` the id of the
    first order of the page after. ``page`` is only the number shown.
    """
    columns = (*SORT_COLUMNS[sort.key], SalesOrder.id)
    conditions = filter_conditions(filters)
    query = sa.select(SalesOrder).where(*conditions).options(joinedload(SalesOrder.webstore))

    return keyset_page(
        query,
        SalesOrder,
        columns,
        conditions,
        descending=sort.descending,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
        cap=COUNT_CAP,
    )


def webstores() -> list[Webstore]:
    return list(db.session.scalars(sa.select(Webstore).order_by(Webstore.code)))


def customer_name(customer_id: int) -> str | None:
    customer = db.session.get(Customer, customer_id)
    return f"{customer.number} {customer.name}" if customer else None


# One order


@dataclass
class OrderView:
    order: SalesOrder
    link: OrderLink | None
    run: SyncRun | None
    item_lines: list[SalesLine] = field(default_factory=list)
    charge_lines: list[SalesLine] = field(default_factory=list)
    # What was (or is to be) written back to the store for this order.
    writebacks: list[StoreWriteback] = field(default_factory=list)
    credit_memos: list = field(default_factory=list)
    reviewed_by: User | None = None
    # What the order's codes stand for (None where there is no code, or it is gone).
    payment_method: PaymentMethod | None = None
    shipment_method: ShipmentMethod | None = None
    shipping_agent: ShippingAgent | None = None
    # What posting made: the invoice, and the credit memos' posted memos by memo id.
    invoice: PostedSalesInvoice | None = None
    posted_memos: dict[int, PostedCreditMemo] = field(default_factory=dict)

    @property
    def vat_summary(self) -> list[vat.SummaryRow]:
        return posting.vat_summary(self.order.lines)

    @property
    def has_vat_codes(self) -> bool:
        return posting.carries_vat_codes(self.order.lines)

    @property
    def converted(self) -> bool:
        return self.order.exchange_rate is not None

    @property
    def agent_name(self) -> str:
        return self.shipping_agent.name if self.shipping_agent is not None else ""

    @property
    def woo_order_id(self) -> int:
        return self.link.woo_order_id if self.link else self.order.woo_order_id

    @property
    def woo_order_number(self) -> str:
        return self.link.woo_order_number if self.link else self.order.external_document_no

    @property
    def store_admin_url(self) -> str | None:
        """The order's edit page in the store's WordPress admin.

        ``post.php`` works on every store: with HPOS on, WooCommerce redirects it to
        ``admin.php?page=wc-orders&action=edit&id=...``. Only http(s) base URLs are linked.
        """
        base = (self.order.webstore.base_url or "").rstrip("/")
        if not base.lower().startswith(("https://", "http://")):
            return None
        return f"{base}/wp-admin/post.php?post={self.woo_order_id}&action=edit"

    @property
    def items_amount(self) -> Decimal:
        return sum((line.amount for line in self.item_lines), Decimal(0))

    @property
    def charges_amount(self) -> Decimal:
        return sum((line.amount for line in self.charge_lines), Decimal(0))

    @property
    def refunded_amount(self) -> Decimal:
        """Refunded in the store as last read, or credited here, whichever says more."""
        return max(self.order.refunded_amount, self.credited_amount)

    @property
    def credited_amount(self) -> Decimal:
        return sum((memo.amount_including_tax for memo in self.credit_memos), Decimal(0))

    @property
    def net_amount(self) -> Decimal:
        return self.order.amount_including_tax - self.refunded_amount

    @property
    def store_status(self) -> str:
        """The store order's status as last read ("deleted" once the store has none)."""
        state = self.order.store_state or self.order.imported_state
        return state["status"] if state else self.order.woo_status

    @property
    def no_store_update(self) -> str | None:
        """The store status that keeps any write-back from being made (refunded...)."""
        return self.store_status if self.store_status in CLOSED_IN_STORE else None

    @property
    def cancelled_in_store(self) -> bool:
        return self.store_status in CANCELLED_IN_STORE

    @property
    def can_follow_store(self) -> bool:
        return self.order.status in UNPOSTED


def get_order(order_id: int) -> OrderView | None:
    order = db.session.scalar(
        sa.select(SalesOrder)
        .where(SalesOrder.id == order_id)
        .options(
            joinedload(SalesOrder.customer),
            joinedload(SalesOrder.webstore),
            selectinload(SalesOrder.lines).options(
                joinedload(SalesLine.item), joinedload(SalesLine.account)
            ),
            selectinload(SalesOrder.coupons),
            selectinload(SalesOrder.refunds),
        )
    )
    if order is None:
        return None
    link = db.session.scalar(sa.select(OrderLink).where(OrderLink.sales_order_id == order.id))
    run = db.session.get(SyncRun, order.sync_run_id) if order.sync_run_id else None
    return OrderView(
        order=order,
        reviewed_by=db.session.get(User, order.reviewed_by_id) if order.reviewed_by_id else None,
        payment_method=by_code(PaymentMethod, order.payment_method_code),
        shipment_method=by_code(ShipmentMethod, order.shipment_method_code),
        shipping_agent=by_code(ShippingAgent, order.shipping_agent_code),
        invoice=documents.invoice_of(order.id),
        posted_memos={memo.credit_memo_id: memo for memo in documents.posted_memos_of(order.id)},
        link=link,
        run=run,
        item_lines=[line for line in order.lines if line.line_type == LineType.ITEM],
        charge_lines=[line for line in order.lines if line.line_type != LineType.ITEM],
        writebacks=list(
            db.session.scalars(
                sa.select(StoreWriteback)
                .where(StoreWriteback.sales_order_id == order.id)
                .order_by(StoreWriteback.id)
            )
        ),
        credit_memos=list(
            db.session.scalars(
                sa.select(SalesCreditMemo)
                .where(SalesCreditMemo.sales_order_id == order.id)
                .order_by(SalesCreditMemo.number)
            )
        ),
    )


def by_code(model, code: str):
    """The setup record (payment method, shipment method, agent) of ``code``, if any."""
    if not code:
        return None
    return db.session.scalar(sa.select(model).where(model.code == code))


def shipping_agent_name(order: SalesOrder) -> str:
    """The name of the order's shipping agent: the carrier offered when posting."""
    agent = by_code(ShippingAgent, order.shipping_agent_code)
    return agent.name if agent is not None else ""
