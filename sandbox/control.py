"""``/_sandbox``: the knobs and levers tests and benchmarks pull. Never faulty, never slow.

No authentication, but only loopback callers are served.

=======================================  ==============================================
``GET|POST /_sandbox/faults``            read or change knobs (``Knobs`` field names)
``POST /_sandbox/reset``                 store, knobs and counters back to the start
``POST /_sandbox/orders``                ``{"count": n}`` adds n orders, or one order
                                         shaped by overrides (``Store.create_custom``)
``POST /_sandbox/orders/<id>/modify``    change an order (``Store.modify_order``)
``POST /_sandbox/orders/<id>/refund``    refund it by lines or amount, restocking or not
``POST /_sandbox/orders/<id>/trash``     to the trash (``{"date_modified"}`` optional)
``POST /_sandbox/orders/<id>/restore``   out of the trash, as the admin's Restore
``POST /_sandbox/orders/<id>/delete``    deleted for good
``GET|POST /_sandbox/orders/<id>/notes``  the order's notes; add one (``{"note",
                                         "customer_note"}``), as a shop manager would
``GET /_sandbox/stats``                  what was served
``POST /_sandbox/webhooks``              ``{"url", "secret"}``: where order events go
``GET|POST /_sandbox/settings``          the store's money: ``{"currency", "decimals",
                                         "thousand_separator", "decimal_separator"}``
=======================================  ==============================================
"""

from __future__ import annotations

import dataclasses
import ipaddress
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, jsonify, request

from . import render
from .model import WooError

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


@bp.before_request
def loopback_only() -> None:
    if not ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback:
        abort(403)


@bp.errorhandler(WooError)
def refused(error: WooError):
    return jsonify(error=error.message, code=error.code), error.status


@bp.errorhandler(ValueError)
def invalid(error: ValueError):
    return jsonify(error=str(error)), 400


def _sandbox():
    return current_app.extensions["sandbox"]


def _site() -> str:
    return request.url_root.rstrip("/")


@bp.route("/faults", methods=["GET", "POST"])
def faults():
    knobs = _sandbox().faults
    if request.method == "POST":
        knobs.update(request.get_json(force=True) or {})
    return jsonify(dataclasses.asdict(knobs.knobs))


@bp.post("/reset")
def reset():
    _sandbox().reset()
    return jsonify(reset=True)


@bp.post("/orders")
def create_orders():
    sandbox = _sandbox()
    body = request.get_json(force=True) or {}
    if "count" in body:
        orders = sandbox.store.generate_orders(int(body["count"]))
        for order in orders:
            sandbox.notify("order.created", _order_json(order), _site())
        return jsonify(ids=[o.id for o in orders]), 201
    order = sandbox.store.create_custom(_parsed(body))
    data = _order_json(order)
    sandbox.notify("order.created", data, _site())
    return jsonify(data), 201


@bp.post("/orders/<int:order_id>/modify")
def modify_order(order_id: int):
    return jsonify(_modified(order_id, _parsed(request.get_json(force=True) or {})))


def _modified(order_id: int, changes: dict) -> dict:
    """The order changed, announced with ``order.updated`` where WooCommerce announces it."""
    store = _sandbox().store
    before = store.order(order_id)
    data = _order_json(store.modify_order(order_id, changes))
    if store.fires_update_hook(before.status, data["status"]):
        _sandbox().notify("order.updated", data, _site())
    return data


@bp.post("/orders/<int:order_id>/refund")
def refund_order(order_id: int):
    """A refund as a shop manager makes it in the admin: ``lines`` ([{id, quantity}], with
    ``refund_total`` and ``refund_tax`` to override what the form works out), ``amount``
    (default: what the lines add up to), ``restock``, ``reason`` and ``date_modified``
    (when it was made; default now). The refund's JSON."""
    sandbox = _sandbox()
    body = _parsed(request.get_json(force=True) or {})
    amount = body.get("amount")
    order, refund = sandbox.store.refund_order(
        order_id,
        sandbox.store.amount_of(order_id, amount),
        str(body.get("reason") or ""),
        body.get("lines"),
        restock=bool(body.get("restock", False)),
        refund_payment=bool(body.get("refund_payment", False)),
        fill=True,
        moment=body.get("date_modified"),
    )
    sandbox.notify("order.updated", _order_json(order), _site())
    store = sandbox.store
    return jsonify(render.refund(order, refund, store.catalog, _site(), zone=store.zone)), 201


