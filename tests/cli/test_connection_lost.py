"""send and subscribe against a scripted peer, for what no real broker does on cue: drops, silence, missing receipts.

Each peer answers CONNECT, then reads the client's frames one by one and
answers each frame's receipt header, or not, as the test's script says.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator

from cli_helpers import assert_one_error_line, run

MESSAGE = b"MESSAGE\ndestination:/queue/q\nmessage-id:1\nsubscription:s\n\nfirst\0"


class Peer:
    """The server side of one connection, for a script to read frames from and answer."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self._buffer = b""

    def frames(self) -> Iterator[bytes]:
        """Each frame the client sends (heart-beat EOLs dropped), until it closes the connection."""
        while True:
            while b"\0" not in self._buffer:
                chunk = self.conn.recv(65536)
                if not chunk:
                    return
                self._buffer += chunk
            frame, _, self._buffer = self._buffer.partition(b"\0")
            yield frame.lstrip(b"\r\n")

    def answer(self, frame: bytes) -> None:
        """Send the RECEIPT the frame asked for, if it asked for one."""
        receipt = re.search(rb"\nreceipt:([^\n]*)", frame)
        if receipt:
            self.conn.sendall(b"RECEIPT\nreceipt-id:%s\n\n\0" % receipt.group(1))


def against(script: Callable[[Peer], None], *args: str, input: bytes | None = None) -> tuple[object, list[bytes]]:
    """Run `stomper ARGS --url <the peer>` (no heart-beats); return the result and the command of every frame the peer saw."""
    seen: list[bytes] = []

    def serve(server: socket.socket) -> None:
        conn, _ = server.accept()
        with conn:
            peer = Peer(conn)
            connect = next(peer.frames())
            seen.append(connect.split(b"\n", 1)[0])
            conn.sendall(b"CONNECTED\nversion:1.2\n\n\0")
            original = peer.frames

            def recorded() -> Iterator[bytes]:
                for frame in original():
                    seen.append(frame.split(b"\n", 1)[0])
                    yield frame

            peer.frames = recorded  # type: ignore[method-assign]
            script(peer)

    with socket.create_server(("127.0.0.1", 0)) as server:
        thread = threading.Thread(target=serve, args=(server,), daemon=True)
        thread.start()
        url = f"stomp://127.0.0.1:{server.getsockname()[1]}"
        command, rest = args[0], args[1:]
        result = run(command, "--url", url, "--heart-beat", "0,0", *rest, input=input, timeout=60)
        thread.join(10)
    return result, seen


def answer_all_but_disconnect(peer: Peer) -> None:
    """A broker that confirms everything, then drops the connection instead of confirming DISCONNECT."""
    for frame in peer.frames():
        if frame.startswith(b"DISCONNECT"):
            return
        peer.answer(frame)


def never_answer(peer: Peer) -> None:
    """A broker that reads everything and confirms nothing (heart-beats off: nothing says it is gone)."""
    for _ in peer.frames():
        pass


def test_subscribe_exits_3_with_one_line_when_the_connection_is_lost():
    def drop_after_one_message(peer: Peer) -> None:
        subscribe = next(peer.frames())
        peer.answer(subscribe)
        peer.conn.sendall(MESSAGE)

    result, _ = against(drop_after_one_message, "subscribe", "--body-only", "/queue/q")
    assert result.stdout == b"first\n"  # what arrived before the loss is written
    assert "connection lost" in assert_one_error_line(result, 3)


def test_send_exits_0_with_a_warning_when_the_drop_comes_after_every_receipt():
    result, seen = against(answer_all_but_disconnect, "send", "/queue/q", "hello")
    assert seen == [b"CONNECT", b"SEND", b"DISCONNECT"]
    assert result.returncode == 0, result.stderr  # the message was confirmed: a retry would duplicate it
    [line] = result.stderr.decode().splitlines()
    assert line.startswith("stomper: warning: ") and "while disconnecting" in line and "confirmed" in line


def test_send_without_receipts_fails_when_disconnect_is_not_confirmed():
    # With --no-receipt the DISCONNECT receipt is the only sign that the broker had the messages.
    result, _ = against(answer_all_but_disconnect, "send", "--no-receipt", "/queue/q", "hello")
    assert "connection lost" in assert_one_error_line(result, 3)


def test_a_failed_send_says_how_many_messages_were_confirmed():
    def confirm_the_first_batch_then_drop(peer: Peer) -> None:
        sends = []
        for frame in peer.frames():
            sends.append(frame)
            if len(sends) == 5:
                break
        peer.answer(next(frame for frame in sends if b"\nreceipt:" in frame))

    lines = b"".join(b"line %d\n" % number for number in range(5))
    result, _ = against(confirm_the_first_batch_then_drop, "send", "--lines", "--batch", "2", "/queue/q", input=lines)
    line = assert_one_error_line(result, 3)
    assert "connection lost" in line and line.endswith("; confirmed 2 of 5 messages"), line


def test_receipt_timeout_bounds_the_wait_for_a_silent_broker():
    result, _ = against(never_answer, "send", "--receipt-timeout", "1", "/queue/q", "hello")
    assert assert_one_error_line(result, 3) == "stomper: error: no receipt for 1 s"


def test_subscribe_waits_for_its_receipt_no_longer_than_receipt_timeout():
    result, _ = against(never_answer, "subscribe", "--receipt-timeout", "1", "/queue/q")
    assert assert_one_error_line(result, 3) == "stomper: error: no receipt for 1 s"


def test_the_disconnect_wait_is_short_and_never_longer_than_the_timeout():
    for timeout, wait in (("1", "1"), ("3", "2")):
        result, seen = against(answer_all_but_disconnect_receipt, "subscribe", "--timeout", timeout, "/queue/q")
        assert seen[-1] == b"DISCONNECT"
        assert result.returncode == 0, result.stderr  # nothing was lost: the drain simply ended
        [line] = result.stderr.decode().splitlines()
        assert line.startswith("stomper: warning: ") and f"no receipt for {wait} s while disconnecting" in line, line


def answer_all_but_disconnect_receipt(peer: Peer) -> None:
    """A broker that stalls at DISCONNECT: it keeps the connection open and never confirms."""
    for frame in peer.frames():
        if not frame.startswith(b"DISCONNECT"):
            peer.answer(frame)
