"""Alerts: a person hears when a webstore turns failing, once, and once when it recovers.

``check_alerts()`` runs every minute (``jobs/alerts.py``). It compares each webstore's
failing conditions, as the health rules see them (``portal.sync.health``), with its open
alerts (``Alert``, at most one open per webstore and condition by a unique index):

- a failing condition with no open alert opens one, and its message goes out;
- an open alert whose condition is gone is resolved, and a "resolved" message goes out;
- nothing goes out while an alert stays open, however often it is checked.

A message goes by e-mail (SMTP, the ``MAIL_*`` settings) to the webstore's alert addresses,
and as a JSON POST of ``{"text": ...}`` (what Slack and Teams incoming webhooks take) to its
alert webhook URL. Each message is claimed before it is sent (``UPDATE ... WHERE notified_at
IS NULL``), so that two checkers at once send it once: at most once, then, since a checker
killed while sending loses that message rather than risk sending it twice. A way that fails
is named in ``delivery_error`` with the reason, one line each; the next check sends it again
that way only, never again to the ways that took it.
"""

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import Alert, Webstore
from portal.models.base import utcnow
from portal.woo.client import refuse_never_connected
from portal.woo.errors import WooAddressRefused

log = logging.getLogger(__name__)

# Seconds to wait for the mail server or the alert webhook: a check must not hang on one.
TIMEOUT = 10
EMAIL = "E-mail"
WEBHOOK = "Webhook"
# One plain address, in ASCII (a mail server need not take others): nothing that would make
# it two addresses, a name or a header.
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


class DeliveryFailed(Exception):
    """A message could not be handed over one way; the text says why, for a person.
    ``unreachable``: nothing answered there, and nothing will for a while."""

    def __init__(self, reason: str, unreachable: bool = False):
        super().__init__(reason)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


@dataclass
class Checked:
    """What one check did."""

    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)
    sent: int = 0
    undelivered: int = 0


# Who hears


