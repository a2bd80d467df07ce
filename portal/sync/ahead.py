"""Store requests kept ahead of the database work, on a pool of threads.

A real store takes about a second for a page of 100 full orders, and the database far
less: the readers (imports, refunds runs, audits) ask for the next pages, or the next
refunds, while they write what they have, and take the answers in order.
"""

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from portal.woo.client import MAX_PER_PAGE, OrderPage, OrderQuery, WooClient


def at_most(ahead) -> int:
    """``ahead``, a number or a function that says it now (a limit that adapts)."""
    return ahead() if callable(ahead) else ahead


def ordered_results(pool, calls: Iterable[Callable], ahead) -> Iterator:
    """Run the calls on the pool, at most ``ahead`` at a time (a number, or a function that
    says it now), yielding results in order.

    The calls behind a result are submitted before it is yielded, so the pool works on
    them while the caller works on the result. Calls not yet run when the caller stops
    are cancelled.
    """
    calls = iter(calls)
    pending = deque()

    def fill():
        while len(pending) < at_most(ahead) and (call := next(calls, None)) is not None:
            pending.append(pool.submit(call))

    try:
        fill()
        while pending:
            result = pending.popleft().result()
            fill()
            yield result
    finally:
        for future in pending:
            future.cancel()


def pages_ahead(
    pool,
    client: WooClient,
    query: OrderQuery,
    ahead,
    fields=None,
    *,
    per_page: int = MAX_PER_PAGE,
    start: int = 1,
    last: int | None = None,
) -> Iterator[OrderPage]:
    """The listing's pages in order from ``start``, ``ahead`` at a time, up to an empty page,
    which comes last: its total is the store's count now. Without ``last`` (the number of
    pages, where a listing said it) the first page is asked alone, to learn it. Orders
    created meanwhile land on later pages (ids ascend): the pages go as far as the latest
    answer says there are."""
    page = partial(client.order_page, query, per_page=per_page, fields=fields)
    if last is None:
        first = page(start)
        yield first
        if not first.orders and not first.invalid:
            return
        start, last = start + 1, first.total_pages or 1
    pages = {"last": last}

    def calls():
        number = start
        while number <= pages["last"]:
            yield partial(page, number)
            number += 1

    for later in ordered_results(pool, calls(), ahead):
        yield later
        if not later.orders and not later.invalid:
            return  # past the end: orders were deleted meanwhile
        pages["last"] = max(pages["last"], later.total_pages or 0)


def answers_ahead(pool, items: Iterable, ask: Callable, wanted: Callable, ahead) -> Iterator:
    """Each item with ``ask(item)``'s answer (None for one not ``wanted``), in order; the
    questions are asked on the pool, at most ``ahead`` of them unanswered. Items that want
    none wait in line behind those that do, so that the order holds."""
    line: deque = deque()  # (item, future of its answer or None)
    asked = 0
    try:
        for item in items:
            future = pool.submit(ask, item) if wanted(item) else None
            asked += future is not None
            line.append((item, future))
            while line and (line[0][1] is None or asked >= at_most(ahead)):
                item, future = line.popleft()
                asked -= future is not None
                yield item, None if future is None else future.result()
        while line:
            item, future = line.popleft()
            yield item, None if future is None else future.result()
    finally:
        for _, future in line:
            if future is not None:
                future.cancel()


def requests_ahead(client: WooClient, threads: int):
    """How many store requests a reader keeps queued: twice as many as the store is asked
    at once (the client's limit, which may adapt: a function then), else as there are
    threads. Bounds the answers held in memory, whatever the store's size."""
    if client.limit is None:
        return 2 * threads
    return lambda: 2 * client.limit.current
