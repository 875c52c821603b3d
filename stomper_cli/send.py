"""`stomper send`: send one message, or one per stdin line, and exit 0 only once the broker has them."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from stomper.errors import StompError

from .app import EXIT_CODES_HELP, get_settings
from .options import (
    ConnectionParams,
    Failure,
    broker_session,
    connection_options,
    end_session,
    exit_wait,
    failure,
    frame_logger,
    header_option,
    max_frame_size_option,
    plural,
    receipt_timeout_option,
    refuse_own_headers,
)

#: With --lines, every BATCH-th message (and the last) asks for a receipt.
DEFAULT_BATCH = 1000
#: How many batches may be unconfirmed before sending waits for the oldest receipt.
WINDOW = 4
#: The exit status after Ctrl-C, as a shell reports a process ended by SIGINT.
EXIT_INTERRUPTED = 130


def stdin_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Each line without its line ending, read lazily (constant memory)."""
    for line in stream:
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        yield line


class PipelinedSender:
    """Sends messages, asking for a receipt on the last of every batch and waiting only when WINDOW receipts are pending.

    A broker handles a connection's frames in order, so the receipt of a
    batch's last message confirms the whole batch: `confirmed` is the count
    of messages the latest receipt covers, `attempted` the count handed to
    the connection. `finish()` waits for the receipt covering everything
    sent. Each wait lasts at most `receipt_timeout` seconds (None: forever).
    """

    def __init__(self, conn: Any, destination: str, headers: list[tuple[str, str]], content_type: str | None,
                 transaction: str | None, receipts: bool, batch: int, receipt_timeout: float | None = None) -> None:
        self.conn = conn
        self.destination = destination
        self.headers = dict(headers)
        self.content_type = content_type
        self.transaction = transaction
        self.receipts = receipts
        self.batch = batch
        self.receipt_timeout = receipt_timeout
        self.sent = 0
        self.attempted = 0
        self.confirmed = 0
        self.pending: deque[tuple[str, int]] = deque()  # (receipt id, messages it confirms)
        self._serial = 0

    def send(self, body: bytes | IO[bytes], last: bool = False) -> None:
        headers = self.headers
        self.attempted += 1
        if self.receipts and (last or self.attempted % self.batch == 0):
            self._serial += 1
            receipt_id = f"send-{self._serial}"
            headers = {**headers, "receipt": receipt_id}
            self.pending.append((receipt_id, self.attempted))
        self.conn.send(self.destination, body, headers=headers, content_type=self.content_type, transaction=self.transaction)
        self.sent += 1
        while len(self.pending) > WINDOW:
            self._confirm_oldest()

    def finish(self) -> None:
        while self.pending:
            self._confirm_oldest()

    def _confirm_oldest(self) -> None:
        receipt_id, covered = self.pending[0]
        if self.receipt_timeout is None:
            self.conn.wait_receipt(receipt_id)
        else:
            self.conn.wait_receipt(receipt_id, self.receipt_timeout)
        self.pending.popleft()
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
                self.pending.popleft()
                self.confirmed = covered
        except StompError:
            pass  # the first receipt that has not come: what follows is not confirmed either
        return f"confirmed {self.confirmed} of {self.attempted} messages" if self.confirmed else None


