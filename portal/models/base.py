"""The declarative base shared by every model."""

import sqlite3
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from portal.text import fold

# Named constraints, so that Alembic can find and change them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator):
    """A timestamp that is always an aware UTC datetime in Python.

    SQLite drops the offset on the way in; PostgreSQL keeps it. Storing UTC and
    restoring the zone on the way out makes both behave the same.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Amounts to 4 decimals, unit prices to 6 (portal.sync.money says why): a store's yen,
# cents and fils are all kept as it sends them.
Money = sa.Numeric(19, 4)
UnitPrice = sa.Numeric(21, 6)
Quantity = sa.Numeric(14, 4)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def enum_type(enum_class, length: int = 20) -> sa.Enum:
    """Store an enum by its value ('open'), as a plain string column, checked on write."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


@sa.event.listens_for(sa.engine.Engine, "connect")
def configure_sqlite(dbapi_connection, connection_record) -> None:
    """Make SQLite enforce foreign keys and wait for a lock instead of failing at once, and
    know ``search_fold``, which the searches compare names by (PostgreSQL's is made by
    migration 0018)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("search_fold", 1, fold, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
