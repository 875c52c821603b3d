"""Scripted `stomper repl` runs (--file and stdin) against RabbitMQ and ActiveMQ: every command, transactions, nack."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid

from repl_helpers import ReplProcess, bodies, repl_env, run_repl

pytestmark = __import__("pytest").mark.broker


def test_send_subscribe_ack_by_number_then_nothing_is_redelivered(broker, queue, tmp_path):
    body_file = tmp_path / "body.txt"
    body_file.write_bytes(b"from a file")
    # Frame numbers: 1 CONNECT, 2 CONNECTED, 3 SUBSCRIBE, then per message a SEND, its MESSAGE and an ACK.
    script = f"""\
# comments and blank lines are skipped

subscribe {queue} --ack client-individual --id s1
send {queue} hello world -H x-test:one
wait 10 --count 1
ack 5
send {queue} '{{"n": 1}}' --content-type application/json
wait --count 1
ack #8
send {queue} <<
first line
second line
.
wait --count 1
ack
send {queue} --body-file {body_file}
wait --count 1
ack
disconnect
connect
wait 1
status
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert run.err == ""
    assert bodies(run.out) == ["hello world", '{\n  "n": 1\n}', "first line\nsecond line", "from a file"]  # JSON shown indented
    assert "x-test: one" in run.out and "content-type: application/json" in run.out
    assert "acked #5 " in run.out and "acked #8 " in run.out
    assert "re-subscribed s1 to " + queue in run.out
    assert run.out.rstrip().endswith("disconnected")
    assert "0 messages arrived" in run.out  # all were acknowledged: nothing comes back after reconnecting
    status = run.out[run.out.index("connected:     stomp://"):]
    assert "version:       STOMP 1.2" in status and f"s1 -> {queue} (ack client-individual)" in status
    assert re.search(r"server:        (RabbitMQ|ActiveMQ)/", status)


def test_unacknowledged_message_comes_back_after_connect_resubscribes(broker, queue, tmp_path):
    script = f"""\
subscribe {queue} --ack client-individual
send {queue} not acked
wait --count 1
disconnect
status
connect
wait --count 1
ack
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert bodies(run.out) == ["not acked", "not acked"]
    assert "connected:     no" in run.out


def test_commit_delivers_and_abort_does_not(broker, queue, tmp_path):
    script = f"""\
subscribe {queue}
begin
send {queue} aborted-1
send {queue} aborted-2
abort
wait 1
begin tx-commit
status
send {queue} committed-1
send {queue} committed-2
commit
wait --count 2
wait 0.5
history
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert bodies(run.out) == ["committed-1", "committed-2"]
    assert "transaction:   tx-commit" in run.out
    assert "began transaction tx-commit" in run.out and "committed transaction tx-commit" in run.out
    assert re.search(r"aborted transaction tx-\S+", run.out)
    sends = re.findall(r">>> SEND +destination=\S+ transaction=(\S+)", run.out)
    assert len(sends) == 4 and sends[2:] == ["tx-commit", "tx-commit"]


def test_ack_inside_a_transaction_carries_it(broker, queue, tmp_path):
    script = f"""\
subscribe {queue} --ack client-individual
send {queue} one
wait --count 1
begin tx-ack
ack
commit
history 3
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert re.search(r">>> ACK +id=\S+ transaction=tx-ack", run.out)


def test_nack_redelivers_on_rabbitmq_and_dead_letters_on_activemq(broker, queue, tmp_path):
    tag = uuid.uuid4().hex[:12]
    script = f"""\
subscribe {queue} --ack client-individual
send {queue} refused -H persistent:true -H stompertag:{tag}
wait --count 1
nack
"""
    if broker.name == "rabbitmq":
        script += "wait --count 1\nack\nshow\n"
    else:  # ActiveMQ Classic moves a NACKed message to its dead-letter queue
        script += f"subscribe /queue/ActiveMQ.DLQ --ack client-individual -H \"selector:stompertag = '{tag}'\"\nwait --count 1\nack\n"
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert bodies(run.out) == ["refused", "refused"]
    second = run.out[[found.start() for found in re.finditer(r"<<< #\d+\nMESSAGE\n", run.out)][-1]:]
    if broker.name == "rabbitmq":
        assert "redelivered: true" in second
    else:
        assert "destination: /queue/ActiveMQ.DLQ" in second and f"original-destination: {queue}" in second


def test_receipts_on_waits_and_reports(broker, queue, tmp_path):
    script = f"""\
receipts on --timeout 10
subscribe {queue} --id rs
send {queue} with receipt
wait --count 1
unsubscribe rs
receipts off
send {queue} no receipt
wait 0.5
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    assert "receipts on (wait 10 s)" in run.out
    assert re.search(r"sent #\d+ to \S+ \(receipt receipt-\d+ received\)", run.out)
    assert re.search(r"<<< #\d+\nRECEIPT\nreceipt-id: receipt-\d+", run.out)
    assert bodies(run.out) == ["with receipt"]  # unsubscribed before the second send
    assert "unsubscribed rs" in run.out


