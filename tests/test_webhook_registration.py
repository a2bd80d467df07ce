"""The portal registers (or repairs) its order webhooks in the store, over real HTTP."""

import socket

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import RunStatus, SyncRun, Trigger
from portal.setup.demo import seed_demo_webstore
from portal.woo.client import WooClient
from portal.woo.errors import WooError, error_for_answer
from sandbox.process import SandboxProcess
from tests.sync_helpers import wait_for

PUBLIC_URL = "https://portal.example.com"
DELIVERY_URL = f"{PUBLIC_URL}/webhooks/woocommerce/DEMO"
TOPICS = ["order.created", "order.updated"]


def store_client(store: SandboxProcess) -> WooClient:
    return WooClient(store.base_url, store.consumer_key, store.consumer_secret, max_retries=0)


def webhooks_in(store: SandboxProcess) -> list:
    """What the store's own REST API reports, by id."""
    with store_client(store) as client:
        return client.list_webhooks()


def switch(store: SandboxProcess, topic: str, status: str) -> None:
    """Change a webhook's status through the store's API, as its admin would."""
    hook = next(h for h in webhooks_in(store) if h.topic == topic)
    with store_client(store) as client:
        client.update_webhook(hook.id, status=status)


def register(portal, webstore, htmx=True):
    return portal.post(f"/setup/webstores/{webstore.id}/webhooks", htmx=htmx)


def states(html: str) -> dict[str, str]:
    """Each topic's row state on the page."""
    found = {}
    for topic in TOPICS:
        row_id = f'id="webhook-{topic.replace(".", "-")}" data-state="'
        start = html.index(row_id) + len(row_id)
        found[topic] = html[start : html.index('"', start)]
    return found


@pytest.fixture
def public_url(app):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    return PUBLIC_URL


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def loopback_store():
    """A store that delivers to loopback on any port, as the real-store kit's mu-plugin lets
    it: the portal under test listens on 127.0.0.1 and a random port."""
    with SandboxProcess(orders=5, extra_args=["--webhook-allow-loopback"]) as store:
        yield store


# Registering and repairing


def test_registering_creates_both_webhooks_with_the_portal_url_and_secret_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    assert demo_webstore.webhook_secret is None

    response = register(signed_in_admin, demo_webstore)

    assert response.status_code == 200
    hooks = webhooks_in(store)
    assert sorted(h.topic for h in hooks) == TOPICS
    assert {(h.status, h.delivery_url) for h in hooks} == {("active", DELIVERY_URL)}
    assert states(response.text) == {"order.created": "active", "order.updated": "active"}
    assert f"The store has both webhooks, active, delivering to {DELIVERY_URL}." in response.text
    db.session.refresh(demo_webstore)
    secret = demo_webstore.webhook_secret
    assert len(secret) == 43 and secret not in response.text


def test_a_set_webhook_secret_is_kept_behaviour(signed_in_admin, demo_webstore, store, public_url):
    demo_webstore.webhook_secret = "whsec-kept"
    db.session.commit()

    register(signed_in_admin, demo_webstore)

    db.session.refresh(demo_webstore)
    assert demo_webstore.webhook_secret == "whsec-kept"


def test_a_second_click_repairs_rather_than_duplicates_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    register(signed_in_admin, demo_webstore)
    first = webhooks_in(store)

    response = register(signed_in_admin, demo_webstore)

    assert webhooks_in(store) == first
    assert len(first) == 2
    assert states(response.text) == {"order.created": "active", "order.updated": "active"}


def test_a_new_public_url_moves_the_webhooks_instead_of_adding_a_pair_behaviour(
    app, signed_in_admin, demo_webstore, store, public_url
):
    register(signed_in_admin, demo_webstore)
    ids = sorted(h.id for h in webhooks_in(store))
    app.config["PUBLIC_URL"] = "https://erp.example.org:8080/"

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}/webhooks")
    assert states(page.text) == {"order.created": "moved", "order.updated": "moved"}
    register(signed_in_admin, demo_webstore)

    hooks = webhooks_in(store)
    assert sorted(h.id for h in hooks) == ids
    url = "https://erp.example.org:8080/webhooks/woocommerce/DEMO"
    assert {h.delivery_url for h in hooks} == {url}


def test_webhooks_of_others_are_left_alone_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    with store_client(store) as client:
        theirs = client.create_webhook(
            topic="order.created",
            delivery_url="https://crm.example.com/hooks/orders",
            secret="theirs",
            name="CRM",
            status="paused",
        )

    register(signed_in_admin, demo_webstore)

    hooks = webhooks_in(store)
    assert len(hooks) == 3
    assert hooks[0] == theirs


