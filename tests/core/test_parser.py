"""FrameParser: every parsing rule of the modern core and its decided behaviours."""

from __future__ import annotations

import pytest

from stomper import Frame, FrameError, FrameParser

from .support import only, parse_all, parse_bytewise, parse_error, parse_split

ACTIVEMQ_SESSION = "ID:host-1234-5:1"


# Repeated headers ------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_repeated_header_first_wins_all_kept_and_reencoded(version: str) -> None:
    data = b"MESSAGE\nfoo:first\nbar:x\nfoo:second\nfoo:third\n\n\0"
    frame = only(parse_all(data, version))
    assert frame.headers == {"foo": "first", "bar": "x"}
    assert frame.repeated_headers == [("foo", "second"), ("foo", "third")]
    assert list(frame.header_items()) == [("foo", "first"), ("bar", "x"), ("foo", "second"), ("foo", "third")]
    again = only(parse_all(frame.encode(version), version))
    assert again == frame
    assert frame.encode(version).count(b"foo:") == 3


# Line endings ----------------------------------------------------------------


def test_crlf_line_endings_in_1_2() -> None:
    frame = only(parse_all(b"SEND\r\ndestination:/queue/a\r\nreceipt:r1\r\n\r\nbody\r\n\0"))
    assert frame.headers == {"destination": "/queue/a", "receipt": "r1"}
    assert frame.body == b"body\r\n"


def test_mixed_lf_and_crlf_in_1_2() -> None:
    frame = only(parse_all(b"SEND\ndestination:/q\r\nx:y\n\r\n\0"))
    assert frame.headers == {"destination": "/q", "x": "y"}


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize(
    "data", [b"SEND\r\ndestination:/q\r\n\r\n\0", b"SEND\ndestination:/q\r\n\n\0", b"SEND\ndestination:/q\n\r\n\0"]
)
def test_crlf_is_refused_before_1_2(version: str, data: bytes) -> None:
    error = parse_error(data, version)
    assert "CRLF" in str(error)


def test_values_are_never_trimmed_or_padded() -> None:
    frame = only(parse_all(b"SEND\n a : b \nc:\n\n\0", "1.2"))
    assert frame.headers == {" a ": " b ", "c": ""}
    assert frame.encode() == b"SEND\n a : b \nc:\n\n\0"


# Heart-beats -----------------------------------------------------------------


def test_heart_beats_are_counted_and_never_frames() -> None:
    parser = FrameParser()
    assert parser.feed(b"\n\r\n\n") == []
    assert parser.heartbeats == 3
    frames = parser.feed(b"SEND\n\nA\0\n\nSEND\n\nB\0\r\n")
    assert [frame.body for frame in frames] == [b"A", b"B"]
    assert parser.heartbeats == 6
    parser.close()


def test_heart_beat_crlf_split_across_feeds() -> None:
    parser = FrameParser()
    assert parser.feed(b"\r") == []
    assert parser.heartbeats == 0
    assert parser.feed(b"\n") == []
    assert parser.heartbeats == 1
    assert parser.buffered == 0


def test_lone_carriage_return_between_frames_is_an_error() -> None:
    error = parse_error(b"SEND\n\n\0\rSEND\n\n\0")
    assert error.offset == 7


def test_heart_beat_count_is_the_same_bytewise() -> None:
    data = b"\n\nMESSAGE\nmessage-id:1\n\nx\0\n\r\n"
    parser = FrameParser()
    for byte in data:
        parser.feed(bytes([byte]))
    assert parser.heartbeats == 4


# Bodies ----------------------------------------------------------------------


def test_content_length_body_may_hold_nul_and_blank_lines() -> None:
    body = b"\0a\n\nb\0\0"
    data = b"MESSAGE\ncontent-length:%d\n\n%s\0MESSAGE\n\nnext\0" % (len(body), body)
    frames = parse_all(data)
    assert [frame.body for frame in frames] == [body, b"next"]
    assert parse_bytewise(data) == frames


def test_zero_content_length() -> None:
    assert only(parse_all(b"SEND\ncontent-length:0\n\n\0")).body == b""


def test_wrong_byte_after_content_length_body_is_an_error_at_that_byte() -> None:
    data = b"SEND\ncontent-length:2\n\nabc\0"
    error = parse_error(data)
    assert error.offset == data.index(b"c\0")
    assert "content-length" in str(error)


