"""Frame and encode: escaping per version, content-length, refusals."""

from __future__ import annotations

import pytest

from stomper import Frame, FrameError

from .support import only, parse_all


def test_frame_value_basics() -> None:
    frame = Frame("SEND", {"destination": "/q"}, "héllo")
    assert frame.body == "héllo".encode()
    assert frame.command == "SEND" and frame.headers == {"destination": "/q"}
    assert Frame("SEND", [("a", "1"), ("a", "2")]).repeated_headers == [("a", "2")]
    assert Frame("SEND", {"a": "1"}) == Frame("SEND", [("a", "1")])
    assert Frame("SEND", {"a": "1"}) != Frame("SEND", {"a": "2"})


def test_repeated_headers_given_as_pairs_are_all_encoded_first_first() -> None:
    frame = Frame("MESSAGE", [("foo", "World"), ("foo", "Hello")])
    assert frame.headers == {"foo": "World"}
    assert frame.encode() == b"MESSAGE\nfoo:World\nfoo:Hello\n\n\0"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0", None),
        ("1.1", b"SEND\nk\\cx:a\\cb\\nc\\\\d\n\n\0"),
        ("1.2", b"SEND\nk\\cx:a\\cb\\nc\\\\d\n\n\0"),
    ],
)
def test_escaping_per_version(version: str, expected: bytes | None) -> None:
    frame = Frame("SEND", {"k:x": "a:b\nc\\d"})
    if expected is None:
        with pytest.raises(FrameError):
            frame.encode(version)
    else:
        assert frame.encode(version) == expected
        assert only(parse_all(expected, version)) == frame


def test_carriage_return_is_escaped_in_1_2_and_refused_in_1_1() -> None:
    frame = Frame("SEND", {"k": "a\rb"})
    assert frame.encode("1.2") == b"SEND\nk:a\\rb\n\n\0"
    with pytest.raises(FrameError, match="carriage return"):
        frame.encode("1.1")


def test_1_0_writes_colons_in_values_and_backslashes_raw() -> None:
    frame = Frame("SEND", {"k": "a:b\\n"})
    assert frame.encode("1.0") == b"SEND\nk:a:b\\n\n\n\0"
    assert only(parse_all(frame.encode("1.0"), "1.0")) == frame


@pytest.mark.parametrize("headers", [{"k": "a\nb"}, {"a\nb": "v"}, {"a:b": "v"}, {"k": "v\r"}])
def test_1_0_refuses_what_it_cannot_carry(headers: dict) -> None:
    with pytest.raises(FrameError):
        Frame("SEND", headers).encode("1.0")


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("command", ["CONNECT", "CONNECTED"])
def test_connect_and_connected_are_never_escaped(version: str, command: str) -> None:
    frame = Frame(command, {"login": "a:b\\c"})
    assert frame.encode(version) == command.encode() + b"\nlogin:a:b\\c\n\n\0"
    assert only(parse_all(frame.encode(version), version)) == frame
    for unwritable in ({"login": "a\nb"}, {"lo:gin": "x"}):
        with pytest.raises(FrameError):
            Frame(command, unwritable).encode(version)


def test_stomp_frame_is_escaped() -> None:
    assert Frame("STOMP", {"login": "a:b"}).encode() == b"STOMP\nlogin:a\\cb\n\n\0"


def test_content_length_added_to_every_body() -> None:
    assert Frame("SEND", {"destination": "/q"}, b"hi").encode() == b"SEND\ndestination:/q\ncontent-length:2\n\nhi\0"
    assert Frame("SEND", {"destination": "/q"}).encode() == b"SEND\ndestination:/q\n\n\0"


def test_content_length_options() -> None:
    assert Frame("SEND", {}, b"").encode(content_length=True) == b"SEND\ncontent-length:0\n\n\0"
    assert Frame("SEND", {}, b"hi").encode(content_length=False) == b"SEND\n\nhi\0"
    assert Frame("SEND", {}, b"h\0i").encode(content_length=False) == b"SEND\ncontent-length:3\n\nh\0i\0"


def test_nul_in_body_round_trips() -> None:
    frame = Frame("MESSAGE", {"message-id": "1"}, b"\0\0a\0")
    parsed = only(parse_all(frame.encode(content_length=False)))
    assert parsed.body == b"\0\0a\0" and parsed.headers["content-length"] == "4"


def test_supplied_content_length_is_kept_or_refused() -> None:
    assert Frame("SEND", {"content-length": "2"}, b"hi").encode() == b"SEND\ncontent-length:2\n\nhi\0"
    with pytest.raises(FrameError, match="content-length"):
        Frame("SEND", {"content-length": "3"}, b"hi").encode()
    with pytest.raises(FrameError, match="content-length"):
        Frame("SEND", {"content-length": "1"}, b"").encode()


@pytest.mark.parametrize("command", ["BOGUS", "", "SEND ", "SE\nND"])
def test_bad_command_is_refused(command: str) -> None:
    with pytest.raises(FrameError):
        Frame(command).encode()


def test_command_setter_validates() -> None:
    frame = Frame()
    with pytest.raises(FrameError, match="unknown command"):
        frame.command = "PUBLISH"
    frame.cmd = "send"
    assert frame.command == "SEND"


@pytest.mark.parametrize("command", ["STOMP", "NACK"])
def test_1_0_has_no_stomp_or_nack(command: str) -> None:
    with pytest.raises(FrameError, match="1.0"):
        Frame(command, {"id": "1"}).encode("1.0")
    assert Frame(command, {"id": "1"}).encode("1.1").startswith(command.encode() + b"\n")


def test_empty_header_name_is_refused() -> None:
    with pytest.raises(FrameError):
        Frame("SEND", {"": "v"}).encode()


def test_unknown_version_is_refused() -> None:
    with pytest.raises(FrameError):
        Frame("SEND").encode("2.0")


def test_header_text_with_no_utf8_form_is_refused() -> None:
    with pytest.raises(FrameError, match="UTF-8"):
        Frame("SEND", {"k": "\udcff"}).encode()


def test_utf8_headers_encoded() -> None:
    frame = Frame("SEND", {"名前": "値 ✓"})
    assert frame.encode() == "SEND\n名前:値 ✓\n\n\0".encode()
