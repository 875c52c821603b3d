"""The one output pipeline for frames: Rich on a terminal, plain text in pipes, JSON Lines, bodies or raw bytes.

Formats (`FORMATS`):

- ``pretty``: for people. On a terminal (or with ``--color always``) Rich
  renders the command styled by kind, the headers as a table and the body as
  text, syntax-highlighted for JSON/XML content types, hex-dumped when binary.
  Into a pipe the same content is written as plain text without colour codes.
- ``json``: one JSON object per line: ``{"command", "headers", "body"}``,
  with ``"body_base64"`` instead of ``"body"`` when the body is not UTF-8.
  Headers hold the first occurrence of each name.
- ``body``: each body followed by a newline.
- ``raw``: the frames as wire bytes, readable by ``stomper unpack``.

The passcode header is masked in pretty and json output. Rich is imported
only by the functions that draw with it.

For other commands (the REPL): `FrameWriter` writes frames to a stream in
any format.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from typing import IO, Any

from stomper import Frame

from .errors import MASK

FORMATS = ("pretty", "json", "body", "raw")
SECRET_HEADERS = frozenset({"passcode"})

#: Rich style per command kind.
COMMAND_STYLES = {
    "CONNECT": "bold cyan", "STOMP": "bold cyan", "CONNECTED": "bold cyan", "DISCONNECT": "bold cyan",
    "SEND": "bold green", "MESSAGE": "bold green",
    "SUBSCRIBE": "bold magenta", "UNSUBSCRIBE": "bold magenta",
    "ACK": "bold yellow", "NACK": "bold yellow",
    "BEGIN": "bold blue", "COMMIT": "bold blue", "ABORT": "bold blue",
    "RECEIPT": "green", "ERROR": "bold red",
}


def is_terminal(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def use_color(stream: IO[Any], mode: str = "auto") -> bool:
    """Whether to colour `stream`: --color always/never wins; auto means a terminal, NO_COLOR unset, TERM not dumb."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    return is_terminal(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def default_format(stream: IO[Any]) -> str:
    """pretty on a terminal, json into a pipe or file."""
    return "pretty" if is_terminal(stream) else "json"


def shown_headers(frame: Frame, show_secrets: bool = False) -> list[tuple[str, str]]:
    """Every header occurrence, with secret values (the passcode) masked."""
    return [(name, value if show_secrets or name not in SECRET_HEADERS else MASK) for name, value in frame.header_items()]


def frame_json(frame: Frame, show_secrets: bool = False) -> dict[str, Any]:
    """The JSON Lines object for `frame`: first occurrence of each header wins."""
    headers = {name: value if show_secrets or name not in SECRET_HEADERS else MASK for name, value in frame.headers.items()}
    data: dict[str, Any] = {"command": frame.command, "headers": headers}
    try:
        data["body"] = frame.body.decode("utf-8")
    except UnicodeDecodeError:
        data["body_base64"] = base64.b64encode(frame.body).decode("ascii")
    return data


def json_line(frame: Frame, show_secrets: bool = False) -> str:
    return json.dumps(frame_json(frame, show_secrets), ensure_ascii=False) + "\n"


def body_kind(frame: Frame) -> str:
    """'json', 'xml', 'text' or 'binary': how to show the body."""
    if b"\0" in frame.body:
        return "binary"
    try:
        frame.body.decode("utf-8")
    except UnicodeDecodeError:
        return "binary"
    content_type = frame.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.endswith(("/json", "+json")):
        return "json"
    if content_type.endswith(("/xml", "+xml")):
        return "xml"
    return "text"


def hex_dump(data: bytes) -> str:
    """A `hexdump -C` style dump: offset, 16 hex bytes, printable ASCII."""
    lines = []
    for start in range(0, len(data), 16):
        chunk = data[start : start + 16]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk[:8]) + "  " + " ".join(f"{byte:02x}" for byte in chunk[8:])
        text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{start:08x}  {hex_part:<48}  |{text}|")
    return "\n".join(lines)


def body_text(frame: Frame) -> str:
    """The body as shown to people: text (JSON re-indented) or a hex dump."""
    kind = body_kind(frame)
    if kind == "binary":
        return hex_dump(frame.body)
    text = frame.body.decode("utf-8")
    if kind == "json":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    return text


def plain_text(frame: Frame, show_secrets: bool = False) -> str:
    """The pretty content without colour: command, `name: value` lines, a blank line, the body, a blank line."""
    lines = [frame.command]
    lines.extend(f"{name}: {value}" for name, value in shown_headers(frame, show_secrets))
    lines.append("")
    if frame.body:
        lines.append(body_text(frame))
    return "\n".join(lines) + "\n\n"


def frame_renderable(frame: Frame, show_secrets: bool = False):
    """A Rich renderable for `frame` (imports Rich)."""
    from rich.console import Group
    from rich.syntax import Syntax
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text(frame.command, style=COMMAND_STYLES.get(frame.command, "bold"))]
    headers = shown_headers(frame, show_secrets)
    if headers:
        table = Table(show_header=False, box=None, padding=(0, 1, 0, 2))
        table.add_column(style="cyan", no_wrap=True)
        table.add_column(overflow="fold")
        for name, value in headers:
            table.add_row(name, Text(value, style="dim" if value == MASK else ""))
        parts.append(table)
    if frame.body:
        kind = body_kind(frame)
        text = body_text(frame)
        if kind in ("json", "xml"):
            parts.append(Syntax(text, kind, theme="ansi_dark", background_color="default", word_wrap=True))
        else:
            parts.append(Text(text, style="dim" if kind == "binary" else ""))
    parts.append(Text(""))
    return Group(*parts)


def make_console(file: IO[str] | None = None, color: str = "auto"):
    """A Rich Console on `file` (stdout by default) honouring --color and NO_COLOR."""
    from rich.console import Console

    file = file or sys.stdout
    colored = use_color(file, color)
    return Console(file=file, force_terminal=True if color == "always" else None, no_color=not colored, highlight=False, soft_wrap=False)


class FrameWriter:
    """Writes frames one at a time to a stream in one format, flushing after each.

    `stream` is a text stream with a binary `.buffer` (stdout by default).
    `version` is what `raw` encodes in. Pretty output goes through Rich only
    when the stream is a terminal or colour is forced; otherwise plain text.
    """

    def __init__(
        self, fmt: str | None = None, color: str = "auto", stream: IO[str] | None = None, version: str = "1.2", show_secrets: bool = False
    ) -> None:
        self.stream = stream or sys.stdout
        self.format = fmt or default_format(self.stream)
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}")
        self.version = version
        self.show_secrets = show_secrets
        self.console = None
        if self.format == "pretty" and (is_terminal(self.stream) or color == "always"):
            self.console = make_console(self.stream, color)

    def write(self, frame: Frame) -> None:
        if self.console is not None:
            self.console.print(frame_renderable(frame, self.show_secrets))
            self.stream.flush()
            return
        if self.format == "pretty":
            data = plain_text(frame, self.show_secrets).encode("utf-8")
        elif self.format == "json":
            data = json_line(frame, self.show_secrets).encode("utf-8")
        elif self.format == "body":
            data = frame.body + b"\n"
        else:
            data = frame.encode(self.version)
        self.stream.flush()
        buffer = getattr(self.stream, "buffer", None)
        if buffer is None:
            self.stream.write(data.decode("utf-8", "surrogateescape"))
        else:
            buffer.write(data)
            buffer.flush()
        self.stream.flush()
