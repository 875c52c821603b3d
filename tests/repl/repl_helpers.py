"""Helpers for the REPL tests: run `stomper repl` as a real process.

Kept out of conftest.py so that test modules import them by a name no other
test directory uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

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


def run_repl(url: str, script: str, *options: str, via_stdin: bool = False, tmp_path=None, timeout: float = 120) -> Run:
    """Run `stomper repl` on `script`, with --file (written to tmp_path) or on stdin; stdout and stderr are pipes."""
    args = [*REPL, "--url", url, *options]
    stdin = script
    if not via_stdin:
        path = tmp_path / f"script-{uuid.uuid4().hex[:6]}.stomp"
        path.write_text(script)
        args += ["--file", str(path)]
        stdin = ""
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, env=repl_env(), timeout=timeout)
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)
