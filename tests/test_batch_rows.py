"""How a batch's rows are encoded for PostgreSQL's json_populate_recordset, and looked up."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest

from portal import db
from portal.models import LineType, SalesLine, SalesOrder, SyncLogEntry
from portal.sync.bulk import BATCH_SETTINGS, compiled, error_text, json_rows, run_all
from portal.sync.lookups import CUSTOMERS_BY_EMAIL


def test_money_times_dates_and_enums_are_written_as_postgresql_reads_them():
    names, payload = json_rows(
        SalesLine.__table__,
        [{"line_type": LineType.SHIPPING, "unit_price": Decimal("4.90"), "quantity": Decimal(1)}],
    )

    (row,) = json.loads(payload.obj)
    assert row["line_type"] == "shipping"
    assert row["unit_price"] == "4.90"
    assert row["quantity"] == "1"
    assert set(names) == set(row)


def test_a_time_without_timezone_is_refused_with_the_reason():
    with pytest.raises(orjson.JSONEncodeError) as refused:
        json_rows(SyncLogEntry.__table__, [{"created_at": datetime(2026, 11, 27, 12, 0)}])

    assert error_text(refused.value).startswith("naive datetime given for a UTC column")


def test_an_enum_value_the_column_does_not_know_is_refused():
    with pytest.raises(ValueError, match="'maybe' is not a valid sync_log_entries.outcome"):
        json_rows(SyncLogEntry.__table__, [{"outcome": "maybe"}])


def test_aware_times_and_dates_keep_their_values():
    moment = datetime(2026, 11, 27, 12, 30, 5, 123456, tzinfo=UTC)
    _, payload = json_rows(
        SalesOrder.__table__, [{"order_date": date(2026, 11, 27), "ordered_at": moment}]
    )

    (row,) = json.loads(payload.obj)
    assert row["order_date"] == "2026-11-27"
    assert datetime.fromisoformat(row["ordered_at"]) == moment


def test_a_batch_finds_customers_by_email_through_the_unique_index(app):
    # PostgreSQL may otherwise answer the lookup from the trigram index of the order
    # search, and read that index's whole pending list for every batch of an import.
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    connection = db.session.connection()
    emails = {"emails": ["ann@example.com", "bo@example.com"]}
    text, params = compiled(CUSTOMERS_BY_EMAIL, connection.dialect, emails)
    run_all(connection, [(BATCH_SETTINGS, {})])
    plan = connection.connection.driver_connection.execute("EXPLAIN " + text, params).fetchall()
    db.session.rollback()

    assert "Index Scan using uq_customers_email" in "\n".join(line for (line,) in plan)
