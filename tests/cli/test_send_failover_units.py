"""The failover of `stomper send` without a broker: which endpoint comes next, when it gives up, what is sent again.

The real thing (a RabbitMQ node SIGKILLed under `send`) is tested in
tests/cluster/test_send_failover.py; here a scripted connection loses
itself exactly where each test says, and the clock and sleep are fakes.
"""

from __future__ import annotations

import contextlib
from collections import deque
from types import SimpleNamespace

import pytest

from stomper.errors import ConnectFailed, ConnectionLost
from stomper.failover import Backoff
from stomper_cli.send import Failover, PipelinedSender

LOST = ConnectionLost("connection lost (stomp://a): the broker closed the connection")


class ScriptedConnection:
    """Enough of a Connection for PipelinedSender: it records what is sent on which connection, and is lost when told."""

    def __init__(self, endpoints: list[str], refuse: int = 0) -> None:
        self.endpoints = endpoints
        self.url = endpoints[0]
        self.generation = 1
        self.sent: list[tuple[int, bytes, str | None, str | None]] = []  # (connection, body, receipt, transaction)
        self.lose_at_wait: set[int] = set()  # lost on these receipt waits (counted from 1)
        self.waits = 0
        self.refuse = refuse  # connect attempts refused before one succeeds
        self.tried: list[list[str]] = []
        self.protocol = SimpleNamespace(errors=deque())
        self.committed: list[str] = []
        self.time: FakeTime | None = None  # advanced by `wait_cost` s on every receipt wait, when given
        self.wait_cost = 0.0

    def send(self, destination, body, headers=None, content_type=None, transaction=None):
        self.sent.append((self.generation, body, (headers or {}).get("receipt"), transaction))

    def wait_receipt(self, receipt_id, timeout=None):
        self.waits += 1
        if self.time is not None:
            self.time.now += self.wait_cost
        if self.waits in self.lose_at_wait:
            raise LOST

    def flush(self):
        pass

    def close(self):
        self.url = None

    def connect(self):
        self.tried.append(list(self.endpoints))
        if self.refuse:
            self.refuse -= 1
            raise ConnectFailed("could not connect to any broker")
        self.generation += 1
        self.url = self.endpoints[0]

    def begin(self):
        return f"tx-{self.generation}"

    def commit(self, transaction, receipt=False, timeout=None):
        self.committed.append(transaction)

    @contextlib.contextmanager
    def batch(self):
        yield self


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def failover(timeout: float = 60.0) -> tuple[Failover, list[str], FakeTime]:
    notes: list[str] = []
    time = FakeTime()
    return Failover(timeout, Backoff(jitter=0.0), sleep=time.sleep, clock=time.clock, note=notes.append), notes, time


def test_the_endpoint_after_the_lost_one_is_tried_first():
    conn = ScriptedConnection(["stomp://a", "stomp://b", "stomp://c"])
    conn.url = "stomp://b"
    chosen, _, _ = failover()
    chosen.reconnect(conn, LOST, deadline=60.0)
    assert conn.tried == [["stomp://c", "stomp://a", "stomp://b"]]


def test_reconnecting_backs_off_and_gives_up_at_the_deadline():
    conn = ScriptedConnection(["stomp://a"], refuse=1000)
    chosen, _, time = failover(timeout=5.0)
    with pytest.raises(ConnectionLost, match=r"no broker answered within --reconnect-timeout 5 s"):
        chosen.reconnect(conn, LOST, deadline=chosen.deadline())
    assert time.now <= 5.0
    # 0.1, 0.2, 0.4, 0.8, 1.6 s between attempts: six attempts fit in 5 s, the next delay would pass the deadline.
    assert len(conn.tried) == 6


def test_the_unconfirmed_messages_are_sent_again_on_the_new_connection_and_then_confirmed():
    conn = ScriptedConnection(["stomp://a", "stomp://b"])
    # Receipts on every 2nd message, four in flight: the first wait, for message 2's receipt, comes when message 10
    # is sent, and is where the loss is found.
    conn.lose_at_wait = {1}
    chosen, notes, _ = failover()
    sender = PipelinedSender(conn, "/queue/q", [], None, None, True, batch=2, failover=chosen)
    sender.keep()
    bodies = [b"%d" % number for number in range(12)]
    for number, body in enumerate(bodies):
        sender.send(body, last=number == len(bodies) - 1)
    sender.finish()

    assert sender.confirmed == sender.attempted == 12
    assert notes == [f"{LOST}; reconnected to stomp://b, sending 10 unconfirmed messages again"]
    assert sender.resent == 10
    again = [body for generation, body, _, _ in conn.sent if generation == 2]
    assert again == bodies  # the 10 sent before the loss was found, once more, then the others
    assert not sender.unconfirmed


