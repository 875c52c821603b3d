"""What pretty and JSON output show: bodies as sent, escaped control characters, bounded bodies, wire order, bounded memory."""

from __future__ import annotations

import io
import json
import re
import tracemalloc

import pytest
from cli_helpers import assert_one_error_line, run
from hypothesis import given, settings
from hypothesis import strategies as st
from test_app import run_in_terminal

from stomper import Frame, FrameParser
from stomper_cli.jsonlines import frame_json
from stomper_cli.render import HELD_BYTES, TERMINAL_MAX_BODY, FrameWriter, reindent_json

ANSI_STYLE = re.compile(rb"\x1b\[[0-9;]*m")


class Sink(io.StringIO):
    """A text stream with a binary buffer, as stdout is; `terminal` makes it claim to be a terminal."""

    def __init__(self, terminal: bool = False) -> None:
        super().__init__()
        self.buffer = io.BytesIO()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal

    def output(self) -> bytes:
        return self.getvalue().encode() + self.buffer.getvalue()


def written(frame: Frame, fmt: str = "pretty", terminal: bool = False, color: str = "auto", **options) -> bytes:
    sink = Sink(terminal)
    FrameWriter(fmt, color, stream=sink, **options).write(frame)
    return sink.output()


# JSON bodies are shown as sent, on a terminal and in a pipe.

EXACT_JSON = b'{"price": 0.1000000000000000055511151231257827, "x": 1e400, "dup": 1, "dup": 2, "s": "a\\" ,:{", "e": [{}, []]}'


def lexemes(text: str | bytes) -> list:
    """What a JSON text says, token for token: numbers as spelled, duplicate keys kept."""
    return json.loads(text, object_pairs_hook=list, parse_float=str, parse_int=str, parse_constant=str)


def shown_json(output: bytes) -> bytes:
    text = ANSI_STYLE.sub(b"", output)
    return text[text.index(b"{") : text.rindex(b"}") + 1]


@pytest.mark.parametrize("terminal", [True, False])
def test_json_bodies_are_shown_as_sent_never_reserialised(terminal):
    frame = Frame("MESSAGE", {"destination": "/q", "content-type": "application/json"}, EXACT_JSON)
    shown = shown_json(written(frame, terminal=terminal))
    assert lexemes(shown) == lexemes(EXACT_JSON)
    assert b"0.1000000000000000055511151231257827" in shown and b"1e400" in shown and shown.count(b'"dup"') == 2
    assert b'{\n  "price": ' in shown  # re-indented: whitespace between tokens is all that changes


def test_json_bodies_are_highlighted_on_a_terminal():
    frame = Frame("MESSAGE", {"destination": "/q", "content-type": "application/json"}, EXACT_JSON)
    output = written(frame, terminal=True, color="always")
    assert ANSI_STYLE.search(output.split(b"0.1000", 1)[0].rsplit(b"\n", 1)[-1])  # the body line is styled
    assert lexemes(shown_json(output)) == lexemes(EXACT_JSON)


def test_json_body_in_a_pipe_keeps_every_token_and_a_cut_one_is_shown_as_sent():
    raw = Frame("SEND", {"destination": "/q", "content-type": "application/json"}, EXACT_JSON).encode()
    result = run("unpack", input=raw)
    assert result.returncode == 0
    assert lexemes(shown_json(result.stdout)) == lexemes(EXACT_JSON)
    cut = run("unpack", "--max-body", "40", input=raw)
    assert b"\n\n" + EXACT_JSON[:40] + f"\n… {len(EXACT_JSON) - 40} more bytes\n".encode() in cut.stdout


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.lists(st.tuples(st.text(max_size=4), inner), max_size=4),
        max_leaves=12,
    ),
    st.sampled_from([(",", ":"), (", ", ": "), (" ,\t", " :\r\n")]),
)
def test_reindenting_changes_only_whitespace_between_tokens(value, separators):
    def dumps(item):  # tuples of pairs become objects with possibly repeated keys
        if isinstance(item, list) and item and all(isinstance(pair, tuple) for pair in item):
            return "{" + separators[0].join(json.dumps(key) + separators[1] + dumps(entry) for key, entry in item) + "}"
        if isinstance(item, list):
            return "[" + separators[0].join(map(dumps, item)) + "]"
        return json.dumps(item)

    text = dumps(value)
    assert lexemes(reindent_json(text)) == lexemes(text)
    assert reindent_json(text + " [") is None


# Control characters never reach the terminal raw.

