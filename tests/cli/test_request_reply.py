"""stomper request and stomper reply on RabbitMQ and ActiveMQ: answers by correlation id, acks after the reply."""

from __future__ import annotations

import contextlib
import os
import queue as queue_module
import signal
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest
import stomp
from cli_helpers import OPTION_ENV, STOMPER, assert_one_error_line, run

pytestmark = pytest.mark.broker


@pytest.fixture
def start_reply():
    """Start `stomper reply` processes, each returned once its subscription is confirmed (it logs the RECEIPT under -v)."""
    started: list[subprocess.Popen] = []

    def start(broker, destination: str, *args: str) -> subprocess.Popen:
        env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
        process = subprocess.Popen([*STOMPER, "-v", "reply", "--url", broker.url, destination, *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        started.append(process)
        for line in process.stderr:
            if line.startswith(b"<<< RECEIPT"):
                return process
        raise AssertionError(f"reply exited before subscribing: {process.wait()}")

    yield start
    for process in started:  # the responder and any command it left running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def finish(process: subprocess.Popen) -> tuple[int, bytes, bytes]:
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def test_reply_answers_each_request_with_the_command_output(broker, queue, start_reply):
    responder = start_reply(broker, queue, "-n", "3", "--", "tr", "a-z", "A-Z")
    for word in ("hello", "stomp", "world"):
        result = run("request", "--url", broker.url, queue, word, "--body-only")
        assert result.returncode == 0, result.stderr
        assert result.stdout == word.upper().encode() + b"\n"
    code, _, stderr = finish(responder)
    assert code == 0, stderr
    # Every request was acknowledged after its reply: nothing is left on the queue.
    assert run("subscribe", "--url", broker.url, queue, "-n", "1", "--timeout", "1").returncode == 4


def test_request_json_carries_the_correlation_id(broker, queue, start_reply):
    responder = start_reply(broker, queue, "-n", "1", "--", "cat")
    result = run("request", "--url", broker.url, queue, "--body-file", "-", "--json", input=b"\x00binary\xff")
    assert result.returncode == 0, result.stderr
    assert b'"body_base64": "AGJpbmFyef8="' in result.stdout and b'"correlation-id"' in result.stdout
    assert finish(responder)[0] == 0


class Inbox(stomp.ConnectionListener):
    """stomp.py's messages, in a queue that can be waited on with a bound."""

    def __init__(self) -> None:
        self.frames: queue_module.Queue = queue_module.Queue()

    def on_message(self, frame) -> None:
        self.frames.put(frame)


def test_stomp_py_as_the_requester(broker, queue, start_reply):
    responder = start_reply(broker, queue, "-n", "1", "--", "tr", "a-z", "A-Z")
    parts = urlsplit(broker.url)
    listener = Inbox()
    conn = stomp.Connection12([(parts.hostname, parts.port)], heartbeats=(0, 0), vhost="/")
    conn.set_listener("", listener)
    conn.connect(parts.username, parts.password, wait=True)
    reply_to = f"/temp-queue/r{uuid.uuid4().hex}"
    if broker.name == "activemq":
        conn.subscribe(reply_to, id="r", ack="auto")
    conn.send(queue, "from stomp.py", headers={"reply-to": reply_to, "correlation-id": "c-1"})
    frame = listener.frames.get(timeout=30)
    conn.disconnect()
    assert frame.body == "FROM STOMP.PY" and frame.headers["correlation-id"] == "c-1"
    assert finish(responder)[0] == 0


def test_failing_command_nacks_and_says_so(broker, queue, start_reply):
    responder = start_reply(broker, queue, "-n", "1", "--", "sh", "-c", "cat >/dev/null; exit 3")
    assert run("send", "--url", broker.url, queue, "job", "-H", "reply-to:/queue/nowhere").returncode == 0
    code, _, stderr = finish(responder)
    assert code == 0
    assert b"sh exited with status 3: nacked" in stderr
    if broker.name == "rabbitmq":  # RabbitMQ requeues a NACKed message; ActiveMQ moves it to its dead-letter queue
        again = run("subscribe", "--url", broker.url, queue, "-n", "1", "--timeout", "30", "--body-only")
        assert again.stdout == b"job\n"


def test_message_without_reply_to_is_handled_and_written(broker, queue, start_reply):
    responder = start_reply(broker, queue, "-n", "1", "--", "tr", "a-z", "A-Z")
    assert run("send", "--url", broker.url, queue, "no reply wanted").returncode == 0
    code, stdout, _ = finish(responder)
    assert code == 0 and stdout == b"NO REPLY WANTED"


def test_scatter_gather_collects_n_answers(broker, start_reply):
    topic = f"/topic/stomper-census-{uuid.uuid4().hex[:12]}"
    responders = [start_reply(broker, topic, "-n", "1", "--", "echo", name) for name in ("a", "b")]
    result = run("request", "--url", broker.url, topic, "who?", "-n", "2", "--timeout", "30", "--body-only")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == [b"a", b"b"]
    assert [finish(process)[0] for process in responders] == [0, 0]


def test_no_answer_exits_4_with_one_line(broker, queue, start_reply):
    result = run("request", "--url", broker.url, queue, "anyone?", "--timeout", "0.5")
    assert "no answer for 0.5 s: received 0 of 1" in assert_one_error_line(result, 4)


@pytest.mark.parametrize("header", ["reply-to:/queue/x", "correlation-id:1"])
def test_headers_request_sets_itself_are_usage_errors(header):
    result = run("request", "/queue/x", "hi", "-H", header)
    assert result.returncode == 2 and b"is set by stomper request itself" in result.stderr


def test_reply_with_a_missing_command_is_a_usage_error():
    result = run("reply", "/queue/x", "--", "no-such-command-stomper")
    assert result.returncode == 2 and b"command not found: no-such-command-stomper" in result.stderr


def test_a_responder_killed_before_replying_leaves_the_request_to_be_redelivered(broker, queue, start_reply, tmp_path):
    started = tmp_path / "started"
    responder = start_reply(broker, queue, "-n", "1", "--", "sh", "-c", f"touch {started}; sleep 600")
    assert run("send", "--url", broker.url, queue, "job", "-H", "reply-to:/queue/nowhere").returncode == 0
    while not started.exists():  # the command is running: the request was received but not acked
        assert responder.poll() is None
        time.sleep(0.05)
    responder.kill()
    responder.wait()
    again = run("subscribe", "--url", broker.url, queue, "-n", "1", "--timeout", "30", "--body-only")
    assert again.returncode == 0 and again.stdout == b"job\n"
