"""Output templates: `--template '{destination}\\t{body}\\n'`, like kcat's `-f`.

A template is compiled once into a list of parts, so writing a message
costs one pass over the parts and no parsing. Placeholders:

    {command}          the frame's command (MESSAGE)
    {NAME}             the header NAME, e.g. {destination}, {message-id}
    {header:NAME}      the header NAME, for names that are also placeholder words
    {body}             the body, byte for byte
    {body_base64}      the body in base64
    {body_length}      the body's length in bytes
    {time}             when the frame was received, ISO 8601 in UTC
    {count}            the message counter, from 1
    {{ and }}          literal braces

Escapes: \\n, \\t, \\r, \\0 (NUL) and \\\\. A missing header renders empty.
Nothing is added at the end: write `\\n` when each message should end a line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime

from stomper.frame import Frame

#: Placeholder words that are not header names.
WORDS = ("command", "body", "body_base64", "body_length", "time", "count")
_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "0": b"\0", "\\": b"\\"}
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\\(.?)|[{}]", re.DOTALL)

Part = Callable[[Frame, int, datetime], bytes]


class TemplateError(ValueError):
    """A template that cannot be compiled; the message says where."""


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def _word_part(word: str) -> Part:
    return {
        "command": lambda frame, count, now: _text(frame.command),
        "body": lambda frame, count, now: frame.body,
        "body_base64": lambda frame, count, now: base64.b64encode(frame.body),
        "body_length": lambda frame, count, now: b"%d" % len(frame.body),
        "time": lambda frame, count, now: _text(now.isoformat(timespec="microseconds")),
        "count": lambda frame, count, now: b"%d" % count,
    }[word]


def _header_part(name: str) -> Part:
    return lambda frame, count, now: _text(frame.headers.get(name, ""))


def _placeholder(inner: str, position: int) -> Part:
    if inner in WORDS:
        return _word_part(inner)
    name = inner[len("header:"):] if inner.startswith("header:") else inner
    if not name:
        raise TemplateError(f"empty placeholder at character {position + 1}")
    return _header_part(name)


def _literal(data: bytes) -> Part:
    return lambda frame, count, now: data


def compile_template(template: str) -> Callable[[Frame, int, datetime | None], bytes]:
    """Compile `template` into a function (frame, count, received_at) -> bytes; raises TemplateError."""
    parts: list[Part] = []
    literal = bytearray()
    position = 0
    for match in _TOKEN.finditer(template):
        literal += _text(template[position:match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal += token[0].encode()
        elif token.startswith("\\"):
            escape = _ESCAPES.get(match.group(2))
            if escape is None:
                raise TemplateError(f"unknown escape {token!r} at character {match.start() + 1}: use \\n, \\t, \\r, \\0 or \\\\")
            literal += escape
        elif match.group(1) is not None:
            if literal:
                parts.append(_literal(bytes(literal)))
                literal = bytearray()
            parts.append(_placeholder(match.group(1), match.start()))
        else:
            raise TemplateError(f"unmatched {token!r} at character {match.start() + 1}: write {token * 2} for a literal brace")
    literal += _text(template[position:])
    if literal:
        parts.append(_literal(bytes(literal)))

    def render(frame: Frame, count: int = 1, received_at: datetime | None = None) -> bytes:
        now = received_at or datetime.now(UTC)
        return b"".join(part(frame, count, now) for part in parts)

    return render
