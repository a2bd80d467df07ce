"""Completeness audits (every store order of a window accounted for) and Webstore Orders,
the staging view of every store order the connector has seen."""

from flask import Blueprint

bp = Blueprint("audits", __name__)

from portal.audits import routes  # noqa: E402, F401
