"""A client of the WooCommerce REST API: authentication, paging, retries and typed errors."""

from __future__ import annotations

import codecs
import ipaddress
import logging
import random
import re
import socket
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning, NameResolutionError

from .auth import store_auth
from .errors import (
    OrderDataError,
    WooAddressRefused,
    WooAuthError,
    WooBadRequest,
    WooConnectionError,
    WooError,
    WooInvalidResponse,
    WooNotFound,
    WooRateLimited,
    WooReadOnlyKey,
    WooServerError,
    WooTimeout,
    WooTLSError,
    error_for_answer,
)
from .limit import AdaptiveLimit
from .orders import (
    WooOrder,
    WooOrderRef,
    WooRefundDetail,
    parse_order,
    parse_order_ref,
    parse_refund,
    parse_restocked,
    with_restocked,
)
from .store_lists import (
    PaymentGateway,
    ShippingMethodOption,
    ShippingZone,
    TaxRateOption,
    parse_method_types,
    parse_payment_gateways,
    parse_shipping_zones,
    parse_tax_rates,
    parse_zone_methods,
)

log = logging.getLogger(__name__)

USER_AGENT = f"webstore-connector/0.1 python-requests/{requests.__version__}"
#: What a light listing always asks for: enough to tell new and changed orders apart.
REF_FIELDS = ("id", "date_modified_gmt", "status", "date_created")
MAX_PER_PAGE = 100
_TRANSIENT = (WooRateLimited, WooServerError, WooTimeout, WooConnectionError)
# WooCommerce's name of shipping zone 0, which every store has.
REST_OF_WORLD_ZONE = "Locations not covered by your other zones"
# How the store says it has no such order: PUT answers 400 with the first, the notes 404
# with either (captures order_update_unknown_id_400, order_note*_unknown_order_404).
_NO_ORDER_CODES = ("woocommerce_rest_shop_order_invalid_id", "woocommerce_rest_order_invalid_id")


@dataclass(frozen=True)
class OrderQuery:
    """Which orders to list; an empty filter means any. Dates must be timezone-aware."""

    status: tuple[str, ...] = ()
    #: Created on or after this day of the store's calendar (its site timezone).
    created_from: date | None = None
    #: Created strictly after this moment.
    after: datetime | None = None
    #: Modified strictly after, and strictly before, these moments.
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    include: tuple[int, ...] = ()
    #: "id" or "modified"; by default by modified time where that is filtered, else by id.
    orderby: str | None = None

    def __post_init__(self) -> None:
        for name in ("after", "modified_after", "modified_before"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, not {moment!r}")


@dataclass(frozen=True)
class OrderPage:
    """One page of a listing. Malformed orders are set aside in ``invalid`` so that one bad
    order fails alone; iterating the page gives the good ones."""

    orders: list[WooOrder] | list[WooOrderRef]
    page: int
    #: X-WP-Total and X-WP-TotalPages as of this page, None if a proxy dropped them.
    total: int | None
    total_pages: int | None
    invalid: list[OrderDataError] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.orders)

    def __len__(self) -> int:
        return len(self.orders)


class OrderStream:
    """Orders one page at a time. ``total`` is known once the first page arrived; malformed
    orders collect in ``invalid`` instead of ending the stream."""

    def __init__(self, pages: Iterator[OrderPage]):
        self.total: int | None = None
        self.invalid: list[OrderDataError] = []
        self._orders = self._flatten(pages)

    def __iter__(self) -> OrderStream:
        return self

    def __next__(self) -> Any:
        return next(self._orders)

    def _flatten(self, pages: Iterator[OrderPage]) -> Iterator[Any]:
        empty = True
        for page in pages:
            empty = False
            self.total = page.total
            self.invalid.extend(page.invalid)
            yield from page.orders
        if empty:
            self.total = 0


@dataclass(frozen=True)
class StoreMoney:
    """How the store keeps and writes amounts, as its system status says."""

    currency: str | None
    #: WooCommerce's "Number of decimals" (``woocommerce_price_num_decimals``): every
    #: amount of its REST answers has this many.
    decimals: int | None
    thousand_separator: str | None
    decimal_separator: str | None


@dataclass(frozen=True)
class StoreSettings:
    """What a run needs to know of the store before it reads orders."""

    #: "hpos" or "posts" (see :func:`order_storage_of`); None where not said.
    order_storage: str | None
    money: StoreMoney


