"""Durable topic subscriptions, selectors and the client id, on RabbitMQ and ActiveMQ."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from cli_helpers import DEFAULT_URLS, STOMPER, Broker, assert_one_error_line, run

from stomper_cli.broker_forms import (
    ACTIVEMQ,
    ARTEMIS,
    RABBITMQ,
    UNKNOWN,
    broker_kind,
    durable_headers,
    prefetch_headers,
    removal_headers,
)


def test_the_broker_is_told_apart_by_the_connected_server_header():
    assert broker_kind("RabbitMQ/3.13.7") == RABBITMQ
    assert broker_kind("ActiveMQ/5.18.3") == ACTIVEMQ
    assert broker_kind("ActiveMQ-Artemis/2.31.2 ActiveMQ Artemis Messaging Engine") == ARTEMIS
    assert broker_kind("") == broker_kind("Apollo/1.7") == UNKNOWN


def test_each_broker_gets_its_own_durable_form_and_an_unknown_one_both():
    assert durable_headers(RABBITMQ, "n") == {"durable": "true", "auto-delete": "false"}
    assert durable_headers(ACTIVEMQ, "n") == {"activemq.subscriptionName": "n"}
    assert durable_headers(ARTEMIS, "n") == {"durable-subscription-name": "n"}
    assert durable_headers(UNKNOWN, "n") == {"durable": "true", "auto-delete": "false", "activemq.subscriptionName": "n"}
    assert removal_headers(RABBITMQ, "n") == {"durable": "true", "persistent": "true"}
    assert removal_headers(ACTIVEMQ, "n") == {"activemq.subscriptionName": "n"}
    assert prefetch_headers(UNKNOWN, 5) == {"prefetch-count": "5", "activemq.prefetchSize": "5"}


@pytest.mark.parametrize("args, message", [
    (["/queue/a", "--remove"], "--remove ends a durable subscription: give --durable NAME"),
    (["/topic/a", "/topic/b", "--durable", "n"], "give one DESTINATION"),
    (["/topic/a", "--durable", "n", "--id", "x"], "give --durable or --id, not both"),
    (["/queue/a", "--durable", "n"], "is not a /topic/... destination"),
    (["/queue/a", "--selector", "a = 1", "-H", "selector:b = 2"], "give --selector EXPR or -H selector:EXPR, not both"),
])
def test_options_that_do_not_go_together_are_usage_errors(args, message):
    result = run("subscribe", "--url", "stomp://127.0.0.1:9", *args)
    assert message in assert_one_error_line(result, 2)


# --- on the brokers ---------------------------------------------------------------------------------

@pytest.fixture
def activemq() -> Broker:
    """ActiveMQ alone, for what only it has (selectors, client ids)."""
    return Broker("activemq", os.environ.get("STOMPER_ACTIVEMQ_URL", DEFAULT_URLS["activemq"]))


def topic() -> str:
    return f"/topic/stomper-durable-{uuid.uuid4().hex[:12]}"


def client_id() -> list[str]:
    return ["--client-id", f"stomper-test-{uuid.uuid4().hex[:12]}"]


def publish(broker, destination: str, *bodies: str) -> None:
    result = run("send", "--url", broker.url, destination, "--lines", input="".join(f"{body}\n" for body in bodies).encode())
    assert result.returncode == 0, result.stderr


def durable(broker, destination: str, name: str, client: list[str], *args: str) -> subprocess.CompletedProcess:
    return run("subscribe", "--url", broker.url, destination, "--durable", name, *client, "--body-only", *args)


@pytest.mark.broker
def test_a_durable_subscription_keeps_what_was_published_while_offline_until_removed(broker):
    destination, name, client = topic(), f"stomper-{uuid.uuid4().hex[:8]}", client_id()
    first = durable(broker, destination, name, client, "--timeout", "1", "-v")
    assert first.returncode == 0, first.stderr
    assert first.stdout == b""
    form = {"rabbitmq": "durable:true, auto-delete:false", "activemq": f"activemq.subscriptionName:{name}"}[broker.name]
    assert f"durable subscription {name} in the" in first.stderr.decode() and form in first.stderr.decode()
    try:
        publish(broker, destination, "one", "two", "three")  # nobody subscribed: only the durable subscription keeps them
        again = durable(broker, destination, name, client, "-n", "3", "--timeout", "30")
        assert again.returncode == 0, again.stderr
        assert again.stdout.decode().splitlines() == ["one", "two", "three"]
    finally:
        removed = durable(broker, destination, name, client, "--remove", "-v")
        assert removed.returncode == 0, removed.stderr
        assert f"removed durable subscription {name}" in removed.stderr.decode()
    publish(broker, destination, "after removal")
    later = durable(broker, destination, name, client, "--timeout", "2")  # a new, empty durable subscription
    durable(broker, destination, name, client, "--remove")
    assert later.returncode == 0, later.stderr
    assert later.stdout == b""


@pytest.mark.broker
def test_a_durable_subscription_on_activemq_without_a_client_id_is_a_usage_error(broker):
    destination, name = topic(), f"stomper-{uuid.uuid4().hex[:8]}"
    result = durable(broker, destination, name, [], "--timeout", "1")
    if broker.name == "activemq":
        assert "--client-id" in assert_one_error_line(result, 2)
    else:
        assert result.returncode == 0, result.stderr  # RabbitMQ keeps it by name alone
        assert durable(broker, destination, name, [], "--remove").returncode == 0


@pytest.mark.broker
def test_selector_passes_only_matching_messages_on_activemq(activemq):
    broker = activemq
    queue = f"/queue/stomper-selector-{uuid.uuid4().hex[:12]}"
    for kind, body in (("x", "x1"), ("y", "y1"), ("x", "x2"), ("y", "y2")):
        assert run("send", "--url", broker.url, queue, body, "-H", f"kind:{kind}").returncode == 0
    chosen = run("subscribe", "--url", broker.url, queue, "--selector", "kind = 'x'", "--body-only", "-n", "2", "--timeout", "30")
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.decode().splitlines() == ["x1", "x2"]
    rest = run("subscribe", "--url", broker.url, queue, "--body-only", "-n", "2", "--timeout", "30")
    assert rest.stdout.decode().splitlines() == ["y1", "y2"]


@pytest.mark.broker
def test_the_client_id_reaches_the_broker(activemq):
    """ActiveMQ refuses a second connection with a client id already connected: the header did arrive."""
    broker = activemq
    client, queue = client_id(), f"/queue/stomper-client-id-{uuid.uuid4().hex[:12]}"
    holder = subprocess.Popen([*STOMPER, "-v", "subscribe", "--url", broker.url, queue, *client, "--timeout", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for line in holder.stderr:
            if line.startswith(b"<<< RECEIPT"):
                break  # subscribed: the connection is up
        second = run("subscribe", "--url", broker.url, queue, *client, "--timeout", "1")
        line = assert_one_error_line(second, 1)
        assert "broker" in line and client[1] in line
    finally:
        holder.kill()
        holder.wait(timeout=30)
    other = run("subscribe", "--url", broker.url, queue, *client_id(), "--timeout", "1")
    assert other.returncode == 0, other.stderr