def with_last(items: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """(item, is_last) pairs, looking one item ahead."""
    iterator = iter(items)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for item in iterator:
        yield previous, False
        previous = item
    yield previous, True


def _progress(pairs: Iterator[tuple[bytes, bool]], enabled: bool) -> Iterator[tuple[bytes, bool]]:
    """Show a live count on stderr (a terminal) while `pairs` are consumed."""
    if not enabled:
        yield from pairs
        return
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("sending"), MofNCompleteColumn(), TextColumn("messages"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("send", total=None)
        for count, pair in enumerate(pairs, 1):
            yield pair
            if count % 100 == 0:
                progress.update(task, completed=count)


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


def own_headers(content_type: str | None) -> dict[str, str]:
    """The headers `send` sets itself, and what sets them: given with -H they would be replaced."""
    own = {
        "destination": "the DESTINATION argument", "receipt": "--receipt/--no-receipt", "transaction": "--transaction",
        "content-length": "stomper from the body",
    }
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


@click.command(epilog="""Examples:

\b
  stomper send /queue/a 'hello'
  stomper send /queue/a --body-file picture.png --content-type image/png
  seq 100000 | stomper send /queue/numbers --lines --transaction

""" + EXIT_CODES_HELP)
@click.argument("destination")
@click.argument("body", required=False)
@click.option("--body-file", type=click.File("rb"), metavar="PATH|-", help="Read the body from a file, or - for stdin.")
@click.option("--lines", is_flag=True, help="Send each stdin line as one message (streamed, constant memory).")
@header_option
@click.option("--content-type", help="The content-type header.")
@click.option("--receipt/--no-receipt", default=True, show_default=True, help="Exit 0 only once the broker has confirmed the messages.")
@receipt_timeout_option
@click.option("--transaction", is_flag=True, help="Send everything in one transaction, committed at the end.")
@click.option(
    "--batch", type=click.IntRange(min=1), default=DEFAULT_BATCH, show_default=True, help="With --lines: ask for a receipt every N messages."
)
@max_frame_size_option
@connection_options
def send(destination: str, body: str | None, body_file: Any, lines: bool, headers: list[tuple[str, str]], content_type: str | None,
         receipt: bool, receipt_timeout: float, transaction: bool, batch: int, max_frame_size: int, conn_params: ConnectionParams) -> None:
    """Send a message to DESTINATION.

    The body is BODY, or --body-file, or stdin; with --lines, every stdin line
    is a message. Exit status 0 means the broker confirmed receipt (unless
    --no-receipt).
    """
    settings = get_settings()
    refuse_own_headers(headers, own_headers(content_type))
    bodies = message_bodies(body, body_file, lines)
    show_progress = lines and sys.stderr.isatty() and not settings.verbose
    # On the way out the DISCONNECT receipt is awaited briefly: once receipts confirmed everything it is a
    # courtesy, and after a failure it changes nothing. Without receipts it is the only sign that the broker
    # had the messages: it is awaited as any receipt.
    wait = exit_wait(receipt_timeout)
    with broker_session(conn_params, max_frame_size, wait, on_frame=frame_logger(settings.verbose)) as conn:
        sender = PipelinedSender(conn, destination, headers, content_type, None, receipt, batch, receipt_timeout)
        try:
            send_all(conn, sender, bodies, transaction, receipt, show_progress)
            if receipt:
                end_session(conn, wait, f"{plural(sender.sent, 'message')} sent and confirmed")
            else:
                end_session(conn, receipt_timeout, None)
        except KeyboardInterrupt:
            raise Failure(EXIT_INTERRUPTED, "; ".join(filter(None, ["interrupted", sender.progress()]))) from None
        except Exception as error:
            raise failure(error, sender.progress(), receipt_timeout) from error
    if settings.verbose:
        confirmed = "confirmed" if receipt else "not confirmed (--no-receipt)"
        sys.stderr.write(f"sent {sender.sent} message(s) to {destination}, {confirmed}\n")


def send_all(conn: Any, sender: PipelinedSender, bodies: Iterable[bytes | IO[bytes]], transaction: bool, receipt: bool, show_progress: bool) -> None:
    """Send every body through `sender`, in one transaction if asked (aborted on any failure, confirmed by its COMMIT's receipt)."""
    tx = sender.transaction = conn.begin() if transaction else None
    sender.receipts = receipt and tx is None
    try:
        with conn.batch():  # many sends coalesced into large writes; a receipt wait writes out what is pending
            for message, last in _progress(with_last(bodies), show_progress):
                sender.send(message, last)
        sender.finish()
        if tx is not None:
            conn.commit(tx, receipt=receipt, timeout=sender.receipt_timeout)
            sender.confirmed = sender.attempted if receipt else 0
    except BaseException:
        if tx is not None:
            with contextlib.suppress(Exception):
                conn.abort(tx)
        raise
