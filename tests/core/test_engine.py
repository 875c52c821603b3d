"""Engine: the state machine answering what a broker sends."""

from __future__ import annotations

import logging

import pytest

import stomper
from stomper import Engine, Frame, FrameError

from .support import only, parse_all

SESSION = "ID:snorky.local-49191-1185461799654-3:18"


def connected(engine: Engine, version: str = "1.2", heart_beat: str = "0,0") -> None:
    reply = engine.react(Frame("CONNECTED", {"version": version, "session": SESSION, "server": "RabbitMQ/3.13", "heart-beat": heart_beat}))
    assert reply is None


def test_connected_records_session_server_version_and_heart_beats() -> None:
    engine = Engine(heart_beat=(1000, 2000))
    connected(engine, "1.1", "3000,500")
    assert (engine.session_id, engine.sessionId, engine.server, engine.version) == (SESSION, SESSION, "RabbitMQ/3.13", "1.1")
    assert engine.heart_beats == (1000, 3000)


def test_connected_without_version_means_1_0() -> None:
    engine = Engine()
    assert engine.react(f"CONNECTED\nsession:{SESSION}\n\n\0") == ""
    assert engine.version == "1.0" and engine.session_id == SESSION


def test_connected_with_an_unknown_version_is_refused() -> None:
    with pytest.raises(FrameError):
        Engine().react(Frame("CONNECTED", {"version": "9.9"}))


@pytest.mark.parametrize("bad", ["1", "a,b", "1,2,3", "-1,5"])
def test_bad_heart_beat_header_is_a_frame_error(bad: str) -> None:
    with pytest.raises(FrameError):
        Engine().react(Frame("CONNECTED", {"version": "1.2", "heart-beat": bad}))


MESSAGE = Frame("MESSAGE", {"destination": "/q", "message-id": "m-1", "subscription": "s-1", "ack": "a-1"}, b"hi")


@pytest.mark.parametrize(
    ("version", "headers"),
    [("1.2", {"id": "a-1"}), ("1.1", {"message-id": "m-1", "subscription": "s-1"}), ("1.0", {"message-id": "m-1"})],
)
def test_message_is_answered_with_the_ack_of_the_negotiated_version(version: str, headers: dict) -> None:
    engine = Engine()
    connected(engine, version)
    answer = engine.react(MESSAGE)
    assert isinstance(answer, Frame) and answer.command == "ACK" and answer.headers == headers
    text = engine.react(MESSAGE.encode(version))
    assert only(parse_all(text.encode(), version)) == answer


def test_ack_carries_the_message_transaction() -> None:
    message = Frame("MESSAGE", {"message-id": "m", "ack": "a", "transaction": "tx"})
    assert Engine().react(message).headers == {"id": "a", "transaction": "tx"}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_a_1_0_style_message_without_subscription(version: str) -> None:
    engine = Engine()
    connected(engine, version)
    answer = engine.react("MESSAGE\ndestination:/queue/a\nmessage-id:some-message-id\n\nhello\0")
    frame = only(parse_all(answer.encode(), version))
    assert frame.command == "ACK"
    assert "some-message-id" in frame.headers.values()
    assert "subscription" not in frame.headers


def test_error_is_logged_and_kept(caplog: pytest.LogCaptureFixture) -> None:
    engine = Engine()
    error = Frame("ERROR", {"message": "malformed frame received"}, b"details")
    with caplog.at_level(logging.ERROR, logger="stomper.Engine"):
        assert engine.react(error) is None
    assert engine.errors == [error]
    assert "malformed frame received" in caplog.text and "details" in caplog.text
    assert Engine(testing=True).react("ERROR\nmessage:x\n\n\0") == "error"
    assert Engine().react("ERROR\nmessage:x\n\n\0") == ""


def test_receipts_are_tracked() -> None:
    engine = Engine()
    engine.expect_receipt("r-1")
    engine.expect_receipt("r-2")
    assert engine.react(Frame("RECEIPT", {"receipt-id": "r-1"})) is None
    assert engine.pending_receipts == {"r-2"}
    assert Engine(testing=True).react("RECEIPT\nreceipt-id:r-2\n\n\0") == "receipt"
    assert engine.react({"cmd": "RECEIPT", "headers": {"receipt-id": "r-2"}, "body": ""}) == ""
    assert engine.pending_receipts == set()


def test_frames_without_a_handler_get_no_answer() -> None:
    assert Engine().react(Frame("SEND", {"destination": "/q"})) is None
    assert Engine().react("SEND\ndestination:/q\n\n\0") == ""


def test_a_subclass_overrides_ack() -> None:
    seen = []

    class Pong(stomper.Engine):
        def ack(self, msg):
            seen.append(msg["body"])
            return super().ack(msg)

    answer = Pong().react("MESSAGE\ndestination:/q\nmessage-id:7\nack:a7\n\nping\n\0")
    assert seen == ["ping\n"]
    assert answer == "ACK\nid:a7\n\n\0"


def test_a_subclass_can_answer_nothing() -> None:
    class Quiet(stomper.Engine):
        def ack(self, msg):
            return None

    assert Quiet().react("MESSAGE\nmessage-id:7\n\nping\0") == ""
    assert Quiet().react(MESSAGE) is None


def test_react_takes_frames_text_bytes_and_dicts() -> None:
    engine = Engine()
    expected = "ACK\nid:a-1\n\n\0"
    assert engine.react(MESSAGE.encode().decode()) == expected
    assert engine.react(MESSAGE.encode()) == expected
    assert engine.react(stomper.unpack_frame(MESSAGE.encode().decode())) == expected
    assert engine.react(MESSAGE).encode() == expected.encode()
    with pytest.raises(FrameError):
        engine.react(42)
