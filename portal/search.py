"""The header's search over every kind of record: the pages by name, the sales orders,
customers and items as their own lists find them, and the store orders that runs met."""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal import db
from portal.converters import MAX_ID, whole_number
from portal.customers import queries as customer_queries
from portal.htmx import is_htmx
from portal.items import queries as item_queries
from portal.models import (
    Customer,
    Item,
    NumberSeries,
    OrderLink,
    SalesOrder,
    SyncLogEntry,
    Webstore,
)
from portal.orders.queries import search_condition, store_number
from portal.paging import COUNT_CAP, capped_count

bp = Blueprint("search", __name__)


@dataclass(frozen=True)
class PageHit:
    name: str
    endpoint: str
    description: str
    role: str
    words: tuple[str, ...] = ()


PAGES = (
    PageHit(
        "Webstore Sales Orders",
        "orders.index",
        "The sales orders imports created",
        "viewer",
        ("sales orders", "orders"),
    ),
    PageHit(
        "Sales Credit Memos",
        "credit_memos.index",
        "The memos that store refunds became",
        "viewer",
        ("credit memos", "memos", "refunds"),
    ),
    PageHit(
        "Posted Sales Invoices",
        "documents.invoices",
        "What posting sales orders made",
        "viewer",
        ("invoices", "posted"),
    ),
    PageHit(
        "Posted Credit Memos",
        "documents.credit_memos",
        "What posting credit memos made",
        "viewer",
        ("posted memos", "posted"),
    ),
    PageHit(
        "VAT report",
        "documents.vat_report",
        "VAT per code and period, from the posted documents",
        "viewer",
        ("vat", "tax"),
    ),
    PageHit(
        "Import Webstore Orders",
        "imports.new",
        "Import orders from a webstore now",
        "staff",
        ("import",),
    ),
    PageHit(
        "Import Results",
        "imports.results",
        "Every import run and its activity log",
        "viewer",
        ("runs", "log", "results"),
    ),
    PageHit("Setup", "setup.index", "Webstores and their order sync", "viewer", ("webstores",)),
    PageHit(
        "Templates",
        "setup.templates",
        "Customer and item templates",
        "viewer",
        ("customer templates", "item templates"),
    ),
    PageHit("Users", "setup.users", "Who may sign in, with which role", "admin", ("roles",)),
)


def find_pages(term: str, user) -> list[PageHit]:
    term = " ".join(term.lower().split())
    if not term:
        return []
    return [
        page
        for page in PAGES
        if user.has_role(page.role)
        and any(term in text.lower() for text in (page.name, *page.words))
    ]


# How many of each kind the header's search shows; the rest are a "see all" link away,
# counted as the lists count (up to COUNT_CAP). A smaller cap would not be cheaper: with a
# LIMIT of 100 PostgreSQL reads the orders one by one rather than by the indexes.
SEARCH_LIMIT = 5
# Searching by part of a value takes three characters: the trigram indexes serve no less,
# and one or two match most rows anyway. Shorter terms find orders by exact number only.
SEARCH_MIN_PART = 3


@dataclass
class Found:
    """The first few records of one kind that match, and how many match in all (up to
    ``COUNT_CAP``, ``capped`` beyond)."""

    rows: list = field(default_factory=list)
    count: int = 0
    capped: bool = False

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)


@dataclass
class FoundOrders(Found):
    # The one order with exactly this number or external no., if there is just one.
    exact: SalesOrder | None = None


@dataclass(frozen=True)
class TraceHit:
    """A store order that runs met, offered as its trace: its webstore, the latest log entry
    about it, and its sales order's number if it has one now."""

    webstore_code: str
    entry: SyncLogEntry
    sales_order_number: str | None = None


