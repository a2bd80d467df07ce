"""The rows of one batch's transaction, written in a few statements.

On PostgreSQL the batch's lookups (``portal.sync.lookups``) go to the server in one
round trip, a pipeline (``run_all``); its rows are held and go in two statements, a
data-modifying CTE per table over ``json_populate_recordset`` (``Inserts``). Elsewhere
(SQLite) each statement is sent at once, by SQLAlchemy. The statements are the same
SQLAlchemy ones on both, compiled once for each database.
"""

import contextlib
from datetime import date, datetime
from decimal import Decimal

import orjson
import sqlalchemy as sa
from psycopg.types.json import Json

from portal import db
from portal.models import Outcome, SyncRun
from portal.models.health import StoreOrder
from portal.sync import seen
from portal.sync.numbers import next_numbers

RUN_COUNTS = ("fetched", *(str(outcome) for outcome in Outcome))

# Adds a batch's counts (``add_<count>``) to its run's, beats its heartbeat and, with
# ``settled`` (not None), records the listing page a retry starts after.
COUNT_RUN = (
    sa.update(SyncRun)
    .where(SyncRun.id == sa.bindparam("run"))
    .values(
        {
            **{
                name: getattr(SyncRun, name) + sa.bindparam(f"add_{name}", type_=sa.Integer)
                for name in RUN_COUNTS
            },
            "heartbeat_at": sa.bindparam("now", type_=sa.DateTime(timezone=True)),
            "pages_settled": sa.func.coalesce(
                sa.bindparam("settled", type_=sa.Integer), SyncRun.pages_settled
            ),
        }
    )
)

# Settings for a batch's transaction alone (PostgreSQL).
# - synchronous_commit off: the COMMIT returns without waiting for its WAL to reach the
#   disk. Safe here: a crash of the database server can lose the last few batches
#   committed (whole ones: each is one transaction with its links, log entries and counts),
#   never a part of one, and never one while a later transaction survives (the WAL is
#   flushed in order). An order whose batch was lost has no link: the next run imports it.
# - enable_seqscan and enable_bitmapscan off: every lookup is by a unique key, which a
#   btree index scan answers, whatever the statistics say of tables that a big import is
#   growing. Left to itself, PostgreSQL may read customers in full, or take the trigram
#   index (gin_trgm_ops, for the order search) for ``email = ANY(...)``; while an import
#   fills that index's pending list, each such lookup reads the whole list, hundreds of
#   milliseconds per batch by the end of a large first import. GIN is read by bitmap
#   scans only.
BATCH_SETTINGS = sa.select(
    sa.func.set_config("synchronous_commit", "off", True),
    sa.func.set_config("enable_seqscan", "off", True),
    sa.func.set_config("enable_bitmapscan", "off", True),
)

# Numbers from a series and ids from the table's sequence for ``count`` new records.
RESERVE = """
WITH taken AS (
    UPDATE number_series SET last_no = last_no + %(count)s WHERE code = %(series)s
    RETURNING last_no, prefix, digits
)
SELECT last_no, prefix, digits, ARRAY(
    SELECT nextval((SELECT pg_get_serial_sequence(%(table)s, 'id')))
    FROM generate_series(1, %(count)s)
)
FROM taken
"""


_compiled: dict[tuple[int, str], tuple] = {}


def compiled(statement, dialect, params: dict) -> tuple[str, dict]:
    """The statement's text for ``dialect``, compiled once, and its parameters.

    The batch statements bind only numbers, strings, dates and lists (``lookups.values``),
    which psycopg takes as they are: no bind processor of SQLAlchemy's is needed.
    """
    key = (id(statement), dialect.name)
    if key not in _compiled:
        # The statement is kept with its text: its id stays its own.
        _compiled[key] = (statement, statement.compile(dialect=dialect))
    text = _compiled[key][1]
    return text.string, text.construct_params(params)


def run_all(connection, calls: list[tuple]) -> list[list[tuple]]:
    """Run (statement, parameters) in order; their rows. On PostgreSQL in one round trip:
    the server still runs them in order, each seeing what the ones before it did."""
    if connection.dialect.name != "postgresql":
        results = [connection.execute(statement, params) for statement, params in calls]
        return [list(result) if result.returns_rows else [] for result in results]
    raw = connection.connection.driver_connection
    with raw.pipeline():
        cursors = [raw.execute(*compiled(s, connection.dialect, p)) for s, p in calls]
    return [cursor.fetchall() if cursor.description else [] for cursor in cursors]


