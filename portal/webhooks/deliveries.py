"""What a WooCommerce webhook delivery is worth: check it, then queue an import of its order.

A delivery is authenticated by ``X-WC-Webhook-Signature``, the base64 HMAC-SHA256 of the
raw body with the webstore's webhook secret. Every refusal has its status code and a log
line; neither the secret nor the body is ever logged or answered. An unknown webstore
code, a webstore without a (readable) secret, a missing and a wrong signature all get the
same answer, so that nobody learns from it which codes exist or which have no secret; the
log line says which it was.

WooCommerce counts an answer other than 2xx (or 301/302) as a failed delivery, does not
deliver it again, and disables the webhook after 5 failures in a row. So what is fine but
not for us (the ping, other topics, orders the setup leaves out) is answered 200, and
automatic sync stays the backstop for deliveries that were lost.

Duplicates are harmless by construction: the import's unique link key skips an order that
is imported already. To spare the queue, and so that a delivery replayed days later does
nothing, every signed order delivery is recorded for good (``webhook_deliveries``, unique
per webstore and body hash) in the transaction that queues its run, and one whose body came
before is answered "duplicate". The body is the key because it is what the signature
covers: WooCommerce's delivery id is unsigned, and is a hash of the webhook's id and the
current second, which two captured deliveries of two different orders share. A delivery
is also not queued while a webhook run for the same order is still waiting.

Deliveries that come while a webhook run of their webstore waits for a worker join it (up
to 100 orders, one request to the store): a busy store's deliveries then cost a run for
each worker's turn, not one each, and none waits behind the others' runs.
"""

import base64
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.crypto import SecretUnreadable
from portal.models import OrderLink, RunStatus, SyncRun, Trigger, WebhookDelivery, Webstore
from portal.models.base import utcnow
from portal.models.health import SeenVia, StoreOrderState
from portal.sync import seen
from portal.sync.filters import ImportFilters
from portal.sync.runs import QueueUnavailable, start_import

log = logging.getLogger(__name__)

