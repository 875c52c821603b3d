"""What the real brokers cannot be made to do on cue, against a scripted fake broker: a dropped connection, ERROR, secrets."""

from __future__ import annotations

import re
import socket

from repl_helpers import run_repl


def test_lost_connection_is_reported_and_connect_resubscribes(fake_broker, tmp_path):
    script = """\
subscribe /queue/a --id keep --ack client -H selector:x
send /queue/drop bye
wait 0.5
status
send /queue/a while lost
connect
status
"""
    run = run_repl(fake_broker.url, script, tmp_path=tmp_path)
    assert run.code == 3  # the first failure: the lost connection
    errors = run.err.splitlines()
    assert re.search(r"connection lost.*\(type `connect` to reconnect\)", errors[0]), run.err
    assert "not connected (use `connect`)" in errors[1]
    assert len(errors) == 2
    assert "connected:     no" in run.out
    assert "re-subscribed keep to /queue/a" in run.out
    first, second = fake_broker.connections[:2]
    renewed = [frame for frame in second if frame.command == "SUBSCRIBE"]
    assert len(renewed) == 1
    assert renewed[0].headers["id"] == "keep" and renewed[0].headers["ack"] == "client" and renewed[0].headers["selector"] == "x"
    assert not [frame for frame in first + second if frame.headers.get("destination") == "/queue/a" and frame.command == "SEND"]


def test_broker_error_prints_the_frame_and_one_line(fake_broker, tmp_path):
    run = run_repl(fake_broker.url, "send /queue/error x\nwait 0.5\nsend /queue/ok fine\n", tmp_path=tmp_path)
    assert run.code == 1
    assert re.search(r"<<< #\d+\nERROR\nmessage: refused by the fake broker\n", run.out)
    assert run.err.splitlines() == [line for line in run.err.splitlines() if "broker error: refused by the fake broker" in line]
    assert len(run.err.splitlines()) == 1
    assert "sent #" in run.out.split("ERROR")[1]  # the session went on


def test_the_passcode_is_never_printed_nor_saved(fake_broker, tmp_path):
    saved = tmp_path / "s.stomp"
    script = f"frame\nCONNECT\nlogin:user\npasscode:fake-S3cret-pass\n.\nshow 1\nshow 3\nhistory --full\nsave {saved}\nstatus\n"
    run = run_repl(fake_broker.url, script, tmp_path=tmp_path)
    everything = run.out + run.err + saved.read_text()
    assert "fake-S3cret-pass" not in everything
    assert "passcode" in run.out


def test_failed_connect_exits_3(tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    run = run_repl(f"stomp://127.0.0.1:{port}", "status\n", "--connect-timeout", "2", tmp_path=tmp_path)
    assert run.code == 3
    assert run.err.splitlines()[0].startswith("stomper: error: could not connect to stomp://127.0.0.1:")
    assert "connected:     no" in run.out


def test_no_connect_then_offline_commands(tmp_path):
    run = run_repl("stomp://127.0.0.1:9", "status\nhistory\nshow\nreceipts on\nhelp wait\n", "--no-connect", tmp_path=tmp_path)
    assert run.code == 1  # `show` with an empty history
    assert "no frames in the history yet" in run.err
    assert "receipts on (wait 5 s)" in run.out and "Usage: wait [OPTIONS] [SECONDS]" in run.out
