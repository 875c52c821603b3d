"""Ctrl-C anywhere in a command: exit 130 and one error line, with no blank line before it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess

from cli_helpers import OPTION_ENV, STOMPER


def test_ctrl_c_while_waiting_for_connected_is_one_line_and_130():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog) but never answers CONNECT
        port = silent.getsockname()[1]
        env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
        process = subprocess.Popen([*STOMPER, "-v", "send", "--url", f"stomp://127.0.0.1:{port}", "/queue/x", "hi"],
                                   stderr=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        shown = process.stderr.readline()  # the CONNECT frame's first line, written as it is sent
        assert shown.startswith(b">>> CONNECT"), shown
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=30) == 130
    lines = (shown + rest).decode().splitlines()
    assert lines[-1] == "stomper: error: interrupted"
    assert "" not in lines and "Traceback" not in rest.decode()
