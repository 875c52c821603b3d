"""Fuzz FrameParser: whatever the bytes, only FrameError may escape.

With atheris installed this is a coverage-guided libFuzzer harness:

    python fuzz/parser_fuzz.py -max_total_time=300

Without it (or with --iterations N) it runs a plain loop of random and
mutated byte streams, seeded for reproducibility:

    python fuzz/parser_fuzz.py --iterations 200000 --seed 1
"""

from __future__ import annotations

import random
import sys

from stomper import Frame, FrameError, FrameParser

VERSIONS = ("1.0", "1.1", "1.2")
SEEDS = (
    b"CONNECTED\nversion:1.2\nsession:ID:host-1234-5:1\nheart-beat:0,0\n\n\0\n",
    b"MESSAGE\r\nsubscription:0\r\nmessage-id:007\r\ncontent-length:5\r\n\r\na\0b\nc\0\r\n",
    b"MESSAGE\nk:a\\nb\\cc\\r\\\\\n\nplain body\0",
    b"ERROR\nmessage:bad\ncontent-type:text/plain\n\ndetails\0\n\n",
    b"RECEIPT\nreceipt-id:77\n\n\0",
)
INTERESTING = b"\0\n\r:\\cnr9 \xff\xc3"


def run_one(data: bytes) -> None:
    """Feed `data` in pieces to a parser configured from its first bytes."""
    if len(data) < 3:
        return
    version = VERSIONS[data[0] % 3]
    limits = {}
    if data[1] & 1:
        limits = {"max_frame_size": 1 + data[1] * 2, "max_headers": data[2] % 8, "max_header_line": 1 + data[2]}
    step = 1 + data[2] % 17
    parser = FrameParser(version, **limits)
    body = data[3:]
    frames = []
    try:
        for start in range(0, len(body), step):
            frames += parser.feed(body[start : start + step])
        parser.close()
    except FrameError as error:
        if not isinstance(error.offset, int):
            raise AssertionError(f"parse error without an offset: {error!r}") from error
    for frame in frames:
        reencode(frame, version)


def reencode(frame: Frame, version: str) -> None:
    """What parsed re-encodes to the same frame, or is refused with FrameError.

    Refusal is allowed: a raw CR inside a 1.1 header value is legal on the
    wire but cannot be written back in 1.1.
    """
    try:
        data = frame.encode(version)
    except FrameError:
        return
    again = FrameParser(version).feed(data)
    if again and "content-length" not in frame.headers:
        again[0].headers.pop("content-length", None)  # encode adds it to every body
    if again != [frame]:
        raise AssertionError(f"re-encoded {frame!r} parses as {again!r}")


def mutate(rng: random.Random) -> bytes:
    """A valid stream with a few bytes flipped, inserted, deleted or repeated."""
    data = bytearray(b"".join(rng.sample(SEEDS, rng.randint(1, len(SEEDS)))))
    for _ in range(rng.randint(1, 8)):
        where = rng.randint(0, len(data))
        kind = rng.randrange(4)
        if kind == 0 and where < len(data):
            data[where] = rng.choice(INTERESTING)
        elif kind == 1:
            data[where:where] = bytes([rng.choice(INTERESTING)])
        elif kind == 2:
            del data[where : where + rng.randint(1, 6)]
        else:
            data[where:where] = data[where : where + rng.randint(1, 40)]
    return bytes(rng.randrange(256) for _ in range(3)) + bytes(data)


def random_loop(iterations: int, seed: int) -> None:
    rng = random.Random(seed)
    for count in range(iterations):
        if count % 2:
            data = mutate(rng)
        else:
            data = bytes(rng.choice(INTERESTING) if rng.random() < 0.5 else rng.randrange(256) for _ in range(rng.randint(0, 300)))
        try:
            run_one(data)
        except Exception:
            print(f"iteration {count}: input {data!r}", file=sys.stderr)
            raise
    print(f"{iterations} inputs, only FrameError escaped")


def option(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main() -> None:
    try:
        import atheris
    except ImportError:
        atheris = None
    if atheris is None or "--iterations" in sys.argv:
        random_loop(option("--iterations", 100_000), option("--seed", 0))
        return
    atheris.instrument_all()  # coverage feedback for stomper, imported above
    atheris.Setup(sys.argv, run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
