"""WooCommerce webhooks: signed order events that queue a single-order import (with the
order's refunds, once the webstore synchronizes them: ``portal.sync.refunds``).

The only view without sign-in and without a CSRF token: the signature is its authentication.
"""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from portal.webhooks import routes  # noqa: E402, F401