# The store's state, and repairing it


def test_the_page_shows_the_store_state_of_each_webhook_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    page = signed_in_admin.get(
        f"/setup/webstores/{demo_webstore.id}/webhooks", headers={"HX-Request": "true"}
    )
    assert page.text.lstrip().startswith('<section id="store-webhooks"')
    assert states(page.text) == {"order.created": "missing", "order.updated": "missing"}

    register(signed_in_admin, demo_webstore)
    switch(store, "order.created", "paused")

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}/webhooks")
    assert states(page.text) == {"order.created": "paused", "order.updated": "active"}
    assert "Paused: the store does not deliver it; register again to re-enable it" in page.text


def test_a_webhook_disabled_through_the_api_is_shown_and_re_enabled_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    register(signed_in_admin, demo_webstore)
    switch(store, "order.updated", "disabled")

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}/webhooks")
    assert states(page.text) == {"order.created": "active", "order.updated": "disabled"}
    assert "WooCommerce stops a webhook after 5 failed deliveries in a row" in page.text

    response = register(signed_in_admin, demo_webstore)

    assert states(response.text) == {"order.created": "active", "order.updated": "active"}
    assert [h.status for h in webhooks_in(store)] == ["active", "active"]


def test_five_failed_deliveries_disable_a_webhook_and_the_button_re_enables_it_behaviour(
    app, signed_in_admin, demo_webstore, store, closed_port
):
    # Loopback: the store refuses to deliver there, as a real one does.
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{closed_port}"
    register(signed_in_admin, demo_webstore)

    store.create_orders(5)
    wait_for(lambda: [h.status for h in webhooks_in(store)] == ["disabled", "active"])

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}/webhooks")
    assert states(page.text) == {"order.created": "disabled", "order.updated": "active"}
    register(signed_in_admin, demo_webstore)
    assert [h.status for h in webhooks_in(store)] == ["active", "active"]


# Where WooCommerce will not deliver, said before trying


@pytest.mark.parametrize(
    ("public", "reason"),
    [
        (
            "http://portal.example.com:5000",
            "WooCommerce delivers only to ports 80, 443 and 8080, not to port 5000",
        ),
        (
            "http://127.0.0.1",
            "127.0.0.1 is a loopback or private address, which stores never reach",
        ),
        ("https://localhost", "localhost is a loopback or private address"),
        ("https://192.168.1.20", "192.168.1.20 is a loopback or private address"),
    ],
)
def test_a_public_url_stores_cannot_deliver_to_is_explained_before_trying_behaviour(
    app, signed_in_admin, demo_webstore, store, public, reason
):
    app.config["PUBLIC_URL"] = public

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}")

    url = f"{public}/webhooks/woocommerce/DEMO"
    assert f"WooCommerce will refuse to deliver to {url}: {reason}" in page.text
    assert "behind a reverse proxy on a public address on port 443" in page.text
    assert "/wc/v3/webhooks" not in store.stats()["by_route"]


def test_an_unset_public_url_is_explained_before_trying_behaviour(
    app, signed_in_admin, demo_webstore
):
    app.config["PUBLIC_URL"] = None

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}")

    assert "PUBLIC_URL is not set, so the store is given the address this page" in page.text
    assert "http://localhost/webhooks/woocommerce/DEMO" in page.text


@pytest.mark.parametrize("public", [PUBLIC_URL, "http://shop-portal.example.com:8080/"])
def test_a_public_address_on_a_delivered_port_has_no_warning_behaviour(
    app, signed_in_admin, demo_webstore, public
):
    app.config["PUBLIC_URL"] = public

    page = signed_in_admin.get(f"/setup/webstores/{demo_webstore.id}")

    assert 'value="' + public.rstrip("/") + '/webhooks/woocommerce/DEMO"' in page.text
    assert "webhook-warning" not in page.text


def test_registering_is_still_allowed_where_deliveries_will_fail_behaviour(
    app, signed_in_admin, demo_webstore, store
):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"

    response = register(signed_in_admin, demo_webstore)

    assert "WooCommerce will refuse to deliver to" in response.text
    assert [h.status for h in webhooks_in(store)] == ["active", "active"]


# Deliveries


