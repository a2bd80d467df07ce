"""Text that reaches customers is plain: a carrier or tracking number with markup never goes
into a store note. Over HTTP, as staff post from the order page."""

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import SalesOrder, SalesOrderStatus, StoreWriteback
from tests.served import signed_in
from tests.sync_helpers import imported_order


@pytest.fixture
def order(demo_webstore, store):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    return imported_order(demo_webstore, store)


@pytest.fixture
def staff(live_server, staff_user):
    return signed_in(live_server, staff_user.username)


def current(order) -> SalesOrder:
    db.session.expire_all()
    return db.session.get(SalesOrder, order.id)


@pytest.mark.parametrize(
    "carrier, tracking",
    [
        ("DHL", "<b>1Z</b>"),
        ("<script>alert(1)</script>", "1Z999"),
        ("UPS", "1" * 101),
    ],
)
def test_a_post_with_markup_or_control_characters_is_refused_and_nothing_is_posted(
    staff, order, carrier, tracking
):
    response = staff.post(
        f"/orders/{order.id}/post", {"shipping_carrier": carrier, "tracking_number": tracking}
    )

    page = staff.get(response.headers["Location"]).text
    assert response.status_code == 303
    assert f"{order.number} was not posted:" in page
    assert current(order).status == SalesOrderStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoreWriteback)) == 0


def test_a_control_character_is_refused_before_any_form_reads_it(staff, order):
    response = staff.post(
        f"/orders/{order.id}/post", {"shipping_carrier": "UPS", "tracking_number": "1Z\x07999"}
    )

    assert response.status_code == 400
    assert current(order).status == SalesOrderStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoreWriteback)) == 0


def test_saving_tracking_with_markup_is_refused_and_keeps_what_was_saved(staff, order):
    response = staff.post(
        f"/orders/{order.id}/shipping", {"shipping_carrier": "DHL", "tracking_number": "<i>x</i>"}
    )

    page = staff.get(response.headers["Location"]).text
    assert "Not saved: Tracking number may hold letters, digits, spaces" in page
    assert (current(order).shipping_carrier, current(order).tracking_number) == ("", "")


def test_plain_carrier_and_tracking_go_with_the_post(staff, order):
    response = staff.post(
        f"/orders/{order.id}/post",
        {"shipping_carrier": "DHL Express", "tracking_number": "JD-0146 0000/3"},
    )

    assert response.status_code == 303
    posted = current(order)
    assert posted.status == SalesOrderStatus.POSTED
    assert (posted.shipping_carrier, posted.tracking_number) == ("DHL Express", "JD-0146 0000/3")
    [update] = db.session.scalars(sa.select(StoreWriteback))
    assert update.note.endswith("Shipped with DHL Express, tracking number JD-0146 0000/3.")
