"""Publish and consume throughput of stomper.connection against stomp.py 9.0 and a raw-socket floor.

    .venv/bin/python benchmarks/bench_connection.py                 # RabbitMQ and ActiveMQ
    .venv/bin/python benchmarks/bench_connection.py --broker rabbitmq -n 50000

For each broker and each client, in one run: publish N messages of SIZE
bytes to a fresh queue (a receipt on the last one, waited for), then consume
them all from that queue (ack auto). "stomper" publishes inside
`conn.batch()` (writes coalesced to 64 KiB); "stomper/send" is the same loop
of `conn.send` without it. The raw floor pre-packs every SEND frame
and writes them in one sendall, and consumes by counting NUL bytes: it is
what the broker allows on this machine. Two more rows only consume (their
queue is filled the raw floor's way): "stomper ack each" subscribes in
client-individual mode and ACKs every message, "stomper ack /100" subscribes
in client mode and sends one cumulative ACK per 100 messages.

Beside each consume rate is the client's own CPU time per message (the
median over the rounds, connecting included): the broker's share of the two
cores moves the rates from run to run, the client's cost moves far less.

The rounds interleave the clients, so a load spike hits all of them, and
each round starts with the next client, so that none always runs first. Each
figure is the best of --repeat rounds; each ratio to the floor is given as
best against best and as the median of the ratios within one round (the
spread of those per-round ratios is the run's noise). Brokers come from
STOMPER_RABBITMQ_URL / STOMPER_ACTIVEMQ_URL (`scripts/brokers env`),
defaulting to the ports scripts/brokers uses.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import threading
import time
import uuid

from stomper.connection import Connection, parse_url

BROKERS = {
    "rabbitmq": os.environ.get("STOMPER_RABBITMQ_URL", "stomp://guest:guest@127.0.0.1:61613"),
    "activemq": os.environ.get("STOMPER_ACTIVEMQ_URL", "stomp://admin:admin@127.0.0.1:61623"),
}
TIMEOUT = 120.0


def queue_name(client: str) -> str:
    return f"/queue/bench-{client}-{uuid.uuid4().hex[:12]}"


# ----------------------------------------------------------------------
# stomper


def stomper_publish(url: str, queue: str, count: int, body: bytes, batch: bool = True) -> float:
    with Connection(url, heart_beat=(0, 0)) as conn:
        send = conn.send
        start = time.perf_counter()
        with conn.batch() if batch else contextlib.nullcontext():
            for _ in range(count - 1):
                send(queue, body)
            send(queue, body, receipt=True, timeout=TIMEOUT)
        return time.perf_counter() - start


def stomper_publish_unbatched(url: str, queue: str, count: int, body: bytes) -> float:
    return stomper_publish(url, queue, count, body, batch=False)


def stomper_consume(url: str, queue: str, count: int) -> float:
    with Connection(url, heart_beat=(0, 0)) as conn:
        start = time.perf_counter()
        conn.subscribe(queue, ack="auto")
        receive = conn.receive
        for _ in range(count):
            if receive(timeout=TIMEOUT) is None:
                raise RuntimeError("stomper: timed out consuming")
        return time.perf_counter() - start


def stomper_consume_acked(url: str, queue: str, count: int, every: int) -> float:
    """Consume with client acknowledgement: one ACK per message (every=1) or one cumulative ACK per `every`."""
    with Connection(url, heart_beat=(0, 0)) as conn:
        start = time.perf_counter()
        conn.subscribe(queue, ack="client-individual" if every == 1 else "client")
        receive, ack = conn.receive, conn.ack
        for index in range(1, count + 1):
            message = receive(timeout=TIMEOUT)
            if message is None:
                raise RuntimeError("stomper: timed out consuming")
            if index % every == 0 or index == count:
                ack(message)
        return time.perf_counter() - start


def stomper_consume_ack_each(url: str, queue: str, count: int) -> float:
    return stomper_consume_acked(url, queue, count, 1)


def stomper_consume_ack_100(url: str, queue: str, count: int) -> float:
    return stomper_consume_acked(url, queue, count, 100)


# ----------------------------------------------------------------------
# stomp.py 9.0


def _stomppy_connection(url: str):
    import stomp

    endpoint = parse_url(url)
    options = {"heartbeats": (0, 0), "vhost": "/", "auto_content_length": True}
    if endpoint.transport == "ws":  # stomp.py's WebSocket transport, binary frames like stomper's
        return stomp.WSConnection([(endpoint.host, endpoint.port)], ws_path=endpoint.path, binary_mode=True, **options), endpoint
    return stomp.Connection12([(endpoint.host, endpoint.port)], **options), endpoint


def stomppy_publish(url: str, queue: str, count: int, body: bytes) -> float:
    import stomp

    conn, endpoint = _stomppy_connection(url)
    done = threading.Event()

    class Listener(stomp.ConnectionListener):
        def on_receipt(self, frame):
            if frame.headers.get("receipt-id") == "last":
                done.set()

    conn.set_listener("bench", Listener())
    conn.connect(endpoint.login, endpoint.passcode, wait=True)
    try:
        start = time.perf_counter()
        for _ in range(count - 1):
            conn.send(queue, body)
        conn.send(queue, body, headers={"receipt": "last"})
        if not done.wait(TIMEOUT):
            raise RuntimeError("stomp.py: no receipt")
        return time.perf_counter() - start
    finally:
        conn.disconnect()


def stomppy_consume(url: str, queue: str, count: int) -> float:
    import stomp

    conn, endpoint = _stomppy_connection(url)
    done = threading.Event()
    seen = [0]

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame):
            seen[0] += 1
            if seen[0] == count:
                done.set()

    conn.set_listener("bench", Listener())
    conn.connect(endpoint.login, endpoint.passcode, wait=True)
    try:
        start = time.perf_counter()
        conn.subscribe(queue, id="bench", ack="auto")
        if not done.wait(TIMEOUT):
            raise RuntimeError(f"stomp.py: only {seen[0]} of {count} messages")
        return time.perf_counter() - start
    finally:
        conn.disconnect()


# ----------------------------------------------------------------------
# raw-socket floor


def _raw_connect(url: str) -> socket.socket:
    endpoint = parse_url(url)
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(f"CONNECT\naccept-version:1.2\nhost:/\nlogin:{endpoint.login}\npasscode:{endpoint.passcode}\n\n\0".encode())
    data = b""
    while b"\0" not in data:
        data += sock.recv(4096)
    if not data.startswith(b"CONNECTED"):
        raise RuntimeError(f"raw: {data!r}")
    return sock


def _raw_until(sock: socket.socket, marker: bytes) -> None:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("raw: connection closed")
        data = data[-len(marker):] + chunk


def raw_publish(url: str, queue: str, count: int, body: bytes) -> float:
    sock = _raw_connect(url)
    frame = f"SEND\ndestination:{queue}\ncontent-length:{len(body)}\n\n".encode() + body + b"\0"
    last = f"SEND\ndestination:{queue}\nreceipt:last\ncontent-length:{len(body)}\n\n".encode() + body + b"\0"
    packed = frame * (count - 1) + last
    try:
        start = time.perf_counter()
        sock.sendall(packed)
        _raw_until(sock, b"receipt-id:last")
        return time.perf_counter() - start
    finally:
        sock.sendall(b"DISCONNECT\n\n\0")
        sock.close()


def raw_consume(url: str, queue: str, count: int) -> float:
    sock = _raw_connect(url)
    try:
        start = time.perf_counter()
        sock.sendall(f"SUBSCRIBE\nid:0\ndestination:{queue}\nack:auto\n\n\0".encode())
        seen = 0
        recv = sock.recv
        while seen < count:
            chunk = recv(262144)
            if not chunk:
                raise RuntimeError("raw: connection closed")
            seen += chunk.count(0)
        return time.perf_counter() - start
    finally:
        sock.sendall(b"DISCONNECT\n\n\0")
        sock.close()


#: name -> (publish, consume); a client without its own publish is fed by the raw floor's and shows no publish figure.
CLIENTS = {
    "raw floor": (raw_publish, raw_consume),
    "stomper": (stomper_publish, stomper_consume),
    "stomper/send": (stomper_publish_unbatched, stomper_consume),
    "stomper ack each": (None, stomper_consume_ack_each),
    "stomper ack /100": (None, stomper_consume_ack_100),
    "stomp.py 9.0": (stomppy_publish, stomppy_consume),
}


class Rates:
    """One client's msg/s per round, publish and consume, and its CPU time per consumed message."""

    def __init__(self) -> None:
        self.publish: list[float] = []
        self.consume: list[float] = []
        self.consume_cpu: list[float] = []  # seconds of this process's CPU per message consumed


