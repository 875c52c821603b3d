"""The parent side of `stomper bench`: start the worker processes, pace the run, merge the results.

Loss and duplicates are worked out here, from each subscriber's map of
the sequence numbers it saw (one byte per number, 1 = seen), because only
the parent sees all subscribers: with competing subscribers a message
counts as received when any of them got it (two of them getting it is a
duplicate); with fan-out every subscriber must get every message.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import time
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from . import bench_stats
from .bench_worker import START, STOP, Client, Plan, Shared, worker_main
from .errors import EXIT_CONNECTION, EXIT_ERROR
from .options import ConnectionParams

#: Seconds the worker processes get to start and connect, beyond --connect-timeout.
START_GRACE = 30.0
#: After Ctrl-C, how long the clients get to hand in what they measured.
COLLECT_SECONDS = 10.0
#: How often the parent looks at the progress counters.
TICK_SECONDS = 0.1


def spread_urls(urls: list[str], index: int) -> tuple[str, ...]:
    """Client `index` starts at URL index mod n, so the clients spread over several brokers; the others follow as its failover list."""
    start = index % len(urls)
    return tuple(urls[start:] + urls[:start])


@dataclass
class Run:
    """One `stomper bench` invocation, as the options gave it."""

    destination: str
    delivery: str  # "compete" or "fanout"
    params: ConnectionParams
    publishers: int
    subscribers: int
    messages: int | None
    duration: float | None
    size: int
    ack: str
    receipts: int
    rate: float | None
    procs: int
    drain_timeout: float
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def clients(self) -> list[Client]:
        """Subscribers first, then publishers; client i starts at URL i mod n."""
        roles = [("subscriber", number) for number in range(self.subscribers)] + [("publisher", number) for number in range(self.publishers)]
        return [Client(index, role, number, spread_urls(self.params.urls, index)) for index, (role, number) in enumerate(roles)]

    def plan(self) -> Plan:
        return Plan(
            run_id=self.run_id, destination=self.destination, params=self.params, size=self.size, messages=self.messages,
            duration=self.duration, ack=self.ack, receipts=self.receipts, rate=self.rate, timeout=max(30.0, self.drain_timeout),
        )

    def execute(self, show_progress: bool) -> Outcome:
        """Run the benchmark to its end (or Ctrl-C) and return what was measured."""
        context = multiprocessing.get_context("spawn")
        clients = self.clients()
        shared = Shared(context.Queue(), context.Event(), context.Array("q", 2, lock=False), context.Array("q", len(clients), lock=False))
        processes = [
            context.Process(target=worker_main, args=(self.plan(), clients[number::self.procs], shared), daemon=True, name=f"bench-{number}")
            for number in range(self.procs)
        ]
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the spawned interpreters from their first instruction
        try:
            for process in processes:
                process.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        outcome = Outcome(self, clients)
        watcher = _Watcher(self, clients, shared, processes, outcome, show_progress)
        try:
            watcher.run()
        except KeyboardInterrupt:
            outcome.interrupted = True
            watcher.collect_after_interrupt()
        finally:
            watcher.finish()
        return outcome


class _Watcher:
    """The parent's loop: events from the workers, the go signal, the stop flag, the progress display."""

    def __init__(self, run: Run, clients: list[Client], shared: Shared, processes: list, outcome: Outcome, show_progress: bool) -> None:
        self.settings = run
        self.clients = clients
        self.shared = shared
        self.processes = processes
        self.outcome = outcome
        self.ready: set[int] = set()
        self.display = _Progress(run) if show_progress else None
        self.last_total = -1
        self.last_change = time.monotonic()

    def run(self) -> None:
        allowed = self.settings.params.connect_timeout + START_GRACE
        deadline = time.monotonic() + allowed
        while len(self.ready) < self.settings.subscribers and self.outcome.failure is None:
            if time.monotonic() > deadline:
                self.outcome.failure = (EXIT_CONNECTION, f"the subscribers were not ready after {allowed:.0f} s")
                return
            self._next_event()
        if self.outcome.failure is not None:
            return
        self.shared.control[START] = time.monotonic_ns()
        self.shared.go.set()
        if self.display:
            self.display.start()
        while len(self.outcome.results) < len(self.clients) and self.outcome.failure is None:
            self._next_event()
            self._pace()

    def _next_event(self) -> None:
        try:
            kind, index, payload = self.shared.events.get(timeout=TICK_SECONDS)
        except queue.Empty:
            self._check_processes()
            return
        if kind == "ready":
            self.ready.add(index)
        elif kind == "done":
            self.outcome.results[index] = payload
        else:
            self.outcome.failure = payload

    def _check_processes(self) -> None:
        """A worker that died without a word (killed, out of memory) ends the run."""
        for process in self.processes:
            if process.exitcode not in (None, 0) and self.outcome.failure is None:
                self.outcome.failure = (EXIT_ERROR, f"a worker process ended with exit code {process.exitcode}")

    def _pace(self) -> None:
        """Raise the stop flag when the subscribers have everything, or nothing arrived for --drain-timeout."""
        progress = self.shared.progress
        received = [progress[client.index] for client in self.clients if client.role == "subscriber"]
        sent = sum(progress[client.index] for client in self.clients if client.role == "publisher")
        if self.display:
            self.display.update(sent, sum(received))
        if self.shared.control[STOP]:
            return
        if not all(client.index in self.outcome.results for client in self.clients if client.role == "publisher"):
            self.last_change = time.monotonic()
            return
        if not received:
            complete = True
        elif self.settings.delivery == "fanout":
            complete = all(count >= sent for count in received)
        else:
            complete = sum(received) >= sent
        total = sum(received)
        if total != self.last_total:
            self.last_total, self.last_change = total, time.monotonic()
        if complete or time.monotonic() - self.last_change > self.settings.drain_timeout:
            self.shared.control[STOP] = 1

    def collect_after_interrupt(self) -> None:
        """Ctrl-C: stop everyone, then take what the clients report within COLLECT_SECONDS (a second Ctrl-C gives up)."""
        self.shared.control[STOP] = 1
        self.shared.go.set()
        deadline = time.monotonic() + COLLECT_SECONDS
        try:
            while len(self.outcome.results) < len(self.clients) and time.monotonic() < deadline:
                if all(process.exitcode is not None for process in self.processes) and self.shared.events.empty():
                    break
                self._next_event()
        except KeyboardInterrupt:
            pass
        if self.outcome.failure is not None and self.outcome.failure[0] == EXIT_CONNECTION:
            self.outcome.failure = None  # a client cut off by the interruption is not the run's failure

    def finish(self) -> None:
        """Stop the display and the workers; a worker that does not end in time is terminated."""
        if self.display:
            self.display.stop()
        self.shared.control[STOP] = 1
        self.shared.go.set()
        for process in self.processes:
            process.join(timeout=COLLECT_SECONDS if self.outcome.failure is None else 2.0)
            if process.exitcode is None:
                process.terminate()
                process.join()


