"""WebSocketStream and WebSocketTransport against a wsproto server on a socket pair.

The WebSocket behaviour no real broker can be made to show on request: a
STOMP frame split over several WebSocket messages, several frames in one
message, text and binary messages, a ping in the middle, a refused upgrade,
the close handshake both ways, and a blocked read woken by another thread.
"""

from __future__ import annotations

import random
import socket
import threading

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Ping, Pong, RejectConnection, Request, TextMessage

from stomper.parser import FrameParser
from stomper.transport import TcpTransport, TlsSettings, open_transport
from stomper.url import parse_url
from stomper.websocket import WebSocketError, WebSocketStream, WebSocketTransport


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
                    self.request = event
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


def test_a_message_that_comes_with_the_upgrades_answer_is_not_lost(pair):
    client, server_sock = pair
    server = Server(server_sock)
    server.accept = True

    def answer_and_send_at_once() -> None:
        server.ws.receive_data(server.sock.recv(65536))
        [request] = list(server.ws.events())
        assert isinstance(request, Request)
        server.sock.sendall(server.ws.send(AcceptConnection(subprotocol="v12.stomp")) + server.ws.send(BytesMessage(data=b"\n")))

    thread = threading.Thread(target=answer_and_send_at_once)
    thread.start()
    stream = WebSocketStream(client, "broker.example", "/ws")
    stream.handshake()
    thread.join(10)
    server.send(BytesMessage(data=b"CONNECTED\n\n\0"))
    received = b""
    while not received.endswith(b"\0"):
        received += stream.recv()
    assert received == b"\nCONNECTED\n\n\0"


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


# -- WebSocketTransport: the stream under the connection ------------------------------------------


def transport_over(pair) -> tuple[WebSocketTransport, Server]:
    stream, server = connected(pair)
    return WebSocketTransport(TcpTransport(stream.sock), stream), server


def test_transport_read_gives_stomp_bytes_and_none_for_a_ping_alone(pair):
    transport, server = transport_over(pair)
    server.send(Ping(payload=b"p"))
    assert transport.read(5) is None  # bytes came, but none for STOMP: nothing yet, not the end
    [pong] = server.read_events(1)
    assert isinstance(pong, Pong)
    server.send(TextMessage(data="\n"))  # the broker's heart-beat, as an EOL in a text message
    assert transport.read(5) == b"\n"
    assert transport.read(0) is None and not transport.pending()


def test_transport_write_and_sendfile_go_out_byte_exact_in_binary_messages(pair, tmp_path):
    transport, server = transport_over(pair)
    body = bytes(range(256)) * 10
    path = tmp_path / "body"
    path.write_bytes(body)
    transport.write(b"SEND\ndestination:/q\n\n")
    with open(path, "rb") as stream:
        transport.sendfile(stream, len(body))
    transport.write(b"\0")
    events = server.read_events(3)
    assert all(isinstance(event, BytesMessage) for event in events)
    assert b"".join(bytes(event.data) for event in events) == b"SEND\ndestination:/q\n\n" + body + b"\0"


def test_transport_read_ends_at_the_peers_close_which_is_answered(pair):
    transport, server = transport_over(pair)
    server.send(BytesMessage(data=b"RECEIPT\nreceipt-id:1\n\n\0"), CloseConnection(code=1000, reason="bye"))
    assert transport.read(5) == b"RECEIPT\nreceipt-id:1\n\n\0"
    assert transport.read(5) == b""
    [answer] = server.read_events(1)
    assert isinstance(answer, CloseConnection) and answer.code == 1000


def test_wake_ends_a_blocked_read_and_close_still_sends_the_close_frame(pair):
    transport, server = transport_over(pair)
    results = []
    reader = threading.Thread(target=lambda: results.append(transport.read(None)))
    reader.start()
    transport.wake()
    reader.join(10)
    assert results == [b""]
    transport.close()
    [close] = server.read_events(1)
    assert isinstance(close, CloseConnection) and close.code == 1000


def test_open_upgrades_at_the_urls_path_with_host_and_port():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    servers: list[Server] = []

    def serve() -> None:
        sock, _ = listener.accept()
        sock.settimeout(10)
        servers.append(Server(sock))
        servers[0].upgrade()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        transport = open_transport(parse_url(f"ws://u:pw@127.0.0.1:{port}/stomp/ws"), 10, TlsSettings())
        thread.join(10)
        [server] = servers
        assert isinstance(transport, WebSocketTransport)
        assert (server.request.target, server.request.host) == ("/stomp/ws", f"127.0.0.1:{port}")
        assert transport.stream.subprotocol == "v12.stomp"
        transport.close()
        server.sock.close()
    finally:
        listener.close()


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024 + 3])
def test_binary_messages_of_every_length_form_decode_byte_exact(pair, size):
    """The three length encodings of RFC 6455 (7 bits, 16 bits, 64 bits) and their edges, read back by wsproto."""
    stream, server = connected(pair)
    body = random.Random(size).randbytes(size)
    sender = threading.Thread(target=stream.sendall, args=(body,))
    sender.start()
    received = b""
    while True:
        data = server.sock.recv(1 << 20)
        server.ws.receive_data(data)
        events = list(server.ws.events())
        received += b"".join(bytes(event.data) for event in events if isinstance(event, BytesMessage))
        if any(isinstance(event, BytesMessage) and event.message_finished for event in events):
            break
    sender.join(10)
    assert received == body


def test_nothing_is_sent_after_the_close_handshake_started(pair):
    stream, _ = connected(pair)
    stream.send_close()
    with pytest.raises(WebSocketError, match="closing"):
        stream.sendall(b"late")
