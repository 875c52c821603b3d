"""`stomper reply DEST -- COMMAND`: answer each request on DEST with what COMMAND prints.

For each request, COMMAND runs with the body on stdin; its stdout is sent to
the request's `reply-to` with the request's `correlation-id`, and only then
is the request acknowledged (client-individual), so a responder killed
mid-way leaves the request to be redelivered. A command that exits non-zero
gets the request NACKed (STOMP 1.0 has no NACK: it is left unacknowledged
until the connection closes). A message without `reply-to` is not a
request: COMMAND still runs, its output goes to stdout, and it is acked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import click

from stomper.frame import Frame
from stomper.versions import individual_ack_mode, spec

from .app import EXIT_CODES_HELP, get_settings
from .options import ConnectionParams, connection_options, frame_logger, header_option, open_connection

FORWARDED = ("correlation-id",)


@click.command(epilog="""Examples:

\b
  stomper reply /queue/svc -- tr a-z A-Z
  stomper reply /queue/svc -n 1 -- sh -c 'wc -c'

""" + EXIT_CODES_HELP)
@click.argument("destination")
@click.argument("command", nargs=-1, required=True, metavar="-- COMMAND [ARGS]...")
@click.option("-n", "--count", type=click.IntRange(min=1), help="Stop after N requests.")
@header_option
@connection_options
def reply(destination: str, command: tuple[str, ...], count: int | None, headers: list[tuple[str, str]], conn_params: ConnectionParams) -> None:
    """Answer the requests on DESTINATION with the output of COMMAND.

    -H adds headers to every reply.
    """
    settings = get_settings()
    if shutil.which(command[0]) is None:
        raise click.UsageError(f"command not found: {command[0]}")
    handled = 0
    with open_connection(conn_params, on_frame=frame_logger(settings.verbose)) as conn:
        mode = individual_ack_mode(conn.version)
        conn.subscribe(destination, ack=mode, receipt=True)
        while count is None or handled < count:
            message = conn.receive(None)
            if message is None:
                break
            _answer(conn, message, command, dict(headers))
            handled += 1


def _answer(conn: Any, message: Frame, command: tuple[str, ...], reply_headers: dict[str, str]) -> None:
    """Run COMMAND for one request, send its output back, then ack (or nack on failure)."""
    done = subprocess.run(command, input=message.body, stdout=subprocess.PIPE, check=False)
    message_id = message.headers.get("message-id", "?")
    if done.returncode != 0:
        can_nack = "NACK" not in spec(conn.version).missing_commands
        sys.stderr.write(f"stomper: request {message_id}: {command[0]} exited with status {done.returncode}: "
                         f"{'nacked' if can_nack else 'left unacknowledged'}\n")
        if can_nack:
            conn.nack(message)
        return
    reply_to = message.headers.get("reply-to")
    if reply_to is None:
        sys.stdout.buffer.write(done.stdout)
        sys.stdout.flush()
    else:
        forwarded = {name: message.headers[name] for name in FORWARDED if name in message.headers}
        conn.send(reply_to, done.stdout, headers={**reply_headers, **forwarded}, receipt=True)
    conn.ack(message)
