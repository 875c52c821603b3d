"""What the REPL acknowledges: the oldest message first, never one message twice, `ack --all`, and the documented
script leaving nothing unacknowledged, on RabbitMQ and ActiveMQ."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from repl_helpers import bodies, run_repl

from stomper.connection import Connection

pytestmark = pytest.mark.broker
DOCS = Path(__file__).resolve().parents[2] / "docs" / "repl.md"


def leftover(url: str, queue: str, seconds: float = 2.0) -> list[bytes]:
    """The bodies a fresh consumer of `queue` still receives (acknowledging them, so nothing stays behind)."""
    bodies = []
    with Connection(url) as conn:
        conn.subscribe(queue, ack="client-individual")
        while (message := conn.receive(seconds)) is not None:
            bodies.append(message.body)
            conn.ack(message)
    return bodies


def acks_sent(out: str) -> list[str]:
    """The history numbers of the ACK frames listed by `history`."""
    return re.findall(r"^#(\d+) +>>> ACK\b", out, re.MULTILINE)


def documented_script() -> str:
    """The scripted example of docs/repl.md, as written: the lines between `<<'EOF'` and `EOF`."""
    text = DOCS.read_text()
    found = re.search(r"^stomper repl --url \S+ <<'EOF'\n(.*?)^EOF$", text, re.MULTILINE | re.DOTALL)
    assert found, "docs/repl.md has no scripted example"
    return found.group(1)


def test_the_documented_script_leaves_nothing_unacknowledged(broker, queue):
    script = documented_script()
    assert "/queue/jobs" in script and "wait --count 2" in script
    run = run_repl(broker.url, script.replace("/queue/jobs", queue), via_stdin=True)
    assert run.code == 0, run.err
    assert run.out.count("\njob-") == 2  # both delivered and shown
    assert leftover(broker.url, queue) == []


def test_bare_ack_takes_the_oldest_and_a_second_ack_is_refused_without_reaching_the_broker(broker, queue, tmp_path):
    # Numbers: 1 CONNECT, 2 CONNECTED, 3 SUBSCRIBE, 4 SEND, 5 MESSAGE, 6 SEND, 7 MESSAGE, 8 ACK, 9 ACK.
    script = f"""\
subscribe {queue} --ack client-individual
send {queue} first
wait --count 1
send {queue} second
wait --count 1
ack
ack 5
ack
ack #7
nack 7
ack
send {queue} third
wait --count 1
ack
status
history
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1, run.err  # the refusals: a command that could not be done
    assert re.search(r"^acked #5 \(message-id [^)]+\)$", run.out, re.MULTILINE)  # the oldest, not the last received
    assert re.search(r"^acked #7 ", run.out, re.MULTILINE)
    errors = run.err.splitlines()
    assert [re.sub(r"^stomper: error: \S+:\d+: ", "", error) for error in errors] == [
        "#5 was already acked by #8: not sent again",
        "#7 was already acked by #9: not sent again",
        "#7 was already acked by #9: not sent again",
        "no unacknowledged message (only subscriptions with --ack client or client-individual wait for one)",
    ], run.err
    assert "ERROR" not in run.out and "connected:     stomp://" in run.out  # the session stayed alive
    assert len(acks_sent(run.out)) == 3 and not re.search(r">>> NACK", run.out)
    assert leftover(broker.url, queue) == []


