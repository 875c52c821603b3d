"""The classic StompBuffer, now a thin face over FrameParser.

Kept for programs written against stomper 0.x: append received data, then
pull complete messages off one at a time as `{'cmd', 'headers', 'body'}`.
Unlike the seed, it never skips or guesses past corrupt data: a malformed
stream raises FrameError, since resynchronising heuristically can turn one
message's body into another's headers.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .frame import DEFAULT_VERSION
from .parser import FrameParser


class StompBuffer:
    """Collects partial frames until whole messages can be taken off."""

    def __init__(self, version: str = DEFAULT_VERSION) -> None:
        self._parser = FrameParser(version)
        self._ready: deque = deque()
        self._ready_bytes = 0

    def bufferLen(self) -> int:  # noqa: N802 - classic name
        """Bytes held: whole messages not yet taken plus any partial frame."""
        return self._ready_bytes + self._parser.buffered

    def bufferIsEmpty(self) -> bool:  # noqa: N802 - classic name
        return self.bufferLen() == 0

    def appendData(self, data: bytes | str) -> None:  # noqa: N802 - classic name
        """Add received data (bytes, or text as the seed took)."""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        before = self._parser.offset
        frames = self._parser.feed(data)
        if frames:
            self._ready_bytes += self._parser.offset - before
            self._ready.extend(frames)

    def getOneMessage(self) -> dict[str, Any] | None:  # noqa: N802 - classic name
        """The oldest complete message as a dict, or None when there is none."""
        if not self._ready:
            return None
        frame = self._ready.popleft()
        if not self._ready:
            self._ready_bytes = 0
        return frame.as_dict()

    def syncBuffer(self) -> None:  # noqa: N802 - classic name
        """Nothing to do: the parser never leaves the buffer out of step."""
