"""How long the sandbox takes to generate its store: ``python -m sandbox.bench_generate``.

The issue asks for 100,000 orders in under a minute, and for the last page to cost what
the first does; this prints both, in-process, without HTTP.
"""

from __future__ import annotations

import argparse
import time

from . import render
from .store import OrderQuery, Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    store = Store(seed=args.seed, orders=args.orders)
    generated = time.perf_counter() - started
    print(f"generated {args.orders:,} orders in {generated:.1f} s")

    listing = OrderQuery(orderby="id", descending=False)
    store.orders(listing)  # sorted once, then cached as a client pages through
    for label, page in (("first", 0), ("last", (args.orders - 1) // 100)):
        started = time.perf_counter()
        chunk = store.orders(listing)[page * 100 : page * 100 + 100]
        for order in chunk:
            render.order(order, store.catalog, "http://127.0.0.1:8081")
        elapsed = (time.perf_counter() - started) * 1000
        print(f"rendered the {label} page of 100 in {elapsed:.1f} ms")


if __name__ == "__main__":
    main()