def test_wrong_byte_after_content_length_is_seen_when_it_arrives() -> None:
    parser = FrameParser()
    assert parser.feed(b"SEND\ncontent-length:2\n\nab") == []
    with pytest.raises(FrameError):
        parser.feed(b"X")


@pytest.mark.parametrize("value", [b"-1", b"abc", b"1.5", b"", b" 5", b"\xd9\xa3"])
def test_content_length_must_be_a_number(value: bytes) -> None:
    with pytest.raises(FrameError):
        parse_all(b"SEND\ncontent-length:" + value + b"\n\nabcde\0")


def test_content_length_with_thousands_of_digits_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="exceeds"):
        FrameParser().feed(b"SEND\ncontent-length:" + b"9" * 5000 + b"\n\n")
    frame = only(parse_all(b"SEND\ncontent-length:" + b"0" * 5000 + b"3\n\nabc\0"))
    assert frame.body == b"abc"


def test_too_large_content_length_error_names_the_value_sent() -> None:
    with pytest.raises(FrameError, match="content-length 99999999999 exceeds"):
        FrameParser().feed(b"SEND\ncontent-length:99999999999\n\n")


def test_nul_terminated_body_ends_at_the_first_nul() -> None:
    parser = FrameParser()
    frames = parser.feed(b"SEND\n\nhello\n\nworld\0\0")
    assert len(frames) == 1 and frames[0].body == b"hello\n\nworld"
    assert parser.buffered == 1  # the second NUL starts what can only be a bad frame
    with pytest.raises(FrameError):  # the second NUL is not a frame
        parse_all(b"SEND\n\nhello\0\0SEND\n\n\0")


def test_body_bytes_need_not_be_utf8() -> None:
    assert only(parse_all(b"SEND\n\n\xff\xfe\x80\0")).body == b"\xff\xfe\x80"


# Header text -----------------------------------------------------------------


def test_headers_are_utf8() -> None:
    data = "MESSAGE\ndestination:/queue/ünïcødé\n名前:値 ✓\n\n\0".encode()
    assert only(parse_all(data)).headers == {"destination": "/queue/ünïcødé", "名前": "値 ✓"}


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82"])
def test_invalid_utf8_header_is_an_error_at_the_bad_byte(bad: bytes) -> None:
    data = b"MESSAGE\nkey:ok" + bad + b"\n\n\0"
    error = parse_error(data)
    assert error.offset == data.index(bad)
    assert "UTF-8" in str(error)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_raw_colon_in_value_is_accepted(version: str) -> None:
    data = f"CONNECTED\nsession:{ACTIVEMQ_SESSION}\nserver:ActiveMQ/5.18\n\n\0".encode()
    assert only(parse_all(data, version)).headers["session"] == ACTIVEMQ_SESSION
    message = f"MESSAGE\nmessage-id:{ACTIVEMQ_SESSION}:1:1:1\na:b:c\n\n\0".encode()
    assert only(parse_all(message, version)).headers == {"message-id": ACTIVEMQ_SESSION + ":1:1:1", "a": "b:c"}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"BOGUS\n\n\0", "unknown command"),
        (b"send\n\n\0", "unknown command"),
        (b" SEND\n\n\0", "unknown command"),
        (b"SEND\n:value\n\n\0", "empty name"),
        (b"SEND\nno-colon\n\n\0", "no ':'"),
    ],
)
def test_malformed_heads(data: bytes, why: str) -> None:
    assert why in str(parse_error(data))


# Escapes ---------------------------------------------------------------------


def test_no_escapes_in_1_0() -> None:
    frame = only(parse_all(b"SEND\na\\cb:x\\ny\\tz\\\\\n\n\0", "1.0"))
    assert frame.headers == {"a\\cb": "x\\ny\\tz\\\\"}


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_escapes_of_1_1(version: str) -> None:
    frame = only(parse_all(b"SEND\na\\cb\\n:x\\ny\\cz\\\\w\n\n\0", version))
    assert frame.headers == {"a:b\n": "x\ny:z\\w"}


