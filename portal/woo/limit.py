"""How many requests a store is asked at once, found while a run works.

A store on a small shared host peaks at one request at a time and answers 429 or 503
beyond it; one on a bigger host at six or eight. The limit starts from a safe value (what
the last run learnt) and moves window by window. A window is the answers to requests sent
since the limit last changed: twice the limit's (at least four), or half of it (at least
two) while it doubles. Answers sent before a change were sent under the limit it
corrects: counted, a probe's window would hold the quick answers of the requests before
it, and a decrease's the slow ones of those still in the store's line.

The store's pace is Little's law read the other way: requests at once over the time each
took. Each answer's time is weighed against the best window's of its ``kind`` (a listing
page of 100 light orders takes a fifth of a full one's time, a page of 20 orders a fifth
of a page of 100), so that a window of light pages is not "faster" than one of full ones.
A window of kinds none met before has nothing to compare with: it is a baseline.

- the first window, and a baseline while doubling, tries one more at once;
- up by one where the window asked more at once than the one before and the store's pace
  grew (additive increase); doubled instead until the first decrease, so that a run finds
  a big store's peak early (as TCP's slow start), until answers take a fifth longer than
  the best (the store begins to queue them);
- halved on a 429, a 503 or a timeout, and down by 30 % when answers take half as long
  again as the best window's: the store is queueing them (multiplicative decrease);
- never up where the window did not use the limit (requests in flight, on average, at
  least all but one of it): a run reading one page after another learns nothing of more;
- else it holds: more at once would only wait in the store's line. After two windows that
  held it tries one more, as the store's load changes; but for a long while after an
  overload or a decrease, no more than it had before (a store at its peak turns away, or
  queues, the request more).

Requests sent before a decrease decrease it no further when they meet an overload.

Between ``lowest`` and ``highest`` always. The rules are in ``_judge``; the clock is given,
so that tests can drive it.
"""

import threading
import time
from collections.abc import Callable
from typing import NamedTuple

# A window's answers at least: fewer say little on a noisy machine. While the limit
# doubles, windows are short, so that a big store's peak is found early in a run.
MIN_WINDOW = 4
MIN_SLOW_START_WINDOW = 2
# Answers this much slower than the best window's mean the store queues them.
SLOWER = 1.5
# While the limit doubles, answers this much slower mean the store has begun to queue.
QUEUEING = 1.2
# A pace this much faster than the window before's is growth.
GROWTH = 1.05
DECREASE_ON_OVERLOAD = 0.5
DECREASE_ON_LATENCY = 0.7
# Windows that held before one more at once is tried.
HOLDS_BEFORE_PROBE = 2
# Windows after a decrease during which the limit stays below what the store could not take.
CEILING_WINDOWS = 50


