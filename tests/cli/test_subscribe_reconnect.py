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


class _Silent:
    """A connection with nothing more to deliver."""

    def receive(self, timeout):
        return None


class _Output:
    def __init__(self, counted: int, uncertain: int) -> None:
        self.counted, self.uncertain, self.written = counted, uncertain, counted + uncertain


@pytest.mark.parametrize(("counted", "uncertain", "ends_well"), [(9, 1, True), (8, 1, False), (10, 0, True)])
def test_count_is_reached_when_the_missing_ones_were_written_before_an_unconfirmed_ack(counted, uncertain, ends_well, capsys):
    """An ACK sent as the connection was lost may have been taken (no redelivery) or not (redelivery): both write every message."""
    import contextlib

    from stomper_cli.errors import TimeoutExpired
    from stomper_cli.subscribe import consume

    class Interruptions:
        def held(self):
            return contextlib.nullcontext()

    output = _Output(counted, uncertain)
    if ends_well:
        assert consume(_Silent(), output, Interruptions(), 10, 0.01) == counted + uncertain
    else:
        with pytest.raises(TimeoutExpired, match="received 8 of 10"):
            consume(_Silent(), output, Interruptions(), 10, 0.01)
