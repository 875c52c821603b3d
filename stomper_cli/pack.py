"""`stomper pack`: write raw frame bytes, from arguments or from JSON Lines on stdin."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from stomper import COMMANDS, Frame, FrameError
from stomper.parser import DEFAULT_MAX_FRAME_SIZE

from .errors import InputError
from .options import body_options, header_option, read_body, stomp_version_option
from .render import encode_in_wire_order

#: The keys a JSON Lines frame may have.
JSON_KEYS = frozenset({"command", "headers", "repeated_headers", "body", "body_base64"})


def _header_pairs(value: Any, key: str) -> list[tuple[str, str]]:
    """[name, value] string pairs from a JSON list; ValueError naming `key` otherwise."""
    if not isinstance(value, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
        raise ValueError(f'"{key}" must be a list of [name, value] pairs')
    if not all(isinstance(part, str) for pair in value for part in pair):
        raise ValueError(f'"{key}": header names and values must be strings')
    return [(name, text) for name, text in value]


def _headers_from_json(data: dict) -> list[tuple[str, str]]:
    """Every header occurrence: "headers" (an object, or a list of pairs), then "repeated_headers"."""
    headers = data.get("headers")
    if headers is None:
        items: list[tuple[str, str]] = []
    elif isinstance(headers, dict):
        if not all(isinstance(value, str) for value in headers.values()):
            raise ValueError('"headers": header values must be strings')
        items = list(headers.items())
    else:
        items = _header_pairs(headers, "headers")
    if "repeated_headers" in data:
        repeated = _header_pairs(data["repeated_headers"], "repeated_headers")
        names = {name for name, _ in items}
        missing = next((name for name, _ in repeated if name not in names), None)
        if missing is not None:
            raise ValueError(f'"repeated_headers" repeats {missing!r}, which "headers" does not have')
        items += repeated
    return items


def _body_from_json(data: dict) -> bytes:
    if "body" in data and "body_base64" in data:
        raise ValueError('give "body" or "body_base64", not both')
    if "body_base64" in data:
        encoded = data["body_base64"]
        if not isinstance(encoded, str):
            raise ValueError('"body_base64" must be a string')
        import base64  # JSON Lines input only: `pack COMMAND` starts without it

        try:
            return base64.b64decode(encoded, validate=True)
        except ValueError as error:  # binascii.Error, or non-ASCII text
            raise ValueError(f'"body_base64" is not valid base64: {error}') from None
    body = data.get("body", "")
    if not isinstance(body, str):
        raise ValueError('"body" must be a string')
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError('"body" holds a lone surrogate, which is not text: use "body_base64"') from None


def frame_from_json(data: Any) -> Frame:
    """A Frame from a JSON Lines object, as `stomper unpack --json` writes it.

    Keys: "command"; "headers" (an object, or a list of [name, value] pairs);
    "repeated_headers" (later occurrences of names in "headers"); "body" or
    "body_base64". ValueError or FrameError says what is wrong.
    """
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(data) - JSON_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}: expected {', '.join(sorted(JSON_KEYS))}")
    command = data.get("command")
    if not isinstance(command, str):
        raise ValueError('"command" must be a string')
    return Frame(command, _headers_from_json(data), _body_from_json(data))


#: A JSON line can be this many times the size of the frame it holds: a body or header byte written as \u00XX takes six.
JSON_EXPANSION = 6
#: What a JSON line adds around its frame's pieces besides that: the keys, quotes, brackets and commas of an object.
JSON_SLACK = 1024
#: A frame takes at most twice the bytes of its JSON line (a header's ':' is written '\c'), plus this: its content-length
#: line and NUL. Only a line long enough to hold a frame over the limit is measured by encoding.
FRAME_ADDS = 64


def json_line_limit(frame_limit: int) -> int:
    """The longest JSON line a frame within `frame_limit` bytes can take, as `unpack --json` writes it (or base64, 4/3)."""
    return JSON_EXPANSION * frame_limit + JSON_SLACK


def bounded_lines(stream: IO[bytes], limit: int, frame_limit: int) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line of `stream`; InputError for a line longer than `limit` bytes, read no further."""
    number = 0
    while line := stream.readline(limit + 1):
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            raise InputError(f"line {number}: longer than {limit} bytes, more than any frame within the frame size limit "
                             f"of {frame_limit} bytes takes as JSON")
        yield number, line


