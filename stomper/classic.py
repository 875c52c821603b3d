"""The classic stomper API, as text, over the modern core.

Classic functions return frames as text (str), as stomper always did. The
version-pinned modules `stomp_10`, `stomp_11` and `stomp_12` bind these to
their version with the seed's signatures; they are faces, not a second
implementation.
"""

from __future__ import annotations

import uuid
from typing import Any

from . import commands
from .errors import FrameError
from .frame import COMMANDS, DEFAULT_VERSION, Frame
from .parser import FrameParser
from .versions import spec

NULL = "\x00"
#: What the classic Engine answers (as text) when no answer is needed.
NO_RESPONSE_NEEDED = ""
VALID_COMMANDS = sorted(COMMANDS)
Message = Frame | dict[str, Any]


def parse_one(data: bytes, version: str = DEFAULT_VERSION) -> Frame:
    """Parse exactly one frame; a missing final NUL is supplied, as the seed did."""
    if b"\0" not in data:
        has_body = b"\n\n" in data or b"\n\r\n" in data  # a blank line, LF or CRLF
        data = data + b"\0" if has_body else data.rstrip(b"\r\n") + b"\n\n\0"
    frames = FrameParser(version).feed(data)
    if not frames:
        raise FrameError("no frame found in the data")
    return frames[0]


Frame.read_one = staticmethod(parse_one)


def as_frame(message: Message | str | bytes, version: str = DEFAULT_VERSION) -> Frame:
    """A Frame from a Frame, raw frame text/bytes, or an unpack_frame dict."""
    if isinstance(message, Frame):
        return message
    if isinstance(message, dict):
        return Frame(message.get("cmd") or message.get("command", ""), message.get("headers"), message.get("body", b""))
    if isinstance(message, str):
        message = message.encode("utf-8")
    if isinstance(message, (bytes, bytearray)):
        return parse_one(bytes(message), version)
    raise FrameError(f"cannot read a frame from a {type(message).__name__}")


def text(frame: Frame, version: str) -> str:
    """Encode for `version` and return text, as the classic API does."""
    return frame.encode(version).decode("utf-8", "surrogateescape")


def unpack_frame(message: str | bytes, version: str = "1.2") -> dict[str, Any]:
    """Parse one frame into `{'cmd', 'headers', 'body'}`.

    Unlike the seed, bodies are kept exactly (content-length honoured, no
    whitespace stripped) and headers are unescaped for the version. Empty
    input gives an empty frame dict, as the seed's did.
    """
    if not message:
        return {"cmd": "", "headers": {}, "body": message if isinstance(message, bytes) else ""}
    raw = message.encode("utf-8", "surrogateescape") if isinstance(message, str) else bytes(message)
    frame = parse_one(raw, version)
    result = frame.as_dict()
    if isinstance(message, (bytes, bytearray)):
        result["body"] = frame.body
    return result


def connect(username: str | None, password: str | None, host: str | None = None, heartbeats: tuple[int, int] = (0, 0), version: str = "1.2") -> str:
    """CONNECT with login and passcode (and, from 1.1, host and heart-beat)."""
    if len(heartbeats) != 2:
        raise ValueError(f"Invalid heartbeat {heartbeats!r}")
    heart_beat = heartbeats if spec(version).has_heart_beats else None
    return text(commands.connect(username, password, host or "/", heart_beat, version=version), version)


def disconnect(receipt: str | None = None, version: str = "1.2") -> str:
    """DISCONNECT, with a receipt (generated if not given) in the versions that negotiate (1.1 on)."""
    if receipt is None and spec(version).negotiates:
        receipt = str(uuid.uuid4())
    return text(commands.disconnect(receipt), version)


def send(dest: str, msg: str | bytes, transactionid: str | None = None, content_type: str | None = "text/plain", version: str = "1.2") -> str:
    """SEND `msg` to `dest`."""
    return text(commands.send(dest, msg, content_type, transactionid), version)


def subscribe(dest: str, idx: str | None = None, ack: str = "auto", version: str = "1.2") -> str:
    """SUBSCRIBE to `dest`; an id is generated when none is given."""
    return text(commands.subscribe(dest, idx, ack, version=version), version)


def unsubscribe(idx: str, version: str = "1.2") -> str:
    """UNSUBSCRIBE (1.0: by destination; later versions: by id)."""
    if not spec(version).needs_subscription_id:
        return text(commands.unsubscribe(destination=idx, version=version), version)
    return text(commands.unsubscribe(idx, version=version), version)


def ack(messageid: str, subscriptionid: str | None = None, transactionid: str | None = None, version: str = "1.2") -> str:
    """ACK a message: in 1.2 `messageid` is the MESSAGE's `ack` header value."""
    return text(commands.ack(id=messageid, subscription=subscriptionid, transaction=transactionid, version=version), version)


def nack(messageid: str, subscriptionid: str | None = None, transactionid: str | None = None, version: str = "1.2") -> str:
    """NACK a message (1.1 and 1.2)."""
    return text(commands.nack(id=messageid, subscription=subscriptionid, transaction=transactionid, version=version), version)


def begin(transactionid: str | None = None, version: str = "1.2") -> str:
    """BEGIN a transaction (id generated if not given)."""
    return text(commands.begin(str(transactionid or uuid.uuid4())), version)


def commit(transactionid: str, version: str = "1.2") -> str:
    """COMMIT a transaction."""
    return text(commands.commit(str(transactionid)), version)


def abort(transactionid: str, version: str = "1.2") -> str:
    """ABORT a transaction."""
    return text(commands.abort(str(transactionid)), version)


__all__ = [
    "NO_RESPONSE_NEEDED", "NULL", "VALID_COMMANDS", "FrameError", "abort", "ack", "begin", "commit", "connect",
    "disconnect", "nack", "send", "subscribe", "unpack_frame", "unsubscribe",
]
