"""Helpers for the REPL tests: run `stomper repl` as a real process.

Kept out of conftest.py so that test modules import them by a name no other
test directory uses.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPL = [sys.executable, "-m", "stomper_cli", "repl"]
#: Cleared from the environment of every run, so the caller's settings cannot change a test.
CLEARED = ("STOMPER_URL", "STOMPER_LOGIN", "STOMPER_PASSCODE", "STOMPER_CA_FILE", "NO_COLOR", "FORCE_COLOR")


def repl_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    env.update(extra)
    return env


@dataclass
class Run:
    code: int
    out: str
    err: str


def bodies(out: str) -> list[str]:
    """The bodies of the MESSAGE frames printed as they arrived (plain rendering), in order."""
    return re.findall(r"^<<< #\d+\nMESSAGE\n(?:[^\n]+\n)*\n(.*?)\n\n", out, re.MULTILINE | re.DOTALL)


def run_repl(url: str, script: str, *options: str, via_stdin: bool = False, tmp_path=None, timeout: float = 120,
             before: tuple[str, ...] = ()) -> Run:
    """Run `stomper repl` on `script`, with --file (written to tmp_path) or on stdin; stdout and stderr are pipes.

    `before` are options of `stomper` itself, such as -v.
    """
    args = [*REPL[:-1], *before, REPL[-1], "--url", url, *options]
    stdin = script
    if not via_stdin:
        path = tmp_path / f"script-{uuid.uuid4().hex[:6]}.stomp"
        path.write_text(script)
        args += ["--file", str(path)]
        stdin = ""
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, env=repl_env(), timeout=timeout)
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


BROKERS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "brokers"


def close_rabbitmq_stomp_connection(session_id: str) -> None:
    """Make the shared RabbitMQ close the one STOMP connection whose CONNECTED named `session_id`, and no other.

    `rabbitmqctl close_connection` only closes the AMQP connection behind a
    STOMP session and leaves its socket open, so the STOMP reader process is
    found by its peer port (from list_stomp_connections) and told to close.
    """
    listed = subprocess.run([str(BROKERS_SCRIPT), "rabbitmqctl", "list_stomp_connections", "-s", "session_id", "peer_port"],
                            capture_output=True, text=True, timeout=120, check=True).stdout
    ports = [line.split("\t")[1] for line in listed.splitlines() if line.split("\t")[0].strip('"') == session_id]
    assert len(ports) == 1, f"no STOMP connection with session {session_id} in:\n{listed}"
    port = int(ports[0])
    closer = (f'[rabbit_stomp_reader:close_connection(P, "closed by a stomper test") || P <- rabbit_stomp:list(),'
              f" rabbit_stomp_reader:info(P, [peer_port]) =:= [{{peer_port, {port}}}]].")
    done = subprocess.run([str(BROKERS_SCRIPT), "rabbitmqctl", "eval", closer], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[ok]", done.stdout + done.stderr


def unused_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


class ReplProcess:
    """`stomper repl` reading commands from a pipe, fed one at a time, its stdout watched."""

    def __init__(self, url: str, *options: str) -> None:
        self.process = subprocess.Popen([*REPL, "--url", url, *options], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=repl_env())
        self.out = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            with self._lock:
                self.out += line

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, pattern: str, start: int = 0, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = re.compile(pattern, re.MULTILINE).search(self.out, start)
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} did not appear in:\n{self.out}")

    def finish(self) -> tuple[int, str]:
        self.process.stdin.close()
        code = self.process.wait(60)
        return code, self.process.stderr.read()