def test_ack_all_is_one_cumulative_ack_per_client_subscription_and_one_each_per_individual(broker, queue, tmp_path):
    individual = queue + "-individual"
    # 3, 4 SUBSCRIBE; SEND/MESSAGE pairs 5/6, 7/8, 9/10 on the client subscription, 11/12, 13/14 on the other.
    script = f"""\
subscribe {queue} --ack client --id cumulative
subscribe {individual} --ack client-individual --id each
send {queue} c-1
wait --count 1
send {queue} c-2
wait --count 1
send {queue} c-3
wait --count 1
send {individual} i-1
wait --count 1
send {individual} i-2
wait --count 1
ack --all
ack 6
ack --all
history
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1, run.err
    assert "acked #10 (message-id " in run.out and ", and with it #6, #8" in run.out
    assert "acked #12 " in run.out and "acked #14 " in run.out
    assert acks_sent(run.out) == ["15", "16", "17"]  # one for the client subscription, one per individual message
    assert run.err.splitlines()[0].endswith(": #6 was already acked by #15 (cumulatively, with #10): not sent again")
    assert len(run.err.splitlines()) == 1
    assert "nothing to ack: no message awaits an acknowledgement" in run.out
    assert leftover(broker.url, queue) == [] and leftover(broker.url, individual) == []


def test_ack_and_nack_leave_auto_subscriptions_alone(broker, queue, tmp_path):
    script = f"subscribe {queue}\nsend {queue} auto\nwait --count 1\nack\nack 5\nack --all\n"
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1
    errors = run.err.splitlines()
    assert "no unacknowledged message" in errors[0]
    assert errors[1].endswith("#5 came on subscription sub-1 with ack auto: the broker needs no ACK for it")
    assert ">>> ACK" not in run.out and "ERROR" not in run.out


def test_abort_undoes_the_acks_of_the_transaction_so_the_message_can_be_acked_again(broker, queue, tmp_path):
    script = f"""\
subscribe {queue} --ack client-individual
send {queue} undone
wait --count 1
begin tx-abort
ack
ack 5
abort
ack
ack 5
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1, run.err
    acked = re.findall(r"^acked #5 .*$", run.out, re.MULTILINE)
    assert len(acked) == 2 and acked[0].endswith(" in transaction tx-abort") and not acked[1].endswith("tx-abort"), run.out + run.err
    errors = run.err.splitlines()
    assert len(errors) == 2, run.err
    assert errors[0].endswith(":6: #5 was already acked by #7: not sent again")  # inside the transaction
    assert errors[1].endswith(":9: #5 was already acked by #9: not sent again")  # after the ack that followed the abort
    assert "ERROR" not in run.out
    assert leftover(broker.url, queue) == []


def test_nack_all_in_client_mode_refuses_every_message_though_activemq_nacks_one_at_a_time(broker, queue, tmp_path):
    tag = uuid.uuid4().hex[:12]
    sends = "".join(f"send {queue} {body} -H persistent:true -H stompertag:{tag}\n" for body in "abc")
    script = f"subscribe {queue} --ack client\n{sends}wait --count 3\nnack --all\nhistory\n"
    if broker.name == "rabbitmq":  # one cumulative NACK; RabbitMQ puts the three back and delivers them again
        script += "wait --count 3\nack --all\n"
    else:  # a NACK each; ActiveMQ Classic moves each to its dead-letter queue
        script += f"subscribe /queue/ActiveMQ.DLQ --ack client-individual -H \"selector:stompertag = '{tag}'\"\nwait --count 3\nack --all\n"
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.out + run.err
    nacks = re.findall(r"^#\d+ +>>> NACK\b", run.out, re.MULTILINE)
    assert len(nacks) == (1 if broker.name == "rabbitmq" else 3), run.out
    assert bodies(run.out) == ["a", "b", "c"] * 2
    assert leftover(broker.url, queue) == []


def test_messages_of_an_ended_subscription_no_longer_await_an_ack(broker, queue, tmp_path):
    # RabbitMQ answers an ACK after UNSUBSCRIBE with ERROR "Subscription not found"; ActiveMQ redelivers the messages.
    script = f"""\
subscribe {queue} --ack client --id ended
send {queue} a
wait --count 1
unsubscribe ended
ack
ack 5
ack --all
status
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1, run.err
    errors = run.err.splitlines()
    assert len(errors) == 2, run.err
    assert "no unacknowledged message" in errors[0]
    assert errors[1].endswith("#5 came on subscription ended, which was unsubscribed: the broker takes no ACK for it "
                              "(RabbitMQ refuses it, ActiveMQ delivers the message again)")
    assert ">>> ACK" not in run.out and "ERROR" not in run.out and "unacked:       0" in run.out
    assert leftover(broker.url, queue) == [b"a"]  # it was never acknowledged: the broker keeps it
