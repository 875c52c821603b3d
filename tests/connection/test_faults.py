"""What no real broker does on request, against a scripted peer: stalls, garbage, drops, silence."""

from __future__ import annotations

import socket
import threading

import pytest

from stomper.connection import BrokerError, ConnectFailed, Connection, ConnectionLost, ReceiptTimeout
from stomper.parser import FrameParser
from stomper.session import MAX_HEART_BEAT_MS

from .fakepeer import CONNECTED, FakePeer

MESSAGE = b"MESSAGE\ndestination:/queue/a\nmessage-id:1\nsubscription:s\ncontent-length:5\n\nhello\0"


def connect(peer: FakePeer, **options) -> Connection:
    options.setdefault("heart_beat", (0, 0))
    options.setdefault("connect_timeout", 5)
    return Connection(peer.url, **options).connect()


def receive_raises(script, error, match=None, connected=CONNECTED, **options):
    """Connect to a peer running `script`; the next receive must raise `error`. Returns the exception."""
    with FakePeer(script, connected=connected) as peer:
        conn = connect(peer, **options)
        try:
            with pytest.raises(error, match=match) as caught:
                conn.receive(timeout=30)
        finally:
            conn.close()
    return caught.value


def test_stall_mid_frame_times_out_then_completes():
    half = MESSAGE[:30]
    with FakePeer([("send", half), ("sleep", 0.5), ("send", MESSAGE[30:]), ("hold",)]) as peer:
        conn = connect(peer)
        try:
            assert conn.receive(timeout=0.1) is None  # returns, does not hang on the partial frame
            message = conn.receive(timeout=10)
            assert message is not None and message.body == b"hello"
        finally:
            conn.close()


def test_stall_mid_frame_with_heart_beats_is_lost():
    connected = b"CONNECTED\nversion:1.2\nheart-beat:200,0\n\n\0"
    receive_raises([("send", MESSAGE[:30]), ("hold",)], ConnectionLost, "sent nothing", connected, heart_beat=(0, 200))


def test_garbage_is_connection_lost():
    with FakePeer([("send", MESSAGE + b"NONSENSE\n\n\0"), ("hold",)]) as peer:
        conn = connect(peer)
        try:
            assert conn.receive(timeout=10).body == b"hello"  # frames before the garbage still arrive
            with pytest.raises(ConnectionLost, match="malformed frame.*unknown command"):
                conn.receive(timeout=10)
            assert not conn.connected
        finally:
            conn.close()


def test_a_peer_that_is_not_a_stomp_broker_fails_the_connect_clearly():
    expected = "does not speak STOMP: unknown command 'HTTP/1.1 400 Bad Request'"
    with FakePeer([("hold",)], connected=b"HTTP/1.1 400 Bad Request\r\n\r\n") as peer, pytest.raises(ConnectFailed, match=expected):
        connect(peer)


def test_drop_mid_body_is_connection_lost():
    receive_raises([("send", MESSAGE[:-3]), ("close",)], ConnectionLost, "closed the connection")


def test_a_tcp_broker_that_closes_instead_of_answering_disconnect_has_not_confirmed_anything():
    """Over TCP a close is no receipt (only a WebSocket Close stands for one: RabbitMQ Web STOMP's way, which every
    Web STOMP broker test meets when it disconnects)."""
    with FakePeer([("expect", 1), ("close",)]) as peer:
        conn = connect(peer)
        with pytest.raises(ConnectionLost):
            conn.disconnect(timeout=30)
        assert not conn.connected
    assert peer.data().endswith(b"\0") and b"DISCONNECT\nreceipt:" in peer.data()


def test_a_broker_that_neither_answers_nor_closes_after_disconnect_is_a_receipt_timeout():
    with FakePeer([("expect", 1), ("hold",)]) as peer:
        conn = connect(peer)
        with pytest.raises(ReceiptTimeout):
            conn.disconnect(timeout=0.3)
        assert not conn.connected


