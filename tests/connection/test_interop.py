"""Interop with stomp.py 9.0 through each real broker, both ways: exact bodies and headers.

Over WebSocket (the rabbitmq-ws broker) the peer is stomp.py's own WebSocket
transport, `stomp.WSConnection`, in binary mode (its text mode could not
carry bodies that are not UTF-8).
"""

from __future__ import annotations

import queue as queues
import threading

import pytest
import stomp  # stomp-py 9.0, a test dependency

from stomper.connection import parse_url

WAIT = 15.0
BODIES = [
    b"plain",
    "non-ASCII é ☃ 🚀".encode(),
    b"\0binary\0\xff\xfe\x00" + bytes(range(256)),
    b"x" * 200_000,
]
HEADERS = {"with-colon": "a:b", "newline": "one\ntwo", "backslash": "C:\\dir\\file", "plain": "value"}


class Collector(stomp.ConnectionListener):
    def __init__(self) -> None:
        self.messages: queues.Queue = queues.Queue()
        self.receipts: set[str] = set()
        self.receipt_seen = threading.Condition()

    def on_message(self, frame) -> None:
        self.messages.put(frame)

    def on_receipt(self, frame) -> None:
        with self.receipt_seen:
            self.receipts.add(frame.headers.get("receipt-id"))
            self.receipt_seen.notify_all()

    def wait_receipt(self, receipt_id: str) -> None:
        with self.receipt_seen:
            assert self.receipt_seen.wait_for(lambda: receipt_id in self.receipts, WAIT), f"stomp.py got no receipt {receipt_id}"


@pytest.fixture
def stomppy(broker):
    endpoint = parse_url(broker.url)
    options = {"heartbeats": (0, 0), "vhost": "/", "auto_decode": False, "auto_content_length": True}
    if endpoint.transport == "ws":
        conn = stomp.WSConnection([(endpoint.host, endpoint.port)], ws_path=endpoint.path, binary_mode=True, **options)
    else:
        conn = stomp.Connection12([(endpoint.host, endpoint.port)], **options)
    collector = Collector()
    conn.set_listener("test", collector)
    conn.connect(endpoint.login, endpoint.passcode, wait=True)
    yield conn, collector
    conn.disconnect()


def test_stomppy_sends_stomper_receives(conn, stomppy, queue):
    sender, collector = stomppy
    conn.subscribe(queue, receipt=True, timeout=WAIT)
    for index, body in enumerate(BODIES):
        receipt = f"sent-{index}"
        sender.send(queue, body, headers={**HEADERS, "index": str(index), "receipt": receipt})
        collector.wait_receipt(receipt)
    for index, body in enumerate(BODIES):
        message = conn.receive(timeout=WAIT)
        assert message is not None, "stomper received nothing"
        assert message.body == body
        assert message.headers["index"] == str(index)
        for name, value in HEADERS.items():
            assert message.headers[name] == value, name


def test_stomper_sends_stomppy_receives(conn, stomppy, queue):
    receiver, collector = stomppy
    receiver.subscribe(queue, id="interop", ack="auto", headers={"receipt": "subscribed"})
    collector.wait_receipt("subscribed")
    for index, body in enumerate(BODIES):
        conn.send(queue, body, headers={**HEADERS, "index": str(index)}, receipt=True, timeout=WAIT)
    for index, body in enumerate(BODIES):
        frame = collector.messages.get(timeout=WAIT)
        assert frame.body == body
        assert frame.headers["index"] == str(index)
        for name, value in HEADERS.items():
            assert frame.headers[name] == value, name
