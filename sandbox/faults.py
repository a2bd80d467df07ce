"""Latency and faults on demand, and the counters that show what was served.

Every knob can change while the store runs (``POST /_sandbox/faults``). The draws come
from a seeded generator, so a run with the same requests meets the same faults.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter
from dataclasses import dataclass

FAULTS = ("error", "rate_limit", "timeout", "truncate", "html")
# Faults of writes alone (POST, PUT, PATCH, DELETE of the REST API), drawn after the above:
# refused before anything changes, or lost after the change was made.
WRITE_FAULTS = ("write_error", "write_lost")
# A request turned away at once by a store past its capacity (``Knobs.workers``).
OVERLOAD = "overload"
# A page of 100 orders listed with ``_fields`` costs a real store about a fifth of the
# full page's time: each order still loads, but is not rendered in full.
LIGHT_ORDER_SHARE = 0.15
INTEGER_KNOBS = frozenset({"retry_after", "workers", "queue_limit", "overload_status"})


@dataclass
class Knobs:
    latency_ms: float = 0
    latency_per_order_ms: float = 0
    fail_rate: float = 0  # 500 with WordPress's critical error body
    rate_limit_rate: float = 0  # 429 with Retry-After
    timeout_rate: float = 0  # the answer comes only after hang_seconds
    truncate_rate: float = 0  # the body stops short of its Content-Length
    html_error_rate: float = 0  # a firewall's HTML page instead of JSON
    # Writes only: a 500 before anything changes (the store is down for writes) ...
    write_fail_rate: float = 0
    # ... or a 500 after the change was made, so the writer cannot know it arrived.
    write_lost_rate: float = 0
    hang_seconds: float = 8
    retry_after: int = 1
    # The store's capacity, as a PHP-FPM pool serves: at most ``workers`` requests in
    # service at once (0: as many as come), the rest waiting in line; past ``queue_limit``
    # waiting (0: no limit) a request is answered at once with ``overload_status`` (503, or
    # 429 as a host's rate limiter answers), with Retry-After.
    workers: int = 0
    queue_limit: int = 0
    overload_status: int = 503

    def update(self, changes: dict) -> None:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown knobs: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            value = float(value)
            if name.endswith("_rate") and not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            if name == "overload_status" and value not in (429, 503):
                raise ValueError("overload_status is 429 or 503")
            setattr(self, name, int(value) if name in INTEGER_KNOBS else value)


class Faults:
    def __init__(self, knobs: Knobs | None = None, seed: int = 1) -> None:
        self.initial = dataclasses.replace(knobs or Knobs())
        self.seed = seed
        self._lock = threading.Lock()
        # Set to cut hanging answers short, on reset and on shutdown.
        self.wake = threading.Event()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.knobs = dataclasses.replace(self.initial)
            self._rng = random.Random(f"faults:{self.seed}")
        self.wake.set()
        self.wake = threading.Event()

    def update(self, changes: dict) -> Knobs:
        with self._lock:
            self.knobs.update(changes)
            return self.knobs

    def draw(self, *, write: bool = False) -> str | None:
        """The fault this request meets, if any: one draw against the stacked rates, and
        for a write another against the write faults' rates, where they are set."""
        with self._lock:
            k = self.knobs
            roll = self._rng.random()
            rates = (
                k.fail_rate,
                k.rate_limit_rate,
                k.timeout_rate,
                k.truncate_rate,
                k.html_error_rate,
            )
        for fault, rate in zip(FAULTS, rates, strict=True):
            if roll < rate:
                return fault
            roll -= rate
        if write and (k.write_fail_rate or k.write_lost_rate):
            with self._lock:
                roll = self._rng.random()
            if roll < k.write_fail_rate:
                return "write_error"
            if roll < k.write_fail_rate + k.write_lost_rate:
                return "write_lost"
        return None

    def delay(self, full_orders: int, light_orders: int) -> float:
        """Seconds a real store would take for this answer."""
        k = self.knobs
        orders = full_orders + light_orders * LIGHT_ORDER_SHARE
        return (k.latency_ms + k.latency_per_order_ms * orders) / 1000

    def hang(self) -> None:
        self.wake.wait(self.knobs.hang_seconds)


class Capacity:
    """Requests in service and waiting for a place, against the knobs' ``workers`` and
    ``queue_limit``: the latency a busy store adds is the wait in line."""

    def __init__(self) -> None:
        self._places = threading.Condition()
        self.serving = 0
        self.waiting = 0

    def enter(self, knobs: Knobs) -> bool:
        """Wait for a place in service; False, at once, where the line is full."""
        with self._places:
            if knobs.workers and self.serving >= knobs.workers:
                if knobs.queue_limit and self.waiting >= knobs.queue_limit:
                    return False
                self.waiting += 1
                try:
                    # Asked again now and then: the knobs may change meanwhile.
                    while knobs.workers and self.serving >= knobs.workers:
                        self._places.wait(0.1)
                finally:
                    self.waiting -= 1
            self.serving += 1
            return True

    def leave(self) -> None:
        with self._places:
            self.serving -= 1
            self._places.notify()


class Stats:
    """What the store served, for tests and benchmarks (``GET /_sandbox/stats``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.counters: Counter[str] = Counter()
            self.routes: Counter[str] = Counter()
            self.statuses: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()
            self.in_flight = 0
            self.max_in_flight = 0
            # In service (past the line of a store with limited workers).
            self.in_service = 0
            self.max_in_service = 0

    def started(self, route: str) -> None:
        with self._lock:
            self.counters["requests"] += 1
            self.routes[route] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def serving(self, change: int) -> None:
        with self._lock:
            self.in_service += change
            self.max_in_service = max(self.max_in_service, self.in_service)

    def finished(self, status: int, fault: str | None, full: int, light: int) -> None:
        with self._lock:
            self.in_flight -= 1
            self.statuses[str(status)] += 1
            if fault:
                self.faults[fault] += 1
            self.counters["orders_full"] += full
            self.counters["orders_light"] += light

    def count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": self.counters["requests"],
                "by_route": dict(self.routes),
                "by_status": dict(self.statuses),
                "faults": {
                    fault: self.faults[fault] for fault in (*FAULTS, *WRITE_FAULTS, OVERLOAD)
                },
                "orders_rendered": {
                    "full": self.counters["orders_full"],
                    "light": self.counters["orders_light"],
                },
                "webhooks": {
                    "delivered": self.counters["webhooks_delivered"],
                    "failed": self.counters["webhooks_failed"],
                },
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "max_in_service": self.max_in_service,
            }
