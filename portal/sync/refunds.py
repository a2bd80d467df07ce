"""Refunds become sales credit memos: a run of kind ``refunds``.

Which orders a run reads: the ones named (an Order ID, a retry), else the orders modified
since the webstore's refunds watermark (or created from its refunds start date), and, on
every run without named orders, the imported orders whose sales order knows of more
refunded than is credited (so a refund of an order imported after its refund was met is
still credited, whatever the watermark says). For each refund of an imported order that is
not credited yet, a memo is written (``portal.sync.credit``), in a transaction of its own;
the unique (webstore, refund id) settles two runs meeting one refund. A refund of an order
never imported is skipped, saying so.

A webhook's orders run credits its orders' refunds itself, in the same run
(``credit_webhook_refunds``), whose log shows the orders' outcomes and then their refunds'.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import (
    OrderLink,
    Outcome,
    SalesCreditMemo,
    SalesOrder,
    SyncLogEntry,
    SyncRun,
    Trigger,
    Webstore,
)
from portal.sync import seen
from portal.sync.ahead import answers_ahead, ordered_results, pages_ahead, requests_ahead
from portal.sync.changes import refresh_warning
from portal.sync.credit import CreditRefused, credit_memo_for
from portal.sync.filters import ImportFilters
from portal.sync.money import amount_text
from portal.woo.client import MAX_PER_PAGE, OrderQuery, WooClient

log = logging.getLogger(__name__)

# How every log entry about a refund starts: it tells them from the entries of orders.
REFUND_ENTRY = "refund "


# The orders read between two saves of the run's count: a page of the store's.
FETCHED_PER_SAVE = 100


def named(refund) -> str:
    return f"{REFUND_ENTRY}{refund.id}"


def is_refund_entry(message_column):
    """SQL: whether a log entry's message is about a refund (a credit memo), not an order."""
    return message_column.startswith(REFUND_ENTRY, autoescape=True)


