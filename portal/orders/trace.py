"""An order's trace: all that the connector did with one webstore order, on one page.

"What happened to order 1042?" The answer is spread over several tables: every run that met
the order left a log entry (imported, skipped, failed or changed, with the reason); an
import made its sales order, whose change warning is the store's latest change not yet
reviewed; posting it made its Posted Sales Invoice and queued write-backs to the store;
refunds became credit memos, and posting those made Posted Credit Memos; and the order's
events tell what people and the connector did with it since: each review (who, when, what
they saw), each update from the store, the cancellation, and every try of a write-back with
its outcome (sent, refused, put off while the store was down, failed). The trace gathers
them into one list of events in time order.

It stays a handful of indexed lookups however long the log grows: the webstore by its code,
the order's link to its sales order (unique on webstore and store order id), the log
entries by the (webstore_id, woo_order_id) index, and the write-backs, order events, credit
memos and posted documents by their sales order id. Each kind of event comes from one
function of ``EVENT_SOURCES``; a new kind of record about an order is one more function
there, and one more ``kind`` that templates/orders/trace.html shows.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal import db
from portal.models import (
    EventKind,
    OrderEvent,
    OrderLink,
    Outcome,
    PostedCreditMemo,
    PostedSalesInvoice,
    RunKind,
    SalesCreditMemo,
    SalesOrder,
    StoreWriteback,
    SyncLogEntry,
    SyncRun,
    User,
    Webstore,
    WritebackState,
)

# A webstore's code as the setup takes it (Setup > Webstores): a path segment that is not
# one is no webstore, and is not looked up (a NUL could not even be sent to PostgreSQL).
WEBSTORE_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
# An order met by a run every few minutes for years would make a page too long to read:
# the trace shows its latest entries, and says that earlier ones are left out.
MAX_ENTRIES = 500

# The kinds of event, and the order of events of one moment: a run's entry first, then
# what it made, then what was done with it. An order event's kind is its EventKind's value.
RUN, SALES_ORDER, WRITEBACK, CREDIT_MEMO = "run", "sales_order", "writeback", "credit_memo"
POSTED_INVOICE, POSTED_CREDIT_MEMO = "posted_invoice", "posted_credit_memo"
RANKS = {
    RUN: 0,
    SALES_ORDER: 1,
    CREDIT_MEMO: 2,
    # Posted in the transaction that queues the store update of the post.
    POSTED_INVOICE: 3,
    POSTED_CREDIT_MEMO: 3,
    WRITEBACK: 4,
    **{k.value: 5 for k in EventKind},
}
# The write-back's state that each kind of try leaves.
LEAVES_STATE = {
    EventKind.WRITEBACK_SENT: WritebackState.SENT,
    EventKind.WRITEBACK_REFUSED: WritebackState.FAILED,
    EventKind.WRITEBACK_STORE_DOWN: WritebackState.PENDING,
    EventKind.WRITEBACK_FAILED: WritebackState.FAILED,
    EventKind.WRITEBACK_ERROR: WritebackState.PENDING,
}
# What a run does to a sales order at once, where the webstore's setup says so.
APPLIED_BY_RUNS = frozenset({EventKind.UPDATED, EventKind.CANCELLED})


@dataclass(frozen=True)
class Event:
    """One thing that happened to the order. ``subject`` is the row it comes from (a log
    entry, the sales order, a write-back, a credit memo); ``details`` what the template
    needs beside it."""

    at: datetime
    kind: str
    subject: object
    details: dict = field(default_factory=dict)
    # Where the event sorts, when not at ``at``.
    sort_at: datetime | None = None

    @property
    def sort_key(self) -> tuple:
        rank = RANKS.get(self.kind, len(RANKS))
        return (self.sort_at or self.at, rank, getattr(self.subject, "id", 0))


@dataclass(frozen=True)
class TracedEntry:
    """A run's log entry about the order, with its run (and who started it) and the id of
    the sales order it names, if that still exists."""

    entry: SyncLogEntry
    run: SyncRun
    sales_order_id: int | None


@dataclass
class Trace:
    webstore: Webstore
    woo_order_id: int
    link: OrderLink | None = None
    sales_order: SalesOrder | None = None
    entries: list[TracedEntry] = field(default_factory=list)
    # Whether entries older than the ones kept (MAX_ENTRIES) exist.
    earlier_left_out: bool = False
    events: list[Event] = field(default_factory=list)
    # The write-backs by id, and each one's tries as order events, oldest first.
    writebacks: dict[int, StoreWriteback] = field(default_factory=dict)
    tries: dict[int, list[OrderEvent]] = field(default_factory=dict)

    def told_by_tries(self, writeback: StoreWriteback) -> bool:
        """Whether the write-back's tries, each a row of its own, tell how it stands: its
        row then says what it sets, and not the outcome a second time. A write-back sent
        before tries were recorded, one not tried yet, or one being sent now or asked for
        again since its last try says it itself."""
        tries = self.tries.get(writeback.id)
        return bool(tries) and LEAVES_STATE[tries[-1].kind] == writeback.state

    @property
    def met(self) -> bool:
        """Whether the connector ever met this order: a run listed it, or it has a sales
        order."""
        return bool(self.entries or self.sales_order)

    @property
    def woo_order_number(self) -> str:
        """The store's order number (which may differ from its id, where a plugin numbers
        orders): as the link has it, else as the latest entry has it, else the id."""
        if self.link is not None:
            return self.link.woo_order_number
        for traced in reversed(self.entries):
            if traced.entry.woo_order_number:
                return traced.entry.woo_order_number
        return str(self.woo_order_id)

    @property
    def outcomes(self) -> dict[str, int]:
        """How many entries of each outcome, for the summary."""
        counts: dict[str, int] = {}
        for traced in self.entries:
            counts[traced.entry.outcome] = counts.get(traced.entry.outcome, 0) + 1
        return counts

    @property
    def latest(self) -> TracedEntry | None:
        return self.entries[-1] if self.entries else None


def find_webstore(code: str) -> Webstore | None:
    if not WEBSTORE_CODE.fullmatch(code or ""):
        return None
    return db.session.scalar(sa.select(Webstore).where(Webstore.code == code.upper()))


def load_trace(webstore: Webstore, woo_order_id: int) -> Trace:
    """The order's trace: its sales order, then each source's events, oldest first."""
    trace = Trace(webstore=webstore, woo_order_id=woo_order_id)
    found = db.session.execute(
        sa.select(OrderLink, SalesOrder)
        .join(SalesOrder, SalesOrder.id == OrderLink.sales_order_id)
        .where(OrderLink.webstore_id == webstore.id, OrderLink.woo_order_id == woo_order_id)
    ).first()
    if found is not None:
        trace.link, trace.sales_order = found
    events = [event for source in EVENT_SOURCES for event in source(trace)]
    trace.events = sorted(events, key=lambda event: event.sort_key)
    return trace


# The sources of events. Each takes the trace (its webstore, store order id, link and sales
# order already known) and gives its events. run_events also keeps the entries on the trace,
# which those after it may read.


def run_events(trace: Trace) -> Iterable[Event]:
    """Each run's log entry about the order: one index range of (webstore_id, woo_order_id),
    with its run, who started it and the sales order it names, in one query."""
    rows = db.session.execute(
        sa.select(SyncLogEntry, SyncRun, SalesOrder.id)
        .join(SyncRun, SyncRun.id == SyncLogEntry.run_id)
        .outerjoin(SalesOrder, SalesOrder.number == SyncLogEntry.sales_order_number)
        .where(
            SyncLogEntry.webstore_id == trace.webstore.id,
            SyncLogEntry.woo_order_id == trace.woo_order_id,
        )
        .order_by(SyncLogEntry.id.desc())
        .limit(MAX_ENTRIES + 1)
        .options(joinedload(SyncRun.requested_by))
    ).all()
    trace.earlier_left_out = len(rows) > MAX_ENTRIES
    trace.entries = [TracedEntry(e, r, so_id) for e, r, so_id in reversed(rows[:MAX_ENTRIES])]
    return [Event(t.entry.created_at, RUN, t.entry, {"traced": t}) for t in trace.entries]


def sales_order_events(trace: Trace) -> Iterable[Event]:
    """The sales order's creation. It is written in the transaction of the orders run's
    entry that says "Imported as ...", a moment before it: it is placed just after it."""
    order = trace.sales_order
    if order is None:
        return []

    def imported_it(traced: TracedEntry) -> bool:
        entry = traced.entry
        return (
            traced.run.kind == RunKind.ORDERS
            and entry.outcome == Outcome.IMPORTED
            and entry.sales_order_number == order.number
        )

    sort_at = placed_after(order.created_at, trace, imported_it)
    return [Event(order.created_at, SALES_ORDER, order, sort_at=sort_at)]


def placed_after(at: datetime, trace: Trace, made_it: Callable[[TracedEntry], bool]) -> datetime:
    """Where a record sorts: at its own time ``at``, or just after the first entry that
    says it was made (``made_it``), written in the same transaction a moment after it."""
    for traced in trace.entries:
        if made_it(traced):
            return max(at, traced.entry.created_at)
    return at


def writeback_events(trace: Trace) -> Iterable[Event]:
    """What posting (releasing, archiving) the sales order told the store, and how that
    went: one lookup by the sales order's id."""
    if trace.sales_order is None:
        return []
    trace.writebacks = {row.id: row for row in of_sales_order(trace, StoreWriteback)}
    return [Event(row.created_at, WRITEBACK, row) for row in trace.writebacks.values()]


