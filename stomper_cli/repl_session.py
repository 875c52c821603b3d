"""The REPL's session: one broker connection, its frame history and the state commands share.

What STOMP itself remembers (live subscriptions, which messages await an
ACK, which ACK or NACK settled a message, what an ABORT undoes) is the
library session's, `conn.protocol`, kept across `disconnect`/`connect` and
renewed by the Connection after a failover: the REPL keeps no copy of it,
only the history of frames, to name messages and frames by number.

This module knows nothing of prompt_toolkit nor of the commands: the
commands (`repl_commands`) operate on a Session, and the interactive prompt
(`repl_prompt`) and scripted runs both hand lines to `repl_commands.execute`.
The dependency points one way: prompt -> commands -> session.

Threads: commands run in the caller's thread (the prompt thread). Each
connection has one background reader thread that keeps calling
`Connection.receive`, so that frames arriving from the broker are read
while the prompt waits for input. Every frame, in or out, passes through
`Session.on_frame` (the Connection's `on_frame` callback), whatever thread
read it: that is where the history is kept and arriving MESSAGE, RECEIPT
and ERROR frames are printed. Printing goes through `Output`, whose lock
keeps frames from different threads whole.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from rich.text import Text

from stomper import Frame, FrameError, FrameParser
from stomper.commands import next_id
from stomper.errors import BrokerError, ConnectionLost, ReceiptTimeout, StompError
from stomper.session import Settlement
from stomper.versions import spec

from .errors import EXIT_CONNECTION, EXIT_ERROR, EXIT_OK, CliError, ConnectionProblem, TimeoutExpired, classify, mask
from .options import ConnectionParams, open_connection
from .render import FrameWriter, is_terminal, make_console

#: How long the reader thread blocks in one `receive` call; bounds how long stopping it takes.
READER_POLL = 0.2
#: The default wait for a receipt when `receipts on` (seconds); `--receipt-timeout` changes it.
RECEIPT_TIMEOUT = 30.0
#: The longest wait for DISCONNECT's receipt: leaving must not hang on a silent broker.
DISCONNECT_TIMEOUT = 2.0
#: The commands whose arrival is printed at once.
SHOWN_ARRIVALS = frozenset({"MESSAGE", "RECEIPT", "ERROR"})


class ReplError(CliError):
    """A command that cannot be done as asked (no such message, frame or subscription): exit 1."""


class Output:
    """Where the REPL writes: arriving frames and frame dumps, info lines, error lines; thread safe.

    Frames are rendered by render.py's FrameWriter exactly as `stomper unpack`
    renders them (Rich on a terminal, plain text in a pipe, passcode masked).
    The streams are looked up at each write, so that prompt_toolkit's
    `patch_stdout` proxies are used while the prompt runs.
    """

    def __init__(self, color: str = "auto", stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.color = color
        self._stdout = stdout
        self._stderr = stderr
        self.lock = threading.RLock()
        #: Put before error lines; a scripted run says where: "stomper: error: SCRIPT:LINE: ".
        self.error_prefix = "error: "

    @property
    def stdout(self) -> IO[str]:
        return self._stdout or sys.stdout

    @property
    def stderr(self) -> IO[str]:
        return self._stderr or sys.stderr

    def _rich(self, stream: IO[str]) -> bool:
        return self.color == "always" or (self.color == "auto" and is_terminal(stream))

    def _line(self, stream: IO[str], text: str, style: str) -> None:
        text = mask(text)
        with self.lock:
            if self._rich(stream):
                make_console(stream, self.color).print(Text(text, style=style), soft_wrap=True)
            else:
                stream.write(text + "\n")
            stream.flush()

    def info(self, text: str) -> None:
        """A line about what a command did."""
        self._line(self.stdout, text, "dim")

    def text(self, text: str) -> None:
        """Plain text (help, status, history), unstyled."""
        with self.lock:
            self.stdout.write(mask(text).rstrip("\n") + "\n")
            self.stdout.flush()

    def error(self, text: str) -> None:
        """One error line on stderr."""
        self._line(self.stderr, f"{self.error_prefix}{text}", "bold red")

    def frame(self, frame: Frame, label: str | None = None) -> None:
        """`frame` as `stomper unpack` shows it, after an optional label line."""
        with self.lock:
            if label:
                self._line(self.stdout, label, "dim")
            FrameWriter("pretty", self.color, stream=self.stdout).write(frame)


@dataclass
class Entry:
    """One frame of the session's history."""

    number: int
    direction: str  # "in" or "out"
    frame: Frame
    version: str
    connection: int = 0  # which connection of the session carried it (acks are only valid on that one)
    #: The frame object the connection handed over (before masking): the library's records point at it.
    original: Frame | None = None