@dataclass(frozen=True)
class StoreStatus:
    """Who the store is, for "Test connection"."""

    wc_version: str
    wp_version: str
    site_url: str
    currency: str | None
    #: The site's timezone ("America/New_York", or "UTC+2" where only an offset is set);
    #: None where the site hides its REST index.
    timezone: str | None
    #: The tax settings, as the store reports them; each None where the store would not
    #: say (``tax_settings_missing`` then says why). "Enable taxes":
    taxes_enabled: bool | None = None
    #: "Prices entered with tax".
    prices_include_tax: bool | None = None
    #: "Round tax at subtotal level, instead of rounding per line".
    tax_round_at_subtotal: bool | None = None
    #: "Calculate tax based on": "shipping", "billing" or "base" (the shop's address).
    tax_based_on: str | None = None
    #: Why some tax settings are None, in plain words ("not readable with this key ...").
    tax_settings_missing: str | None = None
    #: Whether the key may change orders (write-back needs it); None where the store would
    #: not tell (see :meth:`WooClient.can_write`).
    can_write: bool | None = None
    #: How the store keeps orders: "hpos" or "posts" (see :func:`order_storage_of`).
    order_storage: str | None = None
    #: Its currency's decimals and separators (None: the store did not say).
    money: StoreMoney | None = None


@dataclass(frozen=True)
class Webhook:
    """A webhook as the store shows it; its secret is never shown."""

    id: int
    name: str
    topic: str
    #: "active", "paused", or "disabled" (by hand, or by the store after failed deliveries).
    status: str
    delivery_url: str


@dataclass(frozen=True)
class StatusTotal:
    slug: str
    name: str
    total: int