def bench(broker: str, url: str, count: int, size: int, repeat: int, names: list[str]) -> dict[str, Rates]:
    """Each client's rates per round; the rounds interleave the clients, so load spikes hit all."""
    body = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (size // 36 + 1))[:size]
    rates = {name: Rates() for name in names}
    for round_number in range(repeat):
        start = round_number % len(names)  # each round starts with another client, so no one always runs first
        for name in names[start:] + names[:start]:
            publish, consume = CLIENTS[name]
            queue = queue_name(name.split()[0].replace(".", "").replace("/", "-"))
            if publish is None:
                raw_publish(url, queue, count, body)
            else:
                rates[name].publish.append(count / publish(url, queue, count, body))
            cpu = time.process_time()
            rates[name].consume.append(count / consume(url, queue, count))
            rates[name].consume_cpu.append((time.process_time() - cpu) / count)
    for name, rate in rates.items():
        published = f"{max(rate.publish):>9,.0f}" if rate.publish else f"{'-':>9}"
        cpu = statistics.median(rate.consume_cpu) * 1e6
        print(
            f"  {broker:9} {name:17} publish {published} msg/s   consume {max(rate.consume):>9,.0f} msg/s"
            f"   client CPU {cpu:5.1f} us/msg",
            flush=True,
        )
    return rates


def ratio(rates: dict[str, Rates], name: str, against: str, kind: str) -> tuple[float, float, float, float]:
    """(best vs best, median, lowest and highest of the per-round ratios) of `name` to `against`."""
    mine, theirs = getattr(rates[name], kind), getattr(rates[against], kind)
    per_round = [a / b for a, b in zip(mine, theirs, strict=True)]
    return max(mine) / max(theirs), statistics.median(per_round), min(per_round), max(per_round)


#: The library consumer's target against the floor, per broker.
CONSUME_TARGETS = {"rabbitmq": 0.9, "activemq": 0.8}

#: (label, client, against, publish or consume, target or None)
CHECKS = [
    ("consume vs floor", "stomper", "raw floor", "consume", CONSUME_TARGETS),
    ("consume vs stomp.py", "stomper", "stomp.py 9.0", "consume", None),
    ("ack each vs floor", "stomper ack each", "raw floor", "consume", None),
    ("ack /100 vs floor", "stomper ack /100", "raw floor", "consume", None),
    ("publish vs floor", "stomper", "raw floor", "publish", 0.85),
    ("publish vs stomp.py", "stomper", "stomp.py 9.0", "publish", None),
    ("send() loop vs floor", "stomper/send", "raw floor", "publish", None),
]


def report(broker: str, rates: dict[str, Rates]) -> bool:
    """Print each ratio (best against best; median and range of the per-round ratios); False if a target is missed."""
    ok = True
    for label, name, against, kind, target in CHECKS:
        if name not in rates or against not in rates:
            continue
        best, median, low, high = ratio(rates, name, against, kind)
        if isinstance(target, dict):
            target = target[broker]
        verdict = "" if target is None else ("  ok" if median >= target else f"  BELOW target {target}x")
        ok = ok and (target is None or median >= target)
        print(f"  {broker:9} {label:21} best {best:5.2f}x   median {median:5.2f}x  (rounds {low:.2f}-{high:.2f}){verdict}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=["rabbitmq", "activemq", "both"], default="both")
    parser.add_argument("-n", "--count", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--clients", nargs="+", choices=list(CLIENTS), default=list(CLIENTS), metavar="NAME",
                        help=f"which clients to run (default all: {', '.join(CLIENTS)})")
    args = parser.parse_args(argv)
    brokers = ["rabbitmq", "activemq"] if args.broker == "both" else [args.broker]
    names = ["raw floor", *(name for name in CLIENTS if name in args.clients and name != "raw floor")]
    print(f"{args.count:,} messages of {args.size} bytes, {args.repeat} interleaved rounds; python {sys.version.split()[0]}")
    print("  figures: best round; targets are checked on the median of the per-round ratios")
    ok = True
    for broker in brokers:
        ok = report(broker, bench(broker, BROKERS[broker], args.count, args.size, args.repeat, names)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