INJECTION = b"MESSAGE\ndestination:/q\nx:\033[31mred\n\n\033]0;pwned\007\033[2JRED\0"
RAW_CONTROLS = (b"\x1b]0;pwned", b"\x07", b"\x1b[2J", b"\x1b[31mred")


def test_escape_injection_on_a_terminal_is_shown_escaped():
    output = run_in_terminal(["unpack"], INJECTION)
    for control in RAW_CONTROLS:
        assert control not in output
    text = ANSI_STYLE.sub(b"", output)
    assert b"\\x1b[31mred" in text and b"\\x1b]0;pwned\\x07\\x1b[2JRED" in text


def test_escape_injection_in_plain_text_is_shown_escaped():
    result = run("unpack", input=INJECTION)
    assert result.returncode == 0
    assert result.stdout == b"MESSAGE\ndestination: /q\nx: \\x1b[31mred\n\n\\x1b]0;pwned\\x07\\x1b[2JRED\n\n"


CONTROLS = "".join(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]))


@pytest.mark.parametrize("terminal", [True, False])
def test_every_c0_del_and_c1_character_is_escaped_in_names_values_and_bodies(terminal):
    headers = [("destination", "/q"), ("n\x1b\x9b\x7fame", "v" + CONTROLS + "[bold]markup[/bold]")]
    frame = Frame("SEND", headers, ("body" + CONTROLS[1:]).encode())  # a NUL would make it binary
    output = ANSI_STYLE.sub(b"", written(frame, terminal=terminal)).decode()
    assert set(output) & set(CONTROLS) <= {"\n", "\t"}  # a body keeps its layout
    assert "n\\x1b\\x9b\\x7fame" in output and "[bold]markup[/bold]" in output
    assert "v\\x00\\x01" in output and "body\\x01\\x02" in output and "\\x1f\\x7f\\x80" in output and "\\x9f" in output


def test_body_and_raw_formats_stay_byte_exact_on_a_terminal():
    frame = Frame("MESSAGE", {"destination": "/q", "x": "\x1b[31m"}, b"\x1b]0;pwned\x07\xff\x9b")
    assert written(frame, "body", terminal=True) == frame.body + b"\n"
    assert written(frame, "raw", terminal=True) == frame.encode()


def test_json_lines_carry_no_raw_control_character_and_read_back_the_same():
    frame = Frame("MESSAGE", {"destination": "/q", "x": "\x1b\x7f\x9b"}, "\x1b]0;\x07\x7f\x85\u2603".encode())
    line = written(frame, "json", terminal=True)
    assert not set(line.decode()[:-1]) & set(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]))
    assert json.loads(line) == frame_json(frame)
    assert json.loads(line)["body"].encode() == frame.body


# --max-body bounds what pretty output shows.


def test_max_body_shows_the_first_bytes_and_how_many_more():
    raw = Frame("SEND", {"destination": "/q"}, b"0123456789" * 10).encode()
    result = run("unpack", "--max-body", "10", input=raw)
    assert result.stdout.endswith(b"\n\n0123456789\n\xe2\x80\xa6 90 more bytes\n\n")
    assert b"0123456789" * 10 + b"\n\n" in run("unpack", input=raw).stdout  # all of it in a pipe by default
    assert b"0123456789" * 10 + b"\n\n" in run("unpack", "--max-body", "0", input=raw).stdout


def test_max_body_never_splits_a_character():
    frame = Frame("SEND", {"destination": "/q"}, "é" * 10)
    assert written(frame, max_body=3).endswith("\n\né\n… 18 more bytes\n\n".encode())


def test_max_body_bounds_hex_dumps():
    frame = Frame("SEND", {"destination": "/q"}, bytes(range(256)) * 4)
    output = written(frame, max_body=40).decode()
    assert output.count("|") == 6 and "00000020  " in output and "00000030" not in output
    assert output.endswith("… 984 more bytes\n\n")


def test_a_terminal_shows_4_kib_of_a_megabyte_binary_body_by_default():
    raw = Frame("MESSAGE", {"destination": "/q"}, bytes(range(256)) * 4096).encode()
    output = ANSI_STYLE.sub(b"", run_in_terminal(["unpack"], raw))
    assert output.count(b"\n") < TERMINAL_MAX_BODY // 16 + 20
    assert b"00000ff0  " in output and b"00001000" not in output
    assert f"… {256 * 4096 - TERMINAL_MAX_BODY} more bytes".encode() in output
    raw = Frame("MESSAGE", {"destination": "/q"}, bytes(2 * TERMINAL_MAX_BODY)).encode()
    assert ANSI_STYLE.sub(b"", run_in_terminal(["unpack", "--max-body", "0"], raw)).count(b"|") == 2 * 2 * TERMINAL_MAX_BODY // 16


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "nan", ""])
@pytest.mark.parametrize("command", [["unpack"], ["subscribe", "/queue/never-used"]])
def test_max_body_must_be_a_non_negative_integer(command, value):
    line = assert_one_error_line(run(*command, "--max-body", value), 2)
    assert "--max-body" in line


