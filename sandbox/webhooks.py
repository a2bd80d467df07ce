"""Webhook deliveries signed as WooCommerce signs them, sent from a background thread.

Headers and signature follow the captured deliveries: ``X-WC-Webhook-Signature`` is the
base64 HMAC-SHA256 of the raw body with the webhook's secret. A failed delivery is
counted and otherwise ignored; a real store would retry later, which no test waits for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import queue
import threading
import uuid

import requests

from .faults import Stats
from .model import Webhook
from .render import WC_VERSION

USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/6.8.2)"
log = logging.getLogger(__name__)


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


class Sender:
    """One thread posting deliveries in the order the changes happened."""

    def __init__(self, stats: Stats, timeout: float = 5) -> None:
        self.stats = stats
        self.timeout = timeout
        self._queue: queue.Queue[tuple[str, dict, bytes]] = queue.Queue()
        self._session = requests.Session()
        threading.Thread(target=self._run, name="webhooks", daemon=True).start()

    def send(self, hook: Webhook, body: bytes, source: str) -> None:
        self._queue.put((hook.delivery_url, headers(hook, body, source), body))

    def ping(self, hook: Webhook) -> None:
        """WooCommerce pings a new webhook's URL with a form post naming it."""
        body = f"webhook_id={hook.id}".encode()
        ping_headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        self._queue.put((hook.delivery_url, ping_headers, body))

    def _run(self) -> None:
        while True:
            url, delivery_headers, body = self._queue.get()
            try:
                response = self._session.post(
                    url, data=body, headers=delivery_headers, timeout=self.timeout
                )
                delivered = response.ok
            except requests.RequestException as error:
                log.debug("webhook delivery to %s failed: %s", url, error)
                delivered = False
            self.stats.count("webhooks_delivered" if delivered else "webhooks_failed")
