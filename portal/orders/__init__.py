"""Webstore Sales Orders: the sales orders that imports created."""

from flask import Blueprint

from portal.sync.money import amount_text

bp = Blueprint("orders", __name__)

# Every page shows amounts through this one filter, in the record's own decimals:
# ``order.amount_including_tax|money(order.currency_decimals, order.currency)``.
bp.add_app_template_filter(amount_text, "money")

from portal.orders import routes  # noqa: E402, F401
