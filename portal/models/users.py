"""Who signs in, with which role, their signed-in sessions, and the failed sign-ins that lock
them out for a while."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models.base import Base, UTCDateTime, enum_type, utcnow


class Role(enum.StrEnum):
    """Roles in rising order of power: each can do all that the ones before it can."""

    VIEWER = "viewer"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(enum_type(Role, 16))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The token of the session this object was signed in or loaded with (not a column).
    session_token = None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, role: Role | str) -> bool:
        return Role(self.role).rank >= Role(role).rank

    @property
    def is_active(self) -> bool:
        return self.active

    def get_session_token(self) -> str:
        """What the session cookie carries (Flask-Login's id attribute): the token of a
        server-side session, so that ending the session on the server ends the cookie."""
        if not self.session_token:
            raise RuntimeError(f"{self!r} has no session: start one before signing in")
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginFailure(Base):
    """A failed sign-in, kept for a while to rate-limit guessing per user and address."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_lookup", "username", "address", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UserSession(Base):
    """A signed-in browser. Its session cookie carries a random token; this row, found by the
    token's SHA-256, says the session is still on. Signing out deletes the row; a password
    change or a deactivation deletes the user's other rows."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most every few minutes, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