class _Progress:
    """Two bars on stderr (terminal only): published and received messages."""

    def __init__(self, run: Run) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        )
        planned = run.publishers * run.messages if run.messages is not None else None
        expected = None
        if planned is not None and run.subscribers:
            expected = planned * (run.subscribers if run.delivery == "fanout" else 1)
        self.sent = self.progress.add_task("published", total=planned)
        self.received = self.progress.add_task("received", total=expected)

    def start(self) -> None:
        self.progress.start()

    def update(self, sent: int, received: int) -> None:
        self.progress.update(self.sent, completed=sent)
        self.progress.update(self.received, completed=received)

    def stop(self) -> None:
        self.progress.stop()


@dataclass
class Outcome:
    """What the clients reported, and the figures made from it."""

    run: Run
    clients: list[Client]
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    failure: tuple[int, str] | None = None
    interrupted: bool = False

    def _reported(self, role: str) -> list[tuple[Client, dict[str, Any]]]:
        return [(client, self.results[client.index]) for client in self.clients if client.role == role and client.index in self.results]

    def histogram(self):
        return bench_stats.merge(result["histogram"] for _, result in self._reported("subscriber"))

    def write_histogram(self, stream: IO[str]) -> None:
        bench_stats.write_csv(self.histogram(), stream)

    def latency_plot(self) -> list[str]:
        return bench_stats.text_plot(self.histogram())

    def losses(self) -> tuple[int, int, dict[int, tuple[int, int]]]:
        """(expected, received once at least, {subscriber index: (lost, duplicates)}) from the sequence maps."""
        sent = {str(client.number): result["messages"] for client, result in self._reported("publisher")}
        subscribers = self._reported("subscriber")
        if not subscribers:
            return 0, 0, {}
        per_client: dict[int, tuple[int, int]] = {}
        if self.run.delivery == "fanout":
            for client, result in subscribers:
                seen = sum(_marks(result["seen"].get(publisher, b"")).bit_count() for publisher in sent)
                per_client[client.index] = (sum(sent.values()) - seen, result["duplicates"])
            expected = sum(sent.values()) * len(subscribers)
            return expected, expected - sum(lost for lost, _ in per_client.values()), per_client
        got = 0
        for publisher in sent:
            union = 0
            for client, result in subscribers:
                marks = _marks(result["seen"].get(publisher, b""))
                overlap = (union & marks).bit_count()
                union |= marks
                lost, duplicates = per_client.get(client.index, (0, result["duplicates"]))
                per_client[client.index] = (lost, duplicates + overlap)
            got += union.bit_count()
        return sum(sent.values()), got, per_client

    def report(self) -> dict[str, Any]:
        """The one JSON object (see the README for every field)."""
        run = self.run
        expected, got, per_client = self.losses()
        start_ns = min((result["start_ns"] for _, result in self._reported("publisher")), default=0)
        clients = []
        for role in ("publisher", "subscriber"):
            for client, result in self._reported(role):
                entry = {"name": client.name, "role": role, "url": result["url"]}
                entry.update(bench_stats.throughput(result["messages"], result["bytes"], max(result["end_ns"] - result["start_ns"], 0) / 1e9))
                if role == "subscriber":
                    lost, duplicates = per_client.get(client.index, (0, 0))
                    entry.update(latency_us=bench_stats.latency_summary(bench_stats.merge([result["histogram"]])),
                                 lost=lost if run.delivery == "fanout" else None, duplicates=duplicates, foreign=result["foreign"])
                clients.append(entry)
        reported = self._reported("publisher") + self._reported("subscriber")
        server = reported[0][1]["server"] if reported else None
        version = reported[0][1]["version"] if reported else None
        return {
            "destination": run.destination, "delivery": run.delivery, "server": server, "stomp_version": version,
            "publishers": run.publishers, "subscribers": run.subscribers, "messages_per_publisher": run.messages,
            "duration": run.duration, "size": run.size, "ack": run.ack, "receipts_every": run.receipts, "rate_per_publisher": run.rate,
            "procs": run.procs, "interrupted": self.interrupted,
            "sent": sum(result["messages"] for _, result in self._reported("publisher")),
            "expected": expected, "received": sum(result["messages"] for _, result in self._reported("subscriber")),
            "lost": expected - got, "duplicates": sum(duplicates for _, duplicates in per_client.values()),
            "publish": self._aggregate("publisher", start_ns),
            "subscribe": {**self._aggregate("subscriber", start_ns), "latency_us": bench_stats.latency_summary(self.histogram())},
            "clients": clients,
        }

    def _aggregate(self, role: str, start_ns: int) -> dict[str, Any]:
        """All clients of a role together, over the wall time from the first publisher's start to the role's last message."""
        reported = self._reported(role)
        end_ns = max((result["end_ns"] for _, result in reported), default=start_ns)
        messages = sum(result["messages"] for _, result in reported)
        body_bytes = sum(result["bytes"] for _, result in reported)
        return bench_stats.throughput(messages, body_bytes, max(end_ns - start_ns, 0) / 1e9)


def _marks(seen: bytes) -> int:
    """A sequence map (one byte per number, 0 or 1) as an int whose set bits are the numbers seen; & and | then work on whole maps."""
    return int.from_bytes(seen, "little")
