"""The REPL's session: one broker connection, its frame history and the state commands share (subscriptions, acks).

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
from dataclasses import dataclass, field
from typing import IO

from rich.text import Text

from stomper import Frame, FrameError, FrameParser
from stomper.commands import next_id
from stomper.errors import BrokerError, ReceiptTimeout, StompError

from .errors import EXIT_CONNECTION, EXIT_ERROR, EXIT_OK, CliError, ConnectionProblem, TimeoutExpired, classify, mask
from .options import ConnectionParams, open_connection
from .render import FrameWriter, is_terminal, make_console

#: How long the reader thread blocks in one `receive` call; bounds how long stopping it takes.
READER_POLL = 0.2
#: The default wait for a receipt when `receipts on` (seconds); `--receipt-timeout` changes it.
RECEIPT_TIMEOUT = 30.0
#: The longest wait for DISCONNECT's receipt: leaving must not hang on a silent broker.
DISCONNECT_TIMEOUT = 2.0
#: Subscription ack modes whose messages wait for an ACK or NACK.
ACKED_MODES = frozenset({"client", "client-individual"})
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


@dataclass
class SubscriptionSpec:
    """What a `subscribe` asked for, to renew it on `connect`."""

    destination: str
    ack: str
    headers: dict[str, str] = field(default_factory=dict)


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
        self.subscriptions: dict[str, SubscriptionSpec] = {}
        self.transaction: str | None = None
        self.receipts = False
        self.receipt_timeout = receipt_timeout
        #: Where multi-line commands read their next line; set by whoever runs the command lines.
        self.more_lines: Callable[[], str | None] = lambda: None
        self._connection = 0  # counts the session's connections
        self._unacked: list[Entry] = []  # messages of client-ack subscriptions still awaiting ACK/NACK, oldest first
        self._ack_modes: dict[str, str] = {}  # subscription id -> ack mode
        self._ended: dict[str, int] = {}  # unsubscribed id -> the last history number it could have delivered
        self._settled: dict[int, str] = {}  # history number of a message -> how it was settled ("acked by #9")
        self._settled_in_transaction: list[Entry] = []  # undone by `abort`
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
            entry = Entry(len(self.history) + 1, direction, frame, version, self._connection)
            self.history.append(entry)
            destination = frame.headers.get("destination")
            if destination and frame.command in ("SEND", "SUBSCRIBE", "MESSAGE"):
                self._destinations[destination] = None
            if direction == "in":
                self._last_arrival = time.monotonic()
                if frame.command == "MESSAGE":
                    self._message_count += 1
                    if self.ack_mode(entry) in ACKED_MODES:
                        self._unacked.append(entry)
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
    # What is acknowledged: a message is settled once, by one ACK or NACK

    def ack_mode(self, entry: Entry) -> str | None:
        """The ack mode of the subscription that delivered `entry` (None when the session did not make it)."""
        return self._ack_modes.get(entry.frame.headers.get("subscription", ""))

    def unacked(self) -> list[Entry]:
        """The messages of client and client-individual subscriptions not yet acknowledged, oldest first."""
        with self._arrived:
            return list(self._unacked)

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
        with self._arrived:
            settled = self._settled.get(entry.number)
        if settled is not None:
            raise ReplError(f"#{entry.number} was already {settled}: not sent again")
        sub_id = entry.frame.headers.get("subscription", "")
        if entry.number <= self._ended.get(sub_id, 0):
            raise ReplError(f"#{entry.number} came on subscription {sub_id}, which was unsubscribed: the broker takes no ACK for it "
                            "(RabbitMQ refuses it, ActiveMQ delivers the message again)")
        if entry.connection != self._connection:
            raise ReplError(f"#{entry.number} came on an earlier connection: the broker delivers it again, settle the new delivery")
        if self.ack_mode(entry) == "auto":
            raise ReplError(f"#{entry.number} came on subscription {entry.frame.headers.get('subscription')} with ack auto: "
                            "the broker needs no ACK for it")
        return entry

    def newest_unacked_per_subscription(self) -> list[Entry]:
        """What `ack --all` sends: per subscription in `client` mode the newest message alone (its ACK covers the
        ones before it); in `client-individual` mode every message."""
        chosen: dict[str, Entry] = {}
        individual: list[Entry] = []
        for entry in self.unacked():
            if self.ack_mode(entry) == "client":
                chosen[entry.frame.headers.get("subscription", "")] = entry
            else:
                individual.append(entry)
        return sorted([*chosen.values(), *individual], key=lambda entry: entry.number)

    def settle(self, entry: Entry, how: str) -> list[Entry]:
        """Record that `entry` was acked or nacked (`how`, e.g. "acked by #9"); returns every message this settled.

        In `client` mode an ACK is cumulative (STOMP: it covers every earlier
        message of the subscription), so those are settled with it; RabbitMQ
        applies a NACK the same way.
        """
        subscription = entry.frame.headers.get("subscription")
        cumulative = self.ack_mode(entry) == "client"
        with self._arrived:
            covered = [entry] + [other for other in self._unacked if cumulative and other.number < entry.number
                                 and other.frame.headers.get("subscription") == subscription]
            for settled in covered:
                self._settled[settled.number] = how if settled is entry else f"{how} (cumulatively, with #{entry.number})"
                if settled in self._unacked:
                    self._unacked.remove(settled)
            if self.transaction is not None:
                self._settled_in_transaction += covered
        return covered

    def end_transaction(self, committed: bool) -> None:
        """After COMMIT the transaction's acks stand; after ABORT the broker undid them, so their messages await one again."""
        with self._arrived:
            undone, self._settled_in_transaction = self._settled_in_transaction, []
            if committed:
                return
            for entry in undone:
                self._settled.pop(entry.number, None)
                if entry.connection == self._connection:
                    self._unacked.append(entry)
            self._unacked.sort(key=lambda entry: entry.number)

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

    def connect(self) -> None:
        """Connect, start the reader, renew the session's subscriptions."""
        if self.connected:
            self.out.info(f"already connected to {self.conn.url}")
            return
        self._drop_connection()
        with self._arrived:
            self._connection += 1
        conn = open_connection(self.params, on_frame=self.on_frame)
        self.conn = conn
        try:
            conn.connect()
        except BaseException:
            self.conn = None
            raise
        send_every, receive_every = conn.heart_beats
        self.out.info(f"connected to {conn.url}: STOMP {conn.version}, server {conn.server or '?'}, session {conn.session or '?'}, "
                      f"heart-beats {send_every},{receive_every} ms")
        self._start_reader(conn)
        for sub_id, spec in list(self.subscriptions.items()):
            conn.subscribe(spec.destination, ack=spec.ack, id=sub_id, headers=spec.headers, **self.receipt_args())
            self.out.info(f"re-subscribed {sub_id} to {spec.destination}")

    def disconnect(self) -> None:
        """DISCONNECT (with a bounded wait for its receipt) and stop the reader; subscriptions are kept for `connect`."""
        conn = self.conn
        if conn is None or not conn.connected:
            self._drop_connection()
            self.out.info("not connected")
            return
        self._stop_reader()
        self._end_transaction("the connection was closed")
        self._forget_deliveries()
        timeout = min(self.receipt_timeout, DISCONNECT_TIMEOUT)
        try:
            conn.disconnect(timeout=timeout)
        except ReceiptTimeout:
            raise ConnectionProblem(f"no receipt for DISCONNECT in {timeout:g} s") from None
        finally:
            self.conn = None
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
        self._stop_reader()
        self._forget_deliveries()
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

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
        self._forget_deliveries()
        with self._arrived:
            self._arrived.notify_all()

    def _forget_deliveries(self) -> None:
        """With its connection gone, no message awaits an ACK from us: the broker delivers them again, anew."""
        with self._arrived:
            self._unacked.clear()

    def _end_transaction(self, why: str) -> None:
        if self.transaction is not None:
            self.out.info(f"transaction {self.transaction} is over: {why}")
            self.transaction = None
            with self._arrived:
                self._settled_in_transaction.clear()

    def subscribe(self, destination: str, ack: str, sub_id: str | None, headers: dict[str, str]) -> str:
        """SUBSCRIBE, the subscription known to the session before the broker can deliver on it.

        The reader thread may receive the first MESSAGE before `subscribe`
        returns; it must already know the ack mode to track what awaits an ACK.
        """
        if sub_id is not None and sub_id in self.subscriptions:
            raise ReplError(f"subscription id {sub_id!r} is in use")
        conn = self.require()
        sub_id = sub_id or next_id("sub")
        self.subscriptions[sub_id] = SubscriptionSpec(destination, ack, dict(headers))
        self._ack_modes[sub_id] = ack
        try:
            conn.subscribe(destination, ack=ack, id=sub_id, headers=dict(headers), **self.receipt_args())
        except (ConnectionProblem, StompError):
            if not self.connected:
                del self.subscriptions[sub_id]
            raise
        return sub_id

    def forget_subscription(self, sub_id: str) -> None:
        """After UNSUBSCRIBE: the subscription is not renewed, and its messages no longer await (nor take) an ACK."""
        del self.subscriptions[sub_id]
        with self._arrived:
            self._ended[sub_id] = len(self.history)
            self._unacked = [entry for entry in self._unacked if entry.frame.headers.get("subscription") != sub_id]

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