def alert_addresses(text: str | None) -> list[str]:
    """The addresses of a webstore's alert addresses field: one a line, or comma-separated."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


def bad_addresses(text: str | None) -> list[str]:
    return [address for address in alert_addresses(text) if not ADDRESS.fullmatch(address)]


def webhook_refusal(url: str) -> str | None:
    """Why the portal will not post to ``url`` (a link-local or cloud metadata address, where
    a POST from inside the network reaches what it must not); None where it will."""
    try:
        refuse_never_connected(url)
    except WooAddressRefused:
        host = urlsplit(url).hostname
        return (
            f"{host} is a link-local or cloud metadata address, which the portal never "
            "sends to: enter the address your chat service gave for its incoming webhook."
        )
    return None


def email_on() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def ways(webstore: Webstore) -> list[str]:
    """How the webstore's alerts go out: by e-mail where there are addresses and a mail
    server, to the webhook where there is one."""
    found = []
    if email_on() and alert_addresses(webstore.alert_emails):
        found.append(EMAIL)
    if webstore.alert_webhook_url:
        found.append(WEBHOOK)
    return found


def recipients(webstore: Webstore, way: str) -> str:
    """Whom a way reaches, in words: the addresses, or the webhook's host (its path is a
    secret: whoever has it can post to the channel)."""
    if way == EMAIL:
        return ", ".join(alert_addresses(webstore.alert_emails))
    return urlsplit(webstore.alert_webhook_url).netloc


# Checking


def check_alerts(now: datetime | None = None) -> Checked:
    """Open an alert for each new failing condition, resolve those gone, and send what
    is owed: each opening and each resolving message once."""
    # Here, not at the top: the health rules read the setup's webhooks, whose blueprint
    # imports this module for its alert settings.
    from portal.sync.health import portal_url, webstore_health

    now = now or utcnow()
    checked = Checked()
    links = {}
    for health in webstore_health(now=now):
        webstore = health.webstore
        failing = {c.key: c for c in health.conditions if c.failing}
        links.update({(webstore.id, key): absolute(c.url) for key, c in failing.items() if c.url})
        alerts = open_alerts(webstore)
        checked.opened += [
            alert
            for key, condition in failing.items()
            if key not in alerts and (alert := open_alert(webstore, key, condition.words, now))
        ]
        checked.resolved += [
            alert for key, alert in alerts.items() if key not in failing and resolve(alert, now)
        ]
    home = absolute(portal_url("orders.index"))
    courier = Courier()
    for alert in owed_alerts():
        courier.deliver_owed(alert, links.get((alert.webstore_id, alert.condition), home), home)
    checked.sent, checked.undelivered = courier.sent, courier.undelivered
    return checked


def open_alerts(webstore: Webstore) -> dict[str, Alert]:
    alerts = db.session.scalars(
        sa.select(Alert).where(Alert.webstore_id == webstore.id, Alert.resolved_at.is_(None))
    )
    return {alert.condition: alert for alert in alerts}


def open_alert(webstore: Webstore, condition: str, words: str, now: datetime) -> Alert | None:
    """A new open alert; None where another checker opened it first (the unique index)."""
    alert = Alert(webstore_id=webstore.id, condition=condition, message=words, opened_at=now)
    db.session.add(alert)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return alert


def resolve(alert: Alert, now: datetime) -> bool:
    """Close an open alert; False where another checker closed it first."""
    result = db.session.execute(
        sa.update(Alert)
        .where(Alert.id == alert.id, Alert.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    db.session.commit()
    db.session.refresh(alert)
    return result.rowcount == 1


def owed_alerts() -> list[Alert]:
    """Alerts whose opening or resolving message has not gone out. An alert resolved before
    its opening message was ever tried (nobody to tell then) is left alone: telling of it
    later would only say what is over."""
    opening_owed = sa.and_(
        Alert.notified_at.is_(None),
        Alert.resolved_notified_at.is_(None),
        sa.or_(Alert.resolved_at.is_(None), Alert.delivery_error.is_not(None)),
    )
    resolving_owed = sa.and_(
        Alert.resolved_at.is_not(None),
        Alert.notified_at.is_not(None),
        Alert.resolved_notified_at.is_(None),
    )
    return list(
        db.session.scalars(
            sa.select(Alert).where(sa.or_(opening_owed, resolving_owed)).order_by(Alert.id)
        )
    )


# Sending once


class Courier:
    """Sends the messages one check owes. A mail server or webhook that did not answer is
    not asked again within the check: each message would wait out its timeout in turn."""

    def __init__(self):
        self.sent = self.undelivered = 0
        self.unreachable: dict[str, DeliveryFailed] = {}

    def deliver_owed(self, alert: Alert, link: str, home: str) -> None:
        """Send the alert's opening message if owed, then its resolving one if owed."""
        webstore = alert.webstore
        if alert.notified_at is None:
            if not ways(webstore):
                return  # nobody to tell yet; an address added while it is open will hear
            message = opening_message(webstore, alert, link)
            if not self.send_claimed(alert, Alert.notified_at, message):
                return
        if alert.resolved_at is not None and alert.resolved_notified_at is None:
            message = resolved_message(webstore, alert, home)
            self.send_claimed(alert, Alert.resolved_notified_at, message)

    def send_claimed(self, alert: Alert, sent_at, message: Message) -> bool | None:
        """Claim the message (``sent_at`` NULL → now) and send it the ways still owed: True
        when it went, None where another checker claimed it first. A way that fails gives
        the claim back, with its reason in ``delivery_error``: False."""
        claim = db.session.execute(
            sa.update(Alert)
            .where(Alert.id == alert.id, sent_at.is_(None))
            .values({sent_at: utcnow()})
        )
        db.session.commit()
        if claim.rowcount != 1:
            return None
        failures = {}
        for way in owed_ways(alert):
            try:
                self.send(alert.webstore, way, message)
            except DeliveryFailed as error:
                log.warning("alert %s: %s not delivered: %s", alert.id, way, error)
                failures[way] = str(error)
        values = {"delivery_error": undelivered_text(failures) or None}
        if failures:
            values[sent_at.key] = None
        db.session.execute(sa.update(Alert).where(Alert.id == alert.id).values(values))
        db.session.commit()
        db.session.refresh(alert)
        if failures:
            self.undelivered += 1
        else:
            self.sent += 1
        return not failures

    def send(self, webstore: Webstore, way: str, message: Message) -> None:
        where = "mail" if way == EMAIL else urlsplit(webstore.alert_webhook_url).netloc
        if where in self.unreachable:
            raise self.unreachable[where]
        try:
            send(webstore, way, message)
        except DeliveryFailed as error:
            if error.unreachable:
                self.unreachable[where] = error
            raise


def owed_ways(alert: Alert) -> list[str]:
    """The ways the message still owes: those that failed last time, else every way."""
    current = ways(alert.webstore)
    if not alert.delivery_error:
        return current
    failed = {line.split(":", 1)[0] for line in alert.delivery_error.splitlines()}
    return [way for way in current if way in failed]


def undelivered_text(failures: dict[str, str]) -> str:
    """``delivery_error``: a line per way that failed, "E-mail: why" (read by owed_ways)."""
    return "\n".join(f"{way}: {reason}" for way, reason in failures.items())


def send(webstore: Webstore, way: str, message: Message) -> None:
    if way == EMAIL:
        send_email(alert_addresses(webstore.alert_emails), message, webstore)
    else:
        post_webhook(webstore.alert_webhook_url, message)


def send_test(webstore: Webstore, who: str) -> dict[str, str | None]:
    """Send a test message every way the webstore's alerts go; each way's failure or None."""
    message = Message(
        subject=f"Test alert for webstore {webstore.code}",
        text=f"Test alert for webstore {webstore.code} ({webstore.name}), sent by {who} from "
        "its setup page: its alerts reach you here. Nothing is wrong.",
    )
    results = {}
    for way in ways(webstore):
        try:
            send(webstore, way, message)
            results[way] = None
        except DeliveryFailed as error:
            results[way] = str(error)
    return results


