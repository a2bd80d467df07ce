"""WooCommerce webhooks: signed deliveries queue single-order imports; bad ones are refused."""

import base64
import hashlib
import hmac
import io
import json
import logging
import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import g
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from portal import csrf, db
from portal.models import (
    Outcome,
    RunStatus,
    SalesCreditMemo,
    SalesOrder,
    SyncRun,
    Trigger,
    WebhookDelivery,
)
from portal.models.base import utcnow
from portal.queue import webhook_queue
from portal.sync import runs
from portal.sync.filters import merge_filters
from portal.sync.runs import claim, start_import
from portal.webhooks import deliveries
from tests.conftest import FIXTURES
from tests.sync_helpers import (
    count,
    duplicates,
    entries,
    imported_order,
    sales_order_for,
    wait_for,
    work_queued_jobs,
)
from tests.test_setup_users import wait_until_a_statement_waits_for_a_lock

CAPTURES = FIXTURES / "woo-captures" / "webhook_deliveries"
# The secret the captured deliveries were signed with by WooCommerce 10.0.2.
SECRET = "whsec-realwoo"
LOGGER = "portal.webhooks"


def captured(number: int) -> tuple[bytes, dict[str, str]]:
    """A captured delivery: its raw body byte for byte, and the headers WooCommerce sent."""
    capture = json.loads((CAPTURES / f"delivery_{number:02}.json").read_text())
    seen = capture["headers_as_seen_by_php_SERVER"]
    body = capture["raw_body"].encode("utf-8")
    assert len(body) == int(seen["CONTENT_LENGTH"])
    skip = {"HTTP_HOST", "HTTP_CONNECTION", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE"}
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in seen.items()
        if key.startswith("HTTP_") and key not in skip
    }
    headers["Content-Type"] = seen["CONTENT_TYPE"]
    return body, headers


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def order_event(order_id: int, topic: str = "order.updated", secret=SECRET, **fields):
    """A delivery as WooCommerce sends one: JSON body, topic, signature."""
    body = json.dumps({"id": order_id, "status": "processing", **fields}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": sign(body, secret),
        "X-WC-Webhook-Delivery-ID": "d" * 32,
    }


def deliver(client, body: bytes, headers: dict, code: str = "MAIN", **kw):
    response = client.post(f"/webhooks/woocommerce/{code}", data=body, headers=headers, **kw)
    assert SECRET not in response.text
    return response


def webhook_runs() -> list[SyncRun]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(SyncRun).where(SyncRun.trigger == Trigger.WEBHOOK).order_by(SyncRun.id)
        )
    )


def refusals(caplog, status: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(LOGGER) and f"refused with {status}" in r.getMessage()
    ]


@pytest.fixture(autouse=True)
def webhook_log(app):
    """The webhook's logger, on: migrations/env.py's fileConfig() disables the loggers that
    exist when the session's database is built (disable_existing_loggers defaults to True)."""
    logger = logging.getLogger(deliveries.__name__)
    disabled, logger.disabled = logger.disabled, False
    yield logger
    logger.disabled = disabled


@pytest.fixture
def hooked(webstore):
    """MAIN (a store nobody calls) with the captured deliveries' webhook secret."""
    webstore.webhook_secret = SECRET
    db.session.commit()
    return webstore


@pytest.fixture
def demo_hooked(demo_webstore):
    """DEMO on the sandbox store, whose orders 23 to 52 are the captured store's."""
    demo_webstore.webhook_secret = SECRET
    db.session.commit()
    return demo_webstore


# The captured deliveries of a real WooCommerce 10.0.2


