"""Linear time, measured by counting buffer work rather than by a clock.

The parser's buffer is swapped for a bytearray that counts the bytes each
search examines and each slice or deletion copies, and the immutable copies
it makes with `bytes(...)` (the snapshot its fast path works on, frame
bodies) are made counting bytes that tally the same way. Re-scanning or
re-copying the buffer for every frame would make that count grow with
frames x buffer; linear work doubles when the input doubles.
"""

from __future__ import annotations

import pytest

from stomper import FrameParser
from stomper import parser as parser_module

from .support import parse_all


class Tally:
    """Bytes examined or copied, summed over every counting buffer of one test."""

    def __init__(self) -> None:
        self.work = 0


def _span(size: int, start: int | None, end: int | None) -> tuple[int, int]:
    start = 0 if start is None else max(0, start + size if start < 0 else start)
    end = size if end is None else min(size, end + size if end < 0 else end)
    return start, max(start, end)


class CountingMixin:
    """Tallies the bytes that searches examine and slices copy."""

    tally: Tally

    def find(self, sub, start=None, end=None):  # type: ignore[no-untyped-def]
        found = super().find(sub, start, end)  # type: ignore[misc]
        first, last = _span(len(self), start, end)  # type: ignore[arg-type]
        self.tally.work += (found + 1 if found >= 0 else last) - first
        return found

    def index(self, sub, start=None, end=None):  # type: ignore[no-untyped-def]
        found = super().index(sub, start, end)  # type: ignore[misc]
        self.tally.work += found + 1 - _span(len(self), start, end)[0]  # type: ignore[arg-type]
        return found

    def rfind(self, sub, start=None, end=None):  # type: ignore[no-untyped-def]
        found = super().rfind(sub, start, end)  # type: ignore[misc]
        first, last = _span(len(self), start, end)  # type: ignore[arg-type]
        self.tally.work += last - (found if found >= 0 else first)
        return found

    def count(self, sub, start=None, end=None):  # type: ignore[no-untyped-def]
        first, last = _span(len(self), start, end)  # type: ignore[arg-type]
        self.tally.work += last - first
        return super().count(sub, start, end)  # type: ignore[misc]

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        result = super().__getitem__(key)  # type: ignore[misc]
        self.tally.work += len(result) if isinstance(key, slice) else 1
        return result


class CountingBuffer(CountingMixin, bytearray):
    """The parser's buffer, counting its work."""

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    def __delitem__(self, key) -> None:  # type: ignore[no-untyped-def]
        super().__delitem__(key)
        self.tally.work += len(self)  # what is left may have to move

    def __iadd__(self, data):  # type: ignore[no-untyped-def]
        self.tally.work += len(data)
        return super().__iadd__(data)


class CountingBytes(CountingMixin, bytes):
    """An immutable copy made by the parser: its making and its searches are counted."""


@pytest.fixture
def tally(monkeypatch: pytest.MonkeyPatch) -> Tally:
    """A work tally; the parser module's `bytes(...)` copies count into it."""
    shared = Tally()

    def counting_bytes(source: object = b"") -> CountingBytes:
        copy = CountingBytes(source)  # type: ignore[arg-type]
        copy.tally = shared
        shared.work += len(copy)
        return copy

    monkeypatch.setattr(parser_module, "bytes", counting_bytes, raising=False)
    return shared


def counting_parser(tally: Tally, **limits: int) -> FrameParser:
    parser = FrameParser(**limits)
    parser._buffer = CountingBuffer(tally)  # the one buffer the parser keeps
    return parser


def message(index: int) -> bytes:
    body = b"%05d" % index + b"x" * 90
    headers = b"destination:/queue/a\nmessage-id:m-%d\nsubscription:0\nack:%d\n" % (index, index)
    if index % 3 == 0:  # some take the careful path: content-length, CRLF, escapes
        return b"MESSAGE\r\n" + headers.replace(b"\n", b"\r\n") + b"k:a\\cb\r\ncontent-length:95\r\n\r\n" + body + b"\0\n"
    return b"MESSAGE\n" + headers + b"\n" + body + b"\0"


