"""The sync health panel as a manager sees it: on a laptop one row a webstore, whole, beside
its colour; on a phone a card a webstore; nothing to scroll sideways on either."""

import pytest

from portal.models import RunStatus, StoreOrderState, WritebackState
from portal.models.base import utcnow
from tests.conftest import screenshot, sign_in_browser
from tests.test_orders_pages import make_order
from tests.test_sync_health import another_webstore, automatic_run, seen, writeback

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
COLOURS = {
    "healthy": "rgb(46, 125, 50)",
    "degraded": "rgb(179, 71, 0)",
    "failing": "rgb(198, 40, 40)",
}


@pytest.fixture
def three_webstores(webstore):
    """MAIN failing (its sync failed, a store update given up), OUTLET degraded (an order
    failed), SHOP healthy."""
    webstore.alert_failed_runs = 1
    automatic_run(webstore, RunStatus.FAILED, reason="The store could not be read: no answer.")
    writeback(webstore, WritebackState.FAILED, attempts=6)
    make_order(webstore, order_date=utcnow().date(), ordered_at=utcnow())
    seen(another_webstore("OUTLET"), 7, StoreOrderState.FAILED)
    automatic_run(another_webstore("SHOP"), RunStatus.SUCCEEDED)


def states_and_colours(page) -> dict[str, tuple[str, str]]:
    """Each webstore's state as written, and the colour of its pill."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('table.health tbody')].map(
            b => [b.id, [b.querySelector('.health-state').textContent,
                         getComputedStyle(b.querySelector('.health-state')).backgroundColor]]))"""
    )


def scrolls_sideways(page) -> bool:
    return page.evaluate(
        """() => document.documentElement.scrollWidth > window.innerWidth ||
            [...document.querySelectorAll('.health-panel .overflow-auto')]
              .some(w => w.scrollWidth > w.clientWidth)"""
    )


@pytest.mark.parametrize("size", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_each_webstore_shows_its_state_in_words_and_one_colour_without_scrolling(
    page, viewer_user, three_webstores, size
):
    page.set_viewport_size(size)
    sign_in_browser(page, viewer_user.username)

    found = states_and_colours(page)

    assert found == {
        "health-MAIN": ["Failing", COLOURS["failing"]],
        "health-OUTLET": ["Degraded", COLOURS["degraded"]],
        "health-SHOP": ["Healthy", COLOURS["healthy"]],
    }
    assert not scrolls_sideways(page)
    screenshot(page, f"health-panel-{size['width']}")


def test_a_reasons_link_opens_where_it_is_fixed(page, viewer_user, three_webstores):
    sign_in_browser(page, viewer_user.username)

    page.locator("#health-MAIN").get_by_role("link", name="Open the last run").click()

    page.wait_for_url("**/imports/runs/*")
    assert "The store could not be read: no answer." in page.content()