def test_the_captured_ping_is_answered_200_and_queues_nothing(client, webstore, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    body, headers = captured(1)
    assert body == b"webhook_id=1" and "X-Wc-Webhook-Signature" not in headers

    # Even before a secret is set: WooCommerce pings when the webhook is saved.
    response = deliver(client, body, headers)

    assert response.status_code == 200 and response.json["status"] == "ok"
    assert webhook_runs() == []
    assert any("ping answered" in r.getMessage() for r in caplog.records)


def test_the_captured_order_deliveries_are_verified_queued_and_imported(client, demo_hooked):
    deliveries = [captured(n) for n in (2, 3, 4)]
    for body, headers in deliveries:
        assert sign(body) == headers["X-Wc-Webhook-Signature"]  # the bytes WooCommerce signed

    answers = [deliver(client, body, headers, code="DEMO") for body, headers in deliveries]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json["order_id"] for a in answers] == [23, 35, 41]
    # The later deliveries join the run the first one queued, while it waits.
    [run] = webhook_runs()
    assert run.filters["order_ids"] == [23, 35, 41]
    assert run.status == RunStatus.QUEUED and run.requested_by_id is None
    assert run_ids(answers) == [run.id] * 3
    assert webhook_queue().job_ids == [run.job_id]

    work_queued_jobs()

    [run] = webhook_runs()
    assert (run.status, run.imported) == (RunStatus.SUCCEEDED, 3)
    for order_id in (23, 35, 41):
        assert sales_order_for(demo_hooked, order_id) is not None
    assert count(SalesOrder) == 3


def test_a_webhook_run_goes_ahead_of_bulk_work_queued_before_it(client, demo_hooked):
    automatic = start_import(demo_hooked, merge_filters(demo_hooked), Trigger.AUTOMATIC)
    body, headers = captured(2)
    assert deliver(client, body, headers, code="DEMO").status_code == 202

    work_queued_jobs()

    [webhook] = webhook_runs()
    db.session.refresh(automatic)
    assert webhook.status == automatic.status == RunStatus.SUCCEEDED
    assert webhook.finished_at <= automatic.started_at


def test_a_delivery_after_a_worker_started_the_run_queues_a_run_of_its_own(client, demo_hooked):
    first, second = captured(2), captured(3)
    assert deliver(client, *first, code="DEMO").status_code == 202
    [started] = webhook_runs()
    assert claim(started.id)

    answer = deliver(client, *second, code="DEMO")

    runs = webhook_runs()
    assert [run.filters["order_ids"] for run in runs] == [[23], [35]]
    assert answer.json == {"status": "queued", "order_id": 35, "run_id": runs[1].id}


def test_a_waiting_webhook_run_takes_a_hundred_orders_and_the_next_starts_another(client, hooked):
    body, headers = captured(2)
    template = json.loads(body)
    answers = []
    for order_id in range(1000, 1101):
        signed = json.dumps({**template, "id": order_id}).encode()
        answers.append(deliver(client, signed, {**headers, "X-Wc-Webhook-Signature": sign(signed)}))

    runs = webhook_runs()
    assert [len(run.filters["order_ids"]) for run in runs] == [100, 1]
    assert runs[0].filters["order_ids"] == list(range(1000, 1100))
    assert {a.json["run_id"] for a in answers[:100]} == {runs[0].id}
    assert answers[100].json["run_id"] == runs[1].id


def run_ids(answers) -> list[int]:
    return [a.json["run_id"] for a in answers]


def test_a_single_delivery_enqueues_one_webhook_run(client, hooked):
    body, headers = captured(2)

    response = deliver(client, body, headers)

    assert response.status_code == 202
    assert response.json == {"status": "queued", "order_id": 23, "run_id": webhook_runs()[0].id}
    assert len(webhook_runs()) == 1 and len(webhook_queue().job_ids) == 1
    assert webhook_runs()[0].filters["sources"] == {"order_ids": "webhook"}


# Refused deliveries: a status code and a log line each, nothing queued


