"""The processes of `stomper bench`: publishers and subscribers, each on its own connection.

A worker process runs the clients it was given (one thread each, so that
a process count below the client count still works) and talks to the
parent through a `Shared` bundle:

- `events`, a queue of ("ready", index, None) once a subscription is
  confirmed by a receipt, ("done", index, result) and ("failed", index,
  (exit code, message));
- `go`, an event the publishers wait for: the parent sets it only when
  every subscriber is ready, so no message is published before all
  subscriptions exist;
- `control`, [start time in monotonic ns, stop flag], and `progress`,
  one message count per client, both plain shared integers that the hot
  loops read and write without a lock.

Every message carries its run id, publisher number, sequence number and
the monotonic clock at sending (system-wide on Linux, so comparable across
processes of one machine) in headers; subscribers turn them into latency,
loss and duplicate counts.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from stomper.versions import individual_ack_mode

from .options import ConnectionParams, open_connection

RUN_HEADER = "stomper-bench-run"
PUBLISHER_HEADER = "stomper-bench-pub"
SEQUENCE_HEADER = "stomper-bench-seq"
SENT_AT_HEADER = "stomper-bench-ts"
#: In --ack client mode, one cumulative ACK per this many messages (and one for the last).
CUMULATIVE_ACK_EVERY = 100
#: How long a subscriber waits for a message before it looks at the stop flag again.
POLL_SECONDS = 0.05
START, STOP = 0, 1


@dataclass(frozen=True)
class Plan:
    """What every client of one run does (pickled into each worker process)."""

    run_id: str
    destination: str
    params: ConnectionParams
    size: int
    messages: int | None  # per publisher; None with a duration
    duration: float | None
    ack: str
    receipts: int
    rate: float | None  # per publisher
    timeout: float  # for each receipt


@dataclass(frozen=True)
class Client:
    """One publisher or subscriber: its index in `progress`, role, number within the role and URL list."""

    index: int
    role: str  # "publisher" or "subscriber"
    number: int
    urls: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{'pub' if self.role == 'publisher' else 'sub'}-{self.number}"


@dataclass(frozen=True)
class Shared:
    """The parent's queue, event and shared arrays, as handed to every worker process."""

    events: Any
    go: Any
    control: Any
    progress: Any