def test_a_transaction_is_begun_again_and_all_its_messages_sent_again():
    conn = ScriptedConnection(["stomp://a", "stomp://b"])
    chosen, _, _ = failover()
    sender = PipelinedSender(conn, "/queue/q", [], None, None, True, batch=2, failover=chosen)
    sender.keep()
    sender.begin()
    for number in range(5):
        sender.send(b"%d" % number, last=number == 4)
    conn.lose_at_wait = {1}  # lost while waiting for the receipt that follows COMMIT
    sender.commit(receipt=True)

    assert conn.committed == ["tx-1", "tx-2"]  # the first died with its connection; the second was confirmed
    on_new = [(body, transaction) for generation, body, _, transaction in conn.sent if generation == 2]
    assert on_new == [(b"%d" % number, "tx-2") for number in range(5)]
    assert sender.resent == 5 and sender.confirmed == 5


def test_without_failover_a_lost_connection_ends_it():
    conn = ScriptedConnection(["stomp://a"])
    conn.lose_at_wait = {1}
    sender = PipelinedSender(conn, "/queue/q", [], None, None, True, batch=1)
    with pytest.raises(ConnectionLost):
        sender.send(b"x", last=True)
        sender.finish()


def test_a_broker_that_drops_every_connection_before_confirming_ends_the_send_after_the_reconnect_timeout():
    # As a RabbitMQ 3.10 node does when its quorum queue refuses the messages: each new connection is taken, the
    # transaction is sent again and committed, and the connection drops before the receipt.
    conn = ScriptedConnection(["stomp://a", "stomp://b"])
    chosen, notes, time = failover(timeout=60.0)
    conn.time, conn.wait_cost = time, 7.0
    conn.lose_at_wait = set(range(1, 1000))
    sender = PipelinedSender(conn, "/queue/q", [], None, None, True, batch=2, failover=chosen)
    sender.keep()
    sender.begin()
    for number in range(5):
        sender.send(b"%d" % number, last=number == 4)
    gave_up = r"since the first lost connection the broker confirmed nothing and no connection stayed up for --reconnect-timeout 60 s$"
    with pytest.raises(ConnectionLost, match=gave_up):
        sender.commit(receipt=True)
    assert len(conn.committed) == len(notes) + 1 == 10  # 7 s a try: the first loss, at 7 s, starts the 60 s; the tenth, at 70 s, ends it
    assert sender.confirmed == 0


def test_each_confirmation_gives_a_later_loss_the_whole_reconnect_timeout_again():
    conn = ScriptedConnection(["stomp://a", "stomp://b"])
    chosen, notes, time = failover(timeout=60.0)
    conn.time, conn.wait_cost = time, 25.0
    conn.lose_at_wait = {1, 3, 5, 7}  # a loss every other wait, 50 s apart: 175 s in all, each after a confirmation
    sender = PipelinedSender(conn, "/queue/q", [], None, None, True, batch=1, failover=chosen)
    sender.keep()
    for number in range(6):
        sender.send(b"%d" % number, last=number == 5)
    sender.finish()
    assert sender.confirmed == 6 and len(notes) == 4 and time.now > 60.0


def test_a_connection_that_stayed_up_for_the_reconnect_timeout_gives_the_next_loss_the_whole_of_it_again():
    # A transaction confirms nothing until COMMIT: a slow one, its connection lost every 70 s, still gets through.
    conn = ScriptedConnection(["stomp://a", "stomp://b"])
    chosen, notes, time = failover(timeout=60.0)
    conn.time, conn.wait_cost = time, 70.0
    conn.lose_at_wait = {1, 2, 3}
    sender = PipelinedSender(conn, "/queue/q", [], None, None, True, batch=2, failover=chosen)
    sender.keep()
    sender.begin()
    for number in range(3):
        sender.send(b"%d" % number, last=number == 2)
    sender.commit(receipt=True)
    assert sender.confirmed == 3 and len(notes) == 3 and len(conn.committed) == 4