def test_carriage_return_escape_is_1_2_only() -> None:
    assert only(parse_all(b"SEND\na:x\\ry\n\n\0", "1.2")).headers == {"a": "x\ry"}
    assert "undefined escape" in str(parse_error(b"SEND\na:x\\ry\n\n\0", "1.1"))


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("value", [b"\\t", b"x\\", b"\\a", b"\\C", b"\\N", b"\\\\\\"])
def test_undefined_escape_is_fatal(version: str, value: bytes) -> None:
    data = b"SEND\nok:1\nkey:" + value + b"\n\n\0"
    error = parse_error(data, version)
    assert error.offset == data.index(b"key:")
    parser = FrameParser(version)
    with pytest.raises(FrameError):
        parser.feed(data)
    with pytest.raises(FrameError, match="already failed"):
        parser.feed(b"SEND\n\n\0")


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("command", ["CONNECT", "CONNECTED"])
def test_never_unescaped_in_connect_and_connected(version: str, command: str) -> None:
    data = command.encode() + b"\nlogin:a\\nb\\c\\t\\\\\n\n\0"
    assert only(parse_all(data, version)).headers == {"login": "a\\nb\\c\\t\\\\"}


def test_stomp_frame_is_unescaped() -> None:
    assert only(parse_all(b"STOMP\nlogin:a\\cb\n\n\0")).headers == {"login": "a:b"}


# Limits ----------------------------------------------------------------------


def test_max_frame_size_counts_command_to_nul() -> None:
    data = b"SEND\nk:v\n\nabc\0"  # 14 bytes
    assert only(parse_all(b"\n\n" + data + b"\n", max_frame_size=len(data))).body == b"abc"
    assert "frame size" in str(parse_error(data, max_frame_size=len(data) - 1))
    framed = b"SEND\ncontent-length:3\n\nabc\0"
    assert only(parse_all(framed, max_frame_size=len(framed))).body == b"abc"
    assert "frame size" in str(parse_error(framed, max_frame_size=len(framed) - 1))


def test_max_headers() -> None:
    data = b"SEND\n" + b"".join(b"h%d:v\n" % i for i in range(5)) + b"\n\0"
    assert len(only(parse_all(data, max_headers=5)).headers) == 5
    assert "headers" in str(parse_error(data, max_headers=4))


def test_max_header_line() -> None:
    data = b"SEND\nkey:" + b"v" * 96 + b"\n\n\0"  # the line is 100 bytes
    assert only(parse_all(data, max_header_line=100)).headers["key"] == "v" * 96
    assert "header line" in str(parse_error(data, max_header_line=99))


def _feed_until_error(parser: FrameParser, first: bytes, chunk: bytes, chunks: int) -> int:
    """Feed `first` then `chunk` repeatedly; return how many chunks went in before FrameError."""
    parser.feed(first)
    for count in range(chunks):
        try:
            parser.feed(chunk)
        except FrameError:
            return count
    raise AssertionError(f"no FrameError after {chunks} chunks of {len(chunk)} bytes")


def test_never_ending_header_line_is_stopped_at_the_line_limit() -> None:
    parser = FrameParser(max_header_line=4096)
    fed = _feed_until_error(parser, b"SEND\nkey:", b"x" * 512, 10_000)
    assert fed * 512 <= 4096 + 512
    assert parser.buffered <= 4096 + 1024


def test_never_ending_header_block_is_stopped_at_the_header_limit() -> None:
    parser = FrameParser(max_headers=100)
    fed = _feed_until_error(parser, b"SEND\n", b"h:v\n", 100_000)
    assert fed <= 101


def test_never_ending_body_is_stopped_at_the_frame_size() -> None:
    parser = FrameParser(max_frame_size=64 * 1024)
    fed = _feed_until_error(parser, b"SEND\n\n", b"x" * 1024, 100_000)
    assert fed <= 64


def test_content_length_beyond_the_frame_size_fails_before_the_body_arrives() -> None:
    parser = FrameParser(max_frame_size=1024)
    with pytest.raises(FrameError, match="exceeds"):
        parser.feed(b"SEND\ncontent-length:5000\n\n")


def test_defaults_are_documented_and_sensible() -> None:
    parser = FrameParser()
    assert parser.max_frame_size >= 1024 * 1024
    assert 100 <= parser.max_headers <= 100_000
    assert 1024 <= parser.max_header_line <= parser.max_frame_size
    assert "max_frame_size" in FrameParser.__doc__


