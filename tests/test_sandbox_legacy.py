"""The sandbox store on WooCommerce's legacy order storage, the posts table (``--storage
posts``), beside the same store on HPOS, its own order tables (the default).

The posts table keeps an order's times twice, in the store's local time (``post_date``,
``post_modified``) and in GMT. WordPress sorts by the local columns and compares dates with
them unless ``dates_are_gmt`` asks for the GMT ones, so in the hour the clocks repeat when
they go back, local order is not the order of events. The store here is in Berlin, whose
clocks went back at 03:00 on 25 October 2026: its local 02:00-03:00 was 00:00-01:00 UTC,
then again 01:00-02:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sandbox.generate import REPEATED_HOUR_EDITS, SAME_WALL_CLOCK_PAIRS, YEAR, repeated_hour
from sandbox.process import SandboxProcess
from tests.test_sandbox_lifecycle import deliveries, trash_meta
from tests.test_sandbox_store import get
from tests.test_sandbox_store import receiver as receiver

BERLIN = ZoneInfo("Europe/Berlin")
UNTIL = 1795719924  # 2026-11-26T19:05:24Z
# Three orders changed in Berlin's repeated hour: in its first pass (CEST, +02:00), then
# twice in its second (CET, +01:00).
FIRST_PASS_0250 = "2026-10-25T00:50:00Z"  # 02:50 local
SECOND_PASS_0210 = "2026-10-25T01:10:00Z"  # 02:10 local
SECOND_PASS_0255 = "2026-10-25T01:55:00Z"  # 02:55 local


def berlin_store(storage: str, orders: int = 60) -> SandboxProcess:
    until = ("--until", "2026-11-26T19:05:24Z")
    return SandboxProcess(
        orders=orders, timezone="Europe/Berlin", storage=storage, extra_args=until
    )


@pytest.fixture(scope="module", params=["posts", "hpos"])
def running(request):
    with berlin_store(request.param) as store:
        yield store


@pytest.fixture
def store(running: SandboxProcess) -> SandboxProcess:
    running.reset()
    return running


@pytest.fixture
def in_the_repeated_hour(store: SandboxProcess) -> dict[str, int]:
    """The three orders, by when they were changed."""
    return {
        moment: store.create_order(status="processing", date_modified=moment)["id"]
        for moment in (FIRST_PASS_0250, SECOND_PASS_0210, SECOND_PASS_0255)
    }


def listed(store: SandboxProcess, orders: dict[str, int], query: str) -> list[str]:
    """Which of ``orders`` the listing holds, in its order, by when they were changed."""
    by_id = {order_id: moment for moment, order_id in orders.items()}
    include = ",".join(str(i) for i in orders.values())
    answer = get(store, f"/orders?include={include}&orderby=modified&order=asc&{query}")
    return [by_id[o["id"]] for o in answer.json()]


def test_system_status_says_whether_orders_are_in_woocommerces_own_tables(store) -> None:
    settings = get(store, "/system_status").json()["settings"]

    if store.storage == "posts":
        assert (settings["HPOS_enabled"], settings["order_datastore"]) == (
            False,
            "WC_Order_Data_Store_CPT",
        )
    else:
        assert (settings["HPOS_enabled"], settings["order_datastore"]) == (
            True,
            "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore",
        )
    assert settings["HPOS_sync_enabled"] is False


def test_orderby_modified_sorts_by_local_time_on_the_posts_table(
    store, in_the_repeated_hour
) -> None:
    order = listed(store, in_the_repeated_hour, "")

    if store.storage == "posts":  # 02:10, 02:50, 02:55
        assert order == [SECOND_PASS_0210, FIRST_PASS_0250, SECOND_PASS_0255]
    else:
        assert order == [FIRST_PASS_0250, SECOND_PASS_0210, SECOND_PASS_0255]


def test_a_local_modified_after_is_compared_with_local_times_on_the_posts_table(
    store, in_the_repeated_hour
) -> None:
    after = listed(store, in_the_repeated_hour, "modified_after=2026-10-25T02:30:00")

    if store.storage == "posts":
        assert after == [FIRST_PASS_0250, SECOND_PASS_0255]
    else:  # HPOS reads 02:30 as PHP does, the second of the two: 01:30 UTC
        assert after == [SECOND_PASS_0255]


def test_dates_are_gmt_compares_with_gmt_times_on_either_storage(
    store, in_the_repeated_hour
) -> None:
    query = "modified_after=2026-10-25T01:00:00&dates_are_gmt=true"

    after = listed(store, in_the_repeated_hour, query)

    assert after == [SECOND_PASS_0210, SECOND_PASS_0255]


def test_a_time_with_an_offset_becomes_local_time_on_the_posts_table(
    store, in_the_repeated_hour
) -> None:
    plain = listed(store, in_the_repeated_hour, "modified_after=2026-10-25T01:00:00Z")

    if store.storage == "posts":  # 01:00 UTC is 02:00 local: all three are after it
        assert plain == [SECOND_PASS_0210, FIRST_PASS_0250, SECOND_PASS_0255]
    else:
        assert plain == [SECOND_PASS_0210, SECOND_PASS_0255]


def test_a_time_with_an_offset_under_dates_are_gmt_is_off_by_the_stores_offset(
    store, in_the_repeated_hour
) -> None:
    query = "modified_after=2026-10-25T01:00:00Z&dates_are_gmt=true"

    # WordPress writes 01:00 UTC as 02:00 local time, then compares it with GMT times.
    assert listed(store, in_the_repeated_hour, query) == []


def test_a_numbered_page_past_the_end_counts_every_order_on_the_posts_table(store) -> None:
    past = get(store, "/orders?per_page=50&page=3")

    assert past.json() == []
    if store.storage == "posts":  # WP_Query counts again without the page
        assert (past.headers["X-WP-Total"], past.headers["X-WP-TotalPages"]) == ("60", "2")
        assert "page=2" in past.headers["Link"]
    else:
        assert (past.headers["X-WP-Total"], past.headers["X-WP-TotalPages"]) == ("0", "0")


# Changes and the trash


EDITS = {
    "status": ({"status": "completed"}, True),
    "customer_note": ({"customer_note": "Bitte beim Nachbarn abgeben."}, True),
    "quantity": ({"line_items": [{"id": "line", "quantity": 3}]}, False),
    "shipping": ({"shipping": {"address_1": "221B Baker Street", "city": "London"}}, False),
    "billing": ({"billing": {"phone": "+49 30 1234567"}}, False),
}


@pytest.mark.parametrize("kind", EDITS)
def test_only_a_new_status_or_customer_note_moves_date_modified_on_the_posts_table(
    store, kind
) -> None:
    order = store.create_order(status="processing", date_modified="2026-10-16T19:54:24Z")
    body, rewrites_the_post = EDITS[kind]
    for item in body.get("line_items", []):
        item["id"] = order["line_items"][0]["id"]

    answer = get(store, f"/orders/{order['id']}", "PUT", body).json()

    moved = answer["date_modified_gmt"] != "2026-10-16T19:54:24"
    assert moved is (rewrites_the_post or store.storage == "hpos")


def test_a_refund_moves_date_modified_on_either_storage(store) -> None:
    order = store.create_order(status="processing", date_modified="2026-10-16T19:54:24Z")

    get(store, f"/orders/{order['id']}/refunds", "POST", {"amount": "1.00", "api_refund": False})

    assert get(store, f"/orders/{order['id']}").json()["date_modified_gmt"] > "2026-10-16"


def test_the_posts_table_trashes_the_orders_notes_with_it(store) -> None:
    order = store.create_order(status="processing", date_created="2026-10-10T13:50:19Z")
    notes = [n["id"] for n in get(store, f"/orders/{order['id']}/notes").json()]

    get(store, f"/orders/{order['id']}", "DELETE")
    trashed = get(store, f"/orders/{order['id']}").json()
    notes_in_the_trash = get(store, f"/orders/{order['id']}/notes").json()
    restored = get(store, f"/orders/{order['id']}", "PUT", {"status": "processing"}).json()

    later = [n["note"] for n in get(store, f"/orders/{order['id']}/notes").json()]
    meta = {"_wp_trash_meta_status": "wc-processing", "_wp_trash_meta_time": trash_time(trashed)}
    if store.storage == "posts":
        in_the_trash = {str(note_id): "1" for note_id in sorted(notes)}
        assert trash_meta(trashed) == meta | {
            "_wp_desired_post_slug": "order-october-10-2026-0350-pm",  # 15:50 in Berlin
            "_wp_trash_meta_comments_status": in_the_trash,
        }
        assert notes_in_the_trash == []
        assert later == ["Order status changed from trash to Processing."]
        assert trash_meta(restored) == meta | {"_wp_trash_meta_comments_status": in_the_trash}
    else:
        assert trash_meta(trashed) == trash_meta(restored) == meta
        assert [n["id"] for n in notes_in_the_trash] == notes
        assert later[0] == "Order status changed from trash to Processing."
        assert len(later) == len(notes) + 1


def trash_time(order: dict) -> str:
    moment = datetime.fromisoformat(order["date_modified_gmt"]).replace(tzinfo=UTC)
    return str(int(moment.timestamp()))


def test_a_put_out_of_the_trash_sends_order_updated_on_the_posts_table_only(
    store, receiver
) -> None:
    url, received = receiver
    get(store, "/orders/30", "DELETE")
    store.set_webhook(url, "whsec-test")

    restored = get(store, "/orders/30", "PUT", {"status": "processing"}).json()

    expected = [("order.updated", restored)] if store.storage == "posts" else []
    assert deliveries(store, received) == expected


# A generated store on the posts table


@pytest.fixture(scope="module")
def five_hundred():
    with berlin_store("posts", orders=500) as store:
        yield store


def test_a_generated_store_has_orders_changed_in_both_passes_of_the_repeated_hour(
    five_hundred,
) -> None:
    orders = every_order_by_local_modified_time(five_hundred)

    repeated = [o for o in orders if o["date_modified"].startswith("2026-10-25T02:")]
    first_pass = [o for o in repeated if o["date_modified_gmt"].startswith("2026-10-25T00:")]
    second_pass = [o for o in repeated if o["date_modified_gmt"].startswith("2026-10-25T01:")]
    assert len(repeated) == len(first_pass) + len(second_pass) == REPEATED_HOUR_EDITS
    assert min(len(first_pass), len(second_pass)) >= SAME_WALL_CLOCK_PAIRS
    first_pass_times = {o["date_modified"] for o in first_pass}
    same_wall_clock = [o for o in second_pass if o["date_modified"] in first_pass_times]
    assert len(same_wall_clock) >= SAME_WALL_CLOCK_PAIRS


def test_a_page_of_100_by_local_modified_time_ends_inside_the_repeated_hour(five_hundred) -> None:
    pages = [orders_page(five_hundred, page) for page in range(1, 6)]

    ends = [page[-1]["date_modified"] for page in pages[:-1]]
    assert any(end.startswith("2026-10-25T02:") for end in ends)


def every_order_by_local_modified_time(store: SandboxProcess) -> list[dict]:
    return [order for page in range(1, 6) for order in orders_page(store, page)]


def orders_page(store: SandboxProcess, page: int) -> list[dict]:
    query = f"orderby=modified&order=asc&per_page=100&page={page}"
    return get(store, f"/orders?{query}&_fields=id,date_modified,date_modified_gmt").json()


@pytest.mark.parametrize(
    ("zone", "repeated"),
    [
        ("Europe/Berlin", ("2026-10-25T00:00:00+00:00", "2026-10-25T02:00:00+00:00")),
        ("America/New_York", ("2026-11-01T05:00:00+00:00", "2026-11-01T07:00:00+00:00")),
        ("Australia/Lord_Howe", ("2026-04-04T14:30:00+00:00", "2026-04-04T15:30:00+00:00")),
        ("UTC", None),
    ],
)
def test_the_repeated_hour_is_where_the_clocks_last_went_back(zone, repeated) -> None:
    span = repeated_hour(ZoneInfo(zone), UNTIL - YEAR, UNTIL)

    found = span and tuple(datetime.fromtimestamp(t, UTC).isoformat() for t in span)
    assert found == repeated
