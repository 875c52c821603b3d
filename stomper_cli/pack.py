"""`stomper pack`: write raw frame bytes, from arguments or from JSON Lines on stdin."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from stomper import COMMANDS, Frame, FrameError

from .errors import InputError
from .options import body_options, header_option, read_body, stomp_version_option


def frame_from_json(data: Any) -> Frame:
    """A Frame from a JSON Lines object: command, headers (object or [name, value] list), body or body_base64."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    command = data.get("command")
    if not isinstance(command, str):
        raise ValueError('"command" must be a string')
    headers = data.get("headers") or {}
    if isinstance(headers, dict):
        items = list(headers.items())
    elif isinstance(headers, list) and all(isinstance(pair, list) and len(pair) == 2 for pair in headers):
        items = [tuple(pair) for pair in headers]
    else:
        raise ValueError('"headers" must be an object or a list of [name, value] pairs')
    if any(not isinstance(part, str) for pair in items for part in pair):
        raise ValueError("header names and values must be strings")
    if "body_base64" in data:
        import base64

        body: bytes | str = base64.b64decode(data["body_base64"], validate=True)
    else:
        body = data.get("body", "")
        if not isinstance(body, str):
            raise ValueError('"body" must be a string')
    return Frame(command, items, body)


def frames_from_json_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, Frame]]:
    """(line number, Frame) for each non-blank JSON line; InputError names the bad line."""
    import binascii
    import json

    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, frame_from_json(json.loads(line))
        except (ValueError, binascii.Error, FrameError) as error:
            raise InputError(f"line {number}: {error}") from None


def write_frames(frames: Iterable[tuple[int, Frame]], version: str, out: IO[bytes]) -> None:
    for number, frame in frames:
        try:
            data = frame.encode(version)
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
    headers may also be a list of [name, value] pairs (keeps repeated headers),
    and "body_base64" may replace "body" for binary bodies.
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