# Errors ----------------------------------------------------------------------


def test_frame_error_is_a_value_error_with_an_offset() -> None:
    error = parse_error(b"SEND\n\n\0\nNOPE\n\n\0")
    assert isinstance(error, ValueError)
    assert error.offset == 8
    assert "8" in str(error)


def test_offset_of_a_bad_header_line_counts_carriage_returns() -> None:
    data = b"SEND\r\na:b\r\nc:d\r\nbad\r\n\r\n\0"
    assert parse_error(data).offset == data.index(b"bad")


def test_offset_counts_the_whole_stream() -> None:
    parser = FrameParser()
    first = b"SEND\n\nA\0\n"
    parser.feed(first)
    parser.feed(b"SEND\nk:v\n\nB\0")
    with pytest.raises(FrameError) as caught:
        parser.feed(b"SEND\nk:\\q\n\n\0")
    assert caught.value.offset == len(first) + len(b"SEND\nk:v\n\nB\0") + len(b"SEND\n")


def test_frames_completed_before_the_error_are_on_the_error() -> None:
    parser = FrameParser()
    with pytest.raises(FrameError) as caught:
        parser.feed(b"SEND\n\nA\0SEND\n\nB\0JUNK\n\n\0")
    assert [frame.body for frame in caught.value.frames] == [b"A", b"B"]


def test_parser_stays_failed() -> None:
    parser = FrameParser()
    with pytest.raises(FrameError):
        parser.feed(b"JUNK\n\n\0")
    for data in (b"SEND\n\n\0", b"", b"\n"):
        with pytest.raises(FrameError, match="already failed"):
            parser.feed(data)


def test_close_on_a_partial_frame_is_an_error() -> None:
    for partial in (b"SE", b"SEND\nk:v", b"SEND\n\nbody", b"SEND\ncontent-length:5\n\nab"):
        parser = FrameParser()
        assert parser.feed(partial) == []
        with pytest.raises(FrameError, match="ended inside a frame"):
            parser.close()


def test_close_after_whole_frames_and_heart_beats_is_fine() -> None:
    parser = FrameParser()
    parser.feed(b"SEND\n\n\0\n\r\n\r")
    parser.close()


def test_unknown_version_is_refused() -> None:
    with pytest.raises(FrameError):
        FrameParser("1.3")


def test_version_can_switch_mid_stream() -> None:
    parser = FrameParser("1.0")
    assert parser.feed(b"CONNECTED\nversion:1.2\n\n\0")[0].headers == {"version": "1.2"}
    parser.version = "1.2"
    assert parser.feed(b"MESSAGE\r\nk:a\\cb\r\n\r\n\0")[0].headers == {"k": "a:b"}


# Chunking --------------------------------------------------------------------


STREAM = (
    b"\nCONNECTED\nversion:1.2\nsession:" + ACTIVEMQ_SESSION.encode() + b"\n\n\0\n"
    b"MESSAGE\r\nsubscription:0\r\nmessage-id:007\r\ncontent-length:5\r\n\r\na\0b\nc\0\r\n"
    b"MESSAGE\nk:a\\nb\\cc\\r\n\nplain body\0"
    b"RECEIPT\nreceipt-id:77\n\n\0\n"
)


def test_any_cut_gives_the_same_frames() -> None:
    whole = parse_all(STREAM)
    assert [frame.command for frame in whole] == ["CONNECTED", "MESSAGE", "MESSAGE", "RECEIPT"]
    assert whole[1].body == b"a\0b\nc" and whole[2].headers == {"k": "a\nb:c\r"}
    assert parse_bytewise(STREAM) == whole
    for cut in range(len(STREAM) + 1):
        assert parse_split(STREAM, [cut]) == whole, cut
    for cut in range(0, len(STREAM), 7):
        assert parse_split(STREAM, [cut, cut + 3, cut + 11]) == whole, cut


def test_feed_accepts_bytearray_and_memoryview() -> None:
    expected = parse_all(STREAM)
    assert FrameParser().feed(bytearray(STREAM)) == expected
    assert FrameParser().feed(memoryview(STREAM)) == expected
    assert isinstance(expected[0], Frame)
