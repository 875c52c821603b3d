"""stomper send and subscribe end to end on RabbitMQ and ActiveMQ (scripts/brokers start)."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid

import pytest
from cli_helpers import STOMPER, Broker, assert_one_error_line, run

pytestmark = pytest.mark.broker


def send(broker: Broker, *args: str, input: bytes | None = None, verbose: bool = False) -> subprocess.CompletedProcess:
    result = run(*(["--verbose"] if verbose else []), "send", "--url", broker.url, *args, input=input)
    assert result.returncode == 0, result.stderr
    return result


def receive(broker: Broker, queue: str, count: int, *args: str) -> list[dict]:
    """`count` messages from `queue` as JSON objects (the pipe default)."""
    result = run("subscribe", "--url", broker.url, queue, "-n", str(count), "--timeout", "30", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_text_message(broker, queue):
    send(broker, queue, "h\u00e9llo", "-H", "x-kind:greeting", "--content-type", "text/plain")
    [message] = receive(broker, queue, 1)
    assert message["command"] == "MESSAGE"
    assert message["body"] == "h\u00e9llo"
    assert message["headers"]["x-kind"] == "greeting"
    assert message["headers"]["destination"] == queue


def test_body_from_stdin_and_body_only(broker, queue):
    send(broker, queue, input=b"from stdin")
    result = run("subscribe", "--url", broker.url, queue, "-n", "1", "--timeout", "30", "--body-only")
    assert result.stdout == b"from stdin\n"


def test_binary_message_with_nul_bytes(broker, queue, tmp_path):
    body = bytes(range(256)) * 4
    path = tmp_path / "body.bin"
    path.write_bytes(body)
    send(broker, queue, "--body-file", str(path), "--content-type", "application/octet-stream")
    send(broker, queue, "--body-file", "-", input=body)
    first, second = receive(broker, queue, 2)
    assert base64.b64decode(first["body_base64"]) == body
    assert base64.b64decode(second["body_base64"]) == body


def test_raw_output_pipes_into_unpack(broker, queue):
    send(broker, queue, "one")
    send(broker, queue, "two")
    raw = run("subscribe", "--url", broker.url, queue, "-n", "2", "--timeout", "30", "--raw")
    assert raw.returncode == 0, raw.stderr
    unpacked = run("unpack", "--json", input=raw.stdout)
    assert [json.loads(line)["body"] for line in unpacked.stdout.splitlines()] == ["one", "two"]


def test_lines_100000_in_order(broker, queue):
    lines = [f"line {number}" for number in range(100_000)]
    result = send(broker, queue, "--lines", input=("\n".join(lines) + "\n").encode(), verbose=True)
    assert b"sent 100000 message(s)" in result.stderr
    assert result.stderr.count(b"<<< RECEIPT") >= 100  # one receipt per batch of 1000, not per message
    assert result.stderr.count(b"<<< RECEIPT") < 200
    received = run("subscribe", "--url", broker.url, queue, "-n", "100000", "--timeout", "60", "--body-only", timeout=600)
    assert received.returncode == 0, received.stderr
    assert received.stdout.decode().split("\n")[:-1] == lines


def test_receipts_are_requested_unless_no_receipt(broker, queue):
    with_receipt = send(broker, queue, "a", verbose=True)
    assert b">>> SEND" in with_receipt.stderr and b"\n>>> receipt: " in with_receipt.stderr
    assert b"<<< RECEIPT" in with_receipt.stderr
    without = send(broker, queue, "b", "--no-receipt", verbose=True)
    assert b"\n>>> receipt: send" not in without.stderr
    assert [message["body"] for message in receive(broker, queue, 2)] == ["a", "b"]


def test_transaction(broker, queue):
    result = send(broker, queue, "--lines", "--transaction", input=b"t1\nt2\nt3\n", verbose=True)
    stderr = result.stderr.decode()
    assert ">>> BEGIN" in stderr and ">>> COMMIT" in stderr
    assert stderr.index(">>> BEGIN") < stderr.index(">>> SEND") < stderr.index(">>> COMMIT")
    assert "transaction: " in stderr
    assert [message["body"] for message in receive(broker, queue, 3)] == ["t1", "t2", "t3"]


def test_exit_3_when_nothing_listens(queue):
    line = assert_one_error_line(run("send", "--url", "stomp://127.0.0.1:9", queue, "x", "--connect-timeout", "5"), 3)
    assert "connection refused" in line
    assert_one_error_line(run("subscribe", "--url", "stomp://127.0.0.1:9", queue, "--connect-timeout", "5"), 3)


def test_exit_1_for_a_bad_passcode_which_is_never_shown(broker, queue):
    secret = f"not-the-passcode-{uuid.uuid4().hex}"
    url = broker.bad_passcode_url(secret)
    for args in (["send", "--url", url, queue, "x"], ["subscribe", "--url", url, queue, "-n", "1"]):
        line = assert_one_error_line(run(*args), 1)
        # The line says why: RabbitMQ puts the reason in the ERROR body, ActiveMQ in its message header.
        assert "Access refused" in line or "password is invalid" in line, line
        for extra in (["--verbose"], ["--debug"]):
            result = run(*extra, *args)
            assert result.returncode == 1
            assert secret.encode() not in result.stdout + result.stderr
    plain = url.replace(f":{secret}@", "@")
    for flags in (["--passcode", secret], []):
        env = {} if flags else {"STOMPER_PASSCODE": secret}
        result = run("--debug", "send", "--url", plain, *flags, queue, "x", env=env)
        assert result.returncode == 1 and secret.encode() not in result.stdout + result.stderr
        assert b"passcode: ***" in result.stderr


def test_passcode_masked_in_frame_dumps(broker, queue):
    result = run("--debug", "send", "--url", broker.url, queue, "x")
    assert result.returncode == 0, result.stderr
    assert b">>> CONNECT" in result.stderr and b"passcode: ***" in result.stderr
    assert f"passcode: {broker.passcode}".encode() not in result.stderr
    assert receive(broker, queue, 1)[0]["body"] == "x"


def test_exit_4_when_count_is_not_reached(broker, queue):
    send(broker, queue, "only one")
    result = run("subscribe", "--url", broker.url, queue, "-n", "2", "--timeout", "2")
    line = assert_one_error_line(result, 4)
    assert "received 1 of 2" in line
    assert json.loads(result.stdout)["body"] == "only one"
    # Without --count, the timeout just ends the drain.
    assert run("subscribe", "--url", broker.url, queue, "--timeout", "1").returncode == 0


def test_count_in_auto_mode_leaves_the_rest_on_the_queue(broker, queue):
    send(broker, queue, "--lines", input=b"".join(b"%d\n" % number for number in range(20)))
    first = receive(broker, queue, 5)
    rest = receive(broker, queue, 15)
    assert sorted(int(message["body"]) for message in first + rest) == list(range(20))


def test_killed_client_individual_subscriber_loses_nothing(broker, queue):
    total = 50
    send(broker, queue, "--lines", input=b"".join(b"m%d\n" % number for number in range(total)))
    command = [*STOMPER, "subscribe", "--url", broker.url, queue, "--ack", "client-individual", "--body-only", "-H", "prefetch-count:10"]
    subscriber = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = [subscriber.stdout.readline().decode().rstrip("\n") for _ in range(7)]
    subscriber.kill()
    subscriber.wait(timeout=30)
    seen += subscriber.stdout.read().decode().splitlines()  # whatever was written before the kill
    rest = run("subscribe", "--url", broker.url, queue, "--ack", "client-individual", "--body-only", "--timeout", "5")
    assert rest.returncode == 0, rest.stderr
    everything = set(seen) | set(rest.stdout.decode().splitlines())
    assert everything == {f"m{number}" for number in range(total)}


def test_broker_error_exits_1(broker, queue):
    if broker.name == "rabbitmq":
        result = run("send", "--url", broker.url, "/nonsense/xyz", "x")
    else:
        result = run("subscribe", "--url", broker.url, queue, "-H", "selector:bad ((", "-n", "1", "--timeout", "5")
    assert assert_one_error_line(result, 1).startswith("stomper: error: broker error: ")


def test_tls_with_the_test_ca_and_exit_3_without_it(tls_broker, queue):
    broker, ca_file = tls_broker
    send(broker, queue, "over tls", "--ca-file", ca_file)
    result = run("subscribe", "--url", broker.url, "--ca-file", ca_file, queue, "-n", "1", "--timeout", "30", "--body-only")
    assert result.stdout == b"over tls\n", result.stderr
    line = assert_one_error_line(run("send", "--url", broker.url, queue, "x"), 3)
    assert "certificate" in line


def test_an_empty_body_file_sends_an_empty_body(broker, queue, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    send(broker, queue, "--body-file", str(empty))
    send(broker, queue, "--body-file", "-", input=b"")  # stdin: the same, through a pipe
    assert [message["body"] for message in receive(broker, queue, 2)] == ["", ""]


def test_a_file_whose_size_reads_as_0_is_read_not_streamed(broker, queue):
    # /proc files report size 0 and have content: streaming "0 bytes" would send nothing, or fail.
    send(broker, queue, "--body-file", "/proc/self/status")
    [message] = receive(broker, queue, 1)
    assert message["body"].startswith("Name:") and "\nPid:" in message["body"]


BIG = 2 * 1024 * 1024


@pytest.mark.parametrize("ack", ["client-individual", "client"])
def test_a_message_over_max_frame_size_is_reported_and_stays_on_the_queue(broker, queue, ack, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * BIG)
    send(broker, queue, "before")
    send(broker, queue, "--body-file", str(big))
    send(broker, queue, "after")
    refused = run("subscribe", "--url", broker.url, queue, "--ack", ack, "--max-frame-size", "1MiB", "--body-only", "--timeout", "30")
    assert assert_one_error_line(refused, 1) == f"stomper: error: frame of {BIG} bytes exceeds --max-frame-size (1 MiB)"
    assert refused.stdout == b"before\n"
    # Never acknowledged: a consumer with a larger limit gets it. ("before" may come again: its ACK can be
    # dropped with the connection, and at-least-once allows a duplicate, never a loss.)
    taken = run("subscribe", "--url", broker.url, queue, "--max-frame-size", "4MiB", "--body-only", "--timeout", "5")
    assert taken.returncode == 0, taken.stderr
    bodies = taken.stdout.split(b"\n")[:-1]
    assert bodies[-2:] == [b"x" * BIG, b"after"] and set(bodies[:-2]) <= {b"before"}


def test_max_frame_size_applies_to_what_send_receives(broker, queue):
    result = run("send", "--url", broker.url, queue, "x", "--max-frame-size", "16")
    line = assert_one_error_line(result, 1)
    assert line.endswith("exceeds --max-frame-size (16 bytes)"), line  # the broker's CONNECTED frame is larger


def test_subscribe_id_is_the_subscription_id_sent(broker, queue):
    send(broker, queue, "x")
    [message] = receive(broker, queue, 1, "--id", "mine")
    assert message["headers"]["subscription"] == "mine"


def test_a_content_type_given_only_with_h_is_sent(broker, queue):
    send(broker, queue, "<p>x</p>", "-H", "content-type:text/html")
    [message] = receive(broker, queue, 1)
    assert message["headers"]["content-type"].startswith("text/html")
