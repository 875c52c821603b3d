"""Builders for every client frame, right for each version."""

from __future__ import annotations

import pytest

from stomper import Frame, FrameError, commands

from .support import only, parse_all

MESSAGE = Frame("MESSAGE", {"destination": "/q", "message-id": "m-1", "subscription": "s-1", "ack": "a-1"}, b"x")


def round_trip(frame: Frame, version: str) -> Frame:
    """The frame as the broker would read it."""
    return only(parse_all(frame.encode(version), version))


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("command", ["CONNECT", "STOMP"])
def test_connect_1_1_and_1_2(version: str, command: str) -> None:
    frame = commands.connect("bob", "1234", host="vh", heart_beat=(100, 200), version=version, command=command)
    assert frame.command == command
    assert round_trip(frame, version).headers == {
        "accept-version": version, "host": "vh", "login": "bob", "passcode": "1234", "heart-beat": "100,200",
    }


def test_connect_defaults() -> None:
    assert commands.connect().headers == {"accept-version": "1.2", "host": "/"}
    assert commands.connect(accept_version="1.0,1.1,1.2").headers["accept-version"] == "1.0,1.1,1.2"
    assert commands.connect(heart_beat="0,0").headers["heart-beat"] == "0,0"


def test_connect_1_0_sends_neither_accept_version_nor_default_host() -> None:
    assert commands.connect("bob", "1234", version="1.0").headers == {"login": "bob", "passcode": "1234"}
    with pytest.raises(FrameError):
        commands.connect(version="1.0", command="STOMP")


@pytest.mark.parametrize("bad", [(1,), (-1, 0), (0, -5)])
def test_connect_refuses_bad_heart_beats(bad: tuple) -> None:
    with pytest.raises(FrameError):
        commands.connect(heart_beat=bad)


def test_connect_refuses_other_commands() -> None:
    with pytest.raises(FrameError):
        commands.connect(command="SEND")


def test_send() -> None:
    frame = commands.send("/queue/a", "hello", content_type="text/plain", transaction="tx", receipt="r", headers={"x": "1"})
    assert frame.headers == {"x": "1", "destination": "/queue/a", "content-type": "text/plain", "transaction": "tx", "receipt": "r"}
    assert frame.body == b"hello"
    assert commands.send("/q", b"\0").encode().endswith(b"content-length:1\n\n\0\0")


def test_builder_headers_win_over_extras() -> None:
    assert commands.send("/real", headers={"destination": "/fake"}).headers["destination"] == "/real"


def test_subscribe_generates_distinct_ids_from_1_1() -> None:
    first, second = commands.subscribe("/q"), commands.subscribe("/q", version="1.1")
    assert first.headers["id"] and second.headers["id"] and first.headers["id"] != second.headers["id"]
    assert "id" not in commands.subscribe("/q", version="1.0").headers
    assert commands.subscribe("/q", id="0", ack="client").headers == {"destination": "/q", "id": "0", "ack": "client"}


def test_subscribe_ack_modes_per_version() -> None:
    assert commands.subscribe("/q", ack="client-individual").headers["ack"] == "client-individual"
    for bad, version in (("client-individual", "1.0"), ("sometimes", "1.2")):
        with pytest.raises(FrameError):
            commands.subscribe("/q", ack=bad, version=version)


def test_unsubscribe() -> None:
    assert commands.unsubscribe("0").headers == {"id": "0"}
    assert commands.unsubscribe(destination="/q", version="1.0").headers == {"destination": "/q"}
    with pytest.raises(FrameError):
        commands.unsubscribe(destination="/q", version="1.2")


def test_ack_1_2_uses_the_message_ack_header() -> None:
    assert commands.ack(MESSAGE).headers == {"id": "a-1"}
    assert commands.nack(MESSAGE, transaction="tx").headers == {"id": "a-1", "transaction": "tx"}
    no_ack_header = Frame("MESSAGE", {"message-id": "m-9"})
    assert commands.ack(no_ack_header).headers == {"id": "m-9"}


def test_ack_1_1_uses_message_id_and_subscription() -> None:
    assert commands.ack(MESSAGE, version="1.1").headers == {"message-id": "m-1", "subscription": "s-1"}
    assert commands.nack(MESSAGE, version="1.1").headers == {"message-id": "m-1", "subscription": "s-1"}


def test_ack_1_0_uses_message_id_only() -> None:
    assert commands.ack(MESSAGE, version="1.0", receipt="r").headers == {"message-id": "m-1", "receipt": "r"}
    with pytest.raises(FrameError):
        commands.nack(MESSAGE, version="1.0")


def test_ack_by_id_and_missing_id() -> None:
    assert commands.ack(id="x", subscription="s", version="1.1").headers == {"message-id": "x", "subscription": "s"}
    with pytest.raises(FrameError):
        commands.ack(Frame("MESSAGE", {"destination": "/q"}))


def test_transactions() -> None:
    begun = commands.begin()
    assert begun.command == "BEGIN" and begun.headers["transaction"]
    assert commands.begin("tx1").headers == {"transaction": "tx1"}
    assert commands.commit("tx1", receipt="r").headers == {"transaction": "tx1", "receipt": "r"}
    assert commands.abort("tx1").encode() == b"ABORT\ntransaction:tx1\n\n\0"
    for build in (commands.commit, commands.abort):
        with pytest.raises(FrameError):
            build("")


def test_disconnect() -> None:
    assert commands.disconnect().encode() == b"DISCONNECT\n\n\0"
    assert commands.disconnect(receipt="77").encode() == b"DISCONNECT\nreceipt:77\n\n\0"


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_every_builder_encodes_and_parses_back_in_each_version(version: str) -> None:
    built = [
        commands.connect("u", "p", version=version),
        commands.send("/q", b"body"),
        commands.subscribe("/q", id="s", version=version),
        commands.unsubscribe("s", version=version),
        commands.ack(MESSAGE, version=version),
        commands.begin("t"),
        commands.commit("t"),
        commands.abort("t"),
        commands.disconnect("r"),
    ]
    if version != "1.0":
        built += [commands.connect(version=version, command="STOMP"), commands.nack(MESSAGE, version=version)]
    for frame in built:
        parsed = round_trip(frame, version)
        parsed.headers.pop("content-length", None)
        assert parsed == frame