@dataclass
class SearchResults:
    term: str
    pages: list[PageHit] = field(default_factory=list)
    orders: FoundOrders = field(default_factory=FoundOrders)
    customers: Found = field(default_factory=Found)
    items: Found = field(default_factory=Found)
    traces: list[TraceHit] = field(default_factory=list)

    @property
    def no_records(self) -> bool:
        return not (self.orders.rows or self.customers.rows or self.items.rows or self.traces)

    @property
    def only_traces(self) -> bool:
        """Webstore orders found in the log, and no sales order, customer or item."""
        return bool(self.traces) and not (
            self.orders.rows or self.customers.rows or self.items.rows
        )

    @property
    def store_order_id(self) -> int | None:
        """The term as a store order id, if it can be one."""
        return whole_number(self.term, 1, MAX_ID)

    @property
    def too_short(self) -> bool:
        """Too short to search by part of a value: only an exact order number was asked."""
        return len(self.term) < SEARCH_MIN_PART


def find_first(query, model, conditions: list, limit: int) -> Found:
    """The first ``limit`` rows of ``query`` and the count of all that match ``conditions``;
    counted by a second query only when there are more than ``limit``."""
    rows = list(db.session.scalars(query.limit(limit + 1)))
    if len(rows) <= limit:
        return Found(rows, len(rows))
    count, capped = capped_count(model, conditions, COUNT_CAP)
    return Found(rows[:limit], count, capped)


def find_exact_orders(term: str, limit: int, *, store_only: bool = False) -> list[SalesOrder]:
    """Orders with this number (``SO00012``, ``so00012`` or ``12``) or external document
    no. (the store's order number; it alone where ``store_only``), by the indexes on both
    columns. Order numbers hold digits: "results" or "setup" is no order, and costs no
    query."""
    if not any(c.isdigit() for c in term) or len(term) > 40:
        return []
    upper = term.upper()
    numbers = {upper}
    if (number := whole_number(term)) is not None:
        series = db.session.get(NumberSeries, "SO")
        if series:
            numbers.add(series.format(number))
    by_store_number = SalesOrder.external_document_no.in_({term, upper})
    return list(
        db.session.scalars(
            sa.select(SalesOrder)
            .where(
                by_store_number
                if store_only
                else sa.or_(SalesOrder.number.in_(numbers), by_store_number)
            )
            .order_by(SalesOrder.number.desc())
            .limit(limit)
            .options(joinedload(SalesOrder.webstore))
        )
    )


def find_orders(term: str, limit: int = SEARCH_LIMIT, *, store_only: bool = False) -> FoundOrders:
    """What the orders list finds for ``term`` (its own search condition), newest first,
    led by the orders with exactly that number or external no. (the store's number alone
    where ``store_only``); for a term shorter than ``SEARCH_MIN_PART``, those alone.

    ``exact`` is the order whose number or external no. is the term, where just one is.
    """
    term = term.strip()
    if not term:
        return FoundOrders()
    exact = find_exact_orders(term, limit, store_only=store_only)
    if len(term) < SEARCH_MIN_PART:
        return FoundOrders(exact, len(exact), exact=exact[0] if len(exact) == 1 else None)
    conditions = [search_condition(term)]
    query = (
        sa.select(SalesOrder)
        .where(*conditions)
        .order_by(SalesOrder.order_date.desc(), SalesOrder.id.desc())
        .options(joinedload(SalesOrder.webstore))
    )
    found = find_first(query, SalesOrder, conditions, limit)
    exact_ids = {order.id for order in exact}
    rows = exact + [order for order in found.rows if order.id not in exact_ids]
    return FoundOrders(
        rows=rows[:limit],
        count=max(found.count, len(exact)),
        capped=found.capped,
        exact=exact[0] if len(exact) == 1 else None,
    )


def find_customers(term: str, limit: int = SEARCH_LIMIT) -> Found:
    """What the customers list finds for ``term`` (its own search condition), by number."""
    term = term.strip()
    if len(term) < SEARCH_MIN_PART:
        return Found()
    conditions = [customer_queries.search_condition(term)]
    query = sa.select(Customer).where(*conditions).order_by(Customer.number)
    return find_first(query, Customer, conditions, limit)


