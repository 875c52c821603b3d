"""Session: one STOMP conversation as state and rules, with no I/O.

In the way h11 separates HTTP from sockets, a Session knows STOMP and
nothing about how bytes travel. The caller (the blocking `Connection`, a
test, or any event loop) moves the bytes and tells the time:

    session = Session(heart_beat=(10000, 10000))
    session.start(now)
    write(session.encode(session.connect_frame(login, passcode, host)))
    for frame in session.receive_data(read(), now): ...   # CONNECTED, MESSAGE, RECEIPT, ERROR
    session.next_deadline(now)                            # when to look at the clock again

The events are the received Frames themselves (their `command` says which
kind): wrapping each MESSAGE in an event object would cost an allocation
per message on the hot path for nothing a Frame does not already say. A
heart-beat is not an event: it only moves `last_received` on.

The session owns what the conversation has agreed and accumulated: the
negotiated version and heart-beats, MESSAGE frames not yet taken
(`messages`), ERROR frames not yet raised (`errors`), receipts asked for and
arrived, live subscriptions with what is needed to renew them after a
reconnect, and the messages of client-ack subscriptions not yet
acknowledged. It has no clock: every time-dependent question takes `now`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import NamedTuple

from . import commands
from .errors import BrokerError, ConnectionLost, FrameError
from .frame import DEFAULT_VERSION, Frame, escape_header
from .parser import DEFAULT_MAX_FRAME_SIZE, FrameParser
from .versions import STOMP_10, VERSIONS, spec

#: The longest span a timer is given: 2**31 - 1 ms, about 24.8 days (what poll() takes).
MAX_TIMER_MS = 2**31 - 1
#: The largest heart-beat interval, in ms (about 12.4 days). A broker that
#: asks for more is clamped to it, since twice it (the silence allowed) must still fit a timer.
MAX_HEART_BEAT_MS = MAX_TIMER_MS // 2
#: The largest timeout, in whole seconds, any wait of the connection accepts.
MAX_TIMEOUT = MAX_TIMER_MS // 1000
#: The broker is declared gone after this many of its agreed heart-beat intervals of silence.
SILENCE_FACTOR = 2.0
#: A heart-beat EOL is due when nothing was written for this fraction of the agreed interval.
SEND_FACTOR = 0.9
#: What a heart-beat is on the wire.
HEART_BEAT = b"\n"
#: How many settled messages a subscription remembers at least (the latest), to tell a repeated ACK from a new one.
SETTLED_KEPT = 1000
#: Brokers (by how CONNECTED's `server` header starts) whose NACK settles only the message it names, even in ack mode
#: client, where STOMP has a NACK settle the older messages too, as an ACK does: ActiveMQ 5 ("ActiveMQ/5.17.2").
SINGLE_NACK_SERVERS = ("ActiveMQ/",)
#: CONNECT headers the session sets itself, which `connect_headers` may not override.
RESERVED_CONNECT_HEADERS = ("accept-version", "host", "login", "passcode", "heart-beat")
MASK = "***"

Observer = Callable[[Frame, str], object]


# ----------------------------------------------------------------------
# Checking what the caller asks for


def check_heart_beat(heart_beat: tuple[float, float] | None) -> tuple[int, int]:
    """(send, receive) in whole ms, each from 0 to MAX_HEART_BEAT_MS; ValueError otherwise."""
    if not heart_beat:
        return 0, 0
    try:
        send, receive = heart_beat
        values = (float(send), float(receive))
    except (TypeError, ValueError):
        values = (math.nan, math.nan)
    if not all(0 <= value <= MAX_HEART_BEAT_MS for value in values):  # NaN fails every comparison
        raise ValueError(f"heart_beat must be two numbers of milliseconds from 0 to {MAX_HEART_BEAT_MS}, not {heart_beat!r}")
    return int(values[0]), int(values[1])


def check_timeout(name: str, value: float | None) -> float | None:
    """`value` as seconds (None stays None: no bound); ValueError for NaN, infinite, negative or huge."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 <= seconds <= MAX_TIMEOUT:
        raise ValueError(f"{name} must be a number of seconds from 0 to {MAX_TIMEOUT}, not {value!r}")
    return seconds


