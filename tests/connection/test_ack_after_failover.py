"""An ACK whose connection broke is not sent again on the connection that replaces it.

A broken socket at the moment of a write is a fault no real broker can be
made to produce on cue, so the first transport's write is made to fail.
"""

from __future__ import annotations

import pytest

from stomper.connection import Connection, ConnectionLost
from stomper.parser import FrameParser

from .fakepeer import FakePeer

MESSAGE = b"MESSAGE\ndestination:/queue/a\nmessage-id:7\nack:7\nsubscription:s\ncontent-length:5\n\nhello\0"


def broken_write(data: bytes) -> None:
    raise BrokenPipeError(32, "Broken pipe")


def frames_after_connect(peer: FakePeer) -> list:
    return FrameParser().feed(peer.data().split(b"\0", 1)[1])


@pytest.mark.parametrize("acknowledge", ["ack", "nack"])
def test_an_ack_that_failed_with_its_connection_is_not_sent_on_the_next(acknowledge):
    with FakePeer([("expect", 1), ("send", MESSAGE), ("hold",)]) as first, FakePeer([("expect", 1), ("hold",)]) as second:
        conn = Connection([first.url, second.url], heart_beat=(0, 0), reconnect=True, reconnect_timeout=20)
        conn.connect()
        try:
            conn.subscribe("/queue/a", id="s", ack="client-individual")
            message = conn.receive(timeout=20)
            assert message is not None
            conn._transport.write = broken_write  # the socket breaks under this write
            with pytest.raises(ConnectionLost):
                getattr(conn, acknowledge)(message)
            assert conn.connected  # failed over, and the subscription renewed there
            conn.send("/queue/b", b"after", receipt=False)
        finally:
            conn.close()
    commands = [frame.command for frame in frames_after_connect(second)]
    assert commands == ["SUBSCRIBE", "SEND"]  # the renewal, and no ACK or NACK of the other connection's message


def test_a_send_that_failed_with_its_connection_is_sent_once_more_on_the_next():
    with FakePeer([("hold",)]) as first, FakePeer([("expect", 1), ("hold",)]) as second:
        conn = Connection([first.url, second.url], heart_beat=(0, 0), reconnect=True, reconnect_timeout=20)
        conn.connect()
        try:
            conn._transport.write = broken_write
            conn.send("/queue/b", b"again")
        finally:
            conn.close()
    sent = frames_after_connect(second)
    assert [(frame.command, frame.body) for frame in sent] == [("SEND", b"again")]
