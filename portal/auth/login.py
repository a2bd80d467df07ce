"""Checking a password, with failed attempts rate-limited per user and address."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal import db
from portal.models import LoginFailure, User
from portal.models.base import utcnow


class TooManyFailures(Exception):
    def __init__(self, minutes: int):
        super().__init__(
            f"Too many failed sign-ins for this user from your address. "
            f"Try again in {minutes} minutes."
        )


def authenticate(username: str, password: str, address: str) -> User | None:
    """Return the user whose password matches, or None; raise when locked out."""
    username = username.strip()
    window = timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    since = utcnow() - window
    failures = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.username == username,
            LoginFailure.address == address,
            LoginFailure.failed_at > since,
        )
    )
    if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        raise TooManyFailures(current_app.config["LOGIN_LOCKOUT_MINUTES"])
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user and user.active and user.check_password(password):
        return user
    db.session.add(LoginFailure(username=username, address=address))
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at < since))
    db.session.commit()
    return None
