"""Fixtures for the connection tests: the two real brokers and unique queues.

`broker` is each real broker in turn, and RabbitMQ once more over WebSocket
(`rabbitmq-ws`: Web STOMP at ws:// and wss://), so every test written for a
broker proves the same over WebSocket. Broker URLs come from the variables
`scripts/brokers env` prints, defaulting to the ports scripts/brokers uses. A broker that does not answer FAILS the
tests that need it; set STOMPER_SKIP_BROKERS=1 to skip them instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from stomper.connection import Connection, parse_url

REPO = Path(__file__).resolve().parents[2]
SKIP_BROKERS = os.environ.get("STOMPER_SKIP_BROKERS", "") not in ("", "0")


@dataclass(frozen=True)
class Broker:
    name: str
    url: str
    tls_url: str
    ca_file: str
    login: str
    passcode: str

    def connection(self, **options) -> Connection:
        options.setdefault("heart_beat", (0, 0))
        options.setdefault("connect_timeout", 10.0)
        return Connection(self.url, **options)


def _brokers() -> dict[str, Broker]:
    ca = os.environ.get("STOMPER_TEST_CA") or str(Path(os.environ.get("STOMPER_BROKERS_DIR", REPO / ".brokers")) / "certs" / "ca.pem")
    env = os.environ.get
    urls = {
        "rabbitmq": (
            env("STOMPER_RABBITMQ_URL", "stomp://guest:guest@127.0.0.1:61613"),
            env("STOMPER_RABBITMQ_TLS_URL", "stomp+ssl://guest:guest@localhost:61614"),
        ),
        "activemq": (
            env("STOMPER_ACTIVEMQ_URL", "stomp://admin:admin@127.0.0.1:61623"),
            env("STOMPER_ACTIVEMQ_TLS_URL", "stomp+ssl://admin:admin@localhost:61624"),
        ),
        "rabbitmq-ws": (
            env("STOMPER_RABBITMQ_WS_URL", "ws://guest:guest@127.0.0.1:15674/ws"),
            env("STOMPER_RABBITMQ_WSS_URL", "wss://guest:guest@localhost:15673/ws"),
        ),
    }
    brokers = {}
    for name, (url, tls_url) in urls.items():
        endpoint = parse_url(url)
        brokers[name] = Broker(name, url, tls_url, ca, endpoint.login or "", endpoint.passcode or "")
    return brokers


BROKERS = _brokers()


def require_broker(broker: Broker) -> None:
    """Fail (or skip, when STOMPER_SKIP_BROKERS=1) unless the broker accepts TCP connections (at its WebSocket port for ws)."""
    if SKIP_BROKERS:
        pytest.skip("STOMPER_SKIP_BROKERS is set: real-broker tests skipped")
    endpoint = parse_url(broker.url)
    try:
        socket.create_connection((endpoint.host, endpoint.port), timeout=5).close()
    except OSError as error:
        pytest.fail(
            f"{broker.name} does not answer at {endpoint}: {error}. Start it with `scripts/brokers start`, "
            "or set STOMPER_SKIP_BROKERS=1 to skip the real-broker tests.",
            pytrace=False,
        )


@pytest.fixture(params=sorted(BROKERS), ids=sorted(BROKERS))
def broker(request) -> Broker:
    """Each real broker in turn (activemq, rabbitmq, and rabbitmq-ws: RabbitMQ over WebSocket)."""
    found = BROKERS[request.param]
    require_broker(found)
    return found


@pytest.fixture
def queue() -> str:
    return f"/queue/stomper-test-{uuid.uuid4()}"


@pytest.fixture
def conn(broker):
    """A connected Connection to `broker`, closed after the test."""
    connection = broker.connection()
    connection.connect()
    yield connection
    connection.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "broker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.broker)
