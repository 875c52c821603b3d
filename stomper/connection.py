"""A blocking-socket STOMP client built on the core (Frame, FrameParser, Engine).

    from stomper.connection import Connection

    with Connection("stomp://guest:guest@127.0.0.1:61613") as conn:
        conn.subscribe("/queue/a")
        conn.send("/queue/a", b"hello", receipt=True)
        print(conn.receive(timeout=5).body)

There is no reader thread. The thread that wants something from the broker
(a message, a receipt) reads the socket itself, parses with one
`FrameParser` over large reads and sorts what arrives: MESSAGE frames into
a queue for `receive`, RECEIPT frames into a set that `wait_receipt`
watches, ERROR frames into a queue that surfaces as `BrokerError`. When
several threads want to read at once, one reads and the others wait on a
condition for what it sorts. Sends go straight to `sendall` under a write
lock.

When heart-beats are agreed, one small daemon thread writes an EOL when
nothing else was written for the agreed interval, drains the socket when
nobody is reading (so that the broker's heart-beats are seen) and declares
the connection lost when the broker has been silent for more than twice
its agreed interval. It is stopped and joined by `close`/`disconnect`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO, NamedTuple

from . import commands
from .engine import Engine
from .errors import BrokerError, ConnectFailed, ConnectionLost, FrameError, ReceiptTimeout, StompError
from .frame import VERSIONS, Frame
from .parser import DEFAULT_MAX_FRAME_SIZE, FrameParser
from .url import Endpoint, parse_url

__all__ = [
    "BrokerError", "ConnectFailed", "Connection", "ConnectionLost", "Endpoint", "ReceiptTimeout", "StompError", "parse_url",
]

RECV_SIZE = 256 * 1024
FILE_CHUNK = 1024 * 1024
BATCH_SIZE = 64 * 1024
#: The broker is declared gone after this many of its agreed heart-beat intervals of silence.
SILENCE_FACTOR = 2.0
#: A heart-beat EOL is written when nothing was written for this fraction of the agreed interval.
SEND_FACTOR = 0.9


def _describe(error: BaseException, endpoint: Endpoint, timeout: float) -> str:
    """One clear line for why connecting failed."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake failed: {error.reason or error}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host {endpoint.host!r}: {error.strerror}"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"timed out after {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionError) and not error.strerror:
        return "the broker closed the connection during the handshake"
    if isinstance(error, OSError):
        return (error.strerror or str(error)).lower() if error.errno != errno.ECONNREFUSED else "connection refused"
    return str(error)


class _Subscription(NamedTuple):
    destination: str
    ack: str
    headers: dict