class Inserts:
    """The rows one transaction adds, and the run's counts that grow with them.

    On PostgreSQL the rows are held and go to the server in two statements, a
    data-modifying CTE per table over ``json_populate_recordset``: the records that take
    numbers (customers, items, sales orders) as soon as they are numbered, without waiting
    (``send_ahead``), and the rest with the run's counts and the COMMIT (``send``), all
    in one pipeline. Their numbers and ids are reserved beforehand in one statement. A
    batch thus waits for three round trips (lookups, reservation, rows), whatever it
    holds, besides the connection's own (psycopg's BEGIN; the pool's check of the
    connection): the client waits less, and wakes up less often to wait for the GIL
    behind the threads that parse the store's answers. Elsewhere (SQLite) each insert is
    sent at once, by SQLAlchemy.
    """

    def __init__(self):
        self.connection = db.session.connection()
        self.together = self.connection.dialect.name == "postgresql"
        self.tables: dict[sa.Table, list[dict]] = {}
        # The store orders met (portal.sync.seen): recorded after the rows, with their links.
        self.seen: list[dict] = []
        self.reserved: dict[str, tuple] = {}
        self.closing: contextlib.ExitStack | None = None
        self.pipelined = False

    @property
    def raw(self):
        return self.connection.connection.driver_connection

    @contextlib.contextmanager
    def batch(self):
        """Where rows may be sent ahead (PostgreSQL): see ``send_ahead``."""
        with contextlib.ExitStack() as self.closing:
            try:
                yield
            finally:
                self.closing = None
                self.pipelined = False

    def pipeline(self, statements: list[tuple[str, dict]]) -> list[list[tuple]]:
        """Run SQL texts in order, in one round trip (PostgreSQL); their rows."""
        raw = self.raw
        with raw.pipeline():
            cursors = [raw.execute(sql, params) for sql, params in statements]
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]

    def reserve(self, wanted: list[tuple[type, str, int]]) -> None:
        """Take numbers and ids for (model, series, count) ahead, together (PostgreSQL)."""
        wanted = [(model, series, count) for model, series, count in wanted if count]
        if not self.together or not wanted:
            return
        statements = [
            (RESERVE, {"count": count, "series": series, "table": model.__tablename__})
            for model, series, count in wanted
        ]
        for (_, series, _), taken in zip(wanted, self.pipeline(statements), strict=True):
            if not taken:
                raise LookupError(f"number series {series} does not exist; run 'flask db upgrade'")
            self.reserved[series] = taken[0]

    def numbered(self, model, series: str, rows: list[dict]) -> list[tuple[str, int]]:
        """Add records numbered from ``series``; return their numbers and ids, in order."""
        count = len(rows)
        if not self.together:
            numbers = next_numbers(series, count)
            statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
            ids = db.session.scalars(
                statement, [{**r, "number": n} for r, n in zip(rows, numbers, strict=True)]
            )
            return list(zip(numbers, ids, strict=True))
        if series not in self.reserved:
            self.reserve([(model, series, count)])
        last_no, prefix, digits, ids = self.reserved.pop(series)
        numbers = [f"{prefix}{n:0{digits}d}" for n in range(last_no - count + 1, last_no + 1)]
        made = list(zip(numbers, ids, strict=True))
        self.add(model, [{**r, "number": n, "id": i} for r, (n, i) in zip(rows, made, strict=True)])
        return made

    def add(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        if self.together:
            self.tables.setdefault(model.__table__, []).extend(rows)
        else:
            db.session.execute(sa.insert(model), rows)

    def add_seen(self, rows: list[dict]) -> None:
        """Record the store orders the transaction met (``seen.rows_from_log``); on
        PostgreSQL in the round trip of ``send``, after the rows, whose links it reads."""
        if not rows:
            return
        if self.together:
            self.seen.extend(rows)
        else:
            seen.record(rows)

    def send_ahead(self) -> None:
        """Send the rows held so far without waiting for the server (in a batch).

        This opens a pipeline: the server goes to work at once, and the results are read
        when the batch ends, in the round trip that also carries the rest of the rows and
        the COMMIT (``send``); the first error is raised then (the caller rolls back), or
        any error of Python's before it. Nothing may read the database in between: in a
        pipeline, no statement's result is ready until the batch ends.
        """
        if not (self.together and self.closing and self.tables):
            return
        if not self.pipelined:
            self.closing.enter_context(self.raw.pipeline())
            self.pipelined = True
        self.raw.execute(*self._insert_statement())

    def send(self, run_id: int, counts: dict, now, settled: int | None = None) -> None:
        """Send the rows held, and add ``counts`` (fetched and per outcome) to the run's;
        with ``settled``, record the listing page a retry of the run starts after.

        After rows sent ahead, the COMMIT follows in the same pipeline.
        """
        params = {f"add_{name}": counts[name] for name in RUN_COUNTS}
        params.update(run=run_id, now=now, settled=settled)
        if not self.together:
            db.session.execute(COUNT_RUN, params)
            return
        count_run, params = compiled(COUNT_RUN, self.connection.dialect, params)
        statement, rows = self._insert_statement(count_run)
        statements = [(statement, {**rows, **params}), *self._seen_statement()]
        if not self.pipelined:
            self.pipeline(statements)
            return
        for statement, params in statements:
            self.raw.execute(statement, params)
        # Read with the other results when the batch ends: nothing is asked of the server
        # after the COMMIT. SQLAlchemy's own commit then finds no transaction left to end.
        self.raw.execute("COMMIT")

    def _seen_statement(self) -> list[tuple[str, dict]]:
        """The statement recording the store orders met, if any were."""
        if not self.seen:
            return []
        _, payload = json_rows(StoreOrder.__table__, self.seen)
        self.seen = []
        return [(seen.upsert_from_json(self.connection.dialect), {"seen": payload})]

    def _insert_statement(self, final: str = "") -> tuple[str, dict]:
        """One statement inserting every row held (a CTE per table), then ``final``."""
        quote = self.connection.dialect.identifier_preparer.quote
        ctes, params = [], {}
        for position, (table, rows) in enumerate(self.tables.items()):
            names, payload = json_rows(table, rows)
            columns = ", ".join(quote(name) for name in names)
            ctes.append(
                f"insert_{position} AS (INSERT INTO {quote(table.name)} ({columns}) "
                f"SELECT {columns} FROM json_populate_recordset(NULL::{quote(table.name)}, "
                f"%(rows_{position})s::json))"
            )
            params[f"rows_{position}"] = payload
        self.tables = {}
        if not final:
            # A CTE needs a main statement; this one reads nothing.
            final = "SELECT 1 WHERE false"
        if ctes:
            return "WITH " + ",\n".join(ctes) + "\n" + final, params
        return final, params


def json_rows(table: sa.Table, rows: list[dict]) -> tuple[list[str], Json]:
    """The rows as a JSON array for ``json_populate_recordset``, and the columns to insert.

    The array goes to psycopg as orjson encoded it, UTF-8 bytes (``Json`` with ``encoded``):
    decoding a batch's rows to text for psycopg to encode again cost a millisecond or two.

    Columns a row leaves out get their Python-side default, as through SQLAlchemy; enum
    values are checked as the column type checks them.
    """
    defaults = {}
    for column in table.columns:
        default = column.default
        if default is not None and not column.primary_key:
            defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    names = list(set().union(defaults, *rows))
    if any(len(row) < len(names) for row in rows):
        rows = [{**defaults, **row} for row in rows]
    for name in names:
        if isinstance(table.c[name].type, sa.Enum):
            check_enum(table.c[name], rows)
    # orjson: a batch's rows are thousands of values, encoded on the writer's thread.
    payload = orjson.dumps(rows, default=json_value, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return names, Json(payload, dumps=encoded)


def encoded(payload: bytes) -> bytes:
    """For psycopg's ``Json``: a payload that is JSON already."""
    return payload


def check_enum(column: sa.Column, rows: list[dict]) -> None:
    allowed = frozenset(column.type.enums)
    for row in rows:
        value = row.get(column.name)
        # The enums are StrEnums: a member is equal to its value.
        if value is not None and value not in allowed:
            raise ValueError(f"{value!r} is not a valid {column.table.name}.{column.name}")


def json_value(value):
    """Decimals, times and dates, as ``json_populate_recordset`` reads them."""
    if type(value) is Decimal:
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime given for a UTC column: {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} {value!r} cannot be written as JSON")


def error_text(error: Exception) -> str:
    if isinstance(error, orjson.JSONEncodeError) and error.__cause__:
        error = error.__cause__  # what our ``default`` refused, and why
    return str(getattr(error, "orig", None) or error).splitlines()[0][:500]
