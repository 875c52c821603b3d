"""Killing RabbitMQ under a subscriber. Named to run last: it takes the broker down and starts it again."""

from __future__ import annotations

import subprocess
import threading

import pytest

from stomper.connection import Connection, ConnectionLost

from .conftest import BROKERS, REPO, require_broker

WAIT = 60.0  # bound: receive must raise long before this


def brokers(*args: str) -> None:
    subprocess.run([str(REPO / "scripts" / "brokers"), *args], check=True, timeout=300, capture_output=True)


@pytest.fixture
def rabbitmq():
    broker = BROKERS["rabbitmq"]
    require_broker(broker)
    yield broker
    brokers("start", "rabbitmq")  # whatever happened, leave it running


@pytest.mark.broker
def test_killing_the_broker_mid_subscribe_raises_connection_lost(rabbitmq, queue):
    conn = rabbitmq.connection()
    conn.connect()
    conn.subscribe(queue, receipt=True, timeout=15)
    killer = threading.Timer(0.5, brokers, ("kill", "rabbitmq"))
    killer.start()
    try:
        with pytest.raises(ConnectionLost, match="connection lost"):
            conn.receive(timeout=WAIT)
        assert not conn.connected
        with pytest.raises(ConnectionLost):
            conn.send(queue, b"after the crash")
    finally:
        killer.join()
        conn.close()


@pytest.mark.broker
def test_reconnect_resubscribes_after_the_broker_restarts(rabbitmq, queue):
    conn = Connection(rabbitmq.url, heart_beat=(0, 0), reconnect=True, reconnect_timeout=240)
    conn.connect()
    try:
        sub_id = conn.subscribe(queue, receipt=True, timeout=15)
        conn.send(queue, b"before", receipt=True, timeout=15)
        assert conn.receive(timeout=15).body == b"before"

        def crash_and_restart() -> None:
            brokers("kill", "rabbitmq")
            brokers("start", "rabbitmq")
            with rabbitmq.connection() as sender:
                sender.send(queue, b"after", receipt=True, timeout=15)

        restarter = threading.Thread(target=crash_and_restart)
        restarter.start()
        message = conn.receive(timeout=300)  # reconnects and re-subscribes inside
        restarter.join()
        assert message is not None and message.body == b"after"
        assert message.headers["subscription"] == sub_id
        assert conn.connected
    finally:
        conn.close()
