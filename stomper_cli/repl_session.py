"""The REPL's session: one broker connection, its frame history and state, and the running of command lines.

This module knows nothing of prompt_toolkit: the interactive prompt
(`repl_prompt`) and scripted runs (`run_script`) both hand lines to
`Session.execute`. The commands themselves are in `repl_commands`.

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

import re
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from stomper import Frame, FrameError, FrameParser

from .errors import EXIT_CONNECTION, EXIT_ERROR, EXIT_OK, CliError, ConnectionProblem, TimeoutExpired, classify, mask
from .options import ConnectionParams, open_connection
from .render import FrameWriter, is_terminal, make_console

#: How long the reader thread blocks in one `receive` call; bounds how long stopping it takes.
READER_POLL = 0.2
#: The default wait for a receipt when `receipts on` (seconds).
RECEIPT_TIMEOUT = 5.0
#: The commands whose arrival is printed at once.
SHOWN_ARRIVALS = frozenset({"MESSAGE", "RECEIPT", "ERROR"})
_HEREDOC = re.compile(r"(?:^|\s)<<(\S*)\s*$")


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
                from rich.text import Text

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

    def __init__(self, params: ConnectionParams, output: Output | None = None, verbose: bool = False) -> None:
        self.params = params
        self.out = output or Output()
        self.verbose = verbose
        self.conn = None
        self.history: list[Entry] = []
        self.subscriptions: dict[str, SubscriptionSpec] = {}
        self.transaction: str | None = None
        self.receipts = False
        self.receipt_timeout = RECEIPT_TIMEOUT
        self.exit_code = EXIT_OK
        self.interactive = False
        self._destinations: dict[str, None] = {}  # insertion-ordered set
        self._arrived = threading.Condition(threading.Lock())
        self._message_count = 0
        self._waited = 0  # messages accounted for by earlier `wait --count`
        self._last_arrival = time.monotonic()
        self._reader: threading.Thread | None = None
        self._reader_stop = threading.Event()
        self._more: Callable[[], str | None] = lambda: None
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
            entry = Entry(len(self.history) + 1, direction, frame, version)
            self.history.append(entry)
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
        try:
            conn.disconnect(timeout=self.receipt_timeout)
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
        from stomper.connection import BrokerError, StompError

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
        return self._more()

    def report(self, error: BaseException) -> int:
        """Print the one line for `error` (unless it is an ERROR frame already reported), remember the failure, return its exit code."""
        code, message, _detail = classify(error)
        self.failed(code)
        if id(getattr(error, "frame", None)) not in self._reported_errors:
            self.out.error(message)
        return code

    def execute(self, line: str, more: Callable[[], str | None] | None = None) -> bool:
        """Run one command line; False when the session should end. Errors are printed, never raised."""
        from .repl_commands import QuitSession, run_command

        self._more = more or (lambda: None)
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        try:
            run_command(self, *split_line(line, self.read_line))
        except QuitSession:
            return False
        except KeyboardInterrupt:
            self.out.error("interrupted")
        except Exception as error:  # noqa: BLE001 - every failure is one line, the session goes on
            self.report(error)
        return True


def split_line(line: str, read_line: Callable[[], str | None]) -> tuple[str, list[str], str | None]:
    """(command, arguments, here-document body or None) from a command line.

    A line ending in `<<` (or `<<WORD`) continues with body lines up to a
    line holding only `.` (or WORD); they are joined with newlines.
    """
    import click

    heredoc = None
    match = _HEREDOC.search(line)
    if match:
        terminator = match.group(1) or "."
        line = line[: match.start()]
        lines = []
        while True:
            body_line = read_line()
            if body_line is None:
                raise click.UsageError(f"the body was not ended by a line holding only {terminator!r}")
            body_line = body_line.rstrip("\r\n")
            if body_line == terminator:
                break
            lines.append(body_line)
        heredoc = "\n".join(lines)
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise click.UsageError(f"cannot parse the line: {error}") from None
    if not words:
        raise click.UsageError("a here-document needs a command before <<")
    return words[0], words[1:], heredoc


def run_script(session: Session, lines: Iterable[str], source: str, exit_on_error: bool = False) -> int:
    """Run command lines in order without a prompt; returns the exit code of the first failure (0 if none)."""
    iterator = iter(lines)
    number = 0

    def next_line() -> str | None:
        nonlocal number
        line = next(iterator, None)
        if line is not None:
            number += 1
        return line

    while (line := next_line()) is not None:
        before = session.exit_code
        session.out.error_prefix = f"stomper: error: {source}:{number}: "
        if not session.execute(line, next_line):
            break
        if exit_on_error and session.exit_code and not before:
            break
    session.out.error_prefix = "stomper: error: "
    session.close()
    return session.exit_code
