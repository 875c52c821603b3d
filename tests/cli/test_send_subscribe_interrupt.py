"""Ctrl-C, the documented way to stop `stomper subscribe`, and Ctrl-C on `stomper send`, on RabbitMQ and ActiveMQ.

The command is a real process sent SIGINT once its output shows that it
got where the test wants it (never after a sleep).
"""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess

import pytest
from cli_helpers import OPTION_ENV, STOMPER, read_until_closed, run

pytestmark = pytest.mark.broker


def send_lines(broker, queue: str, lines: bytes) -> None:
    result = run("send", "--url", broker.url, queue, "--lines", input=lines)
    assert result.returncode == 0, result.stderr


def start(broker, queue: str, *args: str, stderr=subprocess.PIPE, command: tuple[str, ...] = ("subscribe",), stdin=None) -> subprocess.Popen:
    """`stomper subscribe` with SIGINT handled as in a shell's foreground job (not ignored as in a background one)."""
    env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
    return subprocess.Popen(
        [*STOMPER, *command, "--url", broker.url, queue, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_ctrl_c_ends_quietly_with_130(broker, queue):
    send_lines(broker, queue, b"one\ntwo\n")
    subscriber = start(broker, queue, "--body-only")
    assert subscriber.stdout.readline() == b"one\n"
    assert subscriber.stdout.readline() == b"two\n"
    subscriber.send_signal(signal.SIGINT)
    rest, stderr = subscriber.communicate(timeout=60)
    assert subscriber.returncode == 130
    assert rest == b""
    assert stderr == b""  # stderr is not a terminal: nothing to say, and never "error: interrupted"


def test_ctrl_c_on_a_terminal_says_how_many_messages_were_received(broker, queue):
    send_lines(broker, queue, b"one\ntwo\nthree\n")
    terminal, other_end = pty.openpty()
    try:
        subscriber = start(broker, queue, "--body-only", stderr=other_end)
        os.close(other_end)
        other_end = -1
        assert [subscriber.stdout.readline() for _ in range(3)] == [b"one\n", b"two\n", b"three\n"]
        subscriber.send_signal(signal.SIGINT)
        assert subscriber.wait(timeout=60) == 130
        said = read_until_closed(terminal)
    finally:
        os.close(terminal)
        if other_end >= 0:
            os.close(other_end)
    lines = said.decode().replace("\r", "\n").split("\n")
    assert [line for line in lines if line] == [f"subscribed to {queue} (ack auto) \u2014 Ctrl-C to stop", "received 3 messages"], said


def test_ctrl_c_while_a_message_is_written_leaves_it_whole_and_acknowledged(broker, queue, tmp_path):
    body = b"x" * (4 * 1024 * 1024)  # far more than a pipe holds: the writer blocks until the reader reads
    path = tmp_path / "body"
    path.write_bytes(body)
    assert run("send", "--url", broker.url, queue, "--body-file", str(path)).returncode == 0
    subscriber = start(broker, queue, "--body-only", "--ack", "client-individual")
    first = subscriber.stdout.read(65536)  # it is writing the message now, and blocked on the full pipe
    subscriber.send_signal(signal.SIGINT)
    rest, stderr = subscriber.communicate(timeout=60)
    assert subscriber.returncode == 130, stderr
    assert first + rest == body + b"\n"  # complete: the interrupt waited for the message to be written
    # ...and acknowledged: it is not delivered again.
    again = run("subscribe", "--url", broker.url, queue, "--body-only", "--timeout", "2")
    assert again.returncode == 0 and again.stdout == b"", again.stderr


def test_ctrl_c_on_send_says_how_far_it_got_without_a_blank_line(broker, queue):
    sender = start(broker, queue, "--lines", "--batch", "1", command=("--verbose", "send"), stdin=subprocess.PIPE)
    sender.stdin.write(b"".join(b"m%d\n" % number for number in range(8)))
    sender.stdin.flush()  # and kept open: the command waits for more lines
    receipts = 0
    while receipts < 2:  # confirmed messages: what the error line must count
        line = sender.stderr.readline()
        assert line, "send ended early"
        receipts += line.startswith(b"<<< RECEIPT")
    sender.send_signal(signal.SIGINT)
    _, rest = sender.communicate(timeout=60)
    assert sender.returncode == 130
    lines = rest.decode().split("\n")
    assert lines[-1] == "" and "" not in lines[:-1], rest  # no blank line, before the error line or anywhere
    assert re.fullmatch(r"stomper: error: interrupted; confirmed \d+ of \d+ messages", lines[-2]), lines[-2]