def test_a_wrong_signature_is_refused_401_and_logged_without_the_secret(client, hooked, caplog):
    body, headers = captured(2)
    headers["X-Wc-Webhook-Signature"] = sign(body, "not-the-secret")

    response = deliver(client, body, headers)

    assert response.status_code == 401
    assert response.json == {"status": "refused", "message": deliveries.NOT_SIGNED}
    [line] = refusals(caplog, 401)
    assert "'MAIN'" in line and "order.updated" in line and "signature does not match" in line
    assert SECRET not in caplog.text and headers["X-Wc-Webhook-Signature"] not in caplog.text
    assert webhook_runs() == []


def test_a_body_changed_after_signing_is_refused_401(client, hooked):
    body, headers = captured(2)
    tampered = body.replace(b'"total":"78.69"', b'"total":"0.01"')
    assert tampered != body

    assert deliver(client, tampered, headers).status_code == 401
    assert webhook_runs() == []


def test_a_missing_signature_is_refused_401(client, hooked, caplog):
    body, headers = captured(2)
    del headers["X-Wc-Webhook-Signature"]

    response = deliver(client, body, headers)

    assert response.status_code == 401
    [line] = refusals(caplog, 401)
    assert "no X-WC-Webhook-Signature" in line
    assert webhook_runs() == []


def test_a_webstore_without_a_webhook_secret_refuses_401_and_logs_why(client, webstore, caplog):
    body, headers = captured(2)

    response = deliver(client, body, headers)

    assert response.status_code == 401
    [line] = refusals(caplog, 401)
    assert "MAIN has no webhook secret set" in line
    assert webhook_runs() == []


# Unknown codes and unsigned deliveries look alike from outside: the same status and the same
# body, so that nobody learns which webstore codes exist, or which have no secret. Only the
# log tells them apart.


def unknown_code(webstore, body, headers) -> str:
    return "NOPE"


def code_too_long(webstore, body, headers) -> str:
    return "X" * 300


def no_signature(webstore, body, headers) -> str:
    del headers["X-Wc-Webhook-Signature"]
    return "MAIN"


def wrong_signature(webstore, body, headers) -> str:
    headers["X-Wc-Webhook-Signature"] = sign(body, "a guess")
    return "MAIN"


def no_secret_set(webstore, body, headers) -> str:
    webstore.webhook_secret = ""
    db.session.commit()
    return "MAIN"


