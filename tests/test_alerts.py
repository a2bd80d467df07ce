"""Alerts reach a person: one message when a webstore turns failing, one when it recovers,
by e-mail through a real SMTP server and as a JSON POST to a real HTTP listener."""

import json
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from jobs.alerts import check_alerts_job
from portal import db
from portal.alerts import check_alerts
from portal.models import Alert, RunStatus, SeenVia, StoreOrder, StoreOrderState, Trigger
from portal.models.base import utcnow
from portal.queue import import_queue
from portal.sync.runs import create_run, execute_run
from portal.sync.schedule import incremental_filters
from tests.sync_helpers import work_queued_jobs
from tests.test_setup_webstores import stored_webstore, webstore_form

PUBLIC_URL = "https://portal.example.com"
CLOSED_PORT_URL = "http://127.0.0.1:9"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """A real SMTP server on loopback (aiosmtpd), keeping what it receives; it can be
    stopped and started again on its port, as a mail server that goes down and comes back."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def subjects(self) -> list[str]:
        return [message["Subject"] for _, message in self.messages]


class AlertHook:
    """A real HTTP listener on loopback taking alert webhooks' JSON POSTs."""

    def __init__(self):
        self.posts = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append(json.loads(body))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        return [post["text"] for post in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def module_mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_hook():
    hook = AlertHook()
    yield hook
    hook.close()


@pytest.fixture
def mail_server(app, module_mail_server):
    module_mail_server.messages.clear()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=module_mail_server.port,
        MAIL_USE_TLS=False,
        MAIL_FROM="connector@example.com",
        PUBLIC_URL=PUBLIC_URL,
    )
    return module_mail_server


@pytest.fixture
def hook(module_hook):
    module_hook.posts.clear()
    module_hook.status = 200
    return module_hook


@pytest.fixture
def alerted(webstore, mail_server, hook):
    """The MAIN webstore, whose alerts go to two addresses and the listener."""
    webstore.alert_emails = "ops@example.com\nowner@example.com"
    webstore.alert_webhook_url = hook.url
    webstore.alert_failed_runs = 1
    db.session.commit()
    return webstore


def failed_automatic_run(webstore):
    """An automatic run of a store that does not answer, run through the real code."""
    run = create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC)
    run = execute_run(run.id)
    assert run.status == RunStatus.FAILED
    return run


def automatic_run(webstore):
    run = create_run(webstore, incremental_filters(webstore), Trigger.AUTOMATIC)
    return execute_run(run.id)


def add_missing_order(webstore) -> StoreOrder:
    """A store order an audit found missing: the webstore's audit_missing condition."""
    missing = StoreOrder(
        webstore_id=webstore.id,
        woo_order_id=4711,
        number="4711",
        state=StoreOrderState.MISSING,
        seen_via=SeenVia.AUDIT,
    )
    db.session.add(missing)
    db.session.commit()
    return missing


def body(mail) -> str:
    return mail.get_content().replace("\r\n", "\n")


def alerts() -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Alert).order_by(Alert.id)))


# The story: a store that stops answering


@pytest.fixture
def store_that_stops(demo_webstore, mail_server, hook):
    """DEMO with automatic sync, alerts to ops@ and the listener after 3 failed runs."""
    demo_webstore.auto_sync = True
    demo_webstore.alert_emails = "ops@example.com"
    demo_webstore.alert_webhook_url = hook.url
    demo_webstore.alert_failed_runs = 3
    db.session.commit()
    return demo_webstore


def test_a_store_that_stops_answering_alerts_once_and_once_more_when_it_recovers(
    store_that_stops, mail_server, hook
):
    answering_url = store_that_stops.base_url
    assert automatic_run(store_that_stops).status == RunStatus.SUCCEEDED
    store_that_stops.base_url = CLOSED_PORT_URL
    db.session.commit()

    for _ in range(2):
        failed_automatic_run(store_that_stops)
        check_alerts()
    assert mail_server.messages == [] and hook.posts == []

    failed_automatic_run(store_that_stops)
    check_alerts()
    [(to, mail)] = mail_server.messages
    [text] = hook.texts()
    assert to == ["ops@example.com"]
    assert mail["Subject"].startswith("Webstore DEMO is failing: ")
    assert "Webstore DEMO (" in text and "is failing" in text
    assert f"Where to fix it: {PUBLIC_URL}/" in text
    assert text in body(mail)

    for _ in range(3):
        failed_automatic_run(store_that_stops)
        check_alerts()
    assert len(mail_server.messages) == 1 and len(hook.posts) == 1

    store_that_stops.base_url = answering_url
    db.session.commit()
    assert automatic_run(store_that_stops).status == RunStatus.SUCCEEDED
    check_alerts()
    check_alerts()
    assert len(mail_server.messages) == 2 and len(hook.posts) == 2
    resolved_mail, resolved_text = mail_server.messages[1][1], hook.texts()[1]
    assert resolved_mail["Subject"].startswith("Resolved: webstore DEMO: ")
    assert resolved_text.startswith("Resolved: webstore DEMO (")
    [alert] = alerts()
    assert alert.condition == "sync_failing"
    assert alert.resolved_at and alert.notified_at and alert.resolved_notified_at
    assert alert.delivery_error is None


