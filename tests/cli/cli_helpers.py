"""Helpers for the CLI tests: run `stomper` as a real process; describe a broker."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

STOMPER = [sys.executable, "-m", "stomper_cli"]
#: Where scripts/brokers puts them; the environment (scripts/brokers env) wins.
DEFAULT_URLS = {
    "rabbitmq": "stomp://guest:guest@127.0.0.1:61613",
    "activemq": "stomp://admin:admin@127.0.0.1:61623",
}


#: Variables that set stomper options: cleared so the caller's shell cannot change a test.
OPTION_ENV = frozenset({"STOMPER_URL", "STOMPER_LOGIN", "STOMPER_PASSCODE", "STOMPER_CA_FILE", "NO_COLOR", "FORCE_COLOR"})


def run(*args: str, input: bytes | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `stomper ARGS` with stdin `input`; stdout and stderr captured as bytes (pipes, not a terminal)."""
    full_env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
    full_env.update(env or {})
    return subprocess.run([*STOMPER, *args], input=input if input is not None else b"", capture_output=True, env=full_env, timeout=timeout)


def read_terminal(controller: int, timeout: float = 30) -> bytes:
    """All a process wrote to the pseudo-terminal whose controlling end is `controller`, until it closed (or `timeout` s of silence)."""
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], timeout)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal's other end closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    return output


def assert_one_error_line(result: subprocess.CompletedProcess, code: int) -> str:
    """The process failed with `code` and wrote exactly one 'stomper: error:' line and no traceback."""
    stderr = result.stderr.decode()
    assert result.returncode == code, (result.returncode, stderr)
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("stomper: error: "), stderr
    return lines[0]


@dataclass
class Broker:
    name: str
    url: str

    @property
    def passcode(self) -> str:
        return urlsplit(self.url).password or ""

    def bad_passcode_url(self, passcode: str) -> str:
        parts = urlsplit(self.url)
        return f"stomp://{parts.username}:{passcode}@{parts.hostname}:{parts.port}"


def unique_queue(prefix: str = "cli") -> str:
    return f"/queue/stomper-{prefix}-{uuid.uuid4().hex[:12]}"
