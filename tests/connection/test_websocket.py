"""STOMP over WebSocket against RabbitMQ Web STOMP: across transports, failover, and refusals in one line.

What every transport must do is proven by the whole broker suite, which runs
over WebSocket too (the rabbitmq-ws broker of conftest.py). Here: a message
crosses from WebSocket to TCP and back byte-exact, endpoint lists mix the
two, and a wrong path or an untrusted certificate is one clear line.
"""

from __future__ import annotations

import random
import socket

import pytest

from stomper.connection import ConnectFailed, Connection, parse_url

from .conftest import BROKERS, require_broker

WAIT = 15.0
RANDOM = random.Random(9)
BODIES = {
    "nul-and-binary": b"\0" + bytes(range(256)) + b"\0\r\n\0",
    "not-utf8": b"\xff\xfe\xc3\x28 end\0",
    "five-mb": RANDOM.randbytes(5 * 1024 * 1024) + b"\0tail",
}


@pytest.fixture
def tcp():
    found = BROKERS["rabbitmq"]
    require_broker(found)
    return found


@pytest.fixture
def ws():
    found = BROKERS["rabbitmq-ws"]
    require_broker(found)
    return found


def crossing(sender_url: str, receiver_url: str, queue: str, body: bytes) -> bytes:
    """`body` sent on one connection and received on the other (subscribed first, receipts both ways)."""
    with Connection(receiver_url, heart_beat=(0, 0)) as receiver, Connection(sender_url, heart_beat=(0, 0)) as sender:
        receiver.subscribe(queue, receipt=True, timeout=WAIT)
        sender.send(queue, body, headers={"kind": "crossing"}, receipt=True, timeout=WAIT)
        message = receiver.receive(timeout=WAIT)
    assert message is not None and message.headers["kind"] == "crossing"
    assert message.headers["content-length"] == str(len(body))
    return message.body


@pytest.mark.broker
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_sent_over_websocket_received_over_tcp_byte_exact(tcp, ws, queue, body):
    assert crossing(ws.url, tcp.url, queue, body) == body


@pytest.mark.broker
@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_sent_over_tcp_received_over_websocket_byte_exact(tcp, ws, queue, body):
    assert crossing(tcp.url, ws.url, queue, body) == body


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.broker
def test_a_failover_list_mixes_websocket_and_tcp_endpoints(tcp, ws, queue):
    dead_ws = f"ws://127.0.0.1:{_closed_port()}/ws"
    with Connection([dead_ws, tcp.url], heart_beat=(0, 0)) as conn:
        assert conn.url == str(parse_url(tcp.url))
    wrong_path = ws.url.replace("/ws", "/not-here")
    with Connection([wrong_path, ws.url], heart_beat=(0, 0)) as conn:
        assert conn.url == str(parse_url(ws.url))
        conn.subscribe(queue, receipt=True, timeout=WAIT)
        conn.send(queue, b"via the second", receipt=True, timeout=WAIT)
        assert conn.receive(timeout=WAIT).body == b"via the second"


@pytest.mark.broker
def test_a_wrong_path_is_one_line_naming_the_http_status(ws):
    url = ws.url.replace("/ws", "/no-such-path")
    with pytest.raises(ConnectFailed) as caught:
        Connection(url, heart_beat=(0, 0), connect_timeout=WAIT).connect()
    assert str(caught.value) == (
        f"could not connect to {parse_url(url)}: WebSocket upgrade refused: HTTP 404 (is the path '/no-such-path' right?)"
    )


@pytest.mark.broker
def test_a_stomp_port_is_not_taken_for_a_websocket_endpoint(tcp):
    """The STOMP port reads the HTTP upgrade as the start of a frame that never ends: the connect timeout ends it, in one line."""
    endpoint = parse_url(tcp.url)
    url = f"ws://{endpoint.host}:{endpoint.port}/ws"
    with pytest.raises(ConnectFailed) as caught:
        Connection(url, heart_beat=(0, 0), connect_timeout=2).connect()
    assert str(caught.value) == f"could not connect to {parse_url(url)}: timed out after 2 s"


@pytest.mark.broker
def test_rabbitmq_agrees_to_the_first_stomp_subprotocol_offered(ws):
    with ws.connection() as conn:
        assert (conn.version, conn._transport.stream.subprotocol) == ("1.2", "v12.stomp")