def test_silent_peer_is_lost_by_heart_beat_even_without_a_reader():
    connected = b"CONNECTED\nversion:1.2\nheart-beat:100,100\n\n\0"
    with FakePeer([("hold",)], connected=connected) as peer:
        conn = connect(peer, heart_beat=(100, 100))
        try:
            assert conn.heart_beats == (100, 100)
            for _ in range(200):  # the heart-beat thread notices alone; bounded wait
                if not conn.connected:
                    break
                threading.Event().wait(0.05)
            assert not conn.connected
            with pytest.raises(ConnectionLost, match="sent nothing for 0.2 s"):
                conn.receive(timeout=5)
        finally:
            conn.close()


def test_heart_beats_keep_a_quiet_connection_alive_and_eols_are_sent():
    connected = b"CONNECTED\nversion:1.2\nheart-beat:500,500\n\n\0"
    beats = [("send", b"\n"), ("sleep", 0.1)] * 25
    with FakePeer([*beats, ("send", MESSAGE), ("hold",)], connected=connected) as peer:
        conn = connect(peer, heart_beat=(500, 500))
        try:
            message = conn.receive(timeout=10)
            assert message is not None and message.body == b"hello"
            assert conn.connected
        finally:
            conn.close()
        after_connect = peer.data().split(b"\0", 1)[1]
        assert after_connect.count(b"\n") >= 3  # EOLs written while idle (the DISCONNECT adds a few)


def test_close_stops_the_heart_beat_thread():
    connected = b"CONNECTED\nversion:1.2\nheart-beat:100,100\n\n\0"
    with FakePeer([("hold",)], connected=connected) as peer:
        conn = connect(peer, heart_beat=(100, 100))
        thread = conn._heart_thread
        assert thread is not None and thread.is_alive()
        conn.close()
        assert not thread.is_alive()


def test_connect_refused_by_error_frame():
    error = b"ERROR\nmessage:Access refused for user 'user'\ncontent-length:9\n\nbad login\0"
    with FakePeer([], connected=error) as peer, pytest.raises(BrokerError) as caught:
        connect(peer)
    assert caught.value.message == "Access refused for user 'user'"
    assert caught.value.body == "bad login"
    assert str(caught.value).startswith("broker refused the connection: Access refused for user 'user'")
    assert "secret" not in str(caught.value)


def test_connect_timeout_when_no_connected_frame():
    with FakePeer([("hold",)], connected=b"") as peer, pytest.raises(ConnectFailed) as caught:
        Connection(peer.url, connect_timeout=0.3).connect()
    assert "timed out" in str(caught.value)
    assert "secret" not in str(caught.value) and "user:***@" in str(caught.value)


def test_refused_port_is_one_clear_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectFailed) as caught:
        Connection(f"stomp://guest:guest@127.0.0.1:{port}").connect()
    assert str(caught.value) == f"could not connect to stomp://guest:***@127.0.0.1:{port}: connection refused"


def test_unknown_host_is_clear():
    with pytest.raises(ConnectFailed, match="cannot resolve host 'no-such-host.invalid'"):
        Connection("stomp://no-such-host.invalid", connect_timeout=5).connect()


def test_frame_over_the_size_limit_is_lost():
    big = b"MESSAGE\ndestination:/queue/a\nmessage-id:1\nsubscription:s\n\n" + b"x" * 5000 + b"\0"
    receive_raises([("send", big), ("hold",)], ConnectionLost, "frame size limit", max_frame_size=1024)


def test_broker_error_frame_surfaces_with_message_and_body():
    error = b"ERROR\nmessage:no such transaction\ncontent-length:4\n\ntx-9\0"
    caught = receive_raises([("send", error), ("hold",)], BrokerError)
    assert caught.message == "no such transaction" and caught.body == "tx-9"