class Connection:
    """A STOMP connection over a blocking socket, with failover and heart-beats.

    Thread safety: every method may be called from any thread. Sends (`send`,
    `send_frame`, `subscribe`, `unsubscribe`, `ack`, `nack`, `begin`,
    `commit`, `abort`) are serialised by a write lock, so frames from
    different threads never interleave. Receiving (`receive`, `messages`,
    `wait_receipt`) may happen in several threads at once: one of them reads
    the socket and the others wait for what it reads; each MESSAGE goes to
    exactly one `receive` call, in arrival order. The usual shape is one
    receiving thread and sends from anywhere.

    With `reconnect=True`, a lost connection is re-established (the URLs
    tried in order, with exponential backoff and jitter, for up to
    `reconnect_timeout` seconds) and the live subscriptions are renewed with
    the same ids. A send that failed because the connection dropped is sent
    again once on the new connection. Receipts asked for on the old
    connection cannot arrive any more: waiting for one raises ConnectionLost.
    """

    def __init__(
        self,
        urls: str | list[str] | tuple[str, ...],
        login: str | None = None,
        passcode: str | None = None,
        vhost: str | None = None,
        version: str | None = None,
        heart_beat: tuple[int, int] = (10000, 10000),
        connect_timeout: float = 10.0,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        verify: bool = True,
        reconnect: bool = False,
        on_frame: Callable[[Frame, str], object] | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        reconnect_timeout: float = 60.0,
        host_header: str | None = None,
        use_stomp_command: bool = False,
    ) -> None:
        if isinstance(urls, str):
            urls = [urls]
        if not urls:
            raise ValueError("no broker URL given")
        self.endpoints = [parse_url(url) for url in urls]
        if version is not None and version not in VERSIONS:
            raise ValueError(f"unknown STOMP version {version!r}: expected one of {', '.join(VERSIONS)}")
        self._login, self._passcode, self._vhost = login, passcode, vhost
        self._pinned = version
        self._heart_beat = (int(heart_beat[0]), int(heart_beat[1])) if heart_beat else (0, 0)
        self.connect_timeout = connect_timeout
        self._ca_file, self._cert_file, self._key_file, self._verify = ca_file, cert_file, key_file, verify
        self.reconnect = reconnect
        self.reconnect_timeout = reconnect_timeout
        self._on_frame = on_frame
        self._max_frame_size = max_frame_size
        self._host_header = host_header
        self._stomp_command = use_stomp_command
        self._ssl_context: ssl.SSLContext | None = None

        self.engine = Engine(version=version or "1.2", heart_beat=self._heart_beat)
        self._sock: socket.socket | None = None
        self._parser: FrameParser | None = None
        self._poll: select.poll | None = None
        self._endpoint: Endpoint | None = None
        self._generation = 0
        self._wlock = threading.Lock()  # serialises writes
        self._rlock = threading.Lock()  # held by the one thread reading the socket
        self._cond = threading.Condition(threading.Lock())  # "something was read"
        self._reconnect_lock = threading.RLock()
        self._messages: deque[Frame] = deque()
        self._errors: deque[Frame] = deque()
        self._receipts: set[str] = set()
        self._subscriptions: dict[str, _Subscription] = {}
        self._lost: ConnectionLost | None = None
        self._silent: str | None = None  # why the heart-beat thread gave up on the broker
        self._closed = True
        self._last_read = self._last_write = 0.0
        self._stop = threading.Event()
        self._heart_thread: threading.Thread | None = None
        self._batch: bytearray | None = None
        self._batch_owner: int | None = None
        self._batch_size = BATCH_SIZE
        self._data_waiting = False  # the last read filled the buffer: more is probably there
        self._prefixes: dict[tuple, bytes] = {}

    # ------------------------------------------------------------------
    # State

    @property
    def version(self) -> str:
        return self.engine.version

    @property
    def session(self) -> str:
        return self.engine.session_id

    @property
    def server(self) -> str:
        return self.engine.server

    @property
    def heart_beats(self) -> tuple[int, int]:
        """(client sends every ms, broker sends every ms) as agreed; 0 is off."""
        return self.engine.heart_beats

    @property
    def connected(self) -> bool:
        return not self._closed and self._lost is None

    @property
    def url(self) -> str | None:
        """The URL connected to, passcode masked."""
        return str(self._endpoint) if self._endpoint else None

    @property
    def subscriptions(self) -> dict[str, str]:
        """Live subscription ids and their destinations."""
        return {sub_id: sub.destination for sub_id, sub in self._subscriptions.items()}

    def __enter__(self) -> Connection:
        self.connect()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.disconnect()
        else:
            with contextlib.suppress(StompError):
                self.disconnect()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed" if self._closed else "lost"
        return f"<Connection {self.url or str(self.endpoints[0])} {state}>"

    # ------------------------------------------------------------------
    # Connecting

    def connect(self) -> Connection:
        """Connect to the first URL that answers; raise ConnectFailed or BrokerError."""
        if not self._closed:
            return self
        self._closed = False
        self._stop.clear()
        try:
            self._establish(self.connect_timeout, single_pass=True)
        except BaseException:
            self._closed = True
            raise
        return self

    def _endpoint_auth(self, endpoint: Endpoint) -> tuple[str | None, str | None, str]:
        login = self._login if self._login is not None else endpoint.login
        passcode = self._passcode if self._passcode is not None else endpoint.passcode
        host = self._host_header or self._vhost or endpoint.vhost or "/"
        return login, passcode, host

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            if self._verify:
                context = ssl.create_default_context(cafile=self._ca_file)
            else:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if self._cert_file:
                context.load_cert_chain(self._cert_file, self._key_file)
            self._ssl_context = context
        return self._ssl_context

    def _establish(self, timeout: float, single_pass: bool) -> None:
        """Try the endpoints in order with backoff; install the first that connects."""
        failures: list[str] = []
        delay = 0.1
        give_up = time.monotonic() + (0 if single_pass else self.reconnect_timeout)
        attempt = 0
        while True:
            for endpoint in self.endpoints:
                if attempt:
                    time.sleep(delay * random.uniform(0.5, 1.0))
                    delay = min(delay * 2, 5.0)
                attempt += 1
                if self._stop.is_set() and not single_pass:
                    raise ConnectionLost("connection closed while reconnecting")
                try:
                    self._open(endpoint, timeout)
                    return
                except ConnectFailed as error:
                    failures.append(str(error))
                except BrokerError as error:
                    if single_pass:
                        raise  # refused credentials or vhost: trying again will not help
                    failures.append(f"{endpoint}: {error}")  # a restarting broker may refuse for a moment
            if single_pass or time.monotonic() >= give_up:
                break
        if len(failures) == 1:
            raise ConnectFailed(failures[0])
        if single_pass:
            raise ConnectFailed("could not connect to any broker: " + "; ".join(f.removeprefix("could not connect to ") for f in failures))
        raise ConnectFailed(f"could not reconnect within {self.reconnect_timeout:g} s; last error: {failures[-1]}")

    def _open(self, endpoint: Endpoint, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        sock = None
        try:
            sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if endpoint.tls:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                sock = self._context().wrap_socket(sock, server_hostname=endpoint.host)
            frame, parser, rest, broken = self._handshake(sock, endpoint, deadline)
        except BrokerError:
            if sock is not None:
                sock.close()
            raise
        except (OSError, ConnectionLost, FrameError) as error:
            if sock is not None:
                sock.close()
            reason = _describe(error, endpoint, timeout) if isinstance(error, OSError) else str(error)
            raise ConnectFailed(f"could not connect to {endpoint}: {reason}") from None
        sock.settimeout(None)
        now = time.monotonic()
        with self._cond:
            self._sock, self._parser, self._endpoint = sock, parser, endpoint
            self._poll = select.poll()
            self._poll.register(sock.fileno(), select.POLLIN)
            self._generation += 1
            self._lost = None
            self._silent = None
            self._last_read = self._last_write = now
        self._dispatch(rest)
        if broken is not None:
            self._lost_connection(self._generation, f"the broker sent a malformed frame: {broken}")
            return
        self._start_heart_beats()

    def _handshake(self, sock: socket.socket, endpoint: Endpoint, deadline: float) -> tuple[Frame, FrameParser, list[Frame], FrameError | None]:
        """Send CONNECT, read CONNECTED; also return the frames after it and a parse error that followed it."""
        login, passcode, host = self._endpoint_auth(endpoint)
        version = self._pinned or "1.2"
        accept = self._pinned or ",".join(VERSIONS)
        frame = commands.connect(
            login=login,
            passcode=passcode,
            host=host,
            heart_beat=None if self._pinned == "1.0" else self._heart_beat,
            accept_version=accept if version != "1.0" else None,
            version=version,
            command="STOMP" if self._stomp_command and version != "1.0" else "CONNECT",
        )
        self._emit(frame if passcode is None else Frame(frame.command, {**frame.headers, "passcode": "***"}), "out")
        sock.sendall(frame.encode(version))
        parser = FrameParser("1.2" if not self._pinned else version, max_frame_size=self._max_frame_size)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no CONNECTED frame in time")
            sock.settimeout(remaining)
            data = sock.recv(RECV_SIZE)
            if not data:
                raise ConnectionLost("the broker closed the connection before answering CONNECT")
            broken = None
            try:
                frames = parser.feed(data)
            except FrameError as error:
                frames, broken = getattr(error, "frames", []), error
            for index, answer in enumerate(frames):
                self._emit(answer, "in")
                if answer.command == "ERROR":
                    raise BrokerError(answer, "broker refused the connection")
                if answer.command == "CONNECTED":
                    self.engine.connected(answer)
                    parser.version = self.engine.version
                    return answer, parser, frames[index + 1:], broken
                raise ConnectionLost(f"the broker answered CONNECT with {answer.command}, not CONNECTED")
            if broken is not None:
                raise ConnectionLost(f"the peer does not speak STOMP: {broken}")

    def _start_heart_beats(self) -> None:
        send, receive = self.engine.heart_beats
        if (send or receive) and (self._heart_thread is None or not self._heart_thread.is_alive()):
            self._heart_thread = threading.Thread(target=self._heart_loop, name="stomper-heart-beat", daemon=True)
            self._heart_thread.start()

    # ------------------------------------------------------------------
    # Closing

    def disconnect(self, timeout: float | None = 10.0) -> None:
        """Send DISCONNECT with a receipt, wait for it (bounded), close.

        Raises ReceiptTimeout when the receipt did not come in time, and
        ConnectionLost when the connection was already lost; the connection
        is closed either way.
        """
        if self._closed:
            return
        try:
            if self._lost is not None:
                raise self._lost
            receipt_id = commands.next_id("disconnect")
            self.reconnect = False  # nothing to reconnect for from here on
            self._send_frame(commands.disconnect(receipt=receipt_id), retry=False)
            self.wait_receipt(receipt_id, timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Close the socket without DISCONNECT and stop the heart-beat thread."""
        self._closed = True
        self._stop.set()
        sock = self._sock
        if sock is not None:
            _shutdown(sock)
            sock.close()
        thread = self._heart_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._heart_thread = None
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------
    # Writing

    def _emit(self, frame: Frame, direction: str) -> None:
        if self._on_frame is not None:
            self._on_frame(frame, direction)

    def _check_open(self) -> None:
        if self._closed:
            raise ConnectionLost("not connected")
        if self._lost is not None and not self.reconnect:
            raise self._lost

    @contextlib.contextmanager
    def batch(self, size: int = BATCH_SIZE) -> Iterator[Connection]:
        """Coalesce this thread's sends into writes of about `size` bytes until the block ends.

        For publishing many messages at once: frames are encoded as usual
        but written in large chunks, which costs the client and the broker
        far less than one write per frame. A send that asks for a receipt,
        and the end of the block, write out what is pending. Sends from
        other threads are not held back.
        """
        if self._batch is not None:
            yield self  # nested or concurrent batch: the outer one writes
            return
        self._batch, self._batch_owner = bytearray(), threading.get_ident()
        self._batch_size = size
        try:
            yield self
        finally:
            pending, self._batch, self._batch_owner = self._batch, None, None
            if pending:
                self._write_now((bytes(pending),), None, True)

    def flush(self) -> None:
        """Write out what the current batch holds."""
        pending = self._batch
        if pending and self._batch_owner == threading.get_ident():
            data = bytes(pending)
            pending.clear()
            self._write_now((data,), None, True)

    def _write(self, *chunks: bytes, stream: tuple[BinaryIO, int] | None = None, retry: bool = True) -> None:
        """Write the chunks (and a file between the last two), reconnecting once if allowed."""
        pending = self._batch
        if pending is not None and self._batch_owner == threading.get_ident():
            if stream is None and len(chunks) == 1:
                pending += chunks[0]
                if len(pending) < self._batch_size:
                    return
                chunks = (bytes(pending),)
                pending.clear()
            elif pending:
                data = bytes(pending)
                pending.clear()
                self._write_now((data,), None, retry)
        self._write_now(chunks, stream, retry)

    def _write_now(self, chunks: tuple[bytes, ...], stream: tuple[BinaryIO, int] | None, retry: bool) -> None:
        self._check_open()
        generation = self._generation
        try:
            with self._wlock:
                sock = self._sock
                if stream is None:
                    sock.sendall(chunks[0] if len(chunks) == 1 else b"".join(chunks))
                else:
                    sock.sendall(chunks[0])
                    _send_file(sock, *stream)
                    sock.sendall(chunks[1])
                self._last_write = time.monotonic()
        except (OSError, ValueError, AttributeError) as error:
            if stream is not None:
                retry = False  # the file has been consumed
            self._lost_connection(generation, f"sending failed: {_reason(error)}")
            if not (retry and self.reconnect and self._lost is None):
                raise self._lost or ConnectionLost(f"sending failed: {_reason(error)}") from None
            self._write_now(chunks, None, False)

    def _send_frame(self, frame: Frame, retry: bool = True) -> None:
        self._emit(frame, "out")
        self._write(frame.encode(self.engine.version), retry=retry)

    def send_frame(self, frame: Frame, receipt: bool = False, timeout: float | None = None) -> str | None:
        """Send a prepared Frame as is; with receipt=True add a receipt header if missing and wait."""
        receipt_id = None
        if receipt:
            receipt_id = frame.headers.get("receipt")
            if receipt_id is None:
                receipt_id = commands.next_id("receipt")
                frame = Frame(frame.command, [*frame.header_items(), ("receipt", receipt_id)], frame.body)
        self._send_frame(frame)
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)
        return receipt_id

    def send(
        self,
        destination: str,
        body: bytes | bytearray | memoryview | str | BinaryIO = b"",
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        transaction: str | None = None,
        receipt: bool = False,
        timeout: float | None = None,
    ) -> str | None:
        """SEND `body` to `destination`; return the receipt id (receipt=True waits for it) or None.

        `body` is bytes, text (sent as UTF-8) or a binary file object, which
        is streamed from its current position to its end without being read
        into memory (its size must be known: a regular file or a seekable
        stream).
        """
        receipt_id = commands.next_id("receipt") if receipt else None
        if hasattr(body, "read"):
            self._send_stream(destination, body, headers, content_type, transaction, receipt_id)
        elif not headers and receipt_id is None and self._on_frame is None:
            # The hot path: the core encodes the header block once per destination; only the body changes.
            key = (destination, content_type, transaction, self.engine.version)
            prefix = self._prefixes.get(key)
            if prefix is None:
                prefix = self._send_prefix(key)
            if isinstance(body, str):
                body = body.encode("utf-8", "surrogateescape")
            if body:
                self._write(b"%scontent-length:%d\n\n%s\0" % (prefix, len(body), body))
            else:
                self._write(prefix + b"\n\0")
        else:
            frame = commands.send(destination, body, content_type, transaction, receipt_id, headers)
            if self._on_frame is not None:
                self._emit(frame, "out")
            self._write(frame.encode(self.engine.version))
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)
        return receipt_id

    def _send_prefix(self, key: tuple) -> bytes:
        """SEND's encoded command and headers, up to the content-length line, for `key`."""
        destination, content_type, transaction, version = key
        prefix = commands.send(destination, b"", content_type, transaction).encode(version, content_length=False)[:-2]
        if len(self._prefixes) >= 256:
            self._prefixes.clear()
        self._prefixes[key] = prefix
        return prefix

    def _send_stream(self, destination, stream, headers, content_type, transaction, receipt_id) -> None:
        size = _stream_size(stream)
        extra = {name: value for name, value in (headers or {}).items() if name != "content-length"}
        frame = commands.send(destination, b"", content_type, transaction, receipt_id, extra)
        self._emit(frame, "out")
        head = frame.encode(self.engine.version, content_length=False)[:-2] + f"content-length:{size}\n\n".encode()
        self._write(head, b"\0", stream=(stream, size))

    def subscribe(
        self,
        destination: str,
        ack: str = "auto",
        id: str | None = None,
        headers: Mapping[str, str] | None = None,
        receipt: bool = False,
        timeout: float | None = None,
    ) -> str:
        """SUBSCRIBE; returns the subscription id (generated when not given)."""
        sub_id = id or commands.next_id("sub")
        receipt_id = commands.next_id("receipt") if receipt else None
        frame = commands.subscribe(destination, sub_id, ack, receipt_id, headers, self.engine.version)
        self._subscriptions[sub_id] = _Subscription(destination, ack, dict(headers or {}))
        try:
            self._send_frame(frame)
        except BaseException:
            self._subscriptions.pop(sub_id, None)
            raise
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)
        return sub_id

    def unsubscribe(self, id: str, receipt: bool = False, timeout: float | None = None) -> None:
        """UNSUBSCRIBE by subscription id."""
        subscription = self._subscriptions.pop(id, None)
        receipt_id = commands.next_id("receipt") if receipt else None
        destination = subscription.destination if subscription else None
        self._send_frame(commands.unsubscribe(id, destination, receipt_id, version=self.engine.version))
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)

    def ack(self, message: Frame, transaction: str | None = None, receipt: bool = False, timeout: float | None = None) -> None:
        """ACK a MESSAGE in the negotiated version's form."""
        self._acknowledge(commands.ack, message, transaction, receipt, timeout)

    def nack(self, message: Frame, transaction: str | None = None, receipt: bool = False, timeout: float | None = None) -> None:
        """NACK a MESSAGE (STOMP 1.1 and 1.2)."""
        self._acknowledge(commands.nack, message, transaction, receipt, timeout)

    def _acknowledge(self, build, message, transaction, receipt, timeout) -> None:
        receipt_id = commands.next_id("receipt") if receipt else None
        self._send_frame(build(message, transaction=transaction, receipt=receipt_id, version=self.engine.version))
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)

    def begin(self, transaction: str | None = None, receipt: bool = False, timeout: float | None = None) -> str:
        """BEGIN a transaction; returns its id (generated when not given)."""
        transaction = transaction or commands.next_id("tx")
        self._transaction(commands.begin, transaction, receipt, timeout)
        return transaction

    def commit(self, transaction: str, receipt: bool = False, timeout: float | None = None) -> None:
        self._transaction(commands.commit, transaction, receipt, timeout)

    def abort(self, transaction: str, receipt: bool = False, timeout: float | None = None) -> None:
        self._transaction(commands.abort, transaction, receipt, timeout)

    def _transaction(self, build, transaction, receipt, timeout) -> None:
        receipt_id = commands.next_id("receipt") if receipt else None
        self._send_frame(build(transaction, receipt=receipt_id))
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)

    # ------------------------------------------------------------------
    # Reading

    def receive(self, timeout: float | None = None) -> Frame | None:
        """The next MESSAGE frame, or None after `timeout` seconds (None waits forever).

        Raises BrokerError for an ERROR frame and ConnectionLost when the
        connection is gone (after reconnect attempts, if enabled).
        """
        messages = self._messages
        if messages:
            return messages.popleft()
        if self._batch:
            self.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if messages:
                return messages.popleft()
            self._raise_pending()
            if not self._advance(deadline):
                return messages.popleft() if messages else None

    def messages(self, timeout: float | None = None) -> Iterator[Frame]:
        """Yield MESSAGE frames until `timeout` seconds pass without one (None: forever)."""
        while True:
            message = self.receive(timeout)
            if message is None:
                return
            yield message

    def wait_receipt(self, receipt_id: str, timeout: float | None = None) -> None:
        """Wait for the RECEIPT with this id; raise ReceiptTimeout after `timeout` seconds."""
        if self._batch:
            self.flush()
        deadline = None if timeout is None else time.monotonic() + timeout
        generation = self._generation
        receipts = self._receipts
        while True:
            if receipt_id in receipts:
                receipts.discard(receipt_id)
                return
            self._raise_pending()
            if self._generation != generation:
                raise ConnectionLost(f"the connection was lost before receipt {receipt_id!r} arrived")
            if not self._advance(deadline):
                if receipt_id in receipts:
                    receipts.discard(receipt_id)
                    return
                raise ReceiptTimeout(f"no receipt {receipt_id!r} from the broker within {timeout:g} s")

    def _raise_pending(self) -> None:
        if self._errors:
            try:
                frame = self._errors.popleft()
            except IndexError:
                pass
            else:
                raise BrokerError(frame)
        if self._closed:
            raise ConnectionLost("the connection is closed")
        lost = self._lost
        if lost is not None:
            if self.reconnect:
                with self._reconnect_lock:  # a reconnection may be under way: wait for its outcome
                    lost = self._lost
            if lost is not None:
                raise lost

    def _advance(self, deadline: float | None) -> bool:
        """Read once, or wait for the thread that reads; False when the deadline passed."""
        remaining = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
        if not self._rlock.acquire(False):
            with self._cond:
                if not self._rlock.acquire(False):
                    self._cond.wait(remaining)
                    return True
        try:
            self._pump(remaining)
        finally:
            self._rlock.release()
            with self._cond:
                self._cond.notify_all()
        return True

    def _pump(self, timeout: float | None, nonblocking: bool = False) -> None:
        """Read what the socket has (waiting up to `timeout`), parse it, sort the frames. Holds _rlock."""
        sock, parser, generation = self._sock, self._parser, self._generation
        if self._lost is not None or sock is None:
            return
        receive_every = self.engine.heart_beats[1]
        if receive_every and not nonblocking:
            # Do not sleep past the moment the broker's silence means it is gone.
            limit = self._last_read + receive_every * SILENCE_FACTOR / 1000 - time.monotonic()
            if limit <= 0:
                self._lost_connection(generation, self._silence_message())
                return
            timeout = limit if timeout is None else min(timeout, limit)
        try:
            data = self._read(sock, 0 if nonblocking else timeout)
        except (OSError, ValueError) as error:
            self._lost_connection(generation, self._silent or f"reading failed: {_reason(error)}")
            return
        if data is None:
            return
        if not data:
            self._lost_connection(generation, self._silent or "the broker closed the connection")
            return
        self._last_read = time.monotonic()
        try:
            frames = parser.feed(data)
        except FrameError as error:
            self._dispatch(getattr(error, "frames", []))
            self._lost_connection(generation, f"the broker sent a malformed frame: {error}")
            return
        if frames:
            self._dispatch(frames)

    def _read(self, sock: socket.socket, timeout: float | None) -> bytes | None:
        """Up to RECV_SIZE bytes; None when nothing came within `timeout`; b'' at EOF."""
        if isinstance(sock, ssl.SSLSocket):
            if sock.pending():
                return sock.recv(RECV_SIZE)
            if not self._poll.poll(None if timeout is None else max(timeout * 1000, 0)):
                return None
            try:
                return sock.recv(RECV_SIZE)
            except ssl.SSLWantReadError:
                return None
        # Try the socket first only when the last read found data waiting: a
        # reader that keeps up with the broker would otherwise pay a failed
        # recv (and its exception) before every poll.
        try:
            if not self._data_waiting and not self._poll.poll(None if timeout is None else max(timeout * 1000, 0)):
                return None
            data = sock.recv(RECV_SIZE, socket.MSG_DONTWAIT)
        except BlockingIOError:
            self._data_waiting = False
            return self._read(sock, timeout)
        self._data_waiting = len(data) == RECV_SIZE
        return data

    def _dispatch(self, frames: list[Frame]) -> None:
        on_frame = self._on_frame
        messages = self._messages
        for frame in frames:
            if on_frame is not None:
                on_frame(frame, "in")
            command = frame.command
            if command == "MESSAGE":
                messages.append(frame)
            elif command == "RECEIPT":
                self.engine.receipt(frame)
                self._receipts.add(frame.headers.get("receipt-id", ""))
            elif command == "ERROR":
                self._errors.append(frame)

    def _silence_message(self) -> str:
        every = self.engine.heart_beats[1]
        return f"the broker sent nothing for {every * SILENCE_FACTOR / 1000:g} s (heart-beats expected every {every} ms)"

    # ------------------------------------------------------------------
    # Losing and regaining the connection

    def _lost_connection(self, generation: int, reason: str) -> None:
        """Mark connection `generation` lost; reconnect when asked to. Idempotent."""
        with self._reconnect_lock:
            if generation != self._generation or self._lost is not None or self._closed:
                return
            where = f" ({self._endpoint})" if self._endpoint else ""
            self._lost = ConnectionLost(f"connection lost{where}: {reason}")
            sock = self._sock
            if sock is not None:
                _shutdown(sock)
                sock.close()
            if self.reconnect and not self._stop.is_set():
                try:
                    self._establish(self.connect_timeout, single_pass=False)
                    self._resubscribe()
                except (StompError, OSError) as error:
                    self._lost = ConnectionLost(f"connection lost{where}: {reason}; reconnecting failed: {error}")
        with self._cond:
            self._cond.notify_all()

    def _resubscribe(self) -> None:
        version = self.engine.version
        frames = [
            commands.subscribe(sub.destination, sub_id, sub.ack, None, sub.headers, version)
            for sub_id, sub in list(self._subscriptions.items())
        ]
        for frame in frames:
            self._emit(frame, "out")
        if frames:
            with self._wlock:
                self._sock.sendall(b"".join(frame.encode(version) for frame in frames))
                self._last_write = time.monotonic()

    def _heart_loop(self) -> None:
        """Write EOLs when idle, drain when nobody reads, and watch the broker's silence."""
        stop = self._stop
        while not stop.is_set():
            send_every, receive_every = (value / 1000 for value in self.engine.heart_beats)
            now = time.monotonic()
            waits = []
            if send_every:
                due = self._last_write + send_every * SEND_FACTOR
                if now >= due:
                    self._beat()
                    due = self._last_write + send_every * SEND_FACTOR
                waits.append(due - now)
            if receive_every:
                if self._rlock.acquire(False):
                    try:
                        if not self._messages:
                            self._pump(0, nonblocking=True)
                        elif self._poll is not None and self._poll.poll(0):
                            self._last_read = time.monotonic()  # unread data waits: the broker is alive
                    finally:
                        self._rlock.release()
                        with self._cond:
                            self._cond.notify_all()
                silence = time.monotonic() - self._last_read
                if silence > receive_every * SILENCE_FACTOR and self._lost is None:
                    self._silent = self._silence_message()
                    sock = self._sock
                    generation = self._generation
                    if sock is not None:
                        _shutdown(sock)  # wakes a reader blocked in recv
                    self._lost_connection(generation, self._silent)
                waits.append(min(receive_every / 2, 1.0))
            if not waits:
                return
            stop.wait(max(min(waits), 0.01))

    def _beat(self) -> None:
        if self._lost is not None or self._sock is None:
            return
        if self._wlock.acquire(timeout=0.5):
            try:
                self._sock.sendall(b"\n")
                self._last_write = time.monotonic()
            except OSError:
                pass  # the reader will see the connection die
            finally:
                self._wlock.release()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_RDWR)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


def _stream_size(stream: BinaryIO) -> int:
    """Bytes from the stream's position to its end."""
    try:
        position = stream.tell()
        try:
            return os.fstat(stream.fileno()).st_size - position
        except (OSError, AttributeError, ValueError):
            end = stream.seek(0, os.SEEK_END)
            stream.seek(position)
            return end - position
    except (OSError, AttributeError, ValueError):
        raise ValueError("a file body must be seekable so that its size is known (read it into bytes instead)") from None


def _send_file(sock: socket.socket, stream: BinaryIO, size: int) -> None:
    """Write exactly `size` bytes of `stream` to `sock`, in chunks."""
    if not isinstance(sock, ssl.SSLSocket):
        try:
            stream.fileno()
        except (OSError, AttributeError, ValueError):
            pass
        else:
            sent = sock.sendfile(stream, stream.tell(), size)
            if sent != size:
                raise ValueError(f"the file ended after {sent} of {size} bytes")
            return
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
        sock.sendall(view[:count])
        left -= count
