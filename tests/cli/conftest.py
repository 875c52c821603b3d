"""Fixtures for the CLI tests: unique queues and the real brokers (scripts/brokers start)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from cli_helpers import DEFAULT_URLS, Broker, require_reachable, unique_queue


@pytest.fixture
def queue(request) -> str:
    return unique_queue(request.node.name.split("[")[0].removeprefix("test_")[:30])


@pytest.fixture(params=["rabbitmq", "activemq"])
def broker(request) -> Broker:
    """A running broker; missing is a failure unless STOMPER_SKIP_BROKERS=1."""
    name = request.param
    url = os.environ.get(f"STOMPER_{name.upper()}_URL", DEFAULT_URLS[name])
    require_reachable(name, url)
    return Broker(name, url)


@pytest.fixture
def tls_broker(broker) -> tuple[Broker, str]:
    """(the broker at its TLS port, the test CA file)."""
    port = {"rabbitmq": 61614, "activemq": 61624}[broker.name]
    parts = urlsplit(broker.url)
    default = f"stomp+ssl://{parts.username}:{parts.password}@localhost:{port}"
    url = os.environ.get(f"STOMPER_{broker.name.upper()}_TLS_URL", default)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ca_file = os.environ.get("STOMPER_TEST_CA", os.path.join(root, ".brokers", "certs", "ca.pem"))
    if not os.path.exists(ca_file):
        pytest.fail(f"no test CA at {ca_file}; start the brokers with scripts/brokers start")
    return Broker(broker.name, url), ca_file
