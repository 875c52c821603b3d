"""`stomper subscribe`: receive messages and write them out, acknowledging only what was written."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click

from stomper.commands import ACK_MODES
from stomper.errors import ConnectionLost, StompError
from stomper.frame import Frame
from stomper.settings import CLIENT_ID_HEADER
from stomper.versions import individual_ack_mode

from .app import EXIT_CODES_HELP, get_settings
from .broker_forms import (
    NEEDS_CLIENT_ID,
    broker_kind,
    describe,
    durable_headers,
    prefetch_headers,
    removal_headers,
    removes_own_subscription,
)
from .errors import EXIT_INTERRUPTED, TimeoutExpired
from .options import (
    ConnectionParams,
    Seconds,
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
    reconnect_options,
    refuse_own_headers,
    warn,
)
from .render import (
    FORMATS,
    FrameWriter,
    choose_delimiter,
    default_format,
    delimiter_options,
    max_body_option,
    template_option,
)

#: Messages written between two flushes and acknowledgements while messages keep coming.
ACK_EVERY = 500
#: The most unacknowledged messages the broker is asked to push ahead of what was acknowledged.
PREFETCH = 2000
#: The headers `subscribe` sets itself, and what sets them: given with -H they would be replaced.
OWN_HEADERS = {"destination": "the DESTINATION argument", "id": "--id", "ack": "--ack", "receipt": "stomper, to confirm the subscription"}


def choose_format(fmt: str | None, as_json: bool, body_only: bool, raw: bool, template: Any = None) -> str:
    """The output format from --format and its shorthands; pretty on a terminal, json in a pipe; --template alone."""
    chosen = {name for name, flag in (("json", as_json), ("body", body_only), ("raw", raw)) if flag}
    if fmt:
        chosen.add(fmt)
    if template is not None and chosen:
        raise click.UsageError(f"give --template or --format {chosen.pop()}, not both")
    if len(chosen) > 1:
        raise click.UsageError(f"choose one output format, not {' and '.join(sorted(chosen))}")
    return chosen.pop() if chosen else default_format(sys.stdout)


def make_writer(fmt: str, template: Any, delimiter: bytes, delimiter_given: bool, color: str, max_body: int | None) -> FrameWriter:
    """The writer of the chosen output; a delimiter is what ends each body, so it goes only with body format."""
    if delimiter_given and (template is not None or fmt != "body"):
        raise click.UsageError("--delimiter and -0 end each body in body format: add --body-only (a template writes its own \\0)")
    return FrameWriter(fmt, color, max_body=max_body, template=template, delimiter=delimiter)


def wire_ack_mode(ack: str, count: int | None, version: str) -> str:
    """The ack mode to subscribe with.

    With --count in auto mode, subscribe with cumulative client
    acknowledgements and ack what was written: messages the broker pushed
    beyond the count are then redelivered to the next consumer instead of
    being lost. Every version has `client`; 1.0 has no `client-individual`.
    """
    if ack == "auto" and count is not None:
        ack = "client"
    return individual_ack_mode(version) if ack == "client-individual" else ack


def prefetch_limit(count: int | None) -> int:
    """How many unacknowledged messages the broker may push ahead: enough to keep it busy, never far beyond --count."""
    return PREFETCH if count is None else min(count, PREFETCH)


class BatchedOutput:
    """Messages written in batches, each batch flushed and then acknowledged.

    A message is acknowledged only once it has been written and flushed, so a
    crash can only lose what the broker will deliver again. Flushing and
    acknowledging once per batch (every `every` messages, or when no more
    have arrived) instead of once per message is what keeps up with the broker.
    In `client` mode one cumulative ACK per subscription covers the batch,
    sent for the subscriptions in the order of their last messages (RabbitMQ
    acknowledges cumulatively across one connection, and an ACK for a message
    an earlier ACK already covered would be refused). In `client-individual`
    mode every message of the batch is acknowledged, in one write.

    With `confirm` (a connection that fails over), the batch's last ACK asks
    for a receipt and waits for it. `counted` is what --count counts: the
    messages written, less those the broker will deliver again because their
    connection was lost before it confirmed their acknowledgement.
    """

    def __init__(self, conn: Any, writer: FrameWriter, mode: str, every: int = ACK_EVERY,
                 confirm: bool = False, receipt_timeout: float | None = None) -> None:
        self.conn = conn
        self.writer = writer
        self.mode = mode
        self.every = every
        self.confirm = confirm
        self.receipt_timeout = receipt_timeout
        self.written = 0
        self.counted = 0
        #: Written messages whose ACK went out but was not confirmed before a loss: the broker may have taken it
        #: (then it never delivers them again) or not (then it does, and they are counted when they come).
        self.uncertain = 0
        self.batch: list[Frame] = []
        self.session = conn.session

    def write(self, message: Frame) -> None:
        self.writer.write(message, flush=False)
        self.written += 1
        self.counted += 1
        self.batch.append(message)
        if len(self.batch) >= self.every:
            self.settle()

    def settle(self) -> None:
        """Flush what was written, then acknowledge it."""
        if not self.batch:
            return
        self.writer.flush()
        batch, self.batch = self.batch, []
        if self.mode == "auto":
            return
        if self.conn.session != self.session or not self.session:
            batch = self._still_owed(batch)
        due = batch if self.mode == "client-individual" else last_per_subscription(batch)
        if due:
            self._acknowledge(due, len(batch))

    def _still_owed(self, batch: list[Frame]) -> list[Frame]:
        """The messages of `batch` this connection received: those of a lost one are delivered again, and not acked here.

        An ACK for a message of an earlier connection would be refused, or
        worse, taken for another message with the same delivery number.
        """
        owed = {id(message) for message in self.conn.unacknowledged()}
        kept = [message for message in batch if id(message) in owed]
        self.counted -= len(batch) - len(kept)
        if id(batch[-1]) in owed:
            # Messages are written in the order they arrived: once one of the new connection was written,
            # every message of the old one was, and later batches need no sorting out.
            self.session = self.conn.session
        return kept

    def _acknowledge(self, due: list[Frame], covered: int) -> None:
        conn = self.conn
        if not self.confirm:
            with conn.batch():
                for message in due:
                    conn.ack(message)
            return
        try:
            for message in due[:-1]:
                conn.ack(message)
            conn.ack(due[-1], receipt=True, timeout=self.receipt_timeout)
        except ConnectionLost:
            if not conn.connected:
                raise
            # Not confirmed before the loss: the broker delivers them again, unless it took the ACK just before.
            # Messages of the lost connection may still wait to be written; the next batch acks none of them.
            self.counted -= covered
            self.uncertain += covered


def last_per_subscription(batch: list[Frame]) -> list[Frame]:
    """The last message of each subscription in `batch`, in the order of those last messages."""
    latest: dict[str, tuple[int, Frame]] = {}
    for position, message in enumerate(batch):
        latest[message.headers.get("subscription", "")] = (position, message)
    if len(latest) == 1:
        return [next(iter(latest.values()))[1]]
    return [message for _, message in sorted(latest.values(), key=lambda entry: entry[0])]


class Interruptions:
    """Ctrl-C, held back while a message is written and acknowledged.

    Ctrl-C is how a user ends `subscribe`. Taken in the middle of writing a
    message it would leave half a line (or half a frame) in the output, or
    a written message unacknowledged (delivered twice). Inside `held()` the
    interrupt waits until the message is written and acknowledged;
    elsewhere (waiting for a message) it takes effect at once. SIGINT is
    also blocked for this thread while held: a signal that interrupts a
    blocked write to a full pipe makes Python's buffered write return early
    with the rest of the message unwritten.
    """

    def __init__(self) -> None:
        self.holding = False
        self.pending = False
        self._previous: Any = None

    def __enter__(self) -> Interruptions:
        # Not where Ctrl-C cannot be caught (another thread) or was meant to be ignored (nohup, a background job).
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _interrupt(self, signum: int, frame: Any) -> None:
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self._previous is None:
            yield
            return
        self.holding = True
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a SIGINT that waited is handled now
            self.holding = False
            if self.pending:
                raise KeyboardInterrupt


@click.command(epilog="""Output formats: pretty (Rich; plain text in a pipe), json (one object per line), body (each body and a newline,
or --delimiter), raw (wire frames, for `stomper unpack`), or --template. Default: pretty on a terminal, json in a pipe.

