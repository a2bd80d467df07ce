"""Test connection is not a port scanner: link-local and metadata addresses are refused
before any connection, and a failed connection reads the same whether the port was closed,
reset it or never answered. Over HTTP; no traffic leaves 127.0.0.1."""

import socket

import pytest
from markupsafe import escape

from portal.woo import WooClient
from portal.woo.errors import WooAddressRefused
from tests.served import Listener, press_test_connection, signed_in


def no_answer_from(port: int) -> str:
    return (
        f"<strong>The connection failed.</strong> No answer from 127.0.0.1:{port}: the "
        "connection failed, broke off or timed out. Check the store URL, that the site is up "
        "and reachable from this server, and the request timeout in the webstore setup."
    )


@pytest.fixture
def admin(live_server, admin_user, webstore):
    return signed_in(live_server, admin_user.username)


@pytest.fixture
def connections(monkeypatch) -> list:
    """Every address this process connects a socket to, from any thread; any but 127.0.0.1
    is refused here, so that no traffic leaves even if the portal's refusal fails."""
    made = []
    connect = socket.socket.connect

    def recorded(sock, address):
        made.append(address[0])
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"the test keeps {address[0]} unreached")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recorded)
    return made


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def resetting():
    listener = Listener(reset=True)
    yield listener
    listener.close()


@pytest.fixture
def silent():
    listener = Listener(silent=True)
    yield listener
    listener.close()


def port_of(listener: Listener) -> int:
    return int(listener.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.0.1", "100.100.100.200"])
def test_link_local_and_metadata_addresses_are_refused_before_any_connection(
    admin, webstore, connections, address
):
    response = press_test_connection(
        admin, webstore, base_url=f"http://{address}", consumer_secret="cs_typed"
    )

    assert response.status_code == 200
    refusal = (
        f"{address} is a link-local or cloud metadata address ({address}), which the portal "
        "never connects to: enter the store's own address."
    )
    assert f"<strong>The connection failed.</strong> {escape(refusal)}" in response.text
    assert set(connections) == {"127.0.0.1"}  # the test's own requests to the portal


@pytest.mark.parametrize(
    "base_url",
    ["http://[fe80::1]", "http://[fd00:ec2::254]", "http://[::ffff:169.254.169.254]"],
)
def test_link_local_and_metadata_addresses_written_as_ipv6_are_refused(connections, base_url):
    with pytest.raises(WooAddressRefused, match="link-local or cloud metadata address"):
        WooClient(base_url, "ck", "cs").test_connection()

    assert connections == []


def test_a_closed_port_answers_the_one_message(admin, webstore, closed_port):
    response = press_test_connection(
        admin, webstore, base_url=f"http://127.0.0.1:{closed_port}", consumer_secret="cs_typed"
    )

    assert no_answer_from(closed_port) in response.text


def test_a_reset_connection_answers_the_same_one_message(admin, webstore, resetting):
    response = press_test_connection(
        admin, webstore, base_url=resetting.url, consumer_secret="cs_typed"
    )

    assert len(resetting.received) == 1  # it was open, and reset the request
    assert no_answer_from(port_of(resetting)) in response.text


def test_a_port_that_never_answers_answers_the_same_one_message(admin, webstore, silent):
    response = press_test_connection(
        admin, webstore, base_url=silent.url, consumer_secret="cs_typed", timeout_seconds="1"
    )

    assert len(silent.received) == 1  # it was open, and kept silent
    assert no_answer_from(port_of(silent)) in response.text


def test_a_store_on_loopback_is_still_tested(admin, demo_webstore, store):
    response = press_test_connection(admin, demo_webstore)

    assert "<strong>Connected.</strong>" in response.text