# What a message says


def test_the_message_says_which_webstore_what_is_wrong_since_when_and_where_to_fix_it(
    alerted, mail_server, hook
):
    failed_automatic_run(alerted)

    check_alerts()

    [alert] = alerts()
    [text] = hook.texts()
    assert text.splitlines()[0] == f"Webstore MAIN (Main store) is failing: {alert.message}"
    assert f"Since {alert.opened_at:%Y-%m-%d %H:%M} UTC." in text
    assert text.splitlines()[2].startswith(f"Where to fix it: {PUBLIC_URL}/")
    [(to, mail)] = mail_server.messages
    assert to == ["ops@example.com", "owner@example.com"]
    assert mail["From"] == "connector@example.com"
    assert mail["To"] == "ops@example.com, owner@example.com"


def test_the_resolved_message_says_how_long_it_lasted(alerted, mail_server, hook):
    failed_automatic_run(alerted)
    check_alerts()
    succeeded = create_run(alerted, incremental_filters(alerted), Trigger.AUTOMATIC)
    succeeded.status = RunStatus.SUCCEEDED
    succeeded.finished_at = utcnow()
    db.session.commit()

    check_alerts(now=utcnow() + timedelta(minutes=95))

    resolved = hook.texts()[1]
    assert resolved.startswith("Resolved: webstore MAIN (Main store) is no longer failing")
    assert "(1 h 35 min)" in resolved
    assert f"Its health: {PUBLIC_URL}/" in resolved


def test_each_condition_has_an_alert_of_its_own(alerted, mail_server, hook):
    failed_automatic_run(alerted)
    check_alerts()
    missing = add_missing_order(alerted)

    check_alerts()
    missing.state = StoreOrderState.IMPORTED
    db.session.commit()
    check_alerts()

    sync_failing, audit_missing = alerts()
    assert (sync_failing.condition, sync_failing.resolved_at) == ("sync_failing", None)
    assert audit_missing.condition == "audit_missing" and audit_missing.resolved_at
    assert [text.split(":", 1)[0] for text in hook.texts()] == [
        "Webstore MAIN (Main store) is failing",
        "Webstore MAIN (Main store) is failing",
        "Resolved",
    ]
    assert "1 store order missing" in hook.texts()[1]
    assert len(mail_server.messages) == 3


# Never a flood


def test_two_checks_at_once_send_once(app, alerted, mail_server, hook):
    failed_automatic_run(alerted)
    start = threading.Barrier(2)
    errors = []

    def check():
        with app.app_context():
            try:
                start.wait()
                check_alerts()
            except Exception as error:  # noqa: BLE001 - the test reports it below
                errors.append(error)
            finally:
                db.session.remove()

    checkers = [threading.Thread(target=check) for _ in range(2)]
    for checker in checkers:
        checker.start()
    for checker in checkers:
        checker.join()

    assert errors == []
    assert len(alerts()) == 1
    assert len(mail_server.messages) == 1 and len(hook.posts) == 1


def test_a_message_not_delivered_is_tried_again_and_what_went_is_not_sent_twice(
    alerted, mail_server, hook
):
    mail_server.stop()
    try:
        failed_automatic_run(alerted)
        check_alerts()
        [alert] = alerts()
        assert alert.notified_at is None
        assert alert.delivery_error.startswith("E-mail: no answer from the mail server 127.0.0.1")
        assert len(hook.posts) == 1

        check_alerts()
        assert len(hook.posts) == 1
    finally:
        mail_server.start()

    check_alerts()
    check_alerts()

    [alert] = alerts()
    assert alert.notified_at is not None and alert.delivery_error is None
    assert len(mail_server.messages) == 1 and len(hook.posts) == 1


def test_a_mail_server_that_does_not_answer_is_asked_once_a_check(app, alerted, hook):
    """Two messages owed, one connection: each would otherwise wait out its timeout."""
    connections = []
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()

        def hang_up():
            for _ in range(2):
                try:
                    connection, _ = silent.accept()
                except OSError:
                    return
                connections.append(connection)
                connection.close()

        threading.Thread(target=hang_up, daemon=True).start()
        app.config["MAIL_PORT"] = silent.getsockname()[1]
        failed_automatic_run(alerted)
        add_missing_order(alerted)

        check_alerts()

    assert len(connections) == 1
    assert [alert.delivery_error.split(":", 1)[0] for alert in alerts()] == ["E-mail", "E-mail"]
    assert len(hook.posts) == 2


