"""Who may open what: a signed-in user for every page, a role for some."""

from functools import wraps

from flask import abort, request
from flask_login import current_user

from portal import login_manager
from portal.auth import sessions
from portal.models import Role, User

# Endpoints anyone may reach. The webhook authenticates by its signature instead, and
# /metrics by its bearer token or a scrape from this host (portal.metrics).
PUBLIC_ENDPOINTS = {"auth.login", "static", "health.healthz", "webhooks.receive", "metrics.scrape"}


# The session cookie carries a server-side session's token, not the user's id.
login_manager.id_attribute = "get_session_token"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    return sessions.user_for(token)


def require_sign_in():
    """Refuse anonymous users everywhere but the public endpoints."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def role_required(role: Role):
    """Let only users with at least ``role`` through; the others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403, f"This needs the {role} role; you are signed in as {current_user.role}.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.STAFF)
admin_required = role_required(Role.ADMIN)
