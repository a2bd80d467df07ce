"""How many requests at once a run asks a store: more while its answers come faster and no
slower, fewer on overload or slower answers, remembered for the next run."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import RunKind, Trigger, Webstore
from portal.sync.runs import client_for, create_run, execute_run
from portal.sync.schedule import refund_filters
from portal.sync.store_settings import store_limit
from portal.woo.limit import CEILING_WINDOWS, AdaptiveLimit, FixedLimit
from tests.sync_helpers import run_import, wait_for


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def window(limit: AdaptiveLimit, clock: Clock, *, latency: float = 1.0, kind: object = None):
    """Rounds of as many requests at once as the limit allows, each answered after
    ``latency``, until the limit judges a window."""
    judged = len(limit.history)
    while len(limit.history) == judged:
        sent = [limit.acquire() for _ in range(limit.current)]
        clock.now += latency
        for request in sent:
            limit.release(request, kind=kind)


@pytest.fixture
def clock():
    return Clock()


def test_the_limit_doubles_while_answers_keep_their_time_then_grows_by_one_after_a_decrease(
    clock,
):
    limit = AdaptiveLimit(start=2, highest=16, clock=clock)

    window(limit, clock)  # the first: one more, to see
    window(limit, clock)  # three at once as quick as two: doubled
    window(limit, clock, latency=1.6)  # six queued in the store: down, and below 6 a while
    window(limit, clock)
    window(limit, clock)

    assert limit.history == [
        (3, "probe"),
        (6, "faster"),
        (4, "slower"),
        (4, "holds"),
        (5, "probe"),
    ]


def test_a_big_stores_peak_is_found_in_three_windows(clock):
    limit = AdaptiveLimit(start=2, highest=8, clock=clock)

    for _ in range(3):  # the store answers as quickly however many it is asked at once
        window(limit, clock)

    assert limit.history == [(3, "probe"), (6, "faster"), (8, "faster")]


def test_a_window_of_a_kind_not_met_before_is_a_baseline_not_a_faster_store(clock):
    limit = AdaptiveLimit(start=4, highest=16, clock=clock)

    window(limit, clock, latency=0.2, kind="light")  # listing pages
    # Full pages take five times as long, at five at once: more of the store's work done
    # a second than the light pages were, but nothing says the store is faster.
    window(limit, clock, latency=1.0, kind="full")
    window(limit, clock, latency=1.0, kind="full")  # six as quick as five: it is

    assert limit.history == [(5, "probe"), (6, "probe"), (12, "faster")]


def test_answers_are_weighed_against_the_best_of_their_own_kind(clock):
    limit = AdaptiveLimit(start=4, highest=16, clock=clock)
    window(limit, clock, latency=0.2, kind="light")
    window(limit, clock, latency=1.0, kind="full")

    # Half light, half full, each as quick as its kind's best: the store keeps its pace.
    judged = len(limit.history)
    while len(limit.history) == judged:
        sent = [limit.acquire() for _ in range(limit.current)]
        for n, request in enumerate(sent):
            clock.now += 0.2 if n % 2 else 1.0
            limit.release(request, kind="light" if n % 2 else "full")
            clock.now -= 0.2 if n % 2 else 1.0
        clock.now += 1.0

    assert limit.history[-1] == (12, "faster")


def test_quicker_answers_after_a_decrease_are_no_reason_to_grow_again(clock):
    limit = AdaptiveLimit(start=4, clock=clock)
    window(limit, clock)  # best: 1 s; one more: 5
    window(limit, clock, latency=1.8)  # five queued in the store: 3

    window(limit, clock)  # a faster pace than at five, but fewer were asked: held

    assert limit.history == [(5, "probe"), (3, "slower"), (3, "holds")]


def test_a_run_asking_one_request_at_a_time_does_not_raise_the_limit(clock):
    limit = AdaptiveLimit(start=4, clock=clock)

    for kind in ("orders", "products", "refunds", "orders", "orders", "orders"):
        started = limit.acquire()  # one page after another
        clock.now += 1.0
        limit.release(started, kind=kind)
        started = limit.acquire()
        clock.now += 1.0
        limit.release(started, kind=kind)

    assert {current for current, _ in limit.history} == {4}
    assert {why for _, why in limit.history} == {"unused"}


def test_a_429_503_or_timeout_halves_the_limit_at_once(clock):
    limit = AdaptiveLimit(start=6, clock=clock)

    limit.release(limit.acquire(), overloaded=True)

    assert limit.history == [(3, "overloaded")]
    assert limit.current == 3


def test_after_an_overload_the_limit_stays_below_what_overloaded_the_store_for_a_while(clock):
    limit = AdaptiveLimit(start=4, clock=clock)
    limit.release(limit.acquire(), overloaded=True)  # 4 at once was too many: 2

    for _ in range(CEILING_WINDOWS - 1):
        window(limit, clock)

    assert max(current for current, _ in limit.history) == 3
    window(limit, clock)  # the while is over
    window(limit, clock)
    assert limit.current == 4


def test_answers_half_as_slow_again_as_the_best_mean_the_store_queues_them(clock):
    limit = AdaptiveLimit(start=4, clock=clock)
    window(limit, clock)  # best: 1 s

    window(limit, clock, latency=1.6)
    for _ in range(CEILING_WINDOWS - 1):
        window(limit, clock)

    # Down by 30 %, and for a while no more than 4: 5 at once queued in the store.
    assert limit.history[:2] == [(5, "probe"), (3, "slower")]
    assert max(current for current, _ in limit.history[1:]) == 4


def test_while_doubling_answers_a_fifth_slower_mean_the_peak_is_reached(clock):
    limit = AdaptiveLimit(start=2, highest=16, clock=clock)
    window(limit, clock)  # best: 1 s; one more: 3

    window(limit, clock, latency=1.3)  # queued in the store
    for _ in range(3):
        window(limit, clock)

    # No more doubling, and no more at once for a while: more would be turned away.
    assert limit.history == [
        (3, "probe"),
        (3, "queueing"),
        (3, "holds"),
        (3, "holds"),
        (3, "holds"),
    ]


def test_answers_to_requests_sent_before_a_decrease_are_left_out_of_the_next_window(clock):
    limit = AdaptiveLimit(start=4, clock=clock)
    window(limit, clock)  # best: 1 s; one more: 5
    sent = [limit.acquire() for _ in range(5)]
    clock.now += 0.5
    limit.release(sent[0], overloaded=True)  # 5 was too many: 2

    clock.now += 2.5  # the rest come back late, having waited in the store's line
    for request in sent[1:]:
        limit.release(request)
    window(limit, clock)

    assert limit.history == [(5, "probe"), (2, "overloaded"), (2, "holds")]


def test_answers_to_requests_sent_before_an_increase_are_left_out_of_the_next_window(clock):
    limit = AdaptiveLimit(start=2, highest=16, clock=clock)
    window(limit, clock)  # best: 1 s; one more: 3
    sent = [limit.acquire() for _ in range(3)]
    clock.now += 1.0
    limit.release(sent[0])
    limit.release(sent[1])  # three as quick as two: doubled
    earlier = sent[2]  # still in the store, sent under the limit before

    later = [limit.acquire() for _ in range(5)]
    limit.release(earlier)  # at the head of the store's line: as quick as ever
    clock.now += 1.3  # the rest wait in the line
    for request in later[:3]:
        limit.release(request)

    assert limit.history == [(3, "probe"), (6, "faster"), (6, "queueing")]


def test_it_holds_while_more_at_once_brings_nothing_and_tries_one_more_now_and_then(clock):
    limit = AdaptiveLimit(start=6, clock=clock)
    limit.release(limit.acquire(), overloaded=True)  # 3, and below 6 for a while

    for _ in range(4):  # the store serves three at a time: more wait in its line
        window(limit, clock, latency=1.2 * max(1, limit.current / 3))

    assert limit.history == [
        (3, "overloaded"),
        (3, "holds"),
        (4, "probe"),
        (4, "holds"),
        (5, "probe"),
    ]


def test_the_limit_stays_within_its_bounds(clock):
    limit = AdaptiveLimit(start=20, lowest=1, highest=3, clock=clock)
    assert limit.current == 3
    window(limit, clock)
    assert limit.current == 3
    for _ in range(3):
        limit.release(limit.acquire(), overloaded=True)
        window(limit, clock)
    assert limit.current == 1


def test_a_request_beyond_the_limit_waits_for_one_to_end():
    limit = FixedLimit(2)
    first, second = limit.acquire(), limit.acquire()
    third = threading.Thread(target=limit.acquire)
    third.start()

    wait_for(lambda: not third.is_alive() or limit.in_flight == 2)
    assert third.is_alive() and limit.in_flight == 2
    limit.release(first)
    third.join(timeout=5)
    assert not third.is_alive() and limit.in_flight == 2
    limit.release(second)


# Runs


def store_concurrency(webstore) -> int | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Webstore.store_concurrency).where(Webstore.id == webstore.id)
    )


def test_a_client_under_the_limit_finds_a_store_of_one_worker_and_stops_overloading_it(
    demo_webstore, store
):
    # One request in service at a time, one in line, a 503 past it: a small shared host.
    store.set_faults(latency_ms=30, workers=1, queue_limit=1, retry_after=1)
    store.reset_stats()
    limit = AdaptiveLimit(start=4)

    with client_for(demo_webstore) as client, ThreadPoolExecutor(8) as pool:
        client.limit = limit
        orders = list(pool.map(client.get_order, [23 + n % 30 for n in range(60)]))

    assert len(orders) == 60
    # Four at once met 503s; halved to two, the most a store of one worker and a line of
    # one takes. Three again (a probe) overloads it once more, back to one.
    assert any(why == "overloaded" for _, why in limit.history)
    assert limit.current <= 2 or limit.history[-1][1] == "probe"
    assert store.stats()["max_in_service"] == 1


def test_a_run_starts_from_what_the_last_run_learnt_else_from_the_setting(app, demo_webstore):
    app.config["IMPORT_CONCURRENCY_MAX"] = 8
    assert store_limit(demo_webstore).current == app.config["IMPORT_CONCURRENCY"]
    demo_webstore.store_concurrency = 5
    assert store_limit(demo_webstore).current == 5
    app.config["IMPORT_CONCURRENCY_ADAPTIVE"] = False
    assert isinstance(store_limit(demo_webstore), FixedLimit)
    assert store_limit(demo_webstore).current == app.config["IMPORT_CONCURRENCY"]


def test_a_run_that_learnt_the_stores_capacity_keeps_it_for_the_next(demo_webstore, store):
    orders = [store.create_order(status="processing")["id"] for _ in range(12)]
    for order_id in orders:
        store.modify_order(order_id, refund={"amount": "1.00", "reason": ""})
    run_import(demo_webstore)  # the orders imported, their refunds to credit
    demo_webstore.refunds_start_date = date.today() - timedelta(days=1)
    db.session.commit()
    store.set_faults(latency_ms=30, workers=1, queue_limit=1, retry_after=1)

    run = create_run(
        demo_webstore, refund_filters(demo_webstore), Trigger.MANUAL, kind=RunKind.REFUNDS
    )
    run = execute_run(run.id)

    assert run.imported == 12
    assert store_concurrency(demo_webstore) in (1, 2, 3)


def test_requests_sent_before_a_decrease_that_meet_an_overload_decrease_it_no_further(clock):
    limit = AdaptiveLimit(start=8, clock=clock)
    sent = [limit.acquire() for _ in range(4)]  # together, at 8 at once
    clock.now += 0.1

    for started in sent:
        limit.release(started, overloaded=True)

    assert limit.history == [(4, "overloaded")]