def test_one_big_chunk_costs_per_frame_not_per_frame_times_buffer(tally: Tally) -> None:
    frames = [message(index) for index in range(500)]
    stream = b"".join(frames)
    assert 60 * 1024 <= len(stream) <= 128 * 1024
    parser = counting_parser(tally)
    got = parser.feed(stream)
    assert len(got) == 500 and [frame.body[:5] for frame in got] == [b"%05d" % i for i in range(500)]
    assert len(stream) <= tally.work, "the instrumented buffer saw no work: the test would be vacuous"
    assert tally.work <= 8 * len(stream)  # re-scanning would be ~500 x 64 KiB / 2
    assert got == parse_all(stream)

    tally.work = 0
    one_by_one = counting_parser(tally)
    singly = [frame for data in frames for frame in one_by_one.feed(data)]
    assert singly == got
    assert tally.work <= 8 * len(stream)


def test_byte_at_a_time_is_linear_too(tally: Tally) -> None:
    stream = b"SEND\nkey:" + b"v" * 20_000 + b"\n\n" + b"b" * 20_000 + b"\0" + b"SEND\ncontent-length:20000\n\n" + b"\0" * 20_001
    parser = counting_parser(tally)
    frames = []
    for index in range(len(stream)):
        frames += parser.feed(stream[index : index + 1])
    assert [len(frame.body) for frame in frames] == [20_000, 20_000]
    assert len(stream) <= tally.work <= 40 * len(stream)  # quadratic would be ~ len(stream)**2 / 4


# Items that each take the careful path, after which the parser tries its fast path again.
CAREFUL_ITEMS = {
    "CRLF heart-beats": (b"\r\n", 0),
    "CRLF frames": (b"SEND\r\ndestination:/queue/a\r\nreceipt:77\r\n\r\nhello\0", 1),
    "repeated headers": (b"SEND\ndestination:/queue/a\nx:1\nx:2\n\nhello\0", 1),
    "escaped headers": (b"SEND\ndestination:/queue/a\nx:back\\\\slash\n\nhello\0", 1),
    "CRLF frames between CRLF heart-beats": (b"MESSAGE\r\ndestination:/queue/a\r\n\r\nhello\0\r\n\r\n", 1),
}


def work_to_parse(tally: Tally, stream: bytes, chunk: int) -> tuple[int, int]:
    """(work counted, frames parsed) for `stream` fed in pieces of `chunk` bytes."""
    tally.work = 0
    parser = counting_parser(tally)
    frames = 0
    for start in range(0, len(stream), chunk):
        frames += len(parser.feed(stream[start : start + chunk]))
    parser.close()
    return tally.work, frames


@pytest.mark.parametrize("chunk", [1 << 30, 4096], ids=["whole", "4 KiB pieces"])
@pytest.mark.parametrize("kind", CAREFUL_ITEMS)
def test_careful_items_cost_linear_work(tally: Tally, kind: str, chunk: int) -> None:
    """Twice the input is twice the work, for every kind of item the fast path hands over."""
    unit, frames_per_unit = CAREFUL_ITEMS[kind]
    small, large = unit * 4000, unit * 8000
    small_work, small_frames = work_to_parse(tally, small, chunk)
    large_work, large_frames = work_to_parse(tally, large, chunk)
    assert (small_frames, large_frames) == (4000 * frames_per_unit, 8000 * frames_per_unit)
    assert len(small) <= small_work <= 12 * len(small), "counted work is not a small multiple of the input"
    assert 1.8 <= large_work / small_work <= 2.2, f"doubling the input multiplied the work by {large_work / small_work:.2f}"


ORDINARY = (
    b"MESSAGE\nsubscription:0\ndestination:/queue/a\nmessage-id:m-1\nack:a-1\ncontent-length:100\n\n" + b"b" * 100 + b"\0"
    + b"MESSAGE\nsubscription:0\ndestination:/queue/a\nmessage-id:m-2\n\n" + b"c" * 100 + b"\0\n"
)


@pytest.mark.parametrize("chunk", [1, 97, 250], ids=["bytes", "97-byte pieces", "250-byte pieces"])
def test_ordinary_frames_cut_anywhere_cost_linear_work(tally: Tally, chunk: int) -> None:
    """Frames that arrive across reads: a header block completed by a later read, a body still arriving."""
    small_work, small_frames = work_to_parse(tally, ORDINARY * 1000, chunk)
    large_work, large_frames = work_to_parse(tally, ORDINARY * 2000, chunk)
    assert (small_frames, large_frames) == (2000, 4000)
    assert len(ORDINARY * 1000) <= small_work <= 12 * len(ORDINARY * 1000)
    assert 1.8 <= large_work / small_work <= 2.2, f"doubling the input multiplied the work by {large_work / small_work:.2f}"
