"""The store hears back: a sales order's event sets its webstore order's status, with a note.

What each event sets is the webstore's setup (``status_on_post`` …). Planning a write-back
happens in the transaction that posts (releases, archives) the sales order, so the two
stand or fall together; an RQ job then sends it, and the scheduler sends what is due again.
Sending is idempotent by the row. A worker takes it by moving it to ``sending`` with a
lease (``next_attempt_at``), so no other worker sends it meanwhile; each part done is kept
at once (``status_set``, ``woo_note_id``), and a try after one that died half-way (its
lease ran out) sets the status only where the store's order lacks it and adds the note
only where the store has no note of the same text: nothing is added twice.

Before writing, the store's order is read and compared with what a person reviewed (else
what was imported): one whose status, lines, quantities or total differ is not
overwritten, the write-back is refused saying what differs, and the sales order gets the
change warning. No write-back is planned for a store order already closed (refunded,
cancelled, failed). What was written moves the reviewed state with it (its status), so
the ``order.updated`` webhook and the sync that follow our update find nothing changed: no
change warning for our own echo. Every attempt is an order event, for the trace.
"""

import html
import logging
import re
from datetime import timedelta

import sqlalchemy as sa

from portal import db
from portal.crypto import SecretUnreadable
from portal.models import (
    EventKind,
    OrderLink,
    SalesOrder,
    StoreWriteback,
    Webstore,
    WritebackState,
)
from portal.models.base import utcnow
from portal.sync import changes
from portal.sync.history import record
from portal.sync.states import CLOSED_IN_STORE, OrderState
from portal.woo.errors import TRANSIENT_ERRORS, WooError, WooNotFound

log = logging.getLogger(__name__)

# Waits before each next try while the store does not answer; then it is left failed, for
# a person to send again.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
)
# How long a worker holds a write-back it sends; one that died gives it back after this.
LEASE = timedelta(minutes=10)
EVENT_STATUS = {
    "post": "status_on_post",
    "release": "status_on_release",
    "archive": "status_on_archive",
}


