"""`stomper send --lines` (the whole process, every message receipt-confirmed) beside a raw-socket floor and stomp.py.

    eval "$(scripts/brokers env)"
    .venv/bin/python benchmarks/bench_send.py                       # RabbitMQ, 100,000 lines of 100 bytes, 5 rounds
    .venv/bin/python benchmarks/bench_send.py --broker activemq -n 20000 --rounds 5

Each contender is a whole process reading the same file of N lines on stdin,
publishing each line as one message to a fresh queue, asking a receipt on
every --batch-th message (and the last) and waiting for the oldest receipt
when four batches are unconfirmed (the cadence of `stomper send`), and
ending only once the last receipt came:

- stomper: `stomper send DEST --lines`;
- floor: this script with --floor: a plain socket, every SEND frame encoded
  before the clock starts (it is timed twice: as a process, and inside,
  from the first write to the last receipt, which leaves out start-up,
  connecting and encoding: what the broker allows on this machine);
- stomp.py: this script with --stomppy: stomp.py 9.0's `send` per line,
  receipts in the same cadence.

Rounds are interleaved (stomper, floor, stomp.py, stomper, ...), the
figures are the median and best msg/s over the rounds, and the ratios are
stomper's against the others' (above 1 is faster than them). The CPU time
each client process used per message is shown too: where the broker is
what limits the rate (RabbitMQ confirms each receipt), it says what the
client costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque

from bench_startup import byte_compile

from stomper.connection import parse_url

BROKERS = {
    "rabbitmq": os.environ.get("STOMPER_RABBITMQ_URL", "stomp://guest:guest@127.0.0.1:61613"),
    "activemq": os.environ.get("STOMPER_ACTIVEMQ_URL", "stomp://admin:admin@127.0.0.1:61623"),
}
BATCH = 1000
WINDOW = 4
CHUNK = 64 * 1024
TIMEOUT = 300.0


# ----------------------------------------------------------------------
# The floor: a raw socket, frames encoded in advance


def _raw_connect(url: str) -> socket.socket:
    endpoint = parse_url(url)
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(f"CONNECT\naccept-version:1.2\nhost:/\nlogin:{endpoint.login}\npasscode:{endpoint.passcode}\n\n\0".encode())
    _raw_until(sock, bytearray(), b"\0")
    return sock


def _raw_until(sock: socket.socket, buffer: bytearray, marker: bytes) -> bytearray:
    """Read until `marker` is in `buffer`; return what follows it."""
    while marker not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("floor: connection closed")
        buffer += chunk
    return bytearray(buffer[buffer.index(marker) + len(marker):])


def floor(url: str, queue: str) -> None:
    """Publish stdin's lines with receipts every BATCH (WINDOW in flight), frames encoded first; print the inner time."""
    lines = sys.stdin.buffer.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    head = f"SEND\ndestination:{queue}\n".encode()
    chunks: list[tuple[bytes, bytes | None]] = []  # (frames of one batch, its receipt id)
    for start in range(0, len(lines), BATCH):
        batch = lines[start:start + BATCH]
        receipt = f"r{start}".encode()
        frames = [b"%scontent-length:%d\n\n%s\0" % (head, len(line), line) for line in batch[:-1]]
        last = batch[-1]
        frames.append(b"%sreceipt:%s\ncontent-length:%d\n\n%s\0" % (head, receipt, len(last), last))
        chunks.append((b"".join(frames), b"receipt-id:" + receipt))
    sock = _raw_connect(url)
    started = time.perf_counter()
    pending: deque[bytes] = deque()
    buffer = bytearray()
    for data, receipt in chunks:
        view = memoryview(data)
        for offset in range(0, len(view), CHUNK):
            sock.sendall(view[offset:offset + CHUNK])
        pending.append(receipt)
        while len(pending) > WINDOW:
            buffer = _raw_until(sock, buffer, pending.popleft())
    while pending:
        buffer = _raw_until(sock, buffer, pending.popleft())
    inner = time.perf_counter() - started
    sock.sendall(b"DISCONNECT\nreceipt:bye\n\n\0")
    _raw_until(sock, buffer, b"receipt-id:bye")
    sock.close()
    print(f"{inner:.6f}")


# ----------------------------------------------------------------------
# stomp.py


def stomppy(url: str, queue: str) -> None:
    import stomp

    endpoint = parse_url(url)
    conn = stomp.Connection12([(endpoint.host, endpoint.port)], heartbeats=(0, 0), vhost="/", auto_content_length=True)
    arrived: set[str] = set()
    changed = threading.Condition()

    class Listener(stomp.ConnectionListener):
        def on_receipt(self, frame):
            with changed:
                arrived.add(frame.headers.get("receipt-id"))
                changed.notify_all()

    def wait(receipt: str) -> None:
        with changed:
            if not changed.wait_for(lambda: receipt in arrived, TIMEOUT):
                raise RuntimeError(f"stomp.py: no receipt {receipt}")

    conn.set_listener("bench", Listener())
    conn.connect(endpoint.login, endpoint.passcode, wait=True)
    pending: deque[str] = deque()
    lines = [line[:-1] if line.endswith(b"\n") else line for line in sys.stdin.buffer]
    for number, line in enumerate(lines, 1):
        if number % BATCH == 0 or number == len(lines):
            receipt = f"r{number}"
            conn.send(queue, line, headers={"receipt": receipt})
            pending.append(receipt)
            while len(pending) > WINDOW:
                wait(pending.popleft())
        else:
            conn.send(queue, line)
    while pending:
        wait(pending.popleft())
    conn.disconnect()


