"""Helpers for the CLI tests: run `stomper` as a real process; describe a broker."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

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


def require_reachable(name: str, url: str) -> None:
    """Fail (or skip, when STOMPER_SKIP_BROKERS=1) unless something listens at the URL's host and port."""
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except OSError as error:
        message = f"{name} is not reachable at {parts.hostname}:{parts.port} ({error}); start it with scripts/brokers start"
        if os.environ.get("STOMPER_SKIP_BROKERS") == "1":
            pytest.skip(message)
        pytest.fail(message)


def unique_queue(prefix: str = "cli") -> str:
    return f"/queue/stomper-{prefix}-{uuid.uuid4().hex[:12]}"


def read_until_closed(terminal: int) -> bytes:
    """Everything a pseudo-terminal's other side wrote, until it was closed."""
    said = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: the other end is closed and everything was read
            break
        if not chunk:
            break
        said += chunk
    return said
