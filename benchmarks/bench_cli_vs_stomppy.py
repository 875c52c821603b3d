"""`stomper bench` beside the same load driven by stomp.py 9.0: one publisher and one subscriber, concurrently.

    .venv/bin/python benchmarks/bench_cli_vs_stomppy.py                    # both brokers, 3 rounds
    .venv/bin/python benchmarks/bench_cli_vs_stomppy.py --broker activemq --msgs 20000 --rounds 5

Per round and broker: `stomper bench --pub 1 --sub 1 --json` as a whole
process, then a stomp.py pair (a subscriber process, subscribed and
confirmed by a receipt before a publisher process starts sending), each
message carrying the same four headers as stomper's (run, publisher,
sequence number, send time in monotonic ns), so the broker does the same
work and both sides measure latency the same way. The figures are medians of the rounds; the
ratio is stomper's received msg/s over stomp.py's. Both publishers ask
for a receipt on their last message and count their time up to it.
stomper's publisher
writes in 64 KiB batches, stomp.py's sends each frame as it comes: that is
part of what is compared. Brokers come from STOMPER_RABBITMQ_URL /
STOMPER_ACTIVEMQ_URL (`scripts/brokers env`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
import uuid

from bench_cli_bench import BROKERS

from stomper.connection import parse_url
from stomper_cli import bench_stats
from stomper_cli.bench_worker import PUBLISHER_HEADER, RUN_HEADER, SENT_AT_HEADER, SEQUENCE_HEADER

TIMEOUT = 300.0


def _stomppy(url: str, listener):
    import stomp

    endpoint = parse_url(url)
    conn = stomp.Connection12([(endpoint.host, endpoint.port)], heartbeats=(0, 0), vhost="/", auto_content_length=True)
    conn.set_listener("bench", listener)
    conn.connect(endpoint.login, endpoint.passcode, wait=True)
    return conn


def stomppy_subscriber(url: str, queue: str, count: int, ready, results) -> None:
    """Subscribe (confirmed by a receipt), say ready, count `count` messages and their latencies."""
    import stomp

    subscribed, done = threading.Event(), threading.Event()
    latencies: dict[int, int] = {}
    state = {"received": 0, "last_ns": 0}

    class Listener(stomp.ConnectionListener):
        def on_receipt(self, frame):
            subscribed.set()

        def on_message(self, frame):
            now = time.monotonic_ns()
            latency = (now - int(frame.headers[SENT_AT_HEADER])) // 1000
            latencies[latency] = latencies.get(latency, 0) + 1
            state["received"] += 1
            state["last_ns"] = now
            if state["received"] == count:
                done.set()

    conn = _stomppy(url, Listener())
    conn.subscribe(queue, id="bench", ack="auto", headers={"receipt": "subscribed"})
    subscribed.wait(TIMEOUT)
    ready.set()
    done.wait(TIMEOUT)
    conn.disconnect()
    results.put((state["received"], state["last_ns"], bench_stats.encode(bench_stats.histogram_from_counts(latencies))))


def stomppy_publisher(url: str, queue: str, count: int, size: int, results) -> None:
    """Send `count` messages as fast as stomp.py goes, the last with a receipt (waited for)."""
    import stomp

    confirmed = threading.Event()

    class Listener(stomp.ConnectionListener):
        def on_receipt(self, frame):
            confirmed.set()

    conn = _stomppy(url, Listener())
    body = b"x" * size
    start = time.monotonic_ns()
    run_id = uuid.uuid4().hex
    for number in range(count):
        headers = {RUN_HEADER: run_id, PUBLISHER_HEADER: "0", SEQUENCE_HEADER: str(number), SENT_AT_HEADER: str(time.monotonic_ns())}
        if number == count - 1:
            headers["receipt"] = "last"
        conn.send(queue, body, headers=headers)
    confirmed.wait(TIMEOUT)
    end = time.monotonic_ns()
    conn.disconnect()
    results.put((start, end))


def stomppy_pair(url: str, count: int, size: int) -> dict:
    """One stomp.py publisher and subscriber on a fresh queue: publish and receive msg/s, latency."""
    context = multiprocessing.get_context("spawn")
    queue = f"/queue/stomper.bench.stomppy.{uuid.uuid4().hex}"
    ready, sub_results, pub_results = context.Event(), context.Queue(), context.Queue()
    subscriber = context.Process(target=stomppy_subscriber, args=(url, queue, count, ready, sub_results))
    subscriber.start()
    if not ready.wait(TIMEOUT):
        raise SystemExit("stomp.py subscriber never became ready")
    publisher = context.Process(target=stomppy_publisher, args=(url, queue, count, size, pub_results))
    publisher.start()
    start, end = pub_results.get(timeout=TIMEOUT)
    received, last_ns, histogram = sub_results.get(timeout=TIMEOUT)
    publisher.join()
    subscriber.join()
    if received != count:
        raise SystemExit(f"stomp.py subscriber got {received} of {count}")
    latency = bench_stats.latency_summary(bench_stats.merge([histogram]))
    return {"publish": count / ((end - start) / 1e9), "receive": count / ((last_ns - start) / 1e9), "p50": latency["p50"], "p99": latency["p99"]}


def stomper_pair(url: str, count: int, size: int) -> dict:
    """`stomper bench --pub 1 --sub 1` as a whole process (the last message receipted), its figures in the same shape."""
    command = [sys.executable, "-m", "stomper_cli", "bench", "--url", url, "--pub", "1", "--sub", "1", "--msgs", str(count),
               "--size", str(size), "--receipts", str(count), "--procs", "2", "--json"]  # a receipt on the last, as stomp.py's
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    if result.returncode != 0:
        raise SystemExit(f"stomper bench: exit {result.returncode}: {result.stderr.strip()}")
    report = json.loads(result.stdout)
    latency = report["subscribe"]["latency_us"]
    return {"publish": report["publish"]["msg_per_s"], "receive": report["subscribe"]["msg_per_s"], "p50": latency["p50"], "p99": latency["p99"]}


def median_figures(rounds: list[dict]) -> dict:
    return {key: statistics.median(figures[key] for figures in rounds) for key in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=[*BROKERS, "both"], default="both")
    parser.add_argument("--msgs", type=int, default=10000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    brokers = list(BROKERS) if args.broker == "both" else [args.broker]
    clients = {"stomper bench": stomper_pair, "stomp.py 9.0": stomppy_pair}
    runs: dict[tuple[str, str], list[dict]] = {(broker, client): [] for broker in brokers for client in clients}
    for _ in range(args.rounds):
        for broker in brokers:
            for client, measure in clients.items():
                runs[broker, client].append(measure(BROKERS[broker], args.msgs, args.size))
    print(f"1 pub, 1 sub, {args.msgs:,} messages of {args.size} bytes, median of {args.rounds}; python {sys.version.split()[0]}")
    print(f"  {'broker':9} {'client':14} {'publish msg/s':>14} {'receive msg/s':>14} {'p50':>9} {'p99':>9}")
    for broker in brokers:
        medians = {client: median_figures(runs[broker, client]) for client in clients}
        for client, figures in medians.items():
            print(f"  {broker:9} {client:14} {figures['publish']:14,.0f} {figures['receive']:14,.0f} "
                  f"{figures['p50'] / 1000:7.1f}ms {figures['p99'] / 1000:7.1f}ms")
        ratio = medians["stomper bench"]["receive"] / medians["stomp.py 9.0"]["receive"]
        print(f"  {broker:9} stomper bench vs stomp.py, received msg/s: {ratio:.2f}x")


if __name__ == "__main__":
    main()