@pytest.mark.parametrize(
    "case, logged",
    [
        (unknown_code, "there is no webstore with code 'NOPE'"),
        (code_too_long, "there is no webstore with code 'XXXX"),
        (no_signature, "the delivery has no X-WC-Webhook-Signature header"),
        (wrong_signature, "the signature does not match the body and the webhook secret"),
        (no_secret_set, "webstore MAIN has no webhook secret set"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_unknown_codes_and_unsigned_deliveries_get_one_and_the_same_answer(
    client, hooked, caplog, case, logged
):
    body, headers = captured(2)
    unknown = deliver(client, body, dict(headers), code="NOPE")

    code = case(hooked, body, headers)
    response = deliver(client, body, headers, code=code)

    assert (response.status_code, response.data) == (unknown.status_code, unknown.data)
    assert response.status_code == 401
    assert response.json == {"status": "refused", "message": deliveries.NOT_SIGNED}
    assert logged in refusals(caplog, 401)[-1]
    assert webhook_runs() == []


def test_a_secret_that_cannot_be_decrypted_gets_the_same_answer_and_an_error_in_the_log(
    client, hooked, make_app, caplog
):
    body, headers = captured(2)
    unknown = deliver(client, body, dict(headers), code="NOPE")
    other_key = make_app(WEBSTORE_SECRETS_KEY=Fernet.generate_key().decode())

    response = deliver(other_key.test_client(), body, headers)

    assert (response.status_code, response.data) == (unknown.status_code, unknown.data)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "cannot be decrypted with this WEBSTORE_SECRETS_KEY" in error.getMessage()


def test_a_ping_is_answered_alike_whatever_the_code(client, hooked):
    body, headers = captured(1)

    main, nope = (deliver(client, body, headers, code=code) for code in ("MAIN", "NOPE"))

    assert (main.status_code, main.data) == (nope.status_code, nope.data)
    assert main.status_code == 200


def test_an_empty_body_is_refused_alike_whatever_the_code(client, hooked):
    headers = {"X-WC-Webhook-Signature": sign(b"")}

    main, nope = (deliver(client, b"", headers, code=code) for code in ("MAIN", "NOPE"))

    assert (main.status_code, main.data) == (nope.status_code, nope.data)
    assert main.status_code == 400


def test_an_empty_body_is_refused_400(client, hooked, caplog):
    response = deliver(client, b"", {"X-WC-Webhook-Signature": sign(b"")})

    assert response.status_code == 400
    assert "empty body" in response.json["message"]
    assert len(refusals(caplog, 400)) == 1
    assert webhook_runs() == []


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
        b"[1, 2]",
        b'{"id": "23"}',
        b'{"id": 0}',
        b'{"id": 1e400}',
        b'{"id": 99999999999999999999}',
    ],
    ids=["html", "not-utf8", "deep", "a-list", "id-text", "id-zero", "id-float", "id-huge"],
)
def test_a_signed_body_that_is_not_an_order_event_is_refused_400(client, hooked, caplog, body):
    headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": sign(body)}

    response = deliver(client, body, headers)

    assert response.status_code == 400
    assert len(refusals(caplog, 400)) == 1
    assert webhook_runs() == []


def test_an_unsigned_non_json_body_is_refused_401_before_it_is_read(client, hooked):
    assert deliver(client, b"not json", {"X-WC-Webhook-Topic": "order.updated"}).status_code == 401


class CountedReads(io.BytesIO):
    """A request body that counts how often it is read from."""

    reads = 0

    def read(self, *args):
        self.reads += 1
        return super().read(*args)

    def readinto(self, buffer):
        self.reads += 1
        return super().readinto(buffer)


def test_a_5_mb_body_is_refused_413_without_being_read(client, hooked, caplog):
    body = b'{"id": 23, "padding": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    _, headers = order_event(23)
    headers["X-WC-Webhook-Signature"] = sign(body)
    stream = CountedReads(body)

    response = client.post("/webhooks/woocommerce/MAIN", input_stream=stream, headers=headers)

    assert response.status_code == 413 and stream.reads == 0
    [line] = refusals(caplog, 413)
    assert str(len(body)) in line
    assert webhook_runs() == []


def test_a_chunked_body_over_the_limit_is_refused_413(client, hooked, caplog):
    """Without Content-Length (chunked), the view reads one byte past the limit and stops."""
    body = b"x" * (5 * 1024 * 1024 + 10)
    response = client.post(
        "/webhooks/woocommerce/MAIN",
        input_stream=io.BytesIO(body),
        headers={"X-WC-Webhook-Signature": sign(body), "X-WC-Webhook-Topic": "order.updated"},
        environ_overrides={"CONTENT_LENGTH": None, "wsgi.input_terminated": True},
    )

    assert response.status_code == 413
    assert "chunked body" in refusals(caplog, 413)[0]


def test_the_webstore_code_in_the_url_is_case_insensitive(client, hooked):
    body, headers = captured(2)
    assert deliver(client, body, headers, code="main").status_code == 202


def test_other_topics_are_answered_200_and_ignored(client, hooked):
    body, headers = order_event(23, topic="order.deleted")

    response = deliver(client, body, headers)

    assert response.status_code == 200 and response.json["status"] == "ignored"
    assert webhook_runs() == []


def test_orders_the_setup_filters_out_are_ignored_unless_imported_already(client, hooked):
    hooked.default_status_filter = "processing,completed"
    db.session.commit()

    pending = deliver(client, *order_event(90, status="pending"))
    processing = deliver(client, *order_event(90, status="processing"))

    assert pending.status_code == 200 and "status filter" in pending.json["message"]
    assert processing.status_code == 202
    assert len(webhook_runs()) == 1


def test_an_order_updated_by_a_refund_makes_one_run_with_the_order_and_its_credit_memo(
    client, demo_hooked, store
):
    demo_hooked.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    order = imported_order(demo_hooked, store)
    store.modify_order(order.woo_order_id, refund={"amount": "2.00", "reason": "Chipped"})

    answer = deliver(client, *order_event(order.woo_order_id), code="DEMO")
    work_queued_jobs()

    [run] = webhook_runs()
    [memo] = db.session.scalars(sa.select(SalesCreditMemo)).all()
    assert answer.json["run_id"] == run.id and count(SyncRun) == 2  # the import, the webhook
    assert [e.woo_order_id for e in entries(run)] == [order.woo_order_id] * 2
    assert (entries(run)[-1].outcome, entries(run)[-1].message) == (
        Outcome.IMPORTED,
        f"refund {memo.woo_refund_id} of 2.00 {order.currency} credited as CM00001 (Chipped)",
    )
    assert memo.sync_run_id == run.id and run.settled == 2


# Sign-in, CSRF, secrets


def test_the_webhook_needs_no_sign_in_and_no_csrf_token_and_nothing_else_is_exempt(
    app, client, hooked
):
    body, headers = captured(2)
    assert deliver(client, body, headers).status_code == 202  # no session, no token

    assert csrf._exempt_views == {"portal.webhooks.routes.receive"}
    assert not csrf._exempt_blueprints
    assert client.post("/logout").status_code == 400
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
    webhook_rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("webhooks.")]
    assert webhook_rules == ["/webhooks/woocommerce/<code>"]


