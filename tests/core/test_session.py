"""stomper.session: the sans-I/O STOMP session, driven with plain bytes and a made-up clock."""

from __future__ import annotations

import math

import pytest

from stomper import commands
from stomper.errors import BrokerError, ConnectionLost, FrameError
from stomper.frame import Frame
from stomper.session import (
    MAX_HEART_BEAT_MS,
    MAX_TIMEOUT,
    RESERVED_CONNECT_HEADERS,
    SETTLED_KEPT,
    Session,
    Settlement,
    check_heart_beat,
    check_timeout,
    masked,
)

CONNECTED = b"CONNECTED\nversion:1.2\nsession:s-1\nserver:test/1\nheart-beat:1000,2000\n\n\0"


def message(number: int, subscription: str = "sub-a", version: str = "1.2") -> bytes:
    ack = f"ack:a-{number}\n" if version == "1.2" else ""
    return f"MESSAGE\ndestination:/queue/q\nmessage-id:m-{number}\nsubscription:{subscription}\n{ack}\nbody {number}\0".encode()


def connected(now: float = 100.0, reply: bytes = CONNECTED, **options) -> Session:
    session = Session(**options)
    session.start(now)
    session.receive_data(reply, now)
    return session


# ----------------------------------------------------------------------
# CONNECT


def test_connect_frame_offers_every_version_and_carries_connect_headers():
    session = Session(heart_beat=(500, 700), connect_headers={"client-id": "me", "x-extra": "1"})
    frame = session.connect_frame("guest", "secret", "/")
    assert frame.command == "CONNECT"
    assert frame.headers == {
        "client-id": "me", "x-extra": "1", "accept-version": "1.0,1.1,1.2", "host": "/",
        "login": "guest", "passcode": "secret", "heart-beat": "500,700",
    }
    assert masked(frame).headers["passcode"] == "***"
    assert frame.headers["passcode"] == "secret"


def test_a_pinned_1_0_session_sends_neither_heart_beat_nor_accept_version_nor_stomp():
    frame = Session(version="1.0", use_stomp_command=True).connect_frame(None, None, "/")
    assert frame.command == "CONNECT" and frame.headers == {}


@pytest.mark.parametrize("name", [*RESERVED_CONNECT_HEADERS, "Host", "PASSCODE"])
def test_connect_headers_the_session_sets_itself_are_refused(name):
    with pytest.raises(ValueError, match=f"connect header '{name}' is set by the connection itself"):
        Session(connect_headers={name: "x"})


# ----------------------------------------------------------------------
# Receiving


def test_connected_settles_the_session_and_files_what_follows_it():
    session = Session()
    session.start(100.0)
    frames = session.receive_data(CONNECTED + message(1), 101.0)
    assert [frame.command for frame in frames] == ["CONNECTED", "MESSAGE"]
    assert session.connected and session.version == "1.2"
    assert (session.session_id, session.server) == ("s-1", "test/1")
    assert session.heart_beats == (10000, 10000)  # each side's larger value
    assert [frame.body for frame in session.messages] == [b"body 1"]
    assert session.last_received == 101.0


def test_a_stream_cut_anywhere_gives_the_same_state():
    whole = connected(reply=CONNECTED + message(1) + message(2))
    cut = Session()
    cut.start(0.0)
    for byte in CONNECTED + message(1) + message(2):
        cut.receive_data(bytes([byte]), 0.0)
    assert list(cut.messages) == list(whole.messages) and cut.session_id == whole.session_id


def test_the_negotiated_version_is_used_for_reading_and_writing():
    session = connected(reply=b"CONNECTED\nversion:1.1\n\n\0")
    assert session.version == "1.1" and session.parser.version == "1.1"
    assert session.encode(commands.begin("t")) == b"BEGIN\ntransaction:t\n\n\0"


def test_error_before_connected_is_a_refusal():
    session = Session()
    session.start(0.0)
    with pytest.raises(BrokerError, match="broker refused the connection: bad login"):
        session.receive_data(b"ERROR\nmessage:bad login\n\n\0", 0.0)
    assert not session.connected