def test_raw_frame_is_validated_then_sent_as_is(broker, queue, tmp_path):
    script = f"""\
subscribe {queue}
frame
SEND
destination:{queue}
x-raw:yes

raw body
.
wait --count 1
frame
SEND
this header has no colon

.
frame
SEND
destination:{queue}

after a bad one\0
wait --count 1
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1, run.err  # the malformed frame: input error
    assert bodies(run.out) == ["raw body", "after a bad one"]
    assert "x-raw: yes" in run.out
    errors = run.err.splitlines()
    assert len(errors) == 1 and re.match(r"stomper: error: \S+:10: bad frame: ", errors[0]), run.err


def test_broker_error_is_one_line_and_exit_1(broker, tmp_path):
    script = "frame\nACK\nid:no-such-message\n.\nwait 1\nstatus\n"
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 1
    assert re.search(r"<<< #\d+\nERROR\n", run.out)
    errors = run.err.splitlines()
    assert len(errors) == 1 and "broker error: " in errors[0], run.err
    assert "subscriptions: none" in run.out  # the session went on


def test_history_show_and_save_match_unpack(broker, queue, tmp_path):
    saved = tmp_path / "session.stomp"
    script = f"""\
subscribe {queue}
send {queue} saved body -H x-k:v
wait --count 1
save {saved}
receipts off
show 1 2 3 4 5
receipts off
history
"""
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 0, run.err
    unpacked = subprocess.run([sys.executable, "-m", "stomper_cli", "unpack", str(saved)], capture_output=True, text=True, env=repl_env())
    assert unpacked.returncode == 0, unpacked.stderr
    assert [line.split()[0] for line in unpacked.stdout.splitlines() if line.isupper()] == ["CONNECT", "CONNECTED", "SUBSCRIBE", "SEND", "MESSAGE"]
    marker = "receipts off (wait 30 s)\n"
    shown = run.out.split(marker)[1]
    assert shown == unpacked.stdout
    passcode = broker.url.split(":")[2].split("@")[0]
    assert f"passcode:{passcode}".encode() not in saved.read_bytes()
    assert b"passcode:***" in saved.read_bytes()
    assert re.search(r"#4 +>>> SEND +destination=\S+ body='saved body'", run.out)


def test_stdin_script_and_help(broker, queue):
    script = f"help\nhelp send\nsubscribe {queue}\nsend {queue} via stdin\nwait --count 1\nquit\nsend {queue} never sent\n"
    run = run_repl(broker.url, script, via_stdin=True)
    assert run.code == 0, run.err
    assert bodies(run.out) == ["via stdin"]
    assert "Commands (`help COMMAND` for details" in run.out
    assert "Usage: send [OPTIONS] DESTINATION [WORDS]..." in run.out
    for name in ("send", "subscribe", "unsubscribe", "ack", "nack", "begin", "commit", "abort", "receipts", "frame", "history",
                 "show", "save", "wait", "connect", "disconnect", "status", "help", "quit"):
        assert re.search(rf"^  {name}\b", run.out, re.MULTILINE), name


def test_bad_commands_exit_2_and_the_session_goes_on(broker, queue, tmp_path):
    script = f"sned {queue} x\nsubscribe\nsend {queue} -H no-colon x\nack\nsubscribe {queue}\nsend {queue} still works\nwait --count 1\n"
    run = run_repl(broker.url, script, tmp_path=tmp_path)
    assert run.code == 2
    assert bodies(run.out) == ["still works"]
    errors = run.err.splitlines()
    assert len(errors) == 4, run.err
    assert "unknown command 'sned'" in errors[0] and ":1:" in errors[0]
    assert "subscribe: Missing argument 'DESTINATION'" in errors[1]
    assert "is not name:value" in errors[2]
    assert "no unacknowledged message" in errors[3]


def test_exit_on_error_stops_and_wait_count_times_out_with_4(broker, queue, tmp_path):
    run = run_repl(broker.url, f"subscribe {queue}\nwait 0.5 --count 1\nsend {queue} not reached\n", "--exit-on-error", tmp_path=tmp_path)
    assert run.code == 4
    assert "wait: 0 of 1 messages arrived" in run.err
    assert "sent #" not in run.out


def test_ack_by_message_id_on_a_live_pipe(broker, queue):
    repl = ReplProcess(broker.url)
    try:
        repl.send(f"subscribe {queue} --ack client-individual")
        repl.send(f"send {queue} first")
        repl.send(f"send {queue} second")
        first = repl.expect(r"^<<< #\d+\nMESSAGE\n(?:.+\n)*?message-id: (.+)\n(?:.+\n)*\nfirst\n")
        repl.expect(r"\nsecond\n")
        repl.send("wait --count 2")
        repl.send(f"ack {first.group(1)}")
        repl.expect(rf"acked #\d+ \(message-id {re.escape(first.group(1))}\)")
        repl.send("ack")  # the last one: second
        repl.send("disconnect")
        repl.send("connect")
        repl.send("wait 1")
        repl.expect("0 messages arrived")
    finally:
        code, err = repl.finish()
    assert code == 0, err
