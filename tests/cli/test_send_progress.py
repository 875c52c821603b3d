"""What `stomper send` says on a terminal (progress, the closing summary, --quiet) and the content-type it guesses for a --body-file."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess

import pytest
from cli_helpers import OPTION_ENV, STOMPER, read_until_closed, run

pytestmark = pytest.mark.broker

SUMMARY = re.compile(r"sent 300 messages in \d+\.\d\d s \([\d,]+ msg/s\), all confirmed")


def on_terminal(*args: str, stdin) -> tuple[int, str]:
    """Run `stomper ARGS` with stderr on a pseudo-terminal; (exit status, all it showed there, control sequences removed)."""
    env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
    terminal, other_end = pty.openpty()
    try:
        process = subprocess.Popen([*STOMPER, *args], stdin=stdin, stdout=subprocess.PIPE, stderr=other_end, env=env)
        os.close(other_end)
        other_end = -1
        shown = read_until_closed(terminal)
        status = process.wait(timeout=120)
    finally:
        os.close(terminal)
        if other_end >= 0:
            os.close(other_end)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))
    return status, text


def lines_file(tmp_path, count: int = 300):
    path = tmp_path / "lines.txt"
    path.write_bytes(b"".join(b"m%d\n" % number for number in range(count)))
    return path


def test_a_terminal_gets_a_closing_summary_and_a_pipe_gets_nothing(broker, queue, tmp_path):
    with lines_file(tmp_path).open("rb") as stdin:
        status, shown = on_terminal("send", "--url", broker.url, queue, "--lines", stdin=stdin)
    assert status == 0, shown
    assert SUMMARY.search(shown), shown
    assert "%" in shown  # stdin is a regular file: the display knew its total

    piped = run("send", "--url", broker.url, queue, "--lines", input=lines_file(tmp_path).read_bytes())
    assert piped.returncode == 0 and piped.stderr == b""
    received = run("subscribe", "--url", broker.url, queue, "-n", "600", "--timeout", "30", "--body-only")
    assert received.returncode == 0, received.stderr


def test_quiet_shows_nothing_on_a_terminal(broker, queue, tmp_path):
    with lines_file(tmp_path).open("rb") as stdin:
        status, shown = on_terminal("send", "--url", broker.url, queue, "--lines", "--quiet", stdin=stdin)
    assert status == 0, shown
    assert shown.strip() == ""


def test_json_input_on_a_terminal_is_summed_up_too(broker, queue, tmp_path):
    path = tmp_path / "frames.jsonl"
    path.write_text("".join(json.dumps({"command": "SEND", "headers": {"destination": queue}, "body": str(n)}) + "\n" for n in range(300)))
    with path.open("rb") as stdin:
        status, shown = on_terminal("send", "--url", broker.url, "--json", stdin=stdin)
    assert status == 0, shown
    assert SUMMARY.search(shown), shown


def test_a_body_file_gets_the_content_type_its_name_suggests_unless_told_otherwise(broker, queue, tmp_path):
    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    guessed = run("--verbose", "send", "--url", broker.url, queue, "--body-file", str(picture))
    assert guessed.returncode == 0, guessed.stderr
    assert b"content-type image/png (guessed from the file name" in guessed.stderr
    assert run("send", "--url", broker.url, queue, "--body-file", str(picture), "--content-type", "").returncode == 0
    assert run("send", "--url", broker.url, queue, "--body-file", str(picture), "--content-type", "application/x-mine").returncode == 0
    received = run("subscribe", "--url", broker.url, queue, "-n", "3", "--timeout", "30", "--json")
    assert received.returncode == 0, received.stderr
    first, second, third = (json.loads(line)["headers"] for line in received.stdout.splitlines())
    assert first["content-type"] == "image/png"
    assert "content-type" not in second
    assert third["content-type"] == "application/x-mine"


def test_stdin_and_unknown_names_get_no_guess(broker, queue, tmp_path):
    odd = tmp_path / "data.unknown-extension"
    odd.write_bytes(b"x")
    for args, stdin in ((["--body-file", str(odd)], b""), (["--body-file", "-"], b"y")):
        result = run("--verbose", "send", "--url", broker.url, queue, *args, input=stdin)
        assert result.returncode == 0, result.stderr
        assert b"guessed" not in result.stderr
    received = run("subscribe", "--url", broker.url, queue, "-n", "2", "--timeout", "30", "--json")
    assert all("content-type" not in json.loads(line)["headers"] for line in received.stdout.splitlines())
