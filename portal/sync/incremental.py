"""Incremental import (automatic sync): orders modified after a moment, oldest change first.

Every status is listed, whatever the webstore's status filter: the filter (and the order
start date) decides which new orders are imported, while an order imported already is read
whatever its status now, so a cancellation, a hold or a refund outside the filter is seen
(``changes.split_listed``).

The store is read by keyset over modified time, never by page number: each listing asks
for orders modified after the last second settled, so an order modified meanwhile (which
moves to the end of the listing) cannot push another one out of sight. WooCommerce sorts
``orderby=modified`` by the time alone, so orders sharing a second (a bulk status change
stamps hundreds) come in an order that changes between requests. Where a full page ends
inside a second, that second is read on its own, by id (a stable order), between
``modified_after`` and ``modified_before``, until a pass reads it whole. The webstore's
watermark advances only over seconds read completely.

A store that keeps its orders the legacy way (WordPress posts, HPOS off) sorts
``orderby=modified`` by its local time, which repeats an hour when daylight saving ends:
there the keyset is not sound, so the run reads one window of modified time up to a
moment just past (``LEGACY_SETTLE``) by id, in passes until one is whole, and only then
moves the watermark to the window's end. Dates always go as UTC with ``dates_are_gmt``.
"""

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal import db
from portal.models import SyncRun, Webstore
from portal.models.base import utcnow
from portal.sync.changes import split_listed, write_or_settle
from portal.sync.log import deleted_while_listing, invalid_line, skipped
from portal.sync.writer import BatchWriter
from portal.woo.client import REF_FIELDS, OrderQuery, WooClient
from portal.woo.errors import WooInvalidResponse

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_SIZE = 100
SECOND = timedelta(seconds=1)
# Passes over one second before giving up: each pass after the first means orders left
# the second while it was read (modified again), which a store under a bulk change does.
MAX_PASSES = 5
# On legacy storage, changes younger than this wait for the next run: the window read by
# id must not grow while it is read (nor miss a change stamped by a store clock behind ours).
LEGACY_SETTLE = timedelta(minutes=2)