def test_a_webhook_that_answers_an_error_is_tried_again(alerted, mail_server, hook):
    hook.status = 500
    failed_automatic_run(alerted)

    check_alerts()
    [alert] = alerts()
    assert alert.delivery_error == (
        f"Webhook: the alert webhook at 127.0.0.1:{hook.server.server_port} answered 500 "
        "Internal Server Error: check its URL in the webstore's setup"
    )
    hook.status = 200
    check_alerts()

    assert len(hook.posts) == 2  # the failed try, then the one that went
    assert len(mail_server.messages) == 1
    assert alerts()[0].delivery_error is None


def test_a_link_local_webhook_is_never_posted_to(alerted, mail_server, hook):
    alerted.alert_webhook_url = "http://169.254.169.254/latest/meta-data/"
    db.session.commit()
    failed_automatic_run(alerted)

    check_alerts()

    [alert] = alerts()
    assert alert.delivery_error.startswith(
        "Webhook: 169.254.169.254 is a link-local or cloud metadata address"
    )
    assert len(mail_server.messages) == 1


def test_a_mail_server_without_starttls_is_not_sent_to_in_the_clear(
    app, alerted, mail_server, hook
):
    app.config["MAIL_USE_TLS"] = True
    failed_automatic_run(alerted)

    check_alerts()

    assert mail_server.messages == []
    assert alerts()[0].delivery_error == (
        f"E-mail: the mail server 127.0.0.1:{mail_server.port} does not offer STARTTLS: use "
        "its submission port (MAIL_PORT, often 587), or set MAIL_USE_TLS=false if the way to "
        "it is trusted"
    )


def test_without_a_mail_server_only_the_webhook_hears(app, alerted, mail_server, hook):
    app.config["MAIL_SERVER"] = None
    failed_automatic_run(alerted)

    check_alerts()

    assert mail_server.messages == []
    assert len(hook.posts) == 1
    assert alerts()[0].notified_at is not None


def test_with_nobody_to_tell_the_alert_waits_for_an_address(alerted, mail_server, hook):
    alerted.alert_emails = ""
    alerted.alert_webhook_url = ""
    db.session.commit()
    failed_automatic_run(alerted)
    check_alerts()
    assert alerts()[0].notified_at is None

    alerted.alert_emails = "ops@example.com"
    db.session.commit()
    check_alerts()

    assert len(mail_server.messages) == 1
    assert alerts()[0].notified_at is not None


def test_the_scheduler_job_checks_and_says_what_it_did(alerted, mail_server, hook):
    failed_automatic_run(alerted)

    job = import_queue().enqueue(check_alerts_job)
    work_queued_jobs()

    assert job.return_value() == (
        "opened 1 alert(s), resolved 0; sent 1 message(s), 0 not delivered"
    )
    assert check_alerts_job() == "opened 0 alert(s), resolved 0; sent 0 message(s), 0 not delivered"
    assert len(mail_server.messages) == 1 and len(hook.posts) == 1


# The setup page


def test_the_alert_settings_are_saved_and_shown_again(signed_in_admin):
    signed_in_admin.post(
        "/setup/webstores/new",
        webstore_form(
            alert_emails=" ops@example.com, owner@example.com ;\r\nboss@example.com ",
            alert_webhook_url="https://hooks.slack.com/services/T0/B0/x",
            alert_failed_runs="5",
            alert_lag_minutes="60",
        ),
    )

    store = stored_webstore()
    assert store.alert_emails == "ops@example.com\nowner@example.com\nboss@example.com"
    assert store.alert_webhook_url == "https://hooks.slack.com/services/T0/B0/x"
    assert (store.alert_failed_runs, store.alert_lag_minutes) == (5, 60)
    page = signed_in_admin.get(f"/setup/webstores/{store.id}").text
    assert "ops@example.com\nowner@example.com\nboss@example.com</textarea>" in page
    assert 'value="https://hooks.slack.com/services/T0/B0/x"' in page