class WooClient:
    """Talks to one WooCommerce store over its REST API.

    Over ``https`` it authenticates with HTTP Basic (or with the keys in the query string when
    ``query_string_auth``); over ``http`` with one-legged OAuth 1.0a, as WooCommerce demands.
    Reads that meet rate limits, server errors, timeouts and dropped connections are retried
    up to ``max_retries`` times with exponential backoff and full jitter, honouring Retry-After
    up to ``backoff_max`` seconds; other errors are raised at once. Writes are sent once.
    ``verify_tls`` may be the path of a CA bundle. ``webstore``, the webstore's code in the
    portal, is named in advice. A few threads may share one client: its pool keeps 8
    connections alive.
    """

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        version: str = "wc/v3",
        timeout: float = 30,
        verify_tls: bool | str = True,
        *,
        query_string_auth: bool = False,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        user_agent: str = USER_AGENT,
        webstore: str | None = None,
    ):
        scheme = urlsplit(base_url).scheme
        if scheme not in ("http", "https") or not urlsplit(base_url).netloc:
            raise ValueError(f"a store address starts with https:// or http://: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/wp-json/{version.strip('/')}"
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.webstore = webstore
        self.session = requests.Session()
        # One store, asked by a few importer threads: keep that many connections alive.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=8)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
        self.session.auth = store_auth(
            scheme, consumer_key, consumer_secret, query_string=query_string_auth
        )
        # Given per request: requests lets REQUESTS_CA_BUNDLE override ``session.verify``
        # (psf/requests#3829), and the store's own CA certificate must win.
        self.verify_tls = verify_tls
        if verify_tls is False:
            quiet_insecure_warnings(self.base_url)
        # How many reads at once, where a run sets it (portal.woo.limit): else unbounded.
        self.limit: AdaptiveLimit | None = None

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> WooClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Orders

    def iter_order_pages(
        self,
        query: OrderQuery | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        fields: Sequence[str] | None = None,
    ) -> Iterator[OrderPage]:
        """Page through ``/orders``: full orders, or :class:`WooOrderRef` when ``fields``.

        Pages are numbered by us up to X-WP-TotalPages, as of the latest page, and an empty
        page ends the listing; the Link header is never followed, since real stores echo the
        spent OAuth nonce and signature into it. Only one page is held at a time.
        """
        number = 1
        while True:
            page = self.order_page(query, number, per_page=per_page, fields=fields)
            if not page.orders and not page.invalid:
                return
            yield page
            if page.total_pages is not None and number >= page.total_pages:
                return
            number += 1

    def order_page(
        self,
        query: OrderQuery | None = None,
        page: int = 1,
        *,
        per_page: int = MAX_PER_PAGE,
        fields: Sequence[str] | None = None,
    ) -> OrderPage:
        """One page of the listing :meth:`iter_order_pages` walks, for concurrent readers."""
        params = _order_params(query or OrderQuery(), per_page, fields)
        parse = parse_order if fields is None else parse_order_ref
        return self._order_page({**params, "page": page}, page, parse)

    def iter_orders(
        self,
        query: OrderQuery | None = None,
        *,
        per_page: int = MAX_PER_PAGE,
        fields: Sequence[str] | None = None,
    ) -> OrderStream:
        return OrderStream(self.iter_order_pages(query, per_page=per_page, fields=fields))

    def count_orders(self, query: OrderQuery | None = None) -> int:
        params = _order_params(query or OrderQuery(), 1, ["id"])
        _, headers = self._get(self._url("orders"), params)
        total = _int_header(headers, "X-WP-Total")
        if total is None:
            raise WooInvalidResponse(
                "The store did not say how many orders match (no X-WP-Total header): "
                "a proxy in front of the store may drop it."
            )
        return total

    def get_orders(self, ids: Iterable[int]) -> OrderPage:
        """Up to 100 full orders in one request, by id ascending; the store leaves out ids it
        does not have (deleted orders)."""
        wanted = sorted({int(order_id) for order_id in ids})
        if len(wanted) > MAX_PER_PAGE:
            raise ValueError(f"at most {MAX_PER_PAGE} orders at a time, not {len(wanted)}")
        if not wanted:
            return OrderPage([], page=1, total=0, total_pages=0)
        params = {
            "include": ",".join(map(str, wanted)),
            "per_page": len(wanted),
            "orderby": "id",
            "order": "asc",
        }
        return self._order_page(params, 1, parse_order)

    def get_order(self, order_id: int) -> WooOrder:
        return parse_order(self._get_object(f"orders/{int(order_id)}"))

    def list_refunds(self, order_id: int) -> list[WooRefundDetail]:
        """The order's refunds (``GET /orders/<id>/refunds``, every page), newest first as
        the store sends them, each with its lines; read with the usual retries.

        Whether a refunded line went back into stock is told by the order's lines
        (``_restock_refunded_items``), read with one more request where a refund has lines.
        The store answers an order it does not have with an empty list, not 404 (captured),
        so no refunds may also mean no order. A refund that cannot be read raises
        :exc:`OrderDataError` naming the order and the field.
        """
        order_id = int(order_id)
        refunds: list[WooRefundDetail] = []
        try:
            for page in self._every_page(f"orders/{order_id}/refunds", {}, "a list of refunds"):
                refunds.extend(parse_refund(item, order_id) for item in page)
        except WooNotFound as exc:
            raise self._no_order(order_id, exc) from exc
        if not any(refund.line_items for refund in refunds):
            return refunds
        # Whether lines were restocked is kept on the order's lines, not on the refund.
        try:
            order, _ = self._get(self._url(f"orders/{order_id}"), {"_fields": "id,line_items"})
        except WooNotFound:
            return refunds
        if not isinstance(order, dict):
            raise self._unexpected(f"orders/{order_id}", "an order")
        return with_restocked(refunds, parse_restocked(order))

    # Writing orders back: each write is sent once, since one tried again could double
    # (a second note); the caller keeps the record and decides to send again.

    def update_order_status(self, order_id: int, status: str) -> WooOrder:
        """Set the order's status (``PUT /orders/<id>``); the order as the store now has it,
        with its new ``date_modified``. The store bumps ``date_modified`` even when the
        status was already that one, and adds its own note "Order status changed from ...".

        Raises :exc:`WooNotFound` for an order the store does not have, :exc:`WooBadRequest`
        for a status it does not know, :exc:`WooReadOnlyKey` for a key that may only read.
        """
        order_id = int(order_id)
        try:
            data = self._write("PUT", f"orders/{order_id}", {"status": status})
        except WooBadRequest as exc:
            # An unknown order is a 400 to PUT (capture order_update_unknown_id_400).
            if exc.code in _NO_ORDER_CODES:
                raise self._no_order(order_id, exc) from exc
            if "status" in exc.params:
                raise WooBadRequest(
                    f"The store refused the order status {status!r} for order {order_id}: "
                    f"{exc.params['status']} Choose a status the store has in the webstore's "
                    "setup.",
                    code=exc.code,
                    params=exc.params,
                ) from exc
            raise
        except WooNotFound as exc:
            raise self._no_order(order_id, exc) from exc
        return parse_order(data)

    def add_order_note(self, order_id: int, note: str, customer_note: bool) -> dict[str, Any]:
        """Add a note to the order (``POST /orders/<id>/notes``); the note as the store made
        it: ``id``, ``author``, ``date_created`` and ``_gmt``, ``note``, ``customer_note``.
        A customer note is e-mailed to the customer. A note leaves the order's
        ``date_modified`` as it was (captured).

        Raises :exc:`WooNotFound` for an order the store does not have, :exc:`WooReadOnlyKey`
        for a key that may only read.
        """
        order_id = int(order_id)
        body = {"note": note, "customer_note": bool(customer_note)}
        try:
            return self._write("POST", f"orders/{order_id}/notes", body)
        except WooNotFound as exc:
            raise self._no_order(order_id, exc) from exc

    def list_order_notes(self, order_id: int) -> list[dict[str, Any]]:
        """The order's notes as the store sends them, newest first (customer and private,
        the store's own among them)."""
        order_id = int(order_id)
        try:
            data, _ = self._get(self._url(f"orders/{order_id}/notes"))
        except WooNotFound as exc:
            raise self._no_order(order_id, exc) from exc
        if not isinstance(data, list) or not all(isinstance(n, dict) for n in data):
            raise self._unexpected(f"orders/{order_id}/notes", "a list of order notes")
        return data

    def can_write(self) -> bool | None:
        """Whether the key may change orders, found without changing anything: an empty
        batch (``POST /orders/batch`` with ``{}``) is answered 200 and an empty list for a
        read/write key, and refused with 401 for a read-only one (captures
        orders_batch_empty_probe*). None where the answer says neither.
        """
        return self._can_write(self.max_retries)

    def _can_write(self, retries: int) -> bool | None:
        url = self._url("orders/batch")
        try:
            self._with_retries("POST", url, None, {}, retries)
        except WooReadOnlyKey:
            return False
        except WooAuthError as exc:
            # A user who may not edit orders: "woocommerce_rest_cannot_batch".
            return False if exc.code == "woocommerce_rest_cannot_batch" else None
        except WooError:
            return None  # no batch route, a firewall refusing POST, a store down
        return True

    def _no_order(self, order_id: int, error: WooError) -> WooError:
        """An unknown order in plain words; a missing route stays what it is."""
        if error.code not in _NO_ORDER_CODES:
            return error
        return WooNotFound(
            f"The store has no order {order_id}: it may have been deleted in the store.",
            status=error.status,
            code=error.code,
        )

    # Other resources, as the store sends them

    def get_product(self, product_id: int) -> dict[str, Any]:
        return self._get_object(f"products/{int(product_id)}")

    def product_skus(self, product_ids: Iterable[int]) -> dict[int, str | None]:
        """The SKU of each of these products (None for none), 100 to a request; a product
        the listing leaves out (in the trash) is asked for by itself, and one the store no
        longer has has none."""
        skus: dict[int, str | None] = {}
        ids = sorted(set(product_ids))
        for start in range(0, len(ids), MAX_PER_PAGE):
            chunk = ids[start : start + MAX_PER_PAGE]
            query = {"include": ",".join(map(str, chunk)), "per_page": MAX_PER_PAGE}
            data, _ = self._get(self._url("products"), {**query, "_fields": "id,sku"})
            try:
                skus.update({int(p["id"]): p.get("sku") or None for p in data})
            except (KeyError, TypeError, ValueError):
                raise self._unexpected("products", "a list of products") from None
        for product_id in ids:
            if product_id not in skus:
                try:
                    skus[product_id] = self.get_product(product_id).get("sku") or None
                except WooNotFound:
                    skus[product_id] = None
        return skus

    def get_variation(self, product_id: int, variation_id: int) -> dict[str, Any]:
        return self._get_object(f"products/{int(product_id)}/variations/{int(variation_id)}")

    def get_customer(self, customer_id: int) -> dict[str, Any]:
        return self._get_object(f"customers/{int(customer_id)}")

    def order_status_totals(self) -> list[StatusTotal]:
        data, _ = self._get(self._url("reports/orders/totals"))
        try:
            return [StatusTotal(str(t["slug"]), str(t["name"]), int(t["total"])) for t in data]
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("reports/orders/totals", "a list of status totals") from None

    # Webhooks

    def list_webhooks(self) -> list[Webhook]:
        """Every webhook of the store, whatever its status, 100 a page."""
        by_id = {"orderby": "id", "order": "asc"}
        pages = self._every_page("webhooks", by_id, "a list of webhooks")
        return [self._webhook(item) for page in pages for item in page]

    def create_webhook(
        self, *, topic: str, delivery_url: str, secret: str, name: str, status: str = "active"
    ) -> Webhook:
        """Make a webhook; the store pings its delivery URL. Never retried."""
        body = {
            "name": name,
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": secret,
            "status": status,
        }
        return self._webhook(self._write("POST", "webhooks", body))

    def update_webhook(self, webhook_id: int, **changes: str) -> Webhook:
        """Change ``name``, ``topic``, ``delivery_url``, ``secret`` or ``status``."""
        return self._webhook(self._write("PUT", f"webhooks/{int(webhook_id)}", changes))

    def _webhook(self, data: Any) -> Webhook:
        try:
            return Webhook(
                id=int(data["id"]),
                name=str(data.get("name") or ""),
                topic=str(data["topic"]),
                status=str(data["status"]),
                delivery_url=str(data["delivery_url"]),
            )
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("webhooks", "webhooks") from None

    # What the store offers to map to the ERP's codes (see portal.woo.store_lists)

    def payment_gateways(self) -> list[PaymentGateway]:
        """Every payment gateway the store knows, enabled or not, in its checkout's order."""
        return self._parsed("payment_gateways", parse_payment_gateways, "payment gateways")

    def shipping_methods(self) -> list[ShippingMethodOption]:
        """Every zone's shipping methods, zone 0 ("Locations not covered by your other
        zones") included, then each method type with no instance (``instance_id`` ""), so
        that a mapping can cover a type in every zone."""
        zones = self._parsed("shipping/zones", parse_shipping_zones, "shipping zones")
        if not any(zone.id == 0 for zone in zones):
            zones.append(ShippingZone(0, REST_OF_WORLD_ZONE))
        instances = []
        for zone in zones:
            instances += self._parsed(
                f"shipping/zones/{zone.id}/methods",
                lambda data, zone=zone: parse_zone_methods(data, zone),
                "a zone's shipping methods",
            )
        types = self._parsed(
            "shipping_methods",
            lambda data: parse_method_types(data, instances),
            "shipping methods",
        )
        return instances + types

    def tax_rates(self) -> list[TaxRateOption]:
        """Every tax rate of the store, of every class, by id (``GET /taxes``, every page)."""
        by_id = {"orderby": "id", "order": "asc"}
        rates = []
        for page in self._every_page("taxes", by_id, "a list of tax rates"):
            rates += self._parsed_page("taxes", page, parse_tax_rates, "tax rates")
        return rates

    def _parsed(self, path: str, parse: Callable[[Any], list], what: str) -> list:
        data, _ = self._get(self._url(path))
        return self._parsed_page(path, data, parse, what)

    def _parsed_page(self, path: str, data: Any, parse: Callable[[Any], list], what: str) -> list:
        try:
            return parse(data)
        except ValueError as exc:
            raise WooInvalidResponse(
                f"{self._url(path)} did not answer with {what} as WooCommerce lists them "
                f"({exc}): check that the store URL points at a WooCommerce store."
            ) from None

    # The store itself

    def system_status(self) -> StoreStatus:
        return self._store_status(self.max_retries)

    def test_connection(self) -> StoreStatus:
        """Ask the store who it is, once: a person waits for the answer, so no retries.

        Raises the typed error whose message names the reason: a bad key or secret
        (:exc:`WooAuthError`), a wrong URL or no WooCommerce there (:exc:`WooNotFound`,
        :exc:`WooInvalidResponse`), TLS, an unknown host.

        An admin may type any address here, and the portal asks from inside its network: so
        link-local and cloud metadata addresses are refused before any connection
        (:exc:`WooAddressRefused`), and a connection refused, reset or timed out is one
        message (:exc:`WooConnectionError`), which tells no open port from a closed one.
        """
        refuse_never_connected(self.base_url)
        try:
            return self._store_status(0)
        except (WooConnectionError, WooTimeout) as exc:
            if _unknown_host(exc):
                raise
            raise WooConnectionError(
                f"No answer from {_host(self.base_url)}: the connection failed, broke off or "
                "timed out. Check the store URL, that the site is up and reachable from this "
                "server, and the request timeout in the webstore setup."
            ) from exc

    def _store_status(self, retries: int) -> StoreStatus:
        # _fields spares a real store computing the report's slow sections (plugins, pages).
        data, _ = self._get(
            self._url("system_status"), {"_fields": "environment,settings"}, retries=retries
        )
        environment = data.get("environment") if isinstance(data, dict) else None
        if not isinstance(environment, dict) or "version" not in environment:
            raise self._unexpected("system_status", "WooCommerce's system status")
        settings = data.get("settings")
        return StoreStatus(
            wc_version=str(environment["version"]),
            wp_version=str(environment.get("wp_version", "")),
            site_url=str(environment.get("site_url", self.base_url)),
            currency=settings.get("currency") if isinstance(settings, dict) else None,
            timezone=self._site_timezone(retries),
            **self._tax_settings(retries),
            can_write=self._can_write(retries),
            order_storage=order_storage_of(settings),
            money=store_money_of(settings),
        )

    def store_settings(self) -> StoreSettings:
        """How the store keeps its orders and its money, from its system status."""
        # Once: the run's own listing tries a store that does not answer again.
        data, _ = self._get(self._url("system_status"), {"_fields": "settings"}, retries=0)
        settings = data.get("settings") if isinstance(data, dict) else None
        return StoreSettings(order_storage_of(settings), store_money_of(settings))

    def _tax_settings(self, retries: int) -> dict[str, Any]:
        """The tax settings a person setting up an import needs to see, in two requests.

        "Enable taxes" is in WooCommerce's general group, the others in its tax group; the
        settings API has no batch for reading. They need the same right as the system status
        (``manage_woocommerce``) and a key with read permission; a store that refuses them
        anyway (a security plugin) or lacks them still passes the connection test.
        """
        values: dict[str, Any] = {}
        missing = None
        try:
            calc = self._setting_values("settings/general/woocommerce_calc_taxes", retries)
            values["taxes_enabled"] = _yes_no(calc.get("woocommerce_calc_taxes"))
        except (WooAuthError, WooNotFound, WooInvalidResponse) as exc:
            missing = _unreadable(exc)
        try:
            tax = self._setting_values("settings/tax", retries)
            values["prices_include_tax"] = _yes_no(tax.get("woocommerce_prices_include_tax"))
            values["tax_round_at_subtotal"] = _yes_no(tax.get("woocommerce_tax_round_at_subtotal"))
            based_on = tax.get("woocommerce_tax_based_on")
            values["tax_based_on"] = based_on if isinstance(based_on, str) and based_on else None
        except (WooAuthError, WooNotFound, WooInvalidResponse) as exc:
            missing = missing or _unreadable(exc)
        return {**values, "tax_settings_missing": missing}

    def _setting_values(self, path: str, retries: int) -> dict[str, Any]:
        """``{setting id: value}`` of one setting or of a group of them."""
        data, _ = self._get(self._url(path), {"_fields": "id,value"}, retries=retries)
        items = data if isinstance(data, list) else [data]
        if not all(isinstance(item, dict) and "id" in item for item in items):
            raise self._unexpected(path, "WooCommerce settings")
        return {str(item["id"]): item.get("value") for item in items}

    def _site_timezone(self, retries: int) -> str | None:
        # The system status only knows PHP's timezone, which WordPress pins to UTC; the site's
        # own is in the WordPress REST index.
        try:
            index, _ = self._get(
                f"{self.base_url}/wp-json/",
                {"_fields": "timezone_string,gmt_offset"},
                retries=retries,
            )
        except (WooNotFound, WooAuthError, WooInvalidResponse):
            return None  # hidden by a security plugin or firewall: the store still works
        if not isinstance(index, dict):
            return None
        if index.get("timezone_string"):
            return str(index["timezone_string"])
        try:
            return f"UTC{float(index['gmt_offset']):+g}"
        except (KeyError, TypeError, ValueError):
            return None

    # HTTP

    def _url(self, path: str) -> str:
        return f"{self.api_url}/{path}"

    def _order_page(self, params: dict[str, Any], number: int, parse: Any) -> OrderPage:
        data, headers = self._get(self._url("orders"), params)
        if not isinstance(data, list):
            raise self._unexpected("orders", "a list of orders")
        orders, invalid = [], []
        for item in data:
            try:
                orders.append(parse(item))
            except OrderDataError as exc:
                invalid.append(exc)
        return OrderPage(
            orders,
            page=number,
            total=_int_header(headers, "X-WP-Total"),
            total_pages=_int_header(headers, "X-WP-TotalPages"),
            invalid=invalid,
        )

    def _get_object(self, path: str) -> dict[str, Any]:
        data, _ = self._get(self._url(path))
        if not isinstance(data, dict):
            raise self._unexpected(path, "an object")
        return data

    def _every_page(self, path: str, params: dict[str, Any], what: str) -> Iterator[list]:
        """Each page of a listing, 100 a page, up to X-WP-TotalPages as of the latest page;
        an empty page ends it. Read with the usual retries."""
        number = 1
        while True:
            query = {**params, "per_page": MAX_PER_PAGE, "page": number}
            data, headers = self._get(self._url(path), query)
            if not isinstance(data, list):
                raise self._unexpected(path, what)
            yield data
            total_pages = _int_header(headers, "X-WP-TotalPages")
            if not data or total_pages is None or number >= total_pages:
                return
            number += 1

    def _get(
        self, url: str, params: dict[str, Any] | None = None, *, retries: int | None = None
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        """GET ``url`` and return its JSON and headers, retrying what may pass by itself."""
        retries = self.max_retries if retries is None else retries
        return self._with_retries("GET", url, params, None, retries)

    def _with_retries(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        retries: int,
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        """Only for requests that change nothing, which may be sent again safely."""
        attempt = 1
        while True:
            try:
                return self._limited(method, url, params, body)
            except _TRANSIENT as exc:
                if attempt > retries:
                    exc.attempts = attempt
                    raise
                delay = self._backoff(attempt, exc)
                log.warning("%s Retry %d of %d in %.2f s.", exc, attempt, retries, delay)
                time.sleep(delay)
                attempt += 1

    def _limited(self, method, url, params, body):
        """One read, under the limit of requests at once where there is one; it learns from
        the answer's time, or from the store being overloaded (429, 503, a timeout)."""
        if self.limit is None:
            return self._request_once(method, url, params, body)
        sent = self.limit.acquire()
        overloaded = False
        try:
            return self._request_once(method, url, params, body)
        except (WooRateLimited, WooTimeout):
            overloaded = True
            raise
        finally:
            self.limit.release(sent, overloaded, kind=request_kind(url, params))

    def _backoff(self, attempt: int, error: WooError) -> float:
        if isinstance(error, WooRateLimited) and error.retry_after is not None:
            return min(error.retry_after, self.backoff_max)
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))

    def _write(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send ``body`` as JSON, once: a POST tried again could make a second webhook."""
        data, _ = self._request_once(method, self._url(path), None, body)
        if not isinstance(data, dict):
            raise self._unexpected(path, "an object")
        return data

    def _request_once(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None = None,
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        # Error messages name ``url``, never the request's URL: that carries the credentials.
        # OAuth signs the query alone, as WooCommerce checks it: a JSON body is not signed.
        try:
            # A redirect is reported, not followed: an http store moved to https would be
            # asked with a signature for the old address, and the move is the user's to know.
            response = self.session.request(
                method,
                url,
                params=params,
                json=body,
                timeout=self.timeout,
                verify=self.verify_tls,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise WooTLSError(
                f"The TLS certificate of {_host(url)} could not be verified "
                f"({_tls_reason(exc)}): the store needs a certificate from a public authority "
                "(Let's Encrypt, for one) that matches its address."
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise WooTimeout(
                f"The store did not answer within {self.timeout:g} s ({url}): try again later, "
                "or raise the timeout in the webstore setup."
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            raise WooConnectionError(
                f"The connection to {_host(url)} failed: {_connection_reason(exc)}. "
                "Check the store URL and that the site is up."
            ) from exc
        if response.is_redirect:
            location = response.headers.get("Location", "")
            raise WooInvalidResponse(
                f"{url} redirects to {location.split('?')[0]}: "
                "enter the address it redirects to as the store URL.",
                status=response.status_code,
            )
        body = _json(response)
        if response.status_code >= 300:
            raise error_for_answer(
                response.status_code,
                body,
                url=url,
                retry_after=_retry_after(response.headers.get("Retry-After")),
                webstore=self.webstore,
            )
        if body is None:
            raise _not_json(response, url)
        return body, response.headers

    def _unexpected(self, path: str, expected: str) -> WooInvalidResponse:
        return WooInvalidResponse(
            f"{self._url(path)} did not answer with {expected}: "
            "check that the store URL points at a WooCommerce store."
        )


def request_kind(url: str, params: dict[str, Any] | None) -> tuple:
    """Which requests take alike: the same resource, fields and page size (for the
    adaptive limit, which compares an answer's time with its kind's)."""
    params = params or {}
    size = params.get("per_page") or len(str(params.get("include", "")).split(","))
    path = re.sub(r"/\d+", "/#", url.rsplit("/wp-json/", 1)[-1].split("?")[0])
    return (path, params.get("_fields"), size)


def _order_params(query: OrderQuery, per_page: int, fields: Sequence[str] | None) -> dict:
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, not {per_page}")
    # By id for imports: new orders land on later pages. By modification time for an
    # incremental sync, which reads by keyset: WooCommerce sorts by the time alone, so
    # orders sharing a second come in any order (see portal.sync.incremental).
    orderby = query.orderby or ("modified" if query.modified_after else "id")
    params: dict[str, Any] = {"per_page": per_page, "orderby": orderby, "order": "asc"}
    # Comma lists, never status[]=: that form breaks WooCommerce's OAuth signature check.
    if query.status:
        params["status"] = ",".join(query.status)
    if query.include:
        params["include"] = ",".join(str(int(order_id)) for order_id in query.include)
    params.update(_date_params(query))
    if fields is not None:
        params["_fields"] = ",".join(dict.fromkeys([*REF_FIELDS, *fields]))
    return params


def _date_params(query: OrderQuery) -> dict[str, str]:
    """The date filters, each read by the store in the right calendar.

    A time without an offset is the store's own time unless ``dates_are_gmt`` is set; a
    UTC time sent bare without the flag silently finds the wrong orders (capture
    orders_modified_after_utc_no_flag). A day of the store's calendar is sent as the store's
    time, so the store itself draws the day boundary, DST included, as its admin does; the
    moments then carry a ``Z`` (capture orders_modified_after_utc_Z), since the flag would
    make the day UTC too.
    """
    moments = {
        "after": query.after,
        "modified_after": query.modified_after,
        "modified_before": query.modified_before,
    }
    moments = {name: moment for name, moment in moments.items() if moment}
    params = {}
    if query.created_from:
        # ``after`` is exclusive: the last second of the day before.
        params["after"] = f"{query.created_from - timedelta(days=1):%Y-%m-%d}T23:59:59"
        params.update({name: _utc(moment) + "Z" for name, moment in moments.items()})
    elif moments:
        params.update({name: _utc(moment) for name, moment in moments.items()})
        params["dates_are_gmt"] = "true"
    return params


def order_storage_of(settings: object) -> str | None:
    """How the store keeps its orders: "hpos" in its own tables (HPOS), "posts" where it keeps
    them as WordPress posts (the legacy way: listings sorted by modified time sort by the
    site's local time there, so a keyset over that time breaks across daylight saving);
    None where the system status does not say."""
    if not isinstance(settings, dict) or "HPOS_enabled" not in settings:
        return None
    return "hpos" if settings["HPOS_enabled"] in (True, "yes", 1, "1") else "posts"


def store_money_of(settings: object) -> StoreMoney:
    """The store's currency, decimals and separators; each None where not said."""
    settings = settings if isinstance(settings, dict) else {}
    decimals = settings.get("number_of_decimals")
    if isinstance(decimals, str) and decimals.isdigit():
        decimals = int(decimals)
    text = {
        key: value if isinstance(value, str) else None
        for key in ("currency", "thousand_separator", "decimal_separator")
        for value in [settings.get(key)]
    }
    return StoreMoney(
        currency=text["currency"] or None,
        decimals=decimals if type(decimals) is int and 0 <= decimals <= 8 else None,
        thousand_separator=text["thousand_separator"],
        decimal_separator=text["decimal_separator"],
    )


def _yes_no(value: object) -> bool | None:
    """A WooCommerce checkbox or yes/no setting; None for anything else."""
    return {"yes": True, "no": False}.get(value) if isinstance(value, str) else None


def _unreadable(error: WooError) -> str:
    """Why the store's tax settings are not shown, in words for the setup page."""
    if isinstance(error, WooAuthError):
        return f"not readable with this key (the store refused them, HTTP {error.status})"
    if isinstance(error, WooNotFound):
        return "not offered by this store's REST API (HTTP 404)"
    return "not readable: the store did not answer with its settings"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _json(response: requests.Response) -> Any:
    """The body's JSON, or None if it is not JSON (an HTML page, a truncated answer)."""
    # A stray UTF-8 BOM (a plugin file saved with one) is stripped: the JSON after it is
    # intact, and store owners rarely find the file that prints it.
    # orjson: a page of full orders is a third of a megabyte, read on the threads that
    # share the GIL with the import's writer.
    try:
        return orjson.loads(response.content.removeprefix(codecs.BOM_UTF8))
    except orjson.JSONDecodeError:
        return None


def _not_json(response: requests.Response, url: str) -> WooInvalidResponse:
    content = response.content.lstrip()
    if content.startswith(b"<"):
        problem = (
            "an HTML page instead of WooCommerce's JSON (a firewall, a maintenance or login "
            "page, or PHP errors printed into the answer): check the store URL and that the "
            "store lets this server through"
        )
    elif content[:1] in (b"[", b"{"):
        problem = (
            f"JSON cut short after {len(response.content)} bytes: try again; if it persists, "
            "the store may be running out of memory (try fewer orders per page)"
        )
    else:
        problem = "something that is not JSON: check that the store URL is a WooCommerce store"
    return WooInvalidResponse(f"{url} answered with {problem}.", status=response.status_code)


def _int_header(headers: requests.structures.CaseInsensitiveDict[str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, which is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a date in UTC of unknown origin
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: requests nests urllib3's errors and theirs the OS's."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return
        yield seen
        reason = getattr(seen, "reason", None)
        wrapped = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = reason if isinstance(reason, BaseException) else seen.__cause__ or wrapped


def _unknown_host(exc: BaseException) -> bool:
    return any(isinstance(cause, NameResolutionError) for cause in _causes(exc))


# Cloud metadata services outside the link-local ranges: Alibaba Cloud, AWS over IPv6,
# Azure's wire server, Oracle Cloud's older address.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("100.100.100.200", "fd00:ec2::254", "168.63.129.16", "192.0.0.192")
)


def never_connected(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Link-local (169.254.0.0/16, fe80::/10, where clouds answer with their machines'
    credentials) or a metadata service, also written as IPv6."""
    if address.version == 6:
        address = address.ipv4_mapped or address.sixtofour or address
    return address.is_link_local or address in METADATA_ADDRESSES


def refuse_never_connected(base_url: str) -> None:
    """Raise :exc:`WooAddressRefused` if the store's host is, or resolves to, an address the
    portal never connects to. An unknown host is left for the connection to say."""
    parts = urlsplit(base_url)
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    for *_, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])  # without an IPv6 zone
        if never_connected(address):
            raise WooAddressRefused(
                f"{parts.hostname} is a link-local or cloud metadata address ({address}), "
                "which the portal never connects to: enter the store's own address."
            )


def _connection_reason(exc: BaseException) -> str:
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "it was refused"
        if isinstance(cause, NameResolutionError):
            return "the host name is unknown"
        if isinstance(cause, requests.exceptions.ChunkedEncodingError):
            return "it broke off in the middle of the answer"
    # Not str(exc): requests puts the URL in it, and with it the credentials.
    return "the connection could not be made or was lost"


def _tls_reason(exc: BaseException) -> str:
    for cause in _causes(exc):
        if getattr(cause, "verify_message", None):
            return cause.verify_message
    return "TLS handshake failed"


def quiet_insecure_warnings(base_url: str) -> None:
    """Say once that TLS verification is off, instead of urllib3 warning on every request.

    An admin turned verification off for this store on purpose; the warning would only
    flood the log. The filter is process-wide (and thread-safe to set, unlike
    catch_warnings around each request from the importer's threads).
    """
    log.warning("TLS verification is off for %s: its certificate is not checked.", base_url)
    warnings.filterwarnings("ignore", category=InsecureRequestWarning)
