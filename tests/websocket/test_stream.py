"""WebSocketStream against a wsproto server on a socket pair: the WebSocket faults no real broker can be made to produce.

A STOMP frame split over several WebSocket messages, several frames in one
message, text and binary messages, a ping in the middle, a refused upgrade
and the close handshake.
"""

from __future__ import annotations

import socket
import threading

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Pong, RejectConnection, Request, TextMessage

from stomper.parser import FrameParser
from stomper.websocket import WebSocketError, WebSocketStream


class Server:
    """The broker's side: accepts the upgrade, then sends what a test scripts and records what arrives."""

    def __init__(self, sock: socket.socket, accept: bool = True) -> None:
        self.sock = sock
        self.ws = WSConnection(ConnectionType.SERVER)
        self.accept = accept
        self.received: list[object] = []
        self.offered: list[str] = []

    def upgrade(self) -> None:
        while True:
            self.ws.receive_data(self.sock.recv(65536))
            for event in self.ws.events():
                if isinstance(event, Request):
                    self.offered = list(event.subprotocols)
                    reply = AcceptConnection(subprotocol="v12.stomp") if self.accept else RejectConnection(status_code=404)
                    self.sock.sendall(self.ws.send(reply))
                    return

    def send(self, *events: object) -> None:
        self.sock.sendall(b"".join(self.ws.send(event) for event in events))

    def read_events(self, count: int) -> list[object]:
        while len(self.received) < count:
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            self.received.extend(self.ws.events())
            if not data:
                break
        return self.received


@pytest.fixture
def pair():
    client, server = socket.socketpair()
    client.settimeout(10)
    server.settimeout(10)
    yield client, server
    client.close()
    server.close()


def connected(pair, accept: bool = True) -> tuple[WebSocketStream, Server]:
    client, server_sock = pair
    server = Server(server_sock, accept)
    thread = threading.Thread(target=server.upgrade)
    thread.start()
    stream = WebSocketStream(client, "broker.example", "/ws")
    try:
        stream.handshake()
    finally:
        thread.join()
    return stream, server


def test_upgrade_offers_every_stomp_version_and_takes_the_choice(pair):
    stream, server = connected(pair)
    assert server.offered == ["v12.stomp", "v11.stomp", "v10.stomp"]
    assert stream.subprotocol == "v12.stomp"


def test_refused_upgrade_says_the_status(pair):
    with pytest.raises(WebSocketError, match="HTTP 404"):
        connected(pair, accept=False)


def test_a_frame_split_over_messages_and_frames_sharing_a_message_parse_as_a_stream(pair):
    stream, server = connected(pair)
    frames = b"MESSAGE\ndestination:/q\n\nfirst\x00\nMESSAGE\ndestination:/q\n\nsec"
    server.send(BytesMessage(data=frames[:10]), TextMessage(data=frames[10:].decode()), BytesMessage(data=b"ond\x00"))
    parser = FrameParser()
    got = []
    while len(got) < 2:
        got += parser.feed(stream.recv())
    assert [frame.body for frame in got] == [b"first", b"second"]
    assert parser.heartbeats == 1


def test_a_ping_is_answered_and_carries_no_stomp_bytes(pair):
    stream, server = connected(pair)
    server.send(Ping(payload=b"are you there"), BytesMessage(data=b"\n"))
    assert stream.recv() == b"\n"
    [pong] = server.read_events(1)
    assert isinstance(pong, Pong) and pong.payload == b"are you there"


def test_outgoing_bytes_go_in_binary_messages_byte_exact(pair):
    stream, server = connected(pair)
    body = bytes(range(256))
    stream.sendall(b"SEND\ndestination:/q\n\n" + body + b"\x00")
    [message] = server.read_events(1)
    assert isinstance(message, BytesMessage) and message.data.endswith(body + b"\x00")


def test_close_handshake_both_ways(pair):
    stream, server = connected(pair)
    server.send(CloseConnection(code=1001, reason="going away"))
    assert stream.recv() == b""
    [answer] = server.read_events(1)
    assert isinstance(answer, CloseConnection)

    client, server_sock = socket.socketpair()
    other_stream, other_server = connected((client, server_sock))
    other_stream.close()
    [close] = other_server.read_events(1)
    assert isinstance(close, CloseConnection) and close.code == 1000
    server_sock.close()
