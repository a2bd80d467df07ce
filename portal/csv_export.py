"""CSV downloads: streamed, readable by Excel, and with no cell a spreadsheet would run.

A download's body is written after its view has returned, when the request's database
session and app context are gone: its rows are read then, by :func:`keyset_rows`, a chunk at
a time through connections of their own. No cursor or transaction stays open while a slow
client reads (on SQLite an open read would keep imports from writing), and a log of any
length streams in the memory of one chunk.
"""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from flask import Response

from portal import db

# How a cell that a spreadsheet would run as a formula starts (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows are sent in chunks of about this many characters.
CHUNK = 64_000
# Rows are read from the database this many at a time.
ROWS_PER_QUERY = 1_000


def csv_safe(value):
    """A CSV cell a spreadsheet shows as written: text that would start a formula gets a
    leading apostrophe, whatever its column (the store sends order numbers and names too);
    numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def keyset_rows(query: sa.Select, key, *, descending: bool = False) -> Iterator[sa.Row]:
    """The rows of ``query`` in the order of ``key`` (a unique column it selects under its
    own name), read ROWS_PER_QUERY at a time, each chunk by a short query that starts where
    the last one ended. Made in a view, they are read as the download streams."""
    engine = db.engine  # known here, in the view; the rows are read after it has returned
    ordered = query.order_by(key.desc() if descending else key).limit(ROWS_PER_QUERY)

    def chunks():
        chunk = ordered
        while True:
            with engine.connect() as connection:
                rows = connection.execute(chunk).all()
            yield from rows
            if len(rows) < ROWS_PER_QUERY:
                return
            last = rows[-1]._mapping[key.key]
            chunk = ordered.where(key < last if descending else key > last)

    return chunks()


def csv_download(filename: str, columns: list[str], rows: Iterable[Iterable]) -> Response:
    """``rows`` as a CSV attachment, streamed as they come, every cell made safe. Rows from
    the database must be read as they stream: see :func:`keyset_rows`."""
    body = csv_chunks(columns, rows)
    # The first chunk is made here, in the view: a database that fails on the first rows
    # gets the portal's error page, which a body that has begun can no longer be.
    first = next(body)
    return Response(
        itertools.chain([first], body),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_chunks(columns: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    buffer = io.StringIO()
    # A byte-order mark first: Excel then reads the file as UTF-8, accents intact.
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(map(csv_safe, row))
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