# The messages


def opening_message(webstore: Webstore, alert: Alert, link: str) -> Message:
    return Message(
        subject=f"Webstore {webstore.code} is failing: {one_line(alert.message)}",
        text=f"Webstore {webstore.code} ({webstore.name}) is failing: {alert.message}\n"
        f"Since {alert.opened_at:%Y-%m-%d %H:%M} UTC.\n"
        f"Where to fix it: {link}",
    )


def resolved_message(webstore: Webstore, alert: Alert, link: str) -> Message:
    from portal.sync.health import age_text  # late, as in check_alerts

    lasted = age_text(alert.resolved_at - alert.opened_at)
    return Message(
        subject=f"Resolved: webstore {webstore.code}: {one_line(alert.message)}",
        text=f"Resolved: webstore {webstore.code} ({webstore.name}) is no longer failing "
        f"for this: {alert.message}\n"
        f"It was failing from {alert.opened_at:%Y-%m-%d %H:%M} to "
        f"{alert.resolved_at:%Y-%m-%d %H:%M} UTC ({lasted}).\n"
        f"Its health: {link}",
    )


def one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def absolute(path: str) -> str:
    """A link a person can open from a mail: the portal's path under PUBLIC_URL, as the
    stores' webhooks are given it; the path alone where PUBLIC_URL is not set."""
    public_url = current_app.config.get("PUBLIC_URL")
    return public_url.rstrip("/") + path if public_url else path


# The ways out


def send_email(addresses: list[str], message: Message, webstore: Webstore) -> None:
    config = current_app.config
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = ", ".join(addresses)
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    mail.set_content(
        f"{message.text}\n\n-- \nYou receive this as an alert address of webstore "
        f"{webstore.code} (Setup → Webstores → {webstore.code}): one message when a problem "
        "starts, one when it is resolved.\n"
    )
    server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=TIMEOUT) as smtp:
            if config["MAIL_USE_TLS"]:
                start_tls(smtp, server)
            if config.get("MAIL_USERNAME"):
                sign_in(smtp, server, config["MAIL_USERNAME"], config.get("MAIL_PASSWORD"))
            refused = smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryFailed(
            f"the mail server {server} refused every alert address "
            f"({', '.join(error.recipients)}): check them in Setup → Webstores → {webstore.code}"
        ) from error
    except smtplib.SMTPSenderRefused as error:
        raise DeliveryFailed(
            f"the mail server {server} refused the sender {config['MAIL_FROM']}: set "
            "MAIL_FROM to an address it sends for"
        ) from error
    except smtplib.SMTPResponseException as error:
        raise DeliveryFailed(
            f"the mail server {server} answered {error.smtp_code}: try again later, or ask "
            "whoever runs it"
        ) from error
    except ssl.SSLError as error:
        raise DeliveryFailed(
            f"TLS with the mail server {server} failed ({error.reason}): check MAIL_SERVER "
            "and MAIL_PORT"
        ) from error
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(
            f"no answer from the mail server {server}: check MAIL_SERVER and MAIL_PORT, and "
            "that it is up",
            unreachable=True,
        ) from error
    if refused:
        log.warning("alert mail refused for %s by %s", ", ".join(refused), server)


def start_tls(smtp: smtplib.SMTP, server: str) -> None:
    try:
        smtp.starttls(context=ssl.create_default_context())
    except smtplib.SMTPNotSupportedError as error:
        raise DeliveryFailed(
            f"the mail server {server} does not offer STARTTLS: use its submission port "
            "(MAIL_PORT, often 587), or set MAIL_USE_TLS=false if the way to it is trusted"
        ) from error


def sign_in(smtp: smtplib.SMTP, server: str, username: str, password: str | None) -> None:
    try:
        smtp.login(username, password or "")
    except smtplib.SMTPNotSupportedError as error:
        raise DeliveryFailed(
            f"the mail server {server} takes no sign-in: leave MAIL_USERNAME unset"
        ) from error
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryFailed(
            f"the mail server {server} refused the sign-in: check MAIL_USERNAME and MAIL_PASSWORD"
        ) from error


def post_webhook(url: str, message: Message) -> None:
    host = urlsplit(url).netloc
    if refusal := webhook_refusal(url):
        raise DeliveryFailed(refusal)
    try:
        # No redirects: the address checked is the address posted to.
        answer = requests.post(
            url, json={"text": message.text}, timeout=TIMEOUT, allow_redirects=False
        )
    except requests.Timeout as error:
        raise DeliveryFailed(
            f"no answer from the alert webhook at {host} within {TIMEOUT} seconds",
            unreachable=True,
        ) from error
    except requests.RequestException as error:
        raise DeliveryFailed(
            f"the alert webhook at {host} could not be reached: check its URL in the "
            "webstore's setup",
            unreachable=True,
        ) from error
    if not 200 <= answer.status_code < 300:
        raise DeliveryFailed(
            f"the alert webhook at {host} answered {answer.status_code} "
            f"{answer.reason}: check its URL in the webstore's setup"
        )