class Sent(NamedTuple):
    """A request under the limit: when it was sent, and the limit's busy time then."""

    at: float
    busy: float


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
        # Requests in flight times the time they were: a request's share of it over its
        # time is how many were in flight with it, on average.
        self._busy = 0.0
        self._busy_at = clock()
        self._cond = threading.Condition()
        # The window's answers: (kind, latency, requests in flight with it on average).
        self._answers: list[tuple[object, float, float]] = []
        self._overloaded = False
        # Per kind of request: the lowest of its windows' mean latencies.
        self._best: dict[object, float] = {}
        # The window before: its pace and how many it asked at once.
        self._last_pace: float | None = None
        self._last_asked: int | None = None
        self._holds = 0
        self._slow_start = True
        self._decreased_at = float("-inf")
        # Answers of requests sent before the last change are not counted.
        self._changed_at = float("-inf")
        # The limit before the last increase: where an overload sends the ceiling.
        self._before_increase = self.current
        # Below this for the windows left (after a decrease): (ceiling, windows left).
        self._ceiling: tuple[int, int] | None = None
        # What each window decided: (limit after it, why), for the run's log and the tests.
        self.history: list[tuple[int, str]] = []

    @property
    def current(self) -> int:
        return int(self.limit)

    def acquire(self) -> Sent:
        """Wait for a place under the limit; the request's ticket, for ``release``."""
        with self._cond:
            while self.in_flight >= self.current:
                self._cond.wait()
            now = self.clock()
            self._count_busy(now)
            self.in_flight += 1
            return Sent(now, self._busy)

    def release(self, sent: Sent, overloaded: bool = False, kind: object = None) -> None:
        """A request ended: answered (its latency counts, against earlier answers of its
        ``kind``), or turned away or timed out (``overloaded``)."""
        with self._cond:
            now = self.clock()
            self._count_busy(now)
            latency = now - sent.at
            at_once = (self._busy - sent.busy) / latency if latency > 0 else self.in_flight
            self.in_flight -= 1
            if overloaded:
                if sent.at > self._decreased_at:
                    # At once: the requests queued behind this one would meet the same.
                    self._overloaded = True
                    self._judge()
            elif sent.at >= self._changed_at:
                self._answers.append((kind, latency, at_once))
                if len(self._answers) >= self._window_size():
                    self._judge()
            self._cond.notify_all()

    def _count_busy(self, now: float) -> None:
        self._busy += self.in_flight * (now - self._busy_at)
        self._busy_at = now

    def _judge(self) -> None:
        by_kind: dict[object, list[float]] = {}
        for kind, latency, _ in self._answers:
            by_kind.setdefault(kind, []).append(latency)
        means = {kind: sum(ls) / len(ls) for kind, ls in by_kind.items()}
        slower = self._slowness(by_kind, means)
        baseline = slower is None  # no kind of the window met before
        for kind, mean in means.items():
            self._best[kind] = min(self._best.get(kind, mean), mean)
        pace = self._pace(by_kind, means)
        asked, last_pace = self.current, self._last_pace
        # A run that asks fewer at once than it may (one page after another) says
        # nothing of more: it keeps what it has, for the next run to start from.
        used = bool(self._answers) and self._in_flight() >= asked - 1
        # More at once than the window before: only then can a faster pace be its doing.
        asked_more = last_pace is not None and asked > (self._last_asked or asked)
        ceiling = self.highest
        if self._ceiling is not None:
            ceiling, left = self._ceiling
            self._ceiling = (ceiling, left - 1) if left > 1 else None
        if self._overloaded:
            below = min(self._before_increase, self.current - 1)
            self._ceiling = (max(self.lowest, below), CEILING_WINDOWS)
            self._set(self.limit * DECREASE_ON_OVERLOAD, "overloaded")
        elif slower is not None and slower > SLOWER:
            self._ceiling = (max(self.lowest, self.current - 1), CEILING_WINDOWS)
            self._set(self.limit * DECREASE_ON_LATENCY, "slower")
        elif self._slow_start and slower is not None and slower > QUEUEING:
            # Answers begin to wait in the store's line: its peak is here. No more doubling,
            # and for a while no more at once than this (more would be turned away).
            self._slow_start = False
            self._ceiling = (self.current, CEILING_WINDOWS)
            self._holds += 1
            self.history.append((self.current, "queueing"))
        elif not used:
            self.history.append((self.current, "unused"))
        elif asked_more and not baseline and pace > GROWTH * last_pace and asked < ceiling:
            self._set(min(self._grown(), ceiling), "faster")
        elif (baseline and self._slow_start or self._holds + 1 >= HOLDS_BEFORE_PROBE) and (
            self.current < ceiling
        ):
            self._set(self.limit + 1, "probe")
        else:
            self._holds += 1
            self.history.append((self.current, "holds"))
        self._last_pace = pace if pace is not None else self._last_pace
        self._last_asked = asked
        self._answers = []
        self._overloaded = False

    def _pace(self, by_kind: dict, means: dict) -> float | None:
        """Requests at once over how much slower than the best their answers came: the
        store's work done a second, by Little's law. None for a window of no answers."""
        if not self._answers:
            return None
        return self._in_flight() / self._slowness(by_kind, means)

    def _in_flight(self) -> float:
        """The requests in flight with the window's answers, on average."""
        return sum(n for _, _, n in self._answers) / len(self._answers)

    def _slowness(self, by_kind: dict, means: dict) -> float | None:
        """How much slower the window's answers came than the best of their kind, weighed
        by answers; None where no kind of the window was met before."""
        known = [(len(by_kind[k]), means[k] / self._best[k]) for k in means if k in self._best]
        if not known:
            return None
        return sum(n * ratio for n, ratio in known) / sum(n for n, _ in known)

    def _window_size(self) -> int:
        if self._slow_start:
            return max(MIN_SLOW_START_WINDOW, self.current // 2)
        return max(MIN_WINDOW, 2 * self.current)

    def _grown(self) -> float:
        return self.limit * 2 if self._slow_start else self.limit + 1

    def _set(self, limit: float, why: str) -> None:
        if limit < self.limit:
            self._slow_start = False
            self._decreased_at = self.clock()
        elif limit > self.limit:
            self._before_increase = self.current
        self._changed_at = self.clock()
        self._holds = 0
        self.limit = float(min(max(int(limit), self.lowest), self.highest))
        self.history.append((self.current, why))


class FixedLimit(AdaptiveLimit):
    """As many at once as given, always: the bench's fixed concurrencies."""

    def __init__(self, limit: int):
        super().__init__(start=limit, lowest=limit, highest=limit)

    def _judge(self) -> None:
        self._answers = []
        self._overloaded = False