def test_a_webstore_saved_without_alert_fields_keeps_the_defaults(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form())

    store = stored_webstore()
    assert (store.alert_emails, store.alert_webhook_url) == ("", "")
    assert (store.alert_failed_runs, store.alert_lag_minutes) == (3, 120)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("alert_emails", "ops@example.com\nnot an address, x@", "Not an e-mail address: "),
        ("alert_emails", "a@b.c\n<evil@x.y>", "Not an e-mail address: &lt;evil@x.y&gt;."),
        ("alert_webhook_url", "ftp://hooks.example.com/x", "start with http:// or https://"),
        ("alert_webhook_url", "http://169.254.169.254/x", "a link-local or cloud metadata"),
        ("alert_failed_runs", "0", "Between 1 and 50."),
        ("alert_failed_runs", "51", "Between 1 and 50."),
        ("alert_lag_minutes", "0", "Between 1 and 10080"),
    ],
)
def test_alert_settings_are_checked_beside_their_fields(signed_in_admin, field, value, said):
    response = signed_in_admin.post("/setup/webstores/new", webstore_form(**{field: value}))

    assert response.status_code == 422
    error = response.text.split(f'id="{field}-error">', 1)[1].split("</small>", 1)[0]
    assert said in error
    assert stored_webstore() is None


def test_each_bad_address_is_named(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/webstores/new", webstore_form(alert_emails="ops@example.com\nnot an address, x@")
    )

    assert "Not an e-mail address: not an address, x@." in response.text


def test_the_setup_page_says_when_e_mail_alerts_are_off(app, signed_in_admin, webstore):
    app.config["MAIL_SERVER"] = None
    page = signed_in_admin.get(f"/setup/webstores/{webstore.id}").text
    assert "E-mail alerts are off: MAIL_SERVER is not set" in page

    app.config["MAIL_SERVER"] = "127.0.0.1"
    page = signed_in_admin.get(f"/setup/webstores/{webstore.id}").text
    assert "E-mail alerts are off" not in page


def alert_test_answer(page: str) -> str:
    return page.split('id="alert-test-result"', 1)[1].split("</div>", 1)[0]


def test_a_test_alert_goes_every_way_and_says_so_in_place(
    signed_in_admin, alerted, mail_server, hook
):
    response = signed_in_admin.post(f"/setup/webstores/{alerted.id}/test-alert", htmx=True)

    assert response.status_code == 200
    [(to, mail)] = mail_server.messages
    assert to == ["ops@example.com", "owner@example.com"]
    assert mail["Subject"] == "Test alert for webstore MAIN"
    [text] = hook.texts()
    assert "sent by admin-user from its setup page" in text
    said = " ".join(response.text.split())
    assert "Test alert sent by e-mail</strong> to ops@example.com, owner@example.com." in said
    assert f"Test alert sent by webhook</strong> to 127.0.0.1:{hook.server.server_port}." in said
    assert alerts() == []


def test_without_htmx_the_test_alert_answers_the_whole_page(
    signed_in_admin, alerted, mail_server, hook
):
    response = signed_in_admin.post(f"/setup/webstores/{alerted.id}/test-alert")

    assert response.status_code == 200
    assert "<h1>Webstore MAIN</h1>" in response.text
    assert "Test alert sent by e-mail" in alert_test_answer(response.text)
    assert len(mail_server.messages) == 1 and len(hook.posts) == 1


def test_a_test_alert_that_fails_says_why(signed_in_admin, alerted, mail_server, hook):
    hook.status = 404

    response = signed_in_admin.post(f"/setup/webstores/{alerted.id}/test-alert", htmx=True)

    said = " ".join(response.text.split())
    assert (
        "Test alert not delivered by webhook:</strong> the alert webhook at "
        f"127.0.0.1:{hook.server.server_port} answered 404 Not Found" in said
    )
    assert "Test alert sent by e-mail" in said


def test_a_test_alert_with_nobody_to_tell_says_what_to_enter(app, signed_in_admin, webstore):
    app.config["MAIL_SERVER"] = None

    response = signed_in_admin.post(f"/setup/webstores/{webstore.id}/test-alert", htmx=True)

    said = " ".join(response.text.split())
    assert "No test alert sent.</strong> Webstore MAIN has no alert webhook URL" in said
    assert "e-mail is off: MAIL_SERVER is not set" in said


def test_a_test_alert_needs_an_admin_and_a_csrf_token(
    signed_in_staff, client, alerted, mail_server, hook
):
    assert signed_in_staff.post(f"/setup/webstores/{alerted.id}/test-alert").status_code == 403
    forged = signed_in_staff.client.post(f"/setup/webstores/{alerted.id}/test-alert")
    assert forged.status_code in (400, 403)
    assert mail_server.messages == [] and hook.posts == []


def test_open_alerts_are_listed_on_the_setup_page_with_what_did_not_go(
    signed_in_admin, alerted, mail_server, hook
):
    hook.status = 500
    failed_automatic_run(alerted)
    check_alerts()

    page = signed_in_admin.get(f"/setup/webstores/{alerted.id}").text

    listed = page.split('id="open-alerts"', 1)[1].split("</ul>", 1)[0]
    assert alerts()[0].message in listed
    assert "not delivered yet, tried again every minute: Webhook: the alert webhook" in listed
