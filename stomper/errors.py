"""The one exception type the core raises for bad frames."""

from __future__ import annotations


class FrameError(ValueError):
    """A frame could not be parsed, built or encoded.

    `offset` is the byte offset in the stream where the problem was found
    (None when encoding or building), so a user staring at a capture can
    go straight to the bad byte.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.reason = message
        self.offset = offset
        if offset is not None:
            message = f"{message} (at byte {offset})"
        super().__init__(message)
