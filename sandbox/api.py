"""The REST API under ``/wp-json``, answered as WordPress and WooCommerce answer it.

WordPress routes REST requests itself, and the order of its steps shows in its errors:
authenticate (401 for a bad signature, before anything else), match a route (404
``rest_no_route``), check the arguments (400 ``rest_invalid_param``, even when
anonymous), check permission (401 ``woocommerce_rest_cannot_*``), then run the callback.
A small route table here keeps that order instead of Flask's own routing.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from . import checkout, render, settings, taxes
from .auth import WRITE_METHODS
from .catalog import Product
from .faults import OVERLOAD
from .model import STATUSES, WooError
from .params import check, endpoint_args, schema
from .php import build_query, json_encode, parse_query
from .replay import Replayed
from .store import OrderQuery

bp = Blueprint("api", __name__)

JSON_TYPE = "application/json; charset=UTF-8"
HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_LIST = ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
_VIEW = ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
_CREATE = ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
_EDIT = ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")


@dataclass
class Call:
    """One REST request, as the callbacks see it."""

    method: str
    route: str
    site: str
    query: dict  # PHP's $_GET
    body: dict  # JSON or form parameters
    url_params: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # the route's arguments, checked and sanitized

    @property
    def state(self):
        return current_app.extensions["sandbox"]

    @property
    def store(self):
        return self.state.store

    def link_base(self) -> str:
        # Plain permalinks (?rest_route=) carry the route in the query, echoed with it.
        if "rest_route" in self.query:
            return f"{self.site}/"
        return f"{self.site}/wp-json{self.route}"


@dataclass
class Answer:
    data: object
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (rel, url)
    full_orders: int = 0
    light_orders: int = 0


@dataclass
class Handler:
    view: Callable[[Call], Answer]
    args: dict
    denied: tuple[str, str] | None  # the refusal for anonymous callers; None: public


@dataclass
class Route:
    pattern: str
    handlers: dict[str, Handler]
    options: str | None = None  # the captured OPTIONS answer, where there is one

    def __post_init__(self) -> None:
        self.regex = re.compile(f"^{self.pattern}$")

    @property
    def methods(self) -> str:
        return ", ".join(self.handlers)


# Serving


@bp.route("/wp-json", defaults={"path": ""}, methods=HTTP_METHODS, strict_slashes=False)
@bp.route("/wp-json/<path:path>", methods=HTTP_METHODS)
def rest(path: str) -> Response:
    return serve("/" + path.strip("/"))


@bp.route("/", methods=HTTP_METHODS)
def home() -> Response:
    rest_route = parse_query(request.query_string.decode("latin-1")).get("rest_route")
    if isinstance(rest_route, str):
        return serve("/" + rest_route.strip("/"))
    return Response(HOME_PAGE, mimetype="text/html")


def serve(route: str) -> Response:
    """Answer a REST request, with the latency and the faults the knobs ask for."""
    state = current_app.extensions["sandbox"]
    state.stats.started(_route_label(route))
    knobs = state.faults.knobs
    if not state.capacity.enter(knobs):
        response = _overloaded(knobs.overload_status, knobs.retry_after)
        state.stats.finished(response.status_code, OVERLOAD, 0, 0)
        return response
    state.stats.serving(+1)
    try:
        return _served(state, route)
    finally:
        state.stats.serving(-1)
        state.capacity.leave()


def _served(state, route: str) -> Response:
    fault = state.faults.draw(write=request.method in WRITE_METHODS and route.startswith("/wc/"))
    answer = Answer(None)
    response = None
    try:
        if fault == "rate_limit":
            response = _too_many_requests(state.faults.knobs.retry_after)
        elif fault in ("error", "write_error"):
            response = _critical_error()
        elif fault == "html":
            response = _firewall_page()
        else:
            if fault == "timeout":
                state.faults.hang()
            answer, response = dispatch(route)
            time.sleep(state.faults.delay(answer.full_orders, answer.light_orders))
            if fault == "truncate":
                response = _truncated(response)
            elif fault == "write_lost":  # done, but the writer hears only of a failure
                response = _critical_error()
        return response
    finally:
        status = response.status_code if response is not None else 500
        state.stats.finished(status, fault, answer.full_orders, answer.light_orders)


def dispatch(route: str) -> tuple[Answer, Response]:
    state = current_app.extensions["sandbox"]
    site = request.url_root.rstrip("/")
    authed, allow = False, ""
    try:
        call = Call(
            "GET" if request.method == "HEAD" else request.method,
            route,
            site,
            parse_query(request.query_string.decode("latin-1")),
            _body(),
        )
        if route.startswith("/wc/"):
            permissions = state.credentials.authenticate(
                method=request.method,
                url=site + request.path,
                query=call.query,
                form=call.body if request.method == "POST" and not request.is_json else {},
                authorization=request.headers.get("Authorization", ""),
                secure=request.is_secure,
            )
            authed = permissions is not None
            if authed:  # before any route: no Allow header (capture *_read_only_401)
                state.credentials.check_permission(permissions, request.method)
        matched, call.url_params = _match(route)
        public = all(h.denied is None for h in matched.handlers.values())
        allow = matched.methods if authed or public else ""
        if call.method == "OPTIONS":
            answer = Answer(_options(matched, site))
        else:
            handler = matched.handlers.get(call.method)
            if handler is None:
                raise _no_route()
            lookup = {**call.url_params, **call.query, **call.body}
            call.params = check(handler.args, lookup)
            if handler.denied and not authed:
                raise WooError(*handler.denied, 401)
            answer = handler.view(call)
            answer.data = _only_fields(answer.data, call.query.get("_fields"))
    except WooError as error:
        answer = Answer(error.body(), error.status)
    return answer, respond(answer, site, authed=authed, allow=allow)


def respond(answer: Answer, site: str, *, authed: bool, allow: str) -> Response:
    """WordPress's headers, in its order, with PHP's casing."""
    headers = [
        ("X-Powered-By", "PHP/8.2.36"),
        ("Content-Type", JSON_TYPE),
        ("X-Robots-Tag", "noindex"),
    ]
    if not answer.links:  # a pagination Link replaces this one, and moves to the end
        headers.append(("Link", f'<{site}/wp-json/>; rel="https://api.w.org/"'))
    headers += [
        ("X-Content-Type-Options", "nosniff"),
        ("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link"),
        (
            "Access-Control-Allow-Headers",
            "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type",
        ),
        *answer.headers,
    ]
    if answer.links:
        headers.append(("Link", ", ".join(f'<{url}>; rel="{rel}"' for rel, url in answer.links)))
    if allow:
        headers.append(("Allow", allow))
    if authed:
        headers += [
            ("Expires", "Wed, 11 Jan 1984 05:00:00 GMT"),
            ("Cache-Control", "no-cache, must-revalidate, max-age=0, no-store, private"),
        ]
    else:
        headers.append(("Vary", "Origin"))
    return Response(json_encode(answer.data), _status_line(answer.status), headers)


def _status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"  # "401 Unauthorized", as PHP words it


def _body() -> dict:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    if request.is_json:
        try:
            data = json.loads(raw)
        except ValueError:
            raise WooError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                json_error_code=4,
                json_error_message="Syntax error",
            ) from None
        return data if isinstance(data, dict) else {}
    if request.mimetype == "application/x-www-form-urlencoded":
        return parse_query(raw.decode("latin-1"))
    return {}


def _match(route: str) -> tuple[Route, dict]:
    for candidate in ROUTES:
        found = candidate.regex.match(route)
        if found:
            return candidate, found.groupdict()
    raise _no_route()


def _no_route() -> WooError:
    return WooError("rest_no_route", "No route was found matching the URL and request method.", 404)


def _route_label(route: str) -> str:
    return re.sub(r"/\d+", "/<id>", route)


def _captured(name: str, site: str) -> dict:
    """A captured answer, moved to where this store is."""
    return json.loads(json.dumps(schema(name)).replace("{site}", site))


def _options(route: Route, site: str) -> dict:
    if route.options:
        answer = _captured(route.options, site)
    else:
        answer = {
            "namespace": "wc/v3",
            "methods": list(route.handlers),
            "endpoints": [{"methods": [m], "args": h.args} for m, h in route.handlers.items()],
        }
    # WooCommerce's dp defaults to wc_get_price_decimals(): the store's decimals.
    decimals = current_app.extensions["sandbox"].store.decimals
    for endpoint in answer["endpoints"]:
        if "dp" in endpoint["args"]:
            dp = {**endpoint["args"]["dp"], "default": decimals}
            endpoint["args"] = {**endpoint["args"], "dp": dp}
    return answer


def _only_fields(data: object, fields: object) -> object:
    """``_fields``: keep the named keys (``billing.email`` reaches inside), in the data's order.

    One object keeps its ``_links`` whatever is named: WordPress adds them after the filter,
    where a collection's items carry theirs inside (capture setting_general_calc_taxes_fields).
    """
    if not fields or not isinstance(data, dict | list):
        return data
    names = fields.values() if isinstance(fields, dict) else str(fields).split(",")
    tree: dict = {}  # {"billing": {"email": True}, "id": True}
    for name in names:
        node = tree
        *parents, last = str(name).strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if node is True:  # the whole of a parent is wanted already
                break
        else:
            node[last] = True

    def keep(item: object, wanted: dict) -> object:
        if not isinstance(item, dict):
            return item
        return {
            k: v if wanted[k] is True else keep(v, wanted[k])
            for k, v in item.items()
            if k in wanted
        }

    if isinstance(data, list):
        return [keep(item, tree) for item in data]
    kept = keep(data, tree)
    if "_links" in data:
        kept["_links"] = data["_links"]
    return kept


# Faults


def _too_many_requests(retry_after: int) -> Response:
    body = {
        "code": "rest_too_many_requests",
        "message": "Too many requests. Please wait and try again.",
        "data": {"status": 429},
    }
    headers = [("Retry-After", str(retry_after)), ("Content-Type", JSON_TYPE)]
    return Response(json_encode(body), _status_line(429), headers)


def _overloaded(status: int, retry_after: int) -> Response:
    """A store past its capacity: its host's 429 (as a rate limiter answers, the JSON of
    WordPress's) or the web server's own 503 page, before PHP is reached."""
    if status == 429:
        return _too_many_requests(retry_after)
    page = (
        "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>"
        "\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    headers = [("Retry-After", str(retry_after)), ("Content-Type", "text/html")]
    return Response(page, _status_line(503), headers)


def _critical_error() -> Response:
    """What WordPress answers a REST request when PHP dies (a plugin's fatal error)."""
    body = {
        "code": "internal_server_error",
        "message": '<p>There has been a critical error on this website.</p><p><a href="'
        'https://wordpress.org/documentation/article/faq-troubleshooting/">Learn more about '
        "troubleshooting WordPress.</a></p>",
        "data": {"status": 500},
        "additional_errors": [],
    }
    return Response(json_encode(body), _status_line(500), [("Content-Type", JSON_TYPE)])


def _firewall_page() -> Response:
    """A security plugin or CDN answering for the site: 200, but a web page, not JSON."""
    return Response(FIREWALL_PAGE, 200, [("Content-Type", "text/html; charset=UTF-8")])


def _truncated(response: Response) -> Response:
    body = response.get_data()
    response.set_data(body[: len(body) // 2])
    response.headers["Content-Length"] = str(len(body))
    return response


HOME_PAGE = "<!doctype html><title>Sandbox Store</title><h1>Sandbox Store</h1>"
FIREWALL_PAGE = (
    "<!DOCTYPE html><html><head><title>Attention Required!</title></head><body>"
    "<h1>Sorry, you have been blocked</h1><p>This website is using a security service to "
    "protect itself from online attacks.</p></body></html>"
)


# Listing helpers


def _paged(call: Call, items: list, total: int, per_page: int, page: int, echo: dict) -> Answer:
    """X-WP-Total, X-WP-TotalPages and the prev/next links of ``WC_REST_CRUD_Controller``;
    a "prev" link past the last page points to the last page."""
    pages = math.ceil(total / per_page)
    links = []
    if page > 1:
        links.append(("prev", _page_url(call, echo, min(page - 1, pages))))
    if pages > page:
        links.append(("next", _page_url(call, echo, page + 1)))
    headers = [("X-WP-Total", str(total)), ("X-WP-TotalPages", str(pages))]
    return Answer(items, headers=headers, links=links)


def _page_url(call: Call, echo: dict, page: int) -> str:
    return f"{call.link_base()}?{build_query({**echo, 'page': page})}"


def _echo(call: Call) -> dict:
    """The request's query as WordPress echoes it in links: sanitized values in place."""
    return {k: call.params.get(k, v) for k, v in call.query.items()}


def _slice(items: list, call: Call) -> tuple[list, int, int]:
    per_page, page = call.params["per_page"], call.params["page"]
    start = _start(call)
    return items[start : start + per_page], per_page, page


def _start(call: Call) -> int:
    """Where the requested page starts in the listing."""
    per_page, page = call.params["per_page"], call.params["page"]
    return call.params["offset"] if "offset" in call.params else (page - 1) * per_page


# Orders


def list_orders(call: Call) -> Answer:
    p = call.params
    gmt = p["dates_are_gmt"]
    posts = call.store.storage == "posts"
    zone = call.store.zone
    bound = _local_bound if posts else _moment
    query = OrderQuery(
        statuses=frozenset(STATUSES) if "any" in p["status"] else frozenset(p["status"]),
        after=bound(p.get("after"), gmt, zone),
        before=bound(p.get("before"), gmt, zone),
        modified_after=bound(p.get("modified_after"), gmt, zone),
        modified_before=bound(p.get("modified_before"), gmt, zone),
        include=tuple(p["include"]),
        exclude=frozenset(p["exclude"]),
        customer=p.get("customer"),
        product=p.get("product"),
        parent=tuple(p["parent"]),
        parent_exclude=tuple(p["parent_exclude"]),
        created_via=frozenset(p["created_via"]) if p.get("created_via") else None,
        search=p.get("search", ""),
        orderby=p["orderby"],
        descending=p["order"] == "desc",
        local_zone=zone if posts else None,
        local_filters=posts and not gmt,
    )
    found = call.store.orders(query)
    chunk, per_page, page = _slice(found, call)
    if tie := query.tie_key():
        chunk = _unstable_ties(found, chunk, call, tie)
    data = [_order_json(call, order) for order in chunk]
    # HPOS counts matches only when the page holds some: past the last page a real store
    # answers X-WP-Total 0, X-WP-TotalPages 0 and a "prev" link to page 0. WP_Query counts
    # again without the page when a numbered page past the first is empty.
    total = len(found) if data or (posts and page > 1) else 0
    echo = _echo(call)
    # WooCommerce takes the statuses out of the request and puts them back at the end, and
    # its per-order rendering writes dp and context into it: the links show both.
    echo.pop("status", None)
    echo["status"] = p["status"]
    if data:
        echo["dp"] = _dp(call)
        echo["context"] = p["context"]
    answer = _paged(call, data, total, per_page, page, echo)
    if "_fields" in call.query:
        answer.light_orders = len(data)
    else:
        answer.full_orders = len(data)
    return answer


def _unstable_ties(found: list, chunk: list, call: Call, key) -> list:
    """The page as a real store may cut it: MySQL sorts by the one column WooCommerce asks
    for, so orders sharing its second come back in an order that changes from one request
    to the next, and pages overlap. The ties around the page are shuffled, per request."""
    if not chunk:
        return chunk
    start = _start(call)
    low, high = start, start + len(chunk)
    while low > 0 and key(found[low - 1]) == key(found[start]):
        low -= 1
    while high < len(found) and key(found[high]) == key(found[high - 1]):
        high += 1
    region, shuffled = found[low:high], []
    for _, ties in itertools.groupby(region, key=key):
        ties = list(ties)
        random.shuffle(ties)
        shuffled += ties
    return shuffled[start - low : start - low + len(chunk)]


def _dp(call: Call) -> int:
    """``dp`` as asked, else the store's number of decimals, as WooCommerce defaults it."""
    if "dp" in call.query or "dp" in call.body:
        return call.params.get("dp", call.store.decimals)
    return call.store.decimals


def _order_json(call: Call, order) -> dict:
    if isinstance(order, Replayed):
        data = dict(order.data)  # as the file has it, whatever dp asks
    else:
        store = call.store
        data = render.order(order, store.catalog, call.site, _dp(call), store.zone)
    include_meta, exclude_meta = call.params.get("include_meta"), call.params.get("exclude_meta")
    if include_meta:
        data["meta_data"] = [m for m in data["meta_data"] if m["key"] in include_meta]
    if exclude_meta:
        data["meta_data"] = [m for m in data["meta_data"] if m["key"] not in exclude_meta]
    # order_item_display_meta is accepted and, as in WooCommerce (which compares the
    # sanitized boolean with the string "true"), changes nothing.
    return data


def _moment(value: str | None, gmt: bool, zone) -> float | None:
    """A date argument as HPOS compares it, a Unix time. Without ``dates_are_gmt`` a time
    with an offset is exact and one without is the store's (captured: a UTC time sent bare
    finds nothing); a time the clocks repeat is their second pass, one they skip is read
    forward, as PHP reads them. With ``dates_are_gmt`` WordPress's date query writes the
    store's local time and HPOS compares it with its GMT column: right for a bare time, off
    by the store's offset for one with an offset (captured)."""
    if value is None:
        return None
    if gmt:
        return _site_time(value, zone).replace(tzinfo=UTC).timestamp()
    moment = _parsed_date(value)
    return (moment if moment.tzinfo else _in_zone(moment, zone)).timestamp()


def _local_bound(value: str | None, gmt: bool, zone) -> int | None:
    """A date argument as WordPress's date query puts it to the posts table: the store's
    local time (one with an offset moved into it, its offset lost), to the second, as a
    Unix time would read it; compared with the local column, or with the GMT one when
    ``dates_are_gmt`` says so."""
    if value is None:
        return None
    return int(_site_time(value, zone).replace(tzinfo=UTC).timestamp())


def _site_time(value: str, zone) -> datetime:
    """The store's local time, naive, as WordPress writes a date argument into SQL."""
    moment = _parsed_date(value)
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def _in_zone(local: datetime, zone) -> datetime:
    """A local time in ``zone`` as PHP reads it: of a repeated hour the second pass, of a
    skipped one the time as if the clocks had not moved yet (then read forward)."""
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    return second if first.utcoffset() > second.utcoffset() else first


def _parsed_date(value: str) -> datetime:
    return datetime.fromisoformat(value[:10] + "T" + value[11:].replace("z", "Z"))


def get_order(call: Call) -> Answer:
    order = call.store.order(int(call.url_params["id"]))
    if order is None:
        raise WooError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
    return Answer(_order_json(call, order), full_orders=1)


def create_order(call: Call) -> Answer:
    order = call.store.create_order(_body_args(call))
    data = _order_json(call, order)
    call.state.notify("order.created", data, call.site)
    location = [("Location", f"{call.site}/wp-json/wc/v3/orders/{order.id}")]
    return Answer(data, 201, headers=location, full_orders=1)


def update_order(call: Call) -> Answer:
    data = _updated(call, int(call.url_params["id"]), _body_args(call))
    return Answer(data, full_orders=1)


def _updated(call: Call, order_id: int, changes: dict) -> dict:
    """The order changed, announced with ``order.updated`` where WooCommerce announces it."""
    before = call.store.order(order_id)
    order = call.store.update_order(order_id, changes)
    data = _order_json(call, order)
    if call.store.fires_update_hook(before.status, order.status):
        call.state.notify("order.updated", data, call.site)
    return data


def delete_order(call: Call) -> Answer:
    """``DELETE /orders/<id>``: answered with the order as it was before. Without ``force``
    it goes to the trash (410 if it is there already); with ``force`` it is gone for good.
    """
    order_id = int(call.url_params["id"])
    if call.params["force"]:  # no webhook: WooCommerce's topics have no hook for it
        order = call.store.delete_order(order_id)
    else:
        order = call.store.trash_order(order_id)
        call.state.notify("order.deleted", {"id": order_id}, call.site)
    return Answer(_order_json(call, order), full_orders=1)


def _body_args(call: Call) -> dict:
    return {k: v for k, v in call.params.items() if k in call.body}


def list_notes(call: Call) -> Answer:
    order_id = int(call.url_params["order_id"])
    records = call.store.notes(order_id)
    if records is None:
        raise WooError("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
    notes = render.notes(order_id, records, call.site, call.store.zone)
    if call.params["type"] != "any":
        wanted = call.params["type"] == "customer"
        notes = [n for n in notes if n["customer_note"] is wanted]
    return Answer(notes)


def create_note(call: Call) -> Answer:
    """A note leaves the order as it was: no new ``date_modified``, no webhook (captured)."""
    order_id = int(call.url_params["order_id"])
    note = call.store.add_note(order_id, call.params["note"], call.params["customer_note"])
    location = [("Location", f"{call.site}/wp-json/wc/v3/orders/{order_id}/notes/{note.id}")]
    return Answer(render.note(order_id, note, call.site, call.store.zone), 201, headers=location)


def batch_orders(call: Call) -> Answer:
    """``/orders/batch``: creates, updates and deletes (for good, as WooCommerce's batch
    deletes), each answered in its place, an error as ``{"id", "error"}``. Empty lists leave
    their key out, so ``{}`` is answered ``[]`` (capture orders_batch_empty_probe): the
    harmless probe of a key's permission."""
    items = {action: call.params.get(action) or [] for action in ("create", "update", "delete")}
    if sum(len(batch) for batch in items.values()) > BATCH_LIMIT:
        raise WooError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            413,
        )
    answer: dict = {}
    for body in items["create"]:
        answer.setdefault("create", []).append(_batch_item(call, 0, body, creating=True))
    for body in items["update"]:
        order_id = body.get("id", 0) if isinstance(body, dict) else 0
        answer.setdefault("update", []).append(_batch_item(call, order_id, body, creating=False))
    for order_id in items["delete"]:
        answer.setdefault("delete", []).append(_batch_delete(call, order_id))
    return Answer(answer or [])


BATCH_LIMIT = 100


def _batch_item(call: Call, order_id: object, body: object, *, creating: bool) -> dict:
    try:
        if not isinstance(body, dict):
            raise WooError("rest_invalid_param", "Invalid parameter(s): body", 400)
        args = endpoint_args("orders" if creating else "order", "POST")
        checked = check(args, body)
        changes = {k: v for k, v in checked.items() if k in body}
        if not creating:
            return _updated(call, int(order_id), changes)
        order = call.store.create_order(changes)
    except (WooError, ValueError, TypeError) as error:
        if not isinstance(error, WooError):
            error = WooError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 400)
        return {"id": order_id, "error": error.body()}
    data = _order_json(call, order)
    call.state.notify("order.created", data, call.site)
    return data


def _batch_delete(call: Call, order_id: int) -> dict:
    try:
        order = call.store.delete_order(order_id)
    except WooError as error:
        return {"id": order_id, "error": error.body()}
    return _order_json(call, order)


def list_refunds(call: Call) -> Answer:
    order = call.store.order(int(call.url_params["order_id"]))
    refunds = list(reversed(order.refunds)) if order else []
    chunk, per_page, page = _slice(refunds, call)
    dp, zone = _dp(call), call.store.zone
    data = [render.refund(order, r, call.store.catalog, call.site, dp, zone) for r in chunk]
    return _paged(call, data, len(refunds), per_page, page, _echo(call))


def create_refund(call: Call) -> Answer:
    """``POST /orders/<id>/refunds``: ``amount`` (what the lines add up to where left out),
    ``reason``, ``line_items`` ([{id, quantity, refund_total, refund_tax: [{id,
    refund_total}]}]), ``api_restock`` and ``api_refund``, both true by default as in
    WooCommerce's REST API. A refund beyond what is left is refused as WooCommerce refuses
    it (500, "Invalid refund amount."). The sandbox's gateways never fail: ``api_refund``
    pays back through Stripe and PayPal, and leaves other methods to be paid by hand."""
    order_id = int(call.url_params["order_id"])
    if call.store.order(order_id) is None:
        raise WooError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
    lines = call.params.get("line_items") or None
    amount = call.params.get("amount")
    if amount in (None, ""):
        amount = None if lines else 0
    order, refund = call.store.refund_order(
        order_id,
        call.store.amount_of(order_id, amount),
        call.params.get("reason") or "",
        lines,
        restock=call.params["api_restock"],
        refund_payment=call.params["api_refund"],
    )
    call.state.notify("order.updated", _order_json(call, order), call.site)
    dp, zone = _dp(call), call.store.zone
    data = render.refund(order, refund, call.store.catalog, call.site, dp, zone)
    # WooCommerce builds it from the route's pattern, left unfilled (capture
    # lifecycle_refund_create).
    location = f"{call.site}/wp-json/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/{refund.id}"
    return Answer(data, 201, headers=[("Location", location)])


# Catalog, customers and the rest


def list_products(call: Call) -> Answer:
    catalog = call.store.catalog
    products = [p for p in catalog.products.values() if p.type != "variation"]
    products.sort(key=_catalog_order(call), reverse=call.params["order"] == "desc")
    if call.params["include"]:
        products = [p for p in products if p.id in call.params["include"]]
    chunk, per_page, page = _slice(products, call)
    money = call.store.money
    data = [render.product(p, catalog, call.site, call.store.zone, money) for p in chunk]
    return _paged(call, data, len(products), per_page, page, _echo(call))


def _catalog_order(call: Call) -> Callable[[Product], object]:
    orderby = call.params["orderby"]
    if orderby == "title":
        return lambda p: p.name
    if orderby == "id":
        return lambda p: p.id
    return lambda p: (p.created, p.id)


def get_product(call: Call) -> Answer:
    product = call.store.catalog.get(int(call.url_params["id"]))
    if product is None or product.type == "variation":
        raise WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
    store = call.store
    return Answer(render.product(product, store.catalog, call.site, store.zone, store.money))


def list_variations(call: Call) -> Answer:
    catalog = call.store.catalog
    product = catalog.get(int(call.url_params["product_id"]))
    variations = catalog.variations(product) if product else []
    variations.sort(key=_catalog_order(call), reverse=call.params["order"] == "desc")
    chunk, per_page, page = _slice(variations, call)
    data = [render.variation(v, catalog, call.site, call.store.zone) for v in chunk]
    return _paged(call, data, len(variations), per_page, page, _echo(call))


def get_variation(call: Call) -> Answer:
    variation = call.store.catalog.get(int(call.url_params["id"]))
    if variation is None or variation.parent_id != int(call.url_params["product_id"]):
        raise WooError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404)
    return Answer(render.variation(variation, call.store.catalog, call.site, call.store.zone))


def get_customer(call: Call) -> Answer:
    customer = call.store.customers.get(int(call.url_params["id"]))
    if customer is None:
        raise WooError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
    paying = call.store.is_paying_customer(customer.id)
    return Answer(render.customer(customer, call.site, paying, call.store.zone))


def system_status(call: Call) -> Answer:
    return Answer(render.system_status(call.site, call.store.storage, call.store.money))


def list_settings(call: Call) -> Answer:
    return Answer(settings.group(call.store.options, call.url_params["group_id"], call.site))


def get_setting(call: Call) -> Answer:
    group_id, setting_id = call.url_params["group_id"], call.url_params["id"]
    return Answer(settings.setting(call.store.options, group_id, setting_id, call.site))


# What checkout offers, and the taxes


def list_payment_gateways(call: Call) -> Answer:
    return _unpaged(checkout.payment_gateways(call.site))


def list_shipping_methods(call: Call) -> Answer:
    return _unpaged(checkout.shipping_methods(call.site))


def list_shipping_zones(call: Call) -> Answer:
    # WooCommerce says one page even of none: zone 0 is always there.
    zones = checkout.shipping_zones(call.site)
    return Answer(zones, headers=[("X-WP-Total", str(len(zones))), ("X-WP-TotalPages", "1")])


def list_zone_methods(call: Call) -> Answer:
    zone = checkout.zone(int(call.url_params["zone_id"]))
    if zone is None:
        raise WooError("woocommerce_rest_shipping_zone_invalid", "Resource does not exist.", 404)
    return _unpaged(checkout.zone_methods(zone, call.site, call.store.catalog))


def list_taxes(call: Call) -> Answer:
    p = call.params
    listed = call.store.options.listed_tax_rates
    rates = taxes.listed(listed, p["orderby"], p["order"] == "desc", p.get("class", ""))
    chunk, per_page, page = _slice(rates, call)
    data = [taxes.rate_json(rate, call.site) for rate in chunk]
    return _paged(call, data, len(rates), per_page, page, dict(call.query))


def list_tax_classes(call: Call) -> Answer:
    return _unpaged(taxes.classes_json(call.site))


def _unpaged(items: list) -> Answer:
    """A whole list, with the paging headers WooCommerce adds anyway (no pages of none)."""
    pages = "1" if items else "0"
    return Answer(items, headers=[("X-WP-Total", str(len(items))), ("X-WP-TotalPages", pages)])


def order_totals(call: Call) -> Answer:
    totals = call.store.status_totals()
    return Answer([{"slug": s, "name": name, "total": totals[s]} for s, name in STATUSES.items()])


def list_webhooks(call: Call) -> Answer:
    # By date, id or title: made one after another, their ids follow their dates.
    by_title = call.params["orderby"] == "title"
    hooks = sorted(
        call.store.webhooks.values(),
        key=lambda h: (h.name, h.id) if by_title else h.id,
        reverse=call.params["order"] == "desc",
    )
    if call.params["status"] != "all":
        hooks = [h for h in hooks if h.status == call.params["status"]]
    chunk, per_page, page = _slice(hooks, call)
    data = [render.webhook(h, call.site, call.store.zone) for h in chunk]
    return _paged(call, data, len(hooks), per_page, page, _echo(call))


def create_webhook(call: Call) -> Answer:
    """Any well-formed URL is accepted, loopback and odd ports too, as WooCommerce does:
    its deliveries are what fail (``sandbox.webhooks``)."""
    p = call.params
    _check_webhook(p, creating=True)
    hook = call.store.add_webhook(
        p.get("name") or f"Webhook created on {datetime.now():%B %d, %Y @ %I:%M %p}",
        p["topic"].lower(),
        p["delivery_url"],
        p.get("secret") or secrets.token_urlsafe(37),  # WooCommerce makes one of 50
        p.get("status", "active"),
    )
    call.state.sender.ping(hook)
    location = [("Location", f"{call.site}/wp-json/wc/v3/webhooks/{hook.id}")]
    return Answer(render.webhook(hook, call.site, call.store.zone), 201, headers=location)


def get_webhook(call: Call) -> Answer:
    hook = call.store.webhook(int(call.url_params["id"]))
    return Answer(render.webhook(hook, call.site, call.store.zone))


def update_webhook(call: Call) -> Answer:
    _check_webhook(call.params, creating=False)
    changes = {k: v for k, v in call.params.items() if k in _WEBHOOK}
    if "topic" in changes:
        changes["topic"] = changes["topic"].lower()
    hook = call.store.update_webhook(int(call.url_params["id"]), **changes)
    return Answer(render.webhook(hook, call.site, call.store.zone))


def delete_webhook(call: Call) -> Answer:
    hook_id = int(call.url_params["id"])
    call.store.webhook(hook_id)
    if not call.params.get("force"):
        raise WooError(
            "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
        )
    hook = call.store.delete_webhook(hook_id)
    return Answer(render.webhook(hook, call.site, call.store.zone))


def _check_webhook(params: dict, *, creating: bool) -> None:
    """WooCommerce's own checks, after the arguments' schema."""
    topic = str(params.get("topic", "")).lower()
    if (creating or "topic" in params) and topic not in WEBHOOK_TOPICS:
        raise WooError(
            "woocommerce_rest_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
            400,
        )
    url = urlsplit(str(params.get("delivery_url", "")))
    valid_url = url.scheme in ("http", "https") and url.netloc
    if (creating or "delivery_url" in params) and not valid_url:
        raise WooError(
            "woocommerce_rest_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            400,
        )


def namespace_index(call: Call) -> Answer:
    return Answer(_captured("index", call.site))


def site_index(call: Call) -> Answer:
    return Answer(render.site_index(call.site, call.store.zone, call.store.clock()))


# Routes and their arguments, WooCommerce's own where a store answered OPTIONS.

_ORDERS_GET = endpoint_args("orders", "GET")
_COMMON = {k: _ORDERS_GET[k] for k in ("context", "page", "per_page", "offset", "order")}
_IDS = _ORDERS_GET["include"]


def _collection(orderby: list[str], **extra: dict) -> dict:
    choice = {"type": "string", "default": orderby[0], "enum": orderby}
    return {**_COMMON, "include": _IDS, "orderby": choice, **extra}


_ITEM = {"id": {"type": "integer"}, "context": _COMMON["context"]}
_DP = {"dp": {"type": "integer", "default": 2}}
_WEBHOOK = {
    "name": {"type": "string"},
    "status": {"type": "string", "enum": ["active", "paused", "disabled"]},
    "topic": {"type": "string", "required": True},
    "secret": {"type": "string"},
    "delivery_url": {"type": "string"},
}
_WEBHOOK_STATUS = {
    "status": {
        "type": "string",
        "default": "all",
        "enum": ["all", "active", "paused", "disabled"],
    }
}
WEBHOOK_TOPICS = {
    f"{resource}.{event}"
    for resource in ("coupon", "customer", "order", "product")
    for event in ("created", "updated", "deleted", "restored")
}
_DELETE = ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.")
_CONTEXT = {"context": _COMMON["context"]}
# WC_REST_Taxes_V1_Controller's collection: ordered by the rate's order, id or priority,
# of one class (its slug, "standard" for the standard rates).
_TAXES = {
    **{k: _COMMON[k] for k in ("context", "page", "per_page", "offset")},
    "order": {**_COMMON["order"], "default": "asc"},
    "orderby": {"type": "string", "default": "order", "enum": ["id", "order", "priority"]},
    "class": {"type": "string", "enum": [slug for slug, _ in taxes.CLASSES]},
}
_NOTE_TYPE = {"type": {"type": "string", "default": "any", "enum": ["any", "customer", "internal"]}}


def _handlers(**views: tuple[Callable[[Call], Answer], dict, tuple | None]) -> dict:
    return {method: Handler(*view) for method, view in views.items()}


_UPDATE = (update_order, endpoint_args("order", "POST"), _EDIT)
_NEW_NOTE = {
    "note": {"type": "string", "required": True},
    "customer_note": {"type": "boolean", "default": False},
    "added_by_user": {"type": "boolean", "default": False},
}
_BATCH_ITEMS = {"type": "array", "items": {"type": "object"}}
_BATCH = (
    batch_orders,
    {
        "create": _BATCH_ITEMS,
        "update": _BATCH_ITEMS,
        "delete": {"type": "array", "items": {"type": "integer"}},
    },
    (
        "woocommerce_rest_cannot_batch",
        "Sorry, you are not allowed to batch manipulate this resource.",
    ),
)
_WEBHOOK_UPDATE = (update_webhook, {**_ITEM, **_WEBHOOK, "topic": {"type": "string"}}, _EDIT)
ROUTES = [
    Route("/", _handlers(GET=(site_index, {}, None))),
    Route("/wc/v3", _handlers(GET=(namespace_index, {}, None))),
    Route(
        "/wc/v3/orders",
        _handlers(
            GET=(list_orders, _ORDERS_GET, _LIST),
            POST=(create_order, endpoint_args("orders", "POST"), _CREATE),
        ),
        options="orders",
    ),
    Route(
        r"/wc/v3/orders/(?P<id>\d+)",
        _handlers(
            GET=(get_order, {**endpoint_args("order", "GET"), **_DP}, _VIEW),
            POST=_UPDATE,
            PUT=_UPDATE,
            PATCH=_UPDATE,
            DELETE=(delete_order, endpoint_args("order", "DELETE"), _DELETE),
        ),
        options="order",
    ),
    Route(
        "/wc/v3/orders/batch",
        _handlers(POST=_BATCH, PUT=_BATCH, PATCH=_BATCH),
    ),
    Route(
        r"/wc/v3/orders/(?P<order_id>\d+)/notes",
        _handlers(
            GET=(list_notes, {"context": _COMMON["context"], **_NOTE_TYPE}, _LIST),
            POST=(create_note, _NEW_NOTE, _CREATE),
        ),
    ),
    Route(
        r"/wc/v3/orders/(?P<order_id>\d+)/refunds",
        _handlers(
            GET=(list_refunds, {**_collection(["date", "id", "include"]), **_DP}, _LIST),
            POST=(
                create_refund,
                {
                    "amount": {"type": "string"},
                    "reason": {"type": "string"},
                    # A list, or an object keyed by item id: both reach wc_create_refund.
                    "line_items": {},
                    "api_restock": {"type": "boolean", "default": True},
                    "api_refund": {"type": "boolean", "default": True},
                    **_DP,
                },
                _CREATE,
            ),
        ),
    ),
    Route(
        "/wc/v3/products",
        _handlers(GET=(list_products, _collection(["date", "id", "include", "title"]), _LIST)),
    ),
    Route(r"/wc/v3/products/(?P<id>\d+)", _handlers(GET=(get_product, _ITEM, _VIEW))),
    Route(
        r"/wc/v3/products/(?P<product_id>\d+)/variations",
        _handlers(GET=(list_variations, _collection(["date", "id", "include", "title"]), _LIST)),
    ),
    Route(
        r"/wc/v3/products/(?P<product_id>\d+)/variations/(?P<id>\d+)",
        _handlers(GET=(get_variation, _ITEM, _VIEW)),
    ),
    Route(r"/wc/v3/customers/(?P<id>\d+)", _handlers(GET=(get_customer, _ITEM, _VIEW))),
    Route("/wc/v3/system_status", _handlers(GET=(system_status, {}, _LIST))),
    Route("/wc/v3/reports/orders/totals", _handlers(GET=(order_totals, {}, _LIST))),
    # Reading only: WooCommerce also takes POST, PUT and PATCH of one setting, and a batch.
    Route(r"/wc/v3/settings/(?P<group_id>[\w-]+)", _handlers(GET=(list_settings, {}, _LIST))),
    Route(
        r"/wc/v3/settings/(?P<group_id>[\w-]+)/(?P<id>[\w-]+)",
        _handlers(GET=(get_setting, {}, _LIST)),
    ),
    Route("/wc/v3/payment_gateways", _handlers(GET=(list_payment_gateways, _CONTEXT, _LIST))),
    Route("/wc/v3/shipping_methods", _handlers(GET=(list_shipping_methods, _CONTEXT, _LIST))),
    Route("/wc/v3/shipping/zones", _handlers(GET=(list_shipping_zones, {}, _LIST))),
    Route(
        r"/wc/v3/shipping/zones/(?P<zone_id>\d+)/methods",
        _handlers(GET=(list_zone_methods, {"zone_id": {"type": "integer"}}, _LIST)),
    ),
    Route("/wc/v3/taxes", _handlers(GET=(list_taxes, _TAXES, _LIST))),
    Route("/wc/v3/taxes/classes", _handlers(GET=(list_tax_classes, _CONTEXT, _LIST))),
    Route(
        "/wc/v3/webhooks",
        _handlers(
            GET=(
                list_webhooks,
                {**_collection(["date", "id", "include", "title"]), **_WEBHOOK_STATUS},
                _LIST,
            ),
            POST=(create_webhook, _WEBHOOK, _CREATE),
        ),
    ),
    Route(
        r"/wc/v3/webhooks/(?P<id>\d+)",
        _handlers(
            GET=(get_webhook, _ITEM, _VIEW),
            POST=_WEBHOOK_UPDATE,
            PUT=_WEBHOOK_UPDATE,
            PATCH=_WEBHOOK_UPDATE,
            DELETE=(
                delete_webhook,
                {**_ITEM, "force": {"type": "boolean", "default": False}},
                _DELETE,
            ),
        ),
    ),
]