class IncrementalImport:
    def __init__(
        self,
        run_id: int,
        webstore_id: int,
        client: WooClient,
        filters,
        writer: BatchWriter,
        legacy_storage: bool = False,
        deadline: float | None = None,
        resume_from: datetime | None = None,
    ):
        self.run_id = run_id
        self.webstore_id = webstore_id
        self.client = client
        self.filters = filters
        self.writer = writer
        self.legacy_storage = legacy_storage
        # A sliced run (portal.sync.runs.pause) stops at the first second settled past its
        # deadline (time.monotonic), and its next slice goes on from the watermark it left.
        self.deadline = deadline
        self.resume_from = resume_from
        self.paused = False
        # (id, modified time) of what this run has settled: a listing that overlaps a
        # second already read settles nothing twice, yet an order changed again is seen.
        self.settled: set[tuple[int, datetime]] = set()

    def importable(self, ref) -> bool:
        """Whether a listed order that is not imported yet is one to import."""
        if self.filters.statuses and ref.status not in self.filters.statuses:
            return False
        start = self.filters.start_date
        return not (start and ref.order_date and ref.order_date < start)

    def settled_ids(self) -> set[int]:
        return {order_id for order_id, _ in self.settled}

    def execute(self, progress) -> None:
        cursor = self.resume_from or self.filters.modified_after or EPOCH
        if self.legacy_storage:
            # One window, read whole by id: never cut into slices.
            self._execute_window(cursor, progress)
            return
        first = self.resume_from is None  # a later slice keeps the first one's total
        while True:
            query = OrderQuery(modified_after=cursor)
            refs = self.client.order_page(query, 1, per_page=PAGE_SIZE, fields=REF_FIELDS)
            if first:
                self._set_total(refs.total)
                first = False
            if len(refs.orders) + len(refs.invalid) < PAGE_SIZE:
                self._settle(refs.orders, refs.invalid)
                self._advance(refs.orders)
                progress()
                return
            # Every order of an earlier second is on this page: the listing is sorted by
            # modified time. The page's last second may go on beyond it.
            last = max(r.date_modified for r in refs.orders)
            self._settle([r for r in refs.orders if r.date_modified < last], refs.invalid)
            self._settle_second(last)
            advance_watermark(self.webstore_id, last)
            progress()
            cursor = last
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.paused = True
                return

    def _execute_window(self, cursor: datetime, progress) -> None:
        """Legacy storage: every order modified after ``cursor`` up to a moment just past,
        read by id, then the watermark to that moment."""
        end = (utcnow() - LEGACY_SETTLE).replace(microsecond=0)
        if end <= cursor:
            return
        self._settle_window(cursor, end + SECOND, first=True)
        advance_watermark(self.webstore_id, end)
        progress()

    def _settle_second(self, second: datetime) -> None:
        """Settle every order modified within ``second``."""
        self._settle_window(second - SECOND, second + SECOND)

    def _settle_window(self, after: datetime, before: datetime, first: bool = False) -> None:
        """Settle every order modified strictly between ``after`` and ``before``, read by id
        until a pass is whole: its pages agree on the count, and it read that many orders."""
        query = OrderQuery(modified_after=after, modified_before=before, orderby="id")
        last_pass: set[int] = set()
        for _ in range(MAX_PASSES):
            seen, totals, page = set(), set(), 1
            while True:
                refs = self.client.order_page(query, page, per_page=PAGE_SIZE, fields=REF_FIELDS)
                if first:
                    self._set_total(refs.total)
                    first = False
                totals.add(refs.total)
                seen.update(r.id for r in refs.orders)
                self._settle(refs.orders, refs.invalid)
                if len(refs.orders) + len(refs.invalid) < PAGE_SIZE:
                    break
                page += 1
            # Without a count (a proxy may drop X-WP-Total), two passes that agree.
            if totals == {len(seen)} or (totals == {None} and seen == last_pass):
                return
            last_pass = seen
        raise WooInvalidResponse(
            f"The orders modified between {after:%Y-%m-%d %H:%M:%S} and "
            f"{before:%Y-%m-%d %H:%M:%S} UTC kept changing while they were read "
            f"({MAX_PASSES} passes): the run stops here and the next one goes on from "
            f"{after:%Y-%m-%d %H:%M:%S} UTC."
        )

    def _advance(self, refs) -> None:
        if refs:
            advance_watermark(self.webstore_id, max(r.date_modified for r in refs))

    def _settle(self, refs, invalid) -> None:
        refs = [r for r in refs if (r.id, r.date_modified) not in self.settled]
        if not refs and not invalid:
            return
        lines, wanted = split_listed(
            self.webstore_id, refs, self.writer.started_at, importable=self.importable
        )
        lines += [invalid_line(error) for error in invalid]
        self.writer.log(lines, fetched=len(lines))
        if wanted:
            page = self.client.get_orders(wanted)
            lines = [invalid_line(error) for error in page.invalid]
            received = {o.id for o in page.orders} | {e.order_id for e in page.invalid}
            lines += [
                skipped(r, deleted_while_listing())
                for r in refs
                if r.id in wanted and r.id not in received
            ]
            if lines:
                self.writer.log(lines, fetched=len(lines))
            write_or_settle(self.writer, self.webstore_id, list(page.orders), len(page.orders))
        self.settled.update((r.id, r.date_modified) for r in refs)

    def _set_total(self, total) -> None:
        db.session.execute(
            sa.update(SyncRun).where(SyncRun.id == self.run_id).values(store_total=total)
        )
        db.session.commit()


def advance_watermark(webstore_id: int, moment: datetime) -> None:
    """Move the watermark forward to ``moment``, never back."""
    db.session.execute(
        sa.update(Webstore)
        .where(Webstore.id == webstore_id)
        .where(sa.or_(Webstore.watermark.is_(None), Webstore.watermark < moment))
        .values(watermark=moment)
    )
    db.session.commit()