# A large real order is some 50 KB of JSON; WEBHOOK_MAX_BYTES in the config overrides this.
MAX_BODY_BYTES = 1024 * 1024
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted"})
# A deletion's body is the order's id alone, both for the trash and for good.
DELETED_TOPIC = "order.deleted"
# How long a queued webhook run counts as waiting for its orders.
DUPLICATE_SECONDS = 600
# The orders a webhook run takes at most: as many as one request to the store brings.
ORDERS_PER_RUN = 100
# Order ids are BIGINT in WooCommerce's tables and in ours.
MAX_ORDER_ID = 2**63 - 1
# WooCommerce pings a new webhook's delivery URL with a form post, unsigned.
PING = re.compile(rb"webhook_id=\d+")
# The one answer to every delivery that does not prove it comes from the webstore's store.
NOT_SIGNED = (
    "The delivery is not signed with the webhook secret of a webstore at this address: "
    "check the delivery URL, and that the secret in the WooCommerce webhook is the one in Setup."
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


@dataclass(frozen=True)
class Delivery:
    """The parts of the request that matter, for the checks and the log lines."""

    code: str
    remote_addr: str | None
    topic: str
    delivery_id: str
    signature: str

    @classmethod
    def from_request(cls, code: str, request) -> "Delivery":
        headers = request.headers
        return cls(
            code=code,
            remote_addr=request.remote_addr,
            topic=headers.get("X-WC-Webhook-Topic", "").strip(),
            delivery_id=headers.get("X-WC-Webhook-Delivery-ID", ""),
            signature=headers.get("X-WC-Webhook-Signature", "").strip(),
        )

    def __str__(self) -> str:
        # Header values come from anyone: repr() keeps them on one line.
        return (
            f"webhook for webstore {self.code!r} from {self.remote_addr} "
            f"(topic {self.topic!r}, delivery {self.delivery_id!r})"
        )


class BadPayload(ValueError):
    pass


def refuse(status: int, message: str, delivery: Delivery, level=logging.WARNING) -> Answer:
    log.log(level, "%s refused with %s: %s", delivery, status, message)
    return Answer(status, {"status": "refused", "message": message})


def receive(code: str, request) -> Answer:
    """Check one delivery and queue the import of its order; the answer says what happened."""
    delivery = Delivery.from_request(code, request)
    limit = current_app.config.get("WEBHOOK_MAX_BYTES", MAX_BODY_BYTES)
    if (request.content_length or 0) > limit:
        return too_large(delivery, request.content_length, limit)
    # Chunked bodies have no Content-Length: read one byte past the limit to notice them.
    body = read_at_most(request.stream, limit + 1)
    if len(body) > limit:
        return too_large(delivery, None, limit)
    if not body:
        return refuse(400, "The delivery has an empty body.", delivery)
    if not delivery.signature and PING.fullmatch(body):
        # Whatever the code: a ping answered for some codes only would tell which exist.
        log.info("%s: ping answered", delivery)
        return Answer(200, {"status": "ok", "message": "Ping received."})

    webstore = find_webstore(code)
    if refusal := check_signature(webstore, body, delivery):
        return refusal
    if not delivery.topic:
        return refuse(400, "The delivery has no X-WC-Webhook-Topic header.", delivery)
    if delivery.topic not in ORDER_TOPICS:
        log.info("%s: ignored, only order topics queue imports", delivery)
        return Answer(200, {"status": "ignored", "message": f"Topic {delivery.topic} ignored."})
    try:
        order = parse_order(body)
    except BadPayload as error:
        return refuse(400, str(error), delivery)
    receipt = record(webstore, body, order["id"], delivery)
    if receipt is None:
        return replayed(webstore, body, order["id"], delivery)
    if (reason := ignored_because(webstore, order, delivery)) and not is_linked(
        webstore, order["id"]
    ):
        log.info("%s: order %s ignored: %s", delivery, order["id"], reason)
        seen.record([seen_order(webstore, order, reason)])
        db.session.commit()
        return Answer(200, {"status": "ignored", "order_id": order["id"], "message": reason})
    return queue_import(webstore, order["id"], receipt, delivery)


def too_large(delivery: Delivery, size: int | None, limit: int) -> Answer:
    said = f"{size} bytes" if size is not None else "a chunked body"
    return refuse(
        413,
        f"The delivery is larger than {limit} bytes ({said}); no order is that large.",
        delivery,
    )


def find_webstore(code: str) -> Webstore | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 20:
        return None
    return db.session.scalar(sa.select(Webstore).where(Webstore.code == code))


def read_at_most(stream, size: int) -> bytes:
    """Up to ``size`` bytes of the body; a socket may hand them over in several reads."""
    chunks, total = [], 0
    while total < size:
        chunk = stream.read(min(64 * 1024, size - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


# Signs nothing: the key of the signature computed when there is no secret to check with.
SECRET_FOR_TIMING = "no webhook secret"


def signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_signature(webstore: Webstore | None, body: bytes, delivery: Delivery) -> Answer | None:
    """None when the body is signed with the webstore's webhook secret; else the refusal,
    the same whatever the reason (the log line says which)."""
    secret, reason, level = None, None, logging.WARNING
    if webstore is None:
        reason = f"there is no webstore with code {delivery.code!r}"
    else:
        try:
            secret = webstore.webhook_secret
        except SecretUnreadable:
            reason = (
                f"the webhook secret of webstore {webstore.code} cannot be decrypted with this "
                "WEBSTORE_SECRETS_KEY; enter it again in Setup"
            )
            level = logging.ERROR
        else:
            if not secret:
                reason = f"webstore {webstore.code} has no webhook secret set: set one in Setup"
    # A signature is computed every time, so that no reason answers sooner than another.
    expected = signature(body, secret or SECRET_FOR_TIMING).encode()
    # Werkzeug decodes headers as latin-1, so this gives back the bytes that were sent.
    given = delivery.signature.encode("latin-1")
    if reason is None and not delivery.signature:
        reason = "the delivery has no X-WC-Webhook-Signature header"
    elif reason is None and not hmac.compare_digest(expected, given):
        reason = "the signature does not match the body and the webhook secret"
    if reason is None:
        return None
    log.log(level, "%s refused with 401: %s", delivery, reason)
    return Answer(401, {"status": "refused", "message": NOT_SIGNED})


def parse_order(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise BadPayload("The delivery's body is not JSON.") from error
    order_id = data.get("id") if isinstance(data, dict) else None
    if type(order_id) is not int or not 0 < order_id <= MAX_ORDER_ID:
        raise BadPayload("The delivery's body has no order id (a positive whole number 'id').")
    return data


def ignored_because(webstore: Webstore, order: dict, delivery: Delivery) -> str | None:
    """Why a delivery's order is not imported (where it is not imported already)."""
    if delivery.topic == DELETED_TOPIC:
        return f"order {order['id']} was deleted in the store and was never imported here."
    return outside_setup(webstore, order)


def outside_setup(webstore: Webstore, order: dict) -> str | None:
    """Why the webstore's setup leaves this order out, as automatic sync would; else None."""
    return seen.left_out_by_setup(webstore, order.get("status"), created_on(order))


def seen_order(webstore: Webstore, order: dict, reason: str) -> dict:
    """An order a delivery named and the setup leaves out, as the staging view keeps it."""
    status = order.get("status")
    number = order.get("number")
    return seen.row(
        webstore.id,
        order["id"],
        state=StoreOrderState.SKIPPED,
        via=SeenVia.WEBHOOK,
        now=utcnow(),
        number=number if isinstance(number, str) else "",
        reason=reason,
        status=status if isinstance(status, str) else "",
        order_date=created_on(order),
        modified_at=modified_at(order),
    )


def created_on(order: dict) -> date | None:
    """The day the store shows for the order: its own calendar, as the start date is."""
    value = order.get("date_created") or order.get("date_created_gmt")
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def modified_at(order: dict) -> datetime | None:
    """The moment of the order's last change, where the body says it (``..._gmt`` is UTC)."""
    value = order.get("date_modified_gmt")
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else None
    except ValueError:
        return None


def is_linked(webstore: Webstore, order_id: int) -> bool:
    """An order imported already is queued whatever the setup says: its run notices changes."""
    return (
        db.session.scalar(
            sa.select(OrderLink.id).where(
                OrderLink.webstore_id == webstore.id, OrderLink.woo_order_id == order_id
            )
        )
        is not None
    )


def record(
    webstore: Webstore, body: bytes, order_id: int, delivery: Delivery
) -> WebhookDelivery | None:
    """Record a signed order delivery, uncommitted; None when its body came before.

    A delivery racing the same body waits on the unique key until the first one's
    transaction ends, then finds it (or, if it was rolled back, takes its place)."""
    receipt = WebhookDelivery(
        webstore_id=webstore.id,
        body_sha256=hashlib.sha256(body).hexdigest(),
        delivery_id=delivery.delivery_id[:64],
        order_id=order_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(receipt)
    except IntegrityError:
        return None
    return receipt


def replayed(webstore: Webstore, body: bytes, order_id: int, delivery: Delivery) -> Answer:
    first = db.session.scalar(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.webstore_id == webstore.id,
            WebhookDelivery.body_sha256 == hashlib.sha256(body).hexdigest(),
        )
    )
    log.info(
        "%s: order %s: the same delivery was received at %s (delivery %r); nothing done",
        delivery,
        order_id,
        first.received_at.isoformat(timespec="seconds") if first else "an unknown time",
        first.delivery_id if first else "",
    )
    return duplicate(order_id, message="Received before.")


def queue_import(
    webstore: Webstore, order_id: int, receipt: WebhookDelivery, delivery: Delivery
) -> Answer:
    waiting = waiting_run(webstore, order_id)
    if waiting is not None:
        log.info("%s: order %s already waits in run %s", delivery, order_id, waiting)
        db.session.commit()
        return duplicate(order_id, waiting)
    joined = join_waiting_run(webstore, order_id)
    if joined is not None:
        db.session.commit()
        log.info("%s: order %s joins run %s", delivery, order_id, joined)
        return Answer(202, {"status": "queued", "order_id": order_id, "run_id": joined})
    filters = ImportFilters(order_ids=(order_id,), sources={"order_ids": "webhook"})
    key = (WebhookDelivery.webstore_id == webstore.id) & (
        WebhookDelivery.body_sha256 == receipt.body_sha256
    )
    try:
        # The run's row and the receipt are committed together, before the job is queued.
        run = start_import(webstore, filters, Trigger.WEBHOOK)
    except QueueUnavailable as error:
        # Not queued: the same body delivered later is no duplicate.
        db.session.rollback()
        db.session.execute(sa.delete(WebhookDelivery).where(key))
        db.session.commit()
        log.error("%s: order %s not queued: %s", delivery, order_id, error)
        message = "Imports cannot be queued right now; automatic sync will pick the order up."
        return Answer(503, {"status": "unavailable", "message": message})
    log.info("%s: order %s queued in run %s", delivery, order_id, run.id)
    return Answer(202, {"status": "queued", "order_id": order_id, "run_id": run.id})


def duplicate(order_id: int, run_id: int | None = None, message: str = "Already queued.") -> Answer:
    body = {"status": "duplicate", "order_id": order_id, "message": message}
    if run_id is not None:
        body["run_id"] = run_id
    return Answer(200, body)


def waiting_webhook_runs(webstore: Webstore):
    """The webstore's recent webhook runs that no worker has started, newest first."""
    return (
        sa.select(SyncRun.id, SyncRun.filters)
        .where(
            SyncRun.webstore_id == webstore.id,
            SyncRun.trigger == Trigger.WEBHOOK,
            SyncRun.status == RunStatus.QUEUED,
            SyncRun.created_at >= utcnow() - timedelta(seconds=DUPLICATE_SECONDS),
        )
        .order_by(SyncRun.id.desc())
    )


def waiting_run(webstore: Webstore, order_id: int) -> int | None:
    """A webhook run holding this order that no worker has started: it will read the order
    as it is when it starts, so another delivery adds nothing."""
    waiting = db.session.execute(waiting_webhook_runs(webstore))
    return next((i for i, filters in waiting if order_id in filters["order_ids"]), None)


def join_waiting_run(webstore: Webstore, order_id: int) -> int | None:
    """Add the order to the webstore's newest waiting webhook run with room for it; its id,
    or None where there is none. The caller commits.

    The run's row is locked (PostgreSQL; on SQLite this transaction holds the database's
    write lock since it recorded the delivery), so that two deliveries joining at once both
    land; a worker that claims the run first leaves it out (its status is checked again).
    """
    newest = db.session.execute(waiting_webhook_runs(webstore).limit(1).with_for_update()).first()
    if newest is None or len(newest.filters["order_ids"]) >= ORDERS_PER_RUN:
        return None
    filters = {**newest.filters, "order_ids": [*newest.filters["order_ids"], order_id]}
    joined = db.session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == newest.id, SyncRun.status == RunStatus.QUEUED)
        .values(filters=filters)
    )
    return newest.id if joined.rowcount == 1 else None