class RefundImport:
    def __init__(
        self,
        run: SyncRun,
        webstore: Webstore,
        client: WooClient,
        filters,
        progress=None,
        concurrency: int = 2,
    ):
        self.run_id = run.id
        self.webstore = webstore
        self.client = client
        self.filters: ImportFilters = filters
        self.progress = progress or (lambda: None)
        self.concurrency = max(1, concurrency)
        # Store requests queued beyond those running, as an import keeps them.
        self.ahead = requests_ahead(client, self.concurrency)
        self.newest_modified: datetime | None = None
        # Orders read and not yet counted on the run: most have no refund, and a commit
        # each was two thirds of a run's time.
        self.unsaved_fetched = 0
        # The imported ones among the orders read so far: only theirs are credited.
        self.linked: set[int] = set()

    def execute(self) -> None:
        """Read the orders, a few pages at once, and settle the refunds of each, their
        lists asked a few orders ahead of the one being credited."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="woo") as pool:
            orders = answers_ahead(
                pool, self.orders(pool), self._list_refunds, self._credited_here, self.ahead
            )
            for order, refunds in orders:
                if self.newest_modified is None or order.date_modified > self.newest_modified:
                    self.newest_modified = order.date_modified
                if self._to_settle(order):
                    self.settle(order, refunds)
                self.unsaved_fetched += 1
                if self.unsaved_fetched >= FETCHED_PER_SAVE:
                    self.count()
        self.count()
        if not self.filters.order_ids and self.newest_modified is not None:
            db.session.execute(
                sa.update(Webstore)
                .where(Webstore.id == self.webstore.id)
                .values(refunds_watermark=self.newest_modified)
            )
            db.session.commit()

    def credit_orders(self, order_ids) -> None:
        """Credit the refunds of orders this run has read already: they are not counted as
        fetched again, and the refunds watermark stays where it is."""
        for order in self.client.get_orders(order_ids):
            self.settle(order)

    def orders(self, pool):
        """The orders to read, a page at a time; which of each page are imported is found
        for the page at once."""
        for page in self._pages(pool):
            self.linked.update(seen.linked(self.webstore.id, [o.id for o in page.orders]))
            yield from page.orders

    def _pages(self, pool):
        if self.filters.order_ids:
            yield self.client.get_orders(self.filters.order_ids)
            return
        seen = set()
        query = OrderQuery(modified_after=self.filters.modified_after)
        for page in pages_ahead(pool, self.client, query, self.ahead):
            seen.update(order.id for order in page.orders)
            yield page
        missing = [i for i in uncredited_orders(self.webstore.id) if i not in seen]
        chunks = [missing[i : i + MAX_PER_PAGE] for i in range(0, len(missing), MAX_PER_PAGE)]
        calls = [partial(self.client.get_orders, chunk) for chunk in chunks]
        yield from ordered_results(pool, calls, self.ahead)

    def _to_settle(self, order) -> bool:
        return bool(order.refunds) or order.id in self.filters.order_ids

    def _credited_here(self, order) -> bool:
        """Whether the order's refunds are to be listed: one never imported has none to
        credit (``settle`` says so without asking)."""
        return self._to_settle(order) and order.id in self.linked

    def _list_refunds(self, order):
        return self.client.list_refunds(order.id)

    def settle(self, order, refunds=None) -> None:
        """Credit the order's refunds not credited yet, as the store lists them (asked here
        where not given), and log each."""
        link = db.session.scalar(
            sa.select(OrderLink).where(
                OrderLink.webstore_id == self.webstore.id, OrderLink.woo_order_id == order.id
            )
        )
        if link is None:
            self.log(
                order,
                Outcome.SKIPPED,
                f"Its refunds are not credited: order {order.number} was never imported. "
                f"Import it (Import Webstore Orders, Order ID {order.id}), then import its "
                "refunds.",
            )
            return
        sales_order = db.session.get(SalesOrder, link.sales_order_id)
        credited = dict(
            db.session.execute(
                sa.select(SalesCreditMemo.woo_refund_id, SalesCreditMemo.number).where(
                    SalesCreditMemo.webstore_id == self.webstore.id,
                    SalesCreditMemo.woo_order_id == order.id,
                )
            ).all()
        )
        if refunds is None:
            refunds = self.client.list_refunds(order.id)
        for refund in refunds:
            if self.filters.start_date and refund.date_created.date() < self.filters.start_date:
                continue
            if refund.id in credited:
                self.log(
                    order,
                    Outcome.SKIPPED,
                    f"{named(refund)}: credited already as {credited[refund.id]}",
                    sales_order.number,
                )
                continue
            self.credit(order, sales_order, refund)

    def credit(self, order, sales_order: SalesOrder, refund) -> None:
        try:
            memo = credit_memo_for(self.webstore, sales_order, order, refund, self.run_id)
            db.session.add(memo)
            db.session.flush()
            # A credited refund is known: it is no change of the order any more.
            refresh_warning(sales_order.id)
        except CreditRefused as refused:
            db.session.rollback()
            self.log(order, Outcome.FAILED, f"{named(refund)}: {refused}", sales_order.number)
            return
        except IntegrityError:
            db.session.rollback()
            number = db.session.scalar(
                sa.select(SalesCreditMemo.number).where(
                    SalesCreditMemo.webstore_id == self.webstore.id,
                    SalesCreditMemo.woo_refund_id == refund.id,
                )
            )
            self.log(
                order,
                Outcome.SKIPPED,
                f"{named(refund)}: credited meanwhile as {number}",
                sales_order.number,
            )
            return
        self.log(
            order,
            Outcome.IMPORTED,
            f"{named(refund)} of "
            f"{amount_text(refund.amount, sales_order.currency_decimals, sales_order.currency)} "
            f"credited as "
            f"{memo.number}" + (f" ({refund.reason})" if refund.reason else ""),
            sales_order.number,
        )

    def log(self, order, outcome: Outcome, message: str, sales_order_number=None) -> None:
        """One log entry and its count on the run, committed with what it reports."""
        db.session.add(
            SyncLogEntry(
                run_id=self.run_id,
                webstore_id=self.webstore.id,
                woo_order_id=order.id,
                woo_order_number=str(order.number)[:40],
                outcome=outcome,
                message=message,
                sales_order_number=sales_order_number,
            )
        )
        self.count(**{outcome.value: 1})

    def count(self, **counts: int) -> None:
        """Add ``counts`` and the orders read since the last count to the run, and commit."""
        if self.unsaved_fetched:
            counts["fetched"] = counts.get("fetched", 0) + self.unsaved_fetched
            self.unsaved_fetched = 0
        if not counts:
            return
        db.session.execute(
            sa.update(SyncRun)
            .where(SyncRun.id == self.run_id)
            .values(
                {getattr(SyncRun, name): getattr(SyncRun, name) + n for name, n in counts.items()}
            )
        )
        db.session.commit()
        self.progress()


def credit_webhook_refunds(run: SyncRun, webstore: Webstore, client: WooClient, progress=None):
    """After a webhook's orders run has settled its order: that order's refunds, in the same
    run. Only once the webstore synchronizes refunds (it has a refunds start date), and
    only for an imported order (one that failed has nothing to credit)."""
    if run.trigger != Trigger.WEBHOOK or webstore.refunds_start_date is None:
        return
    order_ids = imported(webstore.id, ImportFilters.from_json(run.filters).order_ids)
    if order_ids:
        filters = ImportFilters(order_ids=tuple(order_ids))
        RefundImport(run, webstore, client, filters, progress).credit_orders(order_ids)


def imported(webstore_id: int, order_ids) -> list[int]:
    """Those of the orders that are imported."""
    return list(
        db.session.scalars(
            sa.select(OrderLink.woo_order_id).where(
                OrderLink.webstore_id == webstore_id, OrderLink.woo_order_id.in_(order_ids)
            )
        )
    )


def uncredited_orders(webstore_id: int) -> list[int]:
    """Imported orders whose sales order knows of more refunded than its memos credit."""
    credited = (
        sa.select(sa.func.coalesce(sa.func.sum(SalesCreditMemo.amount_including_tax), 0))
        .where(SalesCreditMemo.sales_order_id == SalesOrder.id)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            sa.select(SalesOrder.woo_order_id)
            .where(
                SalesOrder.webstore_id == webstore_id,
                SalesOrder.refunded_amount > 0,
                SalesOrder.refunded_amount > credited,
            )
            .order_by(SalesOrder.woo_order_id)
        )
    )