def test_another_frame_before_connected_is_a_lost_connection():
    session = Session()
    session.start(0.0)
    with pytest.raises(ConnectionLost, match="answered CONNECT with RECEIPT"):
        session.receive_data(b"RECEIPT\nreceipt-id:1\n\n\0", 0.0)


def test_a_peer_that_does_not_speak_stomp():
    session = Session()
    session.start(0.0)
    with pytest.raises(ConnectionLost, match="does not speak STOMP"):
        session.receive_data(b"HTTP/1.1 400 Bad Request\r\n\r\n", 0.0)


def test_garbage_after_good_frames_files_them_then_raises():
    session = connected()
    with pytest.raises(FrameError) as caught:
        session.receive_data(message(1) + b"NONSENSE\n\n\0", 1.0)
    assert [frame.body for frame in caught.value.frames] == [b"body 1"]
    assert [frame.body for frame in session.messages] == [b"body 1"]


def test_receipts_pending_and_arrived():
    session = connected()
    session.expect_receipt("r-1")
    session.expect_receipt("r-2")
    session.receive_data(b"RECEIPT\nreceipt-id:r-1\n\n\0", 1.0)
    assert session.pending_receipts == {"r-2"}
    assert session.take_receipt("r-1") is True
    assert session.take_receipt("r-1") is False  # taken once
    assert session.take_receipt("r-2") is False


def test_errors_are_kept_in_order():
    session = connected()
    session.receive_data(b"ERROR\nmessage:one\n\n\0ERROR\nmessage:two\n\n\0", 1.0)
    assert [frame.headers["message"] for frame in session.errors] == ["one", "two"]


def test_on_frame_sees_every_received_frame_in_order():
    seen = []
    session = Session(on_frame=lambda frame, direction: seen.append((frame.command, direction)))
    session.start(0.0)
    session.receive_data(CONNECTED + message(1) + b"RECEIPT\nreceipt-id:r\n\n\0", 0.0)
    assert seen == [("CONNECTED", "in"), ("MESSAGE", "in"), ("RECEIPT", "in")]


def test_on_frame_hears_of_a_message_or_receipt_once_filed_and_of_an_error_before_it_is_queued():
    # The REPL's `wait` returns from inside on_frame and its next command acks at once: the message must be
    # awaiting its ack by then. An ERROR is the other way round, so the observer reports it before a waiter raises it.
    state = []

    def observe(frame, direction):
        if frame.command != "CONNECTED":
            state.append((frame.command, len(session.unacknowledged("sub-a")), session.take_receipt("r"), len(session.errors)))

    session = connected(on_frame=observe)
    session.subscribe("/queue/q", "client-individual", "sub-a", None, None)
    session.expect_receipt("r")
    session.receive_data(message(1) + b"RECEIPT\nreceipt-id:r\n\n\0ERROR\nmessage:m\n\n\0", 1.0)
    assert state == [("MESSAGE", 1, False, 0), ("RECEIPT", 1, True, 0), ("ERROR", 1, False, 0)]
    assert len(session.errors) == 1


# ----------------------------------------------------------------------
# Heart-beats


def test_a_huge_broker_heart_beat_is_clamped_with_a_note():
    session = connected(reply=b"CONNECTED\nversion:1.2\nheart-beat:3000000000,3000000000\n\n\0")
    assert session.heart_beats == (MAX_HEART_BEAT_MS, MAX_HEART_BEAT_MS)
    top = MAX_HEART_BEAT_MS
    assert session.notes == [f"the broker's heart-beat '3000000000,3000000000' is beyond {top} ms; using {top},{top}"]
    assert session.next_deadline(100.0) == pytest.approx(100.0 + MAX_HEART_BEAT_MS * 0.9 / 1000)


