"""Publish and consume throughput of stomper.connection against stomp.py 9.0 and a raw-socket floor.

    .venv/bin/python benchmarks/bench_connection.py                 # RabbitMQ and ActiveMQ
    .venv/bin/python benchmarks/bench_connection.py --broker rabbitmq -n 50000

For each broker and each client, in one run: publish N messages of SIZE
bytes to a fresh queue (a receipt on the last one, waited for), then consume
them all from that queue (ack auto). "stomper" publishes inside
`conn.batch()` (writes coalesced to 64 KiB); "stomper/send" is the same loop
of `conn.send` without it. The raw floor pre-packs every SEND frame
and writes them in one sendall, and consumes by counting NUL bytes: it is
what the broker allows on this machine. Each figure is the best of --repeat
interleaved rounds. Brokers come from STOMPER_RABBITMQ_URL / STOMPER_ACTIVEMQ_URL
(`scripts/brokers env`), defaulting to the ports scripts/brokers uses.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
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


CLIENTS = {
    "raw floor": (raw_publish, raw_consume),
    "stomper": (stomper_publish, stomper_consume),
    "stomper/send": (stomper_publish_unbatched, stomper_consume),
    "stomp.py 9.0": (stomppy_publish, stomppy_consume),
}


def bench(broker: str, url: str, count: int, size: int, repeat: int) -> dict[str, tuple[float, float]]:
    """Best publish and consume rates per client; the rounds interleave the clients, so load spikes hit all."""
    body = (b"0123456789abcdefghijklmnopqrstuvwxyz" * (size // 36 + 1))[:size]
    best = {name: [0.0, 0.0] for name in CLIENTS}
    for _ in range(repeat):
        for name, (publish, consume) in CLIENTS.items():
            queue = queue_name(name.split()[0].replace(".", "").replace("/", "-"))
            best[name][0] = max(best[name][0], count / publish(url, queue, count, body))
            best[name][1] = max(best[name][1], count / consume(url, queue, count))
    for name, (publish_rate, consume_rate) in best.items():
        print(f"  {broker:9} {name:13} publish {publish_rate:>9,.0f} msg/s   consume {consume_rate:>9,.0f} msg/s", flush=True)
    return {name: (rates[0], rates[1]) for name, rates in best.items()}


def report(broker: str, results: dict[str, tuple[float, float]]) -> bool:
    raw_pub, raw_con = results["raw floor"]
    st_pub, st_con = results["stomper"]
    py_pub, py_con = results["stomp.py 9.0"]
    checks = [
        ("consume vs stomp.py", st_con / py_con, 1.5),
        ("consume vs floor", st_con / raw_con, 0.85),
        ("publish vs floor", st_pub / raw_pub, 0.85),
        ("publish vs stomp.py", st_pub / py_pub, None),
        ("send() loop vs floor", results["stomper/send"][0] / raw_pub, None),
    ]
    ok = True
    for label, ratio, target in checks:
        verdict = "" if target is None else ("  ok" if ratio >= target else f"  BELOW target {target}x")
        ok = ok and (target is None or ratio >= target)
        print(f"  {broker:9} stomper {label:20} {ratio:5.2f}x{verdict}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=["rabbitmq", "activemq", "both"], default="both")
    parser.add_argument("-n", "--count", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args(argv)
    brokers = ["rabbitmq", "activemq"] if args.broker == "both" else [args.broker]
    print(f"{args.count:,} messages of {args.size} bytes, best of {args.repeat}; python {sys.version.split()[0]}")
    ok = True
    for broker in brokers:
        ok = report(broker, bench(broker, BROKERS[broker], args.count, args.size, args.repeat)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
