"""What the real brokers cannot be made to do on cue, against a scripted fake broker: a dropped connection, ERROR, secrets."""

from __future__ import annotations

import re
import socket

from repl_helpers import run_repl

from stomper.session import MAX_HEART_BEAT_MS


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
    assert "receipts on (wait 30 s)" in run.out and "Usage: wait [OPTIONS] [SECONDS]" in run.out


def test_a_missing_receipt_is_one_line_and_exit_3_after_the_repl_receipt_timeout(fake_broker, tmp_path):
    script = "receipts on\nsend /queue/silent lost receipt\nsend /queue/ok answered\nreceipts on 0.3\nsend /queue/silent again\nstatus\n"
    run = run_repl(fake_broker.url, script, "--receipt-timeout", "0.5", tmp_path=tmp_path)
    assert run.code == 3
    errors = run.err.splitlines()
    assert len(errors) == 2, run.err
    assert errors[0].endswith(":2: no receipt for 0.5 s") and errors[1].endswith(":5: no receipt for 0.3 s")
    assert "receipts on (wait 0.5 s)" in run.out and "receipts on (wait 0.3 s)" in run.out
    assert re.search(r"sent #\d+ to /queue/ok \(receipt \S+ received\)", run.out)  # the session went on
    assert "connected:     stomp://" in run.out


def test_receipt_timeout_must_be_a_positive_finite_number(tmp_path):
    for bad in ("nan", "inf", "-1", "0", "soon"):
        run = run_repl("stomp://127.0.0.1:9", "status\n", "--no-connect", "--receipt-timeout", bad, tmp_path=tmp_path)
        assert run.code == 2, (bad, run.err)
        assert "--receipt-timeout" in run.err and "number of seconds" in run.err, run.err
        assert run.out == ""
    run = run_repl("stomp://127.0.0.1:9", "receipts on nan\nreceipts on --timeout inf\nreceipts on 2.5\n", "--no-connect", tmp_path=tmp_path)
    assert run.code == 2
    assert len(run.err.splitlines()) == 2 and "is not a number of seconds from 0.001 to" in run.err
    assert "receipts on (wait 2.5 s)" in run.out


def test_a_clamped_broker_heart_beat_is_a_note_under_verbose_only(fake_broker, tmp_path):
    # No real broker can be made to ask for a heart-beat beyond what a timer holds.
    fake_broker.heart_beat = "0,3000000000"
    note = f"note: the broker's heart-beat '0,3000000000' is beyond {MAX_HEART_BEAT_MS} ms; using {MAX_HEART_BEAT_MS},0"
    quiet = run_repl(fake_broker.url, "status\n", "--heart-beat", "10000,0", tmp_path=tmp_path)
    loud = run_repl(fake_broker.url, "status\n", "--heart-beat", "10000,0", tmp_path=tmp_path, before=("-v",))
    assert quiet.code == 0 and loud.code == 0, quiet.err + loud.err
    assert note not in quiet.out and f"heart-beats:   {MAX_HEART_BEAT_MS},0 ms" in quiet.out
    assert loud.out.count(note) == 1
    assert loud.out.index("connected to ") < loud.out.index(note) < loud.out.index("connected:     ")


def test_wait_refuses_what_is_not_a_finite_number_of_seconds(tmp_path):
    script = "wait nan\nwait inf\nwait -- -1\nwait soon\nwait 0\n"
    run = run_repl("stomp://127.0.0.1:9", script, "--no-connect", tmp_path=tmp_path)
    assert run.code == 2, run.err
    errors = run.err.splitlines()
    assert len(errors) == 4, run.err
    assert all("wait: Invalid value for '[SECONDS]'" in error and "is not a number of seconds from 0 to" in error for error in errors)
    assert run.out.splitlines() == ["0 messages arrived"]  # `wait 0` ran