# ----------------------------------------------------------------------
# The runs


def contenders(url: str) -> dict[str, list[str]]:
    me = [sys.executable, os.path.abspath(__file__)]
    return {
        "stomper": [sys.executable, "-m", "stomper_cli", "send", "--url", url, "QUEUE", "--lines", "--batch", str(BATCH)],
        "floor": [*me, "--floor", url, "QUEUE"],
        "stomp.py": [*me, "--stomppy", url, "QUEUE"],
    }


def run_once(command: list[str], input_path: str, count: int) -> tuple[float, float, str]:
    """(wall-clock seconds, CPU seconds of the process, what it printed) of one run on a fresh queue."""
    queue = f"/queue/bench-send-{uuid.uuid4().hex[:12]}"
    command = [queue if part == "QUEUE" else part for part in command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(input_path, "rb") as stdin:
        started = time.perf_counter()
        done = subprocess.run(command, stdin=stdin, capture_output=True, timeout=TIMEOUT)
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    purge(command, queue, count)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu, done.stdout.decode().strip()


def purge(command: list[str], queue: str, count: int) -> None:
    """Take every message of the round off its queue, so that the broker does not carry them into the next round.

    All of them, not "until idle": ActiveMQ keeps non-persistent messages in
    a memory shared by every queue (64 MiB in scripts/brokers), and a full
    one holds every producer of the broker back.
    """
    url = command[command.index("--url") + 1] if "--url" in command else command[command.index(queue) - 1]
    done = subprocess.run([sys.executable, "-m", "stomper_cli", "subscribe", "--url", url, queue, "-n", str(count), "--timeout", "60",
                           "--body-only"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"could not empty {queue}: {done.stderr.decode().strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=sorted(BROKERS), default="rabbitmq")
    parser.add_argument("-n", "--count", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=100, help="bytes per line")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--floor", nargs=2, metavar=("URL", "QUEUE"), help=argparse.SUPPRESS)
    parser.add_argument("--stomppy", nargs=2, metavar=("URL", "QUEUE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    byte_compile()  # each run of the command would otherwise compile stomper from source again
    if args.floor:
        return floor(*args.floor)
    if args.stomppy:
        return stomppy(*args.stomppy)

    url = BROKERS[args.broker]
    line = (b"x" * args.size)[: args.size] + b"\n"
    with tempfile.NamedTemporaryFile(prefix="bench-send-", suffix=".txt", delete=False) as file:
        file.write(line * args.count)
    rates: dict[str, list[float]] = {name: [] for name in (*contenders(url), "floor inside")}
    cpu: dict[str, list[float]] = {name: [] for name in contenders(url)}
    try:
        for number in range(1, args.rounds + 1):
            for name, command in contenders(url).items():
                elapsed, seconds, printed = run_once(command, file.name, args.count)
                rates[name].append(args.count / elapsed)
                cpu[name].append(seconds / args.count * 1e6)
                if name == "floor":
                    rates["floor inside"].append(args.count / float(printed))
            print(f"round {number}: " + ", ".join(f"{name} {values[-1]:,.0f}" for name, values in rates.items()) + " msg/s", flush=True)
    finally:
        os.unlink(file.name)
    print(f"\n{args.broker}: {args.count:,} lines of {args.size} bytes, receipts every {BATCH} ({WINDOW} batches in flight), "
          f"{args.rounds} interleaved rounds")
    print(f"{'':22}{'median msg/s':>14}{'best msg/s':>14}{'stomper/it':>12}{'per round':>11}{'client CPU µs/msg':>20}")
    stomper = rates["stomper"]
    for name, values in rates.items():
        label = {"stomper": "stomper send --lines", "floor": "floor (process)", "floor inside": "floor (inside)"}.get(name, name)
        median = statistics.median(values)
        paired = statistics.median(mine / theirs for mine, theirs in zip(stomper, values, strict=True))
        used = f"{statistics.median(cpu[name]):.1f}" if name in cpu else ""
        print(f"{label:22}{median:>14,.0f}{max(values):>14,.0f}{statistics.median(stomper) / median:>12.2f}{paired:>11.2f}{used:>20}")
    print("stomper/it: the ratio of the medians; per round: the median of the rounds' ratios (each pair ran back to back)")


if __name__ == "__main__":
    main()
