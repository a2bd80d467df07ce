"""A stand-in WooCommerce store speaking the REST API v3 over real HTTP.

Run it with ``python -m sandbox`` (see ``python -m sandbox --help``), or from tests with
:class:`sandbox.process.SandboxProcess`. Its answers are checked against captures of a
real WooCommerce 10 store in ``tests/fixtures/woo-captures/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from . import admin, api, control
from .auth import Credentials
from .faults import Capacity, Faults, Stats
from .php import json_encode
from .store import Store
from .webhooks import Sender

DEMO_CONSUMER_KEY = "ck_5a9db0e1c6f2d8473b0e9a1c4d7f2e6b8a3c5d90"
DEMO_CONSUMER_SECRET = "cs_0f4e8d2c6b1a9e7d3c5b8a2f6e4d1c9b7a3e5f28"
# A second key of the same user with Read permission only: it reads all, and every write
# is refused with 401, as a real store refuses it.
DEMO_READ_ONLY_KEY = "ck_7c1e5a9d3b8f2e6a4c0d9b7e1f3a5c8d2e6b4a01"
DEMO_READ_ONLY_SECRET = "cs_3d8b1f6e9a2c7d4b0e5f8a1c6d9b2e7f4a3c5d02"

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "DEMO_READ_ONLY_KEY",
    "DEMO_READ_ONLY_SECRET",
    "Faults",
    "Store",
    "create_app",
]


@dataclass
class Sandbox:
    """What the views share, kept in ``app.extensions["sandbox"]``."""

    store: Store
    faults: Faults
    credentials: Credentials
    stats: Stats
    sender: Sender
    capacity: Capacity = field(default_factory=Capacity)

    def notify(self, topic: str, order: dict, site: str) -> None:
        """Deliver an order event to every webhook on ``topic``."""
        body = json_encode(order)
        for hook in self.store.webhooks_for(topic):
            self.sender.send(hook, body, f"{site}/")

    def reset(self) -> None:
        self.store.reset()
        self.faults.reset()
        self.stats.reset()


def create_app(
    store: Store,
    faults: Faults | None = None,
    *,
    consumer_key: str = DEMO_CONSUMER_KEY,
    consumer_secret: str = DEMO_CONSUMER_SECRET,
    read_only_key: str = DEMO_READ_ONLY_KEY,
    read_only_secret: str = DEMO_READ_ONLY_SECRET,
    webhook_allow_loopback: bool = False,
) -> Flask:
    app = Flask(__name__)
    app.json.sort_keys = False  # keep WooCommerce's key order in control answers too
    stats = Stats()
    app.extensions["sandbox"] = Sandbox(
        store,
        faults or Faults(seed=store.seed),
        Credentials(consumer_key, consumer_secret, read_only_key, read_only_secret),
        stats,
        Sender(stats, report=store.record_delivery, allow_loopback=webhook_allow_loopback),
    )
    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(admin.bp)
    return app
