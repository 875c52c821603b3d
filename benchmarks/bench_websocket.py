"""STOMP over WebSocket on RabbitMQ Web STOMP: stomper's ws:// beside its TCP and beside stomp.py's WSConnection.

    .venv/bin/python benchmarks/bench_websocket.py                  # 50,000 messages of 100 bytes, best of 3
    .venv/bin/python benchmarks/bench_websocket.py -n 20000 --size 1024

Each client publishes N messages to a fresh queue (a receipt on the last,
waited for), then consumes them all (ack auto), with the loops of
bench_connection.py: "stomper" publishes inside `conn.batch()`, whose 64 KiB
writes become one WebSocket message each; "stomper/send" sends one message
per frame. The rounds interleave the clients, so load spikes hit all; each
figure is the best round. URLs come from STOMPER_RABBITMQ_URL and
STOMPER_RABBITMQ_WS_URL (`scripts/brokers env`).
"""

from __future__ import annotations

import argparse
import os
import sys

from bench_connection import queue_name, stomper_consume, stomper_publish, stomper_publish_unbatched, stomppy_consume, stomppy_publish

TCP_URL = os.environ.get("STOMPER_RABBITMQ_URL", "stomp://guest:guest@127.0.0.1:61613")
WS_URL = os.environ.get("STOMPER_RABBITMQ_WS_URL", "ws://guest:guest@127.0.0.1:15674/ws")

#: name -> (URL, publish, consume)
CLIENTS = {
    "stomper tcp": (TCP_URL, stomper_publish, stomper_consume),
    "stomper ws": (WS_URL, stomper_publish, stomper_consume),
    "stomper/send ws": (WS_URL, stomper_publish_unbatched, stomper_consume),
    "stomp.py tcp": (TCP_URL, stomppy_publish, stomppy_consume),
    "stomp.py ws": (WS_URL, stomppy_publish, stomppy_consume),
}
RATIOS = [
    ("stomper ws / stomper tcp", "stomper ws", "stomper tcp"),
    ("stomper ws / stomp.py ws", "stomper ws", "stomp.py ws"),
    ("stomper/send ws / stomp.py ws", "stomper/send ws", "stomp.py ws"),
    ("stomp.py ws / stomp.py tcp", "stomp.py ws", "stomp.py tcp"),
]


def bench(count: int, size: int, repeat: int) -> dict[str, tuple[float, float]]:
    body = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (size // 36 + 1))[:size]
    best = {name: [0.0, 0.0] for name in CLIENTS}
    for _ in range(repeat):
        for name, (url, publish, consume) in CLIENTS.items():
            queue = queue_name(name.replace(" ", "-").replace(".", "").replace("/", "-"))
            best[name][0] = max(best[name][0], count / publish(url, queue, count, body))
            best[name][1] = max(best[name][1], count / consume(url, queue, count))
    return {name: (rates[0], rates[1]) for name, rates in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many interleaved rounds (default 3)")
    args = parser.parse_args(argv)
    print(f"RabbitMQ, {args.count:,} messages of {args.size} bytes, best of {args.repeat}; python {sys.version.split()[0]}")
    results = bench(args.count, args.size, args.repeat)
    for name, (publish_rate, consume_rate) in results.items():
        print(f"  {name:16} publish {publish_rate:>9,.0f} msg/s   consume {consume_rate:>9,.0f} msg/s")
    for label, left, right in RATIOS:
        print(f"  {label:30} publish {results[left][0] / results[right][0]:5.2f}x   consume {results[left][1] / results[right][1]:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