def test_deadlines_follow_what_was_sent_and_received():
    session = connected(now=100.0, heart_beat=(1000, 2000))  # agreed: send every 2 s, broker every 2 s
    assert session.heart_beats == (2000, 2000)
    assert session.beat_due() == pytest.approx(101.8)  # 0.9 of the interval after the last write
    assert session.silence_limit() == pytest.approx(104.0)  # twice the broker's interval after the last read
    assert session.next_deadline(100.5) == pytest.approx(101.8)
    session.last_sent = 103.0
    assert session.next_deadline(103.0) == pytest.approx(104.0)
    assert not session.overdue(104.0)
    assert session.overdue(104.01)
    session.receive_data(b"\n", 104.5)  # a heart-beat: the broker is alive
    assert not session.overdue(105.0)
    assert session.next_deadline(200.0) == 200.0  # already due: now
    assert "sent nothing for 4 s (heart-beats expected every 2000 ms)" in session.silence_message()


def test_no_heart_beats_means_no_deadline():
    session = connected(reply=b"CONNECTED\nversion:1.2\n\n\0")
    assert session.heart_beats == (0, 0)
    assert session.next_deadline(100.0) is None and not session.overdue(10.0**9)


@pytest.mark.parametrize("value", [(math.nan, 0), (0, math.inf), (-1, 0), (MAX_HEART_BEAT_MS + 1, 0), (1,), "10,10", None])
def test_heart_beat_values_out_of_range_are_refused(value):
    if value is None:
        assert check_heart_beat(value) == (0, 0)
        return
    with pytest.raises(ValueError, match=f"heart_beat must be two numbers of milliseconds from 0 to {MAX_HEART_BEAT_MS}"):
        check_heart_beat(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.5, MAX_TIMEOUT * 2, "soon"])
def test_timeouts_out_of_range_are_refused(value):
    with pytest.raises(ValueError, match=f"receive timeout must be a number of seconds from 0 to {MAX_TIMEOUT}"):
        check_timeout("receive timeout", value)


def test_timeouts_in_range_are_seconds():
    assert check_timeout("t", None) is None
    assert check_timeout("t", 0) == 0.0 and check_timeout("t", MAX_TIMEOUT) == MAX_TIMEOUT


# ----------------------------------------------------------------------
# Subscriptions and acknowledgement


def test_live_subscriptions_are_renewed_with_the_same_ids_after_a_new_start():
    session = connected()
    session.subscribe("/queue/a", "auto", "sub-a", {"x": "1"}, receipt="r-1")
    session.subscribe("/queue/b", "client", "sub-b", None, receipt=None)
    session.subscribe("/queue/c", "auto", "sub-c", None, receipt=None)
    session.unsubscribe("sub-c", receipt=None)
    session.start(200.0)  # a reconnect
    session.receive_data(CONNECTED, 200.0)
    renewals = session.renewals()
    assert [(frame.headers["id"], frame.headers["destination"], frame.headers["ack"]) for frame in renewals] == [
        ("sub-a", "/queue/a", "auto"), ("sub-b", "/queue/b", "client"),
    ]
    assert renewals[0].headers["x"] == "1" and "receipt" not in renewals[0].headers


def test_unsubscribe_in_1_0_names_the_destination():
    session = connected(reply=b"CONNECTED\n\n\0")
    assert session.version == "1.0"
    session.subscribe("/queue/a", "auto", "s", None, None)
    assert session.unsubscribe("s", None).headers == {"id": "s", "destination": "/queue/a"}


def test_client_individual_messages_are_outstanding_until_each_is_acked():
    session = connected()
    session.subscribe("/queue/q", "client-individual", "sub-a", None, None)
    session.receive_data(message(1) + message(2) + message(3), 1.0)
    first, second, _ = session.messages
    session.acknowledge(commands.ack, second, None, None)
    assert [frame.body for frame in session.unacknowledged("sub-a")] == [b"body 1", b"body 3"]
    session.acknowledge(commands.nack, first, None, None)
    assert [frame.body for frame in session.unacknowledged()] == [b"body 3"]


def test_client_ack_is_cumulative():
    session = connected()
    session.subscribe("/queue/q", "client", "sub-a", None, None)
    session.receive_data(message(1) + message(2) + message(3), 1.0)
    session.acknowledge(commands.ack, session.messages[1], None, None)
    assert [frame.body for frame in session.unacknowledged("sub-a")] == [b"body 3"]


