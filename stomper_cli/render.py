"""The one output pipeline for frames: Rich on a terminal, plain text in pipes, JSON Lines, bodies or raw bytes.

Formats (`FORMATS`):

- ``pretty``: for people. On a terminal (or with ``--color always``) Rich
  renders the command styled by kind, the headers as a table and the body as
  text, syntax-highlighted for JSON/XML content types, hex-dumped when binary.
  Into a pipe the same content is written as plain text without colour codes.
  Headers appear in wire order. Bodies are shown as sent, never re-serialised
  (a whole JSON body is re-indented, changing only whitespace between
  tokens), and at most `max_body` bytes of each (4 KiB on a terminal by default).
  Control characters are shown escaped (``\\x1b``), so a publisher cannot
  drive the reader's terminal.
- ``json``: one JSON object per line: ``{"command", "headers", "body"}``,
  with ``"body_base64"`` instead of ``"body"`` when the body is not UTF-8,
  and ``"repeated_headers": [[name, value], ...]`` only when a header name
  occurs more than once (``headers`` holds each first occurrence).
  `stomper pack --json` reads it back to the same frame. Written by
  `stomper_cli.jsonlines`, which encodes the body piece by piece, so one
  frame needs little memory beyond its own size.
- ``body``: each body followed by a newline, byte for byte.
- ``raw``: the frames as wire bytes, readable by ``stomper unpack``.

The passcode header is masked in pretty and json output. Rich is imported
only by the functions that draw with it.

For other commands (the REPL): `FrameWriter` writes frames to a stream in
any format.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from collections.abc import Callable
from typing import IO, Any, NamedTuple

import click

from stomper import Frame

FORMATS = ("pretty", "json", "body", "raw")
SECRET_HEADERS = frozenset({"passcode"})
#: What a secret header value is shown as.
MASK = "***"
#: Bytes of each body that pretty output shows on a terminal unless --max-body says otherwise.
TERMINAL_MAX_BODY = 4096
#: What a writer holds of a batch before it writes it out (it still flushes only when asked).
HELD_BYTES = 256 * 1024

#: JSON bodies up to this size that are shown whole are re-indented (whitespace only); larger ones are shown as sent.
REINDENT_LIMIT = 1 << 20
#: The tokens of a valid JSON text: strings, punctuation, and numbers/literals.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+', re.S)

#: Rich style per command kind.
COMMAND_STYLES = {
    "CONNECT": "bold cyan", "STOMP": "bold cyan", "CONNECTED": "bold cyan", "DISCONNECT": "bold cyan",
    "SEND": "bold green", "MESSAGE": "bold green",
    "SUBSCRIBE": "bold magenta", "UNSUBSCRIBE": "bold magenta",
    "ACK": "bold yellow", "NACK": "bold yellow",
    "BEGIN": "bold blue", "COMMIT": "bold blue", "ABORT": "bold blue",
    "RECEIPT": "green", "ERROR": "bold red",
}

#: C0, DEL and C1: the code points a terminal may act on instead of showing.
CONTROL_CODES = (*range(0x20), 0x7F, *range(0x80, 0xA0))
_ESCAPE_ALL = {code: f"\\x{code:02x}" for code in CONTROL_CODES}
_ESCAPE_KEEPING_LAYOUT = {code: text for code, text in _ESCAPE_ALL.items() if code not in (0x09, 0x0A)}


def max_body_option(function: Callable) -> Callable:
    """--max-body BYTES for commands that write frames in pretty format."""
    return click.option(
        "--max-body", type=click.IntRange(min=0), metavar="BYTES",
        help=f"Pretty output shows at most BYTES of each body (default {TERMINAL_MAX_BODY} on a terminal, all elsewhere); 0 shows all.",
    )(function)


def _template_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Callable | None:
    if value is None:
        return None
    from .template import TemplateError, compile_template

    try:
        return compile_template(value)
    except TemplateError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def template_option(function: Callable) -> Callable:
    """--template TEMPLATE: each frame written through a template (see stomper_cli.template), byte for byte."""
    return click.option(
        "--template", callback=_template_callback, metavar="TEMPLATE",
        help="Write each message as TEMPLATE: {command}, {HEADER} or {header:NAME}, {body}, {body_base64}, {body_length}, {time}, "
             "{count}; escapes \\n \\t \\0. No newline is added.",
    )(function)


def _delimiter_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> bytes | None:
    if value is None:
        return None
    from .template import TemplateError, compile_template

    try:
        return compile_template(value.replace("{", "{{").replace("}", "}}"))(None)  # escapes only: no placeholders
    except TemplateError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def delimiter_options(function: Callable) -> Callable:
    """--delimiter STR and -0: what ends each body in body format (default a newline)."""
    function = click.option("-0", "null_delimiter", is_flag=True, help="End each body with NUL (same as --delimiter '\\0'), for xargs -0.")(function)
    return click.option("--delimiter", callback=_delimiter_callback, metavar="STR",
                        help="End each body with STR in body format (escapes \\n \\t \\0; default \\n).")(function)


def choose_delimiter(delimiter: bytes | None, null_delimiter: bool) -> bytes:
    """The body delimiter from --delimiter and -0 (a usage error to give both)."""
    if delimiter is not None and null_delimiter:
        raise click.UsageError("give --delimiter or -0, not both")
    return b"\0" if null_delimiter else b"\n" if delimiter is None else delimiter


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


def visible(text: str, keep_layout: bool = False) -> str:
    """`text` with control characters written as ``\\xNN``; `keep_layout` keeps newlines and tabs (for bodies)."""
    return text.translate(_ESCAPE_KEEPING_LAYOUT if keep_layout else _ESCAPE_ALL)


def shown_value(name: str, value: str, show_secrets: bool) -> str:
    return value if show_secrets or name not in SECRET_HEADERS else MASK


def wire_order(frame: Frame) -> list[tuple[str, str]]:
    """Every header occurrence in the order it is written on the wire.

    A Frame keeps first occurrences in `headers` and later ones apart in
    `repeated_headers`, so where a repeated occurrence stood among the other
    names is not kept. This is the order stomper writes (`Frame.encode`,
    `encode_in_wire_order`): first occurrences, repeated ones, and last the
    content-length the encoder adds. A frame read off the wire is shown in
    its wire order whenever its repeated occurrences came after every other
    header but a final content-length, as in every frame stomper writes.
    """
    items = list(frame.headers.items())
    if frame.repeated_headers and items and items[-1][0] == "content-length":
        return [*items[:-1], *frame.repeated_headers, items[-1]]
    return [*items, *frame.repeated_headers]


def encode_in_wire_order(frame: Frame, version: str) -> bytes:
    """`frame.encode(version)`, with a matching last content-length written after the repeated headers (see `wire_order`)."""
    headers, body, repeated = frame.headers, frame.body, frame.repeated_headers
    if (
        repeated and list(headers)[-1] == "content-length" and headers["content-length"] == str(len(body))
        and all(name != "content-length" for name, _ in repeated)
    ):
        return Frame(frame.command, wire_order(frame)[:-1], body).encode(version, content_length=True)
    return frame.encode(version)


def shown_headers(frame: Frame, show_secrets: bool = False) -> list[tuple[str, str]]:
    """Every header occurrence in wire order, with secret values (the passcode) masked."""
    return [(name, shown_value(name, value, show_secrets)) for name, value in wire_order(frame)]


def reindent_json(text: str) -> str | None:
    """`text` indented by two spaces, or None if it is not one JSON value.

    Lossless: only the whitespace between tokens changes. Every string and
    number keeps its exact spelling and every duplicate key stays, which a
    json.loads/json.dumps round trip would not promise.
    """
    import json  # loaded for pretty output only, not at every start-up

    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return None
    tokens = _JSON_TOKEN.findall(text)
    pieces: list[str] = []
    depth = 0
    for index, token in enumerate(tokens):
        if token in ("}", "]"):
            depth -= 1
            if tokens[index - 1] not in ("{", "["):
                pieces.append("\n" + "  " * depth)
            pieces.append(token)
        elif token in ("{", "["):
            depth += 1
            pieces.append(token)
            if tokens[index + 1] not in ("}", "]"):
                pieces.append("\n" + "  " * depth)
        elif token == ",":
            pieces.append(",\n" + "  " * depth)
        elif token == ":":
            pieces.append(": ")
        else:
            pieces.append(token)
    return "".join(pieces)


class BodyView(NamedTuple):
    """How pretty output shows a body: `kind` ('json', 'xml', 'text', 'binary'), `text` to show, `more` bytes left out."""

    kind: str
    text: str
    more: int


def body_view(frame: Frame, max_body: int = 0) -> BodyView:
    """The first `max_body` bytes of the body (all for 0) as escaped text or a hex dump; never re-serialised.

    A JSON body shown whole is re-indented, which changes only whitespace between tokens.
    """
    body = frame.body
    shown = body[:max_body] if 0 < max_body < len(body) else body
    more = len(body) - len(shown)
    try:
        if b"\0" in shown:
            raise UnicodeDecodeError("utf-8", shown, 0, 1, "NUL")
        # Truncated: an incomplete last character is held back and counted as left out.
        text = codecs.getincrementaldecoder("utf-8")().decode(shown, final=not more)
    except UnicodeDecodeError:
        return BodyView("binary", hex_dump(shown), more)
    if more:
        more += len(shown) - len(text.encode("utf-8"))
    content_type = frame.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = "json" if content_type.endswith(("/json", "+json")) else "xml" if content_type.endswith(("/xml", "+xml")) else "text"
    if kind == "json" and not more and len(shown) <= REINDENT_LIMIT:
        text = reindent_json(text) or text
    return BodyView(kind, visible(text, keep_layout=True), more)


def more_bytes_note(more: int) -> str:
    return f"… {more} more bytes"


def hex_dump(data: bytes) -> str:
    """A `hexdump -C` style dump: offset, 16 hex bytes, printable ASCII."""
    lines = []
    for start in range(0, len(data), 16):
        chunk = data[start : start + 16]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk[:8]) + "  " + " ".join(f"{byte:02x}" for byte in chunk[8:])
        text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{start:08x}  {hex_part:<48}  |{text}|")
    return "\n".join(lines)


def plain_text(frame: Frame, show_secrets: bool = False, max_body: int = 0) -> str:
    """The pretty content without colour: command, `name: value` lines, a blank line, the body, a blank line."""
    lines = [visible(frame.command)]
    lines.extend(f"{visible(name)}: {visible(value)}" for name, value in shown_headers(frame, show_secrets))
    lines.append("")
    if frame.body:
        view = body_view(frame, max_body)
        lines.append(view.text)
        if view.more:
            lines.append(more_bytes_note(view.more))
    return "\n".join(lines) + "\n\n"


def frame_renderable(frame: Frame, show_secrets: bool = False, max_body: int = 0):
    """A Rich renderable for `frame` (imports Rich). Every text is a Text, never markup."""
    from rich.console import Group
    from rich.syntax import Syntax
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text(visible(frame.command), style=COMMAND_STYLES.get(frame.command, "bold"))]
    headers = shown_headers(frame, show_secrets)
    if headers:
        table = Table(show_header=False, box=None, padding=(0, 1, 0, 2))
        table.add_column(style="cyan", no_wrap=True)
        table.add_column(overflow="fold")
        for name, value in headers:
            table.add_row(Text(visible(name)), Text(visible(value), style="dim" if value == MASK else ""))
        parts.append(table)
    if frame.body:
        view = body_view(frame, max_body)
        if view.kind in ("json", "xml"):
            parts.append(Syntax(view.text, view.kind, theme="ansi_dark", background_color="default", word_wrap=True))
        else:
            parts.append(Text(view.text, style="dim" if view.kind == "binary" else ""))
        if view.more:
            parts.append(Text(more_bytes_note(view.more), style="dim italic"))
    parts.append(Text(""))
    return Group(*parts)


def make_console(file: IO[str] | None = None, color: str = "auto"):
    """A Rich Console on `file` (stdout by default) honouring --color and NO_COLOR."""
    from rich.console import Console

    file = file or sys.stdout
    colored = use_color(file, color)
    return Console(file=file, force_terminal=True if color == "always" else None, no_color=not colored, highlight=False, soft_wrap=False)


class FrameWriter:
    """Writes frames one at a time to a stream in one format, flushing after each unless asked not to.

    `stream` is a text stream with a binary `.buffer` (stdout by default).
    `version` is what `raw` encodes in. Pretty output goes through Rich only
    when the stream is a terminal or colour is forced; otherwise plain text.
    `max_body` bounds the body bytes pretty output shows (0: all; None:
    `TERMINAL_MAX_BODY` on a terminal, all elsewhere).
    """

    def __init__(
        self, fmt: str | None = None, color: str = "auto", stream: IO[str] | None = None, version: str = "1.2",
        show_secrets: bool = False, max_body: int | None = None, template: Callable | None = None, delimiter: bytes = b"\n",
    ) -> None:
        self.stream = stream or sys.stdout
        self.format = "template" if template is not None else fmt or default_format(self.stream)
        if self.format not in FORMATS and template is None:
            raise ValueError(f"unknown format {self.format!r}")
        self.template = template
        self.delimiter = delimiter
        self.count = 0
        self.version = version
        self.show_secrets = show_secrets
        terminal = is_terminal(self.stream)
        self.max_body = max_body if max_body is not None else TERMINAL_MAX_BODY if terminal else 0
        self.console = None
        self._held: list[bytes] = []
        self._held_size = 0
        if self.format == "pretty" and (terminal or color == "always"):
            self.console = make_console(self.stream, color)
        if self.format == "json":
            from . import jsonlines  # loaded for JSON Lines output only

            self._json_lines = jsonlines

    def write(self, frame: Frame, flush: bool = True) -> None:
        """Write one frame; with flush=False it may wait in this writer's buffer until `flush()`.

        Writing in batches and flushing once per batch is what lets `subscribe`
        keep up with a broker: one system call per batch instead of per message.
        The writer keeps the batch itself, so this holds even when stdout is
        unbuffered (`python -u`, PYTHONUNBUFFERED).
        """
        self.count += 1
        if self.console is not None:
            self.console.print(frame_renderable(frame, self.show_secrets, self.max_body))
            self.stream.flush()
            return
        if self.format == "body":
            self._hold(frame.body)
            self._hold(self.delimiter)
        elif self.format == "json":
            for piece in self._json_lines.json_line_pieces(frame, self.show_secrets):
                self._hold(piece)
        elif self.format == "pretty":
            self._hold(plain_text(frame, self.show_secrets, self.max_body).encode("utf-8"))
        elif self.template is not None:
            self._hold(self.template(frame, self.count))
        else:
            self._hold(encode_in_wire_order(frame, self.version))
        if flush:
            self.flush()

    def _hold(self, piece: bytes) -> None:
        """Keep `piece` for the next write; write out once the held bytes reach `HELD_BYTES`."""
        self._held.append(piece)
        self._held_size += len(piece)
        if self._held_size >= HELD_BYTES:
            self._write_held()

    def _write_held(self) -> None:
        if not self._held:
            return
        data = b"".join(self._held) if len(self._held) > 1 else self._held[0]
        self._held.clear()
        self._held_size = 0
        buffer = getattr(self.stream, "buffer", None)
        self.stream.flush()  # anything written to the text layer first comes out first
        if buffer is None:
            self.stream.write(data.decode("utf-8", "surrogateescape"))
        else:
            buffer.write(data)

    def flush(self) -> None:
        """Write out what `write(..., flush=False)` held, and flush the stream."""
        self._write_held()
        buffer = getattr(self.stream, "buffer", None)
        if buffer is not None:
            buffer.flush()
        self.stream.flush()
