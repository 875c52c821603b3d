"""The classic stomper API pinned to STOMP 1.0 (the seed's 0.2 face)."""

from __future__ import annotations

from . import classic
from .classic import NO_RESPONSE_NEEDED, NULL, VALID_COMMANDS
from .errors import FrameError
from .pinned import pinned_engine, pinned_frame

VERSION = "1.0"
NO_REPONSE_NEEDED = NO_RESPONSE_NEEDED
Frame = pinned_frame(VERSION)
Engine = pinned_engine(VERSION)


def unpack_frame(message: str | bytes) -> dict:
    return classic.unpack_frame(message, VERSION)


def connect(username: str, password: str) -> str:
    return classic.connect(username, password, version=VERSION)


def disconnect() -> str:
    return classic.disconnect(version=VERSION)


def send(dest: str, msg: str | bytes, transactionid: str | None = None) -> str:
    return classic.send(dest, msg, transactionid, None, version=VERSION)


def subscribe(dest: str, ack: str = "auto") -> str:
    return classic.subscribe(dest, None, ack, version=VERSION)


def unsubscribe(dest: str) -> str:
    return classic.unsubscribe(dest, version=VERSION)


def ack(messageid: str, transactionid: str | None = None) -> str:
    return classic.ack(messageid, None, transactionid, version=VERSION)


def begin(transactionid: str | None = None) -> str:
    return classic.begin(transactionid, version=VERSION)


def commit(transactionid: str) -> str:
    return classic.commit(transactionid, version=VERSION)


def abort(transactionid: str) -> str:
    return classic.abort(transactionid, version=VERSION)


__all__ = [
    "NULL", "NO_RESPONSE_NEEDED", "NO_REPONSE_NEEDED", "VALID_COMMANDS", "Engine", "Frame", "FrameError",
    "abort", "ack", "begin", "commit", "connect", "disconnect", "send", "subscribe", "unpack_frame", "unsubscribe",
]
