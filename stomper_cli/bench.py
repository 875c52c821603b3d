"""`stomper bench`: publishers and subscribers in several processes; throughput, latency, loss.

The parent starts the worker processes (spawned, so nothing is inherited
but what is passed), waits until every subscriber's subscription is
confirmed, lets the publishers go, watches the progress counters, raises
the stop flag once the subscribers have what was sent (or nothing more
arrives for --drain-timeout seconds), and then merges what the clients
report into one table or one JSON object.
"""

from __future__ import annotations

import json
import math
import os
import sys
import uuid
from typing import IO, Any

import click

from .app import EXIT_CODES_HELP, get_settings
from .bench_worker import CUMULATIVE_ACK_EVERY
from .errors import CliError
from .options import ConnectionParams, connection_options

DELIVERIES = ("auto", "compete", "fanout")


class PositiveFinite(click.ParamType):
    """A number of seconds or messages per second: finite and greater than zero (NaN and inf refused)."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or number <= 0:
            self.fail(f"{value!r} is not a finite number greater than 0", param, ctx)
        return number


def delivery_of(destination: str, delivery: str) -> str:
    """compete (subscribers share the messages) or fanout (each gets all): /topic/ fans out unless told otherwise."""
    if delivery != "auto":
        return delivery
    return "fanout" if destination.startswith("/topic/") else "compete"


@click.command(epilog="""\b
Examples:
  stomper bench --pub 2 --sub 2 --msgs 50000 --size 100
  stomper bench /topic/prices --pub 1 --sub 4 --duration 10 --rate 1000 --json
  stomper bench /queue/work --ack client-individual --receipts 1000 --histogram latency.csv

""" + EXIT_CODES_HELP)
@click.argument("destination", required=False)
@click.option("--pub", "publishers", type=click.IntRange(min=1), default=1, show_default=True, help="Publishers, each on its own connection.")
@click.option("--sub", "subscribers", type=click.IntRange(min=0), default=1, show_default=True,
              help="Subscribers, each on its own connection.")
@click.option("--msgs", "messages", type=click.IntRange(min=1), help="Messages per publisher.  [default: 10000 unless --duration]")
@click.option("--duration", type=PositiveFinite(), metavar="SECONDS", help="Publish for this long instead of --msgs.")
@click.option("--size", type=click.IntRange(min=0), default=128, show_default=True, metavar="BYTES", help="Body size of each message.")
@click.option("--ack", type=click.Choice(["auto", "client", "client-individual"]), default="auto", show_default=True,
              help=f"Subscribers' ack mode; client acks cumulatively every {CUMULATIVE_ACK_EVERY} messages.")
@click.option("--receipts", type=click.IntRange(min=0), default=0, show_default=True, metavar="K",
              help="Each publisher asks for a receipt every K messages (and on its last) and waits for it; 0: none.")
@click.option("--rate", type=PositiveFinite(), metavar="MSG/S", help="Cap each publisher at this many messages per second.")
@click.option("--delivery", type=click.Choice(DELIVERIES), default="auto", show_default=True,
              help="compete: subscribers share the messages (a queue); fanout: each gets all (a topic). auto: fanout for /topic/.")
@click.option("--procs", type=click.IntRange(min=1), help="Worker processes the clients are spread over.  [default: CPU count]")
@click.option("--drain-timeout", type=PositiveFinite(), default=10.0, show_default=True, metavar="SECONDS",
              help="After publishing, stop waiting when no message arrives for this long (the rest counts as lost).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--histogram", "histogram_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the latency distribution as CSV.")
@connection_options
def bench(destination: str | None, publishers: int, subscribers: int, messages: int | None, duration: float | None, size: int,
          ack: str, receipts: int, rate: float | None, delivery: str, procs: int | None, drain_timeout: float, as_json: bool,
          histogram_file: str | None, conn_params: ConnectionParams) -> None:
    """Measure a broker: --pub publishers and --sub subscribers at once, in several processes.

    Without DESTINATION a new, unique /queue/stomper.bench.<uuid> is used
    (a /topic/ when --sub is 0, so nothing is left behind). Reports
    messages, bytes, msg/s, MB/s and end-to-end latency per client and in
    total; a run that lost messages exits 1.
    """
    if messages is not None and duration is not None:
        raise click.UsageError("give --msgs or --duration, not both")
    if messages is None and duration is None:
        messages = 10000
    if destination is None:
        kind = "queue" if subscribers else "topic"
        destination = f"/{kind}/stomper.bench.{uuid.uuid4().hex}"
    from .bench_run import Run

    run = Run(
        destination=destination, delivery=delivery_of(destination, delivery), params=conn_params, publishers=publishers,
        subscribers=subscribers, messages=messages, duration=duration, size=size, ack=ack, receipts=receipts, rate=rate,
        procs=min(procs or os.cpu_count() or 1, publishers + subscribers), drain_timeout=drain_timeout,
    )
    histogram_stream = open_for_writing(histogram_file) if histogram_file else None
    try:
        outcome = run.execute(show_progress=sys.stderr.isatty())
        if outcome.failure is not None:
            raise client_failure(*outcome.failure)
        report = outcome.report()
        if histogram_stream is not None:
            outcome.write_histogram(histogram_stream)
    finally:
        if histogram_stream is not None:
            histogram_stream.close()
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        from .bench_report import show

        show(report, outcome.latency_plot(), get_settings().color)
    if outcome.interrupted:
        raise KeyboardInterrupt  # reported as "interrupted", exit 130, after what was measured
    if report["lost"]:
        raise CliError(f"{report['lost']} of {report['expected']} messages lost")


def client_failure(exit_code: int, message: str) -> CliError:
    """A client's failure (already classified in its process) as the run's error, with the client's exit code."""
    error = CliError(message)
    error.exit_code = exit_code
    return error


def open_for_writing(path: str) -> IO[str]:
    """Open --histogram's file before the run, so that a path that cannot be written costs no benchmark."""
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as error:
        raise click.BadParameter(f"cannot write {path}: {error.strerror}", param_hint="'--histogram'") from None