@pytest.mark.parametrize(("server", "left"), [("RabbitMQ/3.10.8", [b"body 3"]), ("ActiveMQ/5.17.2", [b"body 1", b"body 3"])])
def test_a_nack_in_client_mode_is_cumulative_except_where_the_broker_nacks_one(server, left):
    session = connected(reply=CONNECTED.replace(b"server:test/1", f"server:{server}".encode()))
    session.subscribe("/queue/q", "client", "sub-a", None, None)
    session.receive_data(message(1) + message(2) + message(3), 1.0)
    session.acknowledge(commands.nack, session.messages[1], None, None)
    assert [frame.body for frame in session.unacknowledged("sub-a")] == left
    assert session.cumulative("sub-a", "ACK") and session.cumulative("sub-a", "NACK") == (len(left) == 1)
    session.acknowledge(commands.ack, session.messages[2], None, None)  # an ACK is cumulative on both
    assert session.unacknowledged("sub-a") == []


def test_an_ack_sent_as_a_prepared_frame_settles_too():
    session = connected(reply=b"CONNECTED\nversion:1.1\n\n\0")
    session.subscribe("/queue/q", "client-individual", "sub-a", None, None)
    session.receive_data(message(1, version="1.1"), 1.0)
    session.sent(Frame("ACK", {"message-id": "m-1", "subscription": "sub-a"}))
    assert session.unacknowledged() == []


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("build", [commands.ack, commands.nack])
@pytest.mark.parametrize("message_id", ["m-1", "ID:vm-4-1:2:-1:1:7", "a\\b\nc:d", ""])
def test_acknowledgement_data_is_the_encoded_frame_and_settles(version, build, message_id):
    session = connected(reply=f"CONNECTED\nversion:{version}\n\n\0".encode())
    session.subscribe("/queue/q", "client-individual", "sub:a", None, None)
    received = Frame("MESSAGE", {"subscription": "sub:a", "message-id": message_id, "ack": message_id}, b"body")
    session._file([received])
    data = session.acknowledgement_data(build.__name__.upper(), received)
    assert data == build(received, version=version).encode(version)
    assert session.unacknowledged() == []


@pytest.mark.parametrize(
    ("version", "headers"),
    [
        ("1.0", {"message-id": "m-1", "subscription": "s"}),  # no escapes: the frame path decides what can be written
        ("1.2", {"subscription": "s"}),  # nothing to name the message by: the frame path words the error
        ("1.1", {"message-id": "m-1"}),  # no subscription header to copy
        ("1.1", {"message-id": "m\r1", "subscription": "s"}),  # a carriage return 1.1 cannot escape
    ],
)
def test_acknowledgement_data_leaves_the_unusual_to_the_frame_path(version, headers):
    session = connected(reply=f"CONNECTED\nversion:{version}\n\n\0".encode())
    session.subscribe("/queue/q", "client", "s", None, None)
    received = Frame("MESSAGE", headers, b"")
    session._file([received])
    outstanding = session.unacknowledged()
    assert session.acknowledgement_data("ACK", received) is None
    assert session.unacknowledged() == outstanding


def test_a_cumulative_ack_settles_the_older_messages_and_keeps_the_newer_in_order():
    session = connected()
    session.subscribe("/queue/q", "client", "sub-a", None, None)
    session.receive_data(b"".join(message(number) for number in range(1, 301)), 1.0)
    for acked in (100, 101, 250):
        session.acknowledgement_data("ACK", session.messages[acked - 1])
        assert [frame.body for frame in session.unacknowledged("sub-a")] == [f"body {n}".encode() for n in range(acked + 1, 301)]


def test_auto_subscriptions_keep_nothing_and_a_reconnect_forgets_what_was_outstanding():
    session = connected()
    session.subscribe("/queue/a", "auto", "sub-auto", None, None)
    session.subscribe("/queue/q", "client", "sub-a", None, None)
    session.receive_data(message(1, "sub-auto") + message(2, "sub-a"), 1.0)
    assert [frame.body for frame in session.unacknowledged()] == [b"body 2"]
    session.start(2.0)  # the broker redelivers what was unacknowledged on the old connection
    assert session.unacknowledged() == [] and "sub-a" in session.subscriptions


