"""How many requests a store is asked at once, found while a run works.

A store on a small shared host peaks at one request at a time and answers 429 or 503
beyond it; one on a bigger host at six or eight. The limit starts from a safe value (what
the last run learnt) and moves window by window, a window being twice the limit's
requests answered (at least four). Answers are compared with earlier ones of their kind
(``kind``: a listing page of 100 light orders takes a fifth of a full one's time, a page
of 20 orders a fifth of a page of 100):

- the first window is the baseline;
- up by one while the store answers more per second than in the window before and its
  answers take no longer than the best window's by half (additive increase); doubled
  instead until the first decrease, so that a run finds a big store's peak early (as
  TCP's slow start), with windows of the limit's answers rather than twice, until
  answers take a fifth longer than the best (the store begins to queue them); the first
  window, having none before it to compare with, tries one more at once;
- halved on a 429, a 503 or a timeout, and down by 30 % when answers take half as long
  again as the best window's: the store is queueing them (multiplicative decrease);
- else it holds: more at once would only wait in the store's line. After two windows that
  held it tries one more, as the store's load changes; but for a long while after an
  overload, no more than it had before the increase that overloaded the store (a store at
  its peak turns the second one away).

Requests sent before a decrease decrease it no further when they meet an overload, and
their answers are left out of the next window: they were sent under the limit it
corrects, and, still queued in the store, would make the window after a decrease look
slow and decrease it again.

Between ``lowest`` and ``highest`` always. The rules are in ``_judge``; the clock is given,
so that tests can drive it.
"""

import threading
import time
from collections.abc import Callable

# A window's answers at least: fewer say little on a noisy machine. While the limit
# doubles, windows are short, so that a big store's peak is found early in a run.
MIN_WINDOW = 4
MIN_SLOW_START_WINDOW = 2
# Answers this much slower than the best window's mean the store queues them.
SLOWER = 1.5
# While the limit doubles, answers this much slower mean the store has begun to queue.
QUEUEING = 1.2
# A window this much faster in answers per second than the one before is growth.
GROWTH = 1.05
DECREASE_ON_OVERLOAD = 0.5
DECREASE_ON_LATENCY = 0.7
# Windows that held before one more at once is tried.
HOLDS_BEFORE_PROBE = 2
# Windows after an overload during which the limit stays below what overloaded the store.
CEILING_WINDOWS = 50