def worker_main(plan: Plan, clients: list[Client], shared: Shared) -> None:
    """Entry point of a worker process: run its clients, one thread each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and raises the stop flag
    threads = [threading.Thread(target=run_client, args=(plan, client, shared), name=client.name) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_client(plan: Plan, client: Client, shared: Shared) -> None:
    """Run one client and report how it ended; any failure becomes an exit code and a line for the parent."""
    try:
        role = publish if client.role == "publisher" else consume
        shared.events.put(("done", client.index, role(plan, client, shared)))
    except BaseException as error:  # noqa: B902 - reported to the parent, which decides the exit code
        from .errors import classify

        code, message, _ = classify(error)
        shared.events.put(("failed", client.index, (code, f"{client.name}: {message}")))


def _connect(plan: Plan, client: Client):
    """A connection with the run's options, to the client's own URL list."""
    return open_connection(dataclasses.replace(plan.params, urls=tuple(client.urls)))


def publish(plan: Plan, client: Client, shared: Shared) -> dict[str, Any]:
    """Connect, wait for the go signal, then send until --msgs, --duration or the stop flag; return the figures."""
    with _connect(plan, client) as conn:
        shared.go.wait()
        start = time.monotonic_ns()
        sent = 0
        if not shared.control[STOP]:
            if plan.rate is None:
                with conn.batch():
                    sent = _publish_loop(plan, client, shared, conn, start)
            else:
                sent = _publish_loop(plan, client, shared, conn, start)
        end = time.monotonic_ns()
        shared.progress[client.index] = sent
        return {"messages": sent, "bytes": sent * plan.size, "start_ns": start, "end_ns": end, "url": conn.url,
                "server": conn.server, "version": conn.version}


def _publish_loop(plan: Plan, client: Client, shared: Shared, conn: Any, start: int) -> int:
    """Send the messages; returns how many were sent. The header values change per message, the dict is reused."""
    body = b"x" * plan.size
    destination, receipts, timeout = plan.destination, plan.receipts, plan.timeout
    limit = plan.messages if plan.messages is not None else 1 << 62
    deadline = start + int(plan.duration * 1e9) if plan.duration is not None else 1 << 62
    interval = int(1e9 / plan.rate) if plan.rate else 0
    control, progress, index = shared.control, shared.progress, client.index
    headers = {RUN_HEADER: plan.run_id, PUBLISHER_HEADER: str(client.number), SEQUENCE_HEADER: "", SENT_AT_HEADER: ""}
    clock, send, sleep = time.monotonic_ns, conn.send, time.sleep
    sent = 0
    while sent < limit:
        if interval:
            wait = start + sent * interval - clock()
            if wait > 0:
                sleep(wait / 1e9)
        if interval or not sent & 63:
            if control[STOP] or clock() >= deadline:
                break
            progress[index] = sent
        headers[SEQUENCE_HEADER] = str(sent)
        headers[SENT_AT_HEADER] = str(clock())
        sent += 1
        ask = receipts > 0 and (sent % receipts == 0 or sent == limit)
        send(destination, body, headers, receipt=ask, timeout=timeout)
    return sent


def consume(plan: Plan, client: Client, shared: Shared) -> dict[str, Any]:
    """Subscribe, say ready, then receive until the stop flag; return counts, sequence maps and the latency histogram."""
    from .bench_stats import encode, histogram_from_counts  # here, not at the top: `stomper --help` imports this module

    with _connect(plan, client) as conn:
        ack = individual_ack_mode(conn.version) if plan.ack == "client-individual" else plan.ack
        conn.subscribe(plan.destination, ack=ack, receipt=True, timeout=plan.timeout)
        shared.events.put(("ready", client.index, None))
        tally = _Tally(plan.run_id)
        _receive_loop(conn, ack, tally, client.index, shared)
        shared.progress[client.index] = tally.received
        return {
            "messages": tally.received, "bytes": tally.body_bytes, "start_ns": shared.control[START], "end_ns": tally.last_ns,
            "url": conn.url, "server": conn.server, "version": conn.version, "duplicates": tally.duplicates,
            "foreign": tally.foreign, "seen": {publisher: bytes(marks) for publisher, marks in tally.seen.items()},
            "histogram": encode(histogram_from_counts(tally.latencies)),
        }


class _Tally:
    """What one subscriber saw: per publisher a byte per sequence number (1 = seen), latencies counted per us."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.received = self.body_bytes = self.duplicates = self.foreign = self.last_ns = 0
        self.seen: dict[str, bytearray] = {}
        self.latencies: dict[int, int] = {}

    def count(self, headers: Any, body: bytes, now: int) -> None:
        if headers.get(RUN_HEADER) != self.run_id:
            self.foreign += 1  # not this run's: someone else's message, or one left over from an earlier run
            return
        publisher, sequence = headers[PUBLISHER_HEADER], int(headers[SEQUENCE_HEADER])
        marks = self.seen.get(publisher)
        if marks is None:
            marks = self.seen[publisher] = bytearray(1024)
        if sequence >= len(marks):
            marks.extend(bytes(max(sequence + 1, 2 * len(marks)) - len(marks)))
        if marks[sequence]:
            self.duplicates += 1
        else:
            marks[sequence] = 1
        latency = (now - int(headers[SENT_AT_HEADER])) // 1000
        self.latencies[latency] = self.latencies.get(latency, 0) + 1
        self.received += 1
        self.body_bytes += len(body)
        self.last_ns = now


def _receive_loop(conn: Any, ack: str, tally: _Tally, index: int, shared: Shared) -> None:
    """Receive and count until the parent raises the stop flag; acknowledge as --ack says, the last one always."""
    control, progress, receive, clock = shared.control, shared.progress, conn.receive, time.monotonic_ns
    unacked = None
    handled = 0
    while True:
        message = receive(POLL_SECONDS)
        if message is None:
            if unacked is not None:
                conn.ack(unacked)
                unacked = None
            progress[index] = tally.received
            if control[STOP]:
                return
            continue
        tally.count(message.headers, message.body, clock())
        handled += 1
        if ack == "client-individual" or (ack == "client" and handled % CUMULATIVE_ACK_EVERY == 0):
            conn.ack(message)
            unacked = None
        elif ack == "client":
            unacked = message
        if not handled & 255:
            progress[index] = tally.received
            if control[STOP]:
                break
    if unacked is not None:
        conn.ack(unacked)
