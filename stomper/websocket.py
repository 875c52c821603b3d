"""STOMP over WebSocket: a blocking byte stream carried in WebSocket messages.

STOMP does not care where one WebSocket message ends: a frame may span
several messages and a message may hold several frames, so this stream
hands the STOMP parser the messages' payloads as one byte stream, exactly as
TCP would. The HTTP upgrade (its request, and checking the answer and the
chosen subprotocol) is done by `wsproto`, which, like stomper's core, does
no I/O of its own. The frames after it are done here, because they are the
hot path and simple once message boundaries do not matter: `client_frame`
writes masked frames, and `FrameReader` passes on the payloads of text,
binary and continuation frames as they come and answers ping and Close.
Everything moves over the TCP or TLS transport of stomper.transport, so
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
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.utilities import RemoteProtocolError

from .transport import RECV_SIZE, TcpTransport, TlsSettings, TlsTransport, copy_file
from .url import Endpoint

#: Offered in this order; the broker picks one (RabbitMQ, Spring and Artemis know them all).
SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")
#: How long closing waits for a write in progress before it gives up on sending the Close frame.
CLOSE_WAIT = 1.0


#: Opcodes (RFC 6455, 5.2): data frames carry STOMP bytes, control frames are answered here.
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: The longest header a frame can have: 2 bytes, 8 of extended length (frames from a server are never masked).
MAX_HEAD = 10


def client_frame(opcode: int, data: bytes | bytearray | memoryview) -> bytes:
    """`data` as one masked, final frame from a client (RFC 6455, 5.2 and 5.3).

    Every STOMP write becomes one binary frame, so this is the publishing
    hot path: it costs less than half of what wsproto's general sender
    costs per message.
    """
    size = len(data)
    key = os.urandom(4)  # the masking key must be unpredictable (RFC 6455, 10.3)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0xFE, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0xFF, size)
    if not size:
        return head + key
    keystream = int.from_bytes((key * ((size + 3) // 4))[:size], "big")
    return head + key + (int.from_bytes(data, "big") ^ keystream).to_bytes(size, "big")


def binary_message(data: bytes | bytearray | memoryview) -> bytes:
    """`data` as one binary message from a client."""
    return client_frame(BINARY, data)


class FrameReader:
    """The frames a server sends after the upgrade, cut from bytes read anywhere, in linear time.

    STOMP over WebSocket does not care where messages begin or end, so the
    reader does not either: it returns the payload bytes of text, binary and
    continuation frames as they come, even before a frame is complete (a
    5 MB message is never held whole), and keeps only an incomplete frame
    head or control frame (at most 135 bytes) between reads. Control frames
    are handed to `on_control(opcode, payload)`. This is the consuming hot
    path: decoding here costs a small part of what wsproto's general
    decoder costs per message.
    """

    def __init__(self, on_control) -> None:
        self._on_control = on_control
        self._rest = b""  # an incomplete frame head or control frame
        self._payload_left = 0  # bytes still to come of the data frame being read

    def feed(self, data: bytes) -> bytes:
        chunks: list[bytes] = []
        position = 0
        if self._payload_left:
            position = min(self._payload_left, len(data))
            chunks.append(data[:position])
            self._payload_left -= position
        elif self._rest:
            data, self._rest = self._rest + data, b""
        end = len(data)
        while position < end:
            start, length, opcode = self._head(data, position, end)
            if start < 0:
                self._rest = data[position:]
                break
            stop = start + length
            if opcode <= BINARY:
                chunks.append(data[start:stop])
                if stop > end:
                    self._payload_left = stop - end
                    break
            elif stop > end:
                self._rest = data[position:]
                break
            else:
                self._on_control(opcode, data[start:stop])
            position = stop
        return b"".join(chunks)

    @staticmethod
    def _head(data: bytes, position: int, end: int) -> tuple[int, int, int]:
        """(where the payload starts, its length, the opcode), or start -1 when the head is not all here."""
        if end - position < 2:
            return -1, 0, 0
        first, second = data[position], data[position + 1]
        if first & 0x70 or second & 0x80:
            raise WebSocketError("the broker broke the WebSocket protocol: reserved bits set or a masked frame")
        opcode, length, start = first & 0x0F, second & 0x7F, position + 2
        if opcode not in (CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG):
            raise WebSocketError(f"the broker broke the WebSocket protocol: unknown opcode {opcode}")
        if length == 126:
            if end - start < 2:
                return -1, 0, 0
            length, start = int.from_bytes(data[start:start + 2], "big"), start + 2
        elif length == 127:
            if end - start < 8:
                return -1, 0, 0
            length, start = int.from_bytes(data[start:start + 8], "big"), start + 8
        return start, length, opcode


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
        self._early = b""  # frames that came in the same read as the upgrade's answer
        self._frames = FrameReader(self._control)
        self.closed = False  # a Close frame was sent or received: no more payload will come

    # -- the upgrade -------------------------------------------------------------------------------

    def handshake(self) -> str | None:
        """Send the HTTP upgrade and wait for the answer (under the socket's timeout); return the chosen subprotocol."""
        self.sock.sendall(self._ws.send(Request(host=self._host, target=self._path, subprotocols=self._subprotocols)))
        answer = b""
        while True:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise WebSocketError("the server closed the connection during the WebSocket upgrade")
            answer += data
            try:
                self._ws.receive_data(data)
                events = list(self._ws.events())
            except RemoteProtocolError as error:
                raise WebSocketError(f"the server does not speak WebSocket: {error}") from None
            for event in events:
                if isinstance(event, AcceptConnection):
                    self.subprotocol = event.subprotocol
                    # A 101 answer has no body: what follows its blank line is already frames, for the first read.
                    self._early = answer[answer.index(b"\r\n\r\n") + 4:]
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
        if data is None:
            self.closed = True
            return b""
        if self._early:
            data, self._early = self._early + data, b""
        return self._frames.feed(data)

    def _control(self, opcode: int, payload: bytes) -> None:
        """A ping is answered with its payload; a Close with the same status code, which ends the stream."""
        if opcode == PING:
            frame = client_frame(PONG, payload)
            with self._send_lock:
                self.sock.sendall(frame)
        elif opcode == CLOSE and not self.closed:
            self.closed = True
            self._send_quietly(client_frame(CLOSE, payload[:2]))

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        """Send `data` as one binary message (encoded here: see `binary_message`)."""
        if self.closed:
            raise WebSocketError("the WebSocket is closing: nothing more can be sent")
        message = binary_message(data)
        with self._send_lock:
            self.sock.sendall(message)

    send = sendall

    def _send_quietly(self, frame: bytes) -> None:
        """Send a Close frame, unless a write is stuck or the peer is gone: it cannot be told, and closing goes on."""
        if not self._send_lock.acquire(timeout=CLOSE_WAIT):
            return
        try:
            with contextlib.suppress(OSError):
                self.sock.sendall(frame)
        finally:
            self._send_lock.release()

    def send_close(self) -> None:
        """Start the closing handshake (once, best effort): status 1000, a normal closure."""
        if not self.closed:
            self.closed = True
            self._send_quietly(client_frame(CLOSE, (1000).to_bytes(2, "big")))

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