class AdaptiveLimit:
    def __init__(
        self,
        start: int = 2,
        lowest: int = 1,
        highest: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.lowest, self.highest = lowest, max(lowest, highest)
        self.limit = float(min(max(start, self.lowest), self.highest))
        self.clock = clock
        self.in_flight = 0
        self._cond = threading.Condition()
        # From the first request on: the run's setup before it is no time of the store's.
        self._window_start: float | None = None
        self._answers: list[tuple[object, float]] = []  # the window's (kind, latency)
        self._overloaded = False
        # Per kind of request: the lowest of its windows' mean latencies, and the first.
        self._best: dict[object, float] = {}
        self._cost: dict[object, float] = {}
        self._last_rate: float | None = None
        self._holds = 0
        self._slow_start = True
        self._decreased_at = float("-inf")
        # Answers still to come of requests sent before the last decrease: not counted.
        self._sent_before_decrease = 0
        # The limit before the last increase: where an overload sends the ceiling.
        self._before_increase = self.current
        # Below this for the windows left (after an overload): (ceiling, windows left).
        self._ceiling: tuple[int, int] | None = None
        # What each window decided: (limit after it, why), for the run's log and the tests.
        self.history: list[tuple[int, str]] = []

    @property
    def current(self) -> int:
        return int(self.limit)

    def acquire(self) -> float:
        """Wait for a place under the limit; the time the request starts."""
        with self._cond:
            while self.in_flight >= self.current:
                self._cond.wait()
            self.in_flight += 1
            started = self.clock()
            if self._window_start is None:
                self._window_start = started
        return started

    def release(self, started: float, overloaded: bool = False, kind: object = None) -> None:
        """A request ended: answered (its latency counts, against earlier answers of its
        ``kind``), or turned away or timed out (``overloaded``)."""
        now = self.clock()
        with self._cond:
            self.in_flight -= 1
            if overloaded:
                if started > self._decreased_at:
                    # At once: the requests queued behind this one would meet the same.
                    self._overloaded = True
                    self._judge(now)
            elif self._sent_before_decrease:
                self._sent_before_decrease -= 1
            else:
                self._answers.append((kind, now - started))
                if len(self._answers) >= self._window_size():
                    self._judge(now)
            self._cond.notify_all()

    def _judge(self, now: float) -> None:
        by_kind: dict[object, list[float]] = {}
        for kind, latency in self._answers:
            by_kind.setdefault(kind, []).append(latency)
        means = {kind: sum(ls) / len(ls) for kind, ls in by_kind.items()}
        slower = self._slowness(by_kind, means)
        for kind, mean in means.items():
            self._cost.setdefault(kind, mean)
        # The store's work done a second: each answer weighs what its kind first took, so
        # that a window of light listing pages is not "faster" than one of full pages.
        work = sum(self._cost[kind] for kind, _ in self._answers)
        rate = work / max(now - self._window_start, 1e-6) if self._answers else None
        last_rate = self._last_rate
        first = self._slow_start and last_rate is None  # nothing to compare with: one more
        ceiling = self.highest
        if self._ceiling is not None:
            ceiling, left = self._ceiling
            self._ceiling = (ceiling, left - 1) if left > 1 else None
        if self._overloaded:
            below = min(self._before_increase, self.current - 1)
            self._ceiling = (max(self.lowest, below), CEILING_WINDOWS)
            self._set(self.limit * DECREASE_ON_OVERLOAD, "overloaded")
        elif slower is not None and slower > SLOWER:
            self._set(self.limit * DECREASE_ON_LATENCY, "slower")
        elif self._slow_start and slower is not None and slower > QUEUEING:
            # Answers begin to wait in the store's line: its peak is here. No more doubling,
            # and for a while no more at once than this (more would be turned away).
            self._slow_start = False
            self._ceiling = (self.current, CEILING_WINDOWS)
            self._holds += 1
            self.history.append((self.current, "queueing"))
        elif last_rate and rate > GROWTH * last_rate and self.current < ceiling:
            self._set(min(self._grown(), ceiling), "faster")
        elif (first or self._holds + 1 >= HOLDS_BEFORE_PROBE) and self.current < ceiling:
            self._set(self.limit + 1, "probe")
        else:
            self._holds += 1
            self.history.append((self.current, "holds"))
        for kind, mean in means.items():
            self._best[kind] = min(self._best.get(kind, mean), mean)
        self._last_rate = rate if rate is not None else self._last_rate
        self._window_start = now
        self._answers = []
        self._overloaded = False

    def _slowness(self, by_kind: dict, means: dict) -> float | None:
        """How much slower the window's answers came than the best of their kind, weighed
        by answers; None where no kind of the window was met before."""
        known = [(len(by_kind[k]), means[k] / self._best[k]) for k in means if k in self._best]
        if not known:
            return None
        return sum(n * ratio for n, ratio in known) / sum(n for n, _ in known)

    def _window_size(self) -> int:
        if self._slow_start:
            return max(MIN_SLOW_START_WINDOW, self.current)
        return max(MIN_WINDOW, 2 * self.current)

    def _grown(self) -> float:
        return self.limit * 2 if self._slow_start else self.limit + 1

    def _set(self, limit: float, why: str) -> None:
        if limit < self.limit:
            self._slow_start = False
            self._decreased_at = self.clock()
            self._sent_before_decrease = self.in_flight
        elif limit > self.limit:
            self._before_increase = self.current
        self._holds = 0
        self.limit = float(min(max(int(limit), self.lowest), self.highest))
        self.history.append((self.current, why))


class FixedLimit(AdaptiveLimit):
    """As many at once as given, always: the bench's fixed concurrencies."""

    def __init__(self, limit: int):
        super().__init__(start=limit, lowest=limit, highest=limit)

    def _judge(self, now: float) -> None:
        self._answers = []
        self._overloaded = False
