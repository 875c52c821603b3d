"""`stomper send`: send one message, or one per stdin line, and exit 0 only once the broker has them."""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from .app import EXIT_CODES_HELP, get_settings
from .options import ConnectionParams, connection_options, frame_logger, header_option, open_connection

#: With --lines, every BATCH-th message (and the last) asks for a receipt.
DEFAULT_BATCH = 1000
#: How many batches may be unconfirmed before sending waits for the oldest receipt.
WINDOW = 4


def stdin_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Each line without its line ending, read lazily (constant memory)."""
    for line in stream:
        if line.endswith(b"\n"):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        yield line


class PipelinedSender:
    """Sends messages, asking for a receipt on the last of every batch and waiting only when WINDOW receipts are pending.

    A broker handles a connection's frames in order, so the receipt of a
    batch's last message confirms the whole batch. `finish()` asks for and
    waits for a receipt covering everything sent.
    """

    def __init__(self, conn: Any, destination: str, headers: list[tuple[str, str]], content_type: str | None,
                 transaction: str | None, receipts: bool, batch: int) -> None:
        self.conn = conn
        self.destination = destination
        self.headers = dict(headers)
        self.content_type = content_type
        self.transaction = transaction
        self.receipts = receipts
        self.batch = batch
        self.sent = 0
        self.pending: deque[str] = deque()
        self._serial = 0

    def send(self, body: bytes | IO[bytes], last: bool = False) -> None:
        headers = self.headers
        if self.receipts and (last or (self.sent + 1) % self.batch == 0):
            self._serial += 1
            receipt_id = f"send-{self._serial}"
            headers = {**headers, "receipt": receipt_id}
            self.pending.append(receipt_id)
        self.conn.send(self.destination, body, headers=headers, content_type=self.content_type, transaction=self.transaction)
        self.sent += 1
        while len(self.pending) > WINDOW:
            self.conn.wait_receipt(self.pending.popleft())

    def finish(self) -> None:
        while self.pending:
            self.conn.wait_receipt(self.pending.popleft())


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
@click.option("--transaction", is_flag=True, help="Send everything in one transaction, committed at the end.")
@click.option(
    "--batch", type=click.IntRange(min=1), default=DEFAULT_BATCH, show_default=True, help="With --lines: ask for a receipt every N messages."
)
@connection_options
def send(destination: str, body: str | None, body_file: Any, lines: bool, headers: list[tuple[str, str]], content_type: str | None,
         receipt: bool, transaction: bool, batch: int, conn_params: ConnectionParams) -> None:
    """Send a message to DESTINATION.

    The body is BODY, or --body-file, or stdin; with --lines, every stdin line
    is a message. Exit status 0 means the broker confirmed receipt (unless
    --no-receipt).
    """
    settings = get_settings()
    given = [source for source in (body is not None, body_file is not None, lines) if source]
    if len(given) > 1:
        raise click.UsageError("give one of BODY, --body-file or --lines")
    if lines:
        bodies: Iterable[bytes] = stdin_lines(sys.stdin.buffer)
    elif body is not None:
        bodies = [body.encode("utf-8", "surrogateescape")]
    elif body_file is not None:
        # A regular file is streamed by the connection, never held in memory; a pipe is read.
        bodies = [body_file if body_file.seekable() else body_file.read()]
    elif sys.stdin.isatty():
        raise click.UsageError("no body: give BODY, --body-file PATH, or pipe it on stdin")
    else:
        bodies = [sys.stdin.buffer.read()]
    show_progress = lines and sys.stderr.isatty() and not settings.verbose
    with open_connection(conn_params, on_frame=frame_logger(settings.verbose)) as conn:
        tx = conn.begin() if transaction else None
        sender = PipelinedSender(conn, destination, headers, content_type, tx, receipt and tx is None, batch)
        try:
            with conn.batch():  # many sends coalesced into large writes; a receipt wait writes out what is pending
                for message, last in _progress(with_last(bodies), show_progress):
                    sender.send(message, last)
            sender.finish()
        except BaseException:
            if tx is not None:
                with contextlib.suppress(Exception):
                    conn.abort(tx)
            raise
        if tx is not None:
            conn.commit(tx, receipt=receipt)
    if settings.verbose:
        confirmed = "confirmed" if receipt else "not confirmed (--no-receipt)"
        sys.stderr.write(f"sent {sender.sent} message(s) to {destination}, {confirmed}\n")
