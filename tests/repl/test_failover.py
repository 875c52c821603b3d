"""The REPL with several --url: connect-time failover, and a connection lost mid-session renewed by the library,
said on one line, with the subscriptions kept (RabbitMQ, which can close one client's connection on demand)."""

from __future__ import annotations

import re

import pytest
from repl_helpers import ReplProcess, close_rabbitmq_stomp_connection, run_repl, unused_port

pytestmark = pytest.mark.broker
RABBITMQ = "stomp://guest:guest@127.0.0.1:61613"
SHOWN = "stomp://guest:***@127.0.0.1:61613"


def test_the_first_url_that_answers_is_used(queue, tmp_path):
    dead = f"stomp://guest:guest@127.0.0.1:{unused_port()}"
    script = f"subscribe {queue}\nsend {queue} through the second url\nwait --count 1\nstatus\n"
    run = run_repl(dead, script, "--url", RABBITMQ, "--connect-timeout", "2", tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert run.err == ""
    assert f"connected to {SHOWN}: STOMP 1.2" in run.out and f"connected:     {SHOWN}" in run.out
    assert "\nthrough the second url\n" in run.out


def test_a_connection_lost_mid_session_fails_over_on_one_line_and_keeps_the_subscriptions(queue):
    dead = f"stomp://guest:guest@127.0.0.1:{unused_port()}"
    repl = ReplProcess(dead, "--url", RABBITMQ, "--connect-timeout", "2")
    try:
        first = repl.expect(r"^connected to .*, session (\S+), heart-beats")
        repl.send(f"subscribe {queue} --ack client-individual --id work")
        repl.send(f"subscribe {queue}-other --id other")
        repl.send(f"send {queue} before")
        before = repl.expect(r"^<<< #(\d+)\nMESSAGE\n(?:.+\n)*\nbefore\n")
        repl.send("begin tx-lost")
        repl.expect("began transaction tx-lost")
        close_rabbitmq_stomp_connection(first.group(1))
        lost = repl.expect(r"^connection lost \(.*; reconnected to (.*) — (\d+) subscriptions renewed$")
        assert lost.group(1) == SHOWN and lost.group(2) == "2", lost.group(0)
        repl.expect("transaction tx-lost is over: the broker dropped it with the connection")
        # Unacknowledged on the lost connection, the message comes again on the renewed subscription.
        again = repl.expect(r"^<<< #(\d+)\nMESSAGE\n(?:.+\n)*\nbefore\n", lost.end())
        repl.send(f"ack {before.group(1)}")  # refused: the broker knows only the new delivery
        repl.send("ack")
        repl.expect(rf"^acked #{again.group(1)} \(message-id ")
        repl.send(f"send {queue}-other after")
        repl.expect(r"\nafter\n", lost.end())
        repl.send("status")
        repl.expect(rf"subscriptions: work -> {re.escape(queue)} \(ack client-individual\); other -> {re.escape(queue)}-other \(ack auto\)")
        repl.expect(r"transaction:   none")
        repl.expect(r"unacked:       0 ")
    finally:
        code, err = repl.finish()
    assert code == 1, err  # the refused ack is the session's only failure: failing over is none
    assert err.splitlines() == [f"stomper: error: <stdin>:5: #{before.group(1)} came on an earlier connection: the broker delivers "
                                "it again, settle the new delivery"], err
    assert repl.out.count("reconnected to") == 1
    assert "re-subscribed" not in repl.out  # the library renewed them, not the REPL's `connect`
