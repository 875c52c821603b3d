"""subscribe --reconnect on the brokers: a warning in auto mode, and the options checked.

Riding through the loss of a node is tested on the RabbitMQ cluster
(tests/cluster/test_subscribe_failover.py).
"""

from __future__ import annotations

import pytest
from cli_helpers import assert_one_error_line, run

pytestmark = pytest.mark.broker

WARNING = "stomper: warning: with --ack auto, messages the broker sent just before a lost connection may be lost"


def test_reconnecting_in_auto_mode_warns_once(broker, queue):
    result = run("subscribe", "--url", broker.url, queue, "--reconnect", "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().splitlines() == [WARNING + "; --ack client makes reconnecting lose nothing"]


def test_several_urls_reconnect_and_warn_in_auto_mode_too(broker, queue):
    result = run("subscribe", "--url", broker.url, "--url", broker.url, queue, "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode().count(WARNING) == 1


@pytest.mark.parametrize("args", [["--ack", "client"], ["--ack", "client-individual"], ["-n", "1", "--timeout", "30"]])
def test_no_warning_when_nothing_can_be_lost(broker, queue, args):
    run("send", "--url", broker.url, queue, "one")
    result = run("subscribe", "--url", broker.url, queue, "--reconnect", "--timeout", "1", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""


def test_a_bad_reconnect_timeout_is_a_usage_error():
    result = run("subscribe", "--url", "stomp://127.0.0.1:9", "/queue/a", "--reconnect-timeout", "nan")
    assert "--reconnect-timeout" in assert_one_error_line(result, 2)
