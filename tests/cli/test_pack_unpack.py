"""stomper pack and unpack: real processes and pipes."""

from __future__ import annotations

import base64
import json

import pytest
from cli_helpers import assert_one_error_line, run

from stomper import Frame, FrameParser


def frames_of(data: bytes) -> list[Frame]:
    parser = FrameParser()
    frames = parser.feed(data)
    parser.close()
    return frames


def test_pack_writes_the_frame_bytes():
    result = run("pack", "send", "-H", "destination:/queue/a", "-H", "x:a:b", "--body", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"SEND\ndestination:/queue/a\nx:a\\cb\ncontent-length:5\n\nhello\0"


def test_pack_body_file_from_stdin_keeps_binary():
    body = bytes(range(256))
    result = run("pack", "SEND", "-H", "destination:/q", "--body-file", "-", input=body)
    assert frames_of(result.stdout)[0].body == body


def test_pack_10_has_no_escapes():
    result = run("pack", "SEND", "-H", "destination:/q", "--stomp-version", "1.0", "-H", "a:b:c")
    assert b"a:b:c\n" in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["FROB"], "unknown command 'FROB'"),
        (["SEND", "-H", "nocolon"], "'nocolon' is not name:value"),
        ([], "missing COMMAND"),
        (["NACK", "-H", "message-id:1", "--stomp-version", "1.0"], "STOMP 1.0 has no NACK"),
        (["SEND", "--body", "x", "--body-file", "-"], "not both"),
    ],
)
def test_pack_usage_errors_exit_2(args, needle):
    line = assert_one_error_line(run("pack", *args), 2)
    assert needle in line


def test_pack_unpack_pack_json_round_trip():
    frames = [
        Frame("SEND", [("destination", "/queue/a"), ("x", "1"), ("x", "2"), ("colon:in", "new\nline")], b"text body"),
        Frame("SEND", {"destination": "/queue/b", "content-type": "application/octet-stream"}, bytes(range(256))),
        Frame("MESSAGE", {"destination": "/q", "message-id": "1", "subscription": "s"}, "h\u00e9llo \u2603"),
        Frame("RECEIPT", {"receipt-id": "r1"}),
    ]
    raw = b"\n".join(frame.encode() for frame in frames) + b"\n\n"  # heart-beat EOLs in between
    unpacked = run("unpack", "--json", input=raw)
    assert unpacked.returncode == 0, unpacked.stderr
    objects = [json.loads(line) for line in unpacked.stdout.splitlines()]
    assert [obj["command"] for obj in objects] == ["SEND", "SEND", "MESSAGE", "RECEIPT"]
    assert objects[0]["headers"]["x"] == "1"  # first occurrence wins
    assert objects[0]["headers"]["colon:in"] == "new\nline"
    assert base64.b64decode(objects[1]["body_base64"]) == bytes(range(256))
    assert "body" not in objects[1]
    repacked = run("pack", "--json", input=unpacked.stdout)
    assert repacked.returncode == 0, repacked.stderr
    again = frames_of(repacked.stdout)
    assert [frame.body for frame in again] == [frame.body for frame in frames]
    assert [frame.headers for frame in again] == [
        {**frame.headers, **({"content-length": str(len(frame.body))} if frame.body else {})} for frame in frames
    ]
    # And a second pass through unpack gives the same JSON.
    assert run("unpack", "--json", input=repacked.stdout).stdout == unpacked.stdout


def test_pack_json_list_headers_keep_repeats():
    line = json.dumps({"command": "SEND", "headers": [["destination", "/q"], ["x", "1"], ["x", "2"]], "body": ""})
    result = run("pack", "--json", input=line.encode() + b"\n\n")
    frame = frames_of(result.stdout)[0]
    assert frame.headers == {"destination": "/q", "x": "1"}
    assert frame.repeated_headers == [("x", "2")]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (b"not json", "line 2:"),
        (b'{"command": "FROB"}', "unknown command"),
        (b'{"command": "SEND", "headers": 5}', "headers"),
        (b'{"command": "SEND", "body_base64": "!!"}', "line 2:"),
        (b'["SEND"]', "JSON object"),
    ],
)
def test_pack_json_bad_input_exits_1_after_earlier_frames(line, needle):
    good = b'{"command": "SEND", "headers": {"destination": "/q"}, "body": "ok"}\n'
    result = run("pack", "--json", input=good + line + b"\n")
    assert needle in assert_one_error_line(result, 1)
    assert frames_of(result.stdout)[0].body == b"ok"


