"""Run the sandbox store as a separate process, for tests, the demo and benchmarks.

::

    with SandboxProcess(orders=200) as store:
        client = WooClient(store.base_url, store.consumer_key, store.consumer_secret)
        store.set_faults(fail_rate=0.2)

    with SandboxProcess(orders_file="export.json") as store:  # a store's own orders
        ...
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

from . import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, DEMO_READ_ONLY_KEY, DEMO_READ_ONLY_SECRET

_READY = re.compile(r"Sandbox store on (https?://\S+?)/wp-json/wc/v3 ")
_PROJECT = Path(__file__).resolve().parent.parent


class SandboxProcess:
    """``python -m sandbox`` on a free loopback port, with its control API at hand."""

    def __init__(
        self,
        *,
        seed: int = 1,
        orders: int = 60,
        consumer_key: str = DEMO_CONSUMER_KEY,
        consumer_secret: str = DEMO_CONSUMER_SECRET,
        read_only_key: str = DEMO_READ_ONLY_KEY,
        read_only_secret: str = DEMO_READ_ONLY_SECRET,
        https: bool = False,
        port: int | None = None,
        orders_file: str | os.PathLike | None = None,
        timezone: str | None = None,
        storage: str = "hpos",
        currency: str | None = None,
        decimals: int | None = None,
        extra_args: tuple[str, ...] | list[str] = (),
        stores: int = 1,
    ) -> None:
        self.seed = seed
        # Stores the process serves, each under /stores/<n> where more than one (``store``).
        self.stores = stores
        self.orders = orders
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        # A key of the same store with Read permission only: every write gets 401.
        self.read_only_key = read_only_key
        self.read_only_secret = read_only_secret
        self.https = https
        self.port = port or 0
        self.orders_file = orders_file
        # The captured store's, which the connector's tests were written against; an
        # export's own unless given. (``python -m sandbox`` alone defaults to UTC.)
        self.timezone = timezone or (None if orders_file else "America/New_York")
        # Where the store keeps its orders: "hpos" (its own tables) or "posts" (legacy).
        self.storage = storage
        # The store's currency and number of decimals (default USD, the currency's own).
        self.currency = currency
        self.decimals = decimals
        self.extra_args = tuple(extra_args)
        self.base_url = ""
        self.cert_path: str | None = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._process: subprocess.Popen | None = None
        self._control = requests.Session()
        self._stdout = self._stderr = Path()

    def start(self, timeout: float = 20) -> SandboxProcess:
        """Start the store and wait until it answers; its stderr is in the error if it dies."""
        self._scratch = tempfile.TemporaryDirectory(prefix="sandbox-process-")
        scratch = Path(self._scratch.name)
        command = [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--seed",
            str(self.seed),
            "--orders",
            str(self.orders),
            "--consumer-key",
            self.consumer_key,
            "--consumer-secret",
            self.consumer_secret,
            "--read-only-key",
            self.read_only_key,
            "--read-only-secret",
            self.read_only_secret,
            "--storage",
            self.storage,
            "--stores",
            str(self.stores),
            *self.extra_args,
        ]
        if self.orders_file is not None:
            command += ["--orders-file", str(Path(self.orders_file).resolve())]
        if self.timezone:
            command += ["--timezone", self.timezone]
        if self.currency:
            command += ["--currency", self.currency]
        if self.decimals is not None:
            command += ["--decimals", str(self.decimals)]
        if self.https:
            self.cert_path = str(scratch / "cert.pem")
            command += ["--https", "--cert-file", self.cert_path]
        self._stdout, self._stderr = scratch / "stdout", scratch / "stderr"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Files, not pipes: nobody drains a pipe once the store runs, and a full one blocks it.
        with self._stdout.open("wb") as stdout, self._stderr.open("wb") as stderr:
            self._process = subprocess.Popen(
                command, cwd=_PROJECT, stdout=stdout, stderr=stderr, env=env
            )
        deadline = time.monotonic() + timeout
        while not (found := _READY.search(self._stdout.read_text())):
            if self._process.poll() is not None:
                error = f"the sandbox store exited:\n{self._stderr.read_text()}"
            elif time.monotonic() > deadline:
                error = f"the sandbox store did not start within {timeout} s"
            else:
                time.sleep(0.05)
                continue
            self.stop()
            raise RuntimeError(error)
        self.base_url = found.group(1)
        try:
            self.stats()  # it answers
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        self._control.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def store(self, number: int) -> SandboxProcess:
        """Store ``number`` of a process that serves several: its URL and control API, to
        set up a webstore and drive its orders. The process is stopped through ``self``."""
        if not 1 <= number <= self.stores:
            raise ValueError(f"this process serves stores 1 to {self.stores}, not {number}")
        other = copy.copy(self)
        other.base_url = self.base_url.removesuffix("/stores/1") + f"/stores/{number}"
        other.seed = self.seed + number - 1
        other._process = other._scratch = None
        other._control = requests.Session()
        return other

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/wp-json/wc/v3"

    # The control API

    def set_faults(self, **knobs: float) -> dict:
        return self._post("/faults", knobs)

    def reset(self) -> None:
        self._post("/reset", {})

    def create_order(self, **overrides: object) -> dict:
        return self._post("/orders", overrides)

    def create_orders(self, count: int) -> list[int]:
        return self._post("/orders", {"count": count})["ids"]

    def modify_order(self, order_id: int, **changes: object) -> dict:
        return self._post(f"/orders/{order_id}/modify", changes)

    def refund_order(
        self,
        order_id: int,
        amount: str | None = None,
        lines: Mapping[int, int] | Sequence[Mapping[str, object]] | None = None,
        restock: bool = False,
        reason: str = "",
        refund_payment: bool = False,
        date_modified: str | None = None,
    ) -> dict:
        """Refund the order as a shop manager would in the admin; the refund's JSON.

        ``lines`` maps order item ids (product lines, the shipping, the fee) to the
        quantity refunded, or lists ``{"id", "quantity"}`` with ``refund_total`` and
        ``refund_tax`` where the form's own share of the line will not do; shipping and a
        fee are refunded whole. ``amount`` ("12.50") defaults to what the lines add up to;
        without lines it is a refund by amount. ``restock`` puts the goods back in stock.
        ``date_modified`` (ISO 8601, UTC unless it says otherwise) is when it is made.
        """
        if isinstance(lines, Mapping):
            lines = [{"id": int(k), "quantity": int(v)} for k, v in lines.items()]
        body = {
            "amount": amount,
            "lines": list(lines) if lines is not None else None,
            "restock": restock,
            "reason": reason,
            "refund_payment": refund_payment,
            "date_modified": date_modified,
        }
        return self._post(f"/orders/{order_id}/refund", body)

    def trash_order(self, order_id: int, date_modified: str | None = None) -> dict:
        """Move an order to the store's trash, as ``DELETE /orders/<id>`` does: it leaves
        every listing but ``status=trash``. ``date_modified`` (ISO 8601, UTC unless it
        says otherwise) is when; default now. The trashed order's JSON."""
        return self._post(f"/orders/{order_id}/trash", _at(date_modified))

    def restore_order(self, order_id: int, date_modified: str | None = None) -> dict:
        """Take an order out of the trash as the admin's Restore does: back to the status
        it had, announced with ``order.restored``. The order's JSON."""
        return self._post(f"/orders/{order_id}/restore", _at(date_modified))

    def delete_order(self, order_id: int) -> dict:
        """Delete an order for good, as ``DELETE /orders/<id>?force=true`` does: its id is
        then unknown to the store. The order's JSON as it was."""
        return self._post(f"/orders/{order_id}/delete", {})

    def bulk_modify(self, ids: list[int], **changes: object) -> dict:
        """The same change to these orders in one modified second (a bulk action)."""
        return self._post("/orders/bulk-modify", {"ids": list(ids), **changes})

    def add_note(self, order_id: int, note: str, customer_note: bool = False) -> dict:
        """Add a note as a shop manager would; it leaves the order unchanged."""
        body = {"note": note, "customer_note": customer_note}
        return self._post(f"/orders/{order_id}/notes", body)

    def notes(self, order_id: int) -> list[dict]:
        """The order's notes, newest first, as ``GET /orders/<id>/notes`` answers them."""
        return self._call("GET", f"/orders/{order_id}/notes")

    def set_money(self, **settings: object) -> dict:
        """Change the store's ``currency``, ``decimals`` or separators while it runs, as a
        shop manager would in WooCommerce's general settings; the store's money now."""
        return self._post("/settings", settings)

    def money(self) -> dict:
        return self._call("GET", "/settings")

    def set_webhook(self, url: str | None, secret: str = "") -> list[dict]:
        return self._post("/webhooks", {"url": url, "secret": secret})

    def reset_stats(self) -> None:
        """Count requests and the most in flight afresh; the store's orders stay."""
        self._post("/stats/reset", {})

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def _post(self, path: str, body: dict):
        return self._call("POST", path, body)

    def _call(self, method: str, path: str, body: dict | None = None):
        # verify on each call: REQUESTS_CA_BUNDLE would override a session's setting.
        response = self._control.request(
            method,
            f"{self.base_url}/_sandbox{path}",
            json=body,
            timeout=30,
            verify=self.cert_path or True,
        )
        if not response.ok:
            raise RuntimeError(f"{method} /_sandbox{path}: {response.status_code} {response.text}")
        return response.json()


def _at(date_modified: str | None) -> dict:
    return {} if date_modified is None else {"date_modified": date_modified}
