"""An ACK whose connection broke is not sent again on the connection that replaces it.

A broken socket at the moment of a write is a fault no real broker can be
made to produce on cue, so the first transport's write is made to fail.
The reconnect tries the first peer again before the second (the URLs in
order); it takes the TCP connection but never answers, so a short connect
timeout keeps that try short.
"""

from __future__ import annotations

import contextlib

import pytest

from stomper.connection import Connection, ConnectionLost
from stomper.parser import FrameParser

from .fakepeer import FakePeer

MESSAGE = b"MESSAGE\ndestination:/queue/a\nmessage-id:7\nack:7\nsubscription:s\ncontent-length:5\n\nhello\0"


def broken_write(data: bytes) -> None:
    raise BrokenPipeError(32, "Broken pipe")


def frames_after_connect(peer: FakePeer) -> list:
    return FrameParser().feed(peer.data().split(b"\0", 1)[1])


@contextlib.contextmanager
def subscribed(first_script: list, second_script: list):
    """A failover connection over two scripted peers, subscribed as `s` with ack client-individual; yields it and the second peer."""
    with FakePeer(first_script) as first, FakePeer(second_script) as second:
        conn = Connection([first.url, second.url], heart_beat=(0, 0), reconnect=True, reconnect_timeout=20, connect_timeout=1)
        conn.connect()
        try:
            conn.subscribe("/queue/a", id="s", ack="client-individual")
            yield conn, second
        finally:
            conn.close()


@pytest.mark.parametrize("acknowledge", ["ack", "nack"])
def test_an_ack_that_failed_with_its_connection_is_not_sent_on_the_next(acknowledge):
    with subscribed([("expect", 1), ("send", MESSAGE), ("hold",)], [("expect", 1), ("hold",)]) as (conn, second):
        message = conn.receive(timeout=20)
        assert message is not None
        conn._transport.write = broken_write  # the socket breaks under this write
        with pytest.raises(ConnectionLost):
            getattr(conn, acknowledge)(message)
        assert conn.connected  # failed over, and the subscription renewed there
        conn.send("/queue/b", b"after", receipt=False)
    commands = [frame.command for frame in frames_after_connect(second)]
    assert commands == ["SUBSCRIBE", "SEND"]  # the renewal, and no ACK or NACK of the other connection's message


def test_a_send_that_failed_with_its_connection_is_sent_once_more_on_the_next():
    with FakePeer([("hold",)]) as first, FakePeer([("expect", 1), ("hold",)]) as second:
        conn = Connection([first.url, second.url], heart_beat=(0, 0), reconnect=True, reconnect_timeout=20, connect_timeout=1)
        conn.connect()
        try:
            conn._transport.write = broken_write
            conn.send("/queue/b", b"again")
        finally:
            conn.close()
    sent = frames_after_connect(second)
    assert [(frame.command, frame.body) for frame in sent] == [("SEND", b"again")]


SECOND_MESSAGE = MESSAGE.replace(b"message-id:7\nack:7", b"message-id:8\nack:8")


def test_a_message_of_a_lost_connection_is_refused_and_one_of_the_new_connection_is_acked():
    with subscribed([("expect", 1), ("send", MESSAGE), ("close",)], [("expect", 1), ("send", SECOND_MESSAGE), ("hold",)]) as (conn, second):
        old = conn.receive(timeout=20)
        new = conn.receive(timeout=20)  # reading on finds the first connection closed, fails over and renews
        assert (old.headers["message-id"], new.headers["message-id"]) == ("7", "8")
        with pytest.raises(ConnectionLost, match="'7' came on a connection since lost: not acknowledged"):
            conn.ack(old)
        conn.ack(new, receipt=False)
    sent = frames_after_connect(second)
    assert [(frame.command, frame.headers.get("id")) for frame in sent] == [("SUBSCRIBE", "s"), ("ACK", "8")]


@pytest.mark.parametrize("receipt", [False, True], ids=["bytes-path", "frame-path"])
def test_a_reconnect_between_the_check_and_the_write_keeps_the_ack_off_the_new_connection(receipt):
    with subscribed([("expect", 1), ("send", MESSAGE), ("hold",)], [("expect", 1), ("hold",)]) as (conn, second):
        message = conn.receive(timeout=20)
        builder = "acknowledge" if receipt else "acknowledgement_data"
        build = getattr(conn.protocol, builder)

        def reconnect_then_build(*args):  # the connection is replaced after the check, before the write
            conn._lost_connection(conn._generation, "dropped by the test")
            return build(*args)

        setattr(conn.protocol, builder, reconnect_then_build)
        with pytest.raises(ConnectionLost, match="lost before the acknowledgement was written"):
            conn.ack(message, receipt=receipt, timeout=20)
        assert conn.connected
        conn.send("/queue/b", b"after")
    assert [frame.command for frame in frames_after_connect(second)] == ["SUBSCRIBE", "SEND"]
