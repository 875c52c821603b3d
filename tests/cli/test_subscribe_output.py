"""subscribe's templates, body delimiters and what it says on a terminal, on RabbitMQ and ActiveMQ."""

from __future__ import annotations

import os
import subprocess

import pytest
from cli_helpers import STOMPER, assert_one_error_line, read_terminal, run

pytestmark = pytest.mark.broker


def send(broker, destination: str, *args: str, input: bytes | None = None) -> None:
    result = run("send", "--url", broker.url, destination, *args, input=input)
    assert result.returncode == 0, result.stderr


def test_a_template_over_two_destinations_says_where_each_came_from(broker, queue):
    other = queue + "-b"
    send(broker, queue, "from a", "-H", "kind:x")
    send(broker, other, "from b")
    result = run("subscribe", "--url", broker.url, queue, other, "-n", "2", "--timeout", "30",
                 "--template", "{count}|{destination}|{kind}|{body}|{body_length}\\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert sorted(line.split("|", 1)[1] for line in lines) == sorted([f"{queue}|x|from a|6", f"{other}||from b|6"])
    assert sorted(line.split("|", 1)[0] for line in lines) == ["1", "2"]


def test_nul_delimited_binary_bodies_read_back_with_xargs_0(broker, queue, tmp_path):
    bodies = [b"two\nlines", b"\xff\xfe binary \x01\n", b"third"]
    for number, body in enumerate(bodies):
        path = tmp_path / f"body{number}"
        path.write_bytes(body)
        send(broker, queue, "--body-file", str(path))
    result = run("subscribe", "--url", broker.url, queue, "-n", "3", "--timeout", "30", "--body-only", "-0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(b"\0") == [*bodies, b""]  # each body ends with NUL, newlines and all
    echoed = subprocess.run(["xargs", "-0", "-n1", "printf", "[%s]"], input=result.stdout, capture_output=True, check=True)
    assert echoed.stdout == b"".join(b"[%s]" % body for body in bodies)


def test_a_delimiter_of_several_characters(broker, queue):
    send(broker, queue, "--lines", input=b"a\nb\n")
    result = run("subscribe", "--url", broker.url, queue, "-n", "2", "--timeout", "30", "--body-only", "--delimiter", "\\t--\\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"a\t--\nb\t--\n"


@pytest.mark.parametrize("args, message", [
    (["--json", "--template", "{body}"], "give --template or --format json, not both"),
    (["--json", "-0"], "--delimiter and -0 end each body in body format"),
    (["--body-only", "-0", "--delimiter", ","], "give --delimiter or -0, not both"),
    (["--template", "{body"], "unmatched"),
])
def test_output_options_that_do_not_go_together(args, message):
    result = run("subscribe", "--url", "stomp://127.0.0.1:9", "/queue/a", *args)
    assert message in assert_one_error_line(result, 2)


def run_with_terminal_stderr(*args: str) -> tuple[int, bytes, str]:
    """`stomper ARGS` with stderr on a pseudo-terminal and stdout in a pipe: (exit status, stdout, what the terminal showed)."""
    leader, follower = os.openpty()
    env = {name: value for name, value in os.environ.items() if not name.startswith("STOMPER_")}
    process = subprocess.Popen([*STOMPER, *args], stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    shown = read_terminal(leader, timeout=60)
    os.close(leader)
    stdout = process.stdout.read()
    return process.wait(timeout=60), stdout, shown.decode().replace("\r\n", "\n")


def test_on_a_terminal_it_says_what_it_waits_on_and_how_many_it_received(broker, queue):
    send(broker, queue, "--lines", input=b"a\nb\n")
    status, stdout, shown = run_with_terminal_stderr("subscribe", "--url", broker.url, queue, "-n", "2", "--body-only", "--timeout", "30")
    assert status == 0, shown
    assert stdout == b"a\nb\n"
    assert shown == f"subscribed to {queue} (ack client) \u2014 Ctrl-C to stop\nreceived 2 messages\n"
    status, _, shown = run_with_terminal_stderr("subscribe", "--url", broker.url, queue, "--ack", "client-individual", "--timeout", "1")
    assert status == 0
    assert shown == f"subscribed to {queue} (ack client-individual) \u2014 Ctrl-C to stop\nreceived 0 messages\n"


def test_in_a_pipe_it_says_nothing(broker, queue):
    send(broker, queue, "one")
    result = run("subscribe", "--url", broker.url, queue, "-n", "1", "--body-only", "--timeout", "30")
    assert result.returncode == 0
    assert result.stderr == b""