# Headers appear in wire order.


def test_repeated_headers_are_shown_in_wire_order():
    raw = b"SEND\ndestination:/q\nx:1\nx:2\ncontent-length:2\n\nhi\0"
    result = run("unpack", input=raw)
    assert result.stdout == b"SEND\ndestination: /q\nx: 1\nx: 2\ncontent-length: 2\n\nhi\n\n"
    table = ANSI_STYLE.sub(b"", written(Frame("SEND", [("x", "1"), ("y", "2"), ("x", "3")], b"hi"), terminal=True))
    rows = [line.split()[0] for line in table.splitlines()[1:4]]
    assert rows == [b"x", b"y", b"x"]
    assert b"content-length" not in table  # the frame was built, not read: nothing was added


def test_raw_output_keeps_the_wire_order_of_repeated_headers():
    raw = b"MESSAGE\ndestination:/q\nx:1\nx:2\ncontent-length:2\n\nhi\0"
    [frame] = FrameParser().feed(raw)
    assert written(frame, "raw") == raw


def test_passcode_is_masked_in_every_occurrence():
    frame = Frame("CONNECT", [("login", "me"), ("passcode", "hunter2"), ("passcode", "again")])
    for fmt, terminal in (("pretty", True), ("pretty", False), ("json", False)):
        output = written(frame, fmt, terminal=terminal)
        assert b"hunter2" not in output and b"again" not in output and output.count(b"***") == 2
    assert b"again" in written(frame, "json", show_secrets=True)


# One frame's output needs memory of the order of the frame, not several copies of it.


class CountingSink:
    """Discards what is written, counting it, so that only the writer's own memory is measured."""

    def __init__(self) -> None:
        self.size = 0
        self.buffer = self

    def write(self, data) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(("body", "output_size"), [(bytes(16 << 20), 6 * (16 << 20)), (b"\xff" * (16 << 20), 4 * (16 << 20) // 3)])
def test_json_output_of_a_large_body_needs_under_4x_the_frame_size(body, output_size):
    frame = Frame("MESSAGE", {"destination": "/q"}, body)
    sink = CountingSink()
    tracemalloc.start()
    try:
        FrameWriter("json", stream=sink).write(frame)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sink.size > output_size  # NULs become \u0000; other bytes base64
    assert peak < 4 * len(body), f"peak {peak} bytes for a {len(body)}-byte body"


class _CountingRaw(io.RawIOBase):
    """An unbuffered binary stdout (as under `python -u` or PYTHONUNBUFFERED) that counts its write calls."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.writes.append(bytes(data))
        return len(data)


class _UnbufferedStdout(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.buffer = _CountingRaw()


@pytest.mark.parametrize("fmt", ["json", "body", "raw", "pretty"])
def test_a_batch_is_one_write_even_to_an_unbuffered_stdout(fmt):
    stdout = _UnbufferedStdout()
    writer = FrameWriter(fmt, stream=stdout)
    frames = [Frame("MESSAGE", {"destination": "/queue/a", "message-id": str(n)}, b"body %d" % n) for n in range(100)]
    for frame in frames:
        writer.write(frame, flush=False)
    assert stdout.buffer.writes == []  # nothing is written before the batch is flushed
    writer.flush()
    assert len(stdout.buffer.writes) == 1
    one_at_a_time = _UnbufferedStdout()
    for frame in frames:
        FrameWriter(fmt, stream=one_at_a_time).write(frame)
    assert stdout.buffer.writes[0] == b"".join(one_at_a_time.buffer.writes)


def test_a_held_batch_is_written_out_once_it_reaches_held_bytes():
    stdout = _UnbufferedStdout()
    writer = FrameWriter("body", stream=stdout)
    body = b"x" * (HELD_BYTES // 4)
    for _ in range(4):
        writer.write(Frame("MESSAGE", {}, body), flush=False)
    written = b"".join(stdout.buffer.writes)  # a batch of large messages is not all held in memory
    assert len(written) >= HELD_BYTES and ((body + b"\n") * 4).startswith(written)
    writer.flush()
    assert b"".join(stdout.buffer.writes) == (body + b"\n") * 4
