"""`stomper repl` at a real terminal: tmux runs it in a pseudo-terminal and shows what the screen holds.

A MESSAGE arriving while a line is half typed is printed above the prompt
and the typed text survives; Tab completes commands and destinations; the
command history survives a restart.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import time
import uuid

import pytest
from repl_helpers import REPL, repl_env

from stomper.connection import Connection

pytestmark = [pytest.mark.broker]
PROMPT = "stomper> "


class Terminal:
    """One tmux server of our own (its own socket) running `stomper repl` in a 200x50 terminal."""

    def __init__(self, url: str, state_dir, umask: str = "022") -> None:
        self.socket = f"stomper-repl-test-{uuid.uuid4().hex[:8]}"
        self.env = repl_env(XDG_STATE_HOME=str(state_dir), TERM="xterm-256color")
        self.url = url
        self.umask = umask

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env, timeout=30)
        if check:
            assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> Terminal:
        # Keep the pane after the REPL ends, so a failure shows its last words and exit code.
        command = f"umask {self.umask}; " + shlex.join([*REPL, "--url", self.url]) + "; echo repl exited with $?; sleep 600"
        self.tmux("new-session", "-d", "-s", "repl", "-x", "200", "-y", "50", command)
        self.wait_for(lambda screen: PROMPT.rstrip() in screen, "the prompt", timeout=90)
        return self

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "repl", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "repl", "-l", text)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "repl", check=False)

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen().splitlines() if line.strip()]

    def wait_for(self, predicate, what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} did not appear on the screen:\n{self.screen()}")

    def last_line_is(self, text: str) -> str:
        return self.wait_for(lambda screen: self._last(screen) == text, f"a last line {text!r}")

    @staticmethod
    def _last(screen: str) -> str:
        lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def close(self) -> None:
        self.tmux("kill-server", check=False)


@pytest.fixture
def terminal(broker, tmp_path):
    term = Terminal(broker.url, tmp_path / "state", umask="000")  # the most permissive: the REPL's files stay private
    yield term
    term.close()


def test_message_arriving_while_typing_is_printed_above_the_line(terminal, broker, queue):
    terminal.start()
    terminal.type(f"subscribe {queue}")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: f"subscribed sub-1 to {queue}" in screen, "the subscription")
    half = f"send {queue} half-typ"
    terminal.type(half)
    terminal.last_line_is(PROMPT + half)

    with Connection(broker.url) as conn:
        conn.send(queue, b"arrived-while-typing", receipt=True)
    terminal.wait_for(lambda screen: "arrived-while-typing" in screen, "the MESSAGE")
    # The typed text survives, on the last line, once the prompt is drawn again below the message
    # (a screen captured between the two shows the message last).
    screen = terminal.last_line_is(PROMPT + half)
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    body_row = lines.index("arrived-while-typing")
    assert any(line.strip().startswith("MESSAGE") for line in lines[:body_row])
    assert sum(half in line for line in lines) == 1  # not garbled into the frame output

    terminal.type("ed")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: "\nhalf-typed" in screen.split("arrived-while-typing")[-1], "the sent message coming back")
    terminal.wait_for(lambda screen: any(line.startswith("sent #") and queue in line for line in screen.splitlines()), "the send's report")


def test_tab_completes_commands_and_destinations(terminal, broker, queue):
    terminal.start()
    terminal.type(f"subscribe {queue}")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: "subscribed sub-1" in screen, "the subscription")

    terminal.type("stat")
    terminal.keys("Tab")
    terminal.last_line_is(PROMPT + "status")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: f"sub-1 -> {queue}" in screen, "the status")

    terminal.type("send " + queue[:-6])
    terminal.keys("Tab")
    terminal.last_line_is(PROMPT + "send " + queue)
    terminal.type(" completed-by-tab")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: "\ncompleted-by-tab" in screen, "the message sent to the completed destination")

    terminal.type("unsubscribe s")
    terminal.keys("Tab")
    terminal.last_line_is(PROMPT + "unsubscribe sub-1")


def test_history_is_kept_across_runs_without_bodies_in_a_private_file(terminal, broker, queue, tmp_path):
    terminal.start()
    typed = f"send {queue} secret-body -H x-token:secret-header"
    terminal.type(typed)
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: f"to {queue}" in screen, "the send")
    terminal.keys("Up")
    terminal.last_line_is(PROMPT + typed)  # within the run, the line is recalled as typed
    terminal.keys("C-u")
    terminal.type("quit")
    terminal.keys("Enter")
    terminal.wait_for(lambda screen: "disconnected" in screen or not screen, "the end of the first run")
    history_file = tmp_path / "state" / "stomper" / "repl_history"
    deadline = time.monotonic() + 30
    while "+quit" not in history_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"+send {queue}\n" in history_file.read_text()
    assert "secret" not in history_file.read_text()
    assert stat.S_IMODE(os.stat(history_file).st_mode) == 0o600  # under umask 000
    assert stat.S_IMODE(os.stat(history_file.parent).st_mode) == 0o700
    terminal.close()

    second = Terminal(broker.url, tmp_path / "state").start()
    try:
        second.keys("Up")
        second.last_line_is(PROMPT + "quit")
        second.keys("Up")
        second.last_line_is(PROMPT + f"send {queue}")
        second.type(" again")
        second.keys("Enter")
        second.wait_for(lambda screen: f"to {queue}" in screen, "the send from the history")
    finally:
        second.close()