def test_the_setup_page_shows_the_delivery_url_and_never_the_secret(signed_in_admin, hooked):
    page = signed_in_admin.get(f"/setup/webstores/{hooked.id}")

    assert page.status_code == 200
    assert 'value="http://localhost/webhooks/woocommerce/MAIN"' in page.text
    assert "Settings → Advanced → Webhooks" in page.text
    assert SECRET not in page.text


def test_the_webhook_secret_set_in_setup_is_the_one_deliveries_are_checked_with(
    signed_in_admin, client, webstore
):
    from tests.test_setup_webstores import webstore_form

    form = webstore_form(
        base_url=webstore.base_url, consumer_secret="", webhook_secret=SECRET, order_start_date=""
    )
    saved = signed_in_admin.post(f"/setup/webstores/{webstore.id}", form)
    assert saved.status_code == 302 and SECRET not in saved.text
    raw = db.session.execute(sa.text("SELECT webhook_secret_encrypted FROM webstores")).scalar()
    assert SECRET.encode() not in bytes(raw)

    body, headers = captured(2)
    assert deliver(signed_in_admin.client, body, headers).status_code == 202


# Faults: orders gone, duplicates, Redis down


def test_an_order_that_no_longer_exists_fails_in_its_run_and_nothing_is_imported(
    client, demo_hooked
):
    body, headers = order_event(999_999)

    assert deliver(client, body, headers, code="DEMO").status_code == 202
    work_queued_jobs()

    [run] = webhook_runs()
    [entry] = entries(run)
    assert entry.outcome == Outcome.FAILED and entry.woo_order_id == 999_999
    assert "not in the store" in entry.message
    assert run.failed == 1 and run.imported == 0
    assert count(SalesOrder) == 0


