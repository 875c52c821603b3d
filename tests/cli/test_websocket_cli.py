"""stomper send and subscribe over ws:// and wss:// end to end, on RabbitMQ Web STOMP (scripts/brokers start)."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cli_helpers import DEFAULT_URLS, assert_one_error_line, require_reachable, run

pytestmark = pytest.mark.broker

WS_URL = os.environ.get("STOMPER_RABBITMQ_WS_URL", "ws://guest:guest@127.0.0.1:15674/ws")
WSS_URL = os.environ.get("STOMPER_RABBITMQ_WSS_URL", "wss://guest:guest@localhost:15673/ws")
TCP_URL = os.environ.get("STOMPER_RABBITMQ_URL", DEFAULT_URLS["rabbitmq"])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CA_FILE = os.environ.get("STOMPER_TEST_CA", os.path.join(ROOT, ".brokers", "certs", "ca.pem"))


@pytest.fixture(autouse=True)
def web_stomp() -> None:
    """RabbitMQ's Web STOMP port must answer; missing is a failure unless STOMPER_SKIP_BROKERS=1."""
    require_reachable("RabbitMQ Web STOMP", WS_URL)


def ok(*args: str, input: bytes | None = None) -> bytes:
    result = run(*args, input=input)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_send_and_subscribe_over_websocket(queue):
    body = b"\0binary over ws\0" + bytes(range(256))
    ok("send", "--url", WS_URL, queue, "h\u00e9llo", "-H", "x-kind:greeting")
    ok("send", "--url", WS_URL, queue, "--body-file", "-", input=body)
    first, second = (json.loads(line) for line in ok("subscribe", "--url", WS_URL, queue, "-n", "2", "--timeout", "30").splitlines())
    assert (first["body"], first["headers"]["x-kind"]) == ("h\u00e9llo", "greeting")
    assert base64.b64decode(second["body_base64"]) == body


def test_sent_over_websocket_subscribed_over_tcp_and_the_reverse(queue):
    ok("send", "--url", WS_URL, queue, "ws to tcp")
    assert ok("subscribe", "--url", TCP_URL, queue, "-n", "1", "--timeout", "30", "--body-only") == b"ws to tcp\n"
    ok("send", "--url", TCP_URL, queue, "tcp to ws")
    assert ok("subscribe", "--url", WS_URL, queue, "-n", "1", "--timeout", "30", "--body-only") == b"tcp to ws\n"


def test_wss_with_the_test_ca_and_exit_3_without_it(queue):
    ok("send", "--url", WSS_URL, "--ca-file", CA_FILE, queue, "over wss")
    assert ok("subscribe", "--url", WSS_URL, "--ca-file", CA_FILE, queue, "-n", "1", "--timeout", "30", "--body-only") == b"over wss\n"
    line = assert_one_error_line(run("send", "--url", WSS_URL, queue, "x"), 3)
    assert "TLS certificate verification failed" in line and ":guest@" not in line


def test_a_wrong_path_exits_3_with_one_line(queue):
    url = WS_URL.replace("/ws", "/wrong")
    for command in (("send", "--url", url, queue, "x"), ("subscribe", "--url", url, queue, "-n", "1", "--timeout", "5")):
        line = assert_one_error_line(run(*command), 3)
        assert "WebSocket upgrade refused: HTTP 404 (is the path '/wrong' right?)" in line and ":guest@" not in line
