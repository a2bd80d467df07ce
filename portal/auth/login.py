"""Checking a password, with failed attempts rate-limited per user and address."""

import secrets
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

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
    # Hash for every name: an unknown one answered without hashing (some 15 ms against some
    # 190 ms) would tell which names exist; an inactive one, which are inactive.
    matches = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if user and user.active and matches:
        return user
    db.session.add(LoginFailure(username=username, address=address))
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at < since))
    db.session.commit()
    return None


@cache
def dummy_hash() -> str:
    """The hash of a password no one knows, made as ``User.set_password`` makes hashes (the
    same algorithm and cost): what a sign-in with an unknown name is checked against."""
    return generate_password_hash(secrets.token_urlsafe(32))
