"""Engine: the classic state machine that says how to answer what a broker sends.

It does no I/O. It is the seed's frame-at-a-time API, kept for programs
written against it; it settles CONNECTED with the same rules as the
`stomper.session.Session` that the connection runs on. Feed it each frame the broker sent (`react`); it records the
negotiated state (session, server, version, heart-beats, pending receipts,
errors) and returns the frame to send back, if any. Subclasses override the
handlers `connected`, `ack`, `error` and `receipt`, as in classic stomper.

For the classic API, `react` also takes raw frame text or an
`unpack_frame` dict, and then answers with frame text ('' for nothing).
"""

from __future__ import annotations

import logging

from . import commands
from .classic import NO_RESPONSE_NEEDED, Message, as_frame
from .frame import DEFAULT_VERSION, Frame, check_version
from .session import agree, negotiate_heart_beat, parse_heart_beat

__all__ = ["NO_RESPONSE_NEEDED", "Engine", "Message", "as_frame", "negotiate_heart_beat", "parse_heart_beat"]

log = logging.getLogger("stomper.Engine")


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
            msg = as_frame(msg, self.version).as_dict()
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
        agreement = agree(as_frame(msg, self.version), self.heart_beat, None if self.negotiate else self.version)
        self.session_id, self.server, self.version, self.heart_beats = agreement[:4]
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
