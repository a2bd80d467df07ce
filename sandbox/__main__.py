"""``python -m sandbox``: serve a generated WooCommerce store, or an export of one, on loopback."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from . import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    DEMO_READ_ONLY_KEY,
    DEMO_READ_ONLY_SECRET,
    create_app,
)
from .currency import CURRENCIES, DECIMALS, Money
from .faults import Faults, Knobs
from .generate import Options
from .store import STORAGES, Store
from .taxes import LISTED_ONLY, TABLES
from .tls import make_certificate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="A stand-in WooCommerce store (REST API v3)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=500, help="orders generated at start")
    parser.add_argument(
        "--stores",
        type=int,
        default=1,
        help="serve this many stores, each under /stores/<n> with seed --seed + n - 1 and "
        "--orders orders (default 1, at /)",
    )
    parser.add_argument("--until", type=_utc, help="the seed orders end here (default: today)")
    parser.add_argument(
        "--orders-file",
        type=Path,
        help="serve the orders of this JSON array (an export of GET /orders) instead",
    )
    shop = parser.add_argument_group("the store's settings")
    shop.add_argument(
        "--timezone",
        type=_zone,
        help="IANA name, e.g. Europe/Berlin (default: UTC; with --orders-file, the orders' own)",
    )
    shop.add_argument(
        "--storage",
        choices=STORAGES,
        default="hpos",
        help="where orders are kept: hpos (WooCommerce's order tables, the default) or posts "
        "(legacy: listings sort and filter by the posts table's local times)",
    )
    shop.add_argument(
        "--round-tax-at-subtotal",
        action="store_true",
        help="round tax per rate over the whole order, not per line (WooCommerce: off)",
    )
    shop.add_argument(
        "--prices-include-tax",
        action="store_true",
        help="prices are entered with tax (WooCommerce: off), as the settings API says and "
        "orders made through the REST API take; generated orders mix both either way",
    )
    shop.add_argument(
        "--tax-rates",
        choices=sorted(TABLES),
        default="real",
        help="real: US 10 %%, DE 19 %%, GB 20 %%, NL 21 %%; captured: US 8.5 %% only "
        "(orders 23-52 keep 8.5 %% either way); kit: real, and listed besides, the kit "
        "store's CA GST 5 %% with a compound PST 7 %% and DE reduced 7 %%",
    )
    shop.add_argument(
        "--currency",
        type=str.upper,
        choices=sorted(CURRENCIES),
        default="USD",
        metavar="CODE",
        help=f"the store's currency ({', '.join(sorted(CURRENCIES))}; default USD): its "
        "orders', its settings' and its prices', which are priced in it",
    )
    shop.add_argument(
        "--decimals",
        type=int,
        choices=DECIMALS,
        help="the store's number of decimals (woocommerce_price_num_decimals): every amount "
        "is rounded to its unit (default: the currency's own, 0 for JPY, 3 for KWD, else 2)",
    )
    shop.add_argument("--thousand-separator", default=",", help="of prices shown (default ,)")
    shop.add_argument("--decimal-separator", default=".", help="of prices shown (default .)")
    shop.add_argument(
        "--real-shapes",
        action="store_true",
        help="orders as a real store has them: lines without a product, guests without "
        "email, euro orders",
    )
    parser.add_argument("--consumer-key", default=DEMO_CONSUMER_KEY)
    parser.add_argument("--consumer-secret", default=DEMO_CONSUMER_SECRET)
    parser.add_argument(
        "--read-only-key",
        default=DEMO_READ_ONLY_KEY,
        help="a second key, with Read permission only: every write is refused (401)",
    )
    parser.add_argument("--read-only-secret", default=DEMO_READ_ONLY_SECRET)
    parser.add_argument("--https", action="store_true", help="serve TLS, self-signed")
    parser.add_argument("--cert-file", type=Path, help="where to write the certificate (PEM)")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument(
        "--webhook-allow-loopback",
        action="store_true",
        help="deliver webhooks made through the API to loopback and private addresses on "
        "any port (a real store refuses all but ports 80, 443 and 8080 of public addresses)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    knobs = parser.add_argument_group("speed and faults (also: POST /_sandbox/faults)")
    knobs.add_argument("--latency-ms", type=float, default=0)
    knobs.add_argument("--latency-per-order-ms", type=float, default=0)
    knobs.add_argument("--fail-rate", type=float, default=0)
    knobs.add_argument("--rate-limit-rate", type=float, default=0)
    knobs.add_argument("--timeout-rate", type=float, default=0)
    knobs.add_argument("--truncate-rate", type=float, default=0)
    knobs.add_argument("--html-error-rate", type=float, default=0)
    knobs.add_argument(
        "--write-fail-rate", type=float, default=0, help="writes fail (500) before any change"
    )
    knobs.add_argument(
        "--write-lost-rate",
        type=float,
        default=0,
        help="writes are made, then answered with a 500 as if they had failed",
    )
    knobs.add_argument("--hang-seconds", type=float, default=8)
    knobs.add_argument("--retry-after", type=int, default=1)
    knobs.add_argument(
        "--workers",
        type=int,
        default=0,
        help="requests in service at once, the rest wait in line (0: as many as come)",
    )
    knobs.add_argument(
        "--queue-limit",
        type=int,
        default=0,
        help="requests waiting, past which one is answered --overload-status (0: no limit)",
    )
    knobs.add_argument("--overload-status", type=int, choices=(429, 503), default=503)
    args = parser.parse_args(argv)
    if args.stores < 1:
        parser.error("--stores must be at least 1")
    return args


def _utc(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown timezone {name!r}") from None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sites = {n: build_site(args, args.seed + n - 1) for n in range(1, args.stores + 1)}
    store, _, app = sites[1]
    prefix = ""
    if args.stores > 1:
        # Many stores in one process, each under a path of its own as a WordPress site in
        # a folder is: /stores/1/wp-json/wc/v3, /stores/2/wp-json/wc/v3, ...
        prefix = "/stores/1"
        app = DispatcherMiddleware(
            NotFound(), {f"/stores/{number}": site[2] for number, site in sites.items()}
        )
    with tempfile.TemporaryDirectory(prefix="sandbox-") as scratch:
        ssl_context = None
        if args.https:
            cert = args.cert_file or Path(scratch, "cert.pem")
            key = Path(scratch, "key.pem")
            make_certificate(cert, key)
            ssl_context = (str(cert), str(key))
        server = make_server(args.host, args.port, app, threaded=True, ssl_context=ssl_context)
        scheme = "https" if args.https else "http"
        more = f"; {args.stores - 1} more under /stores/<n>" if args.stores > 1 else ""
        print(
            f"Sandbox store on {scheme}://{args.host}:{server.port}{prefix}/wp-json/wc/v3 "
            f"({_holding(args, store)}, key {args.consumer_key}{more})",
            flush=True,
        )
        print(f"Read-only key {args.read_only_key}, secret {args.read_only_secret}", flush=True)
        if args.https:
            print(f"Self-signed certificate: {ssl_context[0]}", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            for _, faults, _ in sites.values():
                faults.wake.set()
            server.server_close()


def build_site(args: argparse.Namespace, seed: int) -> tuple[Store, Faults, Flask]:
    """A store of the arguments' settings, generated from ``seed``, and its application."""
    knobs = Knobs(**{name: getattr(args, name) for name in Knobs.__dataclass_fields__})
    store = Store(
        seed=seed,
        orders=args.orders,
        until=args.until,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        options=Options(
            TABLES[args.tax_rates],
            args.round_tax_at_subtotal,
            args.real_shapes,
            prices_include_tax=args.prices_include_tax,
            listed_only_tax_rates=LISTED_ONLY.get(args.tax_rates, ()),
            money=Money.of(
                args.currency,
                args.decimals,
                thousand_separator=args.thousand_separator,
                decimal_separator=args.decimal_separator,
            ),
        ),
        zone=args.timezone,
        orders_file=args.orders_file,
        storage=args.storage,
    )
    faults = Faults(knobs, seed=seed)
    app = create_app(
        store,
        faults,
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        read_only_key=args.read_only_key,
        read_only_secret=args.read_only_secret,
        webhook_allow_loopback=args.webhook_allow_loopback,
    )
    return store, faults, app


def _holding(args: argparse.Namespace, store: Store) -> str:
    zone = getattr(store.zone, "key", None) or str(store.zone)
    if args.orders_file:
        return f"{store.order_count} orders from {args.orders_file}, timezone {zone}"
    legacy = ", orders in the posts table" if store.storage == "posts" else ""
    money = store.money
    held = "" if money.is_default else f", {money.currency} with {money.decimals} decimals"
    return f"seed {args.seed}, {args.orders} orders, timezone {zone}{legacy}{held}"


if __name__ == "__main__":
    main()
