"""Signed-in sessions kept on the server.

Flask's session is a signed cookie: whatever it holds stays good until it expires, so a
copy taken before signing out would still sign in. Here the cookie holds a random token
(Flask-Login's id attribute, see ``User.get_session_token``) and a ``user_sessions`` row,
found by the token's SHA-256, says the session is still on. Signing out deletes that row;
a password change or a deactivation deletes the user's rows but the one in use.

A row per session, rather than a counter per user, so that signing out on one computer
leaves the user's other computers signed in. A session ends when unseen for
SESSION_IDLE_HOURS, and in any case SESSION_MAX_DAYS after its sign-in.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal import db
from portal.models import User, UserSession
from portal.models.base import utcnow

# ``last_seen_at`` is written at most this often: pages poll every second or so.
SEEN_EVERY = timedelta(minutes=5)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def still_on(now) -> list:
    """The conditions of a session that is not over: seen lately, and started not too long
    ago however busy."""
    idle = timedelta(hours=current_app.config["SESSION_IDLE_HOURS"])
    longest = timedelta(days=current_app.config["SESSION_MAX_DAYS"])
    return [UserSession.last_seen_at >= now - idle, UserSession.created_at >= now - longest]


def start_session(user: User) -> str:
    """A new session for ``user``, who carries its token to ``login_user``."""
    now = utcnow()
    db.session.execute(sa.delete(UserSession).where(sa.not_(sa.and_(*still_on(now)))))
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(token_hash=digest(token), user_id=user.id, created_at=now, last_seen_at=now)
    )
    db.session.commit()
    user.session_token = token
    return token


def user_for(token: str) -> User | None:
    """The active user whose session ``token`` is still on, or None."""
    now = utcnow()
    found = db.session.execute(
        sa.select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == digest(token),
            *still_on(now),
            User.active,
        )
    ).first()
    if found is None:
        return None
    session, user = found
    if now - session.last_seen_at >= SEEN_EVERY:
        session.last_seen_at = now
        db.session.commit()
    user.session_token = token
    return user


def end_session(token: str) -> None:
    db.session.execute(sa.delete(UserSession).where(UserSession.token_hash == digest(token)))
    db.session.commit()


def end_sessions(user: User, keep: str | None = None) -> None:
    """End every session of ``user`` but ``keep``'s; the caller commits, with the change
    (a new password, a deactivation) that calls for it."""
    ended = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        ended = ended.where(UserSession.token_hash != digest(keep))
    db.session.execute(ended)
