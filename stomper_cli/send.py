"""`stomper send`: send one message, one per stdin line, or frames (JSON Lines, raw STOMP) from stdin; exit 0 only once the broker has them."""

from __future__ import annotations

import contextlib
import itertools
import mimetypes
import os
import shutil
import stat
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from stomper import Frame, FrameError, FrameParser
from stomper.errors import BrokerError, ConnectFailed, ConnectionLost, StompError
from stomper.failover import DEFAULT_BACKOFF, Backoff, ReconnectBudget

from .app import EXIT_CODES_HELP, get_settings
from .errors import EXIT_INTERRUPTED, CliError, InputError
from .jsonlines import json_line
from .options import (
    ConnectionParams,
    Failure,
    broker_session,
    connection_options,
    end_session,
    exit_wait,
    failure,
    format_size,
    frame_logger,
    header_option,
    max_frame_size_option,
    plural,
    receipt_timeout_option,
    reconnect_options,
    refuse_own_headers,
    warn,
)
from .pack import frames_from_json_lines
from .unpack import read_chunks

#: With --lines, every BATCH-th message (and the last) asks for a receipt.
DEFAULT_BATCH = 1000
#: How many batches may be unconfirmed before sending waits for the oldest receipt.
WINDOW = 4
#: Headers a broker adds to a MESSAGE when it delivers it: they describe that delivery, not the message.
DELIVERY_HEADERS = frozenset({"message-id", "subscription", "ack", "redelivered"})
#: With failover, a transaction's messages are kept until COMMIT (to run it again on a new connection), up to this many bytes.
TRANSACTION_LIMIT = 256 * 2**20


