"""Incremental import (automatic sync): orders modified after a moment, oldest change first.

The store is read by keyset, not by page number: each request asks for orders modified
after the last one settled, so an order modified meanwhile (which moves to the end of the
listing) cannot push another one out of sight. The webstore's watermark advances after
each page, only over orders settled (imported, skipped, changed, or failed and logged).
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal import db
from portal.models import SyncRun, Webstore
from portal.sync.changes import imported_orders, settle_changed
from portal.sync.writer import BatchWriter, skipped
from portal.woo.client import REF_FIELDS, OrderQuery, WooClient

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAGE_SIZE = 100
# Stores stamp modified times to the second: ask again from one second before the last
# one settled, and leave out what this run has settled already.
STEP_BACK = timedelta(seconds=1)


class IncrementalImport:
    def __init__(
        self, run_id: int, webstore_id: int, client: WooClient, filters, writer: BatchWriter
    ):
        self.run_id = run_id
        self.webstore_id = webstore_id
        self.client = client
        self.filters = filters
        self.writer = writer
        self.settled: set[int] = set()

    def execute(self, progress) -> None:
        cursor = self.filters.modified_after or EPOCH
        base = self.filters.order_query()
        page_number = 1
        while True:
            query = OrderQuery(status=base.status, after=base.after, modified_after=cursor)
            refs = self.client.order_page(query, page_number, per_page=PAGE_SIZE, fields=REF_FIELDS)
            if not self.settled and page_number == 1:
                self._set_total(refs.total)
            fresh = [r for r in refs.orders if r.id not in self.settled]
            if not refs.orders:
                return
            if not fresh:
                # A whole page modified within one second: read on by page number.
                page_number += 1
                continue
            self._settle(fresh, refs.invalid)
            progress()
            newest = max(r.date_modified for r in fresh)
            advance_watermark(self.webstore_id, newest)
            if len(refs.orders) < PAGE_SIZE:
                return  # the last page of what is modified after the cursor
            cursor, page_number = newest - STEP_BACK, 1

    def _settle(self, refs, invalid) -> None:
        ids = [r.id for r in refs]
        known = imported_orders(self.webstore_id, ids)
        unchanged = [
            r
            for r in refs
            if r.id in known and not is_newer(r.date_modified, known[r.id].modified_at)
        ]
        lines = [skipped(r, f"already imported as {known[r.id].number}") for r in unchanged]
        from portal.sync.importer import invalid_line

        lines += [invalid_line(error) for error in invalid]
        self.writer.log(lines, fetched=len(unchanged) + len(invalid))
        wanted = [r.id for r in refs if r not in unchanged]
        if not wanted:
            self.settled.update(ids)
            return
        page = self.client.get_orders(wanted)
        changed = [o for o in page.orders if o.id in known]
        new = [o for o in page.orders if o.id not in known]
        if changed:
            lines = settle_changed(self.webstore_id, changed, known)
            self.writer.log(lines, fetched=len(changed))  # commits with the updates
        lines = [invalid_line(error) for error in page.invalid]
        received = {o.id for o in page.orders} | {e.order_id for e in page.invalid}
        lines += [
            skipped(r, "no longer in the store (deleted while listing)")
            for r in refs
            if r.id in wanted and r.id not in received
        ]
        if lines:
            self.writer.log(lines, fetched=len(lines))
        self.writer.write(new, fetched=len(new))
        self.settled.update(ids)

    def _set_total(self, total) -> None:
        db.session.execute(
            sa.update(SyncRun).where(SyncRun.id == self.run_id).values(store_total=total)
        )
        db.session.commit()


def is_newer(modified: datetime | None, known: datetime | None) -> bool:
    return known is None or (modified is not None and modified > known)


def advance_watermark(webstore_id: int, moment: datetime) -> None:
    """Move the watermark forward to ``moment``, never back."""
    db.session.execute(
        sa.update(Webstore)
        .where(Webstore.id == webstore_id)
        .where(sa.or_(Webstore.watermark.is_(None), Webstore.watermark < moment))
        .values(watermark=moment)
    )
    db.session.commit()
