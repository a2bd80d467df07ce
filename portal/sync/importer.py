"""One import run: list what the filters match, fetch what is new, write it in batches.

A real store is slow (about a second for a page of 100 full orders) and the database is
fast, so the import keeps the store busy: store requests run on a pool of ``concurrency``
threads, with as many more queued behind them, while the database work stays on the
calling thread; the next requests are queued before a batch is written, so the store never
waits for the database. When most of what the filters match is new, full pages are fetched
directly; otherwise a cheap listing (ids, statuses and modified dates) is checked against the
links first, and only the new orders are fetched in full, up to 100 per request.
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import sqlalchemy as sa

from portal import db
from portal.models import SyncRun, Webstore
from portal.sync.ahead import at_most, ordered_results, pages_ahead, requests_ahead
from portal.sync.changes import split_listed, write_or_settle
from portal.sync.filters import ImportFilters
from portal.sync.incremental import IncrementalImport
from portal.sync.log import invalid_line
from portal.sync.lookups import existing_links, logged_orders
from portal.sync.open_orders import follow_open_orders, settle_missing
from portal.sync.store_settings import store_settings
from portal.sync.writer import BatchWriter
from portal.woo.client import REF_FIELDS, OrderPage, WooClient

# Above this share of new orders on the first listing page, full pages are fetched directly.
MOSTLY_NEW = 0.8
PAGE_SIZE = 100


class OrderImport:
    def __init__(
        self,
        run: SyncRun,
        webstore: Webstore,
        client: WooClient,
        filters: ImportFilters,
        *,
        concurrency: int = 2,
        progress: Callable[[], None] | None = None,
        deadline: float | None = None,
    ):
        self.run_id = run.id
        self.started_at = run.started_at
        self.webstore_id = webstore.id
        self.client = client
        self.filters = filters
        self.concurrency = max(1, concurrency)
        # Requests queued beyond those running: the store's next answers are on their way
        # while a batch is written. Bounds the pages held in memory, whatever the store's size.
        self.ahead = requests_ahead(client, self.concurrency)
        self.progress = progress or (lambda: None)
        self.run, self.webstore = run, webstore
        # Where an automatic sync's slice of work ends (time.monotonic; runs.pause); whether
        # it ended there with more to read.
        self.deadline = deadline
        self.paused = False
        self.legacy_storage = False
        self.writer: BatchWriter | None = None
        # What the listing said and showed: orders deleted while it is read shift later
        # pages forward, so that an order may be on no page (see _sweep).
        self.totals: set[int | None] = set()
        self.seen: set[int] = set()

    def _start(self) -> None:
        """Read the store's settings (asked once a day) and set up the writer; before the
        writer takes the webstore's setup, as the store's decimals are part of it."""
        storage = store_settings(self.webstore, self.client)
        self.legacy_storage = not self.filters.order_ids and storage == "posts"
        self.writer = BatchWriter(self.run, self.webstore, product_skus=self.client.product_skus)

    def execute(self) -> None:
        if self.filters.incremental:
            self._start()
            resumed = self.run.slices > 0
            incremental = IncrementalImport(
                self.run_id,
                self.webstore_id,
                self.client,
                self.filters,
                self.writer,
                legacy_storage=self.legacy_storage,
                deadline=self.deadline,
                # The run's own progress: it holds the watermark (one sync at a time).
                resume_from=self.webstore.watermark if resumed else None,
            )
            incremental.execute(self.progress)
            self.paused = incremental.paused
            if not self.paused:
                met = incremental.settled_ids()
                self._follow_open_orders(met | logged_orders(self.run_id) if resumed else met)
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="woo") as pool:
            if self.filters.order_ids:
                self._start()
                self._import_ids(pool, self.filters.order_ids)
                return
            self._import_listing(pool)
        self._follow_open_orders(self.seen)

    def _follow_open_orders(self, met: set[int]) -> None:
        follow_open_orders(
            self.client, self.writer, self.webstore_id, met, read_in_full=self.legacy_storage
        )

    # The three ways through the store

    def _import_ids(self, pool, order_ids: tuple[int, ...]) -> None:
        """Single orders: fetched in full by id, 100 to a request."""
        self._set_total(len(order_ids))
        chunks = [order_ids[i : i + PAGE_SIZE] for i in range(0, len(order_ids), PAGE_SIZE)]
        calls = [partial(self.client.get_orders, chunk) for chunk in chunks]
        for chunk, page in zip(chunks, ordered_results(pool, calls, self.ahead), strict=True):
            self._write_page(page, expected=chunk)

    def _import_listing(self, pool) -> None:
        query = self.filters.order_query()
        start = self.filters.from_page
        listing = pool.submit(
            self.client.order_page, query, start, per_page=PAGE_SIZE, fields=REF_FIELDS
        )
        self._start()  # while the store lists
        first = listing.result()
        self._set_total(first.total)
        self.totals.add(first.total)
        if not first.orders and not first.invalid:
            return
        known = existing_links(self.webstore_id, [r.id for r in first.orders], None)
        if first.orders and 1 - len(known) / len(first.orders) >= MOSTLY_NEW:
            self._import_full_pages(pool, query, start, first.total_pages or 1)
        else:
            self._import_new_of_listing(pool, query, first)
        if len(self.totals) > 1:
            self._sweep(query)

    def _sweep(self, query) -> None:
        """The store's count changed while the run listed: list again, ids only, and settle
        what no page showed."""
        for refs in self.client.iter_order_pages(query, per_page=PAGE_SIZE, fields=REF_FIELDS):
            missed = [r for r in refs.orders if r.id not in self.seen]
            if not missed:
                continue
            wanted = self._skip_known(OrderPage(missed, refs.page, refs.total, refs.total_pages))
            for i in range(0, len(wanted), PAGE_SIZE):
                chunk = wanted[i : i + PAGE_SIZE]
                self._write_page(self.client.get_orders(chunk), expected=chunk, counted=True)

    def _import_full_pages(self, pool, query, start: int, total_pages: int) -> None:
        pages = pages_ahead(
            pool, self.client, query, self.ahead, per_page=PAGE_SIZE, start=start, last=total_pages
        )
        for page in pages:
            self.totals.add(page.total)
            if page.orders or page.invalid:
                self._write_page(page, settled=page.page)

    def _import_new_of_listing(self, pool, query, first: OrderPage) -> None:
        """List cheaply, skip what is linked, fetch the new orders in full 100 at a time.

        Listing pages and fetches share the pool, in the order they were asked for, with
        at most ``ahead`` of them outstanding; new ids are gathered across listing pages
        so that each fetch carries up to 100 orders.
        """
        total_pages = first.total_pages or 1
        next_page = first.page + 1
        listings = 0  # listing requests outstanding
        window: deque = deque()  # (ids to fetch or None for a listing page, future)
        new_ids = self._skip_known(first)
        unwritten = {first.page: set(new_ids)}  # listing page: its new ids not written yet
        self._settle_listed(unwritten)

        def fetch(ids_now: list[int]) -> None:
            window.append((ids_now, pool.submit(self.client.get_orders, ids_now)))

        while True:
            while len(new_ids) >= PAGE_SIZE:
                fetch(new_ids[:PAGE_SIZE])
                new_ids = new_ids[PAGE_SIZE:]
            while len(window) < at_most(self.ahead) and next_page <= total_pages:
                call = partial(
                    self.client.order_page, query, next_page, per_page=PAGE_SIZE, fields=REF_FIELDS
                )
                window.append((None, pool.submit(call)))
                next_page += 1
                listings += 1
            if new_ids and not listings and next_page > total_pages:
                fetch(new_ids)  # the listing is done: the last few
                new_ids = []
            if not window:
                return
            ids, future = window.popleft()
            if ids is not None:
                self._write_page(future.result(), expected=ids, counted=True)
                for waiting in unwritten.values():
                    waiting.difference_update(ids)
                self._settle_listed(unwritten)
                continue
            refs = future.result()
            listings -= 1
            self.totals.add(refs.total)
            if refs.total_pages:
                total_pages = max(total_pages, refs.total_pages)
            if not refs.orders and not refs.invalid:
                next_page = total_pages + 1  # past the end: orders were deleted meanwhile
                continue
            fresh = self._skip_known(refs)
            new_ids += fresh
            unwritten[refs.page] = set(fresh)
            self._settle_listed(unwritten)

    # Settling orders

    def _skip_known(self, refs: OrderPage) -> list[int]:
        """Log the listed orders imported and unchanged since as skipped; return the ids of
        the rest, new or changed, to be read in full."""
        self.seen.update(r.id for r in refs.orders)
        lines, wanted = split_listed(self.webstore_id, refs.orders, self.started_at)
        lines += [invalid_line(error) for error in refs.invalid]
        self.writer.log(lines, fetched=len(refs.orders) + len(refs.invalid))
        self.progress()
        return wanted

    def _write_page(self, page: OrderPage, expected=(), counted: bool = False, settled=None):
        """Write one page of full orders; log the malformed and the vanished ones. With
        ``settled``, the listing page a retry of the run starts after, once it is written."""
        self.seen.update(o.id for o in page.orders)
        self.seen.update(expected)
        fetched = 0 if counted else len(page.orders) + len(page.invalid)
        received = {o.id for o in page.orders} | {e.order_id for e in page.invalid}
        gone = [i for i in expected if i not in received]
        if page.invalid:
            self.writer.log([invalid_line(error) for error in page.invalid], fetched=fetched)
            fetched = 0
        if gone:
            # Not listed: in the store's trash (listings leave it out), or deleted.
            settle_missing(self.client, self.writer, self.webstore_id, gone, counted)
        write_or_settle(self.writer, self.webstore_id, list(page.orders), fetched, settled)
        self.progress()

    def _settle_listed(self, unwritten: dict[int, set[int]]) -> None:
        """Record the listing pages whose every order is settled, in order from the first."""
        done = None
        for number in sorted(unwritten):
            if unwritten[number]:
                break
            done = number
            del unwritten[number]
        if done is not None:
            self._settled_through(done)

    def _settled_through(self, page: int) -> None:
        """A retry of this run, should the store stop answering, starts from here."""
        db.session.execute(
            sa.update(SyncRun).where(SyncRun.id == self.run_id).values(pages_settled=page)
        )
        db.session.commit()

    def _set_total(self, total: int | None) -> None:
        db.session.execute(
            sa.update(SyncRun).where(SyncRun.id == self.run_id).values(store_total=total)
        )
        db.session.commit()