def plan(order: SalesOrder, event: str, done: str) -> StoreWriteback | None:
    """Add to the session the write-back ``event`` (the order is ``done`` by it: "posted")
    calls for under the order's webstore's setup, or None where it calls for none. The
    caller commits it with the event."""
    webstore: Webstore = order.webstore
    status_to = getattr(webstore, EVENT_STATUS[event], "") if event in EVENT_STATUS else ""
    if not webstore.writeback_enabled or not status_to or closed_in_store(order):
        return None
    exists = db.session.scalar(
        sa.select(StoreWriteback.id).where(
            StoreWriteback.sales_order_id == order.id, StoreWriteback.event == event
        )
    )
    if exists:
        return None  # an order is posted once; an event undone and done again is not sent twice
    writeback = StoreWriteback(
        sales_order_id=order.id,
        webstore_id=webstore.id,
        woo_order_id=order.woo_order_id,
        event=event,
        status_to=status_to,
        note=note_for(order, done),
        note_to_customer=webstore.notes_to_customer,
        state=WritebackState.PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(writeback)
    return writeback


def closed_in_store(order: SalesOrder) -> str | None:
    """The store status of an order the store closed (refunded, cancelled...): never
    updated by a write-back, so none is planned."""
    state = order.store_state or order.imported_state
    status = state["status"] if state else order.woo_status
    return status if status in CLOSED_IN_STORE else None


def note_for(order: SalesOrder, done: str) -> str:
    """The order note: what the ERP knows that the customer and the shop want to read."""
    parts = [f"Sales order {order.number} is {done}."]
    if order.shipping_carrier or order.tracking_number:
        carrier = order.shipping_carrier or "the carrier"
        tracking = f", tracking number {order.tracking_number}" if order.tracking_number else ""
        parts.append(f"Shipped with {carrier}{tracking}.")
    return " ".join(parts)


class Refused(Exception):
    """The write-back cannot be made as it stands; the message says why and what to do."""

    def __init__(self, message: str, state: OrderState | None = None):
        super().__init__(message)
        # The store's order as read, where it differs from the reviewed one.
        self.state = state


def send(writeback_id: int) -> StoreWriteback | None:
    """Send one write-back (the RQ job's body). A store that does not answer puts it off
    (``RETRY_DELAYS``); a refusal fails it with the reason. Returns the row as it ends."""
    from portal.sync.runs import client_for

    writeback = claim(writeback_id)
    if writeback is None:
        return db.session.get(StoreWriteback, writeback_id)
    try:
        with client_for(writeback.webstore) as client:
            done = write(client, writeback)
    except Refused as refused:
        writeback = settle(
            writeback, WritebackState.FAILED, str(refused), EventKind.WRITEBACK_REFUSED
        )
        warn_of(writeback, refused.state)
        return writeback
    except TRANSIENT_ERRORS as error:
        return put_off(
            writeback,
            f"The store did not answer: {str(error).rstrip('.')}.",
            EventKind.WRITEBACK_STORE_DOWN,
        )
    except (WooError, SecretUnreadable) as error:
        return settle(writeback, WritebackState.FAILED, f"The store refused: {error}")
    except Exception:
        db.session.rollback()
        log.exception("write-back %s failed", writeback_id)
        writeback = db.session.get(StoreWriteback, writeback_id)
        return put_off(
            writeback,
            "Sending stopped on an unexpected error (its details are in the application "
            f"log, under write-back {writeback_id}).",
            EventKind.WRITEBACK_ERROR,
        )
    return settle(writeback, WritebackState.SENT, None, message=done)


def claim(writeback_id: int) -> StoreWriteback | None:
    """Take a due write-back for this worker, for the length of a lease: two workers (or a
    person's "send again" beside the scheduler) never send it at once, and one whose worker
    died is taken again once its lease has run out."""
    now = utcnow()
    taken = db.session.execute(
        sa.update(StoreWriteback)
        .where(StoreWriteback.id == writeback_id, *is_due(now))
        .values(
            state=WritebackState.SENDING,
            attempts=StoreWriteback.attempts + 1,
            next_attempt_at=now + LEASE,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.get(StoreWriteback, writeback_id) if taken.rowcount == 1 else None


def is_due(now) -> tuple:
    return (
        StoreWriteback.state.in_((WritebackState.PENDING, WritebackState.SENDING)),
        StoreWriteback.next_attempt_at <= now,
    )


def write(client, writeback: StoreWriteback) -> str:
    """Set the status, then add the note, each once, each kept as soon as it is done;
    returns what was done, in words."""
    done = f"Store order set to {writeback.status_to}"
    if not writeback.status_set:
        store_order = read_store_order(client, writeback)
        known = known_state(writeback)
        now = OrderState.of(store_order)
        if store_order.status != writeback.status_to:
            refuse_if_changed(writeback, known, now)
            store_order = client.update_order_status(writeback.woo_order_id, writeback.status_to)
        else:
            # Set already: by a try of ours that died before keeping it, or by the shop.
            # Its lines, quantities and total must still be as reviewed for our note.
            refuse_if_changed(writeback, known, now.with_status(known.baseline.status, None))
            done = f"Store order was {writeback.status_to} already"
        writeback.status_set = True
        remember_as_ours(writeback, known, store_order)
        db.session.commit()
    if writeback.woo_note_id is None:
        writeback.woo_note_id = existing_note(client, writeback) or int(
            client.add_order_note(
                writeback.woo_order_id, writeback.note, writeback.note_to_customer
            )["id"]
        )
        db.session.commit()
    return done


def read_store_order(client, writeback: StoreWriteback):
    try:
        return client.get_order(writeback.woo_order_id)
    except WooNotFound as error:
        raise Refused(
            f"The store has no order {writeback.woo_order_id} any more (deleted in the "
            "store): nothing to update."
        ) from error


def known_state(writeback: StoreWriteback) -> changes.Known:
    sales_order = writeback.sales_order
    (known,) = changes.known_orders(sales_order.webstore_id, [writeback.woo_order_id]).values()
    return known


def refuse_if_changed(writeback: StoreWriteback, known: changes.Known, now: OrderState) -> None:
    """The store's order must still be as reviewed (else as imported): what the store
    decided since wins, and a person looks at it first."""
    if now.status in CLOSED_IN_STORE:
        raise Refused(
            f"The store's order {writeback.sales_order.external_document_no} is {now.status}: "
            f"it is never set to {writeback.status_to}. Nothing was written to the store.",
            now,
        )
    differs = changes.writeback_differences(known.baseline, now, known.decimals)
    if differs:
        raise Refused(
            f"The store's order {writeback.sales_order.external_document_no} differs from "
            f"what was {'reviewed' if known.reviewed else 'imported'}: {'; '.join(differs)}. "
            f"Nothing was written to the store. Review the change on sales order "
            f"{known.number}, then send again.",
            now,
        )


def remember_as_ours(writeback: StoreWriteback, known: changes.Known, store_order) -> None:
    """Our update is the connector's copy of the order now: the reviewed state takes the
    status we set, so its echo raises no change warning."""
    now = OrderState.of(store_order)
    reviewed = known.baseline.with_status(store_order.status, store_order.date_modified)
    db.session.execute(
        sa.update(SalesOrder)
        .where(SalesOrder.id == writeback.sales_order_id)
        .values(
            woo_status=store_order.status,
            woo_modified_at=store_order.date_modified,
            store_state=now.as_json(),
            reviewed_state=reviewed.as_json(),
        )
    )
    db.session.execute(
        sa.update(OrderLink)
        .where(OrderLink.sales_order_id == writeback.sales_order_id)
        .values(woo_modified_at=store_order.date_modified, read_at=utcnow())
    )


def warn_of(writeback: StoreWriteback, state: OrderState | None) -> None:
    """A refused write-back's store order, kept as the store's latest: its sales order
    shows the warning."""
    if state is None:
        return
    known = known_state(writeback)
    found = changes.differences(known.baseline, state, known.credited, known.decimals)
    changes.record_latest(
        writeback.sales_order_id,
        state,
        changes.warning_text(known, state, found) if found else None,
    )
    db.session.commit()


def existing_note(client, writeback: StoreWriteback) -> int | None:
    """A note of ours already in the store (added by a try that died before it was kept)."""
    for note in client.list_order_notes(writeback.woo_order_id):
        if plain(note.get("note")) == plain(writeback.note):
            return int(note["id"])
    return None


def plain(text) -> str:
    """A note's words, whatever markup or spacing the store added."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(str(text or ""))).split())


def settle(
    writeback: StoreWriteback,
    state: WritebackState,
    reason: str | None,
    kind: EventKind = EventKind.WRITEBACK_FAILED,
    message: str | None = None,
):
    if state == WritebackState.FAILED:
        db.session.rollback()
        writeback = db.session.get(StoreWriteback, writeback.id)
        log.warning("write-back %s failed: %s", writeback.id, reason)
    writeback.state = state
    writeback.reason = reason
    writeback.next_attempt_at = None
    if state == WritebackState.SENT:
        writeback.sent_at = utcnow()
        event(
            writeback,
            EventKind.WRITEBACK_SENT,
            message or f"Store order set to {writeback.status_to}",
        )
    else:
        event(writeback, kind, reason or "")
    db.session.commit()
    return writeback


def event(writeback: StoreWriteback, kind: EventKind, message: str) -> None:
    record(writeback.sales_order_id, kind, message, writeback_id=writeback.id)


def put_off(writeback: StoreWriteback, reason: str, kind: EventKind) -> StoreWriteback:
    """Try again later, or, after the last delay, leave it failed for a person."""
    db.session.rollback()
    writeback = db.session.get(StoreWriteback, writeback.id)
    if writeback.attempts > len(RETRY_DELAYS):
        return settle(
            writeback,
            WritebackState.FAILED,
            f"{reason} Gave up after {writeback.attempts} tries: send it again once the "
            "store answers.",
        )
    delay = RETRY_DELAYS[writeback.attempts - 1]
    writeback.state = WritebackState.PENDING
    writeback.next_attempt_at = utcnow() + delay
    writeback.reason = f"{reason} Tried again at {writeback.next_attempt_at:%H:%M} UTC."
    event(writeback, kind, writeback.reason)
    db.session.commit()
    return writeback


def send_again(writeback: StoreWriteback, user_id: int | None = None) -> StoreWriteback:
    """A person asks for a failed (or waiting) write-back to be sent now."""
    if writeback.state in (WritebackState.SENT, WritebackState.SENDING):
        return writeback
    writeback.state = WritebackState.PENDING
    writeback.next_attempt_at = utcnow()
    writeback.reason = None
    if writeback.attempts > len(RETRY_DELAYS):
        writeback.attempts = 0
    record(
        writeback.sales_order_id,
        EventKind.WRITEBACK_REQUEUED,
        "Asked to send the store update again",
        user_id=user_id,
        writeback_id=writeback.id,
    )
    db.session.commit()
    return writeback


def due(now=None) -> list[int]:
    """The write-backs to send now: pending and due, or left by a worker that died."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(StoreWriteback.id).where(*is_due(now)).order_by(StoreWriteback.id).limit(500)
        )
    )


def enqueue(writeback_id: int) -> bool:
    """Queue the job that sends it; False where the queue is down (the scheduler's minute
    job sends it once the queue answers: nothing is lost)."""
    from redis.exceptions import RedisError

    from portal.queue import import_queue

    try:
        import_queue().enqueue(
            "jobs.writeback.send",
            writeback_id,
            job_timeout=300,
            result_ttl=3600,
            description=f"write-back {writeback_id}",
        )
    except RedisError:
        log.warning("write-back %s not queued: Redis is not answering", writeback_id)
        return False
    return True


def enqueue_due(now=None) -> int:
    """The scheduler's part: queue every write-back that is due."""
    ids = due(now)
    for writeback_id in ids:
        if not enqueue(writeback_id):
            break
    return len(ids)
