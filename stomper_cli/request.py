"""`stomper request`: send a message with `reply-to` and a `correlation-id`, and write the answers.

Where replies go depends on the broker, told by the CONNECTED `server` header:

* RabbitMQ: `reply-to:/temp-queue/NAME` on the SEND makes the broker create
  an exclusive queue for this connection and deliver its messages to it
  without a SUBSCRIBE; it is deleted when the connection closes.
* ActiveMQ: a SUBSCRIBE to `/temp-queue/NAME` creates a temporary queue that
  lives as long as the connection; the broker rewrites `reply-to` on the
  SEND into that queue's real name.
* any other broker: a SUBSCRIBE to a unique `/queue/stomper.reply.UUID`, with
  `auto-delete:true`, unsubscribed at the end.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import click

from .app import EXIT_CODES_HELP, get_settings
from .errors import TimeoutExpired
from .options import ConnectionParams, connection_options, frame_logger, header_option, open_connection, read_body
from .render import FORMATS, FrameWriter
from .subscribe import choose_format

#: What `request` sets itself and so refuses with -H.
OWN_HEADERS = {"reply-to": "the reply destination", "correlation-id": "the correlation id", "destination": "DESTINATION"}


def reply_destination(server: str) -> tuple[str, bool]:
    """(destination to name in reply-to, whether to SUBSCRIBE to it) for the broker that said `server`."""
    name = f"stomper.reply.{uuid.uuid4().hex}"
    if server.startswith("RabbitMQ"):
        return f"/temp-queue/{name}", False
    if server.startswith("ActiveMQ"):
        return f"/temp-queue/{name}", True
    return f"/queue/{name}", True


def check_own_headers(headers: list[tuple[str, str]]) -> None:
    for name, _ in headers:
        if name in OWN_HEADERS:
            raise click.UsageError(f"-H {name}: is set by stomper request itself ({OWN_HEADERS[name]})")


@click.command(epilog="""Examples:

\b
  stomper request /queue/svc 'hello'
  stomper request /queue/svc --body-file query.json --timeout 30 --json
  stomper request /topic/census 'who is there?' -n 5 --timeout 2

""" + EXIT_CODES_HELP)
@click.argument("destination")
@click.argument("body", required=False)
@click.option("--body-file", type=click.File("rb"), metavar="PATH|-", help="Read the body from a file, or - for stdin.")
@header_option
@click.option("--content-type", help="The content-type header.")
@click.option("-n", "--count", type=click.IntRange(min=1), default=1, show_default=True, help="Wait for N answers (scatter/gather).")
@click.option("--timeout", type=click.FloatRange(min=0, max=86400), default=10.0, show_default=True, metavar="SECONDS",
              help="Give up (exit 4) when the answers have not all come in this long.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format, as for subscribe.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--body-only", is_flag=True, help="Same as --format body.")
@click.option("--raw", is_flag=True, help="Same as --format raw.")
@connection_options
def request(destination: str, body: str | None, body_file: Any, headers: list[tuple[str, str]], content_type: str | None, count: int,
            timeout: float, fmt: str | None, as_json: bool, body_only: bool, raw: bool, conn_params: ConnectionParams) -> None:
    """Send BODY to DESTINATION as a request and write the answer(s).

    The body is BODY, --body-file, or stdin. The answer is the message that
    comes back with the same correlation-id; exit 4 when none came in
    --timeout seconds.
    """
    settings = get_settings()
    if body is not None and body_file is not None:
        raise click.UsageError("give BODY or --body-file, not both")
    check_own_headers(headers)
    payload = read_body(body, body_file, default=None)
    if payload is None:
        payload = click.get_binary_stream("stdin").read()
    writer = FrameWriter(choose_format(fmt, as_json, body_only, raw), settings.color)
    correlation_id = uuid.uuid4().hex
    with open_connection(conn_params, on_frame=frame_logger(settings.verbose)) as conn:
        writer.version = conn.version
        reply_to, subscribe = reply_destination(conn.server)
        if subscribe:
            conn.subscribe(reply_to, ack="auto", headers={"auto-delete": "true"}, receipt=True)
        request_headers = {**dict(headers), "reply-to": reply_to, "correlation-id": correlation_id}
        conn.send(destination, payload, headers=request_headers, content_type=content_type, receipt=True)
        answers = _collect(conn, writer, correlation_id, count, timeout)
        if answers < count:
            raise TimeoutExpired(f"no answer for {timeout:g} s: received {answers} of {count}")


def _collect(conn: Any, writer: FrameWriter, correlation_id: str, count: int, timeout: float) -> int:
    """Write the answers carrying `correlation_id` until `count` came or `timeout` passed; return how many came."""
    deadline = time.monotonic() + timeout
    answers = 0
    while answers < count:
        remaining = deadline - time.monotonic()
        message = conn.receive(max(remaining, 0)) if remaining > 0 else None
        if message is None:
            break
        if message.headers.get("correlation-id") != correlation_id:
            continue  # an answer to an earlier request on a shared reply queue
        writer.write(message)
        answers += 1
    return answers
