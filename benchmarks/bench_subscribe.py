"""`stomper subscribe` as a whole process against a raw-socket floor and stomp.py 9.0's library consumer.

    .venv/bin/python benchmarks/bench_subscribe.py                       # both brokers, 5 rounds
    .venv/bin/python benchmarks/bench_subscribe.py --broker rabbitmq -n 20000 --rounds 3

For each broker, each round fills one fresh queue per consumer with N
messages of SIZE bytes (published by the library in batches, not timed),
then times each consumer draining its queue, in a different order each
round so that machine load hits all alike:

- `stomper subscribe -n N --body-only` and `--json`: the whole process,
  start-up included, output to /dev/null; at-least-once (cumulative client
  acknowledgements of what was written and flushed);
- the raw-socket floor: one socket, SUBSCRIBE in auto mode, counting NUL
  bytes (nothing parsed: what the broker allows on this machine);
- the same raw socket in client mode with the prefetch and cumulative ACKs
  of `subscribe -n` (what the broker allows an at-least-once consumer);
- stomp.py 9.0's library consumer in auto mode (messages may be lost if it
  dies), in-process, from SUBSCRIBE to the last message.

Reported: best and median msg/s of the rounds, and each consumer's ratio to
the floor and to stomp.py (of the best and of the medians). Targets for the
command: at least 0.8x the floor. Brokers come from STOMPER_RABBITMQ_URL /
STOMPER_ACTIVEMQ_URL (`scripts/brokers env`).
"""

from __future__ import annotations

import argparse
import random
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_connection import BROKERS, _raw_connect, queue_name, raw_consume, stomper_publish, stomppy_consume
from bench_startup import byte_compile

TARGET = 0.8
#: How long the raw at-least-once reader waits for more before acknowledging what it read.
IDLE = 0.002
TIMEOUT = 300.0


def stomper_command() -> list[str]:
    script = Path(sys.executable).with_name("stomper")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stomper_cli"]


def cli_consumer(*options: str):
    def consume(url: str, queue: str, count: int) -> float:
        argv = [*stomper_command(), "subscribe", "--url", url, queue, "-n", str(count), "--timeout", "60", *options]
        start = time.perf_counter()
        result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[-4:])}: exit {result.returncode}: {result.stderr.decode().strip()}")
        return elapsed

    return consume


def raw_consume_acked(url: str, queue: str, count: int, every: int = 500, prefetch: int = 2000) -> float:
    """The floor of an at-least-once consumer: client acks as `subscribe -n` sends them, and nothing else parsed.

    One socket, SUBSCRIBE in client mode with a prefetch of `prefetch`, and
    one cumulative ACK of the last whole message read once `every` more have
    arrived or nothing more came for IDLE seconds: the acknowledgements of a
    consumer that takes a little time over each read, as `subscribe` does
    (with no time taken it would acknowledge nearly every read, and ACKs
    would be what the broker spends its time on). Its id is found by a
    search from the end of what was read.
    """
    sock = _raw_connect(url)
    try:
        start = time.perf_counter()
        prefetch_headers = f"prefetch-count:{prefetch}\nactivemq.prefetchSize:{prefetch}\n"
        sock.sendall(f"SUBSCRIBE\nid:0\ndestination:{queue}\nack:client\n{prefetch_headers}\n\0".encode())
        seen = acked = 0
        rest = b""  # what follows the last NUL read: the start of the next message
        while seen < count:
            chunk = sock.recv(262144)
            if not chunk:
                raise RuntimeError("raw: connection closed")
            seen += chunk.count(0)
            data = rest + chunk
            last = data.rfind(b"\0")
            if seen > acked and (seen - acked >= every or seen >= count or not select.select([sock], [], [], IDLE)[0]):
                at = data.rfind(b"\nack:", 0, last)
                sock.sendall(b"ACK\nid:" + data[at + 5 : data.index(b"\n", at + 1)] + b"\n\n\0")
                acked = seen
            rest = data[last + 1 :]
        return time.perf_counter() - start
    finally:
        sock.sendall(b"DISCONNECT\n\n\0")
        sock.close()


CONSUMERS = {
    "raw floor": raw_consume,
    "raw, client acks": raw_consume_acked,
    "stomp.py 9.0 (auto)": stomppy_consume,
    "subscribe --body-only": cli_consumer("--body-only"),
    "subscribe --json": cli_consumer("--json"),
}


def bench(url: str, count: int, size: int, rounds: int, seed: int) -> dict[str, list[float]]:
    body = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (size // 36 + 1))[:size]
    order = list(CONSUMERS)
    shuffle = random.Random(seed).shuffle
    rates: dict[str, list[float]] = {name: [] for name in CONSUMERS}
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            queue = queue_name("sub")
            stomper_publish(url, queue, count, body)
            rates[name].append(count / CONSUMERS[name](url, queue, count))
    return rates


def report(broker: str, rates: dict[str, list[float]]) -> bool:
    best = {name: max(values) for name, values in rates.items()}
    median = {name: statistics.median(values) for name, values in rates.items()}
    floor, stomppy = "raw floor", "stomp.py 9.0 (auto)"
    ok = True
    print(f"  {broker:9} {'consumer':24} {'best':>9} {'median':>9}   vs floor (best/median)   vs stomp.py (best/median)")
    for name in rates:
        verdict = ""
        if name.startswith("subscribe"):
            passed = best[name] / best[floor] >= TARGET
            ok = ok and passed
            verdict = "  ok" if passed else f"  BELOW {TARGET}x"
        print(
            f"  {broker:9} {name:24} {best[name]:>9,.0f} {median[name]:>9,.0f}"
            f"   {best[name] / best[floor]:5.2f}x / {median[name] / median[floor]:5.2f}x"
            f"        {best[name] / best[stomppy]:5.2f}x / {median[name] / median[stomppy]:5.2f}x{verdict}",
            flush=True,
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=["rabbitmq", "activemq", "both"], default="both")
    parser.add_argument("-n", "--count", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1, help="seed of the round order (default 1)")
    args = parser.parse_args(argv)
    byte_compile()  # each run of the command would otherwise compile stomper from source again
    brokers = ["rabbitmq", "activemq"] if args.broker == "both" else [args.broker]
    print(f"{args.count:,} messages of {args.size} bytes, {args.rounds} interleaved rounds; python {sys.version.split()[0]}")
    ok = True
    for broker in brokers:
        ok = report(broker, bench(BROKERS[broker], args.count, args.size, args.rounds, args.seed)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
