"""The Connection against real RabbitMQ and ActiveMQ, and RabbitMQ over WebSocket (each test runs on all three)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

import pytest

from stomper.connection import BrokerError, ConnectFailed, Connection, ReceiptTimeout, parse_url
from stomper.versions import spec

from .conftest import BROKERS, require_broker

WAIT = 15.0  # bound for anything expected to arrive


def roundtrip(conn: Connection, queue: str, body, **send_options):
    conn.subscribe(queue, receipt=True, timeout=WAIT)
    conn.send(queue, body, receipt=True, timeout=WAIT, **send_options)
    message = conn.receive(timeout=WAIT)
    assert message is not None, "no message came back"
    return message


@pytest.mark.parametrize(
    "body",
    [
        b"plain text",
        "non-ASCII: héllo wörld, ☃, 日本語, 🚀".encode(),
        b"\0binary\0with\0NULs\0\xff\xfe\x00",
        b"",
        bytes(range(256)) * 16,
    ],
    ids=["text", "non-ascii", "binary", "empty", "all-bytes"],
)
def test_body_roundtrip(conn, queue, body):
    assert roundtrip(conn, queue, body).body == body


def test_str_body_is_sent_as_utf8(conn, queue):
    assert roundtrip(conn, queue, "grüße ☃").body == "grüße ☃".encode()


def test_large_file_body_roundtrip(conn, queue, tmp_path):
    payload = os.urandom(6 * 1024 * 1024) + b"\0tail"
    path = tmp_path / "large.bin"
    path.write_bytes(payload)
    with open(path, "rb") as stream:
        message = roundtrip(conn, queue, stream)
    assert message.headers["content-length"] == str(len(payload))
    assert message.body == payload


def test_large_bytes_body_roundtrip(conn, queue):
    payload = os.urandom(3 * 1024 * 1024)
    assert roundtrip(conn, queue, payload).body == payload


def test_awkward_headers_roundtrip(conn, queue):
    headers = {"with:colon": "a:b:c", "newline": "line1\nline2", "backslash": "C:\\path\\x", "mixed\\:": "\\n:\n", "unicode-ü": "ß☃"}
    message = roundtrip(conn, queue, b"x", headers=headers)
    for name, value in headers.items():
        assert message.headers.get(name) == value, name


def test_content_type_roundtrip(conn, queue):
    message = roundtrip(conn, queue, b"{}", content_type="application/json")
    assert message.headers["content-type"] == "application/json"


def test_receipts(conn, queue):
    receipt_id = conn.send(queue, b"r", receipt=True, timeout=WAIT)
    assert receipt_id
    sub_id = conn.subscribe(queue, receipt=True, timeout=WAIT)
    assert conn.receive(timeout=WAIT).body == b"r"
    conn.unsubscribe(sub_id, receipt=True, timeout=WAIT)
    assert conn.subscriptions == {}


def test_receipt_wait_from_another_thread_while_receiving(conn, queue):
    conn.subscribe(queue, receipt=True, timeout=WAIT)
    received = []
    reader = threading.Thread(target=lambda: received.append(conn.receive(timeout=WAIT)))
    reader.start()
    conn.send(queue, b"m", receipt=True, timeout=WAIT)  # the reader thread may read our receipt: it is handed over
    reader.join(WAIT + 5)
    assert received and received[0] is not None and received[0].body == b"m"


def test_transaction_commit_delivers_and_abort_does_not(conn, queue):
    conn.subscribe(queue, receipt=True, timeout=WAIT)
    aborted = conn.begin()
    conn.send(queue, b"aborted", transaction=aborted)
    conn.abort(aborted, receipt=True, timeout=WAIT)
    committed = conn.begin()
    conn.send(queue, b"committed-1", transaction=committed)
    conn.send(queue, b"committed-2", transaction=committed)
    assert conn.receive(timeout=0.5) is None  # nothing before the commit
    conn.commit(committed, receipt=True, timeout=WAIT)
    bodies = [conn.receive(timeout=WAIT).body for _ in range(2)]
    assert bodies == [b"committed-1", b"committed-2"]
    conn.send(queue, b"marker", receipt=True, timeout=WAIT)
    assert conn.receive(timeout=WAIT).body == b"marker"  # the aborted message never came


def test_client_individual_ack_and_nack_redelivers(broker, conn, queue):
    """RabbitMQ requeues a NACKed message to us; ActiveMQ redelivers it through its dead-letter queue."""
    marker = {"testqueue": queue, "persistent": "true"}  # ActiveMQ dead-letters persistent messages only
    conn.subscribe(queue, ack="client-individual", receipt=True, timeout=WAIT)
    conn.send(queue, b"one", headers=marker)
    conn.send(queue, b"two", headers=marker, receipt=True, timeout=WAIT)
    first = conn.receive(timeout=WAIT)
    second = conn.receive(timeout=WAIT)
    assert (first.body, second.body) == (b"one", b"two")
    conn.ack(first)
    conn.nack(second, receipt=True, timeout=WAIT)
    if broker.name == "activemq":
        dlq = conn.subscribe("/queue/ActiveMQ.DLQ", ack="client-individual", headers={"selector": f"testqueue = '{queue}'"})
        again = conn.receive(timeout=WAIT)
        assert again is not None and again.headers["subscription"] == dlq
    else:
        again = conn.receive(timeout=WAIT)
        assert again is not None and again.headers.get("redelivered") == "true"
    assert again.body == b"two"
    conn.ack(again, receipt=True, timeout=WAIT)
    assert conn.receive(timeout=0.5) is None


def test_unacknowledged_messages_are_redelivered_after_disconnect(broker, queue):
    with broker.connection() as first:
        first.subscribe(queue, ack="client", receipt=True, timeout=WAIT)
        first.send(queue, b"unacked", receipt=True, timeout=WAIT)
        assert first.receive(timeout=WAIT).body == b"unacked"
    with broker.connection() as second:
        second.subscribe(queue, ack="client-individual")
        again = second.receive(timeout=WAIT)
        assert again is not None and again.body == b"unacked"
        second.ack(again, receipt=True, timeout=WAIT)


def test_client_ack_in_a_transaction(conn, queue):
    conn.subscribe(queue, ack="client", receipt=True, timeout=WAIT)
    conn.send(queue, b"t", receipt=True, timeout=WAIT)
    message = conn.receive(timeout=WAIT)
    tx = conn.begin()
    conn.ack(message, transaction=tx)
    conn.commit(tx, receipt=True, timeout=WAIT)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_pinned_versions(broker, queue, version):
    with broker.connection(version=version) as conn:
        assert conn.version == version
        conn.subscribe(queue, ack="client", receipt=True, timeout=WAIT)
        conn.send(queue, b"v" + version.encode(), headers={"h": "v"}, receipt=True, timeout=WAIT)
        message = conn.receive(timeout=WAIT)
        assert message.body == b"v" + version.encode() and message.headers["h"] == "v"
        conn.ack(message, receipt=True, timeout=WAIT)  # in the version's form, accepted by the broker


def test_messages_iterator_and_timeout(conn, queue):
    conn.subscribe(queue, receipt=True, timeout=WAIT)
    for n in range(5):
        conn.send(queue, str(n))
    conn.send(queue, b"5", receipt=True, timeout=WAIT)
    assert [m.body for m in conn.messages(timeout=2)] == [str(n).encode() for n in range(6)]


def test_idle_connection_with_heart_beats_outlives_the_idle_timeout(broker, queue):
    with broker.connection(heart_beat=(1000, 1000)) as conn:
        assert conn.heart_beats[0] >= 1000 and conn.heart_beats[1] >= 1000
        conn.subscribe(queue, receipt=True, timeout=WAIT)
        time.sleep(5)  # idle: only heart-beats cross the wire; the broker would drop us after ~2-3 s without them
        assert conn.connected
        conn.send(queue, b"still here", receipt=True, timeout=WAIT)
        assert conn.receive(timeout=WAIT).body == b"still here"


def test_disconnect_waits_so_nothing_sent_is_dropped(broker, queue):
    conn = broker.connection()
    conn.connect()
    for n in range(200):
        conn.send(queue, str(n))
    conn.disconnect()
    assert not conn.connected
    with broker.connection() as reader:
        reader.subscribe(queue)
        bodies = [reader.receive(timeout=WAIT).body for _ in range(200)]
    assert bodies == [str(n).encode() for n in range(200)]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_failover_to_the_second_url(broker, queue):
    dead = f"stomp://127.0.0.1:{_closed_port()}"
    with Connection([dead, broker.url], heart_beat=(0, 0)) as conn:
        assert conn.url == str(parse_url(broker.url))
        assert roundtrip(conn, queue, b"via second").body == b"via second"


def test_all_urls_down_lists_each(broker):
    ports = [_closed_port(), _closed_port()]
    with pytest.raises(ConnectFailed) as caught:
        Connection([f"stomp://u:pw@127.0.0.1:{port}" for port in ports]).connect()
    text = str(caught.value)
    assert "\n" not in text and "pw" not in text.replace("***", "")
    for port in ports:
        assert f"127.0.0.1:{port}: connection refused" in text


def test_tls_verified_with_the_test_ca(broker, queue):
    with Connection(broker.tls_url, ca_file=broker.ca_file, heart_beat=(0, 0)) as conn:
        assert conn.url == str(parse_url(broker.tls_url))
        payload = os.urandom(300_000) + b"\0"
        assert roundtrip(conn, queue, payload).body == payload


def test_tls_untrusted_certificate_fails_clearly(broker):
    with pytest.raises(ConnectFailed) as caught:
        Connection(broker.tls_url, heart_beat=(0, 0), connect_timeout=10).connect()
    text = str(caught.value)
    assert text.startswith(f"could not connect to {parse_url(broker.tls_url)}: TLS certificate verification failed")
    assert f":{broker.passcode}@" not in text


def test_wrong_passcode_is_broker_error_without_the_passcode(broker):
    endpoint = parse_url(broker.url)
    wrong = "Wr0ngPassc0de"
    with pytest.raises(BrokerError) as caught:
        Connection(broker.url, passcode=wrong, heart_beat=(0, 0)).connect()
    text = str(caught.value)
    assert text.startswith("broker refused the connection: ")
    assert caught.value.message
    assert wrong not in text and wrong not in caught.value.body
    assert endpoint.login in text or "auth" in text.lower() or "refused" in text.lower()


def test_unknown_vhost_is_refused_by_rabbitmq():
    """Only RabbitMQ reads the host header as a virtual host."""
    rabbitmq = BROKERS["rabbitmq"]
    require_broker(rabbitmq)
    with pytest.raises(BrokerError):
        Connection(rabbitmq.url, vhost="no-such-vhost", heart_beat=(0, 0)).connect()


def test_receipt_timeout(conn):
    with pytest.raises(ReceiptTimeout):
        conn.wait_receipt("never-asked-for", timeout=0.3)


def test_context_manager_disconnects(broker):
    with broker.connection() as conn:
        assert conn.connected and conn.session is not None and conn.server
    assert not conn.connected


def test_batch_publish_then_receipt(conn, queue):
    conn.subscribe(queue, receipt=True, timeout=WAIT)
    with conn.batch():
        for n in range(1000):
            conn.send(queue, b"%d" % n)
        conn.send(queue, b"end", receipt=True, timeout=WAIT)  # the receipt wait writes out the batch first
    bodies = [conn.receive(timeout=WAIT).body for _ in range(1001)]
    assert bodies == [b"%d" % n for n in range(1000)] + [b"end"]


def test_an_empty_file_body_sends_an_empty_body(conn, queue, tmp_path):
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with open(path, "rb") as stream:
        assert roundtrip(conn, queue, stream).body == b""


def test_a_file_whose_size_the_system_reports_as_0_is_read(conn, queue):
    """Files under /proc have st_size 0 but content: they are read, not given to sendfile."""
    with open("/proc/self/cmdline", "rb") as stream:
        expected = stream.read()
        stream.seek(0)
        message = roundtrip(conn, queue, stream)
    assert expected and message.body == expected


def test_connect_headers_are_sent_and_take_effect_on_activemq(broker):
    """ActiveMQ refuses a second connection with the same client-id: proof that the header reached it."""
    client_id = f"stomper-test-{uuid.uuid4()}"
    sent = []
    first = broker.connection(connect_headers={"client-id": client_id}, on_frame=lambda frame, way: sent.append(frame))
    with first:
        assert sent[0].command == "CONNECT" and sent[0].headers["client-id"] == client_id
        if broker.name == "activemq":
            with pytest.raises(BrokerError, match="already connected"):
                broker.connection(connect_headers={"client-id": client_id}).connect()
        else:
            with broker.connection(connect_headers={"client-id": client_id}) as second:
                assert second.connected


def test_unacknowledged_messages_are_tracked_until_acked(conn, queue):
    sub_id = conn.subscribe(queue, ack="client-individual", receipt=True, timeout=WAIT)
    conn.send(queue, b"one")
    conn.send(queue, b"two", receipt=True, timeout=WAIT)
    first, second = conn.receive(timeout=WAIT), conn.receive(timeout=WAIT)
    assert [message.body for message in conn.unacknowledged(sub_id)] == [b"one", b"two"]
    conn.ack(second, receipt=True, timeout=WAIT)
    assert conn.unacknowledged() == [first]
    conn.ack(first, receipt=True, timeout=WAIT)
    assert conn.unacknowledged() == []



def test_abort_makes_the_transactions_acknowledged_messages_outstanding_again(broker, conn, queue):
    conn.subscribe(queue, ack="client-individual", id="work", receipt=True, timeout=WAIT)
    for body in (b"one", b"two"):
        conn.send(queue, body, receipt=True, timeout=WAIT)
    one, two = conn.receive(timeout=WAIT), conn.receive(timeout=WAIT)
    assert (one.body, two.body) == (b"one", b"two")
    ack_id = spec(conn.version).ack_id(one.headers)
    transaction = conn.begin(receipt=True, timeout=WAIT)
    conn.ack(one, transaction=transaction)
    assert conn.unacknowledged("work") == [two]
    assert conn.protocol.settled_by("work", ack_id) == ("ACK", ack_id, transaction)
    conn.abort(transaction, receipt=True, timeout=WAIT)
    assert conn.unacknowledged("work") == [one, two]  # in arrival order
    assert conn.protocol.settled_by("work", ack_id) is None
    transaction = conn.begin(receipt=True, timeout=WAIT)
    conn.ack(one, transaction=transaction)
    conn.ack(two, transaction=transaction)
    conn.commit(transaction, receipt=True, timeout=WAIT)
    assert conn.unacknowledged() == []
    conn.unsubscribe("work", receipt=True, timeout=WAIT)
    with broker.connection() as again:
        again.subscribe(queue, ack="client-individual", receipt=True, timeout=WAIT)
        assert again.receive(timeout=2) is None  # the committed acknowledgements stood