\b
Examples:
  stomper subscribe /queue/a
  stomper subscribe /queue/a -n 10 --timeout 5 --json | jq -r .body
  stomper subscribe /queue/a --raw | stomper unpack
  stomper subscribe /queue/a /queue/b --template '{destination}\\t{body}\\n'
  stomper subscribe /queue/blobs -n 10 --body-only -0 | xargs -0 -n1 echo
  stomper subscribe /queue/jobs --ack client-individual --body-only > jobs.txt
  stomper subscribe /topic/news --durable news-reader --client-id reader-1
  stomper subscribe /topic/news --durable news-reader --client-id reader-1 --remove

Ctrl-C ends it with exit status 130 (on a terminal, saying how many messages were received).

""" + EXIT_CODES_HELP)
@click.argument("destinations", metavar="DESTINATION...", nargs=-1, required=True)
@click.option("--ack", type=click.Choice(ACK_MODES), default="auto", show_default=True,
              help="Acknowledgement mode; in client modes a message is acked only after it was written and flushed.")
@click.option("--id", "subscription_id", metavar="ID", help="The subscription id (one DESTINATION only; default: generated).")
@click.option("-n", "--count", type=click.IntRange(min=1), help="Exit after N messages.")
@click.option("--timeout", type=Seconds(), metavar="SECONDS",
              help="Stop after SECONDS (0 to 2147483) without a message: exit 4 if --count was not reached, else 0.")
@click.option("--durable", metavar="NAME",
              help="A durable topic subscription NAME, in the broker's own form (ActiveMQ needs --client-id); it keeps "
                   "messages published while nobody is subscribed.")
@click.option("--remove", is_flag=True, help="With --durable NAME: end that durable subscription and exit.")
@reconnect_options("subscribe again (in client ack modes nothing is lost; what was written but not acknowledged may be written twice)")
@click.option("--selector", metavar="EXPR", help="Only messages matching this selector (ActiveMQ, Artemis), e.g. \"kind = 'x'\".")
@receipt_timeout_option
@header_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--body-only", is_flag=True, help="Same as --format body.")
@click.option("--raw", is_flag=True, help="Same as --format raw.")
@template_option
@delimiter_options
@max_body_option
@max_frame_size_option
@connection_options
def subscribe(destinations: tuple[str, ...], ack: str, subscription_id: str | None, count: int | None, timeout: float | None,
              durable: str | None, remove: bool, reconnect: bool, reconnect_timeout: float, selector: str | None,
              receipt_timeout: float, headers: list[tuple[str, str]], fmt: str | None, as_json: bool, body_only: bool, raw: bool,
              template: Any, delimiter: bytes | None, null_delimiter: bool, max_body: int | None, max_frame_size: int,
              conn_params: ConnectionParams) -> None:
    """Subscribe to each DESTINATION and write the messages to stdout.

    -H adds subscription headers (prefetch-count, ...).
    """
    settings = get_settings()
    refuse_own_headers(headers, OWN_HEADERS)
    check_subscription_options(destinations, subscription_id, durable, remove, selector, headers)
    if selector is not None:
        headers = [*headers, ("selector", selector)]
    writer = make_writer(choose_format(fmt, as_json, body_only, raw, template), template, choose_delimiter(delimiter, null_delimiter),
                         delimiter is not None or null_delimiter, settings.color, max_body)
    wait = exit_wait(timeout)
    interruptions = Interruptions()
    output: BatchedOutput | None = None
    failover = reconnect or len(conn_params.urls) > 1
    try:
        with interruptions, broker_session(conn_params, max_frame_size, wait, on_frame=frame_logger(settings.verbose),
                                           reconnect=failover, reconnect_timeout=reconnect_timeout) as conn:
            writer.version = conn.version
            kind = broker_kind(conn.server)
            if durable is not None:
                check_durable(kind, durable, conn_params)
                if remove:
                    remove_durable(conn, kind, durable, destinations[0], receipt_timeout, settings.verbose)
                    return
                subscription_id = durable
                headers = [*durable_headers(kind, durable).items(), *headers]
                if settings.verbose:
                    note(f"durable subscription {durable} in the {kind} form: {describe(durable_headers(kind, durable))}")
            mode = wire_ack_mode(ack, count, conn.version)
            if failover and mode == "auto":
                warn("with --ack auto, messages the broker sent just before a lost connection may be lost; "
                     "--ack client makes reconnecting lose nothing")
            subscription_headers = dict(headers)
            if mode != "auto":
                subscription_headers = prefetch_headers(kind, prefetch_limit(count)) | subscription_headers
            for destination in destinations:
                conn.subscribe(destination, ack=mode, id=subscription_id, headers=subscription_headers, receipt=True, timeout=receipt_timeout)
            output = BatchedOutput(conn, writer, mode, confirm=failover, receipt_timeout=receipt_timeout)
            if sys.stderr.isatty():
                sys.stderr.write(f"subscribed to {', '.join(destinations)} (ack {mode}) \u2014 Ctrl-C to stop\n")
                sys.stderr.flush()
            received = consume(conn, output, interruptions, count, timeout)
            end_session(conn, wait, f"{plural(received, 'message')} written")
        if sys.stderr.isatty():
            sys.stderr.write(f"received {plural(received, 'message')}\n")
    except KeyboardInterrupt:
        received = output.written if output is not None else 0
        if sys.stderr.isatty():
            sys.stderr.write(f"\rreceived {plural(received, 'message')}\n")  # \r: over the terminal's ^C
            sys.stderr.flush()
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except StompError as error:
        raise failure(error, receipt_timeout=receipt_timeout) from error
    finally:
        with contextlib.suppress(OSError, ValueError):
            writer.flush()  # what was written comes out on every way out; what was not acknowledged comes again


def note(message: str) -> None:
    """One informational line on stderr (under -v, or on a terminal)."""
    sys.stderr.write(f"stomper: {message}\n")
    sys.stderr.flush()


def check_subscription_options(destinations: tuple[str, ...], subscription_id: str | None, durable: str | None, remove: bool,
                               selector: str | None, headers: list[tuple[str, str]]) -> None:
    """Usage errors for options that cannot go together, before anything connects."""
    if subscription_id is not None and len(destinations) > 1:
        raise click.UsageError("--id names one subscription: give one DESTINATION")
    if selector is not None and any(name == "selector" for name, _ in headers):
        raise click.UsageError("give --selector EXPR or -H selector:EXPR, not both")
    if remove and durable is None:
        raise click.UsageError("--remove ends a durable subscription: give --durable NAME")
    if durable is None:
        return
    if not durable:
        raise click.UsageError("--durable needs a NAME")
    if subscription_id is not None:
        raise click.UsageError("--durable NAME is also the subscription id: give --durable or --id, not both")
    if len(destinations) > 1:
        raise click.UsageError("--durable names one subscription: give one DESTINATION")
    if not destinations[0].startswith("/topic/"):
        raise click.UsageError(f"--durable subscribes to a topic: {destinations[0]!r} is not a /topic/... destination")


def check_durable(kind: str, name: str, conn_params: ConnectionParams) -> None:
    """A durable subscription on ActiveMQ belongs to a client id: without one it is a usage error, not the broker's ERROR."""
    if kind in NEEDS_CLIENT_ID and not any(header == CLIENT_ID_HEADER for header, _ in conn_params.all_connect_headers):
        raise click.UsageError(
            f"--durable {name} on {kind} needs a client id: give --client-id ID (the same each time you subscribe or remove)",
            click.get_current_context(),
        )


