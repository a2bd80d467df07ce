"""``/wp-admin/``: where a real store's WordPress admin would be. The sandbox has none.

The portal links each imported order to its edit page in the store's admin
(``/wp-admin/post.php?post=<id>&action=edit``). Rather than a bare 404, the sandbox says
what it is, and shows what it holds of that order: its status, total and customer, and its
notes (where the portal's store updates write), newest first, as the admin shows them.
Only loopback callers are served, as the control API is: it needs no key.
"""

from __future__ import annotations

import html
import ipaddress

from flask import Blueprint, abort, current_app, render_template_string, request

from . import render

bp = Blueprint("admin", __name__, url_prefix="/wp-admin")

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ title }} · Sandbox store</title></head>
<body>
<h1>{{ title }}</h1>
<p>This is the sandbox WooCommerce store of the Webstore Connector's demo. It speaks
WooCommerce's REST API only: it has no WordPress admin to open orders in.</p>
{% if order %}
<h2>What the store holds of order {{ order.number }}</h2>
<dl>
  <dt>Status</dt><dd>{{ order.status }}</dd>
  <dt>Total</dt><dd>{{ order.total }} {{ order.currency }}</dd>
  <dt>Customer</dt><dd>{{ order.billing.first_name }} {{ order.billing.last_name }}
    {%- if order.billing.email %} &lt;{{ order.billing.email }}&gt;{% endif %}</dd>
  <dt>Created</dt><dd>{{ order.date_created }}</dd>
  <dt>Last modified</dt><dd>{{ order.date_modified }}</dd>
</dl>
<h2>Notes</h2>
{% for note in notes %}
<p>{{ note.date_created }}, {{ "to the customer" if note.customer_note else "private" }}:
  {{ note.note|unescape }}</p>
{% else %}
<p>None.</p>
{% endfor %}
<p>The same, as the REST API gives it: {{ api }}/orders/{{ order.id }} and its notes.</p>
{% elif order_id %}
<p>It has no order {{ order_id }}.</p>
{% endif %}
</body>
</html>
"""


@bp.app_template_filter("unescape")
def unescape(text: str) -> str:
    """A note's entities (``&rarr;`` in "Stock levels reduced") as the characters they
    stand for; the page escapes the text again, so a note's markup shows as text."""
    return html.unescape(text)


@bp.before_request
def loopback_only() -> None:
    if not ipaddress.ip_address(request.remote_addr or "0.0.0.0").is_loopback:
        abort(403)


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def no_admin(path: str):
    """Any admin page: what the sandbox is; the order's edit page shows the order."""
    store = current_app.extensions["sandbox"].store
    site = request.url_root.rstrip("/")
    order_id = request.args.get("post", type=int) if path == "post.php" else None
    order = store.order(order_id) if order_id else None
    found = render.order(order, store.catalog, site, store.decimals, store.zone) if order else None
    notes = render.notes(order_id, store.notes(order_id) or [], site, store.zone) if order else []
    page = render_template_string(
        PAGE,
        title=f"Order {found['number']}" if found else "No admin here",
        order=found,
        order_id=order_id,
        notes=notes,
        api=f"{site}/wp-json/wc/v3",
    )
    return page, 200 if found or not order_id else 404
