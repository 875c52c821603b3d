"""One answer whatever the cut: the stream fed whole, in pieces and byte by byte.

The same frames, heart-beat count and error (class, reason, stream offset), for
valid, random and mutated streams, with CRLF, repeated headers, escapes and
small limits. The check itself lives in the fuzz harness (fuzz/parser_fuzz.py),
so the fuzzer and the suite test the same thing; here it runs on hypothesis
examples and on a fixed, seeded run of the fuzzer's own loop.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stomper import FrameTooLarge

from .support import parse_bytewise, parse_error
from .test_properties import FIXED, LIMITS, VERSIONS, mutated, streams

_HARNESS = Path(__file__).resolve().parents[2] / "fuzz" / "parser_fuzz.py"
_spec = importlib.util.spec_from_file_location("parser_fuzz", _HARNESS)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

DIFFERENTIAL = settings(FIXED, max_examples=300)  # the same examples on every run
CUTS = st.lists(st.integers(1, 2000), max_size=10)
BYTES = st.binary(max_size=200) | st.lists(st.sampled_from(list(fuzz.INTERESTING) + [ord("S"), ord("E")]), max_size=200).map(bytes)


def same_whatever_the_cut(data: bytes, version: str, limits: dict, cuts: list[int]) -> None:
    fuzz.check_same_whatever_the_cut(data, version, limits, [cut for cut in cuts if cut < len(data)])


@DIFFERENTIAL
@given(streams(), LIMITS)
def test_valid_streams_give_one_answer_whatever_the_cut(case: tuple, limits: dict) -> None:
    version, _, data, cuts = case
    same_whatever_the_cut(data, version, limits, cuts)


@DIFFERENTIAL
@given(mutated(), CUTS, LIMITS)
def test_mutated_streams_give_one_answer_whatever_the_cut(case: tuple[bytes, str], cuts: list[int], limits: dict) -> None:
    data, version = case
    same_whatever_the_cut(data, version, limits, cuts)


@DIFFERENTIAL
@given(BYTES, CUTS, st.sampled_from(VERSIONS), LIMITS)
def test_random_bytes_give_one_answer_whatever_the_cut(data: bytes, cuts: list[int], version: str, limits: dict) -> None:
    same_whatever_the_cut(data, version, limits, cuts)


# About 25 s of one core here (checked with time.process_time); a fixed count, so every run checks the same inputs.
FUZZ_ITERATIONS = 100_000


def test_fuzz_loop_gives_one_answer_whatever_the_cut() -> None:
    """The fuzzer's random and mutated streams, whole vs cut vs byte by byte (fuzz/parser_fuzz.py)."""
    fuzz.random_loop(FUZZ_ITERATIONS, seed=20261130)


def test_differential_check_notices_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: an outcome that depends on the cut fails it."""
    real_parse = fuzz.parse

    def cut_sensitive(data: bytes, version: str, limits: dict, cuts: list[int]) -> tuple:
        frames, error, heartbeats = real_parse(data, version, limits, cuts)
        return frames[: len(list(cuts))], error, heartbeats

    monkeypatch.setattr(fuzz, "parse", cut_sensitive)
    with pytest.raises(AssertionError, match="fed whole gives"):
        fuzz.check_same_whatever_the_cut(b"SEND\n\n\0SEND\n\n\0", "1.2", {}, [3])


CRLF_LINE = b"SEND\r\nabcdefgh:12345678\r\n\r\n\0"  # the header line: 17 bytes, then CR LF
LONG_LINE = "header line longer than the limit of {} bytes"

# (stream, limits, the one error whatever the cut: class, reason, offset)
DISAGREED = {
    "the CR of a CRLF line counts toward max_header_line": (CRLF_LINE, {"max_header_line": 17}, ("FrameError", LONG_LINE.format(17), 6)),
    "a long line that arrives whole inside a longer block": (
        b"SEND\nabcdefgh:1\na:1\n\n\0",
        {"max_header_line": 5},
        ("FrameError", LONG_LINE.format(5), 5),
    ),
    "one header too many comes before a long line after it": (
        b"SEND\na:1\nb:2\ncccccccc:3\n\n\0",
        {"max_headers": 1, "max_header_line": 5},
        ("FrameError", "frame has more than the limit of 1 headers", 0),
    ),
    "a content-length past the frame limit, whether or not a NUL follows": (
        b"SEND\ncontent-length:30\n\n" + b"x" * 60,
        {"max_frame_size": 40},
        ("FrameTooLarge", "frame exceeds the frame size limit of 40 bytes", 0),
    ),
    "a header block past the frame limit": (
        b"SEND\na:" + b"1" * 50 + b"\n\n\0",
        {"max_frame_size": 40},
        ("FrameTooLarge", "frame header exceeds the frame size limit of 40 bytes", 0),
    ),
}


@pytest.mark.parametrize("case", DISAGREED)
def test_limits_give_one_error_whatever_the_cut(case: str) -> None:
    """Streams that gave a different error fed whole and fed byte by byte."""
    data, limits, error = DISAGREED[case]
    for version in ("1.1", "1.2") if b"\r" not in data else ("1.2",):
        cuts = [len(data) // 3, 2 * len(data) // 3]
        assert fuzz.check_same_whatever_the_cut(data, version, limits, cuts)[1] == error


def test_a_crlf_line_fits_a_limit_that_counts_its_cr() -> None:
    assert parse_bytewise(CRLF_LINE, max_header_line=18)[0].headers == {"abcdefgh": "12345678"}
    assert parse_bytewise(CRLF_LINE.replace(b"\r", b""), max_header_line=17)[0].headers == {"abcdefgh": "12345678"}
    error = parse_error(b"SEND\ncontent-length:30\n\n" + b"x" * 60, max_frame_size=40)
    assert isinstance(error, FrameTooLarge) and (error.size, error.limit) == (55, 40)


#: Header lines whose escapes the fast path undoes itself, or must leave to the careful path.
ESCAPED_LINES = [
    "message-id:ID\\cvm-1\\c2\\c-1",  # ActiveMQ's message ids
    "a:\\c\\n\\r",  # every escape of 1.2 (\r is undefined in 1.1)
    "a:x\\\\cy",  # an escaped backslash before a 'c'
    "a:\\\\\\c",  # an escaped backslash, then an escaped colon
    "a:x\\t",  # undefined
    "a:ends\\",  # a backslash with nothing after it
    "na\\cme:v",  # an escaped name
    "b\\\\:v",  # a name ending in an escaped backslash
    "a:\\c\nb:1\nc:\\n",  # two escaped values, a plain one between
    "a:1\na\\c:2",  # names that differ only once unescaped
    "a\\cb:1\na:b:2",  # an escaped name beside a value holding ':'
]


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
@pytest.mark.parametrize("line", ESCAPED_LINES)
def test_escaped_headers_give_one_answer_whatever_the_cut(version: str, line: str) -> None:
    """The fast path (the frame whole) unescapes what the careful path (byte by byte) does, and refuses the same."""
    data = f"MESSAGE\ndestination:/q\n{line}\n\nbody\0\nMESSAGE\nx:y\n\n\0".encode()
    fuzz.check_same_whatever_the_cut(data, version, {}, [len(data) // 2])