def check_connect_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Extra CONNECT headers, refusing those the session sets itself."""
    checked = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str) or not name:
            raise ValueError(f"connect header {name!r}: names and values must be text, names not empty")
        if name.lower() in RESERVED_CONNECT_HEADERS:
            raise ValueError(
                f"connect header {name!r} is set by the connection itself"
                f" ({', '.join(RESERVED_CONNECT_HEADERS)} cannot be given as connect headers)"
            )
        checked[name] = value
    return checked


# ----------------------------------------------------------------------
# Agreeing on the session


def parse_heart_beat(header: str | None) -> tuple[int, int]:
    """The two numbers of a heart-beat header; absent means (0, 0)."""
    if not header:
        return 0, 0
    try:
        first, second = (int(part) for part in header.split(","))
    except ValueError:
        raise FrameError(f"heart-beat header {header!r} is not two numbers") from None
    if first < 0 or second < 0:
        raise FrameError(f"heart-beat header {header!r} has a negative number")
    return first, second


def negotiate_heart_beat(client: tuple[int, int], server_header: str | None) -> tuple[int, int]:
    """(send every ms, expect every ms) agreed from both sides' heart-beat headers.

    Per the spec, each direction is off when either side says 0, else the
    larger of what one can send and the other wants.
    """
    server_send, server_want = parse_heart_beat(server_header)
    client_send, client_want = client
    send = 0 if not client_send or not server_want else max(client_send, server_want)
    receive = 0 if not client_want or not server_send else max(client_want, server_send)
    return send, receive


class Agreement(NamedTuple):
    """What a CONNECTED frame settles."""

    session_id: str
    server: str
    version: str
    heart_beats: tuple[int, int]
    #: Why the heart-beats differ from what the broker asked for (it asked beyond MAX_HEART_BEAT_MS), or None.
    note: str | None


def agree(connected: Frame, heart_beat: tuple[int, int], pinned: str | None) -> Agreement:
    """Read CONNECTED: the session, the version (`pinned` when given) and the heart-beats, clamped to a timer's range."""
    headers = connected.headers
    version = pinned or spec(headers.get("version", STOMP_10.name)).name  # no version header: the broker speaks 1.0
    send, receive = negotiate_heart_beat(heart_beat, headers.get("heart-beat"))
    note = None
    if send > MAX_HEART_BEAT_MS or receive > MAX_HEART_BEAT_MS:
        send, receive = min(send, MAX_HEART_BEAT_MS), min(receive, MAX_HEART_BEAT_MS)
        note = (
            f"the broker's heart-beat {headers.get('heart-beat')!r} is beyond {MAX_HEART_BEAT_MS} ms;"
            f" using {send},{receive}"
        )
    return Agreement(headers.get("session", ""), headers.get("server", ""), version, (send, receive), note)


def masked(frame: Frame) -> Frame:
    """The frame as it may be shown: a CONNECT's passcode replaced by ***."""
    if "passcode" not in frame.headers:
        return frame
    return Frame(frame.command, {**frame.headers, "passcode": MASK}, frame.body)


class Subscription(NamedTuple):
    """What renews a subscription on a new connection."""

    destination: str
    ack: str
    headers: dict[str, str]


class Settlement(NamedTuple):
    """How a message was settled: by an ACK or NACK (`command`) naming `ack_id` (the message itself, or for a
    cumulative ACK a later one of its subscription), inside `transaction` or not.

    Strings only, not the frame: a record of plain strings costs the garbage
    collector nothing, where thousands of kept Frames would slow every ACK.
    """

    command: str
    ack_id: str
    transaction: str | None


# ----------------------------------------------------------------------
# The session


