"""The classic stomper API, as text, over the modern core.

Classic functions return frames as text (str), as stomper always did. The
version-pinned modules `stomp_10`, `stomp_11` and `stomp_12` bind these to
their version with the seed's signatures; they are faces, not a second
implementation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from . import commands
from .engine import as_dict, parse_one
from .errors import FrameError
from .frame import COMMANDS, Frame

NULL = "\x00"
VALID_COMMANDS = sorted(COMMANDS)


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
    result = as_dict(frame)
    if isinstance(message, (bytes, bytearray)):
        result["body"] = frame.body
    return result


def connect(username: str | None, password: str | None, host: str | None = None, heartbeats: tuple[int, int] = (0, 0), version: str = "1.2") -> str:
    """CONNECT with login and passcode (and, from 1.1, host and heart-beat)."""
    if len(heartbeats) != 2:
        raise ValueError(f"Invalid heartbeat {heartbeats!r}")
    heart_beat = None if version == "1.0" else heartbeats
    return text(commands.connect(username, password, host or "/", heart_beat, version=version), version)


def disconnect(receipt: str | None = None, version: str = "1.2") -> str:
    """DISCONNECT, with a receipt (generated if not given) from 1.1 on."""
    if receipt is None and version != "1.0":
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
    if version == "1.0":
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
    "NULL", "VALID_COMMANDS", "FrameError", "abort", "ack", "begin", "commit", "connect",
    "disconnect", "nack", "send", "subscribe", "unpack_frame", "unsubscribe",
]


class Face(NamedTuple):
    """The classic names, bound to one version."""

    Frame: type
    Engine: type
    unpack_frame: Callable
    connect: Callable
    disconnect: Callable
    send: Callable
    subscribe: Callable
    unsubscribe: Callable
    ack: Callable
    nack: Callable
    begin: Callable
    commit: Callable
    abort: Callable


def face(version: str) -> Face:
    """The classic API with the 1.1 signatures, pinned to `version` (1.1 or 1.2)."""
    from . import engine, frame

    class PinnedFrame(frame.Frame):
        __doc__ = f"A Frame whose pack() and unpack() speak STOMP {version}."
        __slots__ = ()
        classic_version = version

    class PinnedEngine(engine.Engine):
        __doc__ = f"An Engine that answers in STOMP {version} whatever CONNECTED says."
        negotiate = False

        def __init__(self, testing: bool = False) -> None:
            super().__init__(testing, version=version)

    PinnedFrame.__name__ = PinnedFrame.__qualname__ = "Frame"
    PinnedEngine.__name__ = PinnedEngine.__qualname__ = "Engine"
    functions = {
        "unpack_frame": lambda message: unpack_frame(message, version),
        "connect": lambda username, password, host=None, heartbeats=(0, 0): connect(username, password, host, heartbeats, version),
        "disconnect": lambda receipt=None: disconnect(receipt, version),
        "send": lambda dest, msg, transactionid=None, content_type="text/plain": send(dest, msg, transactionid, content_type, version),
        "subscribe": lambda dest, idx=None, ack="auto": subscribe(dest, idx, ack, version),
        "unsubscribe": lambda idx: unsubscribe(idx, version),
        "ack": lambda messageid, subscriptionid=None, transactionid=None: ack(messageid, subscriptionid, transactionid, version),
        "nack": lambda messageid, subscriptionid=None, transactionid=None: nack(messageid, subscriptionid, transactionid, version),
        "begin": lambda transactionid=None: begin(transactionid, version),
        "commit": lambda transactionid: commit(transactionid, version),
        "abort": lambda transactionid: abort(transactionid, version),
    }
    for name, function in functions.items():
        function.__name__ = function.__qualname__ = name
        function.__doc__ = globals()[name].__doc__
    return Face(PinnedFrame, PinnedEngine, **functions)