def test_duplicate_deliveries_import_the_order_exactly_once(client, demo_hooked, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    body, headers = captured(2)

    answers = [deliver(client, body, headers, code="DEMO") for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 200, 200]
    assert [a.json["status"] for a in answers] == ["queued", "duplicate", "duplicate"]
    assert len(webhook_runs()) == 1
    work_queued_jobs()
    again = deliver(client, body, headers, code="DEMO")  # the same body, run finished
    assert again.status_code == 200 and again.json["status"] == "duplicate"

    # A later change of the same order is queued, and its run imports nothing twice.
    changed = body.replace(b'"date_modified":"2026-11-26T14:07:01"', b'"date_modified":"x"')
    headers["X-Wc-Webhook-Signature"] = sign(changed)
    assert deliver(client, changed, headers, code="DEMO").status_code == 202
    work_queued_jobs()

    first, second = webhook_runs()
    assert first.imported == 1 and second.imported == 0
    assert [e.outcome for e in entries(second)] != [Outcome.IMPORTED]
    assert count(SalesOrder) == 1 and not any(duplicates().values())
    assert sum("the same delivery was received" in r.getMessage() for r in caplog.records) == 3


def test_a_delivery_replayed_days_later_does_nothing_and_the_log_says_so(
    app, client, hooked, caplog
):
    caplog.set_level(logging.INFO, logger=LOGGER)
    body, headers = captured(2)
    assert deliver(client, body, headers).status_code == 202
    # Three days on: the run has long finished, and Redis remembers nothing of the delivery.
    days_ago = utcnow() - timedelta(days=3)
    [run] = webhook_runs()
    run.status, run.created_at = RunStatus.SUCCEEDED, days_ago
    db.session.execute(sa.update(WebhookDelivery).values(received_at=days_ago))
    db.session.commit()
    Redis.from_url(app.config["REDIS_URL"]).flushdb()

    replay = deliver(client, body, headers)

    assert replay.status_code == 200
    assert replay.json == {"status": "duplicate", "order_id": 23, "message": "Received before."}
    assert webhook_runs() == [run] and webhook_queue().job_ids == []
    [line] = [r.getMessage() for r in caplog.records if "nothing done" in r.getMessage()]
    assert f"received at {days_ago.isoformat(timespec='seconds')}" in line
    assert "(delivery '4f72202f0d71d08bf10eebb206a31691')" in line and "order 23" in line


def test_a_replay_under_another_delivery_id_is_a_duplicate_all_the_same(client, hooked):
    """The delivery id is not signed: whoever replays a delivery can change it."""
    body, headers = captured(2)
    deliver(client, body, headers)
    [run] = webhook_runs()
    run.status = RunStatus.SUCCEEDED  # no longer waiting: only the record can tell
    db.session.commit()
    headers["X-Wc-Webhook-Delivery-Id"] = "f" * 32

    replay = deliver(client, body, headers)

    assert replay.json == {"status": "duplicate", "order_id": 23, "message": "Received before."}
    assert webhook_runs() == [run]


def test_two_orders_delivered_in_one_second_share_a_delivery_id_and_are_both_queued(client, hooked):
    """WooCommerce's delivery id is a hash of the webhook id and the current second."""
    hooked.default_status_filter = ""  # order 35 is on hold
    db.session.commit()
    (body_35, headers_35), (body_41, headers_41) = captured(3), captured(4)
    assert headers_35["X-Wc-Webhook-Delivery-Id"] == headers_41["X-Wc-Webhook-Delivery-Id"]

    answers = [deliver(client, body_35, headers_35), deliver(client, body_41, headers_41)]

    assert [(a.status_code, a.json["order_id"]) for a in answers] == [(202, 35), (202, 41)]
    assert [run.filters["order_ids"] for run in webhook_runs()] == [[35, 41]]


@pytest.mark.parametrize("first_ends", ["commit", "rollback"])
def test_the_same_delivery_racing_itself_waits_for_the_first_and_follows_its_outcome(
    app, hooked, first_ends
):
    """The first delivery, halfway (recorded, not committed), holds the unique key: the
    second waits for it, then is a duplicate if it was committed, or queued if not."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two deliveries are ever at once")
    body, headers = captured(2)
    answers = []
    with db.engine.connect() as first:
        first.execute(
            sa.insert(WebhookDelivery).values(
                webstore_id=hooked.id,
                body_sha256=hashlib.sha256(body).hexdigest(),
                delivery_id=headers["X-Wc-Webhook-Delivery-Id"],
                order_id=23,
                received_at=utcnow(),
            )
        )
        second = threading.Thread(
            target=lambda: answers.append(deliver(app.test_client(), body, headers))
        )
        second.start()
        wait_until_a_statement_waits_for_a_lock()
        getattr(first, first_ends)()
        second.join(timeout=30)

    [answer] = answers
    if first_ends == "commit":
        assert (answer.status_code, answer.json["status"]) == (200, "duplicate")
        assert webhook_runs() == []
    else:
        assert (answer.status_code, answer.json["status"]) == (202, "queued")
        assert len(webhook_runs()) == 1
    assert count(WebhookDelivery) == 1


def test_a_queued_delivery_is_recorded_with_its_body_hash_and_delivery_id(client, hooked):
    body, headers = captured(2)

    deliver(client, body, headers)

    [receipt] = db.session.scalars(sa.select(WebhookDelivery)).all()
    assert receipt.webstore_id == hooked.id and receipt.order_id == 23
    assert receipt.body_sha256 == hashlib.sha256(body).hexdigest()
    assert receipt.delivery_id == "4f72202f0d71d08bf10eebb206a31691"


def test_another_change_of_an_order_whose_run_still_waits_is_not_queued_again(client, hooked):
    first = deliver(client, *order_event(90, customer_note="one"))
    second = deliver(client, *order_event(90, customer_note="two"))

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json == {
        "status": "duplicate",
        "order_id": 90,
        "message": "Already queued.",
        "run_id": first.json["run_id"],
    }
    assert len(webhook_runs()) == 1


def test_redis_down_answers_503_and_leaves_no_run_and_no_record(app, client, hooked, caplog):
    redis_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    g.pop("redis", None)
    body, headers = captured(2)

    response = deliver(client, body, headers)

    assert response.status_code == 503
    assert "cannot be queued" in response.json["message"]
    assert any(
        r.levelno == logging.ERROR and "not queued" in r.getMessage() for r in caplog.records
    )
    assert webhook_runs() == []
    assert count(WebhookDelivery) == 0

    # Once Redis answers again, the same delivery is no duplicate: it was never queued.
    app.config["REDIS_URL"] = redis_url
    g.pop("redis", None)
    assert deliver(client, body, headers).status_code == 202


class BrokenQueue:
    def enqueue(self, *args, **kwargs):
        raise RedisConnectionError("Connection closed by server.")


def test_a_run_that_cannot_be_put_on_the_queue_leaves_no_record(client, hooked, monkeypatch):
    """Redis answers the ping, then fails the enqueue: the run's row was committed, and the
    record with it; both are gone again."""
    monkeypatch.setattr(runs, "webhook_queue", BrokenQueue)
    body, headers = captured(2)

    assert deliver(client, body, headers).status_code == 503

    assert webhook_runs() == [] and count(WebhookDelivery) == 0


# End to end: the sandbox store delivers over real HTTP


def test_the_sandbox_store_delivers_a_signed_order_created_that_is_imported(
    demo_hooked, store, live_server
):
    store.set_webhook(f"{live_server}/webhooks/woocommerce/DEMO", SECRET)

    created = store.create_order(status="processing")

    [run] = wait_for(webhook_runs)
    assert run.filters["order_ids"] == [created["id"]]
    work_queued_jobs()
    assert sales_order_for(demo_hooked, created["id"]) is not None
    assert wait_for(lambda: store.stats()["webhooks"]["delivered"] == 1)

    store.modify_order(created["id"], customer_note="Ring twice")  # order.updated
    wait_for(lambda: len(webhook_runs()) == 2)
    work_queued_jobs()
    assert count(SalesOrder) == 1 and not any(duplicates().values())
    assert store.stats()["webhooks"]["failed"] == 0