class Session:
    """The state of one STOMP conversation (and its renewals after reconnects), without I/O.

    `version` pins a version (None negotiates 1.0 to 1.2); `heart_beat` is
    what the client offers, in ms; `connect_headers` are added to CONNECT.
    `on_frame(frame, "in")` is called for each frame received, in order.
    It hears of a MESSAGE or RECEIPT once the session has filed it, so a
    thread the observer wakes finds the message awaiting its ack; it hears
    of an ERROR before the error is queued to be raised, so the observer
    knows the frame before any waiting call raises it.
    """

    def __init__(
        self,
        version: str | None = None,
        heart_beat: tuple[int, int] = (10000, 10000),
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        connect_headers: Mapping[str, str] | None = None,
        use_stomp_command: bool = False,
        on_frame: Observer | None = None,
    ) -> None:
        if version is not None and version not in VERSIONS:
            raise ValueError(f"unknown STOMP version {version!r}: expected one of {', '.join(VERSIONS)}")
        self.pinned = version
        self.heart_beat = check_heart_beat(heart_beat)
        self.connect_headers = check_connect_headers(connect_headers)
        self.max_frame_size = max_frame_size
        self.use_stomp_command = use_stomp_command
        self.on_frame = on_frame
        self.version = version or DEFAULT_VERSION
        self.session_id = ""
        self.server = ""
        self.heart_beats = (0, 0)
        #: One line per thing the caller may want to show under -v (a clamped heart-beat).
        self.notes: list[str] = []
        self.connected = False
        self.parser = FrameParser(self.version, max_frame_size=max_frame_size)
        self.messages: deque[Frame] = deque()
        self.errors: deque[Frame] = deque()
        #: Receipts that arrived and nobody has taken yet.
        self.receipts: set[str] = set()
        #: Receipts asked for on this connection that have not arrived.
        self.pending_receipts: set[str] = set()
        self.subscriptions: dict[str, Subscription] = {}
        #: Per client-ack subscription: ack id -> MESSAGE, oldest first.
        self.outstanding: dict[str, dict[str, Frame]] = {}
        #: Per client-ack subscription: ack id -> how it was settled (the latest SETTLED_KEPT at least).
        self.settled: dict[str, dict[str, Settlement]] = {}
        #: Per client-ack subscription: ack id -> transaction, for outstanding messages an ACK or NACK inside a
        #: transaction settled. They stay in `outstanding` (in arrival order) until COMMIT drops them or ABORT frees them.
        self.held: dict[str, dict[str, str]] = {}
        self.last_received = 0.0
        self.last_sent = 0.0

    # ------------------------------------------------------------------
    # Connecting

    def start(self, now: float) -> None:
        """Begin a (new) connection: fresh parser and agreement; subscriptions are kept for renewal.

        Receipts asked for and messages unacknowledged on an earlier
        connection can never be answered or acknowledged on this one, so
        they are forgotten.
        """
        self.connected = False
        self.version = self.pinned or DEFAULT_VERSION
        self.parser = FrameParser(self.version, max_frame_size=self.max_frame_size)
        self.pending_receipts.clear()
        for pending in self.outstanding.values():
            pending.clear()
        for done in self.settled.values():
            done.clear()
        for held in self.held.values():
            held.clear()
        self.last_received = self.last_sent = now

    def connect_frame(self, login: str | None, passcode: str | None, host: str) -> Frame:
        """CONNECT (or STOMP) offering the pinned version or all of them, with the connect headers."""
        rules = spec(self.version)
        stomp_allowed = self.use_stomp_command and "STOMP" not in rules.missing_commands
        return commands.connect(
            login=login,
            passcode=passcode,
            host=host,
            heart_beat=self.heart_beat if rules.has_heart_beats else None,
            accept_version=(self.pinned or ",".join(VERSIONS)) if rules.negotiates else None,
            version=self.version,
            command="STOMP" if stomp_allowed else "CONNECT",
            headers=self.connect_headers,
        )

    def _agree(self, connected: Frame) -> None:
        agreement = agree(connected, self.heart_beat, self.pinned)
        self.session_id, self.server, self.version, self.heart_beats = agreement[:4]
        if agreement.note:
            self.notes.append(agreement.note)
        self.parser.version = self.version
        self.connected = True

    # ------------------------------------------------------------------
    # Receiving

    def receive_data(self, data: bytes, now: float) -> list[Frame]:
        """File the frames `data` completes and return them.

        Before CONNECTED: an ERROR raises BrokerError, any other frame
        ConnectionLost. A malformed stream raises FrameError after the
        frames before the fault were filed (they are in `error.frames`).
        """
        self.last_received = now
        try:
            frames = self.parser.feed(data)
        except FrameError as error:
            if not self.connected and not error.frames:
                raise ConnectionLost(f"the peer does not speak STOMP: {error}") from None
            self._file(error.frames)
            raise
        if frames:
            self._file(frames)
        return frames

    def _file(self, frames: list[Frame]) -> None:
        if not self.connected:
            frames = self._handshake(frames)
        on_frame, messages, outstanding = self.on_frame, self.messages, self.outstanding
        ack_id = spec(self.version).ack_id
        for frame in frames:
            command = frame.command
            if command == "MESSAGE":
                messages.append(frame)
                if outstanding:  # a subscription that acknowledges: remember the message until it is settled
                    headers = frame.headers
                    pending = outstanding.get(headers.get("subscription", ""))
                    if pending is not None:
                        pending[ack_id(headers) or ""] = frame
            elif command == "RECEIPT":
                receipt_id = frame.headers.get("receipt-id", "")
                self.pending_receipts.discard(receipt_id)
                self.receipts.add(receipt_id)
            elif command == "ERROR":
                if on_frame is not None:
                    on_frame(frame, "in")
                self.errors.append(frame)
                continue
            if on_frame is not None:
                on_frame(frame, "in")

    def _handshake(self, frames: list[Frame]) -> list[Frame]:
        """Settle the session from the first frame; return the frames after CONNECTED."""
        first = frames[0]
        if self.on_frame is not None:
            self.on_frame(first, "in")
        if first.command == "ERROR":
            raise BrokerError(first, "broker refused the connection")
        if first.command != "CONNECTED":
            raise ConnectionLost(f"the broker answered CONNECT with {first.command}, not CONNECTED")
        self._agree(first)
        return frames[1:]

    def take_receipt(self, receipt_id: str) -> bool:
        """True (once) when the receipt with this id has arrived."""
        try:
            self.receipts.remove(receipt_id)
        except KeyError:
            return False
        return True

    # ------------------------------------------------------------------
    # Building what to send, and remembering it

    def encode(self, frame: Frame) -> bytes:
        """The frame's bytes in the negotiated version."""
        return frame.encode(self.version)

    def expect_receipt(self, receipt_id: str) -> None:
        """Remember a receipt asked for, so `pending_receipts` tracks it."""
        self.pending_receipts.add(receipt_id)

    def subscribe(self, destination: str, ack: str, id: str, headers: Mapping[str, str] | None, receipt: str | None) -> Frame:
        """SUBSCRIBE, remembered for renewal (and for acknowledgement when `ack` is not auto)."""
        frame = commands.subscribe(destination, id, ack, receipt, headers, self.version)
        self.subscriptions[id] = Subscription(destination, ack, dict(headers or {}))
        if ack != "auto":
            self.outstanding[id] = {}
            self.settled[id] = {}
            self.held[id] = {}
        return frame

    def forget(self, id: str) -> Subscription | None:
        """Drop a subscription (unsubscribed, or its SUBSCRIBE never left)."""
        self.outstanding.pop(id, None)
        self.settled.pop(id, None)
        self.held.pop(id, None)
        return self.subscriptions.pop(id, None)

    def unsubscribe(self, id: str, receipt: str | None) -> Frame:
        """UNSUBSCRIBE, forgetting the subscription (1.0 names its destination too)."""
        subscription = self.forget(id)
        destination = subscription.destination if subscription else None
        return commands.unsubscribe(id, destination, receipt, version=self.version)

    def acknowledge(self, build: Callable[..., Frame], message: Frame, transaction: str | None, receipt: str | None) -> Frame:
        """ACK or NACK (`build` is commands.ack or commands.nack) in the negotiated form; no longer outstanding."""
        frame = build(message, transaction=transaction, receipt=receipt, version=self.version)
        self.sent(frame)
        return frame

    def acknowledgement_data(self, command: str, message: Frame) -> bytes | None:
        """ACK or NACK of `message` (no transaction, no receipt) as wire bytes, settled; None when only `acknowledge` can build it.

        Byte for byte what `acknowledge` would encode, without building a
        Frame: a consumer that ACKs every message pays for this once per
        message. None for STOMP 1.0 (unescaped headers the frame path may
        refuse), a message without the header to name it by, and a carriage
        return that the version cannot escape; `acknowledge` then builds the
        frame (or words the error).
        """
        rules = spec(self.version)
        headers = message.headers
        ack_id = rules.ack_id(headers)
        if not rules.escapes or type(ack_id) is not str:
            return None
        version = rules.name
        text = f"{rules.ack_header}:{escape_header(ack_id, version)}\n"
        for name in rules.ack_headers[1:]:  # 1.1 names the subscription too
            value = headers.get(name)
            if type(value) is not str:
                return None
            text += f"{name}:{escape_header(value, version)}\n"
        if "\r" in text:
            return None
        self.settle(command, ack_id)
        return f"{command}\n{text}\n\0".encode()

    def sent(self, frame: Frame) -> None:
        """Note a frame the caller sends as is: an ACK or NACK settles outstanding messages, COMMIT and ABORT end a transaction."""
        command = frame.command
        if command == "ACK" or command == "NACK":
            self.settle(command, frame.headers.get(spec(self.version).ack_header), frame.headers.get("transaction"))
        elif command == "COMMIT" or command == "ABORT":
            self._end_transaction(frame.headers.get("transaction", ""), undo=command == "ABORT")

    def settle(self, command: str, ack_id: str | None, transaction: str | None = None) -> None:
        """The message with this ack id (and, in ack mode client, every older one of its subscription) is ACKed or NACKed."""
        for sub_id, pending in self.outstanding.items():
            if ack_id in pending:
                held = self.held[sub_id]
                if held and ack_id in held:
                    return  # settled already, by a transaction still open
                settlement = Settlement(command, ack_id, transaction)
                if transaction is None and self.subscriptions[sub_id].ack != "client":
                    del pending[ack_id]  # the common case, kept short: one message, settled for good
                    done = self.settled[sub_id]
                    done[ack_id] = settlement
                    if len(done) > 2 * SETTLED_KEPT:
                        self._remember(sub_id, (), settlement)
                    return
                covered = self._covered(pending, held, ack_id, cumulative=self.cumulative(sub_id, command))
                for key in covered:
                    if transaction is None:
                        del pending[key]
                    else:
                        held[key] = transaction
                self._remember(sub_id, covered, settlement)
                return

    def cumulative(self, sub_id: str, command: str) -> bool:
        """Whether an ACK or NACK (`command`) on subscription `sub_id` also settles the older messages it has not settled."""
        subscription = self.subscriptions.get(sub_id)
        if subscription is None or subscription.ack != "client":
            return False
        return command == "ACK" or not self.server.startswith(SINGLE_NACK_SERVERS)

    @staticmethod
    def _covered(pending: dict[str, Frame], held: dict[str, str], ack_id: str, cumulative: bool) -> list[str]:
        """The ack ids an ACK of `ack_id` settles: itself, and for ack mode client every older one not settled yet."""
        if not cumulative:
            return [ack_id]
        covered = []
        for key in pending:  # oldest first; stops at ack_id, so the walk costs what it covers
            if key not in held:
                covered.append(key)
            if key == ack_id:
                break
        return covered

    def _remember(self, sub_id: str, covered: tuple[str, ...] | list[str], settlement: Settlement) -> None:
        """Record how the covered messages were settled.

        At least the latest SETTLED_KEPT are kept: past twice that, the
        record is cut back to the latest SETTLED_KEPT, so that remembering
        costs one dict store per message, the cut included.
        """
        done = self.settled[sub_id]
        for key in covered:
            done[key] = settlement
        if len(done) > 2 * SETTLED_KEPT:
            latest = list(done)[-SETTLED_KEPT:]
            self.settled[sub_id] = {key: done[key] for key in latest}

    def _end_transaction(self, transaction: str, undo: bool) -> None:
        """COMMIT: the transaction's acknowledgements stand and their messages are gone. ABORT: the broker undid
        them, so their messages are outstanding again (in their places: they never left `outstanding`)."""
        for sub_id, held in self.held.items():
            keys = [key for key, owner in held.items() if owner == transaction]
            pending, done = self.outstanding[sub_id], self.settled[sub_id]
            for key in keys:
                del held[key]
                if undo:
                    done.pop(key, None)
                else:
                    pending.pop(key, None)

    def delivered_here(self, message: Frame) -> bool:
        """False for a message of a subscription that acknowledges when this connection has no record of it.

        Such a message came on a connection since lost: the broker delivers
        it again, and its ack id means nothing here, or names another
        message. A message of a subscription without acknowledgements, or
        of one the session does not know, is given the benefit of the doubt.
        """
        headers = message.headers
        sub_id = headers.get("subscription", "")
        pending = self.outstanding.get(sub_id)
        if pending is None:
            return True
        ack_id = spec(self.version).ack_id(headers) or ""
        return ack_id in pending or ack_id in self.settled.get(sub_id, ())

    def settled_by(self, id: str, ack_id: str) -> Settlement | None:
        """How the message with this ack id on subscription `id` was settled (on this connection), or None."""
        return self.settled.get(id, {}).get(ack_id)

    def unacknowledged(self, id: str | None = None) -> list[Frame]:
        """Messages of client-ack subscriptions (or of subscription `id`) received and not yet ACKed or NACKed, oldest first.

        Safe while another thread files arrivals: each dict is copied whole before it is read.
        """
        ids = [id] if id is not None else list(self.outstanding)
        found = []
        for sub_id in ids:
            held = self.held.get(sub_id) or ()
            found += [message for key, message in list(self.outstanding.get(sub_id, {}).items()) if key not in held]
        return found

    def renewals(self) -> list[Frame]:
        """SUBSCRIBE frames that renew every live subscription, with the same ids, on a new connection."""
        return [
            commands.subscribe(sub.destination, sub_id, sub.ack, None, sub.headers, self.version)
            for sub_id, sub in self.subscriptions.items()
        ]

    # ------------------------------------------------------------------
    # Heart-beats: deadlines as numbers, for a caller with a clock

    def beat_due(self) -> float | None:
        """When the next heart-beat must be written (if nothing else is), or None when the client sends none."""
        send_every = self.heart_beats[0]
        return self.last_sent + send_every * SEND_FACTOR / 1000 if send_every else None

    def silence_limit(self) -> float | None:
        """When the broker's silence means it is gone, or None when it sends no heart-beats."""
        receive_every = self.heart_beats[1]
        return self.last_received + receive_every * SILENCE_FACTOR / 1000 if receive_every else None

    def next_deadline(self, now: float) -> float | None:
        """The earliest moment something is due (a beat to send, the broker overdue), `now` when already due; None when nothing ever is."""
        deadlines = [when for when in (self.beat_due(), self.silence_limit()) if when is not None]
        return max(min(deadlines), now) if deadlines else None

    def overdue(self, now: float) -> bool:
        """Whether the broker has been silent for longer than its heart-beats allow."""
        limit = self.silence_limit()
        return limit is not None and now > limit

    def silence_message(self) -> str:
        every = self.heart_beats[1]
        return f"the broker sent nothing for {every * SILENCE_FACTOR / 1000:g} s (heart-beats expected every {every} ms)"