def order_events(trace: Trace) -> Iterable[Event]:
    """Reviews, updates from the store, the cancellation and every write-back try, with
    who did it: one lookup by the sales order's id. A try names its write-back (read by
    writeback_events) and its number among that write-back's tries. An update a run
    applied at once is placed just after that run's entry, which says it."""
    if trace.sales_order is None:
        return []
    rows = of_sales_order(trace, OrderEvent, joinedload(OrderEvent.user))
    return [order_event(trace, row) for row in rows]


def order_event(trace: Trace, row: OrderEvent) -> Event:
    details, sort_at = {}, None
    if row.kind in LEAVES_STATE:
        details = write_back_try(trace, row)
    elif row.kind in APPLIED_BY_RUNS and row.user_id is None:
        sort_at = placed_after(row.created_at, trace, says(row.message))
    return Event(row.created_at, row.kind.value, row, details, sort_at=sort_at)


def write_back_try(trace: Trace, row: OrderEvent) -> dict:
    """A try's write-back, and its number among that write-back's tries (kept on the
    trace, in the order they were made)."""
    tries = trace.tries.setdefault(row.writeback_id, [])
    tries.append(row)
    return {"writeback": trace.writebacks.get(row.writeback_id), "number": len(tries)}


def says(message: str) -> Callable[[TracedEntry], bool]:
    """Whether a log entry tells of what ``message`` says: a run that updated (or
    cancelled) the sales order adds the update's own message to its entry's."""

    def tells(traced: TracedEntry) -> bool:
        return bool(message) and message in traced.entry.message

    return tells


