"""The classic stomper API: text frames, unpack_frame, Frame().cmd, StompBuffer, pinned modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import stomper
from stomper import FrameError, stomp_10, stomp_11, stomp_12
from stomper.stompbuffer import StompBuffer

from .support import only, parse_all


def parsed(text: str, version: str = "1.2") -> stomper.Frame:
    assert isinstance(text, str)
    return only(parse_all(text.encode(), version))


def test_every_classic_function_returns_text() -> None:
    texts = [
        stomper.connect("bob", "1234"), stomper.connect("bob", "1234", "vh", (10, 20)),
        stomper.send("/q", "hi"), stomper.subscribe("/q", ack="client"), stomper.unsubscribe("s-1"),
        stomper.ack("a-1"), stomper.nack("a-1"), stomper.begin("t"), stomper.commit("t"), stomper.abort("t"),
        stomper.disconnect(), stomper.Frame("SEND", {"destination": "/q"}).pack(),
    ]
    commands = [parsed(text).command for text in texts]
    assert commands == ["CONNECT", "CONNECT", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT", "SEND"]


def test_classic_frames_follow_1_2() -> None:
    assert parsed(stomper.connect("bob", "1234")).headers == {
        "accept-version": "1.2", "host": "/", "login": "bob", "passcode": "1234", "heart-beat": "0,0"}
    assert parsed(stomper.connect("bob", "1234", "vh", (10, 20))).headers["heart-beat"] == "10,20"
    assert parsed(stomper.send("/q", "hi")).headers == {"destination": "/q", "content-type": "text/plain", "content-length": "2"}
    assert parsed(stomper.send("/q", "hi", "tx")).headers["transaction"] == "tx"
    assert parsed(stomper.subscribe("/q", ack="client")).headers["id"]
    assert parsed(stomper.subscribe("/q", "7")).headers == {"destination": "/q", "id": "7", "ack": "auto"}
    assert parsed(stomper.ack("a-1", "s-1", "tx")).headers == {"id": "a-1", "transaction": "tx"}
    assert parsed(stomper.disconnect()).headers["receipt"]
    assert parsed(stomper.disconnect("77")).headers == {"receipt": "77"}
    assert parsed(stomper.begin()).headers["transaction"]
    with pytest.raises(ValueError):
        stomper.connect("bob", "1234", heartbeats=(1, 2, 3))


def test_unpack_frame_keeps_bodies_exact() -> None:
    result = stomper.unpack_frame("MESSAGE\ndestination:/q\n\n  hello\n\n \0\n")
    assert result == {"cmd": "MESSAGE", "headers": {"destination": "/q"}, "body": "  hello\n\n "}
    assert stomper.unpack_frame("SEND\ndestination:/q\n\n\nline\n")["body"] == "\nline\n"  # no NUL: supplied


def test_unpack_frame_honours_content_length() -> None:
    raw = b"MESSAGE\ncontent-length:5\n\na\0b\0c\0"
    result = stomper.unpack_frame(raw)
    assert result["body"] == b"a\0b\0c" and result["headers"]["content-length"] == "5"
    assert stomper.unpack_frame(raw.decode())["body"] == "a\0b\0c"


def test_unpack_frame_unescapes_headers_per_version() -> None:
    text = "MESSAGE\nk:a\\cb\\nc\n\n\0"
    assert stomper.unpack_frame(text)["headers"] == {"k": "a:b\nc"}
    assert stomp_11.unpack_frame(text)["headers"] == {"k": "a:b\nc"}
    assert stomp_10.unpack_frame(text)["headers"] == {"k": "a\\cb\\nc"}


def test_unpack_frame_crlf_without_nul() -> None:
    assert stomper.unpack_frame("SEND\r\na:b\r\n\r\nbody") == {"cmd": "SEND", "headers": {"a": "b"}, "body": "body"}
    assert stomper.unpack_frame("DISCONNECT\r\nreceipt:1\r\n")["headers"] == {"receipt": "1"}


def test_unpack_frame_of_nothing_and_of_garbage() -> None:
    assert stomper.unpack_frame("") == {"cmd": "", "headers": {}, "body": ""}
    with pytest.raises(FrameError):
        stomper.unpack_frame("NOT A FRAME\n\n\0")


def test_frame_object_pack_and_unpack() -> None:
    msg = stomper.Frame()
    msg.cmd = "SEND"
    msg.headers = {"destination": "/queue/a", "custom-header": "1234"}
    msg.body = "hello queue a"
    packed = msg.pack()
    assert packed == "SEND\ndestination:/queue/a\ncustom-header:1234\ncontent-length:13\n\nhello queue a\0"
    other = stomper.Frame()
    assert other.unpack(packed) == {"cmd": "SEND", "headers": {**msg.headers, "content-length": "13"}, "body": "hello queue a"}
    assert other.cmd == "SEND" and other.body == b"hello queue a"
    with pytest.raises(FrameError):
        other.unpack("")


def test_frame_cmd_is_validated() -> None:
    with pytest.raises(FrameError):
        stomper.Frame().cmd = "HELLO"
    assert "SEND" in stomper.VALID_COMMANDS and "HELLO" not in stomper.VALID_COMMANDS


def test_classic_constants() -> None:
    assert stomper.NULL == "\x00"
    assert stomper.NO_RESPONSE_NEEDED == "" == stomper.NO_REPONSE_NEEDED
    assert issubclass(stomper.FrameError, ValueError)


def test_stomp_10_is_pinned() -> None:
    assert parsed(stomp_10.connect("bob", "1234"), "1.0").headers == {"login": "bob", "passcode": "1234"}
    assert parsed(stomp_10.ack("m-1"), "1.0").headers == {"message-id": "m-1"}
    assert parsed(stomp_10.subscribe("/q"), "1.0").headers == {"destination": "/q", "ack": "auto"}
    assert parsed(stomp_10.unsubscribe("/q"), "1.0").headers == {"destination": "/q"}
    assert parsed(stomp_10.send("/q", "x"), "1.0").headers == {"destination": "/q", "content-length": "1"}
    assert stomp_10.disconnect() == "DISCONNECT\n\n\0"
    with pytest.raises(FrameError):
        stomp_10.send("/q\nevil", "x")
    assert not hasattr(stomp_10, "nack")
    frame = stomp_10.Frame("SEND", {"k": "a:b"})
    assert frame.pack() == "SEND\nk:a:b\n\n\0"
    engine = stomp_10.Engine()
    engine.react("CONNECTED\nversion:1.2\n\n\0")
    assert engine.version == "1.0"
    assert engine.react("MESSAGE\nmessage-id:m\nack:a\nsubscription:s\n\n\0") == "ACK\nmessage-id:m\n\n\0"


def test_stomp_11_is_pinned() -> None:
    assert parsed(stomp_11.connect("bob", "1234"), "1.1").headers["accept-version"] == "1.1"
    assert parsed(stomp_11.ack("m-1", "s-1"), "1.1").headers == {"message-id": "m-1", "subscription": "s-1"}
    assert parsed(stomp_11.nack("m-1", "s-1"), "1.1").command == "NACK"
    assert stomp_11.Frame("SEND", {"k": "a:b"}).pack() == "SEND\nk:a\\cb\n\n\0"
    with pytest.raises(FrameError):
        stomp_11.Frame("SEND", {"k": "a\rb"}).pack()
    engine = stomp_11.Engine()
    engine.react("CONNECTED\nversion:1.2\n\n\0")
    assert engine.react("MESSAGE\nmessage-id:m\nack:a\nsubscription:s\n\n\0") == "ACK\nmessage-id:m\nsubscription:s\n\n\0"
    assert stomp_11.Engine.__name__ == "Engine" and stomp_11.ack.__name__ == "ack"


def test_stomp_12_is_pinned() -> None:
    assert parsed(stomp_12.connect("bob", "1234")).headers["accept-version"] == "1.2"
    assert parsed(stomp_12.ack("a-1")).headers == {"id": "a-1"}
    assert stomp_12.Frame("SEND", {"k": "a\rb"}).pack() == "SEND\nk:a\\rb\n\n\0"
    assert stomp_12.unpack_frame("SEND\r\nk:a\\rb\r\n\r\n\0")["headers"] == {"k": "a\rb"}
    engine = stomp_12.Engine()
    engine.react("CONNECTED\nversion:1.0\n\n\0")
    assert engine.version == "1.2"


def test_stomp_buffer_with_partial_data() -> None:
    buffer = StompBuffer()
    assert buffer.bufferIsEmpty() and buffer.bufferLen() == 0 and buffer.getOneMessage() is None
    stream = b"MESSAGE\nmessage-id:1\n\nfirst\0\nMESSAGE\ncontent-length:3\n\na\0b\0"
    buffer.appendData(stream[:10])
    assert buffer.getOneMessage() is None
    assert buffer.bufferLen() == 10 and not buffer.bufferIsEmpty()
    buffer.appendData(stream[10:40].decode())
    buffer.syncBuffer()
    assert buffer.getOneMessage() == {"cmd": "MESSAGE", "headers": {"message-id": "1"}, "body": "first"}
    assert buffer.getOneMessage() is None
    buffer.appendData(stream[40:])
    assert buffer.getOneMessage() == {"cmd": "MESSAGE", "headers": {"content-length": "3"}, "body": "a\0b"}
    assert buffer.bufferIsEmpty() and buffer.getOneMessage() is None


def test_stomp_buffer_several_messages_in_one_append() -> None:
    buffer = StompBuffer()
    buffer.appendData(b"SEND\n\n1\0SEND\n\n2\0SEND\n\n3")
    assert buffer.bufferLen() > 0
    assert [buffer.getOneMessage()["body"] for _ in range(2)] == ["1", "2"]
    assert buffer.getOneMessage() is None and not buffer.bufferIsEmpty()
    buffer.appendData(b"\0")
    assert buffer.getOneMessage()["body"] == "3" and buffer.bufferIsEmpty()


def test_stomp_buffer_refuses_corrupt_data() -> None:
    buffer = StompBuffer()
    with pytest.raises(FrameError):
        buffer.appendData(b"GARBAGE\n\n\0")


def test_seed_readme_example_runs_as_written() -> None:
    script = Path(__file__).with_name("seed_usage.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True)
    assert result.stderr == ""
    assert result.stdout == (
        "{'body': '', 'cmd': '', 'headers': {}}\n"
        "Got a message:\nhello queue a\n\n\n\n"
        "SEND\ndestination:/queue/a\ncustom-header:1234\ncontent-length:13\n\nhello queue a\x00\n"
    )