def stdin_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Each line without its line ending, read lazily (constant memory)."""
    for line in stream:
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        yield line


# --- frames from stdin: --json and --raw ---------------------------------------------------------


class Resend:
    """How a frame read from stdin becomes the SEND that `send --json/--raw` sends.

    A MESSAGE loses the headers of its delivery (DELIVERY_HEADERS) and its
    content-length (recomputed from the body, which a filter may have
    changed); a SEND is kept as it is. `to` replaces the destination, `extra`
    (-H, --content-type) replace or add headers, and a `receipt` header is
    always dropped: stomper asks for its own receipts, in batches
    (`content_type` '' drops the content-type). Anything
    else than SEND or MESSAGE is refused, naming where it was read.
    """

    def __init__(self, to: str | None, extra: list[tuple[str, str]], version: str, content_type: str | None = None) -> None:
        self.to = to
        self.extra = [*extra, *([("content-type", content_type)] if content_type else [])]
        self.version = version
        replaced = {name for name, _ in extra} | {"receipt"} | ({"destination"} if to else set())
        if content_type is not None:
            replaced.add("content-type")  # --content-type '' removes it
        self.drop = {"MESSAGE": replaced | DELIVERY_HEADERS | {"content-length"}, "SEND": replaced}
        self.first = [("destination", to)] if to else []

    def __call__(self, frame: Frame, where: str) -> Frame:
        drop = self.drop.get(frame.command)
        if drop is None:
            raise InputError(f"{where}: a {frame.command} frame is not a message: only SEND and MESSAGE frames are sent")
        if not self.to and "destination" not in frame.headers:
            raise InputError(f"{where}: no destination header (give --to DEST)")
        headers = [*self.first, *((name, value) for name, value in frame.header_items() if name not in drop), *self.extra]
        message = Frame("SEND", headers, frame.body)
        try:
            message.encode(self.version)  # refused here, where the input can still be named
        except FrameError as error:
            raise InputError(f"{where}: {error}") from None
        return message


def json_messages(stream: IO[bytes], resend: Resend, limit: int) -> Iterator[Frame]:
    """The SENDs of JSON Lines frames (what `subscribe --json` and `unpack --json` write); InputError names a bad line."""
    for number, frame in frames_from_json_lines(stream, limit):
        yield resend(frame, f"line {number}")


def raw_messages(stream: IO[bytes], resend: Resend, limit: int) -> Iterator[Frame]:
    """The SENDs of raw STOMP frames (what `pack` and `subscribe --raw` write), checked by the parser; InputError names a bad frame."""
    parser = FrameParser(resend.version, max_frame_size=limit)
    count = 0
    try:
        for chunk in read_chunks(stream):
            for frame in parser.feed(chunk):
                count += 1
                yield resend(frame, f"frame {count}")
        parser.close()
    except FrameError as error:
        for frame in getattr(error, "frames", []):  # the frames completed before the fault
            count += 1
            yield resend(frame, f"frame {count}")
        raise InputError(f"frame {count + 1}: {error.reason} (at byte {error.offset})") from None


# --- sending -------------------------------------------------------------------------------------


class Failover:
    """Reconnecting after a lost connection: the endpoint after the lost one first, with backoff and jitter, for at most `timeout` s.

    The connection is opened with reconnect=False and re-established here,
    by the sender, because only the sender knows what must follow on the new
    connection: its unconfirmed messages, and a transaction run again from
    its start (the library's own reconnect would write the failed chunk
    again, with the old transaction's id, which the new broker never saw).
    """

    def __init__(self, timeout: float, backoff: Backoff = DEFAULT_BACKOFF, sleep: Any = time.sleep, clock: Any = time.monotonic,
                 note: Any = warn) -> None:
        self.timeout = timeout
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.note = note

    def deadline(self) -> float:
        return self.clock() + self.timeout

    def reconnect(self, conn: Any, error: ConnectionLost, deadline: float) -> None:
        """Close `conn` and connect it again, trying the endpoints from the one after the lost one; ConnectionLost after `deadline`."""
        lost = conn.url
        conn.close()
        endpoints = conn.endpoints
        after = next((index + 1 for index, endpoint in enumerate(endpoints) if str(endpoint) == lost), 0)
        conn.endpoints = endpoints[after:] + endpoints[:after]
        delays = self.backoff.delays()
        while True:
            try:
                conn.connect()
                return
            except (ConnectFailed, BrokerError) as failed:  # a restarting broker may refuse for a moment
                last = failed
            delay = next(delays)
            if self.clock() + delay >= deadline:
                raise ConnectionLost(f"{error}; no broker answered within --reconnect-timeout {self.timeout:g} s ({last})") from None
            self.sleep(delay)


class PipelinedSender:
    """Sends messages, asking for a receipt on the last of every batch and waiting only when WINDOW receipts are pending.

    A broker handles a connection's frames in order, so the receipt of a
    batch's last message confirms the whole batch: `confirmed` is the count
    of messages the latest receipt covers, `attempted` the count handed to
    the connection. `finish()` waits for the receipt covering everything
    sent. Each wait lasts at most `receipt_timeout` seconds (None: forever).
    A message is a body (sent to `destination` with `headers`) or, with
    `send_frame`, a prepared SEND frame.

    With a `failover`, a lost connection is connected again and every
    message not confirmed yet is sent again on it (`resent` counts them:
    they may arrive twice); a transaction is begun again and all of its
    messages are sent again. So the unconfirmed messages are kept: at most
    WINDOW + 1 batches, or a transaction's, up to TRANSACTION_LIMIT bytes.
    """

    def __init__(self, conn: Any, destination: str | None, headers: list[tuple[str, str]], content_type: str | None,
                 transaction: str | None, receipts: bool, batch: int, receipt_timeout: float | None = None,
                 failover: Failover | None = None) -> None:
        self.conn = conn
        self.destination = destination
        self.headers = dict(headers)
        self.content_type = content_type
        self.transaction = transaction
        self.receipts = receipts
        self.batch = batch
        self.receipt_timeout = receipt_timeout
        self.failover = failover
        self.sent = 0
        self.attempted = 0
        self.confirmed = 0
        self.resent = 0
        self.pending: deque[tuple[str, int]] = deque()  # (receipt id, messages it confirms)
        #: The messages sent but not confirmed yet, oldest first, when `keep()` asked for them.
        self.unconfirmed: deque[Any] | None = None
        self._kept_bytes = 0
        self._stream_start = 0
        self._serial = 0
        self._budget = ReconnectBudget(failover.timeout, failover.clock) if failover is not None else None
        self._put = self._put_body if destination is not None else self._put_frame
        if failover is None:
            self.send = self._put_body  # nothing to fail over: no handler between the caller and the hot loop

    def keep(self) -> None:
        """Hold every message until a receipt confirms it (at most WINDOW + 1 batches; a transaction's until COMMIT)."""
        self.unconfirmed = deque()

    def send(self, body: bytes | IO[bytes], last: bool = False) -> None:
        """Send a body to the destination (a lost connection is failed over when the sender may)."""
        try:
            self._put_body(body, last)
        except ConnectionLost as error:
            self._recover(error)

    def send_frame(self, frame: Frame, last: bool = False) -> None:
        """Send a prepared SEND, with the transaction and the receipt of this sender."""
        try:
            self._put_frame(frame, last)
        except ConnectionLost as error:
            self._recover(error)

    def _put_body(self, body: bytes | IO[bytes], last: bool) -> None:
        """The hot loop of `send --lines`: most messages take the first branch, one call to the connection's own hot path."""
        self.attempted += 1
        if self.unconfirmed is not None:
            self._keep(body)
        if not (self.receipts and (last or self.attempted % self.batch == 0)):
            self.conn.send(self.destination, body, self.headers, self.content_type, self.transaction)
            self.sent += 1
            return
        self.conn.send(self.destination, body, {**self.headers, "receipt": self._ask_receipt()}, self.content_type, self.transaction)
        self.sent += 1
        self.conn.flush()  # the broker sees the receipt asked for now, not once the next batch fills the write buffer
        while len(self.pending) > WINDOW:
            self._confirm_oldest()

    def _put_frame(self, frame: Frame, last: bool) -> None:
        self.attempted += 1
        if self.unconfirmed is not None:
            self._keep(frame)
        added = [("receipt", self._ask_receipt())] if self.receipts and (last or self.attempted % self.batch == 0) else []
        if self.transaction is not None:
            items = [(name, value) for name, value in frame.header_items() if name != "transaction"]
            frame = Frame(frame.command, [*items, ("transaction", self.transaction), *added], frame.body)
        elif added:
            frame = Frame(frame.command, [*frame.header_items(), *added], frame.body)
        self.conn.send_frame(frame)
        self.sent += 1
        if added:
            self.conn.flush()
        while len(self.pending) > WINDOW:
            self._confirm_oldest()

    def _keep(self, message: Any) -> None:
        """Keep a message until it is confirmed; a transaction's are kept until COMMIT, up to TRANSACTION_LIMIT bytes."""
        self.unconfirmed.append(message)
        if hasattr(message, "read"):
            self._stream_start = message.tell()  # sent again from here
        elif self.transaction is not None:
            self._kept_bytes += len(message.body if isinstance(message, Frame) else message)
            if self._kept_bytes > TRANSACTION_LIMIT:
                raise CliError(f"--transaction with failover keeps the transaction's messages until COMMIT, at most "
                               f"{format_size(TRANSACTION_LIMIT)}: this one is larger (send it in parts, or without --transaction)")

    def _ask_receipt(self) -> str:
        """A receipt id for the message being sent, which confirms every message up to it."""
        self._serial += 1
        receipt_id = f"send-{self._serial}"
        self.pending.append((receipt_id, self.attempted))
        return receipt_id

    def finish(self) -> None:
        """Wait until every message sent is confirmed."""
        while self.pending:
            try:
                self._confirm_oldest()
            except ConnectionLost as error:
                self._recover(error)

    def begin(self) -> None:
        """BEGIN the transaction every following message is sent in.

        In a transaction only the last message asks for a receipt, awaited
        after COMMIT: RabbitMQ's receipt for COMMIT does not wait until the
        messages are on their queue (a quorum queue electing a leader may
        still lose them when the connection closes), the receipt of a SEND
        does, and it comes once COMMIT has sent it.
        """
        self.batch = sys.maxsize
        try:
            self.transaction = self.conn.begin()
        except ConnectionLost as error:
            self.transaction = ""  # there is one to begin again
            self._recover(error)

    def commit(self, receipt: bool) -> None:
        """COMMIT the transaction and wait for its receipts; run it again from its start on a new connection if the connection is lost first."""
        while True:
            try:
                self.conn.commit(self.transaction, receipt=receipt, timeout=self.receipt_timeout)
                while self.pending:
                    self._confirm_oldest()
                break
            except ConnectionLost as error:
                self._recover(error)

    def _recover(self, error: ConnectionLost) -> None:
        """Reconnect and send again what was not confirmed; without a failover (or once it gives up) the error stands.

        The failover's time runs from the first loss, and is renewed by a
        confirmation or by a connection that stayed up that long: a broker
        that takes each new connection and drops it before confirming
        anything (a RabbitMQ 3.10 node whose quorum queue refuses the
        messages closes the connection so) ends the send after
        --reconnect-timeout, instead of having everything sent again forever.
        """
        failover, budget = self.failover, self._budget
        if failover is None or budget is None:
            raise error
        deadline = budget.lost()
        while True:
            if failover.clock() >= deadline:
                raise ConnectionLost(f"{error}; since the first lost connection the broker confirmed nothing and no "
                                     f"connection stayed up for --reconnect-timeout {failover.timeout:g} s") from None
            failover.reconnect(self.conn, error, deadline)
            budget.connected()
            waiting = list(self.unconfirmed or ())
            self.failover.note(f"{error}; reconnected to {self.conn.url}, sending {plural(len(waiting), 'unconfirmed message')} again")
            try:
                self._replay(waiting)
                return
            except ConnectionLost as again:
                error = again

    def _replay(self, messages: list[Any]) -> None:
        """On a new connection: begin the transaction again if there is one, and send `messages` again, the last with a receipt."""
        self.pending.clear()
        if self.unconfirmed is not None:
            self.unconfirmed.clear()
        self._kept_bytes = 0
        self.attempted = self.confirmed
        if self.transaction is not None:
            self.transaction = self.conn.begin()
        for index, message in enumerate(messages, 1):
            if hasattr(message, "seek"):
                message.seek(self._stream_start)
            self._put(message, index == len(messages))
            self.resent += 1

    def _confirm_oldest(self) -> None:
        receipt_id, covered = self.pending[0]
        if self.receipt_timeout is None:
            self.conn.wait_receipt(receipt_id)
        else:
            self.conn.wait_receipt(receipt_id, self.receipt_timeout)
        self._refuse_errors()
        self.pending.popleft()
        self._confirmed(covered)

    def _refuse_errors(self) -> None:
        """An ERROR read with (or before) a receipt means a message of its batch was refused: the receipt confirms nothing.

        The connection hands out a receipt that has come before an ERROR
        read with it (ActiveMQ refuses one SEND and goes on with the next).
        """
        errors = self.conn.protocol.errors
        if errors:
            raise BrokerError(errors.popleft())

    def _confirmed(self, covered: int) -> None:
        """The first `covered` messages are confirmed: they need not be kept any more."""
        if self.unconfirmed is not None:
            for _ in range(covered - self.confirmed):
                self.unconfirmed.popleft()
        if covered > self.confirmed and self._budget is not None:
            self._budget.progressed()
        self.confirmed = covered

    def progress(self) -> str | None:
        """After a failure: 'confirmed N of M messages' once a receipt has come, so that a user can resume; else None.

        Receipts that arrived but were not waited for yet (the failure came
        first) count too: the connection keeps them, and looking costs no wait.
        """
        try:
            while self.pending:
                receipt_id, covered = self.pending[0]
                self.conn.wait_receipt(receipt_id, 0)
                self._refuse_errors()
                self.pending.popleft()
                self._confirmed(covered)
        except StompError:
            pass  # the first receipt that has not come: what follows is not confirmed either
        return f"confirmed {self.confirmed} of {self.attempted} messages" if self.confirmed else None


def with_last(items: Iterable[Any]) -> Iterator[tuple[Any, bool]]:
    """(item, is_last) pairs, looking one item ahead.

    When looking ahead fails (malformed input further on), the item before
    is given as the last, so that what came before the fault is confirmed,
    and then the failure is raised.
    """
    iterator = iter(items)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            break
        except Exception:
            yield previous, True
            raise
        yield previous, False
        previous = item
    yield previous, True


def stdin_size(stream: IO[bytes]) -> int | None:
    """The size of stdin when it is a regular file (the progress display's total), else None."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) and info.st_size else None


def show_progress(pairs: Iterator[tuple[Any, bool]], total: int | None) -> Iterator[tuple[Any, bool]]:
    """Show on stderr (a terminal) how many messages were sent, their rate and the time, while `pairs` are consumed.

    With `total` (stdin is a regular file of that many bytes) a bar shows how
    much of the file was read. Rich is imported only here: a pipe never loads it.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("sending {task.fields[count]:,} messages, {task.fields[rate]:,.0f} msg/s"), TimeElapsedColumn()]
    if total is not None:
        columns[2:2] = [BarColumn(), TaskProgressColumn()]
    fd = sys.stdin.fileno() if total is not None else -1
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("send", total=total, count=0, rate=0.0)
        started = time.monotonic()
        for count, pair in enumerate(pairs, 1):
            yield pair
            if count & 255 == 0:
                read = os.lseek(fd, 0, os.SEEK_CUR) if fd >= 0 else None
                progress.update(task, completed=read, count=count, rate=count / max(time.monotonic() - started, 1e-9))


def summary(sender: PipelinedSender, seconds: float, receipt: bool) -> str:
    """The closing line on a terminal: 'sent N messages in T s (R msg/s), all confirmed'."""
    rate = sender.sent / seconds if seconds > 0 else 0.0
    confirmed = "all confirmed" if receipt else "not confirmed (--no-receipt)"
    sent = plural(sender.sent - sender.resent, "message")
    return f"sent {sent} in {seconds:.2f} s ({rate:,.0f} msg/s), {confirmed}{resent_note(sender)}"


def resent_note(sender: PipelinedSender) -> str:
    """', M re-sent after a failover' when a failover sent messages again (they may have arrived twice)."""
    return f", {sender.resent} re-sent after a failover" if sender.resent else ""


def guess_content_type(body_file: Any, content_type: str | None, headers: list[tuple[str, str]]) -> str | None:
    """--content-type as given ('' is none at all); else, for a --body-file with a name, the type its name suggests."""
    if content_type is not None:
        return content_type or None
    name = getattr(body_file, "name", None)
    if not isinstance(name, str) or name == "-" or any(header == "content-type" for header, _ in headers):
        return None
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:  # compressed: the bytes are not of the named type
        return None
    if get_settings().verbose:
        sys.stderr.write(f"content-type {guessed} (guessed from the file name; --content-type '' sends none)\n")
    return guessed


def file_body(stream: IO[bytes]) -> bytes | IO[bytes]:
    """A regular file's body is streamed by the connection, never held in memory.

    Anything else is read: a pipe, an empty file (an empty body), and a file
    whose size the system reports as 0 although it has content (/proc).
    """
    try:
        info = os.fstat(stream.fileno())
        streamable = stat.S_ISREG(info.st_mode) and info.st_size > stream.tell()
    except (OSError, AttributeError, ValueError):
        streamable = False
    return stream if streamable else stream.read()


def own_headers(content_type: str | None, frames: bool) -> dict[str, str]:
    """The headers `send` sets itself, and what sets them: given with -H they would be replaced."""
    own = {"receipt": "--receipt/--no-receipt", "transaction": "--transaction", "content-length": "stomper from the body"}
    own["destination"] = "--to" if frames else "the DESTINATION argument"
    if content_type is not None:
        own["content-type"] = "--content-type"
    return own


def message_bodies(body: str | None, body_file: Any, lines: bool) -> Iterable[bytes | IO[bytes]]:
    """The bodies to send, from exactly one of BODY, --body-file, --lines or stdin."""
    given = [source for source in (body is not None, body_file is not None, lines) if source]
    if len(given) > 1:
        raise click.UsageError("give one of BODY, --body-file or --lines")
    if lines:
        return stdin_lines(sys.stdin.buffer)
    if body is not None:
        return [body.encode("utf-8", "surrogateescape")]
    if body_file is not None:
        return [file_body(body_file)]
    if sys.stdin.isatty():
        raise click.UsageError("no body: give BODY, --body-file PATH, or pipe it on stdin")
    return [sys.stdin.buffer.read()]


def frame_input(from_json: bool, raw: bool, destination: str | None, body: str | None, body_file: Any, lines: bool,
                to: str | None) -> str | None:
    """'json', 'raw' or None (bodies), after checking that the options given fit together."""
    if from_json and raw:
        raise click.UsageError("give --json or --raw, not both")
    mode = "json" if from_json else "raw" if raw else None
    if mode is None:
        if to is not None:
            raise click.UsageError("--to goes with --json or --raw; give the destination as DESTINATION")
        if destination is None:
            raise click.UsageError("missing DESTINATION")
        return None
    if destination is not None or body is not None:
        raise click.UsageError(f"--{mode} reads the messages from stdin: give no DESTINATION or BODY (use --to DEST for the destination)")
    if body_file is not None or lines:
        raise click.UsageError(f"--{mode} reads the messages from stdin: give no --body-file or --lines")
    return mode


@click.command(epilog="""Examples:

\b
  stomper send /queue/a 'hello'
  stomper send /queue/a --body-file picture.png --content-type image/png
  seq 100000 | stomper send /queue/numbers --lines --transaction
  stomper subscribe /queue/a -n 100 --json | jq -c 'select(.headers.kind=="x")' | stomper send --json --to /queue/b
  stomper pack SEND -H destination:/queue/a --body hi | stomper send --raw

""" + EXIT_CODES_HELP)
@click.argument("destination", required=False)
@click.argument("body", required=False)
@click.option("--body-file", type=click.File("rb"), metavar="PATH|-", help="Read the body from a file, or - for stdin.")
@click.option("--lines", is_flag=True, help="Send each stdin line as one message (streamed, constant memory).")
@click.option("--json", "from_json", is_flag=True, help="Send JSON Lines frames from stdin, as `subscribe --json` writes them.")
@click.option("--raw", is_flag=True, help="Send raw STOMP frames from stdin, as `pack` and `subscribe --raw` write them.")
@click.option("--to", metavar="DEST", help="With --json or --raw: send every message to DEST instead of its own destination.")
@click.option(
    "--unsent", type=click.File("wb"), metavar="FILE",
    help="With --lines, --json or --raw: on a failure, write the messages not confirmed and the rest of stdin to FILE, in the input's format.",
)
@header_option
@click.option("--content-type", help="The content-type header.")
@click.option("--receipt/--no-receipt", default=True, show_default=True, help="Exit 0 only once the broker has confirmed the messages.")
@receipt_timeout_option
@click.option("--transaction", is_flag=True, help="Send everything in one transaction, committed at the end.")
@click.option(
    "--batch", type=click.IntRange(min=1), default=DEFAULT_BATCH, show_default=True,
    help="With --lines, --json or --raw: ask for a receipt every N messages.",
)
@reconnect_options("send again what was not confirmed")
@click.option("-q", "--quiet", is_flag=True, help="No progress display and no closing summary on a terminal.")
@max_frame_size_option
@connection_options
def send(destination: str | None, body: str | None, body_file: Any, lines: bool, from_json: bool, raw: bool, to: str | None,
         unsent: IO[bytes] | None, headers: list[tuple[str, str]], content_type: str | None, receipt: bool, receipt_timeout: float,
         transaction: bool, batch: int, reconnect: bool, reconnect_timeout: float, quiet: bool, max_frame_size: int,
         conn_params: ConnectionParams) -> None:
    """Send a message to DESTINATION.

    The body is BODY, or --body-file, or stdin; with --lines, every stdin line
    is a message. With --json or --raw, stdin holds whole frames (JSON Lines,
    or raw STOMP): a MESSAGE is sent again as a SEND without the headers of
    its delivery (message-id, subscription, ack, redelivered), a SEND as it
    is. Exit status 0 means the broker confirmed receipt (unless --no-receipt).
    """
    settings = get_settings()
    mode = frame_input(from_json, raw, destination, body, body_file, lines, to)
    refuse_own_headers(headers, own_headers(content_type, mode is not None))
    if unsent is not None and not (lines or mode) or unsent is not None and not receipt:
        raise click.UsageError("--unsent goes with --lines, --json or --raw, and receipts (it keeps what they have not confirmed)")
    bodies = message_bodies(body, body_file, lines) if mode is None else None
    on_terminal = (lines or mode is not None) and sys.stderr.isatty() and not quiet
    total = stdin_size(sys.stdin.buffer) if on_terminal else None
    wrap = (lambda pairs: show_progress(pairs, total)) if on_terminal and not settings.verbose else None
    sent_type = guess_content_type(body_file, content_type, headers) if mode is None else content_type
    failover = Failover(reconnect_timeout) if reconnect or len(conn_params.urls) > 1 else None
    started = time.monotonic()
    # On the way out the DISCONNECT receipt is awaited briefly: once receipts confirmed everything it is a
    # courtesy, and after a failure it changes nothing. Without receipts it is the only sign that the broker
    # had the messages: it is awaited as any receipt.
    wait = exit_wait(receipt_timeout)
    try:
        with broker_session(conn_params, max_frame_size, wait, on_frame=frame_logger(settings.verbose)) as conn:
            if mode is None:
                sender = PipelinedSender(conn, destination, headers, sent_type, None, receipt, batch, receipt_timeout, failover)
                messages, put = bodies, sender.send
            else:
                read = json_messages if mode == "json" else raw_messages
                sender = PipelinedSender(conn, None, [], None, None, receipt, batch, receipt_timeout, failover)
                resend = Resend(to, headers, conn.version, content_type)
                messages, put = read(sys.stdin.buffer, resend, max_frame_size), sender.send_frame
            if unsent is not None or failover is not None and (receipt or transaction):
                sender.keep()
            if settings.verbose:
                sys.stderr.write(f"connected to {conn.url}\n")
            send_and_report(conn, sender, put, with_last(messages), transaction, wrap, wait, unsent, mode or "lines")
    except StompError as error:  # could not connect: nothing was read, the whole input is unsent
        raise failure(error, copy_unsent(unsent)) from error
    if settings.verbose:
        confirmed = "confirmed" if receipt else "not confirmed (--no-receipt)"
        where = destination or to or "their destinations"
        sys.stderr.write(f"sent {sender.sent - sender.resent} message(s) to {where}, {confirmed}{resent_note(sender)}\n")
    if on_terminal:
        sys.stderr.write(summary(sender, time.monotonic() - started, receipt) + "\n")


def send_and_report(conn: Any, sender: PipelinedSender, put: Any, pairs: Iterator[tuple[Any, bool]], transaction: bool,
                    wrap: Any, wait: float, unsent: IO[bytes] | None, mode: str) -> None:
    """Send everything and disconnect; a failure becomes the one line that says how far it got (and what --unsent holds)."""
    receipt, timeout = sender.receipts, sender.receipt_timeout
    try:
        send_all(conn, sender, put, wrap(pairs) if wrap else pairs, transaction, receipt)
        if receipt:
            end_session(conn, wait, f"{plural(sender.sent, 'message')} sent and confirmed")
        else:
            end_session(conn, timeout, None)
    except KeyboardInterrupt:
        notes = ["interrupted", sender.progress(), save_unsent(unsent, sender, None, mode, conn.version)]
        raise Failure(EXIT_INTERRUPTED, "; ".join(filter(None, notes))) from None
    except Exception as error:
        rest = None if isinstance(error, InputError) else pairs
        notes = [sender.progress(), save_unsent(unsent, sender, rest, mode, conn.version)]
        raise failure(error, "; ".join(filter(None, notes)) or None, timeout) from error


def copy_unsent(out: IO[bytes] | None) -> str | None:
    """Before anything was read: stdin as it is into `out` (--unsent), so that a pipeline loses nothing."""
    if out is None:
        return None
    shutil.copyfileobj(sys.stdin.buffer, out)
    out.flush()
    return f"the input was written to {out.name}"


def save_unsent(out: IO[bytes] | None, sender: PipelinedSender, rest: Iterator[tuple[Any, bool]] | None, mode: str, version: str) -> str | None:
    """After a failure: write to `out` the messages not confirmed, then those of `rest` (the input not read yet), in `mode`'s format.

    So that in a pipeline (subscribe | send) a message acknowledged upstream
    is either confirmed by this broker or in the file; say how many were written.
    """
    if out is None or sender.unconfirmed is None:
        return None
    encode = {"lines": lambda line: line + b"\n", "json": lambda frame: json_line(frame, show_secrets=True).encode(),
              "raw": lambda frame: frame.encode(version)}[mode]
    count = 0
    with contextlib.suppress(InputError):  # malformed input further on ends the file there: its error is not this one's
        for message in itertools.chain(list(sender.unconfirmed), (message for message, _ in rest or ())):
            out.write(encode(message))
            count += 1
    out.flush()
    return f"{plural(count, 'message')} not confirmed written to {out.name}"


def send_all(conn: Any, sender: PipelinedSender, put: Any, messages: Iterator[tuple[Any, bool]], transaction: bool, receipt: bool) -> None:
    """Send every message with `put`, in one transaction if asked (aborted on any failure, confirmed by its COMMIT's receipt).

    Malformed input ends the sending; without a transaction the messages
    before it are confirmed first, and the input's error is raised.
    """
    sender.receipts = receipt
    try:
        if transaction:
            sender.begin()
        try:
            with conn.batch():  # many sends coalesced into large writes; a receipt wait writes out what is pending
                for message, last in messages:
                    put(message, last)
        except InputError:
            if not transaction:
                sender.finish()
            raise
        if transaction:
            sender.commit(receipt)
        else:
            sender.finish()
    except BaseException:
        if sender.transaction:
            with contextlib.suppress(Exception):
                conn.abort(sender.transaction)
        raise
