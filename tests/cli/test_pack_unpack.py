"""stomper pack and unpack: real processes and pipes."""

from __future__ import annotations

import base64
import io
import json

import pytest
from cli_helpers import assert_one_error_line, run
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from stomper import COMMANDS, Frame, FrameError, FrameParser
from stomper.parser import DEFAULT_MAX_FRAME_SIZE
from stomper_cli.app import cli
from stomper_cli.errors import InputError
from stomper_cli.pack import JSON_KEYS, frames_from_json_lines, json_line_limit, write_frames


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
        (b'{"command": "SEND", "body_base64": 5}', 'line 2: "body_base64" must be a string'),
        (b'{"command": "SEND", "body_base64": "\\u00e9"}', 'line 2: "body_base64" is not valid base64'),
        (b'{"command": "SEND", "body_base64": "AAE"}', 'line 2: "body_base64" is not valid base64'),
        (b'{"command": "SEND", "body": 5}', 'line 2: "body" must be a string'),
        (b'{"command": "SEND", "body": "\\ud800"}', 'line 2: "body" holds a lone surrogate'),
        (b'{"command": "SEND", "body": "a", "body_base64": "AA=="}', 'line 2: give "body" or "body_base64", not both'),
        (b'{"command": 5}', 'line 2: "command" must be a string'),
        (b'{"command": "SEND", "bdy": "typo"}', "line 2: unknown key 'bdy'"),
        (b"[" * 100_000, "line 2: JSON nested too deeply"),
        (b'{"command": "SEND", "headers": {"a": 5}}', 'line 2: "headers": header values must be strings'),
        (b'{"command": "SEND", "headers": [["a"]]}', 'line 2: "headers" must be a list of [name, value] pairs'),
        (b'{"command": "SEND", "headers": [[1, "b"]]}', 'line 2: "headers": header names and values must be strings'),
        (b'{"command": "SEND", "headers": "a:b"}', 'line 2: "headers" must be a list'),
        (b'{"command": "SEND", "headers": {"": "x"}}', "line 2: a header name cannot be empty"),
        (b'{"command": "SEND", "headers": {"content-length": "9"}, "body": "x"}', "line 2: content-length header says '9'"),
        (b'{"command": "SEND", "headers": {"x": "1"}, "repeated_headers": {"x": "2"}}', 'line 2: "repeated_headers" must be a list'),
        (b'{"command": "SEND", "headers": {"x": "1"}, "repeated_headers": [["y", "2"]]}', "line 2: \"repeated_headers\" repeats 'y'"),
        (b"\xff", "line 2: 'utf-8' codec can't decode"),
    ],
)
def test_pack_json_bad_input_exits_1_after_earlier_frames(line, needle):
    good = b'{"command": "SEND", "headers": {"destination": "/q"}, "body": "ok"}\n'
    result = run("pack", "--json", input=good + line + b"\n")
    assert needle in assert_one_error_line(result, 1)
    assert frames_of(result.stdout)[0].body == b"ok"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.sampled_from(["SEND", "AAE=", "x", "content-length"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
frame_like_objects = st.fixed_dictionaries(
    {"command": st.sampled_from(["SEND", "send", "FROB"]) | json_values},
    optional={key: json_values for key in [*sorted(JSON_KEYS - {"command"}), "x"]},
)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(frame_like_objects | json_values)
def test_pack_json_answers_any_json_value_with_a_frame_or_a_line_error(value):
    line = json.dumps(value).encode() + b"\n"
    try:
        write_frames(frames_from_json_lines(io.BytesIO(line)), "1.2", io.BytesIO())
    except InputError as error:
        assert error.message.startswith("line 1: ")


class CountingReader(io.BytesIO):
    """Counts the bytes read, to show a long line is not read whole."""

    taken = 0

    def readline(self, size=-1):
        line = super().readline(size)
        self.taken += len(line)
        return line


def test_pack_json_reads_at_most_the_longest_line_a_frame_within_the_limit_takes():
    good = b'{"command": "SEND", "body": "ok"}\n'
    stream = CountingReader(good + b'{"command": "SEND", "body": "' + b"a" * 1_000_000 + b'"}\n')
    out = io.BytesIO()
    longest = json_line_limit(1000)
    words = f"^line 2: longer than {longest} bytes, more than any frame within the frame size limit of 1000 bytes takes as JSON$"
    with pytest.raises(InputError, match=words):
        write_frames(frames_from_json_lines(stream, limit=1000), "1.2", out)
    assert stream.taken <= len(good) + longest + 1
    assert frames_of(out.getvalue())[0].body == b"ok"
    exact = b'{"command": "SEND", "body": "' + b"\\u0000" * ((longest - 31) // 6) + b'"}'
    assert longest - 6 < len(exact) <= longest  # a line this long passes the reading, and then its frame is measured
    with pytest.raises(InputError, match="^line 1: the frame takes 1[0-9]{3} bytes, over the frame size limit of 1000 bytes$"):
        list(frames_from_json_lines(io.BytesIO(exact), limit=1000))


@pytest.mark.parametrize("body", [bytes(range(256)) * 4, b"\0" * 1000, "é".encode() * 500], ids=["binary", "nuls", "text"])
def test_a_frame_at_the_limit_goes_through_json_lines_and_back_whatever_its_body(body):
    wire = Frame("SEND", [("destination", "/q"), ("x", ":" * 20)], body).encode()
    limit = len(wire)
    line = run("unpack", "--json", input=wire).stdout
    assert len(line) > limit  # longer than the frame: refused as too long before the limit took JSON's expansion in
    assert [again.encode() for _, again in frames_from_json_lines(io.BytesIO(line), limit=limit)] == [wire]
    with pytest.raises(InputError, match=f"the frame takes {limit} bytes, over the frame size limit of {limit - 1} bytes"):
        list(frames_from_json_lines(io.BytesIO(line), limit=limit - 1))


def test_pack_json_refuses_a_frame_over_64_mib_after_earlier_frames():
    good = b'{"command": "SEND", "headers": {"destination": "/q"}, "body": "ok"}\n'
    huge = b'{"command": "SEND", "body": "' + b"a" * DEFAULT_MAX_FRAME_SIZE + b'"}\n'
    result = run("pack", "--json", input=good + huge)
    line = assert_one_error_line(result, 1)
    assert line.endswith(f"line 2: the frame takes {DEFAULT_MAX_FRAME_SIZE + 31} bytes, over the frame size limit of {DEFAULT_MAX_FRAME_SIZE} bytes")
    assert frames_of(result.stdout)[0].body == b"ok"


def test_repeated_headers_round_trip_byte_for_byte():
    raw = b"SEND\ndestination:/q\nx:1\nx:2\ny:a\nx:3\ncontent-length:2\n\nhi\0"
    unpacked = run("unpack", "--json", input=raw)
    assert json.loads(unpacked.stdout) == {
        "command": "SEND", "headers": {"destination": "/q", "x": "1", "y": "a", "content-length": "2"},
        "repeated_headers": [["x", "2"], ["x", "3"]], "body": "hi",
    }
    assert run("pack", "--json", input=unpacked.stdout).stdout == b"SEND\ndestination:/q\nx:1\ny:a\nx:2\nx:3\ncontent-length:2\n\nhi\0"
    assert "repeated_headers" not in json.loads(run("unpack", "--json", input=GOOD).stdout)


header_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6).filter(lambda name: name != "content-length")
header_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.lists(
    st.tuples(st.sampled_from(sorted(COMMANDS)), st.lists(st.tuples(st.sampled_from(["x", "passcode", "a:b"]) | header_names, header_values),
              max_size=6), st.binary(max_size=40) | st.text(max_size=20).map(str.encode)),
    min_size=1, max_size=4,
))
def test_unpack_json_then_pack_json_gives_back_the_same_bytes(specs):
    frames = [Frame(command, headers, body) for command, headers, body in specs]
    try:
        raw = b"".join(frame.encode() for frame in frames)
    except FrameError:  # CONNECT and CONNECTED cannot carry what needs escaping
        return
    runner = CliRunner()
    unpacked = runner.invoke(cli, ["unpack", "--json", "--show-passcode"], input=raw)
    assert unpacked.exit_code == 0, unpacked.output
    assert all(("repeated_headers" in json.loads(line)) == bool(frame.repeated_headers)
               for line, frame in zip(unpacked.stdout_bytes.splitlines(), frames, strict=True))
    repacked = runner.invoke(cli, ["pack", "--json"], input=unpacked.stdout_bytes)
    assert repacked.exit_code == 0, repacked.output
    assert repacked.stdout_bytes == raw
    assert frames_of(repacked.stdout_bytes) == frames_of(raw)


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
        (b"SEND\ncontent-length:99999999999999999999\n\nx\0", "frame of more than 67108864 bytes exceeds --max-frame-size (64 MiB)"),
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
