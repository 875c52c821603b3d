"""Byte streams to a broker: TCP, TLS and WebSocket, behind one small interface.

A transport moves bytes and nothing else: it knows neither STOMP nor
sessions, so the session and the connection work the same over any of
them. Every transport offers:

    transport = TcpTransport.open(endpoint, timeout, tls)   # ConnectFailed-worthy OSError on failure
    transport.read(timeout)    # bytes; b"" when the peer closed; None when nothing came in time
    transport.write(data)      # all of it, blocking
    transport.sendfile(stream, size)  # exactly `size` bytes of a binary file, zero-copy where possible
    transport.pending()        # whether a read would find data now (without reading)
    transport.wake()           # make a read blocked in another thread return (b"" or an error)
    transport.close()

`open_transport(endpoint, ...)` picks the class by `transport_name(endpoint)`
(tcp, tls, ws or wss, from the URL's scheme). A new kind of stream is one
more class with these methods and one more entry in `TRANSPORTS`; the
session and the connection do not change.

The TLS transport (stomper.tls) needs `ssl`, and the WebSocket transports
(stomper.websocket) the third-party `wsproto`, so they are listed in
`ON_DEMAND` by module and class name and imported the first time such an
endpoint is opened: a program that only speaks plain TCP loads neither.
`describe(error, endpoint, timeout)` words why opening failed, in one line.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import select
import socket
from typing import BinaryIO, ClassVar, Protocol

from .url import Endpoint

#: Bytes asked of the socket per read: large reads keep the per-wake-up cost low.
RECV_SIZE = 256 * 1024
#: Chunk size when a file body has to be copied through user space.
FILE_CHUNK = 1024 * 1024
#: The longest single poll, in ms; a longer wait simply polls again (poll takes a C int).
MAX_POLL_MS = 24 * 3600 * 1000


class TlsSettings:
    """How to verify the broker and present a client certificate over TLS.

    Plain data, so that a connection can carry it without loading `ssl`:
    `stomper.tls` builds the context from it, once, when a TLS endpoint is
    first opened.
    """

    def __init__(self, ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None, verify: bool = True) -> None:
        self.ca_file, self.cert_file, self.key_file, self.verify = ca_file, cert_file, key_file, verify
        self.context: object | None = None  # the ssl.SSLContext, once stomper.tls has built it


class Transport(Protocol):
    """What the connection needs of a byte stream."""

    name: ClassVar[str]
    #: Whether a clean close of the stream after DISCONNECT stands for its receipt (RabbitMQ Web STOMP closes instead).
    close_answers_disconnect: ClassVar[bool]

    def read(self, timeout: float | None) -> bytes | None: ...

    def write(self, data: bytes) -> None: ...

    def sendfile(self, stream: BinaryIO, size: int) -> None: ...

    def pending(self) -> bool: ...

    def wake(self) -> None: ...

    def close(self) -> None: ...


def poll_ms(timeout: float | None) -> float | None:
    return None if timeout is None else min(max(timeout * 1000, 0), MAX_POLL_MS)


def connect_socket(endpoint: Endpoint, timeout: float) -> socket.socket:
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def copy_file(write, stream: BinaryIO, size: int) -> None:
    """Write exactly `size` bytes of `stream` through `write`, in chunks (for streams sendfile cannot serve)."""
    buffer = bytearray(min(FILE_CHUNK, max(size, 1)))
    view = memoryview(buffer)
    left = size
    while left:
        count = stream.readinto(view[: min(left, len(buffer))]) if hasattr(stream, "readinto") else None
        if count is None:
            chunk = stream.read(min(left, len(buffer)))
            count = len(chunk)
            view[:count] = chunk
        if not count:
            raise ValueError(f"the file ended after {size - left} of {size} bytes")
        write(view[:count])
        left -= count


class TcpTransport:
    """A plain TCP socket, blocking, read through poll so that reads can time out."""

    name: ClassVar[str] = "tcp"
    #: A TCP peer that closes after DISCONNECT without its receipt has not said that it took the frames before it.
    close_answers_disconnect: ClassVar[bool] = False

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        self.sock = sock
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        self._data_waiting = False  # the last read filled the buffer: more is probably there

    @classmethod
    def open(cls, endpoint: Endpoint, timeout: float, tls: TlsSettings) -> TcpTransport:
        return cls(connect_socket(endpoint, timeout))

    def read(self, timeout: float | None) -> bytes | None:
        # Try the socket first only when the last read found data waiting: a
        # reader that keeps up with the broker would otherwise pay a failed
        # recv (and its exception) before every poll.
        try:
            if not self._data_waiting and not self._poll.poll(poll_ms(timeout)):
                return None
            data = self.sock.recv(RECV_SIZE, socket.MSG_DONTWAIT)
        except BlockingIOError:
            self._data_waiting = False
            return self.read(timeout)
        self._data_waiting = len(data) == RECV_SIZE
        return data

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def sendfile(self, stream: BinaryIO, size: int) -> None:
        """Zero-copy from a real file; a stream without a file descriptor is copied."""
        if not size:
            return
        try:
            stream.fileno()
        except (OSError, AttributeError, ValueError):
            copy_file(self.sock.sendall, stream, size)
            return
        sent = self.sock.sendfile(stream, stream.tell(), size)
        if sent != size:
            raise ValueError(f"the file ended after {sent} of {size} bytes")

    def pending(self) -> bool:
        return bool(self._poll.poll(0))

    def wake(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


#: Transport classes by name; `transport_name` says which one an endpoint uses.
TRANSPORTS: dict[str, type] = {TcpTransport.name: TcpTransport}
#: Transports imported when first used (module, class): TLS needs `ssl`, WebSocket the third-party wsproto.
ON_DEMAND: dict[str, tuple[str, str]] = {
    "tls": ("stomper.tls", "TlsTransport"),
    "ws": ("stomper.websocket", "WebSocketTransport"),
    "wss": ("stomper.websocket", "SecureWebSocketTransport"),
}
#: The transport of each (URL scheme transport, TLS) pair of stomper.url.SCHEMES.
_BY_SCHEME = {("tcp", False): "tcp", ("tcp", True): "tls", ("ws", False): "ws", ("ws", True): "wss"}


def transport_name(endpoint: Endpoint) -> str:
    """Which transport serves `endpoint` (its URL scheme decided it): tcp, tls, ws or wss."""
    return _BY_SCHEME[endpoint.transport, endpoint.tls]


def transport_class(name: str) -> type:
    """The class registered as `name`, importing an on-demand one the first time it is asked for."""
    found = TRANSPORTS.get(name)
    if found is None:
        module, attribute = ON_DEMAND[name]
        found = TRANSPORTS[name] = getattr(importlib.import_module(module), attribute)
    return found


def open_transport(endpoint: Endpoint, timeout: float, tls: TlsSettings) -> Transport:
    """A connected stream to `endpoint`, within `timeout` seconds; raises OSError (see `describe`)."""
    return transport_class(transport_name(endpoint)).open(endpoint, timeout, tls)


def describe(error: BaseException, endpoint: Endpoint, timeout: float) -> str:
    """One clear line for why connecting failed."""
    if endpoint.tls:  # opening it loaded stomper.tls, which words TLS's own failures
        worded = importlib.import_module("stomper.tls").describe(error)
        if worded is not None:
            return worded
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host {endpoint.host!r}: {error.strerror}"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionError) and not error.strerror:
        # Raised by stomper itself (a refused WebSocket upgrade says why), or an empty reset.
        return str(error) if error.args else "the broker closed the connection during the handshake"
    if isinstance(error, OSError):
        return (error.strerror or str(error)).lower() if error.errno != errno.ECONNREFUSED else "connection refused"
    return str(error)


def reason(error: BaseException) -> str:
    """A lower-case phrase for an error while the connection was up (reading or writing)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__