def find_items(term: str, limit: int = SEARCH_LIMIT) -> Found:
    """What the items list finds for ``term`` (its own search conditions), by number."""
    term = term.strip()
    if len(term) < SEARCH_MIN_PART:
        return Found()
    conditions = item_queries.search_conditions(term)
    query = sa.select(Item).where(*conditions).order_by(Item.number, Item.id)
    return find_first(query, Item, conditions, limit)


def find_traces(term: str, limit: int = SEARCH_LIMIT) -> list[TraceHit]:
    """Store orders with the id ``term`` that runs met, in any webstore, each with its
    latest log entry and its sales order's number (if it has one): to be offered as traces,
    above all those of orders that failed or were skipped and so have no sales order.

    A store order's number is its id unless a plugin renumbers the store's orders; the log
    is indexed by (webstore_id, woo_order_id) only, so it is looked up by id: for each
    webstore, one probe of that index (``webstore_id = ANY(ARRAY(...))`` on PostgreSQL,
    which has no skip scan to find the second column of an index alone). A term that is no
    whole number costs no query."""
    order_id = whole_number(term, 1, MAX_ID)
    if order_id is None:
        return []
    stores = sa.select(Webstore.id)
    if db.session.get_bind().dialect.name == "postgresql":
        in_a_webstore = SyncLogEntry.webstore_id == sa.any_(sa.func.array(stores.scalar_subquery()))
    else:
        in_a_webstore = SyncLogEntry.webstore_id.in_(stores)
    latest = (
        sa.select(sa.func.max(SyncLogEntry.id))
        .where(in_a_webstore, SyncLogEntry.woo_order_id == order_id)
        .group_by(SyncLogEntry.webstore_id)
    )
    rows = db.session.execute(
        sa.select(Webstore.code, SyncLogEntry, SalesOrder.number)
        .join(Webstore, Webstore.id == SyncLogEntry.webstore_id)
        .outerjoin(
            OrderLink,
            sa.and_(
                OrderLink.webstore_id == SyncLogEntry.webstore_id,
                OrderLink.woo_order_id == SyncLogEntry.woo_order_id,
            ),
        )
        .outerjoin(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(SyncLogEntry.id.in_(latest))
        .order_by(Webstore.code)
        .limit(limit)
    )
    return [TraceHit(code, entry, number) for code, entry, number in rows]


def find_everything(term: str, user, limit: int = SEARCH_LIMIT) -> SearchResults:
    """The header's search: the pages ``user`` may open by name, the first few sales
    orders, customers and items that their lists would show for ``term``, and the store
    orders of that id that runs met (those not found as sales orders already).

    ``#600`` is the store's order 600, as WooCommerce writes it: the ``#`` is left out,
    and the order with that store number leads (never SO00600 by its own number)."""
    term = term.strip()
    hashed = store_number(term)
    term = hashed or term
    orders = find_orders(term, limit, store_only=hashed is not None)
    # An order found as a sales order is offered its trace there.
    shown = {(o.webstore_id, o.woo_order_id) for o in orders.rows}
    return SearchResults(
        term=term,
        pages=find_pages(term, user),
        orders=orders,
        customers=find_customers(term, limit),
        items=find_items(term, limit),
        traces=[
            hit
            for hit in find_traces(term, limit)
            if (hit.entry.webstore_id, hit.entry.woo_order_id) not in shown
        ],
    )


@bp.get("/search")
def index():
    """The header's search box: pages by name; sales orders, customers and items as their
    lists find them. HTMX (the typeahead under the box) gets the short list; a plain
    request the page, or the order itself where the term is exactly its number."""
    term = request.args.get("q", "").strip()[:100]
    results = find_everything(term, current_user)
    if is_htmx():
        return render_template("search/_results.html", results=results, term=term)
    exact = results.orders.exact
    if exact is not None and not results.pages:
        return redirect(url_for("orders.show", order_id=exact.id))
    if len(results.traces) == 1 and results.only_traces and not results.pages:
        # A store order number that only the log knows (it failed, or was skipped): its trace.
        hit = results.traces[0]
        return redirect(
            url_for("orders.trace", code=hit.webstore_code, woo_order_id=hit.entry.woo_order_id)
        )
    return render_template("search/index.html", results=results, term=term)
