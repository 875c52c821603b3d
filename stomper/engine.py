"""Engine: the state machine that says how to answer what a broker sends.

It does no I/O. Feed it each frame the broker sent (`react`); it records the
negotiated state (session, server, version, heart-beats, pending receipts,
errors) and returns the frame to send back, if any. Subclasses override the
handlers `connected`, `ack`, `error` and `receipt`, as in classic stomper.

For the classic API, `react` also takes raw frame text or an
`unpack_frame` dict, and then answers with frame text ('' for nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from . import commands
from .errors import FrameError
from .frame import DEFAULT_VERSION, Frame, check_version
from .parser import FrameParser

NO_RESPONSE_NEEDED = ""
log = logging.getLogger("stomper.Engine")

Message = Frame | dict[str, Any]


def negotiate_heart_beat(client: tuple[int, int], server_header: str | None) -> tuple[int, int]:
    """(send every ms, expect every ms) agreed from both sides' heart-beat headers.

    Per the spec, each direction is off when either side says 0, else the
    larger of what one can send and the other wants.
    """
    server_send, server_want = parse_heart_beat(server_header)
    client_send, client_want = client
    send = 0 if not client_send or not server_want else max(client_send, server_want)
    receive = 0 if not client_want or not server_send else max(client_want, server_send)
    return send, receive


def parse_heart_beat(header: str | None) -> tuple[int, int]:
    """The two numbers of a heart-beat header; absent means (0, 0)."""
    if not header:
        return 0, 0
    try:
        first, second = (int(part) for part in header.split(","))
    except ValueError:
        raise FrameError(f"heart-beat header {header!r} is not two numbers") from None
    if first < 0 or second < 0:
        raise FrameError(f"heart-beat header {header!r} has a negative number")
    return first, second


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


def as_dict(frame: Frame) -> dict[str, Any]:
    """The classic `{'cmd', 'headers', 'body'}` form, body as text."""
    return {"cmd": frame.command, "headers": dict(frame.headers), "body": frame.body.decode("utf-8", "surrogateescape")}


def parse_one(data: bytes, version: str = DEFAULT_VERSION) -> Frame:
    """Parse exactly one frame; a missing final NUL is supplied, as the seed did."""
    if b"\0" not in data:
        has_body = b"\n\n" in data or b"\n\r\n" in data  # a blank line, LF or CRLF
        data = data + b"\0" if has_body else data.rstrip(b"\r\n") + b"\n\n\0"
    parser = FrameParser(version)
    frames = parser.feed(data)
    if not frames:
        raise FrameError("no frame found in the data")
    return frames[0]


class Engine:
    """How to answer the broker, and what has been agreed with it."""

    #: False pins the version given at construction (the classic 1.0/1.1 faces).
    negotiate = True

    def __init__(self, testing: bool = False, version: str = DEFAULT_VERSION, heart_beat: tuple[int, int] = (0, 0)) -> None:
        self.testing = testing
        self.version = check_version(version)
        self.heart_beat = heart_beat
        self.session_id = ""
        self.server = ""
        self.heart_beats = (0, 0)
        self.pending_receipts: set[str] = set()
        self.errors: list[Frame] = []
        self.log = log
        self.states = {"CONNECTED": self.connected, "MESSAGE": self.ack, "ERROR": self.error, "RECEIPT": self.receipt}

    @property
    def sessionId(self) -> str:  # noqa: N802 - classic name
        return self.session_id

    def react(self, msg: Message | str | bytes) -> Frame | str | None:
        """The answer to `msg`: a Frame (or None) for a Frame, text ('' for none) otherwise."""
        if isinstance(msg, Frame):
            handler = self.states.get(msg.command)
            return handler(msg) if handler else None
        if not isinstance(msg, dict):
            msg = as_dict(as_frame(msg, self.version))
        handler = self.states.get(msg["cmd"])
        return self._as_text(handler(msg) if handler else None)

    def _as_text(self, answer: Frame | str | None) -> str:
        if isinstance(answer, Frame):
            return answer.encode(self.version).decode("utf-8", "surrogateescape")
        return answer or NO_RESPONSE_NEEDED

    def _reply(self, msg: Message, answer: Frame | None, testing_word: str = "") -> Frame | str | None:
        """Answer in the caller's style: Frames for Frames, text for the classic API."""
        if isinstance(msg, Frame):
            return answer
        if answer is None:
            return testing_word if self.testing else NO_RESPONSE_NEEDED
        return self._as_text(answer)

    def expect_receipt(self, receipt_id: str) -> None:
        """Remember a receipt asked for, so `pending_receipts` tracks it."""
        self.pending_receipts.add(receipt_id)

    def connected(self, msg: Message) -> Frame | str | None:
        """Record session, server, negotiated version and heart-beats; no answer."""
        frame = as_frame(msg, self.version)
        headers = frame.headers
        self.session_id = headers.get("session", "")
        self.server = headers.get("server", "")
        if self.negotiate:
            self.version = check_version(headers.get("version", "1.0"))
        self.heart_beats = negotiate_heart_beat(self.heart_beat, headers.get("heart-beat"))
        return self._reply(msg, None)

    def ack(self, msg: Message) -> Frame | str | None:
        """The ACK for a MESSAGE, in the negotiated version's form. Override to handle messages."""
        frame = as_frame(msg, self.version)
        transaction = frame.headers.get("transaction")
        answer = commands.ack(frame, transaction=transaction, version=self.version)
        return self._reply(msg, answer)

    def error(self, msg: Message) -> Frame | str | None:
        """Log and keep the broker's ERROR; no answer."""
        frame = as_frame(msg, self.version)
        self.errors.append(frame)
        body = frame.body.decode("utf-8", "replace")
        self.log.error("broker error: %s\n\n%s", frame.headers.get("message", ""), body)
        return self._reply(msg, None, "error")

    def receipt(self, msg: Message) -> Frame | str | None:
        """Log the RECEIPT and stop waiting for it; no answer."""
        frame = as_frame(msg, self.version)
        receipt_id = frame.headers.get("receipt-id", "")
        self.pending_receipts.discard(receipt_id)
        self.log.info("receipt %s", receipt_id)
        return self._reply(msg, None, "receipt")
