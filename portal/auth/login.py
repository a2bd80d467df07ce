"""Checking a password, with attempts rate-limited per user and address.

An attempt is written down, and its place among the window's attempts counted, before its
password is checked, one attempt of a user and address at a time: of any number of sign-ins
at once, only the first LOGIN_MAX_FAILURES get their password checked. A correct password
takes its attempt back; the others stay as failures for the lockout's length.
"""

import secrets
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from portal import db
from portal.models import LoginFailure, User
from portal.models.base import utcnow

# Shorter passwords are refused, in the users form and by `flask create-user`.
MIN_PASSWORD_LENGTH = 12


class TooManyFailures(Exception):
    def __init__(self, minutes: int):
        super().__init__(
            f"Too many failed sign-ins for this user from your address. "
            f"Try again in {minutes} minutes."
        )


def authenticate(username: str, password: str, address: str) -> User | None:
    """Return the user whose password matches, or None; raise when locked out."""
    username = username.strip()
    minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
    since = utcnow() - timedelta(minutes=minutes)
    attempt, place = write_down_attempt(username, address, since)
    if place > current_app.config["LOGIN_MAX_FAILURES"]:
        take_back(attempt)  # a refused attempt checked nothing: it does not lengthen the lockout
        raise TooManyFailures(minutes)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    # Hash for every name: an unknown one answered without hashing (some 15 ms against some
    # 190 ms) would tell which names exist; an inactive one, which are inactive.
    matches = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if user and user.active and matches:
        take_back(attempt)
        return user
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at < since))
    db.session.commit()
    return None


def write_down_attempt(username: str, address: str, since) -> tuple[int, int]:
    """Write an attempt down; return it and its place among the attempts since ``since``."""
    if db.session.get_bind().dialect.name == "postgresql":
        # One attempt written at a time (SQLite writes one at a time anyway), so that each
        # counts every attempt before it. Reads go on; the lock ends with the commit.
        db.session.execute(sa.text("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE"))
    attempt = LoginFailure(username=username, address=address)
    db.session.add(attempt)
    db.session.flush()
    written, place = attempt.id, attempts_since(username, address, since)
    db.session.commit()
    return written, place


def attempts_since(username: str, address: str, since) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.username == username,
            LoginFailure.address == address,
            LoginFailure.failed_at > since,
        )
    )


def take_back(attempt: int) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.id == attempt))
    db.session.commit()


@cache
def dummy_hash() -> str:
    """The hash of a password no one knows, made as ``User.set_password`` makes hashes (the
    same algorithm and cost): what a sign-in with an unknown name is checked against."""
    return generate_password_hash(secrets.token_urlsafe(32))