def test_a_delivery_from_a_registered_webhook_queues_an_import_behaviour(
    app, signed_in_admin, loopback_store, live_server
):
    app.config["PUBLIC_URL"] = live_server
    loopback_store.reset()
    webstore = seed_demo_webstore(
        loopback_store.base_url, loopback_store.consumer_key, loopback_store.consumer_secret
    )
    webstore.default_status_filter = ""
    db.session.commit()
    register(signed_in_admin, webstore)

    order = loopback_store.create_order(status="processing")

    def queued():
        db.session.rollback()
        return db.session.scalars(
            sa.select(SyncRun).where(SyncRun.trigger == Trigger.WEBHOOK)
        ).all()

    runs = wait_for(queued)
    assert [(r.filters["order_ids"], r.status) for r in runs] == [([order["id"]], RunStatus.QUEUED)]
    # Two pings at creation, then the order: the store counts each once it was answered.
    wait_for(lambda: loopback_store.stats()["webhooks"] == {"delivered": 3, "failed": 0})


# Refusals


def test_a_refused_connection_is_said_on_the_page_behaviour(
    signed_in_admin, demo_webstore, public_url, closed_port
):
    demo_webstore.base_url = f"http://127.0.0.1:{closed_port}"
    db.session.commit()

    response = register(signed_in_admin, demo_webstore)

    assert response.status_code == 200
    assert "The webhooks could not be registered." in response.text
    assert f"The connection to 127.0.0.1:{closed_port} failed: it was refused." in response.text
    assert "Traceback" not in response.text


def test_a_wrong_consumer_secret_is_said_on_the_page_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    demo_webstore.consumer_secret = "cs_wrong"
    db.session.commit()

    response = register(signed_in_admin, demo_webstore)

    assert "The store refused the signature, so the consumer secret is wrong" in response.text
    assert webhooks_in(store) == []


def test_a_plain_post_answers_the_whole_edit_page_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    response = register(signed_in_admin, demo_webstore, htmx=False)

    assert response.status_code == 200
    assert "<h1>Webstore DEMO</h1>" in response.text
    assert states(response.text) == {"order.created": "active", "order.updated": "active"}


@pytest.mark.parametrize("someone", ["signed_in_viewer", "signed_in_staff"])
def test_only_admins_may_register_webhooks_behaviour(
    request, someone, demo_webstore, store, public_url
):
    portal = request.getfixturevalue(someone)

    assert register(portal, demo_webstore).status_code == 403
    assert portal.get(f"/setup/webstores/{demo_webstore.id}/webhooks").status_code == 403
    assert webhooks_in(store) == []


def test_a_post_without_csrf_token_is_refused_behaviour(
    signed_in_admin, demo_webstore, store, public_url
):
    response = signed_in_admin.client.post(f"/setup/webstores/{demo_webstore.id}/webhooks")

    assert response.status_code == 400
    assert webhooks_in(store) == []


# The client and the sandbox, as WooCommerce answers


def test_webhook_writes_authenticate_with_basic_over_https_behaviour(https_store):
    client = WooClient(
        https_store.base_url,
        https_store.consumer_key,
        https_store.consumer_secret,
        verify_tls=https_store.cert_path,
    )
    with client:
        made = client.create_webhook(
            topic="order.created", delivery_url=DELIVERY_URL, secret="s", name="n"
        )
        changed = client.update_webhook(made.id, status="paused")

        assert client.list_webhooks() == [changed]
    assert (changed.id, changed.status, changed.delivery_url) == (1, "paused", DELIVERY_URL)


def test_the_store_accepts_any_delivery_url_but_refuses_a_bad_topic_behaviour(store):
    with store_client(store) as client:
        made = client.create_webhook(
            topic="order.created", delivery_url="http://127.0.0.1:9999/hook", secret="", name="n"
        )
        with pytest.raises(WooError) as refused:
            client.create_webhook(topic="order.paid", delivery_url=DELIVERY_URL, secret="", name="")

    assert made.status == "active"
    assert str(refused.value) == (
        "The store rejected the request: Webhook topic is required and must be valid."
    )


def test_a_read_only_key_is_told_to_get_write_permission_behaviour():
    answer = {
        "code": "woocommerce_rest_authentication_error",
        "message": "The API key provided does not have write permissions.",
        "data": {"status": 401},
    }

    error = error_for_answer(401, answer, url="https://shop.example.com/wp-json/wc/v3/webhooks")

    assert str(error) == (
        "The store's API key can only read: create a Read/Write key in WooCommerce > Settings "
        "> Advanced > REST API and enter it in Setup > Webstores. (The store said: The API key "
        "provided does not have write permissions.)"
    )
