"""Bad input never gets a 500: every route, walked with values people and attackers make up."""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.routing import ValidationError

from portal import db
from portal.converters import (
    MAX_ID,
    IdConverter,
    clean_text,
    day,
    page_number,
    positive_id,
    whole_number,
)
from portal.models import SyncRun

BAD_VALUES = [
    "\x00abc",
    "²",
    "9" * 30,
    "9" * 5000,
    "-1",
    "x" * 10_000,
    "'\"<script>",
    "0",
]
# The query and form names the pages read; each gets every bad value.
NAMES = [
    "q",
    "page",
    "after",
    "before",
    "customer",
    "webstore",
    "status",
    "statuses",
    "sort",
    "order_id",
    "start_date",
    "date_from",
    "date_to",
    "from",
    "to",
    "outcome",
    "settled",
    "trigger",
    "next",
    "product_id",
    "variation_id",
    "item_number",
    "woo_customer_id",
    "customer_number",
    "target",
    "code",
    "name",
    "email",
    "unit_price",
    "description",
]
# Signing out ends the walk; the webhook has its own tests (it answers without a session).
SKIPPED_ENDPOINTS = {"static", "auth.logout", "webhooks.receive"}


# The converters


def test_whole_numbers_are_ascii_digits_within_range():
    assert whole_number("42") == 42
    assert whole_number(" 7 ") == 7
    for bad in ("²", "٣", "-1", "1.5", "1e3", "", None, "9" * 20, "0x10"):
        assert whole_number(bad) is None
    assert whole_number(str(2**63)) is None
    assert positive_id("0") is None and positive_id(str(MAX_ID)) == MAX_ID
    assert positive_id(str(MAX_ID + 1)) is None


def test_page_numbers_days_and_text():
    assert [page_number(v) for v in ("3", "0", "²", "9" * 30, None)] == [3, 1, 1, 1, 1]
    assert day("2026-12-01") == date(2026, 12, 1) and day("2026-13-01") is None
    assert day("²") is None
    assert clean_text(" a\x00b\x07c\td ", 4) == "abc\t"


def test_an_id_in_a_path_matches_only_within_the_columns_range():
    converter = IdConverter(None)
    assert converter.to_python("12") == 12
    for bad in ("0", str(MAX_ID + 1)):
        with pytest.raises(ValidationError):
            converter.to_python(bad)
    assert re.fullmatch(converter.regex, "²") is None


# Every route


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        methods = sorted(rule.methods & {"GET", "POST"})
        yield rule, methods


def paths(rule, value: str, real_ids: dict) -> list[str]:
    """The rule's path with each argument the bad value in turn, the others real."""
    args = re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)
    out = []
    for _, bad_arg in args:
        path = rule.rule
        for converter, arg in args:
            real = str(real_ids.get(arg, 1)) if converter == "id" else "DEMO"
            path = re.sub(rf"<(?:\w+:)?{arg}>", value if arg == bad_arg else real, path)
        out.append(path)
    return out or [rule.rule]


def test_no_route_answers_500_to_bad_values(app, signed_in_admin, demo_webstore, webstore):
    from tests.sync_helpers import run_import

    run_import(demo_webstore, order_id=44)
    real_ids = {
        "run_id": db.session.scalar(sa.select(SyncRun.id)),
        "webstore_id": demo_webstore.id,
    }
    failures = []
    for rule, methods in routes(app):
        for value in BAD_VALUES:
            query = {name: value for name in NAMES}
            for path in paths(rule, value, real_ids):
                for method in methods:
                    status = answer(signed_in_admin, method, path, query)
                    if status != "ok":
                        failures.append(f"{method} {path[:60]} {value[:12]!r}: {status}")
    assert failures == []


def answer(portal, method: str, path: str, query: dict) -> str:
    """ "ok", or what a server would have answered 500 for (the tests' app raises it)."""
    try:
        if method == "GET":
            response = portal.get(path, query_string=query)
        else:
            response = portal.post(path, dict(query))
    except Exception as error:  # noqa: BLE001 - each is a failure to list, not to stop on
        db.session.rollback()
        return f"{type(error).__name__}: {str(error)[:100]}"
    return "ok" if response.status_code < 500 else str(response.status_code)


def test_a_nul_byte_is_refused_with_a_plain_message(signed_in_viewer):
    response = signed_in_viewer.get("/?q=%00abc")

    assert response.status_code == 400
    assert "control character (such as NUL)" in response.text
    assert "psycopg" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/orders/99999999999999999999",
        "/imports/runs/99999999999999999999",
        "/imports/runs/99999999999999999999/entries.csv",
        "/customers/²",
        "/items/-1",
    ],
)
def test_ids_out_of_range_in_paths_are_404(signed_in_viewer, path):
    assert signed_in_viewer.get(path).status_code == 404


@pytest.mark.parametrize("name", ["page", "after", "before", "customer"])
@pytest.mark.parametrize("value", ["²", "9" * 30])
def test_bad_list_positions_are_left_out(signed_in_viewer, name, value):
    response = signed_in_viewer.get("/", query_string={name: value})

    assert response.status_code == 200


def test_an_order_id_beyond_what_a_store_holds_is_refused_by_the_form(
    signed_in_staff, demo_webstore
):
    response = signed_in_staff.post(
        "/imports/", {"webstore": "DEMO", "order_id": "9223372036854775808"}
    )

    assert response.status_code == 422
    assert "Order ID must be a whole number from 1 to 9223372036854775807" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_a_run_that_stops_on_an_unexpected_error_shows_a_sentence_not_sql(
    signed_in_viewer, demo_webstore, monkeypatch, caplog
):
    from sqlalchemy.exc import DataError

    from portal.sync.importer import OrderImport
    from tests.sync_helpers import run_import

    def fail(self):
        raise DataError("WITH insert_0 AS (INSERT INTO sales_orders ...)", {}, Exception("oops"))

    monkeypatch.setattr(OrderImport, "execute", fail)

    run = run_import(demo_webstore)
    page = signed_in_viewer.get(f"/imports/runs/{run.id}").text

    assert run.reason.startswith("The import stopped on an unexpected error")
    assert f"under run {run.id}" in run.reason
    for leaked in ("INSERT", "insert_0", "oops", "DataError"):
        assert leaked not in page
    assert "INSERT INTO sales_orders" in caplog.text  # for whoever runs the connector