def credit_memo_events(trace: Trace) -> Iterable[Event]:
    """The credit memos the order's refunds became: one lookup by the sales order's id.
    Each is placed just after the refund run's entry that says it was credited."""
    if trace.sales_order is None:
        return []
    rows = of_sales_order(trace, SalesCreditMemo)
    return [
        Event(
            row.created_at,
            CREDIT_MEMO,
            row,
            sort_at=placed_after(row.created_at, trace, credited(row)),
        )
        for row in rows
    ]


def credited(memo: SalesCreditMemo) -> Callable[[TracedEntry], bool]:
    """Whether a log entry is the one that says ``memo`` was made: its refund run's entry
    "refund <id> of ... credited as <number>"."""
    start = f"refund {memo.woo_refund_id} "

    def says_so(traced: TracedEntry) -> bool:
        entry = traced.entry
        return (
            entry.run_id == memo.sync_run_id
            and entry.outcome == Outcome.IMPORTED
            and entry.message.startswith(start)
        )

    return says_so


def posted_invoice_events(trace: Trace) -> Iterable[Event]:
    """The Posted Sales Invoice that posting the sales order made, and who posted it: one
    lookup by its unique sales order id."""
    if trace.sales_order is None:
        return []
    return posted_events(
        POSTED_INVOICE,
        sa.select(PostedSalesInvoice, User.username)
        .where(PostedSalesInvoice.sales_order_id == trace.sales_order.id)
        .outerjoin(User, User.id == PostedSalesInvoice.posted_by_id),
    )  # one at most


def posted_credit_memo_events(trace: Trace) -> Iterable[Event]:
    """The Posted Credit Memos that posting the order's credit memos made, and who posted
    them: one lookup, by the credit memos of the sales order's id."""
    if trace.sales_order is None:
        return []
    return posted_events(
        POSTED_CREDIT_MEMO,
        sa.select(PostedCreditMemo, User.username)
        .join(SalesCreditMemo, SalesCreditMemo.id == PostedCreditMemo.credit_memo_id)
        .where(SalesCreditMemo.sales_order_id == trace.sales_order.id)
        .outerjoin(User, User.id == PostedCreditMemo.posted_by_id)
        .order_by(PostedCreditMemo.id),
    )


def posted_events(kind: str, query) -> list[Event]:
    rows = db.session.execute(query).all()
    return [Event(row.posted_at, kind, row, {"posted_by": user}) for row, user in rows]


def of_sales_order(trace: Trace, model, *options) -> list:
    """The rows of ``model`` about the trace's sales order, in the order they were made:
    one lookup by its sales order id (each such table has an index that starts with it)."""
    return list(
        db.session.scalars(
            sa.select(model)
            .where(model.sales_order_id == trace.sales_order.id)
            .order_by(model.id)
            .options(*options)
        )
    )


# In this order: run_events keeps the entries that the others read, writeback_events the
# write-backs that order_events names.
EVENT_SOURCES: list[Callable[[Trace], Iterable[Event]]] = [
    run_events,
    sales_order_events,
    writeback_events,
    order_events,
    credit_memo_events,
    posted_invoice_events,
    posted_credit_memo_events,
]