def test_sends_from_many_threads_never_interleave():
    threads, per_thread = 8, 200
    with FakePeer([("expect", threads * per_thread), ("hold",)]) as peer:
        conn = connect(peer)
        bodies = [bytes([65 + n]) * (1000 + n) for n in range(threads)]

        def worker(n: int) -> None:
            for i in range(per_thread):
                conn.send("/queue/t", bodies[n], headers={"n": str(n), "i": str(i)})

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for worker_thread in workers:
            worker_thread.start()
        for worker_thread in workers:
            worker_thread.join()
        conn.close()
    frames = FrameParser().feed(peer.data().split(b"\0", 1)[1])
    sends = [frame for frame in frames if frame.command == "SEND"]
    assert len(sends) == threads * per_thread
    for frame in sends:
        assert frame.body == bodies[int(frame.headers["n"])]
    for n in range(threads):
        assert [int(f.headers["i"]) for f in sends if f.headers["n"] == str(n)] == list(range(per_thread))


def test_file_body_is_streamed_with_content_length(tmp_path):
    payload = bytes(range(256)) * 4096 + b"\0end"
    path = tmp_path / "body.bin"
    path.write_bytes(payload)
    with FakePeer([("expect", 1), ("hold",)]) as peer:
        conn = connect(peer)
        with open(path, "rb") as stream:
            stream.read(10)  # streamed from the current position
            conn.send("/queue/f", stream, headers={"x": "1"})
        conn.close()
    frames = FrameParser().feed(peer.data().split(b"\0", 1)[1])
    assert frames[0].command == "SEND"
    assert frames[0].headers["content-length"] == str(len(payload) - 10)
    assert frames[0].body == payload[10:]


def test_receive_from_several_threads_delivers_each_message_once():
    count = 300
    messages = b"".join(MESSAGE.replace(b"message-id:1", f"message-id:{n}".encode()) for n in range(count))
    with FakePeer([("sleep", 0.2), ("send", messages), ("hold",)]) as peer:
        conn = connect(peer)
        seen: list[str] = []
        lock = threading.Lock()

        def reader() -> None:
            while True:
                message = conn.receive(timeout=1.0)
                if message is None:
                    return
                with lock:
                    seen.append(message.headers["message-id"])

        readers = [threading.Thread(target=reader) for _ in range(4)]
        for thread in readers:
            thread.start()
        for thread in readers:
            thread.join(30)
        conn.close()
    assert sorted(seen, key=int) == [str(n) for n in range(count)]


def test_a_thread_waiting_for_another_threads_read_is_woken_when_that_read_ends():
    """The reader notifies waiters only when there are some; one that registered while it read is still woken."""
    with FakePeer([("hold",)]) as peer:
        conn = connect(peer)
        received: list = []
        conn._rlock.acquire()  # another thread is reading the socket
        waiter = threading.Thread(target=lambda: received.append(conn.receive()))  # no timeout: only a wake-up ends it
        try:
            waiter.start()
            while not conn._waiting:
                threading.Event().wait(0.01)
            with conn._cond:  # the waiter holds the condition until it waits on it
                pass
            conn.protocol.receive_data(MESSAGE, 0.0)  # what the other thread read
            conn._release_read()
            waiter.join(30)
            assert [message.body for message in received] == [b"hello"]
        finally:
            conn.close()
            waiter.join(30)


def test_reconnect_resubscribes_on_the_next_url():
    subscribed = []
    with FakePeer([("expect", 1), ("close",)]) as first, FakePeer([("expect", 1), ("send", MESSAGE), ("hold",)]) as second:
        failovers = []
        conn = Connection([first.url, second.url], heart_beat=(0, 0), reconnect=True, reconnect_timeout=20, connect_timeout=1,
                          on_reconnect=lambda lost: failovers.append((str(lost), conn.url, dict(conn.subscriptions))))
        conn.connect()
        subscribed.append(conn.subscribe("/queue/a", id="s"))
        try:
            message = conn.receive(timeout=20)
            assert message is not None and message.body == b"hello"
            assert conn.url == str(second.url).replace("secret", "***")
        finally:
            conn.close()
    assert len(failovers) == 1
    why, url, renewed = failovers[0]
    assert why.startswith(f"connection lost ({str(first.url).replace('secret', '***')}): ") and "secret" not in why
    assert url == str(second.url).replace("secret", "***") and renewed == {"s": "/queue/a"}
    resubscribe = FrameParser().feed(second.data().split(b"\0", 1)[1])[0]
    assert resubscribe.command == "SUBSCRIBE"
    assert resubscribe.headers["id"] == "s" and resubscribe.headers["destination"] == "/queue/a"