def frames_from_json_lines(stream: IO[bytes], limit: int = DEFAULT_MAX_FRAME_SIZE) -> Iterator[tuple[int, Frame]]:
    """(line number, Frame) for each non-blank JSON line; InputError names the bad line, or a frame over `limit` bytes.

    A line is read up to the longest a frame of `limit` bytes can take as
    JSON, so that any frame `unpack --json` or `subscribe --json` wrote can
    be packed or sent back, and memory stays bounded.
    """
    import json  # JSON Lines input only: `pack COMMAND` starts without it

    for number, line in bounded_lines(stream, json_line_limit(limit), limit):
        if not line.strip():
            continue
        try:
            frame = frame_from_json(json.loads(line))
        except RecursionError:
            raise InputError(f"line {number}: JSON nested too deeply") from None
        except (ValueError, FrameError) as error:
            raise InputError(f"line {number}: {error}") from None
        if 2 * len(line) + FRAME_ADDS > limit:
            _check_frame_size(frame, limit, number)
        yield number, frame


def _check_frame_size(frame: Frame, limit: int, number: int) -> None:
    try:
        size = len(frame.encode())
    except FrameError as error:
        raise InputError(f"line {number}: {error}") from None
    if size > limit:
        raise InputError(f"line {number}: the frame takes {size} bytes, over the frame size limit of {limit} bytes")


def write_frames(frames: Iterable[tuple[int, Frame]], version: str, out: IO[bytes]) -> None:
    for number, frame in frames:
        try:
            data = encode_in_wire_order(frame, version)
        except FrameError as error:
            raise InputError(f"line {number}: {error}") from None
        out.write(data)
        out.flush()


EXAMPLES = """Examples:

\b
  stomper pack SEND -H destination:/queue/a --body hello | stomper unpack
  echo '{"command": "SEND", "headers": [["destination", "/queue/a"]], "body": "hi"}' | stomper pack --json"""


@click.command(epilog=EXAMPLES)
@click.argument("command", required=False)
@header_option
@body_options
@stomp_version_option("1.2", "Encode for this STOMP version (escaping rules).")
@click.option("--json", "from_json", is_flag=True, help="Read JSON Lines frames from stdin instead of arguments.")
def pack(command: str | None, headers: list[tuple[str, str]], body: str | None, body_file: Any, stomp_version: str, from_json: bool) -> None:
    """Write a raw STOMP frame to stdout.

    With --json, read one frame per line from stdin:
    {"command": "SEND", "headers": {"destination": "/queue/a"}, "body": "hi"};
    headers may also be a list of [name, value] pairs; "repeated_headers"
    holds later occurrences of a name, as `stomper unpack --json` writes
    them; "body_base64" may replace "body" for binary bodies. A bad line is
    reported with its number after the frames before it were written.
    """
    out = sys.stdout.buffer
    if from_json:
        if command or headers or body is not None or body_file is not None:
            raise click.UsageError("--json reads frames from stdin: give no COMMAND, -H, --body or --body-file")
        write_frames(frames_from_json_lines(sys.stdin.buffer), stomp_version, out)
        return
    if not command:
        raise click.UsageError("missing COMMAND (or use --json)")
    if command.upper() not in COMMANDS:
        raise click.BadParameter(f"unknown command {command!r}: expected one of {', '.join(sorted(COMMANDS))}", param_hint="COMMAND")
    try:
        data = Frame(command, headers, read_body(body, body_file)).encode(stomp_version)
    except FrameError as error:
        raise click.UsageError(str(error)) from None
    out.write(data)
    out.flush()
