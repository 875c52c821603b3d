"""A blocking STOMP client: the session (stomper.session) driven over a transport (stomper.transport).

    from stomper.connection import Connection

    with Connection("stomp://guest:guest@127.0.0.1:61613") as conn:
        conn.subscribe("/queue/a")
        conn.send("/queue/a", b"hello", receipt=True)
        print(conn.receive(timeout=5).body)

This module is the driver only: it owns the locks, decides which thread
reads, batches writes and runs the heart-beat thread. What STOMP means
(CONNECT and CONNECTED, receipts, errors, subscriptions, unacknowledged
messages, heart-beat deadlines) is the `Session`'s; how bytes travel is the
transport's; which broker to try next is `failover`'s.

There is no reader thread. The thread that wants something from the broker
(a message, a receipt) reads the transport itself and hands the bytes to
the session, which files MESSAGE frames for `receive`, RECEIPT ids for
`wait_receipt` and ERROR frames to surface as `BrokerError`. When several
threads want to read at once, one reads and the others wait on a condition
for what it files. Sends go straight to the transport under a write lock.

When heart-beats are agreed, one small daemon thread writes an EOL when
the session says a beat is due, drains the socket when nobody is reading
(so that the broker's heart-beats are seen) and declares the connection
lost when the session says the broker is overdue. It is stopped and joined
by `close`/`disconnect`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO

from . import commands
from .errors import BrokerError, ConnectFailed, ConnectionLost, FrameError, ReceiptTimeout, StompError
from .failover import DEFAULT_BACKOFF, Backoff, ReconnectBudget, first_to_answer
from .frame import Frame
from .parser import DEFAULT_MAX_FRAME_SIZE
from .session import HEART_BEAT, Session, check_timeout, masked
from .transport import TlsSettings, Transport, describe, open_transport, reason
from .url import Endpoint, parse_url

__all__ = [
    "Backoff", "BrokerError", "ConnectFailed", "Connection", "ConnectionLost", "Endpoint", "ReceiptTimeout", "StompError",
    "parse_url",
]

BATCH_SIZE = 64 * 1024
#: How often, at most, the heart-beat thread looks for the broker's heart-beats (seconds).
DRAIN_EVERY = 1.0


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
    tried in order, with `backoff`, for up to `reconnect_timeout` seconds)
    and the live subscriptions are renewed with the same ids. A send that
    failed because the connection dropped is sent again once on the new
    connection; an ACK or NACK is not (it raises ConnectionLost: the broker
    delivers the message again). Receipts asked for on the old connection
    cannot arrive any more: waiting for one raises ConnectionLost.
    `on_reconnect(lost)` is then told what was lost and why (`url` says where
    the connection went).
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
        connect_headers: Mapping[str, str] | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        on_reconnect: Callable[[ConnectionLost], object] | None = None,
    ) -> None:
        if isinstance(urls, str):
            urls = [urls]
        if not urls:
            raise ValueError("no broker URL given")
        self.endpoints = [parse_url(url) for url in urls]
        #: The sans-I/O session: negotiated state, receipts, errors, subscriptions, unacknowledged messages.
        self.protocol = Session(version, heart_beat, max_frame_size, connect_headers, use_stomp_command, on_frame)
        self._login, self._passcode, self._vhost = login, passcode, vhost
        self.connect_timeout = _bound("connect_timeout", connect_timeout)
        self.reconnect_timeout = _bound("reconnect_timeout", reconnect_timeout)
        self._budget = ReconnectBudget(self.reconnect_timeout)
        self._tls = TlsSettings(ca_file, cert_file, key_file, verify)
        self.reconnect = reconnect
        self.backoff = backoff
        self._on_frame = on_frame
        self._on_reconnect = on_reconnect
        self._host_header = host_header

        self._transport: Transport | None = None
        self._endpoint: Endpoint | None = None
        self._generation = 0
        self._wlock = threading.Lock()  # serialises writes
        self._rlock = threading.Lock()  # held by the one thread reading the socket
        self._cond = threading.Condition(threading.Lock())  # "something was read"
        self._waiting = 0  # threads waiting on _cond for another thread's read (changed under _cond)
        self._reconnect_lock = threading.RLock()
        self._lost: ConnectionLost | None = None
        self._silent: str | None = None  # why the heart-beat thread gave up on the broker
        self._closed_by_broker = False  # the stream ended cleanly (b"" read), rather than failing
        self._closed = True
        self._stop = threading.Event()
        self._heart_thread: threading.Thread | None = None
        self._batch: bytearray | None = None
        self._batch_owner: int | None = None
        self._batch_size = BATCH_SIZE
        self._prefixes: dict[tuple, bytes] = {}

    # ------------------------------------------------------------------
    # State

    @property
    def version(self) -> str:
        return self.protocol.version

    @property
    def session(self) -> str:
        return self.protocol.session_id

    @property
    def server(self) -> str:
        return self.protocol.server

    @property
    def heart_beats(self) -> tuple[int, int]:
        """(client sends every ms, broker sends every ms) as agreed; 0 is off."""
        return self.protocol.heart_beats

    @property
    def notes(self) -> list[str]:
        """Things worth showing a user under -v, such as a broker heart-beat clamped to a timer's range."""
        return self.protocol.notes

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
        return {sub_id: sub.destination for sub_id, sub in self.protocol.subscriptions.items()}

    def unacknowledged(self, id: str | None = None) -> list[Frame]:
        """MESSAGE frames of client-ack subscriptions (or of subscription `id`) not yet ACKed or NACKed, oldest first."""
        return self.protocol.unacknowledged(id)

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
        self._budget.progressed()  # connecting anew: a later loss gets the whole reconnect_timeout
        try:
            self._establish(retry_for=None)
        except BaseException:
            self._closed = True
            raise
        return self

    def _endpoint_auth(self, endpoint: Endpoint) -> tuple[str | None, str | None, str]:
        login = self._login if self._login is not None else endpoint.login
        passcode = self._passcode if self._passcode is not None else endpoint.passcode
        host = self._host_header or self._vhost or endpoint.vhost or "/"
        return login, passcode, host

    def _establish(self, retry_for: float | None) -> None:
        """Try the endpoints in order with backoff; install the first that connects."""
        first_to_answer(self.endpoints, self._open, retry_for=retry_for, backoff=self.backoff, cancelled=self._stop.is_set)

    def _open(self, endpoint: Endpoint) -> None:
        timeout = self.connect_timeout
        deadline = time.monotonic() + timeout
        transport = None
        broken = None
        try:
            transport = open_transport(endpoint, timeout, self._tls)
            broken = self._handshake(transport, endpoint, deadline)
        except BrokerError:
            if transport is not None:
                transport.close()
            raise
        except (OSError, ConnectionLost, FrameError) as error:
            if transport is not None:
                transport.close()
            why = describe(error, endpoint, timeout) if isinstance(error, OSError) else str(error)
            raise ConnectFailed(f"could not connect to {endpoint}: {why}") from None
        with self._cond:
            self._generation += 1  # first: a writer that sees the new transport sees the new generation too
            self._transport, self._endpoint = transport, endpoint
            self._budget.connected()
            self._lost = None
            self._silent = None
            self._closed_by_broker = False
        if broken is not None:
            self._lost_connection(self._generation, f"the broker sent a malformed frame: {broken}")
            return
        self._start_heart_beats()

    def _handshake(self, transport: Transport, endpoint: Endpoint, deadline: float) -> FrameError | None:
        """Send CONNECT and read until CONNECTED; return a parse error that followed CONNECTED, if any."""
        protocol = self.protocol
        protocol.start(time.monotonic())
        frame = protocol.connect_frame(*self._endpoint_auth(endpoint))
        self._emit(masked(frame), "out")
        transport.write(protocol.encode(frame))
        while not protocol.connected:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no CONNECTED frame in time")
            data = transport.read(remaining)
            if data is None:
                continue
            if not data:
                raise ConnectionLost("the broker closed the connection before answering CONNECT")
            try:
                protocol.receive_data(data, time.monotonic())
            except FrameError as error:
                if not protocol.connected:
                    raise ConnectionLost(f"the peer does not speak STOMP: {error}") from None
                return error
        return None

    def _start_heart_beats(self) -> None:
        send, receive = self.protocol.heart_beats
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
            try:
                self.wait_receipt(receipt_id, timeout)
            except ConnectionLost:
                # Over WebSocket, closing in answer to DISCONNECT (as RabbitMQ Web STOMP does instead
                # of sending the receipt) also says every earlier frame was taken; over TCP it says nothing.
                transport = self._transport
                if not (self._closed_by_broker and transport is not None and transport.close_answers_disconnect):
                    raise
        finally:
            self.close()

    def close(self) -> None:
        """Close the socket without DISCONNECT and stop the heart-beat thread."""
        self._closed = True
        self._stop.set()
        transport = self._transport
        if transport is not None:
            transport.wake()
            transport.close()
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

    def _write_now(self, chunks: tuple[bytes, ...], stream: tuple[BinaryIO, int] | None, retry: bool,
                   only_on: int | None = None) -> None:
        """Write to the current transport; with `only_on`, refuse if a reconnect replaced connection `only_on`."""
        self._check_open()
        generation = self._generation
        try:
            with self._wlock:
                if only_on is not None and self._generation != only_on:
                    raise ConnectionLost("the connection was lost before the acknowledgement was written: "
                                         "not acknowledged, the broker delivers the message again")
                transport = self._transport
                if stream is None:
                    transport.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
                else:
                    transport.write(chunks[0])
                    transport.sendfile(*stream)
                    transport.write(chunks[1])
                self.protocol.last_sent = time.monotonic()
        except (OSError, ValueError, AttributeError) as error:
            if stream is not None:
                retry = False  # the file has been consumed
            self._lost_connection(generation, f"sending failed: {reason(error)}")
            if not (retry and self.reconnect and self._lost is None):
                raise self._lost or ConnectionLost(f"sending failed: {reason(error)}") from None
            self._write_now(chunks, None, False)

    def _send_frame(self, frame: Frame, retry: bool = True) -> None:
        self._emit(frame, "out")
        self._write(self.protocol.encode(frame), retry=retry)

    def _receipt_id(self, receipt: bool) -> str | None:
        """A fresh receipt id when one is asked for, remembered by the session as pending."""
        if not receipt:
            return None
        receipt_id = commands.next_id("receipt")
        self.protocol.expect_receipt(receipt_id)
        return receipt_id

    def _await(self, receipt_id: str | None, timeout: float | None) -> None:
        if receipt_id is not None:
            self.wait_receipt(receipt_id, timeout)

    def send_frame(self, frame: Frame, receipt: bool = False, timeout: float | None = None) -> str | None:
        """Send a prepared Frame as is; with receipt=True add a receipt header if missing and wait."""
        receipt_id = None
        if receipt:
            receipt_id = frame.headers.get("receipt")
            if receipt_id is None:
                receipt_id = self._receipt_id(True)
                frame = Frame(frame.command, [*frame.header_items(), ("receipt", receipt_id)], frame.body)
        self.protocol.sent(frame)
        self._send_frame(frame)
        self._await(receipt_id, timeout)
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
        stream). A file whose size the system gives as 0 (an empty file, or
        a special file such as those under /proc) is read instead.
        """
        receipt_id = self._receipt_id(True) if receipt else None
        if hasattr(body, "read"):
            size = _stream_size(body)
            if size:
                self._send_stream(destination, body, size, headers, content_type, transaction, receipt_id)
                self._await(receipt_id, timeout)
                return receipt_id
            body = body.read()
        if not headers and receipt_id is None and self._on_frame is None:
            # The hot path: the core encodes the header block once per destination; only the body changes.
            key = (destination, content_type, transaction, self.protocol.version)
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
            self._write(self.protocol.encode(frame))
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

    def _send_stream(self, destination, stream, size, headers, content_type, transaction, receipt_id) -> None:
        extra = {name: value for name, value in (headers or {}).items() if name != "content-length"}
        frame = commands.send(destination, b"", content_type, transaction, receipt_id, extra)
        self._emit(frame, "out")
        head = frame.encode(self.protocol.version, content_length=False)[:-2] + f"content-length:{size}\n\n".encode()
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
        receipt_id = self._receipt_id(receipt)
        frame = self.protocol.subscribe(destination, ack, sub_id, headers, receipt_id)
        try:
            self._send_frame(frame)
        except BaseException:
            self.protocol.forget(sub_id)
            raise
        self._await(receipt_id, timeout)
        return sub_id

    def unsubscribe(self, id: str, receipt: bool = False, timeout: float | None = None) -> None:
        """UNSUBSCRIBE by subscription id."""
        receipt_id = self._receipt_id(receipt)
        self._send_frame(self.protocol.unsubscribe(id, receipt_id))
        self._await(receipt_id, timeout)

    def ack(self, message: Frame, transaction: str | None = None, receipt: bool = False, timeout: float | None = None) -> None:
        """ACK a MESSAGE in the negotiated version's form."""
        self._acknowledge(commands.ack, message, transaction, receipt, timeout)

    def nack(self, message: Frame, transaction: str | None = None, receipt: bool = False, timeout: float | None = None) -> None:
        """NACK a MESSAGE (STOMP 1.1 and 1.2)."""
        self._acknowledge(commands.nack, message, transaction, receipt, timeout)

    def _acknowledge(self, build, message, transaction, receipt, timeout) -> None:
        # Only ever written on the connection that delivered the message: on another its ack id means nothing, or
        # another message. A connection that fails over checks, and writes only if no reconnect came in between.
        generation = self._generation
        if self.reconnect:
            if not self.protocol.delivered_here(message):
                raise ConnectionLost(f"message {message.headers.get('message-id', '?')!r} came on a connection since lost: "
                                     "not acknowledged, the broker delivers it again")
            self.flush()
        if transaction is None and not receipt and self._on_frame is None:
            # The hot path of a consumer that acknowledges each message: the session writes the bytes, no Frame.
            data = self.protocol.acknowledgement_data("ACK" if build is commands.ack else "NACK", message)
            if data is not None:
                self._write_acknowledgement(data, generation)
                return
        receipt_id = self._receipt_id(receipt)
        frame = self.protocol.acknowledge(build, message, transaction, receipt_id)
        self._emit(frame, "out")
        self._write_acknowledgement(self.protocol.encode(frame), generation)
        self._await(receipt_id, timeout)

    def _write_acknowledgement(self, data: bytes, generation: int) -> None:
        """Write an ACK or NACK, never again on a new connection; with failover, only on connection `generation`."""
        if self.reconnect:
            self._write_now((data,), None, False, only_on=generation)
        else:
            self._write(data, retry=False)

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
        receipt_id = self._receipt_id(receipt)
        frame = build(transaction, receipt=receipt_id)
        self.protocol.sent(frame)  # an ABORT makes the transaction's acknowledged messages outstanding again
        self._send_frame(frame)
        self._await(receipt_id, timeout)

    # ------------------------------------------------------------------
    # Reading

    def receive(self, timeout: float | None = None) -> Frame | None:
        """The next MESSAGE frame, or None after `timeout` seconds (None waits forever).

        Raises BrokerError for an ERROR frame and ConnectionLost when the
        connection is gone (after reconnect attempts, if enabled).
        """
        messages = self.protocol.messages
        if messages:
            return messages.popleft()
        if self._batch:
            self.flush()
        deadline = _deadline(timeout)
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
        deadline = _deadline(timeout)
        generation = self._generation
        take = self.protocol.take_receipt
        while True:
            if take(receipt_id):
                return
            self._raise_pending()
            if self._generation != generation:
                raise ConnectionLost(f"the connection was lost before receipt {receipt_id!r} arrived")
            if not self._advance(deadline):
                if take(receipt_id):
                    return
                raise ReceiptTimeout(f"no receipt {receipt_id!r} from the broker within {timeout:g} s")

    def _raise_pending(self) -> None:
        errors = self.protocol.errors
        if errors:
            try:
                frame = errors.popleft()
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
                self._waiting += 1  # before trying again: a reader letting go after this sees it and notifies
                try:
                    if not self._rlock.acquire(False):
                        self._cond.wait(remaining)
                        return True
                finally:
                    self._waiting -= 1
        try:
            self._pump(remaining)
        finally:
            self._release_read()
        return True

    def _release_read(self) -> None:
        """Let go of the socket and wake the threads waiting for what was read; with none waiting, no lock is taken."""
        self._rlock.release()
        if self._waiting:
            with self._cond:
                self._cond.notify_all()

    def _pump(self, timeout: float | None, nonblocking: bool = False) -> None:
        """Read what the transport has (waiting up to `timeout`) and give it to the session. Holds _rlock."""
        transport, protocol, generation = self._transport, self.protocol, self._generation
        if self._lost is not None or transport is None:
            return
        if not nonblocking:
            # Do not sleep past the moment the broker's silence means it is gone.
            limit = protocol.silence_limit()
            if limit is not None:
                limit -= time.monotonic()
                if limit <= 0:
                    self._lost_connection(generation, protocol.silence_message())
                    return
                timeout = limit if timeout is None else min(timeout, limit)
        try:
            data = transport.read(0 if nonblocking else timeout)
        except (OSError, ValueError) as error:
            self._lost_connection(generation, self._silent or f"reading failed: {reason(error)}")
            return
        if data is None:
            return
        if not data:
            self._closed_by_broker = self._silent is None  # not our own wake after the broker fell silent
            self._lost_connection(generation, self._silent or "the broker closed the connection")
            return
        with self._reconnect_lock:  # a reconnection in another thread must not share the session's parser
            if self._generation != generation:
                return  # bytes of a connection that was lost and replaced while they were read
            try:
                protocol.receive_data(data, time.monotonic())
            except FrameError as error:
                self._lost_connection(generation, f"the broker sent a malformed frame: {error}")

    # ------------------------------------------------------------------
    # Losing and regaining the connection

    def _lost_connection(self, generation: int, why: str) -> None:
        """Mark connection `generation` lost; reconnect when asked to. Idempotent."""
        with self._reconnect_lock:
            if generation != self._generation or self._lost is not None or self._closed:
                return
            where = f" ({self._endpoint})" if self._endpoint else ""
            self._lost = ConnectionLost(f"connection lost{where}: {why}")
            transport = self._transport
            if transport is not None:
                transport.wake()
                transport.close()
            if self.reconnect and not self._stop.is_set():
                lost = self._lost
                try:
                    self._establish(retry_for=self._reconnect_budget())
                    self._resubscribe()
                except (StompError, OSError) as error:
                    self._lost = ConnectionLost(f"connection lost{where}: {why}; reconnecting failed: {error}")
                else:
                    if self._on_reconnect is not None:
                        self._on_reconnect(lost)
        with self._cond:
            self._cond.notify_all()

    def _reconnect_budget(self) -> float:
        """Seconds left to reconnect in (see ReconnectBudget); ConnectFailed when none are left."""
        remaining = self._budget.lost() - self._budget.clock()
        if remaining <= 0:
            raise ConnectFailed(f"no connection stayed up for reconnect_timeout ({self.reconnect_timeout:g} s) since the first loss")
        return remaining

    def _resubscribe(self) -> None:
        protocol = self.protocol
        frames = protocol.renewals()
        for frame in frames:
            self._emit(frame, "out")
        if frames:
            with self._wlock:
                self._transport.write(b"".join(protocol.encode(frame) for frame in frames))
                protocol.last_sent = time.monotonic()

    def _heart_loop(self) -> None:
        """Write EOLs when due, drain when nobody reads, and watch the broker's silence."""
        stop, protocol = self._stop, self.protocol
        while not stop.is_set():
            send_every, receive_every = (value / 1000 for value in protocol.heart_beats)
            waits = []
            if send_every:
                if time.monotonic() >= protocol.beat_due():
                    self._beat()
                waits.append(protocol.beat_due() - time.monotonic())
            if receive_every:
                self._drain()
                if protocol.overdue(time.monotonic()) and self._lost is None:
                    self._give_up_on_silence()
                waits.append(min(receive_every / 2, DRAIN_EVERY))
            if not waits:
                return
            stop.wait(max(min(waits), 0.01))

    def _drain(self) -> None:
        """Read what arrived when no other thread is reading, so that the broker's heart-beats are seen."""
        if not self._rlock.acquire(False):
            return
        try:
            if not self.protocol.messages:
                self._pump(0, nonblocking=True)
            elif self._transport is not None and self._transport.pending():
                self.protocol.last_received = time.monotonic()  # unread data waits: the broker is alive
        finally:
            self._release_read()

    def _give_up_on_silence(self) -> None:
        self._silent = self.protocol.silence_message()
        transport = self._transport
        generation = self._generation
        if transport is not None:
            transport.wake()  # wakes a reader blocked in read
        self._lost_connection(generation, self._silent)

    def _beat(self) -> None:
        if self._lost is not None or self._transport is None:
            return
        if self._wlock.acquire(timeout=0.5):
            try:
                self._transport.write(HEART_BEAT)
                self.protocol.last_sent = time.monotonic()
            except OSError:
                pass  # the reader will see the connection die
            finally:
                self._wlock.release()


def _bound(name: str, timeout: float) -> float:
    """A timeout that must be given: seconds within the session's range (ValueError otherwise)."""
    checked = check_timeout(name, timeout)
    if checked is None:
        raise ValueError(f"{name} must be a number of seconds, not None")
    return checked


def _deadline(timeout: float | None) -> float | None:
    """When a wait of `timeout` seconds ends (checked: ValueError for NaN, infinite, negative, huge)."""
    if timeout is None:
        return None
    return time.monotonic() + check_timeout("timeout", timeout)


def _stream_size(stream: BinaryIO) -> int:
    """Bytes from the stream's position to its end, as the system reports them (0 for /proc files)."""
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

