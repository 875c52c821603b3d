"""`stomper send --json` and `--raw`: frames from stdin, the shovel pipeline, and what a failing send side leaves, on RabbitMQ and ActiveMQ."""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys

import pytest
from cli_helpers import OPTION_ENV, Broker, assert_one_error_line, run, unique_queue

pytestmark = pytest.mark.broker

STOMPER_SHELL = f"{shlex.quote(sys.executable)} -m stomper_cli"


def shell(pipeline: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a shell pipeline (bash, pipefail) in which `stomper` is this checkout's command."""
    env = {name: value for name, value in os.environ.items() if name not in OPTION_ENV}
    script = f"stomper() {{ {STOMPER_SHELL} \"$@\"; }}\n{pipeline}"
    return subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, timeout=timeout, env=env)


def drain(broker: Broker, queue: str) -> list[dict]:
    """Every message left on `queue`, as JSON objects, until it has been idle for 3 s."""
    result = run("subscribe", "--url", broker.url, queue, "--json", "--timeout", "3")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def body_of(message: dict) -> bytes:
    return base64.b64decode(message["body_base64"]) if "body_base64" in message else message["body"].encode()


def source_line(queue: str, number: int) -> dict:
    """Message `number` of the shovel's source: kind x or y, a custom header that needs escaping, a binary body for every third."""
    kind = "x" if number % 2 == 0 else "y"
    headers = {"destination": queue, "kind": kind, "seq": str(number), "note": f"a:b\\c é {number}"}
    if number % 3 == 0:
        return {"command": "SEND", "headers": headers, "body_base64": base64.b64encode(bytes([0, 255, number % 256, 10, 0])).decode()}
    return {"command": "SEND", "headers": headers, "body": f"text {number}\nline two"}


def test_the_shovel_pipeline_moves_exactly_the_matching_messages_byte_exact(broker, queue):
    target = unique_queue("shovel-b")
    lines = [source_line(queue, number) for number in range(100)]
    published = run("send", "--url", broker.url, "--json", input="".join(json.dumps(line) + "\n" for line in lines).encode())
    assert published.returncode == 0, published.stderr

    url = shlex.quote(broker.url)
    result = shell(f"stomper subscribe --url {url} {queue} -n 100 --json | jq -c 'select(.headers.kind==\"x\")' "
                   f"| stomper send --url {url} --json --to {target}")
    assert result.returncode == 0, result.stderr

    moved = drain(broker, target)
    wanted = [line for line in lines if line["headers"]["kind"] == "x"]
    assert [message["headers"]["seq"] for message in moved] == [line["headers"]["seq"] for line in wanted]
    for message, line in zip(moved, wanted, strict=True):
        assert body_of(message) == body_of(line)
        assert message["headers"]["note"] == line["headers"]["note"]
        assert message["headers"]["destination"] == target
    assert drain(broker, queue) == []  # every source message was taken, the others filtered out


def test_a_message_is_sent_again_without_its_delivery_headers_and_with_its_repeated_ones(broker, queue):
    message = {
        "command": "MESSAGE",
        "headers": {"destination": queue, "message-id": "m-1", "subscription": "s-1", "ack": "a-1", "redelivered": "true",
                    "receipt": "theirs", "content-length": "2", "k": "1", "custom": "kept"},
        "repeated_headers": [["k", "2"]],
        "body": "hi",
    }
    result = run("--verbose", "send", "--url", broker.url, "--json", input=(json.dumps(message) + "\n").encode())
    assert result.returncode == 0, result.stderr
    sent = result.stderr.decode().split(">>> SEND\n", 1)[1].split("\n>>> \n", 1)[0].splitlines()
    assert sent == [f">>> destination: {queue}", ">>> k: 1", ">>> custom: kept", ">>> receipt: send-1", ">>> k: 2"]
    [received] = drain(broker, queue)
    assert received["body"] == "hi" and received["headers"]["custom"] == "kept"
    assert received["headers"]["message-id"] != "m-1"


def test_raw_frames_from_pack_and_from_subscribe_raw(broker, queue):
    target = unique_queue("raw-b")
    url = shlex.quote(broker.url)
    packed = shell(f"{{ stomper pack SEND -H destination:{queue} -H kind:one --body one; "
                   f"printf 'two\\0\\377' | stomper pack SEND -H destination:{queue} --body-file -; }} | stomper send --url {url} --raw")
    assert packed.returncode == 0, packed.stderr
    moved = shell(f"stomper subscribe --url {url} {queue} -n 2 --raw | stomper send --url {url} --raw --to {target}")
    assert moved.returncode == 0, moved.stderr
    first, second = drain(broker, target)
    assert body_of(first) == b"one" and first["headers"]["kind"] == "one"
    assert body_of(second) == b"two\0\377"


