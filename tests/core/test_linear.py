"""Linear time, measured by counting buffer work rather than by a clock.

The parser's buffer is swapped for a bytearray that counts the bytes each
search examines and each slice or deletion copies. Re-scanning or re-copying
the buffer for every frame would make that count grow with frames x buffer.
"""

from __future__ import annotations

from stomper import FrameParser

from .support import parse_all


class CountingBuffer(bytearray):
    """A bytearray that tallies bytes searched and copied."""

    work = 0

    def _span(self, start: int | None, end: int | None) -> tuple[int, int]:
        size = len(self)
        start = 0 if start is None else max(0, start + size if start < 0 else start)
        end = size if end is None else min(size, end + size if end < 0 else end)
        return start, max(start, end)

    def find(self, sub, start=None, end=None):  # type: ignore[override]
        found = super().find(sub, start, end)
        first, last = self._span(start, end)
        self.work += (found + 1 if found >= 0 else last) - first
        return found

    def index(self, sub, start=None, end=None):  # type: ignore[override]
        found = super().index(sub, start, end)
        self.work += found + 1 - self._span(start, end)[0]
        return found

    def rfind(self, sub, start=None, end=None):  # type: ignore[override]
        found = super().rfind(sub, start, end)
        first, last = self._span(start, end)
        self.work += last - (found if found >= 0 else first)
        return found

    def count(self, sub, start=None, end=None):  # type: ignore[override]
        first, last = self._span(start, end)
        self.work += last - first
        return super().count(sub, start, end)

    def __getitem__(self, key):  # type: ignore[override]
        result = super().__getitem__(key)
        self.work += len(result) if isinstance(key, slice) else 1
        return result

    def __delitem__(self, key) -> None:  # type: ignore[override]
        super().__delitem__(key)
        self.work += len(self)  # what is left may have to move

    def __iadd__(self, data):  # type: ignore[override]
        self.work += len(data)
        return super().__iadd__(data)


def counting_parser() -> tuple[FrameParser, CountingBuffer]:
    parser = FrameParser()
    buffer = CountingBuffer()
    parser._buffer = buffer  # the one buffer the parser keeps
    return parser, buffer


def message(index: int) -> bytes:
    body = b"%05d" % index + b"x" * 90
    headers = b"destination:/queue/a\nmessage-id:m-%d\nsubscription:0\nack:%d\n" % (index, index)
    if index % 3 == 0:  # some take the careful path: content-length, CRLF, escapes
        return b"MESSAGE\r\n" + headers.replace(b"\n", b"\r\n") + b"k:a\\cb\r\ncontent-length:95\r\n\r\n" + body + b"\0\n"
    return b"MESSAGE\n" + headers + b"\n" + body + b"\0"


def test_one_big_chunk_costs_per_frame_not_per_frame_times_buffer() -> None:
    frames = [message(index) for index in range(500)]
    stream = b"".join(frames)
    assert 60 * 1024 <= len(stream) <= 128 * 1024
    parser, buffer = counting_parser()
    got = parser.feed(stream)
    assert len(got) == 500 and [frame.body[:5] for frame in got] == [b"%05d" % i for i in range(500)]
    assert len(stream) <= buffer.work, "the instrumented buffer saw no work: the test would be vacuous"
    assert buffer.work <= 8 * len(stream)  # re-scanning would be ~500 x 64 KiB / 2

    one_by_one, counted = counting_parser()
    singly = [frame for data in frames for frame in one_by_one.feed(data)]
    assert singly == got == parse_all(stream)
    assert counted.work <= 8 * len(stream)


def test_byte_at_a_time_is_linear_too() -> None:
    stream = b"SEND\nkey:" + b"v" * 20_000 + b"\n\n" + b"b" * 20_000 + b"\0" + b"SEND\ncontent-length:20000\n\n" + b"\0" * 20_001
    parser, buffer = counting_parser()
    frames = []
    for index in range(len(stream)):
        frames += parser.feed(stream[index : index + 1])
    assert [len(frame.body) for frame in frames] == [20_000, 20_000]
    assert len(stream) <= buffer.work <= 40 * len(stream)  # quadratic would be ~ len(stream)**2 / 4
