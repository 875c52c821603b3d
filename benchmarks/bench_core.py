"""Core throughput: stomper's parser and encoder beside its peers, in one run.

Decoding: a stream of 50,000 MESSAGE frames with RabbitMQ-like headers and
100-byte bodies, fed in 64 KiB chunks, through
  * stomper's FrameParser,
  * stomp.py 9.0's receive path (its transport's framing and parse_frame),
  * stomper 0.4.3's StompBuffer (run from its own virtual environment, since
    it shares our package name; created on first use under benchmarks/.venvs).
The same stream fed in reads of 256 bytes, about what a reader that keeps
up with RabbitMQ gets from each read (most frames then span two reads).
Then a stream of 1 MiB content-length bodies (GB/s).
Encoding: 50,000 SEND frames, stomper vs stomp.py's escaping + convert_frame.

The machine is shared and noisy, so every figure is the best of several
rounds and the verdict is given as ratios measured in the same run.

    .venv/bin/python benchmarks/bench_core.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from stomper import Frame, FrameParser  # noqa: E402

MESSAGES = 50_000
CHUNK = 64 * 1024
#: What a reader that keeps up with a broker gets from each read: a frame or less (seen on RabbitMQ).
SMALL_READ = 256
BIG_BODY = 1024 * 1024
BIG_FRAMES = 64
SEED_VENV = HERE / ".venvs" / "stomper-0.4.3"


def message_stream(count: int = MESSAGES) -> bytes:
    """MESSAGE frames as RabbitMQ sends them, each followed by an EOL (as ActiveMQ does)."""
    body = b"x" * 100
    frames = []
    for number in range(count):
        frames.append(
            b"MESSAGE\nsubscription:sub-0\ndestination:/queue/bench\nmessage-id:T_sub-0@@session-Ab3xQ@@1@@%d\n"
            b"redelivered:false\nack:T_sub-0@@session-Ab3xQ@@1@@%d\ncontent-type:text/plain\ncontent-length:100\n\n%s\x00\n"
            % (number, number, body)
        )
    return b"".join(frames)


def big_stream() -> bytes:
    body = bytes(range(256)) * (BIG_BODY // 256)
    frame = b"MESSAGE\ndestination:/queue/big\nmessage-id:1\nsubscription:0\ncontent-length:%d\n\n%s\x00\n" % (len(body), body)
    return frame * BIG_FRAMES


def chunks(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def best_times(rounds: int, runs: dict) -> dict:
    """Fastest wall time of each run over `rounds` rounds.

    The runs take turns within each round, so a burst of load elsewhere on
    the machine hurts all of them alike instead of one.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def stomper_decode(parts: list[bytes], expected: int) -> None:
    parser = FrameParser()
    count = 0
    for part in parts:
        count += len(parser.feed(part))
    assert count == expected, count


def stomppy_decode(parts: list[bytes], expected: int) -> None:
    import stomp.exception
    import stomp.transport

    class FeedTransport(stomp.transport.BaseTransport):
        def __init__(self) -> None:
            super().__init__(auto_decode=False)
            self.running = True
            self.source = iter(parts)
            self.count = 0

        def receive(self) -> bytes:
            return next(self.source, b"")

        def process_frame(self, frame, frame_str) -> None:
            if frame.cmd == "MESSAGE":
                self.count += 1

    transport = FeedTransport()
    try:
        while True:
            transport._BaseTransport__read_frames()
    except stomp.exception.ConnectionClosedException:
        pass
    assert transport.count == expected, transport.count


def stomper_encode(count: int) -> None:
    for number in range(count):
        Frame("SEND", {"destination": "/queue/bench", "content-type": "text/plain", "receipt": str(number)}, b"x" * 100).encode()


def stomppy_encode(count: int) -> None:
    from stomp import protocol, utils

    escape = protocol.Protocol12._escape_headers
    for number in range(count):
        headers = {"destination": "/queue/bench", "content-type": "text/plain", "receipt": str(number)}
        escape(None, headers)
        utils.pack(utils.convert_frame(utils.Frame("SEND", headers, b"x" * 100)))


