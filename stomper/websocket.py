"""STOMP over WebSocket: a blocking byte stream carried in WebSocket messages.

STOMP does not care where one WebSocket message ends: a frame may span
several messages and a message may hold several frames, so this stream
hands the STOMP parser the messages' payloads as one byte stream, exactly as
TCP would. The WebSocket protocol itself (the HTTP upgrade, masking,
fragmentation, ping and close) is done by `wsproto`, which, like stomper's
core, does no I/O of its own; this module moves its bytes over a blocking
socket (plain or TLS).

`wsproto` is an optional dependency (`pip install stomper[websocket]`),
imported only when a ws:// or wss:// URL is used.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError

#: Offered in this order; the broker picks one (RabbitMQ, Spring and Artemis know them all).
SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")
RECV_SIZE = 256 * 1024


class WebSocketError(ConnectionError):
    """The WebSocket upgrade was refused, or the peer broke the WebSocket protocol."""


class WebSocketStream:
    """A socket-like byte stream (recv, sendall, fileno, settimeout, close) over WebSocket messages.

    Outgoing bytes go in binary messages, so bodies that are not UTF-8 pass
    unchanged; incoming text and binary messages are both accepted. Pings are
    answered as they arrive. `recv` returns every payload byte decoded from
    one socket read, which may be more than `size`: nothing is held back, so
    polling the socket never misses data that is already decoded.
    """

    def __init__(self, sock: socket.socket, host: str, path: str = "/", subprotocols: tuple[str, ...] = SUBPROTOCOLS) -> None:
        self.sock = sock
        self.subprotocol: str | None = None
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._host = host
        self._path = path or "/"
        self._subprotocols = list(subprotocols)
        self._closed = False

    # -- the upgrade -------------------------------------------------------------------------------

    def handshake(self) -> str | None:
        """Send the HTTP upgrade and wait for the answer (under the socket's timeout); return the chosen subprotocol."""
        self.sock.sendall(self._ws.send(Request(host=self._host, target=self._path, subprotocols=self._subprotocols)))
        while True:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise WebSocketError("the server closed the connection during the WebSocket upgrade")
            self._ws.receive_data(data)
            for event in self._ws.events():
                if isinstance(event, AcceptConnection):
                    self.subprotocol = event.subprotocol
                    return self.subprotocol
                if isinstance(event, RejectConnection):
                    raise WebSocketError(f"WebSocket upgrade refused: HTTP {event.status_code} (is the path {self._path!r} right?)")
                if isinstance(event, RejectData):
                    continue

    # -- the byte stream ---------------------------------------------------------------------------

    def recv(self, size: int = RECV_SIZE) -> bytes:
        """The payload bytes of the next socket read's messages; b"" once the stream has ended."""
        while not self._closed:
            data = self.sock.recv(max(size, RECV_SIZE))
            self._ws.receive_data(data or None)
            payload = self._payload()
            if payload or not data:
                return payload
        return b""

    def _payload(self) -> bytes:
        chunks: list[bytes] = []
        for event in self._ws.events():
            if isinstance(event, BytesMessage):
                chunks.append(bytes(event.data))
            elif isinstance(event, TextMessage):
                chunks.append(event.data.encode("utf-8"))
            elif isinstance(event, Ping):
                self.sock.sendall(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self._answer_close(event)
        return b"".join(chunks)

    def _answer_close(self, event: CloseConnection) -> None:
        self._closed = True
        self._send_quietly(event.response())

    def _send_quietly(self, event: CloseConnection) -> None:
        """Send a close event, ignoring a peer that is already gone: it cannot be told, and closing goes on."""
        with contextlib.suppress(OSError, LocalProtocolError):
            self.sock.sendall(self._ws.send(event))

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        self.sock.sendall(self._ws.send(BytesMessage(data=bytes(data))))

    send = sendall

    # -- socket-like plumbing ----------------------------------------------------------------------

    def fileno(self) -> int:
        return self.sock.fileno()

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def gettimeout(self) -> float | None:
        return self.sock.gettimeout()

    def setsockopt(self, *args: Any) -> None:
        self.sock.setsockopt(*args)

    def shutdown(self, how: int) -> None:
        """Start the closing handshake (best effort), then shut the socket down."""
        self._send_close()
        self.sock.shutdown(how)

    def close(self) -> None:
        self._send_close()
        self.sock.close()

    def _send_close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._send_quietly(CloseConnection(code=1000))
