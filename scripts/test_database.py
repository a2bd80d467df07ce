"""Print the database URL the test suite runs on: PostgreSQL, production's database,
whenever one answers, so that ``make test`` exercises what production runs.

- ``TEST_DATABASE_URL`` set: that one (``sqlite`` for SQLite in a temporary folder).
- Else PostgreSQL at ``TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432``)
  if it answers: its database ``connector_test``, made where missing.
- Else nothing: the suite makes an SQLite database of its own.
"""

import os
import sys

import psycopg
from psycopg import sql

DATABASE = "connector_test"


def postgres_url() -> str:
    server = os.environ.get("TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    try:
        with psycopg.connect(f"{server}/postgres", connect_timeout=2, autocommit=True) as admin:
            found = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]
            ).fetchone()
            if not found:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    except psycopg.OperationalError as error:
        print(
            f"PostgreSQL does not answer at {server} ({error}): testing on SQLite.", file=sys.stderr
        )
        return ""
    return f"{server}/{DATABASE}"


def main() -> None:
    given = os.environ.get("TEST_DATABASE_URL")
    if given is not None:
        print("" if given == "sqlite" else given)
    else:
        print(postgres_url())


if __name__ == "__main__":
    main()