def test_passcode_never_in_on_frame():
    seen = []
    with FakePeer([("hold",)]) as peer:
        conn = connect(peer, on_frame=lambda frame, direction: seen.append((direction, frame)))
        conn.close()
    connect_frame = seen[0][1]
    assert seen[0][0] == "out" and connect_frame.command == "CONNECT"
    assert connect_frame.headers["passcode"] == "***"
    assert b"passcode:secret" in peer.data()


def test_batch_coalesces_writes():
    with FakePeer([("expect", 501), ("hold",)]) as peer:
        conn = connect(peer)
        with conn.batch(size=1 << 20):
            for n in range(500):
                conn.send("/queue/b", str(n))
            assert peer.data().count(b"SEND") == 0  # held back until the batch writes
            conn.flush()
            conn.send("/queue/b", b"last")
        conn.close()
    sends = [frame for frame in FrameParser().feed(peer.data().split(b"\0", 1)[1]) if frame.command == "SEND"]
    assert [frame.body for frame in sends] == [str(n).encode() for n in range(500)] + [b"last"]


def test_plain_send_bytes_are_the_core_encoding():
    from stomper import commands

    cases = [
        ("/queue/a", b"body", None, None),
        ("/queue/with:colon\\and\nnewline", b"\0nul", "application/octet-stream", "tx-1"),
        ("/queue/a", b"", None, None),
        ("/queue/ü", "text ☃", "text/plain; charset=utf-8", None),
    ]
    with FakePeer([("expect", len(cases)), ("hold",)]) as peer:
        conn = connect(peer)
        for destination, body, content_type, transaction in cases:
            conn.send(destination, body, content_type=content_type, transaction=transaction)
        conn.close()
    expected = b"".join(commands.send(d, b, c, t).encode("1.2") for d, b, c, t in cases)
    assert peer.data().split(b"\0", 1)[1].startswith(expected)


def test_a_broker_heart_beat_beyond_a_timer_is_clamped_and_noted():
    """heart-beat:3000000000,... once gave "internal error": poll cannot wait that long."""
    connected = b"CONNECTED\nversion:1.2\nheart-beat:3000000000,3000000000\n\n\0"
    with FakePeer([("send", MESSAGE), ("hold",)], connected=connected) as peer:
        conn = connect(peer, heart_beat=(10000, 10000))
        try:
            assert conn.heart_beats == (MAX_HEART_BEAT_MS, MAX_HEART_BEAT_MS)
            assert conn.notes == [
                f"the broker's heart-beat '3000000000,3000000000' is beyond {MAX_HEART_BEAT_MS} ms;"
                f" using {MAX_HEART_BEAT_MS},{MAX_HEART_BEAT_MS}"
            ]
            assert conn.receive(timeout=10).body == b"hello"
            assert conn.receive(timeout=0.2) is None and conn.connected
        finally:
            conn.close()


def test_a_broker_that_drops_every_connection_at_once_ends_the_reconnecting_after_the_reconnect_timeout():
    # Each connection is taken, CONNECTED, then closed: without a bound over the losses, reconnecting never ends.
    with FakePeer([("close",)], connections=100_000) as peer:
        conn = Connection(peer.url, heart_beat=(0, 0), reconnect=True, reconnect_timeout=1.0)
        conn.connect()
        try:
            gave_up = r"reconnecting failed: no connection stayed up for reconnect_timeout \(1 s\) since the first loss"
            with pytest.raises(ConnectionLost, match=gave_up):
                conn.receive(timeout=60)
            assert peer.accepted >= 2  # it did reconnect before giving up
        finally:
            conn.close()
