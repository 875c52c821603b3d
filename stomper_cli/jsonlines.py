"""JSON Lines: one frame per line as `{"command", "headers", "body"}` (see `stomper_cli.render` for the format).

A body that is not UTF-8 goes as ``"body_base64"``; a header name that
occurs more than once adds ``"repeated_headers"``; the passcode is masked
unless asked for. A large body is encoded a piece at a time, so one frame
needs little memory beyond its own size. Loaded only by what writes JSON
Lines, so that other commands start without the json module.
"""

from __future__ import annotations

import base64
import codecs
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from stomper import Frame

from .render import SECRET_HEADERS, shown_value

#: Body bytes encoded at a time (a multiple of 3, so base64 pieces join without padding).
JSON_BODY_CHUNK = 48 * 1024
#: JSON escapes C0 itself; DEL and C1 are escaped too, so no JSON line carries a raw control character.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0))}


def frame_head(frame: Frame, show_secrets: bool = False) -> dict[str, Any]:
    """The JSON Lines object for `frame` without its body."""
    headers = frame.headers
    if show_secrets or SECRET_HEADERS.isdisjoint(headers):
        shown = dict(headers)
    else:
        shown = {name: shown_value(name, value, show_secrets) for name, value in headers.items()}
    data: dict[str, Any] = {"command": frame.command, "headers": shown}
    if frame.repeated_headers:
        data["repeated_headers"] = [[name, shown_value(name, value, show_secrets)] for name, value in frame.repeated_headers]
    return data


def _utf8_pieces(data: bytes) -> Iterator[str]:
    """`data` decoded as UTF-8 a chunk at a time; UnicodeDecodeError if it is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(data), JSON_BODY_CHUNK):
        yield decoder.decode(view[start : start + JSON_BODY_CHUNK], final=start + JSON_BODY_CHUNK >= len(data))


def is_utf8(data: bytes) -> bool:
    """Whether `data` is UTF-8 text, checked without holding a decoded copy."""
    try:
        for _ in _utf8_pieces(data):
            pass
    except UnicodeDecodeError:
        return False
    return True


def frame_json(frame: Frame, show_secrets: bool = False) -> dict[str, Any]:
    """The JSON Lines object for `frame`, body included (`json_line_pieces` writes the same without building it)."""
    data = frame_head(frame, show_secrets)
    if is_utf8(frame.body):
        data["body"] = frame.body.decode("utf-8")
    else:
        data["body_base64"] = base64.b64encode(frame.body).decode("ascii")
    return data


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def _one_line_encoder() -> Callable[[Any], str]:
    """`json.dumps(value, ensure_ascii=False)`, built once instead of once per message.

    `json.dumps` with any option makes a new encoder on every call, and even
    a kept `JSONEncoder` makes a new C encoder in each `encode`. Keeping the
    C encoder itself (what `encode` would build) saves a third of a line's
    cost; where the running Python has no such encoder, or it does not give
    exactly what `json.dumps` gives, the public encoder is used.
    """
    public = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        encoder = make(None, _refuse, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)  # type: ignore[misc]
        sample = {"a": ["\x00\u2028\"\\", 1, None], "b": {}}
        if "".join(encoder(sample, 0)) != json.dumps(sample, ensure_ascii=False):
            return public
    except TypeError:  # no C encoder, or one with another signature
        return public
    join = "".join
    return lambda value: join(encoder(value, 0))


_encode_json = _one_line_encoder()


def _json_text(value: Any) -> str:
    text = _encode_json(value)
    if text.isascii() and "\x7f" not in text:
        return text  # nothing to escape: translate costs more than the encoding itself
    return text.translate(_JSON_ESCAPES)


def small_json_line(frame: Frame, show_secrets: bool = False) -> bytes:
    """The JSON line for a frame whose body is at most `JSON_BODY_CHUNK` bytes (nearly every message): one encoding."""
    data = frame_head(frame, show_secrets)
    body = frame.body
    try:
        data["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        data["body_base64"] = base64.b64encode(body).decode("ascii")
    return (_json_text(data) + "\n").encode()


def json_line_pieces(frame: Frame, show_secrets: bool = False) -> Iterable[bytes]:
    """The JSON line for `frame` in pieces, the body encoded a chunk at a time (memory stays near the frame's size).

    Nearly every message is small enough to be one piece, given without a
    generator: this is on `subscribe --json`'s path for every message.
    """
    if len(frame.body) <= JSON_BODY_CHUNK:
        return (small_json_line(frame, show_secrets),)
    return _large_json_line_pieces(frame, show_secrets)


def _large_json_line_pieces(frame: Frame, show_secrets: bool) -> Iterator[bytes]:
    head = _json_text(frame_head(frame, show_secrets))
    if is_utf8(frame.body):
        yield f'{head[:-1]}, "body": "'.encode()
        for piece in _utf8_pieces(frame.body):
            yield _json_text(piece)[1:-1].encode()
    else:
        yield f'{head[:-1]}, "body_base64": "'.encode()
        view = memoryview(frame.body)
        for start in range(0, len(view), JSON_BODY_CHUNK):
            yield base64.b64encode(view[start : start + JSON_BODY_CHUNK])
    yield b'"}\n'


def json_line(frame: Frame, show_secrets: bool = False) -> str:
    return b"".join(json_line_pieces(frame, show_secrets)).decode()
