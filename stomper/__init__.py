"""stomper: a transport-neutral STOMP 1.0, 1.1 and 1.2 library.

The modern core is bytes first and does no I/O: `Frame` and its `encode`,
`FrameParser.feed`, the builders in `stomper.commands`, each version's
rules in `stomper.versions`, and `stomper.session.Session`, a STOMP session
without I/O. `stomper.connection` drives that session over a socket (it is
not imported here; see docs/architecture.md).

The classic functions (`connect`, `send`, `subscribe`, ... returning frame
text, `unpack_frame`, `Frame().pack()`) keep working as in stomper 0.x and
follow STOMP 1.2; `stomper.stomp_10` and `stomper.stomp_11` pin older versions.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import commands
from .classic import (
    NO_RESPONSE_NEEDED,
    NULL,
    VALID_COMMANDS,
    abort,
    ack,
    begin,
    commit,
    connect,
    disconnect,
    nack,
    send,
    subscribe,
    unpack_frame,
    unsubscribe,
)
from .errors import FrameError, FrameTooLarge
from .frame import COMMANDS, VERSIONS, Frame, encode_frame
from .parser import FrameParser

__version__ = "1.0.0"
NO_REPONSE_NEEDED = NO_RESPONSE_NEEDED

__all__ = [
    "COMMANDS", "NULL", "NO_RESPONSE_NEEDED", "NO_REPONSE_NEEDED", "VALID_COMMANDS", "VERSIONS",
    "Engine", "Frame", "FrameError", "FrameParser", "FrameTooLarge", "abort", "ack", "begin", "commands", "commit",
    "connect", "disconnect", "encode_frame", "nack", "send", "subscribe", "unpack_frame", "unsubscribe",
]

#: Loaded on first use: the classic Engine brings in `logging`, which a program
#: that only builds and reads frames (the command line among them) should not
#: pay for at every start-up.
_ON_DEMAND = {"Engine": "stomper.engine"}


def __getattr__(name: str) -> Any:
    module = _ON_DEMAND.get(name)
    if module is None:
        raise AttributeError(f"module 'stomper' has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(module), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ON_DEMAND})
