"""stomper.transport: the byte streams under the session, over a local socket pair."""

from __future__ import annotations

import io
import socket
import ssl

import pytest

from stomper.tls import TlsTransport
from stomper.transport import TRANSPORTS, TcpTransport, describe, transport_class, transport_name
from stomper.url import parse_url

ENDPOINT = parse_url("stomp://u:pw@broker.example:61613")


@pytest.fixture
def pair():
    client, server = socket.socketpair()
    transport = TcpTransport(client)
    yield transport, server
    transport.close()
    server.close()


def test_read_waits_at_most_the_timeout_then_reads_what_came(pair):
    transport, server = pair
    assert transport.read(0) is None and not transport.pending()
    server.sendall(b"CONNECTED\n\n\0")
    assert transport.pending()
    assert transport.read(None) == b"CONNECTED\n\n\0"
    server.shutdown(socket.SHUT_WR)
    assert transport.read(5) == b""


def test_write_and_sendfile_of_a_real_file_an_empty_one_and_a_stream_without_a_descriptor(pair, tmp_path):
    transport, server = pair
    path = tmp_path / "body"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as stream:
        stream.seek(2)
        transport.write(b"[")
        transport.sendfile(stream, 8)
        transport.sendfile(stream, 0)  # nothing to send: no system call that would refuse a count of 0
        transport.sendfile(io.BytesIO(b"xyz"), 3)
        transport.write(b"]")
    assert server.recv(100) == b"[23456789xyz]"


def test_a_file_shorter_than_announced_is_an_error(pair):
    transport, _ = pair
    with pytest.raises(ValueError, match="the file ended after 3 of 5 bytes"):
        transport.sendfile(io.BytesIO(b"abc"), 5)


def test_wake_ends_a_blocked_read(pair):
    transport, _ = pair
    transport.wake()
    assert transport.read(5) == b""


def test_the_url_scheme_picks_the_transport():
    assert TRANSPORTS[transport_name(ENDPOINT)] is TcpTransport
    assert transport_class(transport_name(parse_url("stomp+ssl://h"))) is TlsTransport
    assert [transport_name(parse_url(url)) for url in ("ws://h/ws", "WSS://h/ws", "tcp://h", "ssl://h")] == ["ws", "wss", "tcp", "tls"]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (TimeoutError(), "timed out after 2.5 s"),
        (socket.gaierror(-2, "Name or service not known"), "cannot resolve host 'broker.example': Name or service not known"),
        (ConnectionResetError(), "the broker closed the connection during the handshake"),
        (OSError(113, "No route to host"), "no route to host"),
        (ssl.SSLError(1, "wrong version"), "TLS handshake failed: "),
    ],
)
def test_describe_gives_one_line(error, text):
    endpoint = parse_url("stomp+ssl://u:pw@broker.example:61614") if isinstance(error, ssl.SSLError) else ENDPOINT
    assert describe(error, endpoint, 2.5).startswith(text)
