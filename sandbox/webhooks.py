"""Webhook deliveries signed as WooCommerce signs them, sent from a background thread.

Headers and signature follow the captured deliveries: ``X-WC-Webhook-Signature`` is the
base64 HMAC-SHA256 of the raw body with the webhook's secret.

WooCommerce delivers through WordPress's safe HTTP API, which sends only to ports 80, 443
and 8080 of public addresses; anything else fails with "A valid URL was not provided."
(the ``real-shapes`` README). Each delivery is reported to the store, which disables a
webhook after five failures in a row; a real store would also retry later, which no test
waits for. ``allow_loopback`` lifts the rule, as the real-store kit's mu-plugin does, so
that tests on loopback with random ports get their deliveries. Targets set through the
control API are always delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import queue
import socket
import threading
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from .faults import Stats
from .model import Webhook
from .render import WC_VERSION

USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/6.8.2)"
log = logging.getLogger(__name__)
# WordPress's http_allowed_safe_ports.
SAFE_PORTS = (80, 443, 8080)
INVALID_URL = "A valid URL was not provided."


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def headers(hook: Webhook, body: bytes, source: str) -> dict[str, str]:
    resource, _, event = hook.topic.partition(".")
    return {
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": hook.topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": signature(body, hook.secret),
        "X-WC-Webhook-ID": str(hook.id),
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }


def safe_url(url: str) -> bool:
    """Whether WordPress's ``wp_http_validate_url`` lets a delivery go to ``url``."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        address = ipaddress.ip_address(socket.gethostbyname(parts.hostname or ""))
    except (ValueError, OSError):
        return False
    public = not (address.is_private or address.is_loopback or address.is_unspecified)
    return port in SAFE_PORTS and public


class Sender:
    """One thread posting deliveries in the order the changes happened.

    ``report(hook_id, delivered)`` hears of every delivery (pings excepted).
    """

    def __init__(
        self,
        stats: Stats,
        timeout: float = 5,
        *,
        report: Callable[[int, bool], None] = lambda hook_id, delivered: None,
        allow_loopback: bool = False,
    ) -> None:
        self.stats = stats
        self.timeout = timeout
        self.report = report
        self.allow_loopback = allow_loopback
        self._queue: queue.Queue[tuple[Webhook, dict, bytes, bool]] = queue.Queue()
        self._session = requests.Session()
        threading.Thread(target=self._run, name="webhooks", daemon=True).start()

    def send(self, hook: Webhook, body: bytes, source: str) -> None:
        self._queue.put((hook, headers(hook, body, source), body, True))

    def ping(self, hook: Webhook) -> None:
        """WooCommerce pings a new webhook's URL with a form post naming it."""
        body = f"webhook_id={hook.id}".encode()
        ping_headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self._queue.put((hook, ping_headers, body, False))

    def _run(self) -> None:
        while True:
            hook, delivery_headers, body, counted = self._queue.get()
            delivered = self._post(hook, delivery_headers, body)
            self.stats.count("webhooks_delivered" if delivered else "webhooks_failed")
            if counted:
                self.report(hook.id, delivered)

    def _post(self, hook: Webhook, delivery_headers: dict, body: bytes) -> bool:
        url = hook.delivery_url
        if not (hook.any_url or self.allow_loopback or safe_url(url)):
            log.debug("webhook delivery to %s failed: %s", url, INVALID_URL)
            return False
        try:
            response = self._session.post(
                url, data=body, headers=delivery_headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            log.debug("webhook delivery to %s failed: %s", url, error)
            return False
        return response.ok
