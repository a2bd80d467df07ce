"""The frame around every page: errors inside the layout with the nav, and a nav and pages
that offer each role only what it may open."""

import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Role
from tests.conftest import Portal, make_user
from tests.sync_helpers import run_import

NAV = '<nav class="site-nav" aria-label="Main">'


def nav_links(html: str) -> list[str]:
    nav = html[html.index(NAV) : html.index("</nav>", html.index(NAV))]
    return re.findall(r'<a href="([^"]+)"', nav)


def in_layout(html: str) -> bool:
    """The whole page: the header with the search box and the nav, and the content."""
    return "<html" in html and NAV in html and 'id="global-search"' in html and "<main" in html


# Errors inside the layout


def test_a_forbidden_page_is_shown_inside_the_layout_with_the_nav(signed_in_viewer):
    response = signed_in_viewer.get("/imports/new")

    assert response.status_code == 403
    assert in_layout(response.text)
    assert "<h1>Forbidden</h1>" in response.text
    assert "This needs the staff role; you are signed in as viewer." in response.text
    assert "/imports/" in nav_links(response.text)  # Import Results, which viewers may open


def test_an_unknown_order_is_not_found_inside_the_layout(signed_in_viewer):
    response = signed_in_viewer.get("/orders/424242")

    assert response.status_code == 404
    assert in_layout(response.text)
    assert "<h1>Not Found</h1>" in response.text
    assert "There is no sales order 424242." in response.text


def test_an_unknown_address_is_not_found_inside_the_layout(signed_in_viewer):
    response = signed_in_viewer.get("/no/such/page")

    assert response.status_code == 404
    assert in_layout(response.text)
    assert "<h1>Not Found</h1>" in response.text


def test_htmx_still_gets_the_error_alone(signed_in_viewer):
    response = signed_in_viewer.get("/orders/424242", headers={"HX-Request": "true"})

    assert response.status_code == 404
    assert "<html" not in response.text and NAV not in response.text
    assert "There is no sales order 424242." in response.text


@pytest.fixture
def failing_app(make_app):
    """The portal with a page that fails, its errors handled as in production."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise RuntimeError("a bug")

    def broken_in_the_database():
        db.session.commit()  # the signed-in user's attributes expire, as after any save
        db.session.execute(sa.text("SELECT 1 / 0"))

    app.add_url_rule("/broken", "broken", broken)
    app.add_url_rule("/broken-in-the-database", "broken_in_the_database", broken_in_the_database)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.mark.parametrize("path", ["/broken", "/broken-in-the-database"])
def test_a_server_error_is_shown_inside_the_layout_in_plain_words(failing_app, viewer_user, path):
    portal = Portal(failing_app.test_client())
    portal.sign_in(viewer_user.username)

    response = portal.get(path)

    assert response.status_code == 500
    assert in_layout(response.text)
    assert "<h1>Internal Server Error</h1>" in response.text
    assert "Something went wrong in the portal." in response.text
    assert "a bug" not in response.text
    assert "Sign out viewer-user" in response.text


# A viewer is offered only what a viewer may open


def test_a_viewers_nav_leads_only_to_pages_a_viewer_may_open(signed_in_viewer):
    links = nav_links(signed_in_viewer.get("/").text)

    assert "/imports/new" not in links
    assert links  # Webstore Sales Orders, Sales Credit Memos, Import Results, ...
    for link in links:
        assert signed_in_viewer.get(link).status_code == 200, link


def test_staff_see_the_import_page_in_the_nav(signed_in_staff):
    assert "/imports/new" in nav_links(signed_in_staff.get("/").text)


def test_sales_credit_memos_have_their_place_in_the_nav(signed_in_staff):
    memos = signed_in_staff.get("/credit-memos").text
    refunds = signed_in_staff.get("/imports/refunds").text
    current = '<a href="/credit-memos" aria-current="page">Sales Credit Memos</a>'

    assert "/credit-memos" in nav_links(signed_in_staff.get("/").text)
    assert current in memos
    assert current in refunds  # Import Webstore Refunds is reached from the memos
    assert 'aria-current="page">Import Results</a>' not in refunds


# Where a page's links go: GET links (a href, hx-get, forms sent by GET) and forms sent by
# POST (action, hx-post). Static files, CSV exports and other hosts are not pages.
HREF = re.compile(r'<a\b[^>]*?\shref="([^"#][^"]*)"', re.S)
HX_GET = re.compile(r'\shx-get="([^"]+)"')
FORM = re.compile(r"<form\b([^>]*)>", re.S)
HX_POST = re.compile(r'\shx-post="([^"]+)"')


def page_targets(html: str, here: str) -> tuple[set[str], set[str]]:
    body = html.split("<body", 1)[-1]
    gets, posts = set(), set()
    for url in HREF.findall(body) + HX_GET.findall(body):
        gets.add(urljoin(here, url.replace("&amp;", "&")))
    for attributes in FORM.findall(body):
        action = re.search(r'\saction="([^"]*)"', attributes)
        target = urljoin(here, action[1].replace("&amp;", "&") if action else here)
        (posts if re.search(r'method="post"', attributes, re.I) else gets).add(target)
    for url in HX_POST.findall(body):
        posts.add(urljoin(here, url.replace("&amp;", "&")))
    return gets, posts


def shape(url: str) -> str:
    """The page a URL opens, whatever its ids and arguments: /orders/12 -> /orders/N."""
    return re.sub(r"\d+", "N", urlsplit(url).path)


def test_no_link_or_button_a_viewer_sees_answers_forbidden(client, viewer_user, demo_webstore):
    """A viewer walks every page reachable by links (a few of each kind) and finds nothing
    that refuses them, and no form that changes anything but signing out."""
    demo_webstore.auto_create_items = False
    db.session.commit()
    assert run_import(demo_webstore, order_id=44).failed == 1  # its page names the fix
    demo_webstore.auto_create_items = True
    db.session.commit()
    assert run_import(demo_webstore).imported == 60
    portal = Portal(client)
    portal.sign_in(viewer_user.username)

    seen, visits, refused, posts = {"/"}, Counter(), [], set()
    queue = deque(["/"])
    while queue:
        url = queue.popleft()
        response = portal.get(url)
        if response.status_code == 403:
            refused.append(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        gets, page_posts = page_targets(response.text, url)
        posts |= {urlsplit(p).path for p in page_posts}
        for link in sorted(gets):
            parts = urlsplit(link)
            if parts.netloc and parts.netloc != "localhost":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path in seen or path.startswith("/static/") or parts.path.endswith(".csv"):
                continue
            seen.add(path)
            if visits[shape(path)] < 3:
                visits[shape(path)] += 1
                queue.append(path)

    assert refused == []
    assert posts == {"/logout"}
    assert {"/", "/imports/", "/customers", "/items", "/setup/", "/setup/templates"} <= seen
    assert visits["/orders/N"] and visits["/customers/N"] and visits["/items/N"]
    assert visits["/imports/runs/N"]


def test_the_pages_admins_see_are_offered_to_admins(portal, demo_webstore):
    admin = make_user(Role.ADMIN, "an-admin")
    portal.sign_in(admin.username)

    html = portal.get("/setup/").text

    assert f'href="/setup/webstores/{demo_webstore.id}"' in html
    assert 'href="/setup/users"' in html