@bp.route("/orders/<int:order_id>/notes", methods=["GET", "POST"])
def order_notes(order_id: int):
    store = _sandbox().store
    if request.method == "POST":
        body = request.get_json(force=True) or {}
        store.add_note(order_id, str(body["note"]), bool(body.get("customer_note", False)))
    records = store.notes(order_id)
    if records is None:
        raise WooError("woocommerce_rest_shop_order_invalid_id", "Invalid order ID.", 404)
    return jsonify(render.notes(order_id, records, _site(), store.zone))


@bp.post("/orders/<int:order_id>/trash")
def trash_order(order_id: int):
    """As ``DELETE /orders/<id>``: to the trash, modified ``date_modified`` (default now).
    The order's JSON as it is now, in the trash."""
    sandbox = _sandbox()
    moment = _given_moment()
    sandbox.store.trash_order(order_id, moment)
    sandbox.notify("order.deleted", {"id": order_id}, _site())
    return jsonify(_order_json(sandbox.store.order(order_id)))


@bp.post("/orders/<int:order_id>/restore")
def restore_order(order_id: int):
    """The admin's Restore of a trashed order, at ``date_modified`` (default now): back to
    the status it had, announced with ``order.restored``. The order's JSON."""
    sandbox = _sandbox()
    moment = _given_moment()
    data = _order_json(sandbox.store.restore_order(order_id, moment))
    sandbox.notify("order.restored", data, _site())
    return jsonify(data)


@bp.post("/orders/<int:order_id>/delete")
def delete_order(order_id: int):
    """As ``DELETE /orders/<id>?force=true``: gone for good, and as in WooCommerce no webhook
    says so. The order's JSON as it was."""
    return jsonify(_order_json(_sandbox().store.delete_order(order_id)))


@bp.post("/orders/bulk-modify")
def bulk_modify():
    """A bulk action of the admin: the same change to many orders, stamped with one second
    (``date_modified``, default now), as WooCommerce's bulk status change does."""
    body = _parsed(request.get_json(force=True) or {})
    ids = [int(i) for i in body.pop("ids", [])]
    body.setdefault("date_modified", int(_sandbox().store.clock()))
    for order_id in ids:
        _modified(order_id, body)
    return jsonify(ids=ids, date_modified=body["date_modified"])


@bp.route("/settings", methods=["GET", "POST"])
def money_settings():
    """The store's currency and number of decimals, changed as a shop manager changes them
    in WooCommerce's general settings: ``/system_status``, the settings API and ``dp``'s
    default follow, and orders made from then on are worked out in the new precision;
    orders made before keep their amounts (``Store.set_money``). A reset goes back to the
    money the store started with."""
    store = _sandbox().store
    if request.method == "POST":
        store.set_money(**(request.get_json(force=True) or {}))
    return jsonify(dataclasses.asdict(store.money))


@bp.get("/stats")
def stats():
    return jsonify(_sandbox().stats.snapshot())


@bp.post("/stats/reset")
def reset_stats():
    """Count afresh from here (the store's orders stay as they are)."""
    _sandbox().stats.reset()
    return jsonify(reset=True)


@bp.post("/webhooks")
def webhooks():
    body = request.get_json(force=True) or {}
    hooks = _sandbox().store.set_webhook_target(body.get("url"), body.get("secret", ""))
    return jsonify([render.webhook(h, _site(), _sandbox().store.zone) for h in hooks])


def _given_moment() -> int | None:
    """The body's ``date_modified``, a Unix time, if the body gives one."""
    return _parsed(request.get_json(force=True, silent=True) or {}).get("date_modified")


def _order_json(order) -> dict:
    store = _sandbox().store
    return render.order(order, store.catalog, _site(), store.decimals, store.zone)


def _parsed(changes: dict) -> dict:
    """Dates arrive as ISO 8601 (UTC unless they say otherwise); the store wants Unix times."""
    parsed = dict(changes)
    for name in ("date_created", "date_modified"):
        if isinstance(parsed.get(name), str):
            moment = datetime.fromisoformat(parsed[name].replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            parsed[name] = int(moment.timestamp())
    return parsed
