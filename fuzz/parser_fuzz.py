"""Fuzz FrameParser: whatever the bytes, only FrameError may escape, and the cut does not matter.

Each input is parsed three times: fed whole, fed in pieces, and fed byte by
byte. All three must give the same frames, the same count of heart-beats
and the same outcome: a clean end, or the same error (class, reason and
stream offset). What parses must
re-encode to the same frame.

With atheris installed this is a coverage-guided libFuzzer harness:

    python fuzz/parser_fuzz.py -max_total_time=300

Without it (or with --iterations N) it runs a plain loop of random and
mutated byte streams, seeded for reproducibility:

    python fuzz/parser_fuzz.py --iterations 200000 --seed 1

The test suite runs the same loop for a fixed number of iterations
(tests/core/test_differential.py).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable

from stomper import Frame, FrameError, FrameParser

VERSIONS = ("1.0", "1.1", "1.2")
SEEDS = (
    b"CONNECTED\nversion:1.2\nsession:ID:host-1234-5:1\nheart-beat:0,0\n\n\0\n",
    b"MESSAGE\r\nsubscription:0\r\nmessage-id:007\r\ncontent-length:5\r\n\r\na\0b\nc\0\r\n",
    b"MESSAGE\nk:a\\nb\\cc\\r\\\\\n\nplain body\0",
    b"ERROR\nmessage:bad\ncontent-type:text/plain\n\ndetails\0\n\n",
    b"RECEIPT\nreceipt-id:77\n\n\0",
    b"SEND\ndestination:/queue/a\nx:1\nx:2\nx:\\\\3\n\nrepeated\0\r\n\r\n",
    b"MESSAGE\r\nk:a\\cb\r\nk:c\r\nabcdefgh:12345678\r\n\r\n\0\n",
    b"\r\n\r\n\n",
)
INTERESTING = b"\0\n\r:\\cnr9 \xff\xc3"

Outcome = tuple[list[Frame], tuple[str, str, int] | None, int]


def parse(data: bytes, version: str, limits: dict, cuts: Iterable[int]) -> Outcome:
    """(frames, error, heart-beats) of `data` fed in pieces ending at `cuts`, then closed.

    The error is (class name, reason, offset), or None for a clean end;
    frames include those completed in the feed that failed.
    """
    parser = FrameParser(version, **limits)
    frames: list[Frame] = []
    start = 0
    try:
        for stop in [*cuts, len(data)]:
            frames += parser.feed(data[start:stop])
            start = stop
        parser.close()
    except FrameError as error:
        if not isinstance(error.offset, int) or not 0 <= error.offset <= len(data):
            raise AssertionError(f"parse error without an offset in the stream: {error!r}") from error
        frames += getattr(error, "frames", [])
        return frames, (type(error).__name__, error.reason, error.offset), parser.heartbeats
    return frames, None, parser.heartbeats


def check_same_whatever_the_cut(data: bytes, version: str, limits: dict, cuts: Iterable[int]) -> Outcome:
    """Parse `data` whole, cut at `cuts` and byte by byte; fail unless all three agree. Returns the outcome."""
    whole = parse(data, version, limits, [])
    for how, pieces in (("cut at " + str(sorted(set(cuts))), sorted(set(cuts))), ("byte by byte", range(1, len(data)))):
        fed = parse(data, version, limits, [cut for cut in pieces if 0 < cut < len(data)])
        if fed != whole:
            raise AssertionError(f"STOMP {version} {limits}: fed whole gives {whole!r}, fed {how} gives {fed!r}")
    return whole


def limits_from(flags: int, size: int) -> dict:
    """Small limits, each on or off by a bit of `flags`, so they are met often."""
    limits = {}
    if flags & 1:
        limits["max_frame_size"] = 1 + size * 2
    if flags & 2:
        limits["max_headers"] = size % 8
    if flags & 4:
        limits["max_header_line"] = 1 + size % 64
    return limits


def run_one(data: bytes) -> None:
    """Check `data` under a version, limits and a cut taken from its first bytes."""
    if len(data) < 3:
        return
    version = VERSIONS[data[0] % 3]
    limits = limits_from(data[1], data[2])
    step = 1 + (data[1] >> 3) % 17
    body = data[3:]
    frames = check_same_whatever_the_cut(body, version, limits, range(step, len(body), step))[0]
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
    """A valid stream with a few bytes flipped, inserted, deleted or repeated, or an LF made CRLF."""
    data = bytearray(b"".join(rng.sample(SEEDS, rng.randint(1, len(SEEDS)))))
    for _ in range(rng.randint(1, 8)):
        where = rng.randint(0, len(data))
        kind = rng.randrange(5)
        if kind == 0 and where < len(data):
            data[where] = rng.choice(INTERESTING)
        elif kind == 1:
            data[where:where] = bytes([rng.choice(INTERESTING)])
        elif kind == 2:
            del data[where : where + rng.randint(1, 6)]
        elif kind == 3:
            data[where:where] = data[where : where + rng.randint(1, 40)]
        else:
            newline = data.find(b"\n", where)
            if newline > 0 and data[newline - 1] != 13:
                data[newline:newline] = b"\r"
    return bytes(rng.randrange(256) for _ in range(3)) + bytes(data)


def random_input(rng: random.Random, count: int) -> bytes:
    """Input number `count`: mutated streams and random bytes, taking turns."""
    if count % 2:
        return mutate(rng)
    return bytes(rng.choice(INTERESTING) if rng.random() < 0.5 else rng.randrange(256) for _ in range(rng.randint(0, 300)))


def random_loop(iterations: int, seed: int) -> None:
    rng = random.Random(seed)
    for count in range(iterations):
        data = random_input(rng, count)
        try:
            run_one(data)
        except Exception:
            print(f"iteration {count}: input {data!r}", file=sys.stderr)
            raise


def option(name: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main() -> None:
    try:
        import atheris
    except ImportError:
        atheris = None
    if atheris is None or "--iterations" in sys.argv:
        iterations = option("--iterations", 100_000)
        random_loop(iterations, option("--seed", 0))
        print(f"{iterations} inputs: only FrameError escaped, and the same result whatever the cut")
        return
    atheris.instrument_all()  # coverage feedback for stomper, imported above
    atheris.Setup(sys.argv, run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
