"""The classic API pinned to one STOMP version: what stomp_10, stomp_11 and stomp_12 present.

A pinned module's Frame packs and unpacks in its version and its Engine
answers in it whatever CONNECTED says; the functions are the classic ones
with the version filled in. They are faces, not a second implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from . import classic, engine, frame


def _module(version: str) -> str:
    """The module that presents `version`'s face, for reprs and pickling."""
    return f"stomper.stomp_{version.replace('.', '')}"


def _named(cls: type, version: str) -> type:
    """Name a pinned class as the module that presents it, for reprs and pickling."""
    cls.__name__ = cls.__qualname__ = cls.__mro__[1].__name__
    cls.__module__ = _module(version)
    return cls


def pinned_frame(version: str) -> type[frame.Frame]:
    """A Frame subclass whose pack() and unpack() speak `version`."""

    class PinnedFrame(frame.Frame):
        __doc__ = f"A Frame whose pack() and unpack() speak STOMP {version}."
        __slots__ = ()
        classic_version = version

    return _named(PinnedFrame, version)


def pinned_engine(version: str) -> type[engine.Engine]:
    """An Engine subclass that answers in `version` whatever CONNECTED says."""

    class PinnedEngine(engine.Engine):
        __doc__ = f"An Engine that answers in STOMP {version} whatever CONNECTED says."
        negotiate = False

        def __init__(self, testing: bool = False) -> None:
            super().__init__(testing, version=version)

    return _named(PinnedEngine, version)


class Face(NamedTuple):
    """The classic names with the 1.1 signatures, bound to one version."""

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
    functions = {
        "unpack_frame": lambda message: classic.unpack_frame(message, version),
        "connect": lambda username, password, host=None, heartbeats=(0, 0): classic.connect(username, password, host, heartbeats, version),
        "disconnect": lambda receipt=None: classic.disconnect(receipt, version),
        "send": lambda dest, msg, transactionid=None, content_type="text/plain": classic.send(dest, msg, transactionid, content_type, version),
        "subscribe": lambda dest, idx=None, ack="auto": classic.subscribe(dest, idx, ack, version),
        "unsubscribe": lambda idx: classic.unsubscribe(idx, version),
        "ack": lambda messageid, subscriptionid=None, transactionid=None: classic.ack(messageid, subscriptionid, transactionid, version),
        "nack": lambda messageid, subscriptionid=None, transactionid=None: classic.nack(messageid, subscriptionid, transactionid, version),
        "begin": lambda transactionid=None: classic.begin(transactionid, version),
        "commit": lambda transactionid: classic.commit(transactionid, version),
        "abort": lambda transactionid: classic.abort(transactionid, version),
    }
    for name, function in functions.items():
        function.__name__ = function.__qualname__ = name
        function.__doc__ = getattr(classic, name).__doc__
    return Face(pinned_frame(version), pinned_engine(version), **functions)
