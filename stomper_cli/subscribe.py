"""`stomper subscribe`: receive messages and write them out, acknowledging only what was written."""

from __future__ import annotations

import sys

import click

from stomper.commands import ACK_MODES

from .app import EXIT_CODES_HELP, get_settings
from .errors import TimeoutExpired
from .options import ConnectionParams, Seconds, connection_options, frame_logger, header_option, open_connection
from .render import FORMATS, FrameWriter, default_format, max_body_option


def choose_format(fmt: str | None, as_json: bool, body_only: bool, raw: bool) -> str:
    """The output format from --format and its shorthands; pretty on a terminal, json in a pipe."""
    chosen = {name for name, flag in (("json", as_json), ("body", body_only), ("raw", raw)) if flag}
    if fmt:
        chosen.add(fmt)
    if len(chosen) > 1:
        raise click.UsageError(f"choose one output format, not {' and '.join(sorted(chosen))}")
    return chosen.pop() if chosen else default_format(sys.stdout)


def wire_ack_mode(ack: str, count: int | None, version: str) -> str:
    """The ack mode to subscribe with.

    With --count in auto mode, subscribe with client acknowledgements and ack
    each message once written: messages the broker pushed beyond the count
    are then redelivered to the next consumer instead of being lost.
    """
    if ack == "auto" and count is not None:
        ack = "client-individual"
    if ack == "client-individual" and version == "1.0":
        ack = "client"
    return ack


@click.command(epilog="""Output formats: pretty (Rich; plain text in a pipe), json (one object per line), body (each body and a newline),
raw (wire frames, for `stomper unpack`). Default: pretty on a terminal, json in a pipe.

\b
Examples:
  stomper subscribe /queue/a
  stomper subscribe /queue/a -n 10 --timeout 5 --json | jq -r .body
  stomper subscribe /queue/a --raw | stomper unpack
  stomper subscribe /queue/jobs --ack client-individual --body-only > jobs.txt

""" + EXIT_CODES_HELP)
@click.argument("destinations", metavar="DESTINATION...", nargs=-1, required=True)
@click.option("--ack", type=click.Choice(ACK_MODES), default="auto", show_default=True,
              help="Acknowledgement mode; in client modes a message is acked only after it was written and flushed.")
@click.option("-n", "--count", type=click.IntRange(min=1), help="Exit after N messages.")
@click.option("--timeout", type=Seconds(), metavar="SECONDS",
              help="Stop after SECONDS (0 to 2147483) without a message: exit 4 if --count was not reached, else 0.")
@header_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--body-only", is_flag=True, help="Same as --format body.")
@click.option("--raw", is_flag=True, help="Same as --format raw.")
@max_body_option
@connection_options
def subscribe(destinations: tuple[str, ...], ack: str, count: int | None, timeout: float | None, headers: list[tuple[str, str]],
              fmt: str | None, as_json: bool, body_only: bool, raw: bool, max_body: int | None, conn_params: ConnectionParams) -> None:
    """Subscribe to each DESTINATION and write the messages to stdout.

    -H adds subscription headers (selector, prefetch-count, ...).
    """
    settings = get_settings()
    writer = FrameWriter(choose_format(fmt, as_json, body_only, raw), settings.color, max_body=max_body)
    received = 0
    with open_connection(conn_params, on_frame=frame_logger(settings.verbose)) as conn:
        writer.version = conn.version
        mode = wire_ack_mode(ack, count, conn.version)
        for destination in destinations:
            conn.subscribe(destination, ack=mode, headers=dict(headers), receipt=True)
        while count is None or received < count:
            message = conn.receive(timeout)
            if message is None:
                if count is None:
                    break
                raise TimeoutExpired(f"no message for {timeout:g} s: received {received} of {count}")
            writer.write(message)
            if mode != "auto":
                conn.ack(message)
            received += 1
