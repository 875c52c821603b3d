"""Every exception stomper raises: the core's FrameError and the connection's errors.

Kept in one small module with no imports of its own, so that the command
line can tell errors apart with isinstance without loading the connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation; the core never imports the connection
    from .frame import Frame


class FrameError(ValueError):
    """A frame could not be parsed, built or encoded.

    `offset` is the byte offset in the stream where the problem was found
    (None when encoding or building), so a user staring at a capture can
    go straight to the bad byte. `frames` holds the frames completed before
    the fault in the same `FrameParser.feed` call (empty otherwise), so a
    reader can still deliver them.
    """

    frames: list[Frame]

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.reason = message
        self.offset = offset
        self.frames = []
        if offset is not None:
            message = f"{message} (at byte {offset})"
        super().__init__(message)


class FrameTooLarge(FrameError):  # noqa: N818 - reads as what happened, like FrameError
    """A frame is larger than the receiver's limit (`max_frame_size`).

    `size` is what is known of the frame's size when it was refused (from
    its content-length, or the bytes received so far), `limit` the limit in
    force, so that a caller can say how large a limit would have taken it.
    """

    def __init__(self, message: str, offset: int | None, size: int, limit: int) -> None:
        super().__init__(message, offset)
        self.size = size
        self.limit = limit


class StompError(Exception):
    """Base class of the connection's errors."""


class ConnectFailed(StompError):  # noqa: N818 - the names of the published contract
    """No connection could be made: DNS, refused, unreachable, timeout, TLS."""


class ConnectionLost(StompError):  # noqa: N818 - the names of the published contract
    """The connection dropped, went silent or the broker sent garbage."""


class ReceiptTimeout(StompError):  # noqa: N818 - the names of the published contract
    """A receipt did not arrive in time."""


class BrokerError(StompError):
    """The broker sent an ERROR frame (a refused CONNECT is one too).

    `frame` is the ERROR frame, `message` its message header and `body` its
    body as text.
    """

    def __init__(self, frame: Frame, prefix: str = "broker error") -> None:
        self.frame = frame
        self.message = frame.headers.get("message", "")
        self.body = frame.body.decode("utf-8", "replace")
        text = f"{prefix}: {self.message or '(no message header)'}"
        body = self.body.strip()
        if body and body != self.message:
            text += "\n" + body
        super().__init__(text)
