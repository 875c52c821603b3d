"""STOMP over WebSocket: a blocking byte stream carried in WebSocket messages.

STOMP does not care where one WebSocket message ends: a frame may span
several messages and a message may hold several frames, so this stream
hands the STOMP parser the messages' payloads as one byte stream, exactly as
TCP would. The WebSocket protocol itself (the HTTP upgrade and the chosen
subprotocol, masking, fragmentation, ping and Close) is done by `wsproto`,
which, like stomper's core, does no I/O of its own; this module moves its
bytes. Everything moves over the TCP or TLS transport of stomper.transport, so
polling, TLS and waking a blocked reader work as they do for plain STOMP.

`wsproto` is installed with stomper but imported only when a ws:// or
wss:// URL is used (stomper.transport loads this module on demand).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
import time
from typing import Any, BinaryIO, ClassVar

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .tls import TlsTransport
from .transport import RECV_SIZE, TcpTransport, TlsSettings, copy_file
from .url import Endpoint

#: Offered in this order; the broker picks one (RabbitMQ, Spring and Artemis know them all).
SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")
#: How long closing waits for a write in progress before it gives up on sending the Close frame.
CLOSE_WAIT = 1.0


def binary_message(data: bytes | bytearray | memoryview) -> bytes:
    """`data` as one masked, unfragmented binary WebSocket frame from a client (RFC 6455, 5.2 and 5.3).

    Every STOMP write becomes one such frame, so this is the publishing hot
    path: encoding it here costs less than half of what going through
    wsproto's general sender costs per message, and needs none of its state
    (a complete message in one frame is the same in every connection state
    that allows sending). Everything else (the upgrade, what is received,
    ping, pong and close) stays wsproto's.
    """
    size = len(data)
    key = os.urandom(4)  # the masking key must be unpredictable (RFC 6455, 10.3)
    if size < 126:
        head = bytes((0x82, 0x80 | size))
    elif size < 65536:
        head = struct.pack("!BBH", 0x82, 0xFE, size)
    else:
        head = struct.pack("!BBQ", 0x82, 0xFF, size)
    if not size:
        return head + key
    keystream = int.from_bytes((key * ((size + 3) // 4))[:size], "big")
    return head + key + (int.from_bytes(data, "big") ^ keystream).to_bytes(size, "big")


class WebSocketError(ConnectionError):
    """The WebSocket upgrade was refused, or the peer broke the WebSocket protocol."""


class WebSocketStream:
    """A socket-like byte stream (recv, sendall, fileno, settimeout, close) over WebSocket messages.

    Outgoing bytes go in binary messages, so bodies that are not UTF-8 pass
    unchanged; incoming text and binary messages are both accepted. Pings are
    answered as they arrive. `recv` returns every payload byte decoded from
    one socket read, which may be more than `size`: nothing is held back, so
    polling the socket never misses data that is already decoded.

    Sends take a lock of their own: a ping is answered by the reading thread
    while another thread may be writing a message, and the two frames must
    not interleave on the socket.
    """

    def __init__(self, sock: socket.socket, host: str, path: str = "/", subprotocols: tuple[str, ...] = SUBPROTOCOLS) -> None:
        self.sock = sock
        self.subprotocol: str | None = None
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._host = host
        self._path = path or "/"
        self._subprotocols = list(subprotocols)
        self._send_lock = threading.Lock()
        self._early: list[Any] = []
        self.closed = False  # a Close frame was sent or received: no more payload will come

    # -- the upgrade -------------------------------------------------------------------------------

    def handshake(self) -> str | None:
        """Send the HTTP upgrade and wait for the answer (under the socket's timeout); return the chosen subprotocol."""
        self.sock.sendall(self._ws.send(Request(host=self._host, target=self._path, subprotocols=self._subprotocols)))
        while True:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise WebSocketError("the server closed the connection during the WebSocket upgrade")
            try:
                self._ws.receive_data(data)
                events = list(self._ws.events())
            except RemoteProtocolError as error:
                raise WebSocketError(f"the server does not speak WebSocket: {error}") from None
            for index, event in enumerate(events):
                if isinstance(event, AcceptConnection):
                    self.subprotocol = event.subprotocol
                    self._early = events[index + 1:]  # messages that came with the answer, for the first read
                    return self.subprotocol
                if isinstance(event, RejectConnection):
                    raise WebSocketError(f"WebSocket upgrade refused: HTTP {event.status_code} (is the path {self._path!r} right?)")

    # -- the byte stream ---------------------------------------------------------------------------

    def recv(self, size: int = RECV_SIZE) -> bytes:
        """The payload bytes of the next socket read's messages; b"" once the stream has ended."""
        while not self.closed:
            data = self.sock.recv(max(size, RECV_SIZE))
            payload = self.feed(data or None)
            if payload or not data:
                return payload
        return b""

    def feed(self, data: bytes | None) -> bytes:
        """The STOMP bytes carried by `data` read from the socket (None: the socket ended); answers pings and Close."""
        try:
            self._ws.receive_data(data)
            events = list(self._ws.events())
        except RemoteProtocolError as error:
            raise WebSocketError(f"the broker broke the WebSocket protocol: {error}") from None
        if self._early:
            events[:0], self._early = self._early, []
        chunks: list[bytes] = []
        for event in events:
            if isinstance(event, BytesMessage):
                chunks.append(bytes(event.data))
            elif isinstance(event, TextMessage):
                chunks.append(event.data.encode("utf-8"))
            elif isinstance(event, Ping):
                self._send(event.response())
            elif isinstance(event, CloseConnection):
                self.closed = True
                self._send_quietly(event.response())
        return b"".join(chunks)

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        """Send `data` as one binary message (encoded here: see `binary_message`)."""
        if self.closed:
            raise WebSocketError("the WebSocket is closing: nothing more can be sent")
        message = binary_message(data)
        with self._send_lock:
            self.sock.sendall(message)

    send = sendall

    def _send(self, event: Any) -> None:
        with self._send_lock:
            self.sock.sendall(self._ws.send(event))

    def _send_quietly(self, event: CloseConnection) -> None:
        """Send a Close frame, unless a write is stuck or the peer is gone: it cannot be told, and closing goes on."""
        if not self._send_lock.acquire(timeout=CLOSE_WAIT):
            return
        try:
            with contextlib.suppress(OSError, LocalProtocolError):
                self.sock.sendall(self._ws.send(event))
        finally:
            self._send_lock.release()

    def send_close(self) -> None:
        """Start the closing handshake (once, best effort)."""
        if not self.closed:
            self.closed = True
            self._send_quietly(CloseConnection(code=1000))

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
        self.send_close()
        self.sock.shutdown(how)

    def close(self) -> None:
        self.send_close()
        self.sock.close()


class WebSocketTransport:
    """STOMP over ws://: a WebSocketStream over the TCP transport (a transport of stomper.transport).

    Reading, polling and `pending` are the carrier's; what it reads goes
    through the WebSocket decoder. `wake` shuts only the reading side, so that
    `close`, which the connection calls next, can still send the Close frame.
    """

    name: ClassVar[str] = "ws"
    #: RabbitMQ Web STOMP answers DISCONNECT with a WebSocket Close handshake instead of the receipt.
    close_answers_disconnect: ClassVar[bool] = True
    carrier_class: ClassVar[type[TcpTransport]] = TcpTransport

    def __init__(self, carrier: TcpTransport, stream: WebSocketStream) -> None:
        self.carrier = carrier
        self.stream = stream
        self._woken = False

    @classmethod
    def open(cls, endpoint: Endpoint, timeout: float, tls: TlsSettings) -> WebSocketTransport:
        deadline = time.monotonic() + timeout
        carrier = cls.carrier_class.open(endpoint, timeout, tls)
        try:
            carrier.sock.settimeout(max(deadline - time.monotonic(), 0.001))  # the upgrade gets what is left
            stream = WebSocketStream(carrier.sock, endpoint.netloc, endpoint.path or "/")
            stream.handshake()
            carrier.sock.settimeout(None)
        except BaseException:
            carrier.close()
            raise
        return cls(carrier, stream)

    def read(self, timeout: float | None) -> bytes | None:
        if self.stream.closed:
            return b""  # after a Close frame no message may follow: the STOMP stream has ended
        data = self.carrier.read(timeout)
        if data is None:
            return None
        if not data and self._woken:
            return b""  # our own wake, not the peer's end: the Close frame is still ours to send
        payload = self.stream.feed(data or None)
        if payload or not data:
            return payload
        # Only WebSocket control bytes or part of a message came: nothing for STOMP yet, unless the stream ended.
        return b"" if self.stream.closed else None

    def write(self, data: bytes) -> None:
        self.stream.sendall(data)

    def sendfile(self, stream: BinaryIO, size: int) -> None:
        """A file body in binary messages of up to a chunk each (WebSocket frames are masked: no zero-copy)."""
        copy_file(self.write, stream, size)

    def pending(self) -> bool:
        return self.carrier.pending()

    def wake(self) -> None:
        self._woken = True
        with contextlib.suppress(OSError, ValueError):
            # socket.socket's own shutdown: an SSLSocket's would drop its TLS state and with it the Close frame.
            socket.socket.shutdown(self.carrier.sock, socket.SHUT_RD)

    def close(self) -> None:
        self.stream.send_close()
        self.carrier.wake()
        self.carrier.close()


class SecureWebSocketTransport(WebSocketTransport):
    """STOMP over wss://: the same, over the TLS transport (TLS options as for stomp+ssl://)."""

    name: ClassVar[str] = "wss"
    carrier_class: ClassVar[type[TcpTransport]] = TlsTransport
