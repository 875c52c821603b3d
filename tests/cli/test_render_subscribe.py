"""What `stomper subscribe` shows of messages from RabbitMQ and ActiveMQ: bounded bodies, escaped control characters."""

from __future__ import annotations

import pytest
from cli_helpers import run

pytestmark = pytest.mark.broker


def test_subscribe_pretty_output_bounds_the_body_and_escapes_control_characters(broker, queue):
    body = b"\x1b]0;pwned\x07" + b"x" * 10_000
    sent = run("send", "--url", broker.url, queue, "--body-file", "-", "-H", "x-evil:\x1b[2J", input=body)
    assert sent.returncode == 0, sent.stderr
    result = run("subscribe", "--url", broker.url, queue, "-n", "1", "--timeout", "30", "--format", "pretty", "--max-body", "100")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    assert "\x1b" not in text and "\x07" not in text
    assert "x-evil: \\x1b[2J" in text
    assert "\n\\x1b]0;pwned\\x07" + "x" * 90 + f"\n… {len(body) - 100} more bytes\n" in text
