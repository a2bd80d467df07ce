"""Sign-in, sign-out, and the rule that every page but a few needs a signed-in user."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import routes  # noqa: E402, F401