def remove_durable(conn: Any, kind: str, name: str, destination: str, receipt_timeout: float, verbose: bool) -> None:
    """End durable subscription `name` on the broker (waiting for the broker's receipt)."""
    headers = {"id": name} | removal_headers(kind, name)
    if removes_own_subscription(kind):
        # RabbitMQ ends a durable subscription only through a subscription of this connection: take it up first.
        subscription = durable_headers(kind, name) | prefetch_headers(kind, 1)
        conn.subscribe(destination, ack="client", id=name, headers=subscription, receipt=True, timeout=receipt_timeout)
    if verbose:
        note(f"removing durable subscription {name} in the {kind} form: {describe(removal_headers(kind, name))}")
    conn.send_frame(Frame("UNSUBSCRIBE", headers), receipt=True, timeout=receipt_timeout)
    if verbose or sys.stderr.isatty():
        note(f"removed durable subscription {name}")


def consume(conn: Any, output: BatchedOutput, interruptions: Interruptions, count: int | None, timeout: float | None) -> int:
    """Write messages until `count` were written (or, without a count, `timeout` passed without one); return how many.

    The wait for a message can be interrupted at once. Once one arrived, it
    and every message already read behind it are written, flushed and
    acknowledged with Ctrl-C held back, so an interrupt never leaves a
    message half written or written and unacknowledged.
    """
    receive = conn.receive
    while count is None or output.counted < count:
        message = receive(timeout)
        if message is None:
            if count is None:
                break
            if output.counted + output.uncertain >= count:
                # Every one of the count was written; the missing redeliveries are of messages whose ACK the broker
                # took just before the connection was lost, so it does not deliver them again.
                warn(f"{output.uncertain} messages acknowledged as a connection was lost were not delivered again; all were written")
                break
            raise TimeoutExpired(f"no message for {timeout:g} s: received {output.counted} of {count}")
        with interruptions.held():
            while message is not None:
                output.write(message)
                if output.counted == count:
                    break
                message = receive(0)  # only what was already read: never waits
            output.settle()
    return output.written