@pytest.mark.parametrize(("mode", "data", "said"), [
    ("--json", b'{"command": "SEND", "headers": {"destination": "QUEUE"}, "body": "first"}\n{"command": "SEND",\n',
     "line 2: Expecting"),
    ("--json", b'{"command": "SEND", "headers": {"destination": "QUEUE"}, "body": "first"}\n{"command": "SEND", "body": "x"}\n',
     "line 2: no destination header (give --to DEST)"),
    ("--raw", b"SEND\ndestination:QUEUE\n\nfirst\0BEGIN\ntransaction:t\n\n\0", "frame 2: a BEGIN frame is not a message"),
    ("--raw", b"SEND\ndestination:QUEUE\n\nfirst\0SEND\nno colon\n\n\0", "frame 2: header line 'no colon' has no ':'"),
    ("--raw", b"SEND\ndestination:QUEUE\n\nfirst\0SEND\ndestination:QUEUE\n\nunfinished", "frame 2: stream ended inside a frame"),
])
def test_malformed_input_is_named_after_the_messages_before_it_are_confirmed(broker, queue, mode, data, said):
    result = run("send", "--url", broker.url, mode, input=data.replace(b"QUEUE", queue.encode()))
    line = assert_one_error_line(result, 1)
    assert line.startswith(f"stomper: error: {said}"), line
    assert line.endswith("; confirmed 1 of 1 messages"), line
    assert [message["body"] for message in drain(broker, queue)] == ["first"]


def test_a_failing_send_side_loses_nothing_its_subscribe_acknowledged(broker, queue, tmp_path):
    """subscribe --ack client-individual | send: what send did not get confirmed is in its --unsent file, the rest on a queue."""
    target = unique_queue("unsent-b")
    numbers = "\n".join(f"m{number}" for number in range(1, 41)) + "\n"
    assert run("send", "--url", broker.url, queue, "--lines", input=numbers.encode()).returncode == 0
    unsent = tmp_path / "unsent.jsonl"
    url = shlex.quote(broker.url)
    # Message m20 names a transaction that does not exist: the broker refuses it in the middle of the stream.
    result = shell(f"stomper subscribe --url {url} {queue} -n 40 --json --ack client-individual "
                   f"| jq -c 'if .body==\"m20\" then .headers.transaction=\"none\" else . end' "
                   f"| stomper send --url {url} --json --to {target} --batch 10 --unsent {unsent}")
    assert result.returncode == 1, result.stderr
    assert "not confirmed written to" in result.stderr.decode()
    kept = [json.loads(line) for line in unsent.read_text().splitlines()]
    assert all(line["command"] == "SEND" and line["headers"]["destination"] == target for line in kept)
    delivered = {message["body"] for message in drain(broker, target)}
    left = {message["body"] for message in drain(broker, queue)}
    found = delivered | left | {line["body"] for line in kept}
    assert found == {f"m{number}" for number in range(1, 41)}
    # ...and the file is what `send --json` takes back, once the refused message is mended.
    for line in kept:
        line["headers"].pop("transaction", None)
    resent = run("send", "--url", broker.url, "--json", input="".join(json.dumps(line) + "\n" for line in kept).encode())
    assert resent.returncode == 0, resent.stderr
    assert {message["body"] for message in drain(broker, target)} == {line["body"] for line in kept}


def test_a_send_side_that_cannot_connect_writes_its_whole_input_to_unsent(tmp_path, queue):
    unsent = tmp_path / "unsent.txt"
    result = run("send", "--url", "stomp://127.0.0.1:9", queue, "--lines", "--unsent", str(unsent), "--connect-timeout", "5",
                 input=b"a\nb\n")
    line = assert_one_error_line(result, 3)
    assert line.endswith(f"; the input was written to {unsent}"), line
    assert unsent.read_bytes() == b"a\nb\n"  # in a pipeline, what the subscribe side wrote and acknowledged is kept


@pytest.mark.parametrize(("args", "said"), [
    (["--json", "/queue/a"], "give no DESTINATION or BODY"),
    (["--raw", "--lines"], "give no --body-file or --lines"),
    (["--json", "--raw"], "give --json or --raw, not both"),
    (["/queue/a", "--to", "/queue/b"], "--to goes with --json or --raw"),
    (["/queue/a", "x", "--unsent", "f"], "--unsent goes with --lines, --json or --raw"),
    (["--json", "-H", "destination:/queue/b"], "set by --to"),
])
def test_options_that_do_not_fit_together_are_usage_errors(args, said, tmp_path):
    result = run("send", "--url", "stomp://127.0.0.1:9", *args, input=b"")
    line = assert_one_error_line(result, 2)
    assert said in line, line