def test_ack_modes_come_from_the_version():
    session = connected(reply=b"CONNECTED\nversion:1.0\n\n\0")
    with pytest.raises(FrameError, match="ack mode 'client-individual' does not exist in STOMP 1.0"):
        session.subscribe("/queue/q", "client-individual", "s", None, None)
    assert "s" not in session.subscriptions


def test_the_session_remembers_how_each_message_was_settled():
    session = connected()
    session.subscribe("/queue/q", "client", "sub-a", None, None)
    session.receive_data(message(1) + message(2) + message(3), 1.0)
    session.acknowledge(commands.ack, session.messages[1], None, None)
    cumulative = Settlement("ACK", "a-2", None)
    assert session.settled_by("sub-a", "a-1") == cumulative and session.settled_by("sub-a", "a-2") == cumulative
    assert session.settled_by("sub-a", "a-1") is session.settled_by("sub-a", "a-2")  # one ACK settled both
    assert session.settled_by("sub-a", "a-3") is None
    session.acknowledge(commands.nack, session.messages[2], "tx-1", None)
    assert session.settled_by("sub-a", "a-3") == ("NACK", "a-3", "tx-1")
    session.start(2.0)  # ack ids mean nothing on a new connection
    assert session.settled_by("sub-a", "a-1") is None


def test_settled_messages_are_remembered_up_to_a_bound():
    session = connected()
    session.subscribe("/queue/q", "client-individual", "sub-a", None, None)
    count = 2 * SETTLED_KEPT + 1
    session.receive_data(b"".join(message(number) for number in range(count)), 1.0)
    sizes = []
    for received in list(session.messages):
        session.acknowledge(commands.ack, received, None, None)
        sizes.append(len(session.settled["sub-a"]))
    assert max(sizes) == 2 * SETTLED_KEPT and sizes[-1] == SETTLED_KEPT  # cut back to the latest once past twice the bound
    assert session.settled_by("sub-a", f"a-{count - SETTLED_KEPT - 1}") is None
    assert session.settled_by("sub-a", f"a-{count - SETTLED_KEPT}") is not None
    assert session.unacknowledged() == []


def test_abort_makes_the_transactions_acks_outstanding_again_in_arrival_order_and_commit_drops_them():
    session = connected()
    session.subscribe("/queue/q", "client-individual", "sub-a", None, None)
    session.receive_data(message(1) + message(2) + message(3), 1.0)
    first, second, third = session.messages
    session.acknowledge(commands.ack, second, "tx-1", None)
    session.acknowledge(commands.ack, second, None, None)  # a repeat changes nothing
    assert [frame.body for frame in session.unacknowledged()] == [b"body 1", b"body 3"]
    assert session.settled_by("sub-a", "a-2").transaction == "tx-1"
    session.sent(commands.abort("tx-1"))
    assert [frame.body for frame in session.unacknowledged()] == [b"body 1", b"body 2", b"body 3"]
    assert session.settled_by("sub-a", "a-2") is None
    session.acknowledge(commands.ack, third, "tx-2", None)
    session.acknowledge(commands.ack, first, None, None)
    session.sent(commands.commit("tx-2"))
    assert [frame.body for frame in session.unacknowledged()] == [b"body 2"]
    assert session.outstanding["sub-a"] == {"a-2": second} and session.held["sub-a"] == {}


def test_a_cumulative_ack_in_a_transaction_is_undone_whole_by_abort():
    session = connected()
    session.subscribe("/queue/q", "client", "sub-a", None, None)
    session.receive_data(message(1) + message(2) + message(3), 1.0)
    session.acknowledge(commands.ack, session.messages[1], "tx-1", None)
    assert [frame.body for frame in session.unacknowledged("sub-a")] == [b"body 3"]
    session.sent(commands.abort("tx-1"))
    assert [frame.body for frame in session.unacknowledged("sub-a")] == [b"body 1", b"body 2", b"body 3"]