SEED_SCRIPT = r"""
import json, sys, time
from stomper.stompbuffer import StompBuffer
path, expected, rounds, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = open(path, 'rb').read().decode('latin-1')
parts = [data[i:i + chunk] for i in range(0, len(data), chunk)]
best = float('inf')
for _ in range(rounds):
    start = time.perf_counter()
    buffer, count = StompBuffer(), 0
    for part in parts:
        buffer.appendData(part)
        while buffer.getOneMessage() is not None:
            count += 1
    best = min(best, time.perf_counter() - start)
    assert count == expected, count
print(json.dumps(best))
"""


def seed_python() -> Path:
    """stomper 0.4.3 in its own virtual environment (it needs `future`)."""
    python = SEED_VENV / "bin" / "python"
    if not python.exists():
        venv.create(SEED_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "stomper==0.4.3", "future"], check=True)
    return python


def seed_decode_seconds(data: bytes, expected: int, rounds: int) -> float:
    path = SEED_VENV.parent / "stream.bin"
    path.write_bytes(data)
    result = subprocess.run(
        [str(seed_python()), "-c", SEED_SCRIPT, str(path), str(expected), str(rounds), str(CHUNK)],
        check=True, capture_output=True, text=True, cwd="/",
    )
    return json.loads(result.stdout)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=5)
    rounds = options.parse_args().rounds

    small = chunks(message_stream())
    trickle = chunks(message_stream(), SMALL_READ)
    big = chunks(big_stream())
    seed_python()
    rows = best_times(
        rounds,
        {
            "decode stomper": lambda: stomper_decode(small, MESSAGES),
            "decode stomp.py 9.0": lambda: stomppy_decode(small, MESSAGES),
            f"decode stomper, {SMALL_READ} B reads": lambda: stomper_decode(trickle, MESSAGES),
            f"decode stomp.py, {SMALL_READ} B reads": lambda: stomppy_decode(trickle, MESSAGES),
            "1 MiB bodies stomper": lambda: stomper_decode(big, BIG_FRAMES),
            "1 MiB bodies stomp.py 9.0": lambda: stomppy_decode(big, BIG_FRAMES),
            "encode stomper": lambda: stomper_encode(MESSAGES),
            "encode stomp.py 9.0": lambda: stomppy_encode(MESSAGES),
        },
    )
    # stomper 0.4.3 runs in its own interpreter: give it the same rounds.
    rows["decode stomper 0.4.3"] = seed_decode_seconds(message_stream(), MESSAGES, rounds)
    print(f"{'measure':28} {'seconds':>9} {'rate':>16}")
    for name, seconds in rows.items():
        rate = f"{BIG_FRAMES * BIG_BODY / seconds / 1000000000.0:8.2f} GB/s" if name.startswith("1 MiB") else f"{MESSAGES / seconds:10,.0f} frames/s"
        print(f"{name:28} {seconds:9.4f} {rate:>16}  {seconds / (BIG_FRAMES if name.startswith('1 MiB') else MESSAGES) * 1e6:7.2f} us/frame")
    ratio = lambda a, b: rows[b] / rows[a]  # noqa: E731 - speed-up of a over b
    print()
    print(f"decode vs stomp.py 9.0      {ratio('decode stomper', 'decode stomp.py 9.0'):6.2f}x   (target >= 5)")
    print(f"decode vs stomper 0.4.3     {ratio('decode stomper', 'decode stomper 0.4.3'):6.2f}x   (target >= 1.5)")
    small_reads = ratio(f"decode stomper, {SMALL_READ} B reads", f"decode stomp.py, {SMALL_READ} B reads")
    print(f"{SMALL_READ} B reads vs stomp.py 9.0 {small_reads:6.2f}x")
    print(f"encode vs stomp.py 9.0      {ratio('encode stomper', 'encode stomp.py 9.0'):6.2f}x   (target >= 1.5)")
    print(f"1 MiB bodies vs stomp.py    {ratio('1 MiB bodies stomper', '1 MiB bodies stomp.py 9.0'):6.2f}x")
    print(f"1 MiB bodies                {BIG_FRAMES * BIG_BODY / rows['1 MiB bodies stomper'] / 1e9:6.2f} GB/s (target >= 1)")


if __name__ == "__main__":
    main()