def test_unpack_plain_text_in_a_pipe_has_no_colour_and_masks_passcode():
    raw = Frame("CONNECT", {"login": "me", "passcode": "hunter2"}).encode() + Frame("SEND", {"destination": "/q"}, b"hi").encode()
    result = run("unpack", input=raw)
    text = result.stdout.decode()
    assert result.returncode == 0
    assert "\x1b[" not in text
    assert "hunter2" not in text and "passcode: ***" in text
    assert text.startswith("CONNECT\nlogin: me\n")
    assert "SEND\ndestination: /q\ncontent-length: 2\n\nhi\n" in text


def test_unpack_json_masks_passcode_unless_asked():
    raw = Frame("CONNECT", {"login": "me", "passcode": "hunter2"}).encode()
    assert b"hunter2" not in run("unpack", "--json", input=raw).stdout
    assert json.loads(run("unpack", "--json", "--show-passcode", input=raw).stdout)["headers"]["passcode"] == "hunter2"


def test_unpack_reads_a_file(tmp_path):
    path = tmp_path / "capture.bin"
    path.write_bytes(Frame("RECEIPT", {"receipt-id": "7"}).encode())
    assert json.loads(run("unpack", "--json", str(path)).stdout)["headers"] == {"receipt-id": "7"}


def test_unpack_binary_body_is_a_hex_dump():
    raw = Frame("MESSAGE", {"destination": "/q", "message-id": "1", "subscription": "s"}, b"\x00\x01ab\xff").encode()
    text = run("unpack", input=raw).stdout.decode()
    assert "00000000  00 01 61 62 ff" in text and "|..ab.|" in text


GOOD = Frame("SEND", {"destination": "/q"}, b"first").encode()


@pytest.mark.parametrize(
    ("tail", "needle"),
    [
        (b"GARBAGE\n\n\0", "unknown command 'GARBAGE' (at byte 44)"),
        (b"SEND\ndestination:/q\n\nno nul", "stream ended inside a frame (at byte 44)"),
        (b"SEND\ncontent-length:10\n\nabc", "stream ended inside a frame"),
        (b"SEND\ncontent-length:99999999999999999999\n\nx\0", "exceeds the frame size limit"),
        (b"SEND\ncontent-length:abc\n\nx\0", "is not a number"),
        (b"SEND\nnocolon\n\n\0", "has no ':'"),
        (b"SEND\ncontent-length:1\n\nabc\0", "not followed by NUL"),
        (b"\xff\xfe\n\n\0", "not valid UTF-8: invalid start byte (at byte 44)"),
    ],
)
def test_unpack_malformed_prints_earlier_frames_then_one_error_line(tail, needle):
    assert len(GOOD) == 44
    for args in (["unpack"], ["unpack", "--json"]):
        result = run(*args, input=GOOD + tail)
        line = assert_one_error_line(result, 1)
        assert needle in line
        assert b"first" in result.stdout


def test_unpack_garbage_alone():
    result = run("unpack", "--json", input=bytes(range(256)) * 64)
    assert_one_error_line(result, 1)
    assert result.stdout == b""


def test_unpack_huge_stream_of_nothing_but_heartbeats():
    result = run("unpack", "--json", input=b"\n" * 100_000 + b"\r\n" * 10)
    assert result.returncode == 0 and result.stdout == b""


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        (Frame("SEND", {}, b"x"), "SEND needs destination in STOMP 1.2"),
        (Frame("SUBSCRIBE", {"destination": "/q"}), "SUBSCRIBE needs id"),
        (Frame("ACK", {"message-id": "1"}), "ACK needs id"),
        (Frame("BEGIN", {"transaction": "t"}, b"body"), "BEGIN frames may not have a body"),
    ],
)
def test_unpack_strict(frame, needle):
    raw = GOOD + frame.encode()
    assert run("unpack", "--json", input=raw).returncode == 0
    result = run("unpack", "--json", "--strict", input=raw)
    assert "frame 2: " + needle in assert_one_error_line(result, 1)
    assert len(result.stdout.splitlines()) == 1


def test_unpack_strict_follows_the_version():
    raw = Frame("ACK", {"message-id": "1"}).encode("1.0")
    assert run("unpack", "--strict", "--stomp-version", "1.0", input=raw).returncode == 0
    assert "ACK needs subscription" in assert_one_error_line(run("unpack", "--strict", "--stomp-version", "1.1", input=raw), 1)
