"""The classic stomper API pinned to STOMP 1.2."""

from __future__ import annotations

from .classic import NO_RESPONSE_NEEDED, NULL, VALID_COMMANDS
from .errors import FrameError
from .pinned import face

NO_REPONSE_NEEDED = NO_RESPONSE_NEEDED
VERSION = "1.2"
(
    Frame, Engine, unpack_frame, connect, disconnect, send, subscribe, unsubscribe, ack, nack, begin, commit, abort
) = face(VERSION)

__all__ = [
    "NULL", "NO_RESPONSE_NEEDED", "NO_REPONSE_NEEDED", "VALID_COMMANDS", "Engine", "Frame", "FrameError",
    "abort", "ack", "begin", "commit", "connect", "disconnect", "nack", "send", "subscribe", "unpack_frame",
    "unsubscribe",
]