def mask_frame(frame: Frame) -> Frame:
    """`frame` with any passcode header replaced (the history and `save` never hold the passcode)."""
    if "passcode" not in frame.headers or frame.headers["passcode"] == "***":
        return frame
    items = [(name, "***" if name == "passcode" else value) for name, value in frame.header_items()]
    return Frame(frame.command, items, frame.body)


def wire_form(frame: Frame, version: str) -> Frame:
    """`frame` as the broker reads it (with the content-length the encoder adds), so that `show` and `save` agree."""
    try:
        return FrameParser(version).feed(frame.encode(version))[0]
    except (FrameError, IndexError):
        return frame


class Session:
    """A REPL session: the connection, what was seen, and the state commands share."""

    def __init__(self, params: ConnectionParams, output: Output | None = None, verbose: bool = False,
                 receipt_timeout: float = RECEIPT_TIMEOUT) -> None:
        self.params = params
        self.out = output or Output()
        self.verbose = verbose
        self.conn = None
        self.history: list[Entry] = []
        self.transaction: str | None = None
        self.receipts = False
        self.receipt_timeout = receipt_timeout
        #: Where multi-line commands read their next line; set by whoever runs the command lines.
        self.more_lines: Callable[[], str | None] = lambda: None
        self._connection = 0  # counts the session's connections (each CONNECTED)
        self._entries: dict[int, Entry] = {}  # id() of a MESSAGE the connection handed over -> its entry
        self._notes_shown = 0  # how many of the connection's notes were shown (under -v)
        self.exit_code = EXIT_OK
        self.interactive = False
        self._destinations: dict[str, None] = {}  # insertion-ordered set
        self._arrived = threading.Condition(threading.Lock())
        self._message_count = 0
        self._waited = 0  # messages accounted for by earlier `wait --count`
        self._last_arrival = time.monotonic()
        self._reader: threading.Thread | None = None
        self._reader_stop = threading.Event()
        self._reported_errors: set[int] = set()  # ERROR frames already reported on arrival

    # ------------------------------------------------------------------
    # What the session saw

    def on_frame(self, frame: Frame, direction: str) -> None:
        """The Connection's callback for every frame sent or received (any thread)."""
        original, frame = frame, mask_frame(frame)
        conn = self.conn
        version = conn.version if conn is not None else "1.2"
        if direction == "out":
            frame = wire_form(frame, version)
        with self._arrived:
            if direction == "in" and frame.command == "CONNECTED":
                self._connection += 1
            entry = Entry(len(self.history) + 1, direction, frame, version, self._connection, original)
            self.history.append(entry)
            if frame.command == "MESSAGE":
                self._entries[id(original)] = entry
            destination = frame.headers.get("destination")
            if destination and frame.command in ("SEND", "SUBSCRIBE", "MESSAGE"):
                self._destinations[destination] = None
            if direction == "in":
                self._last_arrival = time.monotonic()
                if frame.command == "MESSAGE":
                    self._message_count += 1
                self._arrived.notify_all()
        if (direction == "in" and frame.command in SHOWN_ARRIVALS) or (self.verbose and frame.command not in ("CONNECT", "CONNECTED")):
            arrow = "<<<" if direction == "in" else ">>>"
            self.out.frame(frame, f"{arrow} #{entry.number}")
        if direction == "in" and frame.command == "ERROR":
            self._reported_errors.add(id(original))
            self.failed(EXIT_ERROR)
            self.out.error(f"broker error: {frame.headers.get('message') or '(no message header)'} (ERROR #{entry.number})")

    @property
    def destinations(self) -> list[str]:
        """Destinations seen this session (sent to, subscribed to, received from), oldest first."""
        return list(self._destinations)

    def messages(self) -> list[Entry]:
        """The MESSAGE frames received this session, oldest first."""
        return [entry for entry in list(self.history) if entry.direction == "in" and entry.frame.command == "MESSAGE"]

    def entry(self, number: int) -> Entry:
        if not self.history:
            raise ReplError("no frames in the history yet")
        if number < 0:
            number = len(self.history) + 1 + number
        if not 1 <= number <= len(self.history):
            raise ReplError(f"no frame #{number}: the history holds #1 to #{len(self.history)}")
        return self.history[number - 1]

    def find_message(self, reference: str | None) -> Entry:
        """The MESSAGE named by message-id, by history number (#N or N), or the last one when None."""
        messages = self.messages()
        if not messages:
            raise ReplError("no message received yet")
        if reference is None:
            return messages[-1]
        for entry in reversed(messages):
            if entry.frame.headers.get("message-id") == reference:
                return entry
        number = reference.removeprefix("#")
        if number.isdigit():
            entry = self.entry(int(number))
            if entry.direction != "in" or entry.frame.command != "MESSAGE":
                raise ReplError(f"frame #{number} is {entry.frame.command}, not a received MESSAGE")
            return entry
        raise ReplError(f"no message with message-id or number {reference!r}")

    # ------------------------------------------------------------------
    # What is acknowledged: the library session knows; the history names it

    @property
    def subscriptions(self) -> dict:
        """Live subscriptions, id -> stomper.session.Subscription(destination, ack, headers): the library session's own."""
        return self.conn.protocol.subscriptions if self.conn is not None else {}

    def ack_mode(self, entry: Entry) -> str | None:
        """The ack mode of the live subscription that delivered `entry` (None when it is not live)."""
        subscription = self.subscriptions.get(entry.frame.headers.get("subscription", ""))
        return subscription.ack if subscription is not None else None

    def _entries_of(self, frames: list[Frame]) -> list[Entry]:
        with self._arrived:
            return [self._entries[id(frame)] for frame in frames if id(frame) in self._entries]

    def unacked(self) -> list[Entry]:
        """The messages of client and client-individual subscriptions not yet acknowledged, oldest first."""
        if self.conn is None:
            return []
        return sorted(self._entries_of(self.conn.unacknowledged()), key=lambda entry: entry.number)

    def ack_id(self, entry: Entry) -> str:
        """What an ACK of `entry` names it by, in the version it came in."""
        return spec(entry.version).ack_id(entry.frame.headers) or ""

    def to_settle(self, reference: str | None) -> Entry:
        """The message an `ack`/`nack` names, checked so that the broker never sees a second ACK of one message.

        Without a reference: the oldest unacknowledged one, since that is
        the one a broker delivering in order expects to hear about first.
        """
        if reference is None:
            unacked = self.unacked()
            if not unacked:
                raise ReplError("no unacknowledged message (only subscriptions with --ack client or client-individual wait for one)")
            return unacked[0]
        entry = self.find_message(reference)
        sub_id = entry.frame.headers.get("subscription", "")
        if entry.connection != self._connection:
            raise ReplError(f"#{entry.number} came on an earlier connection: the broker delivers it again, settle the new delivery")
        settlement = self.conn.protocol.settled_by(sub_id, self.ack_id(entry)) if self.conn is not None else None
        if settlement is not None:
            raise ReplError(f"#{entry.number} was already {self.how_settled(entry, settlement)}: not sent again")
        if self._unsubscribed_since(entry):
            raise ReplError(f"#{entry.number} came on subscription {sub_id}, which was unsubscribed: the broker takes no ACK for it "
                            "(RabbitMQ refuses it, ActiveMQ delivers the message again)")
        if self.ack_mode(entry) == "auto":
            raise ReplError(f"#{entry.number} came on subscription {sub_id} with ack auto: the broker needs no ACK for it")
        if entry not in self.unacked():
            raise ReplError(f"#{entry.number} awaits no acknowledgement (it was acked or nacked long ago): not sent again")
        return entry

    def _unsubscribed_since(self, entry: Entry) -> bool:
        """Whether the subscription that delivered `entry` ended after it (even if its id was used again since)."""
        sub_id = entry.frame.headers.get("subscription", "")
        if sub_id not in self.subscriptions:
            return True
        return any(later.direction == "out" and later.frame.command == "UNSUBSCRIBE" and later.frame.headers.get("id") == sub_id
                   for later in self.history[entry.number:])

    def how_settled(self, entry: Entry, settlement: Settlement) -> str:
        """'acked by #9', with '(cumulatively, with #7)' when the ACK named a later message of a client subscription."""
        by = self.acknowledgement_entry(settlement)
        how = f"{settlement.command.lower()}ed by #{by.number if by else '?'}"
        if settlement.ack_id == self.ack_id(entry):
            return how
        other = self.message_by_ack_id(entry.frame.headers.get("subscription", ""), settlement.ack_id)
        return f"{how} (cumulatively, with #{other.number if other else '?'})"

    def acknowledgement_entry(self, settlement: Settlement) -> Entry | None:
        """The ACK or NACK of this connection that made `settlement` (the latest that matches it)."""
        for entry in reversed(self.history):
            if entry.connection != self._connection:
                return None
            frame = entry.frame
            if (entry.direction == "out" and frame.command == settlement.command
                    and frame.headers.get(spec(entry.version).ack_header) == settlement.ack_id
                    and frame.headers.get("transaction") == settlement.transaction):
                return entry
        return None

    def message_by_ack_id(self, sub_id: str, ack_id: str | None) -> Entry | None:
        """The MESSAGE of this connection and subscription that an ACK names by `ack_id`."""
        for entry in reversed(self.messages()):
            if entry.connection != self._connection:
                return None
            if entry.frame.headers.get("subscription") == sub_id and self.ack_id(entry) == ack_id:
                return entry
        return None

    def settled_with(self, entry: Entry) -> list[Entry]:
        """The messages the ACK or NACK just sent for `entry` settled: itself, and in `client` mode the earlier ones."""
        sub_id = entry.frame.headers.get("subscription", "")
        settled = self.conn.protocol.settled.get(sub_id, {})
        settlement = settled.get(self.ack_id(entry))
        covered = [self.message_by_ack_id(sub_id, ack_id) for ack_id, how in list(settled.items()) if how is settlement]
        return sorted({other.number: other for other in covered if other is not None}.values(), key=lambda other: other.number)

    def unacked_to_settle_all(self, command: str) -> list[Entry]:
        """What `ack --all` or `nack --all` (`command` ACK or NACK) sends: per subscription whose frame is cumulative
        (ack mode `client`) the newest message alone, as it covers the ones before it; otherwise every message."""
        chosen: list[Entry] = []
        session = self.conn.protocol
        for sub_id in list(self.subscriptions):
            waiting = self._entries_of(self.conn.unacknowledged(sub_id))
            chosen += waiting[-1:] if session.cumulative(sub_id, command) else waiting
        return sorted(chosen, key=lambda entry: entry.number)

    def failed(self, code: int) -> None:
        """Remember a failure: the first one sets the exit code of a scripted run."""
        if code and not self.exit_code:
            self.exit_code = code

    # ------------------------------------------------------------------
    # The connection

    @property
    def connected(self) -> bool:
        return self.conn is not None and self.conn.connected

    def require(self):
        """The live Connection, or ConnectionProblem."""
        if not self.connected:
            raise ConnectionProblem("not connected (use `connect`)")
        return self.conn

    @property
    def failover(self) -> bool:
        """Whether a lost connection is re-established by the library: when several URLs were given."""
        return len(self.params.urls) > 1

    def connect(self) -> None:
        """Connect, start the reader, renew the subscriptions the library session keeps."""
        if self.connected:
            self.out.info(f"already connected to {self.conn.url}")
            return
        self._stop_reader()
        conn = self.conn
        if conn is None:
            conn = self.conn = open_connection(self.params, on_frame=self.on_frame, reconnect=self.failover,
                                               on_reconnect=self._reconnected)
        conn.close()  # what is left of a lost connection; a closed one connects again, keeping its session
        conn.reconnect = self.failover  # `disconnect` turned it off
        conn.connect()
        send_every, receive_every = conn.heart_beats
        self.out.info(f"connected to {conn.url}: STOMP {conn.version}, server {conn.server or '?'}, session {conn.session or '?'}, "
                      f"heart-beats {send_every},{receive_every} ms")
        self._show_notes()
        self._start_reader(conn)
        for frame in conn.protocol.renewals():
            conn.send_frame(frame, **self.receipt_args())
            self.out.info(f"re-subscribed {frame.headers['id']} to {frame.headers['destination']}")

    def _reconnected(self, lost: ConnectionLost) -> None:
        """The library failed over (any thread): say where to, on one line; the transaction died with the old connection."""
        conn = self.conn
        count = len(conn.subscriptions)
        self.out.info(f"{lost}; reconnected to {conn.url} — {count} subscription{'' if count == 1 else 's'} renewed")
        self._end_transaction("the broker dropped it with the connection")
        self._show_notes()

    def _show_notes(self) -> None:
        """Under -v, the library's notes about the connection not shown yet (e.g. a broker heart-beat it had to clamp)."""
        notes = self.conn.notes
        if self.verbose:
            for note in notes[self._notes_shown:]:
                self.out.info(f"note: {note}")
        self._notes_shown = len(notes)

    def disconnect(self) -> None:
        """DISCONNECT (with a bounded wait for its receipt) and stop the reader; subscriptions are kept for `connect`."""
        conn = self.conn
        if conn is None or not conn.connected:
            self._drop_connection()
            self.out.info("not connected")
            return
        self._stop_reader()
        self._end_transaction("the connection was closed")
        timeout = min(self.receipt_timeout, DISCONNECT_TIMEOUT)
        try:
            conn.disconnect(timeout=timeout)
        except ReceiptTimeout:
            raise ConnectionProblem(f"no receipt for DISCONNECT in {timeout:g} s") from None
        self.out.info("disconnected")

    def close(self) -> None:
        """At the end of the session: disconnect if connected, reporting (not raising) a failure."""
        if self.connected:
            try:
                self.disconnect()
            except Exception as error:  # noqa: BLE001 - reported as the one line
                self.report(error)
        self._drop_connection()

    def _drop_connection(self) -> None:
        """Stop reading and close the socket; the Connection (and the subscriptions its session keeps) stays for `connect`."""
        self._stop_reader()
        if self.conn is not None:
            self.conn.close()

    def _start_reader(self, conn) -> None:
        self._reader_stop = stop = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, args=(conn, stop), name="stomper-repl-reader", daemon=True)
        self._reader.start()

    def _stop_reader(self) -> None:
        self._reader_stop.set()
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(READER_POLL * 10)
        self._reader = None

    def _read_loop(self, conn, stop: threading.Event) -> None:
        """Keep the socket read so arrivals show up at once (`on_frame` prints them); report a lost connection."""
        while not stop.is_set():
            try:
                conn.receive(READER_POLL)
            except BrokerError:
                continue  # the ERROR frame was printed on arrival and counted as a failure
            except StompError as error:
                if not stop.is_set():
                    self._lost(error)
                return

    def _lost(self, error: Exception) -> None:
        self.failed(EXIT_CONNECTION)
        text = str(error)
        self.out.error(f"{text if text.startswith('connection lost') else 'connection lost: ' + text} (type `connect` to reconnect)")
        self._end_transaction("the broker dropped it with the connection")
        with self._arrived:
            self._arrived.notify_all()

    def _end_transaction(self, why: str) -> None:
        if self.transaction is not None:
            self.out.info(f"transaction {self.transaction} is over: {why}")
            self.transaction = None

    def subscribe(self, destination: str, ack: str, sub_id: str | None, headers: dict[str, str]) -> str:
        """SUBSCRIBE; the library session knows the subscription (and its ack mode) before the broker can deliver on it."""
        if sub_id is not None and sub_id in self.subscriptions:
            raise ReplError(f"subscription id {sub_id!r} is in use")
        conn = self.require()
        return conn.subscribe(destination, ack=ack, id=sub_id or next_id("sub"), headers=dict(headers), **self.receipt_args())

    def unsubscribe(self, sub_id: str) -> None:
        """UNSUBSCRIBE (or, not connected, forget it): it is not renewed, and its messages no longer take an ACK."""
        if self.connected:
            self.conn.unsubscribe(sub_id, **self.receipt_args())
        else:
            self.conn.protocol.forget(sub_id)

    def receipt_args(self) -> dict:
        """The receipt=/timeout= arguments for a Connection call, per `receipts on|off`."""
        return {"receipt": self.receipts, "timeout": self.receipt_timeout}

    # ------------------------------------------------------------------
    # Waiting for arrivals

    def wait(self, seconds: float, count: int | None) -> int:
        """Wait until `count` messages arrived since the previous wait, or until nothing arrived for `seconds`.

        Returns how many messages arrived; raises TimeoutExpired when `count` was not reached.
        """
        with self._arrived:
            start = self._waited
            self._last_arrival = max(self._last_arrival, time.monotonic())
            while True:
                got = self._message_count - start
                if count is not None and got >= count:
                    self._waited = start + count
                    return count
                remaining = self._last_arrival + seconds - time.monotonic()
                if remaining <= 0 or (count is not None and not self.connected):
                    break
                self._arrived.wait(remaining)
            self._waited = self._message_count
        if count is not None:
            why = "the connection is gone" if not self.connected else f"nothing arrived for {seconds:g} s"
            raise TimeoutExpired(f"wait: {got} of {count} messages arrived ({why})")
        return got

    # ------------------------------------------------------------------
    # Running command lines

    def read_line(self) -> str | None:
        """The next input line for a multi-line command (a body, a raw frame), or None at the end of input."""
        return self.more_lines()

    def report(self, error: BaseException) -> int:
        """Print the one line for `error` (unless it is an ERROR frame already reported), remember the failure, return its exit code."""
        if isinstance(error, ReceiptTimeout):
            error = ConnectionProblem(f"no receipt for {self.receipt_timeout:g} s")
        code, message, _detail = classify(error)
        self.failed(code)
        if id(getattr(error, "frame", None)) not in self._reported_errors:
            self.out.error(message)
        return code
