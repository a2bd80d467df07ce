"""The portal's webhooks in a store: where they deliver, and registering or repairing them.

The store tells the portal of new and changed orders through two webhooks, Order created
and Order updated, signed with the webstore's webhook secret. A webhook is recognized as
ours by its delivery URL's path (this webstore's receive route), whatever the host: a new
PUBLIC_URL then moves the pair instead of adding a second one.

WooCommerce accepts any delivery URL, but delivers only to ports 80, 443 and 8080 of public
addresses, and disables a webhook after five failed deliveries in a row without telling
anyone. So the page says beforehand where deliveries cannot arrive, and shows each
webhook's status as the store reports it.
"""

import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, url_for

from portal import db
from portal.crypto import SecretUnreadable
from portal.models import Webstore
from portal.sync.runs import client_for
from portal.woo.client import Webhook

TOPICS = ("order.created", "order.updated")
# WordPress's safe HTTP API sends to these ports only (http_allowed_safe_ports).
SAFE_PORTS = (80, 443, 8080)
DEFAULT_PORTS = {"http": 80, "https": 443}
ADVICE = (
    "Put the portal behind a reverse proxy on a public address on port 443 and set "
    "PUBLIC_URL to that address (for example https://portal.example.com), then register "
    "the webhooks again."
)
STATES = {
    "missing": "Not registered",
    "active": "Active",
    "moved": "Active, but delivering to another address: register again to move it here",
    "paused": "Paused: the store does not deliver it; register again to re-enable it",
    "disabled": "Disabled: WooCommerce stops a webhook after 5 failed deliveries in a row "
    "(or someone switched it off); register again to re-enable it",
}


@dataclass(frozen=True)
class Target:
    """Where the store should deliver, and why it will not, where we can tell."""

    url: str
    problem: str | None


@dataclass(frozen=True)
class Row:
    """One topic's webhook of ours as the store reports it; ``hook`` None if it has none."""

    topic: str
    hook: Webhook | None
    target_url: str

    @property
    def state(self) -> str:
        if self.hook is None:
            return "missing"
        if self.hook.status == "active" and self.hook.delivery_url != self.target_url:
            return "moved"
        return self.hook.status

    @property
    def description(self) -> str:
        return STATES.get(self.state, self.state)


def target(webstore: Webstore) -> Target:
    """The delivery URL: PUBLIC_URL and the receive route, else the address asked for."""
    public_url = current_app.config.get("PUBLIC_URL")
    if not public_url:
        url = url_for("webhooks.receive", code=webstore.code, _external=True)
        problem = (
            f"PUBLIC_URL is not set, so the store is given the address this page was "
            f"opened at ({url}), which WooCommerce may not be able to reach. {ADVICE}"
        )
        return Target(url, problem)
    url = public_url.rstrip("/") + url_for("webhooks.receive", code=webstore.code)
    return Target(url, delivery_problem(url))


def delivery_problem(url: str) -> str | None:
    """Why WooCommerce will refuse to deliver to ``url``; None where it will try."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        reason = "it is not an http:// or https:// address"
    elif port not in SAFE_PORTS:
        reason = f"WooCommerce delivers only to ports 80, 443 and 8080, not to port {port}"
    elif is_local(parts.hostname):
        reason = f"{parts.hostname} is a loopback or private address, which stores never reach"
    else:
        return None
    return f"WooCommerce will refuse to deliver to {url}: {reason}. {ADVICE}"


def is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name: where it points is DNS's to say, at delivery time
    return address.is_loopback or address.is_private or address.is_unspecified


def store_webhooks(webstore: Webstore, url: str) -> list[Row]:
    """Our webhooks as the store reports them. Raises the client's WooError."""
    with interactive_client(webstore) as client:
        return rows(client.list_webhooks(), webstore, url)


def register(webstore: Webstore, url: str) -> list[Row]:
    """Make or repair both webhooks: active, delivering to ``url``, with the portal's secret.

    Lists first and changes what is there, so a second click repairs rather than
    duplicates; writes are never retried for the same reason. Raises the client's WooError.
    """
    secret = ensure_secret(webstore)
    with interactive_client(webstore) as client:
        found = rows(client.list_webhooks(), webstore, url)
        made = []
        for row in found:
            fields = {
                "name": f"Webstore Connector {webstore.code} {row.topic}",
                "delivery_url": url,
                "secret": secret,
                "status": "active",
            }
            if row.hook is None:
                made.append(client.create_webhook(topic=row.topic, **fields))
            else:
                made.append(client.update_webhook(row.hook.id, **fields))
    return rows(made, webstore, url)


def rows(hooks: list[Webhook], webstore: Webstore, url: str) -> list[Row]:
    """One row a topic: our webhook on it, the one delivering to ``url`` first."""
    path = urlsplit(url).path
    ours = [h for h in hooks if urlsplit(h.delivery_url).path == path]
    ours.sort(key=lambda h: (h.delivery_url != url, h.status != "active", h.id))
    return [Row(topic, next((h for h in ours if h.topic == topic), None), url) for topic in TOPICS]


def ensure_secret(webstore: Webstore) -> str:
    """The webstore's webhook secret, made and saved first if it has none.

    One that cannot be decrypted is replaced: registering gives every webhook of ours the
    new one.
    """
    try:
        secret = webstore.webhook_secret
    except SecretUnreadable:
        secret = None
    if not secret:
        secret = secrets.token_urlsafe(32)
        webstore.webhook_secret = secret
        db.session.commit()
    return secret


def interactive_client(webstore: Webstore):
    # A person waits for the answer: no retries, as for "Test connection".
    return client_for(webstore, max_retries=0)
